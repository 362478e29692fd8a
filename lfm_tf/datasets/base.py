"""What every dataset reader returns, and the helpers they share.

A reader turns a dataset folder, as its users unpack it, into a `ReadResult`: the
clips it found (subject, clip id, label, frames in numeric order, annotated
onset/apex/offset) and, by name, everything it could not use and why. Nothing is
dropped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
from collections.abc import Iterable, Sequence

import numpy as np

from lfm_tf.datasets.specs import DatasetSpec

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One labelled expression clip, as a reader found it on disk.

    Exactly one source of pixels or landmarks is set: `frames` (image paths in
    numeric order), `video` (a video file), `landmark_files` (one landmark file
    per frame that ships with the dataset, e.g. CK+) or `landmarks` (an
    in-memory (N, 68, 2) track, e.g. synthetic data).

    Attributes:
      dataset: the dataset the clip comes from (for the composite, its source:
        "smic", "casme2" or "samm").
      subject: subject id as the dataset spells it ("s1", "sub01", "006", "S005").
      clip_id: clip id as the dataset spells it ("s1_ne_01", "EP02_01f").
      label: class name, one of the reader's `classes`.
      fps: frame rate of the recording.
      onset, apex, offset: annotated frame numbers (the numbers in the file
        names, not positions), None where not annotated.
    """

    dataset: str
    subject: str
    clip_id: str
    label: str
    fps: float
    frames: tuple[str, ...] = ()
    video: str | None = None
    landmark_files: tuple[str, ...] = ()
    landmarks: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None

    @property
    def name(self) -> str:
        """A unique, human-readable name: dataset/subject/clip."""
        return f"{self.dataset}/{self.subject}/{self.clip_id}"

    @property
    def num_frames(self) -> int | None:
        """Frames known without decoding; None for a video."""
        if self.landmarks is not None:
            return len(self.landmarks)
        if self.landmark_files:
            return len(self.landmark_files)
        if self.frames:
            return len(self.frames)
        return None


@dataclasses.dataclass
class ReadResult:
    """The clips a reader found and everything it left out, by name.

    Attributes:
      spec: the dataset's facts (classes in label order, protocol, fps).
      clips: usable clips, sorted by subject then clip id.
      skipped: (name, reason) for every annotated sample or folder not used:
        annotation rows with no frames on disk, clip folders with no
        annotation, classes outside the class set, unlabelled sequences.
    """

    spec: DatasetSpec
    clips: list[Clip]
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def class_counts(self) -> dict[str, int]:
        counts = collections.Counter(c.label for c in self.clips)
        return {name: counts.get(name, 0) for name in self.spec.classes}

    def subjects(self) -> list[str]:
        return sorted({c.subject for c in self.clips})

    def summary(self) -> str:
        """The counts a user compares with the dataset's documentation."""
        counts = ", ".join(f"{k} {v}" for k, v in self.class_counts().items())
        lines = [f"{self.spec.name}: {len(self.clips)} clips, {len(self.subjects())} "
                 f"subjects ({counts})"]
        if self.skipped:
            lines.append(f"{len(self.skipped)} samples not used:")
            lines.extend(f"  {name}: {reason}" for name, reason in self.skipped)
        return "\n".join(lines)


def frame_number(path: str) -> int:
    """The last number in a file name: 'reg_img46.jpg' -> 46, 'S005_001_00000011.png' -> 11."""
    match = _LAST_NUMBER.search(os.path.splitext(os.path.basename(path))[0])
    if match is None:
        raise ValueError(f"no frame number in file name {path!r}")
    return int(match.group(1))


def numeric_sort(paths: Iterable[str]) -> list[str]:
    """Sort frame files by the number in their name (img9 before img10), never lexically."""
    return sorted(paths, key=lambda p: (frame_number(p), p))


def list_images(folder: str) -> list[str]:
    """Image files directly in `folder`, in numeric frame order; [] if it does not exist."""
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(IMAGE_EXTENSIONS) and _LAST_NUMBER.search(n)]
    return numeric_sort(os.path.join(folder, n) for n in names)


def find_header_row(rows: Sequence[Sequence[object]], marker: str = "Filename") -> int:
    """Index of the first row that has a cell equal to `marker` (spaces ignored).

    Dataset spreadsheets come in versions with different preamble lengths, so the
    header is found by content rather than by a fixed row number.
    """
    for k, row in enumerate(rows):
        if any(isinstance(cell, str) and cell.strip() == marker for cell in row):
            return k
    raise ValueError(f"no header row with a {marker!r} cell found")


def optional_frame(cell: object) -> int | None:
    """An onset/apex/offset cell as a frame number; None for blanks and text like '/'."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, (int, np.integer)):
        return int(cell)
    if isinstance(cell, float):
        return int(cell) if np.isfinite(cell) else None
    text = str(cell).strip()
    return int(text) if text.isdigit() else None
