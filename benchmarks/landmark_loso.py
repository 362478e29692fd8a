"""The effect of the landmarks on the method (issue 10): leave-one-subject-out on
the rendered noisy synthetic set, with each landmark source.

  python -m benchmarks.landmark_loso --work_dir=/tmp/bench --out=landmark_loso.json

The demo's kind of data (`synthetic.generate`: the MEGC classes, micro-expressions
of 1 to 3 px at 100 fps so T = 4, head drift, 0.2 px landmark noise), 3 clips per
subject and class instead of the demo's 4 so that the three trainings take about
15 CPU minutes on this project's 2-core machine, rendered
as frames of a real face seen by an ordinary camera (`landmark_sources`), then
preprocessed with each source's landmarks (`landmark_sources.SOURCES`; by
default the generated landmarks, the tracked dlib fit as before issue 10, and the
refined default) and trained with everything else the same:
configs/synthetic.py (the demo's epochs), the CLFM network, LOSO, seed 0. Each
row gives the pooled scores and the motion error of all clips' stored landmarks
against the truth (mean / 95th percentile / worst, px).
"""

from __future__ import annotations

import dataclasses
import shutil
import time

from absl import app, flags, logging

from benchmarks import common, landmark_sources
from lfm_tf import experiment, tfrecord_folder, trainer
from lfm_tf.datasets import synthetic

_SUBJECTS = flags.DEFINE_integer("num_subjects", 8, "Subjects, so LOSO folds.")
_CLIPS = flags.DEFINE_integer("clips_per_class", 3, "Clips per subject and class.")
_SOURCES = flags.DEFINE_list("sources", ["true", "true_median3", "tracked", "refined"],
                             "Landmark sources (benchmarks.landmark_sources.SOURCES).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the data and of training.")

SCORES = ("accuracy", "f1", "uf1", "uar", "num_clips")


def run_source(source: str, clips: list) -> dict:
    """Preprocess the clips with `source`'s landmarks, then LOSO on them."""
    options = {"num_subjects": _SUBJECTS.value, "clips_per_class": _CLIPS.value,
               "seed": _SEED.value}
    manifest, preprocessing = common.timed(landmark_sources.preprocess, clips, source,
                                           synthetic.SPEC, "landmark_loso", "all", options)
    config = experiment.load_config("synthetic")
    config.tfrecord_dir = manifest["folder"]
    config.workdir = common.work_path("landmark_loso", source, "run")
    config.seed = _SEED.value
    config.verbose = 0
    shutil.rmtree(config.workdir, ignore_errors=True)  # finished folds would be skipped
    common.log(f"{source}: LOSO on {manifest['counts']['clips']} clips")
    logging.set_verbosity(logging.WARNING)
    result, training = common.timed(trainer.run, config)
    records = list(tfrecord_folder.iter_records(manifest["folder"]))
    return {"scores": {k: result[k] for k in SCORES}, "confusion": result["confusion"],
            "chance": result["chance"], "skipped": len(manifest["skipped"]),
            "landmarks": landmark_sources.motion_error(
                records, landmark_sources.truth(clips, source)),
            "preprocessing": dataclasses.asdict(preprocessing),
            "training": dataclasses.asdict(training)}


def main(argv):
    del argv
    started = time.time()
    clips = synthetic.generate(_SUBJECTS.value, _CLIPS.value, seed=_SEED.value)
    config = experiment.load_config("synthetic")
    result = {"clips": len(clips), "subjects": _SUBJECTS.value,
              "classes": list(synthetic.SPEC.classes), "fps": synthetic.SPEC.fps,
              "noise_px": synthetic.NOISE_PX, "config": "configs/synthetic.py",
              "epochs": {"cnn": config.cnn.epochs, "lstm": config.lstm.epochs},
              "seed": _SEED.value, "sources": {}}
    for source in _SOURCES.value:
        result["sources"][source] = row = run_source(source, clips)
        common.log(f"{source}: accuracy {row['scores']['accuracy']:.3f}, UF1 "
                   f"{row['scores']['uf1']:.3f} (landmarks "
                   f"{row['landmarks']['motion_mean']:.3f} px)")
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
