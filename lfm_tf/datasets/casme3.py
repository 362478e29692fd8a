"""CAS(ME)^3 Part A reader: micro-expressions cut from the long colour videos.

Facts from DATASETS_MORE.md section D (sources: the release's annotation files in
jingtingEmmaLi/CAS-ME-3, and MEB, tvaranka/meb, the one public loader):
- Workbook `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`, sheet `label`, header
  `Subject | Filename | Onset | Apex | Offset | AU | Objective class | emotion`:
  860 micro-expressions of 94 subjects (`spNO.1` ... `spNO.217`, with gaps).
  Filename is the video's letter (a-m; once `J`), so a subject's video can hold
  several micro-expressions: the k-th row of a repeated Filename becomes clip
  `e{k}` (`e`, `e2`, `e3`), as MEB names them.
- Frames: `{Subject}/{Filename}/color/{n}.jpg`, n the JpgIndex of the sheet, not
  padded; `depth/{n}.png` beside `color/` is not read. A clip is the colour frames
  numbered onset..offset; a frame dropped inside an interval is a frame without
  a face (`base.number_frames`), so positions keep the sheet's numbers.
- Emotions (lower-cased: 3 cells say `Others`): disgust 250, surprise 187, others
  161, fear 86, anger 64, sad 57, happy 55. Label sets (LABEL_SETS): `emotion7`;
  `class4` (default, MEB's 4 classes): positive = happy, negative = disgust, anger,
  fear, sad, plus surprise and others, 55/457/187/161; `megc3` drops others.
- 30 fps, so T = 1 by the 25 Hz rule.
- Known errors in the sheet are fixed from CORRECTIONS, each reported.

Assumptions (unverified, each easy to change here): the tree is a `part_A/` folder
(MEB unpacks `part_A_split/part_A/`) or the folder passed; a Filename with no folder
of that exact spelling uses the one that differs only in case (`J` -> `j`); the
per-clip layout `Part_A_ME_clip/` is not read.
"""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Mapping

from lfm_tf.datasets import base
from lfm_tf.datasets.base import Correction, ReadResult
from lfm_tf.datasets.specs import CASME3_CLASSES, MEGC_CLASSES

TREE_NAMES = ("part_A",)
SUBJECT = re.compile(r"spNO\.\d+")
COLOR = "color"
CODING_PATTERN = "cas(me)3_part_A_ME_label_JpgIndex*.xlsx"
SHEET = "label"
COLUMNS = ("subject", "filename", "onset", "apex", "offset", "emotion")

EMOTIONS = ("anger", "disgust", "fear", "happy", "others", "sad", "surprise")
# MEB's 4 classes (DATASETS_MORE.md D); megc3 is the same without others.
CLASS4_MAPPING: dict[str, str] = {
    "happy": "positive",
    "disgust": "negative", "anger": "negative", "fear": "negative", "sad": "negative",
    "surprise": "surprise",
    "others": "others",
}
LABEL_SETS: dict[str, tuple[tuple[str, ...], Mapping[str, str]]] = {
    "emotion7": (EMOTIONS, {e: e for e in EMOTIONS}),
    "class4": (CASME3_CLASSES, CLASS4_MAPPING),
    "megc3": (MEGC_CLASSES, {k: v for k, v in CLASS4_MAPPING.items() if v != "others"}),
}
DEFAULT_LABEL_SET = "class4"

_MEB = "tvaranka/meb meb/datasets/datasets.py Casme3"
# Errors in the v2 sheet, by 0-based data row, as MEB fixes them (DATASETS_MORE.md D).
# One MEB version sets row 128's apex to 160; 123 is the documented fix.
CORRECTIONS = (
    Correction(128, "apex", 83, 123, _MEB + ": apex before onset"),
    Correction(708, "offset", 3460, 34, _MEB),
    Correction(749, "onset", 3647, 2647, _MEB),
    Correction(750, "onset", 0, 1, _MEB + ": frames start at 1"),
    Correction(750, "apex", 0, 1, _MEB + ": frames start at 1"),
    Correction(796, "offset", 0, 1845, _MEB),
    Correction(798, "offset", 0, 2403, _MEB),
)


def find_tree(data_dir: str | None) -> str:
    """The videos tree: `data_dir` itself or a part_A/ folder in it or a level down."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: has_color_videos(d, SUBJECT),
        "CAS(ME)^3 Part A subject folders (spNO.1/a/color/1.jpg)")


def has_color_videos(tree: str, subject: re.Pattern[str]) -> bool:
    """Whether some `<tree>/<subject>/<video>/color/` folder exists."""
    return any(os.path.isdir(os.path.join(p, COLOR))
               for p in base.clip_folders(tree, subject).values())


def find_coding_file(data_dir: str, tree: str) -> str | None:
    return base.find_spreadsheet(CODING_PATTERN, data_dir, tree)


def label_set_spec(name: str, label_set: str):
    """The dataset's spec with the classes of `label_set`, and its emotion mapping
    (`base.label_set_spec` over CAS(ME)^3's `LABEL_SETS`)."""
    return base.label_set_spec(name, name, LABEL_SETS, label_set)


def read_annotations(coding_file: str) -> tuple[dict[base.Key, tuple[str, base.Annotation]],
                                                list[tuple[str, str]], list[tuple[str, str]]]:
    """The sheet's micro-expressions, the corrections applied to it, and the rows
    that name no clip.

    Returns:
      {(subject "spNO.1", clip id "e2"): (video "e", annotation with the emotion
      lower-cased)}, `ReadResult.corrections` entries and `ReadResult.skipped`
      entries (`base.incomplete_rows`).
    """
    rows = base.read_table(coding_file, COLUMNS, sheet=SHEET)
    keys: list[tuple[str, str, str]] = []  # (subject, video, clip id) per data row
    repeats: collections.Counter = collections.Counter()
    for _, cell in rows:
        subject, video = base.cell_text(cell["subject"]), base.cell_text(cell["filename"])
        repeats[(subject, video)] += 1
        k = repeats[(subject, video)]
        keys.append((subject, video, video if k == 1 else f"{video}{k}"))
    corrections = base.apply_corrections(
        rows, CORRECTIONS, lambda k: f"casme3/{keys[k][0]}/{keys[k][2]}")
    notes: dict[base.Key, tuple[str, base.Annotation]] = {}
    for (_, cell), (subject, video, clip_id) in zip(rows, keys):
        if subject and video:
            notes[(subject, clip_id)] = (video, base.Annotation(
                base.cell_text(cell["emotion"]).lower(), base.optional_frame(cell["onset"]),
                base.optional_frame(cell["apex"]), base.optional_frame(cell["offset"])))
    return notes, corrections, base.incomplete_rows(rows, ("subject", "filename"), "casme3",
                                                    coding_file)


def interval_source(notes: Mapping[base.Key, base.Annotation]):
    """A `base.annotated_clips` source: a clip's frames numbered onset..offset, on
    the video folder's numbering (`base.number_frames`): a number the folder
    skips (frames drop within intervals) is a None frame, a frame without a face,
    so that position k stays frame number onset + k.

    Each video folder is listed once, however many clips it holds.
    """
    listed: dict[str, list[str]] = {}

    def source(key: base.Key, folder: str) -> dict[str, object] | str:
        note = notes[key]
        if note.onset is None or note.offset is None or note.onset > note.offset:
            return f"no usable interval: onset {note.onset}, offset {note.offset}"
        if folder not in listed:
            listed[folder] = base.list_images(folder)
        frames = base.number_frames(listed[folder], folder, note.onset, note.offset,
                                    base.DATASET_STEP)
        if not frames:
            return f"no frames {note.onset}-{note.offset} in {folder}"
        return {"frames": tuple(frames)}

    return source


def pair_videos(notes: Mapping[base.Key, tuple[str, base.Annotation]],
                videos: Mapping[base.Key, str]) -> dict[base.Key, str]:
    """Each clip's `color/` folder, keyed like `notes`, plus the video folders that no
    row names (keyed by their own name, for `annotated_clips` to report).

    A video named with another case than its folder (`J`, folder `j`) finds it.
    """
    by_case = {(s, v.lower()): (s, v) for s, v in videos}
    on_disk, used = {}, set()
    for key, (video, _) in notes.items():
        exact = (key[0], video)
        found = exact if exact in videos else by_case.get((key[0], video.lower()))
        if found:
            on_disk[key] = os.path.join(videos[found], COLOR)
            used.add(found)
    on_disk.update({key: path for key, path in videos.items() if key not in used})
    return on_disk


def read(data_dir: str | None, coding_file: str | None = None,
         label_set: str = DEFAULT_LABEL_SET) -> ReadResult:
    """Reads CAS(ME)^3 Part A's 860 micro-expressions.

    Args:
      data_dir: the part_A tree, or a folder holding it (a level down at most) and
        the label workbook.
      coding_file: the workbook, if it is not beside the tree.
      label_set: "class4" (default), "emotion7" or "megc3" (LABEL_SETS).

    Raises:
      ValueError: no tree, no workbook, no `label` sheet or a header without the
        documented columns; each names what it looked for.
    """
    spec, mapping = label_set_spec("casme3", label_set)
    tree = find_tree(data_dir)
    coding_file = coding_file or find_coding_file(data_dir, tree)
    if coding_file is None:
        raise ValueError(f"CAS(ME)^3: no {CODING_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    notes, corrections, unnamed = read_annotations(coding_file)
    annotated = {key: note for key, (_, note) in notes.items()}
    clips, skipped = base.annotated_clips(
        "casme3", spec.classes, annotated,
        pair_videos(notes, base.clip_folders(tree, SUBJECT)), spec.fps, relabel=mapping,
        unannotated=f"video has no micro-expression in {os.path.basename(coding_file)}",
        source=interval_source(annotated))
    return ReadResult(spec, clips, unnamed + skipped, corrections)

