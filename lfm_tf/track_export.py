r"""Landmark tracks as files people can check and reuse: `python -m lfm_tf.landmarks`.

  python -m lfm_tf.landmarks person.mp4 --output_dir=tracks
  python -m lfm_tf.landmarks --fps=200 CASME2/sub01/EP02_01f/ --output_dir=tracks

Each input (a video, or a folder of numbered frames) gives `<name>.npy`, float32
(N, 68, 2) x, y in px in the dlib / iBUG 68-point order, NaN on the frames without
a face (as `recordings.read_landmark_file` reads an .npy), and `<name>.csv`, one
row per frame of the recording's even time grid, with OpenFace's column names
(`landmark_files.TRACK_CSV_COLUMNS`):

  frame        the input's own frame the row shows, from 1 as OpenFace counts
               (`Recording.input_frame` + 1): where a variable-frame-rate video
               was resampled to the even grid, the one nearest in time, so a
               number can repeat or be skipped;
  timestamp    the grid time, k / fps (s);
  success      0 where no face was found: the landmarks there are filled in
               from the frames around it, as predict fills them;
  reliability  `landmarks.LandmarkTrack.reliability`, 0 where success is 0;
  cut          1 on the first frame of a new shot (`Recording.cuts`), else 0;
  x_0 .. x_67, y_0 .. y_67.

The landmarks are the detector's refined by optical-flow registration (as
`--landmark_refinement` says), BEFORE the temporal filter: every reader
(`predict`, `preprocess` of landmark files) applies `--temporal_filter` once, as
to any landmark file (OpenFace's are unfiltered too), so this CLI has no such
flag; predict on the CSV gives what predict on the input gives. The CSV reads
back through `recordings.read_recording` without --fps: its timestamps are the
recording's own. Each file is written whole or not at all (`files.atomic_path`):
a killed run leaves no shorter track under the final name.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Callable, Sequence

import numpy as np
from absl import flags

from lfm_tf import (cli, files, input_flags, landmark_files, landmarks, recordings, timebase,
                    video)


def write_track(recording: recordings.Recording, stem: str) -> tuple[str, str]:
    """Write `stem`.npy and `stem`.csv (see the module docstring); returns their paths.

    Both or neither: each goes to a temporary name beside its own and is renamed
    once both are whole. Raises OSError (a full disk, a read-only folder).
    """
    points = np.asarray(recording.landmarks, np.float32)
    with files.atomic_path(f"{stem}.npy") as npy, files.atomic_path(f"{stem}.csv") as table:
        # The .npy has no success column: a frame without a face is a NaN row, or it
        # would read back as a face where there was none.
        np.save(npy, np.where(np.asarray(recording.face)[:, None, None], points, np.nan))
        with open(table, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(landmark_files.TRACK_CSV_COLUMNS)
            for k, (xy, face, reliable) in enumerate(zip(points, recording.face,
                                                         recording.reliability)):
                writer.writerow([recording.input_frame(k) + 1, f"{k / recording.fps:.6f}",
                                 int(face), f"{reliable:.3f}", int(k in recording.cuts),
                                 *(f"{v:.3f}" for v in xy[:, 0]), *(f"{v:.3f}" for v in xy[:, 1])])
    return f"{stem}.npy", f"{stem}.csv"


def export_tracks(inputs: Sequence[str], output_dir: str, fps: float | None = None,
                  settings: landmarks.LandmarkSettings | None = None,
                  time_settings: timebase.TimeSettings = timebase.TimeSettings(),
                  report: Callable[[str, recordings.Recording | Exception, list[str]], None]
                  | None = None) -> list[str]:
    """The landmark track of each input, before the temporal filter, written to
    `output_dir` as .npy and .csv.

    Returns the paths written. Raises ValueError for an `fps` that is not a positive
    number, recordings.InputError for two inputs of the same name. Per input: an
    input that is not a video or a frame folder, a folder without `fps`
    (recordings.InputError), one without a face (landmarks.NoFaceError) or an
    unreadable file (OSError) raises, unless `report` is given: then
    `report(path, recording or error, paths written)` is called after each input,
    and the others go on.
    """
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"--fps must be a positive number, got {fps}")
    stems = recordings.output_names(inputs)
    os.makedirs(output_dir, exist_ok=True)
    extractor = recordings.unbridged_extractor(settings)
    written = []
    for path, stem in zip(inputs, stems):
        try:
            if recordings.input_source(path) == "landmarks":
                raise recordings.InputError(f"{path}: already a landmark file")
            # Unfiltered: whoever reads the files filters them once (module docstring).
            recording = recordings.read_recording(path, fps, extractor,
                                                  time_settings=time_settings, denoiser="none")
            paths = list(write_track(recording, os.path.join(output_dir, stem)))
        except (recordings.InputError, landmarks.NoFaceError, video.VideoError, OSError) as err:
            if report is None:
                raise
            report(path, err, [])
            continue
        written += paths
        if report is not None:
            report(path, recording, paths)
    return written


_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write <name>.npy and .csv.")
_FPS = flags.DEFINE_float("fps", None, "Frame rate: needed for frame folders; overrides a "
                          "video's own.")
input_flags.define(flags, with_temporal_filter=False)


def main(argv):
    if not _OUTPUT_DIR.value or len(argv) < 2:
        raise ValueError("usage: python -m lfm_tf.landmarks INPUT... --output_dir=DIR")
    settings = landmarks.LandmarkSettings(**input_flags.detection_settings(flags.FLAGS))
    failed = []

    def report(path, outcome, paths):
        # Each input as it finishes: what was written, and what the input hid.
        if isinstance(outcome, Exception):
            failed.append(path)
            message = (cli.os_error_message(outcome) if isinstance(outcome, OSError)
                       else str(outcome))
            print(f"error: {' '.join(message.split())}", file=sys.stderr, flush=True)
            return
        for written in paths:
            print(f"wrote {written}", flush=True)
        lines = [f"warning: {w}" for w in outcome.warnings]
        lines += [f"note: {n}" for n in outcome.notes]
        missing = int((~np.asarray(outcome.face)).sum())
        if missing:
            lines.append(f"no face in {missing} of {len(outcome.face)} frames: NaN rows in the "
                         f".npy, success 0 in the .csv")
        for line in lines:
            print(f"  {line}", flush=True)

    export_tracks(argv[1:], _OUTPUT_DIR.value, _FPS.value, settings,
                  input_flags.time_settings(flags.FLAGS), report)
    if failed:
        sys.exit(1)


def run():
    cli.run(main)
