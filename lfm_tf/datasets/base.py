"""What every dataset reader returns, and the helpers they share.

A reader turns a dataset folder, as its users unpack it, into a `ReadResult`: the
clips it found (subject, clip id, label, frames in numeric order, annotated
onset/apex/offset) and, by name, everything it could not use and why. Nothing is
dropped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
import re
import zipfile
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

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


# ---------------------------------------------------------------- pairing
# Every dataset keeps one folder per subject and one per clip in it, and every reader
# must name what it cannot pair, so finding a tree, listing its clip folders and
# pairing them with the annotations are written once, here.

Key = tuple[str, str]
"""(subject, clip id) as spelled on disk."""


class Annotation(NamedTuple):
    """What an annotation table says about one clip: its class and annotated frame numbers."""

    label: str
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None


def subfolders(path: str) -> list[str]:
    """Names of the folders directly in `path`, sorted; hidden ones (.DS_Store, ...) left out."""
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path)
                  if not n.startswith(".") and os.path.isdir(os.path.join(path, n)))


def find_tree(data_dir: str | None, names: Sequence[str],
              looks_like: Callable[[str], bool], expected: str) -> str:
    """The dataset tree: `data_dir` itself, or a folder named one of `names` in it or a level down.

    Users point at the folder they unpacked, which is either the tree or a folder
    that holds it next to its spreadsheet (or next to the other datasets).
    """
    if not data_dir or not os.path.isdir(data_dir):
        raise ValueError(f"data_dir {data_dir!r} is not an existing folder; expected {expected}")
    parents = [data_dir] + [os.path.join(data_dir, n) for n in subfolders(data_dir)]
    candidates = [data_dir] + [os.path.join(p, n) for p in parents for n in names]
    for candidate in candidates:
        if os.path.isdir(candidate) and looks_like(candidate):
            return candidate
    raise ValueError(f"{data_dir!r} does not look like the dataset: expected {expected}, in it, "
                     f"in a folder named {' or '.join(names)} or one level below")


def clip_folders(tree: str, subject: re.Pattern[str]) -> dict[Key, str]:
    """Every `<tree>/<subject>/<clip>/` folder whose subject name matches `subject`."""
    return {(s, c): os.path.join(tree, s, c)
            for s in subfolders(tree) if subject.fullmatch(s)
            for c in subfolders(os.path.join(tree, s))}


def frames_source(key: Key, folder: str) -> dict[str, object] | str:
    """A clip's image frames in numeric order, or why there are none."""
    frames = list_images(folder)
    return {"frames": tuple(frames)} if frames else f"no image frames in {folder}"


def annotated_clips(
    dataset: str, classes: Sequence[str], annotated: Mapping[Key, Annotation],
    on_disk: Mapping[Key, str], fps: float | None, *,
    relabel: Mapping[str, str] | None = None,
    unannotated: str = "clip folder has no annotation row",
    source: Callable[[Key, str], dict[str, object] | str] = frames_source,
) -> tuple[list[Clip], list[tuple[str, str]]]:
    """Pairs annotations with what is on disk, and names everything left unpaired.

    Args:
      dataset: Clip.dataset, and the first part of each skipped name.
      classes: the class set; other labels (after `relabel`) are skipped with reason.
      annotated: annotation per (subject, clip), keyed in the on-disk spelling.
      on_disk: folder (or file) per (subject, clip) found on disk.
      fps: Clip.fps, unless `source` returns one.
      relabel: maps annotated labels to class names; unmapped labels are skipped.
      unannotated: the reason given for a clip on disk with no annotation.
      source: (key, path) -> Clip fields (frames=, video=, ...) or the reason for none.

    Returns:
      Clips sorted by (subject, clip id), and (name, reason) for all the rest.
    """
    clips, skipped = [], []
    for key in sorted(set(annotated) | set(on_disk)):
        name = f"{dataset}/{key[0]}/{key[1]}"
        if key not in on_disk:
            skipped.append((name, "annotated, but no clip folder on disk"))
            continue
        if key not in annotated:
            skipped.append((name, f"{unannotated}: {on_disk[key]}"))
            continue
        note = annotated[key]
        label = note.label if relabel is None else relabel.get(note.label)
        if label not in classes:
            skipped.append((name, f"class {note.label!r} is not one of {', '.join(classes)}"))
            continue
        found = source(key, on_disk[key])
        if isinstance(found, str):
            skipped.append((name, found))
            continue
        fields = {"fps": fps, "onset": note.onset, "apex": note.apex, "offset": note.offset}
        clips.append(Clip(dataset=dataset, subject=key[0], clip_id=key[1], label=label,
                          **{**fields, **found}))
    return clips, skipped


# ---------------------------------------------------------------- spreadsheets

# Columns every annotation sheet must have, as `_column_key` spells them.
_ANNOTATION_COLUMNS = ("subject", "filename", "onsetframe", "apexframe", "offsetframe",
                       "estimatedemotion")


def find_spreadsheet(pattern: str, data_dir: str, tree: str) -> str | None:
    """The newest file matching `pattern` in data_dir, else in the tree, else beside the tree.

    Release file names end in their date (CASME2-coding-20190701.xlsx), so the last
    in sorted order is the newest.
    """
    for path in dict.fromkeys([data_dir, tree, os.path.dirname(tree)]):
        found = sorted(glob.glob(os.path.join(glob.escape(path), pattern)))
        if found:
            return found[-1]
    return None


def read_annotation_sheet(path: str, subject: Callable[[object], Hashable]
                          ) -> dict[tuple[Hashable, str], Annotation]:
    """Annotation rows of a coding spreadsheet, keyed by (subject(cell), Filename).

    The header is found by its `Filename` cell, since releases differ in preamble
    rows; emotions are lower-cased ("Other" -> "other"); rows with no Filename
    (notes, blank lines) are not samples.
    """
    if path.lower().endswith(".xls"):
        raise ValueError(f"{path}: the old .xls format needs xlrd; convert it to .xlsx (e.g. "
                         "`soffice --headless --convert-to xlsx`) or pass --coding_file")
    if not os.path.isfile(path):
        raise ValueError(f"coding spreadsheet {path!r} does not exist")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError) as err:
        raise ValueError(f"{path} is not an Excel .xlsx workbook ({type(err).__name__}: "
                         f"{err}): pass the dataset's coding spreadsheet with --coding_file"
                         ) from None
    try:
        start = find_header_row(rows)
    except ValueError as error:
        raise ValueError(f"{path}: {error}; is this the coding spreadsheet?") from None
    header = [_column_key(cell) for cell in rows[start]]
    missing = [c for c in _ANNOTATION_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: header row {start + 1} lacks column(s) {missing}")
    annotations: dict[tuple[Hashable, str], Annotation] = {}
    for number, values in enumerate(rows[start + 1:], start=start + 2):
        cell = dict(zip(header, values))
        filename = str(cell["filename"] or "").strip()
        if not filename:
            continue
        key = (subject(cell["subject"]), filename)
        if key in annotations:
            raise ValueError(f"{path}, row {number}: {key} is annotated twice")
        annotations[key] = Annotation(
            str(cell["estimatedemotion"] or "").strip().lower(),
            optional_frame(cell["onsetframe"]), optional_frame(cell["apexframe"]),
            optional_frame(cell["offsetframe"]))
    return annotations


def _column_key(cell: object) -> str:
    """'Onset Frame' and 'OnsetFrame' -> 'onsetframe'."""
    return re.sub(r"\s+", "", str(cell)).lower() if cell is not None else ""
