"""A composite dataset in 3 classes from a membership list: by default the MEGC 2019
composite (SMIC-HS + CASME II + SAMM) from its official list.

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

Other composites are a setting, not code: `membership` names a CSV of the official
list's form whose rows may also name `casme3`, `casme3_c`, `fourd_me` and `mmew`
clips, as their readers name them (subject and clip id: `casme3,spNO.1,e2,0`), so
that CAS(ME)^3 pools with the others in 3 classes. Those datasets' clips are found
by their own readers, which read every emotion (READER_SOURCES); the list gives
the label.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Callable, Iterator
from importlib import resources

from lfm_tf import datasets
from lfm_tf.datasets import base, casme2, samm, smic
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import MEGC_CLASSES, SMIC_FPS, get_spec

OFFICIAL_LIST = "megc2019_combined_3class_gt.csv"

ListRow = tuple[str, str, str]
"""(subject, filename, class name) as the official list spells them."""
Located = tuple[str, str, str, base.Annotation]
"""(subject, clip id) on disk, the clip folder, and its annotation."""


MEMBERSHIP_COLUMNS = ("dataset", "subject", "filename", "label")
# Datasets whose clips the composite takes from their own reader, and the label set
# that keeps all their emotions (the membership list gives the class).
READER_SOURCES = {"casme3": "emotion7", "casme3_c": "emotion7", "fourd_me": "emotion5",
                  "mmew": "emotion7"}


def official_list() -> list[tuple[str, str, str, str]]:
    """The official list as (dataset, subject, filename, class name) rows, in file order."""
    text = resources.files("lfm_tf.datasets").joinpath("data", OFFICIAL_LIST).read_text("utf-8")
    return [(dataset, subject, filename, MEGC_CLASSES[int(label)])
            for dataset, subject, filename, label in csv.reader(text.splitlines())]


def read_membership(path: str) -> list[tuple[str, str, str, str]]:
    """A membership CSV of the official list's form, as `official_list` returns it.

    No header (a first row `dataset,subject,filename,label` is allowed); rows
    `dataset,subject,filename,label`, label 0 negative, 1 positive, 2 surprise;
    dataset one of SOURCES.

    Raises:
      ValueError: no such file, a row lacking columns (named), an unknown dataset
        or label; the message names the path and the line.
    """
    if not os.path.isfile(path):
        raise ValueError(f"membership list {path!r} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    rows = []
    for line, values in enumerate(table, start=1):
        cells = [v.strip() for v in values]
        if not any(cells) or (line == 1 and tuple(cells) == MEMBERSHIP_COLUMNS):
            continue
        missing = [c for c, v in zip(MEMBERSHIP_COLUMNS, cells + [""] * 4) if not v]
        if missing:
            raise ValueError(f"{path}, line {line}: missing column(s) {missing}; expected rows "
                             f"{','.join(MEMBERSHIP_COLUMNS)} as in {OFFICIAL_LIST}")
        dataset, subject, filename, label = cells[:4]
        if dataset not in SOURCES:
            raise ValueError(f"{path}, line {line}: unknown dataset {dataset!r}; expected one "
                             f"of {sorted(SOURCES)}")
        if label not in ("0", "1", "2"):
            raise ValueError(f"{path}, line {line}: label {label!r} is not 0 (negative), "
                             "1 (positive) or 2 (surprise)")
        rows.append((dataset, subject, filename, MEGC_CLASSES[int(label)]))
    if not rows:
        raise ValueError(f"membership list {path!r} has no rows")
    return rows


def read(data_dir: str | None = None, smic_dir: str | None = None,
         casme2_dir: str | None = None, samm_dir: str | None = None,
         membership: str | None = None, casme3_dir: str | None = None,
         casme3_c_dir: str | None = None, fourd_me_dir: str | None = None,
         mmew_dir: str | None = None) -> ReadResult:
    """Reads the clips of a membership list from their datasets' trees.

    Args:
      data_dir: a folder holding the datasets' trees, each as its own reader accepts
        it (SMIC_all_cropped/, CASME2_RAW_selected/ or a folder holding it, SAMM/,
        part_A_split/part_A/, ...).
      smic_dir, casme2_dir, samm_dir, casme3_dir, casme3_c_dir, fourd_me_dir,
        mmew_dir: each tree separately; each wins over data_dir.
      membership: a CSV of the official list's form (`read_membership`); default
        the official MEGC 2019 list (442 clips).

    Raises:
      ValueError: a listed dataset with no folder to read it from, or a bad list.
    """
    dirs = {"smic": smic_dir, "casme2": casme2_dir, "samm": samm_dir, "casme3": casme3_dir,
            "casme3_c": casme3_c_dir, "fourd_me": fourd_me_dir, "mmew": mmew_dir}
    rows = read_membership(membership) if membership else official_list()
    clips, skipped, corrections = [], [], []
    for dataset, members in SOURCES.items():
        mine = [(subject, filename, label) for source, subject, filename, label in rows
                if source == dataset]
        if not mine:
            continue
        where = dirs[dataset] or data_dir
        if where is None:
            raise ValueError(f"composite: pass data_dir (a folder holding the datasets of the "
                             f"list) or {dataset}_dir")
        found, missed, fixed = members(where, mine)
        clips += found
        skipped += missed
        corrections += fixed
    clips.sort(key=lambda c: (c.subject, c.clip_id))
    return ReadResult(get_spec("composite"), clips, skipped, corrections)


Members = tuple[list[base.Clip], list[tuple[str, str]], list[tuple[str, str]]]
"""A source's clips of the list, the rows it could not use, and its reader's corrections."""


def _located(dataset: str, locate: Callable[[str, list[ListRow]], Iterator[Located]],
             fps: float | None) -> Callable[[str, list[ListRow]], Members]:
    """Members of a MEGC 2019 source, found by the list's names (no class mapping needed)."""
    def members(data_dir: str, rows: list[ListRow]) -> Members:
        annotated, on_disk = {}, {}
        for subject, clip_id, path, note in locate(data_dir, rows):
            key = (f"{dataset}_{subject}", clip_id)
            annotated[key], on_disk[key] = note, path
        return (*base.annotated_clips(dataset, MEGC_CLASSES, annotated, on_disk, fps), [])
    return members


def _from_reader(dataset: str, label_set: str) -> Callable[[str, list[ListRow]], Members]:
    """Members of a dataset its own reader finds, relabelled by the list."""
    def members(data_dir: str, rows: list[ListRow]) -> Members:
        result = datasets.read(dataset, data_dir, label_set=label_set)
        found = {(c.subject, c.clip_id): c for c in result.clips}
        reasons = dict(result.skipped)
        clips, skipped = [], []
        for subject, clip_id, label in rows:
            clip = found.get((subject, clip_id))
            if clip is None:
                name = f"{dataset}/{subject}/{clip_id}"
                skipped.append((f"{dataset}/{dataset}_{subject}/{clip_id}", reasons.get(
                    name, f"listed, but the {dataset} reader found no such clip")))
                continue
            clips.append(dataclasses.replace(clip, subject=f"{dataset}_{subject}", label=label))
        return clips, skipped, result.corrections
    return members


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


# Per source: its members of a list. MEGC 2019's three by the list's own names
# (SMIC: the HS camera), the others by their readers.
SOURCES: dict[str, Callable[[str, list[ListRow]], Members]] = {
    "smic": _located("smic", _smic, SMIC_FPS["HS"]),
    "casme2": _located("casme2", _casme2, get_spec("casme2").fps),
    "samm": _located("samm", _samm, get_spec("samm").fps),
    **{name: _from_reader(name, label_set) for name, label_set in READER_SOURCES.items()},
}
