"""The effect of the landmarks on the method (issue 10): the weak-expression transfer.

  python -m benchmarks.weak_transfer --work_dir=/tmp/bench --out=weak_transfer.json

Trained on full-strength CK+-like synthetic expressions (7 classes, macro
strength, 30 fps so T = 1, whole onset-apex-offset sequences) of some subjects,
tested on the same expressions at 15% strength of other subjects (the motion
from each clip's first frame scaled by 0.15, then 0.1 px of landmark noise,
which in rendered frames is pixel motion too), with the landmarks of each
source and everything else the same (configs/synthetic.py's training on all
training clips, the `full` protocol, then the exported model on the test clips'
24-map windows, as `predict` would run it):
- true: the generated landmarks themselves (a perfect landmark method);
- tracked: found in the rendered frames (a real face, camera noise) by the
  tracked dlib fit, as before issue 10 (--landmark_refinement=none
  --temporal_filter=none);
- refined: the default (optical-flow refinement, 3-frame running median);
- true_median3, tracked_median3: the first two with the 3-frame median, which
  tells the filter's share from the registration's.
Each row gives the scores on the weak test clips and, for contrast, on the same
subjects' clips at full strength, and the motion error of the test clips'
landmarks against the truth (mean / 95th percentile, px): what the maps are
made of.
"""

from __future__ import annotations

import dataclasses
import shutil
import time

import numpy as np
from absl import app, flags

from benchmarks import common, landmark_sources
from lfm_tf import experiment, features, metrics, model_folder, tfrecord_folder, trainer
from lfm_tf.datasets import synthetic

_TRAIN_SUBJECTS = flags.DEFINE_integer("train_subjects", 6, "Subjects at full strength.")
_TEST_SUBJECTS = flags.DEFINE_integer("test_subjects", 4, "Other subjects at weak strength.")
_CLIPS = flags.DEFINE_integer("clips_per_class", 2, "Clips per subject and class.")
_STRENGTH = flags.DEFINE_float("strength", 0.15, "The test clips' motion, as a fraction.")
_NOISE = flags.DEFINE_float("noise_px", 0.1, "Landmark noise of every clip, px.")
_SOURCES = flags.DEFINE_list("sources", ["true", "true_median3", "tracked", "tracked_median3",
                                         "refined"],
                              "Landmark sources (benchmarks.landmark_sources.SOURCES).")

FPS = 30.0
FRAMES = (20, 30)
SPEC = dataclasses.replace(synthetic.SPEC, classes=synthetic.CLASS_SETS["ckplus"], fps=FPS)


def make_clips() -> dict[str, list]:
    """The full-strength training clips ("train"), and the other subjects' clips
    at `--strength` ("test") and at full strength ("test_full"), each with
    `--noise_px` of landmark noise."""
    total = _TRAIN_SUBJECTS.value + _TEST_SUBJECTS.value
    clips = synthetic.generate(total, _CLIPS.value, classes="ckplus", intensity="macro", fps=FPS,
                               num_frames=FRAMES, noise_px=0.0)
    rng = np.random.default_rng(0)
    parts = {"train": [], "test": [], "test_full": []}
    for clip in clips:
        track = clip.landmarks.astype(np.float64)
        noise = rng.normal(0.0, _NOISE.value, track.shape)
        if int(clip.subject[1:]) <= _TRAIN_SUBJECTS.value:
            versions = {"train": track}
        else:
            versions = {"test": track[0] + _STRENGTH.value * (track - track[0]),
                        "test_full": track}
        for part, points in versions.items():
            parts[part].append(dataclasses.replace(clip,
                                                   landmarks=(points + noise).astype(np.float32)))
    return parts


def run_source(source: str, parts: dict[str, list]) -> dict:
    options = {"strength": _STRENGTH.value, "noise_px": _NOISE.value}
    folders = {part: landmark_sources.preprocess(clips, source, SPEC, "weak_transfer", part,
                                                 options)["folder"]
               for part, clips in parts.items()}
    config = experiment.load_config("synthetic")
    config.protocol, config.tfrecord_dir = "full", folders["train"]
    config.workdir = common.work_path("weak_transfer", source, "run")
    config.verbose = 0
    shutil.rmtree(config.workdir, ignore_errors=True)
    common.log(f"{source}: training on {len(parts['train'])} full-strength clips")
    exported, training = common.timed(trainer.run, config)
    model = model_folder.ExportedModel.load(exported["export"])
    out = {"training": dataclasses.asdict(training)}
    for part in ("test", "test_full"):
        tests = list(tfrecord_folder.iter_records(folders[part]))
        windows = np.stack([features.select_window(r.maps) for r in tests])
        predicted = model.probabilities(windows).argmax(axis=1)
        scores = metrics.summarize([r.label for r in tests], predicted.tolist(), model.classes)
        truth = landmark_sources.truth(parts[part], source)
        out[part] = {"scores": {k: scores[k] for k in ("accuracy", "f1", "uf1", "uar",
                                                       "num_clips")},
                     "confusion": scores["confusion"],
                     "landmarks": landmark_sources.motion_error(tests, truth)}
    return out


def main(argv):
    del argv
    started = time.time()
    parts = make_clips()
    result = {"clips": {part: len(clips) for part, clips in parts.items()}, "classes": 7,
              "strength": _STRENGTH.value, "noise_px": _NOISE.value, "fps": FPS,
              "chance": 1 / 7, "sources": {}}
    for source in _SOURCES.value:
        result["sources"][source] = row = run_source(source, parts)
        common.log(f"{source}: weak {row['test']['scores']['accuracy']:.3f} (landmarks "
                   f"{row['test']['landmarks']['motion_mean']:.3f} px), full strength "
                   f"{row['test_full']['scores']['accuracy']:.3f}")
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
