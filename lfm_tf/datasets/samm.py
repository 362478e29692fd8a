"""SAMM reader: the frames tree and the FACS coding spreadsheet, paired by name.

Facts from DATASETS.md:
- Frames: `SAMM/006/006_1_2/006_05562.jpg`, i.e. `{subject}/{clip}/{subject}_{frame:05d}.jpg`,
  greyscale, 200 fps.
- Spreadsheet `SAMM_Micro_FACS_Codes_v2.xlsx`: about 13 preamble rows, then the header
  (found by its `Filename` cell): Subject | Filename | Inducement Code | Onset Frame |
  Apex Frame | Offset Frame | Duration | Micro | Action Units | Estimated Emotion |
  Objective Classes | Notes.
- Subject is a 3-digit string (`006`); a sheet that stores it as the number 6 is read
  as "006", the folder name.
- 8 classes (specs), capitalised in the sheet ("Other" -> "other"): 159 clips, 29
  subjects.
"""

from __future__ import annotations

import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import get_spec

TREE_NAMES = ("SAMM",)
SUBJECT = re.compile(r"\d{3}")
CODING_PATTERN = "SAMM_Micro_FACS_Codes*.xlsx"


def find_tree(data_dir: str | None) -> str:
    """The frames tree: `data_dir` itself or a SAMM/ folder in it."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: bool(base.clip_folders(d, SUBJECT)),
        "SAMM subject folders (006/006_1_2/006_05562.jpg)")


def subject_folder(subject: object) -> str:
    """A subject as its folder is named: 6, "6" and "006" -> "006"."""
    text = str(subject).strip()
    if isinstance(subject, bool) or not text.isdigit():
        raise ValueError(f"SAMM: {subject!r} is not a subject (expected a number like 006)")
    return f"{int(text):03d}"


def find_coding_file(data_dir: str, tree: str) -> str | None:
    """SAMM_Micro_FACS_Codes*.xlsx in data_dir, the tree or the tree's parent."""
    return base.find_spreadsheet(CODING_PATTERN, data_dir, tree)


def read_annotations(coding_file: str) -> dict[tuple[str, str], base.Annotation]:
    """Annotations keyed by (subject folder "006", Filename "006_1_2")."""
    return base.read_annotation_sheet(coding_file, subject_folder)


def read(data_dir: str | None, coding_file: str | None = None) -> ReadResult:
    """Reads SAMM in its 8 classes.

    Args:
      data_dir: the SAMM/ tree, or a folder holding it and the spreadsheet.
      coding_file: the spreadsheet, if it is not beside the tree.
    """
    tree = find_tree(data_dir)
    coding_file = coding_file or find_coding_file(data_dir, tree)
    if coding_file is None:
        raise ValueError(f"SAMM: no {CODING_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    spec = get_spec("samm")
    clips, skipped = base.annotated_clips(
        "samm", spec.classes, read_annotations(coding_file), base.clip_folders(tree, SUBJECT),
        spec.fps, unannotated=f"clip folder not in {os.path.basename(coding_file)}")
    return ReadResult(spec, clips, skipped)
