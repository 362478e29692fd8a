"""MEGC 2019 composite dataset (SMIC-HS + CASME II + SAMM in 3 classes), from the official list.

Facts from DATASETS.md:
- Membership and labels come only from the official ground truth, shipped as package
  data `data/megc2019_combined_3class_gt.csv`: no header, rows
  `dataset,subject,filename,label`, label 0 negative, 1 positive, 2 surprise. Mapping
  CASME II emotions ourselves would not reproduce it (5 clips differ), so the
  readers' spreadsheets are not needed; when a CASME II or SAMM spreadsheet lies
  beside its tree, it adds onset/apex/offset.
- List names -> disk: SMIC `s01`/`s01_ne_01` -> `s1/micro/negative/s1_ne_01`; CASME II
  `sub01`/`EP02_01f` -> `sub01/EP02_01f` (or `01/`); SAMM `6`/`006_1_2` -> `006/006_1_2`.
- Counts: SMIC 70/51/43 = 164 (16 subjects); CASME II 88/32/25 = 145 (24); SAMM
  92/26/15 = 133 (28); all 250/109/83 = 442 clips of 68 subjects.

Clip.dataset is the source dataset and Clip.subject is f"{source}_{disk subject}"
("smic_s1", "casme2_sub01", "samm_006"), so that leave-one-subject-out folds never
join two datasets' subjects that share a number. Clip folders that are not in the
list are simply not members, and are not reported.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from importlib import resources

from lfm_tf.datasets import base, casme2, samm, smic
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import MEGC_CLASSES, SMIC_FPS, get_spec

OFFICIAL_LIST = "megc2019_combined_3class_gt.csv"

ListRow = tuple[str, str, str]
"""(subject, filename, class name) as the official list spells them."""
Located = tuple[str, str, str, base.Annotation]
"""(subject, clip id) on disk, the clip folder, and its annotation."""


def official_list() -> list[tuple[str, str, str, str]]:
    """The official list as (dataset, subject, filename, class name) rows, in file order."""
    text = resources.files("lfm_tf.datasets").joinpath("data", OFFICIAL_LIST).read_text("utf-8")
    return [(dataset, subject, filename, MEGC_CLASSES[int(label)])
            for dataset, subject, filename, label in csv.reader(text.splitlines())]


def read(data_dir: str | None = None, smic_dir: str | None = None,
         casme2_dir: str | None = None, samm_dir: str | None = None) -> ReadResult:
    """Reads the 442 clips of the official list from the three datasets' trees.

    Args:
      data_dir: a folder holding the three trees, each as its own reader accepts it
        (SMIC_all_cropped/, CASME2_RAW_selected/ or a folder holding it, SAMM/).
      smic_dir, casme2_dir, samm_dir: each tree separately; each wins over data_dir.
    """
    dirs = {"smic": smic_dir, "casme2": casme2_dir, "samm": samm_dir}
    rows = official_list()
    clips, skipped = [], []
    for dataset, (locate, fps) in _SOURCES.items():
        where = dirs[dataset] or data_dir
        if where is None:
            raise ValueError(f"composite: pass data_dir (a folder holding SMIC, CASME II and "
                             f"SAMM) or {dataset}_dir")
        mine = [(subject, filename, label) for source, subject, filename, label in rows
                if source == dataset]
        annotated, on_disk = {}, {}
        for subject, clip_id, path, note in locate(where, mine):
            key = (f"{dataset}_{subject}", clip_id)
            annotated[key], on_disk[key] = note, path
        found, missed = base.annotated_clips(dataset, MEGC_CLASSES, annotated, on_disk, fps)
        clips += found
        skipped += missed
    clips.sort(key=lambda c: (c.subject, c.clip_id))
    return ReadResult(get_spec("composite"), clips, skipped)


def _smic(data_dir: str, rows: list[ListRow]) -> Iterator[Located]:
    tree = smic.find_tree(data_dir, "HS")
    for subject, filename, label in rows:
        subject, clip_id = smic.disk_name(subject), smic.disk_name(filename)
        path = smic.clip_folder(tree, subject, label, clip_id)
        yield subject, clip_id, path, base.Annotation(label)


def _casme2(data_dir: str, rows: list[ListRow]) -> Iterator[Located]:
    tree = casme2.find_tree(data_dir)
    coding_file = casme2.find_coding_file(data_dir, tree)
    notes = casme2.read_annotations(coding_file) if coding_file else {}
    for subject, clip_id, label in rows:
        note = notes.get((casme2.subject_number(subject), clip_id))
        disk = casme2.subject_folder(tree, subject)
        yield disk, clip_id, os.path.join(tree, disk, clip_id), _relabelled(note, label)


def _samm(data_dir: str, rows: list[ListRow]) -> Iterator[Located]:
    tree = samm.find_tree(data_dir)
    coding_file = samm.find_coding_file(data_dir, tree)
    notes = samm.read_annotations(coding_file) if coding_file else {}
    for subject, clip_id, label in rows:
        disk = samm.subject_folder(subject)
        note = notes.get((disk, clip_id))
        yield disk, clip_id, os.path.join(tree, disk, clip_id), _relabelled(note, label)


def _relabelled(note: base.Annotation | None, label: str) -> base.Annotation:
    """The list's label with the spreadsheet's frame numbers, where it has the clip."""
    return base.Annotation(label) if note is None else note._replace(label=label)


# Per source: where its list rows are on disk, and its frame rate (SMIC: the HS camera).
_SOURCES: dict[str, tuple[Callable[[str, list[ListRow]], Iterator[Located]], float | None]] = {
    "smic": (_smic, SMIC_FPS["HS"]),
    "casme2": (_casme2, get_spec("casme2").fps),
    "samm": (_samm, get_spec("samm").fps),
}
