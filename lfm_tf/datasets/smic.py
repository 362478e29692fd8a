"""SMIC reader: clips and labels from the folder tree alone.

Facts from DATASETS.md:
- Tree: `SMIC_all_cropped/HS/s1/micro/negative/s1_ne_01/reg_image036237.bmp` (or
  `SMIC_all_raw/`). Subject folders are not zero-padded (`s1`..`s20`); the
  `non_micro` folder next to `micro` holds no micro-expressions and is not read.
- Labels come only from the class folder (negative, positive, surprise); no
  annotation file ships, so onset/apex/offset are unknown.
- HS frames look like `reg_image036237.bmp`, VIS/NIR like `reg_06387.bmp`; raw
  prefixes are unverified, so any prefix + digits is a frame.
- HS at 100 fps, VIS and NIR at 25 (specs.SMIC_FPS); HS has 164 clips of 16 subjects.
"""

from __future__ import annotations

import dataclasses
import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import SMIC_FPS, get_spec

TREE_NAMES = ("SMIC_all_cropped", "SMIC_all_raw")
SUBJECT = re.compile(r"s\d+")
MICRO = "micro"


def find_tree(data_dir: str | None, modality: str = "HS") -> str:
    """The modality folder (`.../SMIC_all_cropped/HS`) of the release in or at `data_dir`.

    With both releases present the cropped one is used (it comes first in TREE_NAMES).
    """
    if modality not in SMIC_FPS:
        raise ValueError(f"SMIC: unknown modality {modality!r}; expected one of {sorted(SMIC_FPS)}")
    release = base.find_tree(data_dir, TREE_NAMES,
                               lambda d: os.path.isdir(os.path.join(d, modality)),
                               f"SMIC's {modality}/ folder (SMIC_all_cropped/{modality}/s1/micro/)")
    return os.path.join(release, modality)


def disk_name(name: str) -> str:
    """SMIC folder names are unpadded: 's01' -> 's1', 's01_ne_01' -> 's1_ne_01'."""
    return re.sub(r"^s0*(\d)", r"s\1", name)


def clip_folder(tree: str, subject: str, label: str, clip_id: str) -> str:
    """Where a clip's frames are: `<tree>/s1/micro/negative/s1_ne_01`."""
    return os.path.join(tree, subject, MICRO, label, clip_id)


def read(data_dir: str | None, modality: str = "HS") -> ReadResult:
    """Reads SMIC.

    Args:
      data_dir: `SMIC_all_cropped` or `SMIC_all_raw`, or a folder holding one.
      modality: camera, "HS" (the paper's), "VIS" or "NIR".
    """
    tree = find_tree(data_dir, modality)
    annotated: dict[base.Key, base.Annotation] = {}
    on_disk: dict[base.Key, str] = {}
    for subject in filter(SUBJECT.fullmatch, base.subfolders(tree)):
        for label in base.subfolders(os.path.join(tree, subject, MICRO)):
            for clip_id in base.subfolders(os.path.join(tree, subject, MICRO, label)):
                key = (subject, clip_id)
                if key in on_disk:
                    raise ValueError(f"SMIC: clip {clip_id} of {subject} is in two class "
                                     f"folders: {on_disk[key]} and {label}")
                annotated[key] = base.Annotation(label)
                on_disk[key] = clip_folder(tree, subject, label, clip_id)
    if not on_disk:
        raise ValueError(f"SMIC: no clip folders in {tree!r}; "
                         f"expected s1/{MICRO}/negative/s1_ne_01/")
    spec = dataclasses.replace(get_spec("smic"), fps=SMIC_FPS[modality])
    clips, skipped = base.annotated_clips("smic", spec.classes, annotated, on_disk, spec.fps)
    return ReadResult(spec, clips, skipped)
