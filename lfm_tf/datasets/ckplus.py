"""CK+ reader: image sequences, their emotion files and, optionally, the shipped landmarks.

Facts from DATASETS.md:
- Frames `cohn-kanade-images/S005/001/S005_001_00000011.png`, 30 fps, neutral to peak.
- `Emotion/S005/001/S005_001_00000011_emotion.txt` (some users have `Emotion_labels/`):
  one float, `int(float(text))`; 1..7 are specs.CKPLUS_CLASSES in order, 0 neutral is
  never used. Only 327 of 593 sequences have a file; the others are unlabelled and
  reported as such. The file is named after the peak frame, which becomes Clip.apex.
- `Landmarks/S005/001/S005_001_00000011_landmarks.txt`: 68 lines of two floats
  (AAM-tracked), one file per frame.
- 327 labelled sequences, 118 subjects; the paper's protocol is subject-independent
  10-fold.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
from collections.abc import Sequence

import numpy as np

from lfm_tf.datasets import base
from lfm_tf.datasets.base import Clip, ReadResult, frame_number
from lfm_tf.datasets.specs import CKPLUS_CLASSES, get_spec

IMAGES = "cohn-kanade-images"
EMOTION_DIRS = ("Emotion", "Emotion_labels")
LANDMARKS = "Landmarks"
LANDMARK_MODES = ("dlib", "provided")
SUBJECT = re.compile(r"S\d+")


def read_landmark_file(path: str) -> np.ndarray:
    """A CK+ landmark file as a (68, 2) float32 array of (x, y)."""
    try:
        with open(path, encoding="ascii") as f:
            points = [[float(v) for v in line.split()] for line in f if line.strip()]
        array = np.asarray(points, dtype=np.float32)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: expected 68 lines of two floats ({error})") from None
    if array.shape != (68, 2):
        raise ValueError(f"{path}: expected 68 lines of two floats, got {len(points)} lines "
                         f"with {sorted({len(p) for p in points})} values")
    return array


def read_landmark_files(paths: Sequence[str | None]) -> np.ndarray:
    """A sequence's landmark files as a (N, 68, 2) float32 track; NaN where a
    path is None (a frame the images' numbering skips: no face)."""
    track = np.full((len(paths), 68, 2), np.nan, np.float32)
    for k, path in enumerate(paths):
        if path is not None:
            track[k] = read_landmark_file(path)
    return track


def read_emotion_file(path: str) -> str:
    """The class an emotion file names: `3.0000000e+00` -> "disgust", 0 -> "neutral"."""
    with open(path, encoding="ascii") as f:
        text = f.read()
    try:
        code = int(float(text))
    except ValueError:
        raise ValueError(f"{path}: expected one number 1..7, got {text.strip()!r}") from None
    if 1 <= code <= len(CKPLUS_CLASSES):
        return CKPLUS_CLASSES[code - 1]
    return "neutral" if code == 0 else f"code {code}"


def read(data_dir: str | None, landmarks: str = "dlib") -> ReadResult:
    """Reads CK+'s labelled sequences.

    Args:
      data_dir: the folder holding cohn-kanade-images/ and Emotion/ (or a CK+/ in it).
      landmarks: "dlib" (frames only; landmarks are detected later) or "provided"
        (Clip.landmark_files from Landmarks/, one per frame; a sequence with a frame
        missing its file is skipped, naming the frames).
    """
    if landmarks not in LANDMARK_MODES:
        raise ValueError(f"CK+: unknown landmarks {landmarks!r}; expected one of {LANDMARK_MODES}")
    root = base.find_tree(data_dir, ("CK+",), lambda d: os.path.isdir(os.path.join(d, IMAGES)),
                            f"CK+'s {IMAGES}/ and Emotion/ folders")
    emotion_dir = next((os.path.join(root, n) for n in EMOTION_DIRS
                        if os.path.isdir(os.path.join(root, n))), None)
    if emotion_dir is None:
        raise ValueError(f"CK+: no {' or '.join(EMOTION_DIRS)} folder in {root!r}")
    landmark_dir = os.path.join(root, LANDMARKS)
    if landmarks == "provided" and not os.path.isdir(landmark_dir):
        raise ValueError(f"CK+: landmarks='provided' but there is no {LANDMARKS}/ in {root!r}")

    annotated = {}
    for key, path in base.clip_folders(emotion_dir, SUBJECT).items():
        files = glob.glob(os.path.join(glob.escape(path), "*_emotion.txt"))
        if len(files) > 1:
            raise ValueError(f"CK+: {path} has {len(files)} emotion files; expected one")
        if files:
            annotated[key] = base.Annotation(read_emotion_file(files[0]),
                                               apex=frame_number(files[0]))

    spec = get_spec("ckplus")
    clips, skipped = base.annotated_clips(
        "ckplus", spec.classes, annotated, base.clip_folders(os.path.join(root, IMAGES), SUBJECT),
        spec.fps, unannotated="unlabelled (no emotion file)")
    if landmarks == "provided":
        clips = [_with_landmark_files(clip, landmark_dir, skipped) for clip in clips]
        clips = [clip for clip in clips if clip is not None]
    return ReadResult(spec, clips, skipped)


def _with_landmark_files(clip: Clip, landmark_dir: str,
                         skipped: list[tuple[str, str]]) -> Clip | None:
    """The clip with one landmark file per frame in place of its frames; None (and why) if
    a frame has none. A frame the images' numbering skips has none: None, a frame
    without a face, as it is for dlib."""
    folder_path = os.path.join(landmark_dir, clip.subject, clip.clip_id)
    files = [None if f is None else
             os.path.join(folder_path, os.path.splitext(os.path.basename(f))[0] + "_landmarks.txt")
             for f in clip.frames]
    missing = [frame_number(f) for f, lm in zip(clip.frames, files)
               if lm is not None and not os.path.isfile(lm)]
    if missing:
        skipped.append((clip.name, f"no landmark file for frame(s) {missing} in {folder_path}"))
        return None
    return dataclasses.replace(clip, frames=(), landmark_files=tuple(files))
