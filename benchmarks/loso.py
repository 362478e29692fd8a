"""Wall time of leave-one-subject-out with the CLFM network on CASME II-sized
synthetic data (26 subjects, so 26 folds), with configs/base.py's epochs.

  python -m benchmarks.loso --work_dir=/tmp/bench --out=loso.json --folds=2

A full run takes longer than `make bench` may, so the first `--folds` folds
are trained exactly as `python -m lfm_tf.train` would train them (trainer.run:
both stages, TensorBoard logs, saved models, test predictions) and the whole
protocol is their mean time per fold times 26, plus the run's own overhead.
"""

from __future__ import annotations

import json
import os
import shutil
import time

from absl import app, flags, logging

from benchmarks import common, data
from lfm_tf import experiment, trainer

_FOLDS = flags.DEFINE_integer("folds", 2, "Folds to train; the rest are extrapolated.")


def main(argv):
    del argv
    started = time.time()
    config = experiment.load_config("casme2")  # CASME II's protocol: base defaults, LOSO
    config.dataset = "synthetic"
    config.tfrecord_dir = data.records("clfm")
    config.workdir = common.work_path("loso")
    config.folds = f"0-{_FOLDS.value - 1}"
    config.verbose = 0
    if os.path.exists(os.path.join(config.workdir, experiment.RUN_FILE)):
        shutil.rmtree(config.workdir)  # a fresh run: finished folds would be skipped
    exp = experiment.prepare(config)
    total = len(exp.folds)
    common.log(f"training {_FOLDS.value} of {total} folds, CNN {config.cnn.epochs} epochs, "
               f"LSTM {config.lstm.epochs} epochs")
    logging.set_verbosity(logging.WARNING)
    _, timing = common.timed(trainer.run, config)
    folds = []
    for fold in exp.folds[:_FOLDS.value]:
        with open(os.path.join(exp.fold_dir(fold), experiment.RESULT_FILE)) as f:
            result = json.load(f)
        folds.append({"fold": fold.name, "seconds": result["seconds"],
                      "train_clips": sum(result["train_clips_per_class"].values()),
                      "test_clips": result["test_clips"]})
    per_fold = sum(f["seconds"] for f in folds) / len(folds)
    overhead = timing.wall - sum(f["seconds"] for f in folds)
    common.save({"folds_total": total, "folds_timed": folds,
                 "run": timing.rates(len(folds), "folds"), "seconds_per_fold": per_fold,
                 "overhead_s": overhead,
                 "estimated_full_s": total * per_fold + overhead,
                 "epochs": {"cnn": config.cnn.epochs, "lstm": config.lstm.epochs},
                 "maps": config.cnn.maps}, started)


if __name__ == "__main__":
    app.run(main)
