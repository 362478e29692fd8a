"""MMEW reader: micro-expression folders filed by emotion, and their sheet.

Facts from DATASETS_MORE.md section D (MEB, tvaranka/meb, is the one public loader):
- Workbook `MMEW_Micro_Exp.xlsx`, columns `Subject, Filename, OnsetFrame,
  ApexFrame, OffsetFrame, Action Units, Estimated Emotion, remarks` (their order is
  unverified: columns are found by name, the header by its `Filename` cell). 300
  samples. 16 apex/offset cells are wrong: CORRECTIONS, from MEB, each reported.
- Frames: `Micro_Expression/{Estimated Emotion}/{Filename}/{n}.jpg`, n from 1. There
  is no subject level on disk: a clip's subject comes from the sheet.
- 90 fps per one public config, so T = 4 (resolution unverified).
- `others` is a class of its own (MEB renames it `repression`; we keep the
  release's word). Label sets: `emotion7` (default: specs.MMEW_CLASSES) and
  `megc3` (happiness -> positive, surprise, anger/disgust/fear/sadness ->
  negative; others dropped).

Assumptions (unverified, easy to change here): emotion cells and folders are the
lower-case words of specs.MMEW_CLASSES (folders are matched ignoring case); a
clip filed under another emotion than its row's is reported, not read; MEB's
fixes are by row position, and which cells they replace is not documented, so
they apply to whatever the cells hold, each reported with the value it replaced.
"""

from __future__ import annotations

import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.base import Correction, ReadResult
from lfm_tf.datasets.specs import MEGC_CLASSES, MMEW_CLASSES

TREE_NAMES = ("Micro_Expression",)
CODING_PATTERN = "MMEW_Micro_Exp*.xlsx"
ANY = re.compile(r".+")
COLUMNS = ("subject", "filename", "onsetframe", "apexframe", "offsetframe",
           "estimatedemotion")
MEGC3_MAPPING = {"happiness": "positive", "surprise": "surprise", "anger": "negative",
                 "disgust": "negative", "fear": "negative", "sadness": "negative"}
LABEL_SETS = {
    "emotion7": (MMEW_CLASSES, None),
    "megc3": (MEGC_CLASSES, MEGC3_MAPPING),
}
DEFAULT_LABEL_SET = "emotion7"

_MEB = "tvaranka/meb meb/datasets/datasets.py MMEW: incorrect apex and offset"
# (0-based data row, apex, offset), MEB's estimates.
_MEB_FIXES = ((33, 40, 75), (35, 15, 54), (36, 46, 59), (37, 20, 98), (38, 25, 80),
              (39, 20, 93), (40, 23, 58), (41, 28, 61), (42, 32, 68), (142, 56, 88),
              (143, 32, 80), (145, 27, 85), (146, 22, 61), (148, 29, 108), (154, 31, 72),
              (156, 38, 106))
CORRECTIONS = tuple(Correction(row, column, None, value, _MEB)
                    for row, apex, offset in _MEB_FIXES
                    for column, value in (("apexframe", apex), ("offsetframe", offset)))


def find_tree(data_dir: str | None) -> str:
    """Micro_Expression/: `data_dir` itself, or in it or a level down."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: os.path.basename(os.path.normpath(d)) in TREE_NAMES,
        "MMEW's Micro_Expression/{emotion}/{Filename}/1.jpg")


def clip_folders(tree: str) -> dict[str, str]:
    """Each `<tree>/<emotion>/<Filename>/` folder, by Filename."""
    found: dict[str, str] = {}
    for (emotion, filename), path in base.clip_folders(tree, ANY).items():
        if filename in found:
            raise ValueError(f"MMEW: clip {filename} is in two emotion folders: "
                             f"{found[filename]} and {path}")
        found[filename] = path
    return found


def read_annotations(coding_file: str) -> tuple[dict[str, tuple[str, base.Annotation]],
                                                list[tuple[str, str]], list[tuple[str, str]]]:
    """{Filename: (Subject, annotation)} with CORRECTIONS applied, what they did, and
    the rows that name no clip (`base.incomplete_rows`)."""
    rows = base.read_table(coding_file, COLUMNS)
    corrections = base.apply_corrections(
        rows, CORRECTIONS, lambda k: f"mmew/{base.cell_text(rows[k][1]['subject'])}/"
                                     f"{base.cell_text(rows[k][1]['filename'])}")
    notes: dict[str, tuple[str, base.Annotation]] = {}
    for number, cell in rows:
        filename = base.cell_text(cell["filename"])
        if not filename:
            continue
        if filename in notes:
            raise ValueError(f"{coding_file}, row {number}: {filename} is annotated twice")
        notes[filename] = (base.cell_text(cell["subject"]), base.Annotation(
            base.cell_text(cell["estimatedemotion"]).lower(),
            base.optional_frame(cell["onsetframe"]), base.optional_frame(cell["apexframe"]),
            base.optional_frame(cell["offsetframe"])))
    return notes, corrections, base.incomplete_rows(rows, ("filename",), "mmew",
                                                    coding_file)


def read(data_dir: str | None, coding_file: str | None = None,
         label_set: str = DEFAULT_LABEL_SET) -> ReadResult:
    """Reads MMEW's 300 micro-expressions.

    Args:
      data_dir: Micro_Expression/, or a folder holding it and the workbook.
      coding_file: the workbook, if it is not beside the tree.
      label_set: "emotion7" (default, others kept) or "megc3".

    Raises:
      ValueError: no tree or workbook, a header without the documented columns, a
        Filename annotated twice or filed under two emotions.
    """
    spec, mapping = base.label_set_spec("MMEW", "mmew", LABEL_SETS, label_set)
    tree = find_tree(data_dir)
    coding_file = coding_file or base.find_spreadsheet(CODING_PATTERN, data_dir, tree)
    if coding_file is None:
        raise ValueError(f"MMEW: no {CODING_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    notes, corrections, unnamed = read_annotations(coding_file)
    annotated = {(subject, filename): note for filename, (subject, note) in notes.items()}
    # Folders the sheet does not name have no subject: their emotion folder stands in.
    on_disk = {(notes[f][0] if f in notes else os.path.basename(os.path.dirname(path)), f): path
               for f, path in clip_folders(tree).items()}

    def source(key: base.Key, folder: str) -> dict[str, object] | str:
        filed, emotion = os.path.basename(os.path.dirname(folder)), annotated[key].label
        if filed.lower() != emotion:
            return f"filed under {filed}/, but the sheet says {emotion!r}"
        return base.frames_source(key, folder)

    clips, skipped = base.annotated_clips(
        "mmew", spec.classes, annotated, on_disk, spec.fps, relabel=mapping,
        unannotated=f"clip folder not in {os.path.basename(coding_file)}", source=source)
    return ReadResult(spec, clips, unnamed + skipped, corrections)
