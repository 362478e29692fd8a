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
import logging
import os
import shutil
import time

import numpy as np
from absl import app, flags

from benchmarks import common
from lfm_tf import (experiment, features, landmarks, metrics, model_folder, pipeline,
                    tfrecord_folder, trainer)
from lfm_tf.datasets import synthetic, synthetic_render
from lfm_tf.datasets.base import ReadResult

_TRAIN_SUBJECTS = flags.DEFINE_integer("train_subjects", 6, "Subjects at full strength.")
_TEST_SUBJECTS = flags.DEFINE_integer("test_subjects", 4, "Other subjects at weak strength.")
_CLIPS = flags.DEFINE_integer("clips_per_class", 2, "Clips per subject and class.")
_STRENGTH = flags.DEFINE_float("strength", 0.15, "The test clips' motion, as a fraction.")
_NOISE = flags.DEFINE_float("noise_px", 0.1, "Landmark noise of every clip, px.")
_SOURCES = flags.DEFINE_list("sources", ["true", "true_median3", "tracked", "tracked_median3",
                                         "refined"], "Landmark sources (SOURCES).")

FPS = 30.0
FRAMES = (20, 30)
# name -> (landmark source, detector settings, temporal filter).
SOURCES = {
    "true": ("provided", landmarks.LandmarkSettings(), "none"),
    "true_median3": ("provided", landmarks.LandmarkSettings(), "median3"),
    "tracked": ("dlib", landmarks.LandmarkSettings(refinement=None), "none"),
    "tracked_median3": ("dlib", landmarks.LandmarkSettings(refinement=None), "median3"),
    "refined": ("dlib", landmarks.LandmarkSettings(), "median3"),
}
# The stages run in this process, one worker: the clips are few.
BEAM_ARGS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


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


def _records(clips: list, source: str, part: str) -> str:
    """The clips preprocessed with `source`'s landmarks; returns the TFRecord root."""
    landmark_source, settings, denoiser = SOURCES[source]
    root = common.work_path("weak_transfer", source, part)
    if landmark_source == "dlib":
        frames = common.work_path("weak_transfer", "frames", part)
        options = {"benchmark": "weak_transfer", "part": part, "strength": _STRENGTH.value,
                   "noise_px": _NOISE.value, "clips": [c.clip_id for c in clips]}
        clips = synthetic_render.render_once(clips, frames, options)
    spec = dataclasses.replace(synthetic.SPEC, classes=synthetic.CLASS_SETS["ckplus"], fps=FPS)
    logging.getLogger().setLevel(logging.WARNING)
    pipeline.run(pipeline.PreprocessConfig(
        dataset="synthetic", data_dir=None, out_dir=root, variant="clfm",
        landmark_source=landmark_source, landmark_settings=settings, temporal_filter=denoiser,
        progress=False, overwrite=True), BEAM_ARGS, result=ReadResult(spec=spec, clips=clips))
    common.log(f"{source}: {part} preprocessed")
    return root


def _motion_error(records: list, truth: dict[str, np.ndarray]) -> dict:
    """Motion error of the records' landmarks against the truth, px."""
    errors = []
    for record in records:
        found, true = record.landmarks, truth[record.clip]
        errors.append(np.linalg.norm((found - found[0]) - (true - true[0]), axis=-1)[1:].ravel())
    errors = np.concatenate(errors)
    return {"motion_mean": float(errors.mean()), "motion_p95": float(np.percentile(errors, 95))}


def run_source(source: str, parts: dict[str, list]) -> dict:
    roots = {part: _records(clips, source, part) for part, clips in parts.items()}
    config = experiment.load_config("synthetic")
    config.protocol, config.tfrecord_dir = "full", roots["train"]
    config.workdir = common.work_path("weak_transfer", source, "run")
    config.verbose = 0
    shutil.rmtree(config.workdir, ignore_errors=True)
    common.log(f"{source}: training on {len(parts['train'])} full-strength clips")
    exported, training = common.timed(trainer.run, config)
    model = model_folder.ExportedModel.load(exported["export"])
    anchor = synthetic_render.Camera().photo()[1]
    out = {"training": dataclasses.asdict(training)}
    for part in ("test", "test_full"):
        tests = list(tfrecord_folder.iter_records(os.path.join(roots[part], "synthetic",
                                                               "clfm_T1")))
        windows = np.stack([features.select_window(r.maps) for r in tests])
        predicted = model.probabilities(windows).argmax(axis=1)
        scores = metrics.summarize([r.label for r in tests], predicted.tolist(), model.classes)
        # The truth in the frames' coordinates: on the rendered photo, or the clips' own.
        truth = {c.clip_id: (synthetic_render.motion_on_photo(c.landmarks, anchor)
                             if SOURCES[source][0] == "dlib" else c.landmarks)
                 for c in parts[part]}
        out[part] = {"scores": {k: scores[k] for k in ("accuracy", "f1", "uf1", "uar",
                                                       "num_clips")},
                     "confusion": scores["confusion"], "landmarks": _motion_error(tests, truth)}
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
