"""CASME II reader: the frames tree and the coding spreadsheet, paired by name.

Facts from DATASETS.md:
- Frames: `CASME2_RAW_selected/sub01/EP02_01f/img46.jpg`, or the cropped release
  `Cropped/sub01/EP02_01f/reg_img46.jpg`; 200 fps. Some users' subject folders
  lack the `sub` prefix (`01/`), so both spellings are accepted.
- Coding spreadsheet `CASME2-coding-20140508.xlsx` or `-20190701.xlsx`; the older
  `CASME2_label_Ver_2.xls` needs xlrd, which we do not use. Columns: Subject |
  Filename | (blank) | OnsetFrame | ApexFrame | OffsetFrame | (blank) | Action Units
  | Estimated Emotion. The header row is found by its `Filename` cell; Subject is an
  integer 1..26; an apex cell may be blank or `/` (unknown, not an error).
- The paper's 5 classes drop fear and sadness: 246 clips from 26 subjects.

The coding spreadsheet is read by `base.read_annotation_sheet`, shared with SAMM,
whose sheet uses the same header names up to spaces.
"""

from __future__ import annotations

import dataclasses
import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import MEGC_CLASSES, get_spec

TREE_NAMES = ("CASME2_RAW_selected", "Cropped")
SUBJECT = re.compile(r"(?:sub)?(\d+)")
CODING_PATTERN = "CASME2-coding-*.xlsx"

# Cross-dataset setting of Table 7 (SMIC <-> CASME II in 3 classes), after Zhang et
# al. [46] as DATASETS.md gives it: happiness -> positive (32), surprise -> surprise
# (25), disgust + sadness + fear -> negative (about 73). Repression and others have
# no SMIC counterpart and are dropped, leaving about the paper's 130 clips.
CROSS3_MAPPING: dict[str, str] = {
    "happiness": "positive",
    "surprise": "surprise",
    "disgust": "negative",
    "sadness": "negative",
    "fear": "negative",
}
LABEL_SETS = ("paper5", "cross3")

def find_tree(data_dir: str | None) -> str:
    """The frames tree: `data_dir` itself or a CASME2_RAW_selected/ or Cropped/ folder in it."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: bool(base.clip_folders(d, SUBJECT)),
        "CASME II subject folders (sub01/EP02_01f/img46.jpg)")


def subject_number(subject: object) -> int:
    """1 for a Subject cell 1 and for folders `sub01`, `01`, `1`."""
    match = SUBJECT.fullmatch(str(subject).strip())
    if isinstance(subject, bool) or match is None:
        raise ValueError(f"CASME II: {subject!r} is not a subject (expected 1 or sub01)")
    return int(match.group(1))


def subject_folder(tree: str, subject: object) -> str:
    """The on-disk spelling of a subject (`sub01` or `01`); `sub01` when it is not on disk."""
    number = subject_number(subject)
    for name in base.subfolders(tree):
        if SUBJECT.fullmatch(name) and subject_number(name) == number:
            return name
    return f"sub{number:02d}"


def find_coding_file(data_dir: str, tree: str) -> str | None:
    """The newest CASME2-coding-*.xlsx in data_dir, the tree or the tree's parent."""
    return base.find_spreadsheet(CODING_PATTERN, data_dir, tree)


def read_annotations(coding_file: str) -> dict[tuple[int, str], base.Annotation]:
    """Annotations keyed by (subject number 1, Filename "EP02_01f")."""
    return base.read_annotation_sheet(coding_file, subject_number)


def read(data_dir: str | None, coding_file: str | None = None,
         label_set: str = "paper5") -> ReadResult:
    """Reads CASME II.

    Args:
      data_dir: the frames tree, or a folder holding it and the coding spreadsheet.
      coding_file: the spreadsheet, if it is not beside the tree.
      label_set: "paper5" (the paper's 5 classes; fear and sadness skipped) or
        "cross3" (CROSS3_MAPPING onto specs.MEGC_CLASSES for Table 7).
    """
    if label_set not in LABEL_SETS:
        raise ValueError(f"CASME II: unknown label_set {label_set!r}; expected one of {LABEL_SETS}")
    tree = find_tree(data_dir)
    # An old .xls found here goes on to read_annotation_sheet, which says to convert it.
    coding_file = (coding_file or find_coding_file(data_dir, tree)
                   or base.find_spreadsheet("CASME2*.xls", data_dir, tree))
    if coding_file is None:
        raise ValueError(f"CASME II: no {CODING_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    annotated = {(subject_folder(tree, n), clip): note
                 for (n, clip), note in read_annotations(coding_file).items()}
    spec = get_spec("casme2")
    relabel = None
    if label_set == "cross3":
        spec, relabel = dataclasses.replace(spec, classes=MEGC_CLASSES), CROSS3_MAPPING
    clips, skipped = base.annotated_clips(
        "casme2", spec.classes, annotated, base.clip_folders(tree, SUBJECT), spec.fps,
        relabel=relabel, unannotated=f"clip folder not in {os.path.basename(coding_file)}")
    return ReadResult(spec, clips, skipped)
