"""Synthetic clips preprocessed with each landmark source, for the benchmarks that
measure what the landmarks do to the method (issue 10: `weak_transfer`,
`landmark_loso`).

A source either takes the generated landmarks as they are (a perfect landmark
method) or finds them in the clips rendered as frames of a real face seen by an
ordinary camera (`synthetic_render.Camera()`: sensor noise, flicker, JPEG 85),
with the detector settings and temporal filter of `SOURCES`. Everything after
the landmarks (maps, TFRecords, training) is the same for every source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from benchmarks import common
from lfm_tf import landmarks, pipeline
from lfm_tf.datasets import synthetic, synthetic_render
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import DatasetSpec

# name -> (landmark source, detector settings, temporal filter).
SOURCES = {
    # The generated landmarks themselves.
    "true": ("provided", landmarks.LandmarkSettings(), "none"),
    "true_median3": ("provided", landmarks.LandmarkSettings(), "median3"),
    # The tracked dlib fit alone, as before issue 10 (--landmark_refinement=none
    # --temporal_filter=none).
    "tracked": ("dlib", landmarks.LandmarkSettings(refinement=None), "none"),
    "tracked_median3": ("dlib", landmarks.LandmarkSettings(refinement=None), "median3"),
    # The default: optical-flow refinement, then the 3-frame running median.
    "refined": ("dlib", landmarks.LandmarkSettings(), "median3"),
}
# The stages run in this process, one worker: the clips are few.
BEAM_ARGS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def preprocess(clips: Sequence[synthetic.SyntheticClip], source: str, spec: DatasetSpec,
               benchmark: str, part: str, options: dict) -> dict:
    """The clips preprocessed to CLFM TFRecords with `source`'s landmarks, under
    <work_dir>/<benchmark>/<source>/<part>; returns the manifest (its `folder`
    is what training and `tfrecord_folder.iter_records` read). Sources that find
    landmarks read the clips rendered once into <work_dir>/<benchmark>/frames/<part>
    (`options` names the render: a different one renders again)."""
    landmark_source, settings, denoiser = SOURCES[source]
    root = common.work_path(benchmark, source, part)
    if landmark_source == "dlib":
        frames = common.work_path(benchmark, "frames", part)
        stamp = {"benchmark": benchmark, "part": part, **options,
                 "clips": [c.clip_id for c in clips]}
        clips = synthetic_render.render_once(clips, frames, stamp)
    logging.getLogger().setLevel(logging.WARNING)
    manifest = pipeline.run(pipeline.PreprocessConfig(
        dataset="synthetic", data_dir=None, out_dir=root, variant="clfm",
        landmark_source=landmark_source, landmark_settings=settings, temporal_filter=denoiser,
        progress=False, overwrite=True), BEAM_ARGS, result=ReadResult(spec=spec, clips=clips))
    common.log(f"{source}: {part} preprocessed")
    return manifest


def truth(clips: Iterable[synthetic.SyntheticClip], source: str) -> dict[str, np.ndarray]:
    """clip id -> the true landmarks in the coordinates `source` finds them in: the
    generated ones, or their motion carried onto the rendered photo."""
    if SOURCES[source][0] != "dlib":
        return {c.clip_id: c.landmarks for c in clips}
    anchor = synthetic_render.Camera().photo()[1]
    return {c.clip_id: synthetic_render.motion_on_photo(c.landmarks, anchor) for c in clips}


def motion_error(records: Iterable, true: dict[str, np.ndarray]) -> dict:
    """Motion error of the records' landmarks against the truth, px:
    |(found_n - found_0) - (true_n - true_0)| over frames n >= 1 and the 68
    landmarks: its mean, 95th percentile and worst (as `benchmarks.landmarks`)."""
    errors = []
    for record in records:
        found, points = record.landmarks, true[record.clip]
        errors.append(np.linalg.norm((found - found[0]) - (points - points[0]), axis=-1)[1:]
                      .ravel())
    errors = np.concatenate(errors)
    return {"motion_mean": float(errors.mean()), "motion_p95": float(np.percentile(errors, 95)),
            "motion_worst": float(errors.max())}
