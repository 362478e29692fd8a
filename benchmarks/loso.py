"""Time to accuracy of leave-one-subject-out with the CLFM network on CASME
II-sized synthetic data (26 subjects, so 26 folds), for each training recipe
side by side on the same folds, seeds and records (issue 16).

  python -m benchmarks.loso --work_dir=/tmp/bench --out=loso.json --folds=2
  python -m benchmarks.loso --work_dir=/tmp/bench --out=fast26.json --folds=26 --recipes=fast

Recipes (`RECIPES`): `default` is configs/casme2.py as `python -m lfm_tf.train
--dataset=casme2` runs it, one fold after another; `fast` is the time-to-accuracy
recipe (`--config=configs/casme2.py:fast --parallel_folds=2`). The first
`--folds` folds of each are trained exactly as `lfm_tf.train` trains them
(trainer.run: both stages, TensorBoard logs, saved models, test predictions);
with fewer than 26 the whole protocol's time is estimated from them (`estimate`).
Accuracy is counted over the same folds' test clips for every recipe.
"""

from __future__ import annotations

import json
import os
import shutil
import time

from absl import app, flags, logging

from benchmarks import common, data
from lfm_tf import experiment, trainer

# name -> (configs/casme2.py argument, folds trained side by side).
RECIPES = {"default": (None, 1), "fast": ("fast", 2)}

_FOLDS = flags.DEFINE_integer("folds", 2, "Folds to train per recipe; the rest are estimated.")
_RECIPES = flags.DEFINE_list("recipes", list(RECIPES), f"Recipes to run, of {list(RECIPES)}.")


def estimate(run_wall_s: float, fold_seconds: list[float], parallel: int, total: int) -> dict:
    """The whole protocol's wall time from `fold_seconds` (each fold's own time)
    in a run of `run_wall_s`: the run's overhead (start-up, the pooled report)
    plus `total` folds at the mean fold time, `parallel` of them at a time (fewer
    folds than `parallel` ran side by side only as many)."""
    mean = sum(fold_seconds) / len(fold_seconds)
    overhead = max(0.0, run_wall_s - sum(fold_seconds) / min(parallel, len(fold_seconds)))
    return {"overhead_s": overhead, "estimated_full_s": overhead + total * mean / parallel}


def run_recipe(name: str, folds: int) -> dict:
    arg, parallel = RECIPES[name]
    config = experiment.load_config("casme2", arg)  # CASME II's protocol: base + LOSO
    config.dataset = "synthetic"
    config.tfrecord_dir = data.records("clfm")
    config.workdir = common.work_path(f"loso_{name}")
    config.parallel_folds = parallel
    config.verbose = 0
    config.folds = f"0-{folds - 1}"
    if os.path.exists(os.path.join(config.workdir, experiment.RUN_FILE)):
        shutil.rmtree(config.workdir)  # a fresh run: finished folds would be skipped
    exp = experiment.prepare(config)
    total = len(exp.folds)
    common.log(f"{name}: training {folds} of {total} folds, {parallel} at a time, "
               f"CNN {config.cnn.epochs} epochs at batch {config.cnn.batch_size}, "
               f"LSTM {config.lstm.epochs} epochs")
    _, timing = common.timed(trainer.run, config)
    timed = []
    for fold in exp.folds[:folds]:
        with open(os.path.join(exp.fold_dir(fold), experiment.RESULT_FILE)) as f:
            result = json.load(f)
        timed.append({"fold": fold.name, "seconds": result["seconds"],
                      "stage_seconds": result["stage_seconds"],
                      "train_clips": sum(result["train_clips_per_class"].values()),
                      "test_clips": result["test_clips"],
                      "correct": round(result["test_accuracy"] * result["test_clips"])})
    correct, clips = sum(f["correct"] for f in timed), sum(f["test_clips"] for f in timed)
    return {"config": "configs/casme2.py" + (f":{arg}" if arg else ""),
            "parallel_folds": parallel, "folds_total": total, "folds_timed": timed,
            "run": timing.rates(len(timed), "folds"),
            **estimate(timing.wall, [f["seconds"] for f in timed], parallel, total),
            "seconds_per_fold": sum(f["seconds"] for f in timed) / len(timed),
            "correct": correct, "test_clips": clips, "accuracy": correct / clips,
            "cnn": {k: config.cnn[k] for k in ("epochs", "batch_size", "learning_rate",
                                               "schedule", "warmup_epochs", "maps")},
            "lstm": {k: config.lstm[k] for k in ("epochs", "batch_size", "learning_rate",
                                                 "schedule")}}


def main(argv):
    del argv
    unknown = sorted(set(_RECIPES.value) - set(RECIPES))
    if unknown:
        raise app.UsageError(f"unknown recipes {unknown}; choose from {list(RECIPES)}")
    if not (common.WORK_DIR.value and common.OUT.value):
        raise app.UsageError("--work_dir and --out are required")
    started = time.time()
    logging.set_verbosity(logging.WARNING)
    common.save({"recipes": {name: run_recipe(name, _FOLDS.value) for name in _RECIPES.value}},
                started)


if __name__ == "__main__":
    app.run(main)
