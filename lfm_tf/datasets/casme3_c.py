"""CAS(ME)^3 Part C reader: the mock-crime micro-expressions (`--dataset=casme3_c`).

Facts from DATASETS_MORE.md section D (the release's `CAS(ME)3_part_C_ME.xlsx` and
MEB, tvaranka/meb):
- Sheet `mockCrimeME`, header `sub | count | onset | offset | au | emotion`:
  165 micro-expressions of 30 subjects. There is no apex column: Clip.apex stays
  unknown (MEB takes the midpoint; our maps do not need an apex). AUs are
  comma-separated, once with a full-width comma; they are not read.
- 30 fps (T = 1); the label sets are Part A's (casme3.LABEL_SETS), default class4.

Assumptions (unverified: no public source shows Part C's frames; each easy to
change here): the tree is a `part_C/` folder or the folder passed, laid out as
Part A, `{sub}/{count}/color/{n}.jpg` with n the sheet's frame numbers (MEB reads
`{sub:02d}/{count}/color/`). Subject folders are matched by number (`1`, `01`),
as `sub` is a number cell; emotions are lower-cased like Part A's, and a cell
outside the label set is reported by name.
"""

from __future__ import annotations

import os
import re

from lfm_tf.datasets import base, casme3
from lfm_tf.datasets.base import ReadResult

TREE_NAMES = ("part_C",)
SUBJECT = re.compile(r"\d+")
CODING_PATTERN = "CAS(ME)3_part_C_ME*.xlsx"
SHEET = "mockCrimeME"
COLUMNS = ("sub", "count", "onset", "offset", "emotion")


def find_tree(data_dir: str | None) -> str:
    """The tree: `data_dir` itself or a part_C/ folder in it or a level down."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: casme3.has_color_videos(d, SUBJECT),
        "CAS(ME)^3 Part C subject folders (01/1/color/1.jpg)")


def subject_folder(tree: str, sub: object) -> str:
    """The folder of subject `sub` (a number cell): `1` or `01` as on disk, else `01`."""
    text = base.cell_text(sub)
    if not text.isdigit():
        raise ValueError(f"CAS(ME)^3 Part C: {sub!r} is not a subject number")
    for name in base.subfolders(tree):
        if SUBJECT.fullmatch(name) and int(name) == int(text):
            return name
    return f"{int(text):02d}"


def read_annotations(coding_file: str, tree: str
                     ) -> tuple[dict[base.Key, base.Annotation], list[tuple[str, str]]]:
    """Annotations keyed by (subject folder, count), emotions lower-cased, no apex,
    and the rows that name no clip (`base.incomplete_rows`)."""
    notes: dict[base.Key, base.Annotation] = {}
    rows = base.read_table(coding_file, COLUMNS, marker="count", sheet=SHEET)
    for number, cell in rows:
        count = base.cell_text(cell["count"])
        if not count:
            continue
        key = (subject_folder(tree, cell["sub"]), count)
        if key in notes:
            raise ValueError(f"{coding_file}, row {number}: {key} is annotated twice")
        notes[key] = base.Annotation(base.cell_text(cell["emotion"]).lower(),
                                     base.optional_frame(cell["onset"]), None,
                                     base.optional_frame(cell["offset"]))
    return notes, base.incomplete_rows(rows, ("count",), "casme3_c", coding_file)


def read(data_dir: str | None, coding_file: str | None = None,
         label_set: str = casme3.DEFAULT_LABEL_SET) -> ReadResult:
    """Reads CAS(ME)^3 Part C's 165 micro-expressions.

    Args:
      data_dir: the part_C tree, or a folder holding it and the workbook.
      coding_file: the workbook, if it is not beside the tree.
      label_set: "class4" (default), "emotion7" or "megc3" (casme3.LABEL_SETS).

    Raises:
      ValueError: no tree, no workbook, no `mockCrimeME` sheet or a header without
        the documented columns.
    """
    spec, mapping = casme3.label_set_spec("casme3_c", label_set)
    tree = find_tree(data_dir)
    coding_file = coding_file or base.find_spreadsheet(CODING_PATTERN, data_dir, tree)
    if coding_file is None:
        raise ValueError(f"CAS(ME)^3 Part C: no {CODING_PATTERN} in {data_dir!r} or beside "
                         f"{tree!r}; pass --coding_file")
    notes, unnamed = read_annotations(coding_file, tree)
    on_disk = {key: os.path.join(path, casme3.COLOR)
               for key, path in base.clip_folders(tree, SUBJECT).items()}
    clips, skipped = base.annotated_clips(
        "casme3_c", spec.classes, notes, on_disk, spec.fps, relabel=mapping,
        unannotated=f"clip folder not in {os.path.basename(coding_file)}",
        source=casme3.interval_source(notes))
    return ReadResult(spec, clips, unnamed + skipped)
