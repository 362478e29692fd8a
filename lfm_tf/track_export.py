r"""Landmark tracks as files people can check and reuse: `python -m lfm_tf.landmarks`.

  python -m lfm_tf.landmarks person.mp4 --output_dir=tracks
  python -m lfm_tf.landmarks --fps=200 CASME2/sub01/EP02_01f/ --output_dir=tracks

Each input (a video, or a folder of numbered frames) gives `<name>.npy`, float32
(N, 68, 2) x, y in px in the dlib / iBUG 68-point order, and `<name>.csv`, one row
per frame with OpenFace's column names: frame (1-based), timestamp (s), success
(0 where no face was found and the landmarks are interpolated), reliability
(`landmarks.LandmarkTrack.reliability`), x_0 .. x_67, y_0 .. y_67. The CSV reads
back through `recordings.read_landmark_file` (so `predict` takes it as input).
The landmarks are those `predict` uses: `recordings.read_recording` with the
default detector, refinement and temporal filter unless flags say otherwise.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

import numpy as np
from absl import flags

from lfm_tf import (cli, features, input_flags, landmarks, recordings, temporal_filter,
                    timebase)

CSV_COLUMNS = ("frame", "timestamp", "success", "reliability",
               *(f"x_{k}" for k in range(features.NUM_LANDMARKS)),
               *(f"y_{k}" for k in range(features.NUM_LANDMARKS)))


def write_track(recording: recordings.Recording, stem: str) -> tuple[str, str]:
    """Write `stem`.npy and `stem`.csv (see the module docstring); returns their paths."""
    points = np.asarray(recording.landmarks, np.float32)
    np.save(f"{stem}.npy", points)
    with open(f"{stem}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for k, (xy, face, reliable) in enumerate(zip(points, recording.face,
                                                     recording.reliability)):
            writer.writerow([k + 1, f"{k / recording.fps:.6f}", int(face), f"{reliable:.3f}",
                             *(f"{v:.3f}" for v in xy[:, 0]), *(f"{v:.3f}" for v in xy[:, 1])])
    return f"{stem}.npy", f"{stem}.csv"


def export_tracks(inputs: Sequence[str], output_dir: str, fps: float | None = None,
                  settings: landmarks.LandmarkSettings | None = None,
                  denoiser: str = temporal_filter.DEFAULT_TEMPORAL_FILTER,
                  time_settings: timebase.TimeSettings = timebase.TimeSettings()) -> list[str]:
    """The landmark track of each input written to `output_dir` as .npy and .csv.

    Returns the paths written. Raises recordings.InputError for an input that is
    not a video or a frame folder, a folder without `fps`, or two inputs of the
    same name; landmarks.NoFaceError for an input without a face.
    """
    stems = recordings.output_names(inputs)
    os.makedirs(output_dir, exist_ok=True)
    extractor = recordings.unbridged_extractor(settings)
    written = []
    for path, stem in zip(inputs, stems):
        if recordings.input_source(path) == "landmarks":
            raise recordings.InputError(f"{path}: already a landmark file")
        recording = recordings.read_recording(path, fps, extractor, time_settings=time_settings,
                                              denoiser=denoiser)
        written += write_track(recording, os.path.join(output_dir, stem))
    return written


_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write <name>.npy and .csv.")
_FPS = flags.DEFINE_float("fps", None, "Frame rate: needed for frame folders; overrides a "
                          "video's own.")
input_flags.define(flags)


def main(argv):
    if not _OUTPUT_DIR.value or len(argv) < 2:
        raise ValueError("usage: python -m lfm_tf.landmarks INPUT... --output_dir=DIR")
    settings = landmarks.LandmarkSettings(**input_flags.detection_settings(flags.FLAGS))
    for path in export_tracks(argv[1:], _OUTPUT_DIR.value, _FPS.value, settings,
                              flags.FLAGS.temporal_filter,
                              input_flags.time_settings(flags.FLAGS)):
        print(f"wrote {path}")


def run():
    cli.run(main)
