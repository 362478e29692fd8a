"""What the spotting readers return: long videos with their annotated intervals.

Spotting datasets (CAS(ME)^2, SAMM Long Videos; ../shared/DATASETS_MORE.md A, B)
are long recordings with any number of expression intervals each, some with
none, so a reader returns videos, not clips. Frame numbers are the numbers in the
frame files' names (1-based in both datasets), as the workbooks write them.

The MEGC facts that depend on the dataset (section C: the window k of each type,
the prediction length limits) are defined here once, in `SPOTTING_FACTS`.
"""

from __future__ import annotations

import collections
import dataclasses
import os

import numpy as np
import openpyxl

from lfm_tf.datasets import base
from lfm_tf.datasets.specs import SPOTTING_TYPES as TYPES
from lfm_tf.datasets.specs import DatasetSpec
TYPE_TITLES = {"me": "ME", "mae": "MaE"}


@dataclasses.dataclass(frozen=True)
class Interval:
    """One annotated expression interval of a long video.

    Attributes:
      onset, offset: first and last frame, inclusive, as file-name numbers.
      apex: apex frame, None where the annotation has none.
      type: "me" or "mae".
      name: the annotation's own name ("anger1_1", "006_1_3").
      action_units: the FACS code as written.
      emotion: the emotion class where the dataset gives one (CAS(ME)^2).
    """

    onset: int
    apex: int | None
    offset: int
    type: str
    name: str = ""
    action_units: str = ""
    emotion: str = ""

    @property
    def length(self) -> int:
        """Frames from onset to offset inclusive."""
        return self.offset - self.onset + 1


@dataclasses.dataclass(frozen=True)
class LongVideo:
    """A long recording and every interval annotated in it (possibly none).

    Exactly one of `frames` (image paths in numeric order) or `landmarks` (an
    in-memory (N, 68, 2) track in px, synthetic data) is set; `first_frame` is
    the file-name number of the first frame, so that frame index i is frame
    number first_frame + i. `frames` holds one path per frame, None where the
    folder's numbering skips a number (`video_frames`): such a frame is one
    without a face, and the frames after it keep their numbers. The first and
    last frames are always present.
    """

    dataset: str
    subject: str
    video_id: str
    fps: float
    intervals: tuple[Interval, ...] = ()
    frames: tuple[str | None, ...] = ()
    landmarks: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)
    first_frame: int = 1

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.subject}/{self.video_id}"

    @property
    def num_frames(self) -> int:
        return len(self.landmarks) if self.landmarks is not None else len(self.frames)


@dataclasses.dataclass
class SpottingReadResult:
    """Videos a spotting reader found, what it left out and what it corrected, by name.

    Attributes:
      spec: the dataset's facts (fps, LOSO).
      videos: sorted by subject then video id, including videos without intervals.
      skipped: (name, reason) for annotated intervals or folders not used.
      corrected: (interval name, what was changed) for every annotation quirk fixed.
    """

    spec: DatasetSpec
    videos: list[LongVideo]
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    corrected: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def type_counts(self) -> dict[str, int]:
        counts = collections.Counter(i.type for v in self.videos for i in v.intervals)
        return {t: counts.get(t, 0) for t in TYPES}

    def subjects(self) -> list[str]:
        return sorted({v.subject for v in self.videos})

    def summary(self) -> str:
        """The counts a user compares with DATASETS_MORE.md."""
        counts = self.type_counts()
        frames = sum(v.num_frames for v in self.videos)
        empty = [v.video_id for v in self.videos if not v.intervals]
        lines = [f"{self.spec.name}: {len(self.videos)} videos, {len(self.subjects())} subjects, "
                 f"{frames} frames; intervals: ME {counts['me']}, MaE {counts['mae']}"]
        if empty:
            lines.append(f"videos without intervals: {', '.join(empty)}")
        for title, entries in (("corrected", self.corrected), ("not used", self.skipped)):
            if entries:
                lines.append(f"{len(entries)} {title}:")
                lines.extend(f"  {name}: {why}" for name, why in entries)
        lines.extend(base.holes_summary("videos", ((v.name, v.frames) for v in self.videos)))
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class SpottingFacts:
    """MEGC spotting settings of one dataset (DATASETS_MORE.md C).

    Attributes:
      k: per type, the window k = int((N + 1) / 2), N the mean annotated
        offset - onset (SoftNet's cal_k), frames.
      me_frames: (shortest, longest) length of a predicted ME, frames inclusive;
        longer predictions are MaE (the organisers' baseline filters).
    """

    k: dict[str, int]
    me_frames: tuple[int, int]


SPOTTING_FACTS = {
    "casme_sq": SpottingFacts(k={"me": 6, "mae": 18}, me_frames=(7, 16)),
    "samm_lv": SpottingFacts(k={"me": 37, "mae": 174}, me_frames=(47, 105)),
}

# For other frame rates (people's recordings, synthetic data): CAS(ME)^2's facts in
# seconds, k ME 0.2 s and MaE 0.6 s, ME 0.23-0.53 s; SAMM's in seconds are close
# (0.185 s, 0.87 s, 0.24-0.53 s), so the shorter CAS(ME)^2 MaE window is kept: it
# separates expressions that follow each other closely.
_SECONDS = {"k": {"me": 6 / 30, "mae": 18 / 30}, "me_frames": (7 / 30, 16 / 30)}


def spotting_facts(dataset: str | None, fps: float) -> SpottingFacts:
    """The dataset's facts, or those of CAS(ME)^2 in seconds scaled to `fps`."""
    if dataset in SPOTTING_FACTS:
        return SPOTTING_FACTS[dataset]
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    k = {t: max(1, round(s * fps)) for t, s in _SECONDS["k"].items()}
    low, high = (max(1, round(s * fps)) for s in _SECONDS["me_frames"])
    return SpottingFacts(k=k, me_frames=(low, high))


def sheet_rows(path: str, sheet: str) -> list[tuple]:
    """All rows of the named sheet of an .xlsx workbook, as cell values.

    Raises:
      ValueError: the file is missing or has no such sheet (the error lists its sheets).
    """
    if not os.path.isfile(path):
        raise ValueError(f"workbook {path!r} does not exist")
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet not in book.sheetnames:
            raise ValueError(f"{path}: no sheet {sheet!r}; it has {book.sheetnames}")
        return list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()


def video_frames(folder: str) -> tuple[tuple[str | None, ...], int] | str:
    """A long video's frames on its folder's numbering (`base.numbered_frames`,
    step 1: None where a number is skipped) and the number of its first frame,
    or why the folder cannot be used: no frames, two files of one number, or
    numbers too sparse to be one recording."""
    try:
        frames, _ = base.numbered_frames(folder, base.DATASET_STEP)
    except base.FrameListError as err:
        return str(err)
    if not frames:
        return "no image frames"
    return tuple(frames), base.frame_number(frames[0])


def fit_to_video(interval: Interval, video: LongVideo) -> tuple[Interval, list[str]]:
    """The interval clipped to the video's frames, and what was changed.

    Annotations begin before the first frame (SAMM-LV onsets 0: the movement had
    begun when recording started) or end after the last (SAMM-LV 012_4_1 ends at
    1525 of 1000 frames): the frames that exist are what a spotter can find.
    """
    first, last = video.first_frame, video.first_frame + video.num_frames - 1
    notes = []
    onset, offset = interval.onset, interval.offset
    if onset < first:
        notes.append(f"onset {onset} before the first frame: {first}")
        onset = first
    if offset > last:
        notes.append(f"offset {offset} after the last frame: {last}")
        offset = last
    return dataclasses.replace(interval, onset=onset, offset=offset), notes
