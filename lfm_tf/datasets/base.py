"""What every dataset reader returns, and the helpers they share.

A reader turns a dataset folder, as its users unpack it, into a `ReadResult`: the
clips it found (subject, clip id, label, frames in numeric order, annotated
onset/apex/offset) and, by name, everything it could not use and why. Nothing is
dropped silently.

A folder's frames follow its numbering (`numbered_frames`, shared with people's
recordings): a number the folder skips is a frame without an image (None), so
that the frames after it keep their positions, their times and the annotation's
frame numbers.
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

from lfm_tf.datasets.specs import DatasetSpec, get_spec

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")
# A folder whose numbers span more than this many times its files is not one
# recording with frames missing (two takes numbered 1.. and 5000.., say): refused
# rather than read as thousands of empty frames.
MAX_NUMBERING_SPAN = 2
# The step of a dataset's frame numbering: its file numbers are frame numbers, the
# ones its annotations give (onset, apex, offset), one per frame.
DATASET_STEP = 1
# Files operating systems leave beside the frames: macOS's `._<name>` AppleDouble
# resource forks (which carry the image's name and extension) and `.DS_Store`,
# Windows' thumbnail caches and folder settings.
_OS_METADATA = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini"})


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is hidden or operating-system metadata
    (`.name`, `._name`, `Thumbs.db`, `desktop.ini`), never a frame or a clip."""
    return name.startswith(".") or name.lower() in _OS_METADATA


@dataclasses.dataclass(frozen=True)
class Clip:
    """One labelled expression clip, as a reader found it on disk.

    Exactly one source of pixels or landmarks is set: `frames` (image paths in
    numeric order), `video` (a video file), `landmark_files` (one landmark file
    per frame that ships with the dataset, e.g. CK+) or `landmarks` (an
    in-memory (N, 68, 2) track, e.g. synthetic data).

    frames: one path per frame, None where the folder's numbering skips a number
    (`numbered_frames`): such a frame is a frame without a face, so position k
    is always the k-th number of the numbering. `landmark_files` are None where
    `frames` are.

    Attributes:
      dataset: the dataset the clip comes from (for the composite, its source:
        "smic", "casme2", "samm", or another dataset of a membership list).
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
    frames: tuple[str | None, ...] = ()
    video: str | None = None
    landmark_files: tuple[str | None, ...] = ()
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
        """Frames known without decoding, the numbering's holes included; None for a video."""
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
      corrections: (name, what) for every annotation cell the reader changed
        from a documented table of known errors (`Correction`), or left as it
        is because the sheet did not hold the documented wrong value.
    """

    spec: DatasetSpec
    clips: list[Clip]
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    corrections: list[tuple[str, str]] = dataclasses.field(default_factory=list)

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
        if self.corrections:
            lines.append(f"{len(self.corrections)} known annotation errors, corrected where "
                         f"the sheet holds them:")
            lines.extend(f"  {name}: {what}" for name, what in self.corrections)
        if self.skipped:
            lines.append(f"{len(self.skipped)} samples not used:")
            lines.extend(f"  {name}: {reason}" for name, reason in self.skipped)
        lines.extend(holes_summary("clips", ((c.name, c.frames) for c in self.clips)))
        return "\n".join(lines)


def holes_summary(what: str, found: Iterable[tuple[str, Sequence[str | None]]]) -> list[str]:
    """Summary lines naming the clips or videos (`what`), given as (name, frames),
    whose frame folders skip numbers (`describe_holes`); [] where none does."""
    holes = [(name, note) for name, frames in found for note in [describe_holes(frames)] if note]
    if not holes:
        return []
    return ([f"{len(holes)} {what} used with frames missing from their folder's numbering:"]
            + [f"  {name}: {note}" for name, note in holes])


def frame_number(path: str) -> int:
    """The last number in a file name: 'reg_img46.jpg' -> 46, 'S005_001_00000011.png' -> 11."""
    match = _LAST_NUMBER.search(os.path.splitext(os.path.basename(path))[0])
    if match is None:
        raise ValueError(f"no frame number in file name {path!r}")
    return int(match.group(1))


def numeric_sort(paths: Iterable[str]) -> list[str]:
    """Sort frame files by the number in their name (img9 before img10), never lexically."""
    return sorted(paths, key=lambda p: (frame_number(p), p))


class FrameListError(ValueError):
    """A frame folder whose files do not make one frame sequence."""


def list_images(folder: str) -> list[str]:
    """Image files directly in `folder`, in numeric frame order; [] if it does not exist.

    This is the one place frames are listed: hidden and operating-system files
    (`is_hidden`) are left out, and so is anything that is not a file.

    Raises:
      FrameListError: two files carry the same frame number (`12.jpg` and
        `12 (copy).jpg`, or `13.jpg` and `13.jpeg`): which one is the frame
        cannot be told, and taking both would put a frame in twice.
    """
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(IMAGE_EXTENSIONS) and _LAST_NUMBER.search(n)
             and not is_hidden(n) and os.path.isfile(os.path.join(folder, n))]
    paths = numeric_sort(os.path.join(folder, n) for n in names)
    numbers = [frame_number(p) for p in paths]
    twice = sorted({n for a, n in zip(numbers, numbers[1:]) if a == n})
    if twice:
        same = [os.path.basename(p) for p, n in zip(paths, numbers) if n == twice[0]]
        raise FrameListError(f"{folder}: {len(twice)} frame numbers are on more than one file "
                             f"(frame {twice[0]}: {', '.join(same)}): remove the copies")
    return paths


class NumberingError(FrameListError):
    """A frame folder whose numbers would make far more frames than it has files."""


def number_frames(paths: Sequence[str], where: str, first: int | None = None,
                  last: int | None = None, step: int | None = None) -> list[str | None]:
    """A folder's frames on its numbering: one path per frame, None where the
    numbering skips a number.

    Frame 0 is the first file (of `list_images`), whatever its number (img000,
    img001, img100); frame k is the file numbered k steps after it, the step
    being the one the numbers advance by (the greatest common divisor of their
    differences: 1 for img001, img002, ...; 10 for img000, img010, ...). A
    number the folder skips (a file deleted, or never written) is a frame
    without a face, None, so that the frames after it keep their times.

    Args:
      paths: the folder's frame files, `list_images(where)`.
      where: the folder, for messages.
      first, last: only the frames numbered first..last (inclusive), on the
        whole folder's numbering: a clip cut from a long recording by its
        annotated frame numbers; frame 0 is then the first number of the
        numbering at or after `first`, present or not.
      step: the numbering's step; None reads it off the numbers, as people's
        folders need (every 10th frame exported). A dataset's file numbers are
        its frame numbers, which its annotations count (DATASET_STEP): there a
        folder holding only 9.jpg and 11.jpg skips 10, whatever the gcd says.

    Returns:
      The frames; [] where no file lies in the range (or `paths` is empty).

    Raises:
      NumberingError: the whole folder's numbers (no `first` or `last`) would
        make more than `MAX_NUMBERING_SPAN` times as many frames as there are
        files (naming the largest hole). A range is not refused: its span is the
        annotation's, within the folder's, and holes longer than a tracker
        bridges make the clip one without a face (`landmarks.fill_gaps`).
    """
    if not paths:
        return []
    numbers = np.array([frame_number(p) for p in paths])
    if step is None:
        step = int(np.gcd.reduce(np.diff(numbers))) if len(numbers) > 1 else 1
    places = (numbers - numbers[0]) // step
    low = 0 if first is None else max(0, -(-(first - int(numbers[0])) // step))
    high = int(places[-1]) if last is None else min(int(places[-1]),
                                                    (last - int(numbers[0])) // step)
    inside = np.flatnonzero((places >= low) & (places <= high))
    if not inside.size:
        return []
    count = high - low + 1
    if first is None and last is None and count > MAX_NUMBERING_SPAN * len(paths):
        gaps = np.diff(numbers)
        widest = int(np.argmax(gaps))
        raise NumberingError(
            f"{where}: frame numbers {numbers[0]} to {numbers[-1]} over {len(paths)} files: "
            f"{count} frames, most of them missing (the largest hole: "
            f"{gaps[widest] // step - 1} frames between {os.path.basename(paths[widest])} and "
            f"{os.path.basename(paths[widest + 1])}); is this one recording? Put each in a "
            f"folder of its own")
    frames: list[str | None] = [None] * count
    for k in inside:
        frames[places[k] - low] = paths[k]
    return frames


def numbered_frames(folder: str, step: int | None = None
                    ) -> tuple[list[str | None], str | None]:
    """The frames of a folder of numbered frames (`number_frames` on `list_images`,
    `step` as there), one path per frame and None where its numbering skips a
    number, and a note naming those numbers (`describe_holes`; None where it
    skips none).

    The one place a folder's frames are numbered: the dataset readers (with
    `DATASET_STEP`) and people's recordings (`recordings.frame_files`) both read
    folders this way. [] for a folder without frames.

    Raises:
      FrameListError: two files of one number (`list_images`), or a folder whose
        numbers are too sparse to be one recording (`NumberingError`).
    """
    frames = number_frames(list_images(folder), folder, step=step)
    return frames, describe_holes(frames)


def frame_numbers(frames: Sequence[str | None]) -> list[int]:
    """The file-name number of every frame of a numbered sequence (`number_frames`),
    a hole's being the number its file would carry: the numbering's step is
    read off the first and last frames present (1 when only one is)."""
    present = [k for k, f in enumerate(frames) if f is not None]
    if not present:
        raise ValueError("no frame file among the frames: their numbers are unknown")
    i, j = present[0], present[-1]
    start = frame_number(frames[i])
    step = (frame_number(frames[j]) - start) // (j - i) if j > i else 1
    return [start + (k - i) * step for k in range(len(frames))]


def describe_holes(frames: Sequence[str | None], shown: int = 3) -> str | None:
    """One line naming the frames (0-based) a folder's numbering skips and their
    numbers: '1 frame(s) missing from the folder's numbering, counted as without a
    face: 3 (no file numbered 4)'; None where there is no hole."""
    if None not in frames:
        return None
    numbers = frame_numbers(frames)
    holes, start = [], None
    for k, frame in enumerate([*frames, ""]):
        if frame is None and start is None:
            start = k
        elif frame is not None and start is not None:
            holes.append((start, k - 1))
            start = None

    def numbered(a: int, b: int) -> str:
        return (f"{a} (no file numbered {numbers[a]})" if a == b
                else f"{a}-{b} (no files numbered {numbers[a]}-{numbers[b]})")

    named = "; ".join(numbered(a, b) for a, b in holes[:shown])
    more = f"; and {len(holes) - shown} more" if len(holes) > shown else ""
    missing = sum(b - a + 1 for a, b in holes)
    return (f"{missing} frame(s) missing from the folder's numbering, counted as without a "
            f"face: {named}{more}")


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


def cell_text(cell: object) -> str:
    """A spreadsheet cell as text: 'spNO.1' stays, a number cell 3 or 3.0 -> '3', blank -> ''."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else str(cell).strip()


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
    """Names of the folders directly in `path`, sorted; hidden ones (`is_hidden`) left out."""
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path)
                  if not is_hidden(n) and os.path.isdir(os.path.join(path, n)))


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
    """A clip's image frames on the folder's numbering (`numbered_frames`: None
    where it skips a number), or why there are none."""
    frames, _ = numbered_frames(folder, DATASET_STEP)
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
        try:
            found = source(key, on_disk[key])
        except FrameListError as err:
            found = str(err)
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


def read_table(path: str, columns: Sequence[str], marker: str = "Filename",
               sheet: str | None = None) -> list[tuple[int, dict[str, object]]]:
    """The rows below a spreadsheet's header row, as {column key: cell}.

    Column keys are the header cells lower-cased without spaces ('Onset Frame' ->
    'onsetframe'). The header is found by its `marker` cell, since releases differ
    in preamble rows.

    Args:
      path: an .xlsx workbook.
      columns: column keys the header must have.
      marker: a header cell that no preamble row holds.
      sheet: the sheet's name; None reads the first sheet.

    Returns:
      (1-based row number in the sheet, cells by column key) for every row below
      the header, blank ones included (trailing ones excepted). A row's position
      in this list is the 0-based data row that `Correction` names, which is
      MEB's pandas index on a sheet without blank rows.

    Raises:
      ValueError: an .xls file, no such file or sheet, no header row, or a header
        that lacks one of `columns`; each names the file.
    """
    if path.lower().endswith(".xls"):
        raise ValueError(f"{path}: the old .xls format needs xlrd; convert it to .xlsx (e.g. "
                         "`soffice --headless --convert-to xlsx`) or pass --coding_file")
    if not os.path.isfile(path):
        raise ValueError(f"coding spreadsheet {path!r} does not exist")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            if sheet is not None and sheet not in book.sheetnames:
                raise ValueError(f"{path}: no sheet {sheet!r}; it has {book.sheetnames}")
            worksheet = book[sheet] if sheet is not None else book.worksheets[0]
            rows = list(worksheet.iter_rows(values_only=True))
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError) as err:
        raise ValueError(f"{path} is not an Excel .xlsx workbook ({type(err).__name__}: "
                         f"{err}): pass the dataset's coding spreadsheet with --coding_file"
                         ) from None
    try:
        start = find_header_row(rows, marker)
    except ValueError as error:
        raise ValueError(f"{path}: {error}; is this the coding spreadsheet?") from None
    header = [_column_key(cell) for cell in rows[start]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{path}: header row {start + 1} lacks column(s) {missing}")
    # Read-only sheets can report trailing blank rows; they are no data rows.
    while len(rows) > start + 1 and not any(cell is not None for cell in rows[-1]):
        rows.pop()
    return [(number, dict(zip(header, values)))
            for number, values in enumerate(rows[start + 1:], start=start + 2)]


def read_annotation_sheet(path: str, subject: Callable[[object], Hashable]
                          ) -> dict[tuple[Hashable, str], Annotation]:
    """Annotation rows of a coding spreadsheet, keyed by (subject(cell), Filename).

    The header is found by its `Filename` cell, since releases differ in preamble
    rows; emotions are lower-cased ("Other" -> "other"); rows with no Filename
    (notes, blank lines) are not samples.
    """
    annotations: dict[tuple[Hashable, str], Annotation] = {}
    for number, cell in read_table(path, _ANNOTATION_COLUMNS):
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


class Correction(NamedTuple):
    """A known error in a release's annotation sheet and its fix.

    Attributes:
      row: 0-based data row below the header, as the source (a pandas loader) counts.
      column: the column key of the cell ("onset", "apexframe", ...).
      wrong: the value the sheet holds; None where the source does not say.
      right: the value to use.
      source: where the fix comes from (repository and file).
    """

    row: int
    column: str
    wrong: int | None
    right: int
    source: str


def label_set_spec(title: str, name: str, label_sets: Mapping[str, tuple[tuple[str, ...],
                                                                         Mapping[str, str]]],
                   label_set: str) -> tuple[DatasetSpec, Mapping[str, str]]:
    """Dataset `name`'s spec with the classes of `label_set`, and its label mapping.

    `label_sets`: label set -> (class names, annotated label -> class). Raises
    ValueError, titled `title`, for a label set the dataset does not have.
    """
    if label_set not in label_sets:
        raise ValueError(f"{title}: unknown label_set {label_set!r}; expected one of "
                         f"{sorted(label_sets)}")
    classes, mapping = label_sets[label_set]
    return dataclasses.replace(get_spec(name), classes=classes), mapping


def incomplete_rows(rows: list[tuple[int, dict[str, object]]], keys: Sequence[str],
                    dataset: str, path: str) -> list[tuple[str, str]]:
    """`ReadResult.skipped` entries for the rows of `read_table` that hold something
    but lack one of the `keys` cells that name their clip (a copy of the sheet with
    merged Subject cells, say): such a row cannot be paired with a clip, and is
    reported rather than dropped. Wholly blank rows are no rows."""
    skipped = []
    for number, cells in rows:
        if not any(cell_text(v) for v in cells.values()):
            continue
        lacking = [k for k in keys if not cell_text(cells.get(k))]
        if lacking:
            skipped.append((f"{dataset}/{os.path.basename(path)} row {number}",
                            f"no {' or '.join(lacking)} cell (merged cells in this copy?): the "
                            f"row names no clip; fill it in to use the row"))
    return skipped


def apply_corrections(rows: list[tuple[int, dict[str, object]]],
                      corrections: Iterable[Correction], name: Callable[[int], str]
                      ) -> list[tuple[str, str]]:
    """Applies a table of corrections to `read_table`'s rows in place.

    A correction whose `wrong` value is not in its cell (another release of the
    sheet) is not applied. Either way it is reported, never applied silently.

    Returns:
      (name(data row), what was done) per correction, for `ReadResult.corrections`;
      `name` gives the clip name of a 0-based data row.
    """
    notes = []
    for fix in corrections:
        if fix.row >= len(rows):
            notes.append((f"data row {fix.row}", f"{fix.column} not corrected to {fix.right}: "
                          f"the sheet has only {len(rows)} data rows ({fix.source})"))
            continue
        number, cells = rows[fix.row]
        found = optional_frame(cells.get(fix.column))
        if fix.wrong is not None and found != fix.wrong:
            notes.append((name(fix.row), f"row {number}: {fix.column} is {found}, not the known "
                          f"error {fix.wrong}; left as it is ({fix.source})"))
            continue
        cells[fix.column] = fix.right
        notes.append((name(fix.row), f"row {number}: {fix.column} {found} -> {fix.right} "
                      f"({fix.source})"))
    return notes


def _column_key(cell: object) -> str:
    """'Onset Frame' and 'OnsetFrame' -> 'onsetframe'."""
    return re.sub(r"\s+", "", str(cell)).lower() if cell is not None else ""
