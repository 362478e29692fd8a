"""4DME reader: the grey 2-D micro-expression sequences and their labelling sheet.

Facts from DATASETS_MORE.md section D (MEB, tvaranka/meb, is the one public loader):
- Workbook `4DME_Labelling_Micro_release v1.xlsx`; the columns read are `sub_ID,
  fold_name, Emotion, Onset, Apex, Offset` (`AUs` too, which we do not read, so
  MEB's swap of rows 144/145's AU cells and its `(k)` AU marks do not matter here).
  267 samples.
- Frames: `gray_micro/{sub_ID}/{fold_name}/` (or the cropped `gray_micro_crop/`).

Assumptions (unverified, each easy to change here): frame files are numbered
images (any prefix + digits, in numeric order) and a clip is its whole folder, as
for CASME II; `sub_ID` names its folder as written (a number cell 3 -> `3`); the
header row is found by its `fold_name` cell; Emotion cells, lower-cased, are one of
specs.FOURD_ME_CLASSES (a combined or other label is reported by name, not
guessed); 60 fps, so T = 2. Label sets: `emotion5` (default) and `megc3`
(negative, positive, surprise; repression and others dropped).
"""

from __future__ import annotations

import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import FOURD_ME_CLASSES, MEGC_CLASSES

TREE_NAMES = ("gray_micro", "gray_micro_crop")
SUBJECT = re.compile(r".+")
CODING_PATTERN = "4DME_Labelling_Micro_release*.xlsx"
COLUMNS = ("sub_id", "fold_name", "emotion", "onset", "apex", "offset")
LABEL_SETS = {
    "emotion5": (FOURD_ME_CLASSES, None),
    "megc3": (MEGC_CLASSES, {c: c for c in MEGC_CLASSES}),
}
DEFAULT_LABEL_SET = "emotion5"


def find_tree(data_dir: str | None) -> str:
    """gray_micro/ (else gray_micro_crop/): `data_dir` itself, or in it or a level down.

    The folder name is required: any folder of folders would look like this tree.
    """
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: os.path.basename(os.path.normpath(d)) in TREE_NAMES
        and bool(base.clip_folders(d, SUBJECT)),
        "4DME's gray_micro/{sub_ID}/{fold_name}/ frames")


def read_annotations(coding_file: str
                     ) -> tuple[dict[base.Key, base.Annotation], list[tuple[str, str]]]:
    """Annotations keyed by (sub_ID, fold_name) as written, emotions lower-cased,
    and the rows that name no clip (`base.incomplete_rows`)."""
    notes: dict[base.Key, base.Annotation] = {}
    rows = base.read_table(coding_file, COLUMNS, marker="fold_name")
    for number, cell in rows:
        key = (base.cell_text(cell["sub_id"]), base.cell_text(cell["fold_name"]))
        if not all(key):
            continue
        if key in notes:
            raise ValueError(f"{coding_file}, row {number}: {key} is annotated twice")
        notes[key] = base.Annotation(
            base.cell_text(cell["emotion"]).lower(), base.optional_frame(cell["onset"]),
            base.optional_frame(cell["apex"]), base.optional_frame(cell["offset"]))
    return notes, base.incomplete_rows(rows, ("sub_id", "fold_name"), "fourd_me", coding_file)


def read(data_dir: str | None, coding_file: str | None = None,
         label_set: str = DEFAULT_LABEL_SET) -> ReadResult:
    """Reads 4DME's 267 micro-expressions.

    Args:
      data_dir: gray_micro/ (or gray_micro_crop/), or a folder holding it and the sheet.
      coding_file: the sheet, if it is not beside the tree.
      label_set: "emotion5" (default) or "megc3".

    Raises:
      ValueError: no tree, no sheet, or a header without the documented columns.
    """
    spec, mapping = base.label_set_spec("4DME", "fourd_me", LABEL_SETS, label_set)
    tree = find_tree(data_dir)
    coding_file = coding_file or base.find_spreadsheet(CODING_PATTERN, data_dir, tree)
    if coding_file is None:
        raise ValueError(f"4DME: no {CODING_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    notes, unnamed = read_annotations(coding_file)
    clips, skipped = base.annotated_clips(
        "fourd_me", spec.classes, notes, base.clip_folders(tree, SUBJECT), spec.fps,
        relabel=mapping, unannotated=f"clip folder not in {os.path.basename(coding_file)}")
    return ReadResult(spec, clips, unnamed + skipped)
