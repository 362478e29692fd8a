"""SAMM Long Videos (spotting): the frames tree and the FACS_Movement_Only sheet.

Facts from ../shared/DATASETS_MORE.md section B:
- Frames `SAMM_longvideos/006_1/006_1_0001.jpg`: one folder per video, no subject
  level, 200 fps, 1-based numbers zero-padded to 4 OR 5 digits (per video: the
  number is read, never the width). 147 videos, 30 annotated subjects. A number
  missing from a folder is a frame without a face (`long_videos.video_frames`),
  so the frames after it keep their numbers.
- Workbook `SAMM_LongVideos_V1_Release.xlsx` (or _V2_, _V3_), sheet
  `FACS_Movement_Only`: 9 preamble rows, the header on row 10 (found by its
  `Filename` cell): Subject | Filename | Inducement Code | Onset | Apex | Offset |
  Duration | Type | Action Units | Notes. 502 rows.
  - Subject is `006` as text or 6 as a number: normalised to 3 digits.
  - Filename `006_1_3` is video `006_1` and the interval's index.
  - Type `Macro` / `Micro - 1/2`: the second character `i` means micro (as the
    organisers' baseline tests it).
  - Onset/Apex/Offset are floats in 178 rows (566.4): rounded half up as the
    baseline does. Duration (a formula) is not read: offset - onset + 1 is.
- Quirks, each corrected by name in `SpottingReadResult.corrected`: apex -1 (not
  annotated: None); onset 0 (the movement began before the video: clipped to
  frame 1, where SoftNet drops these rows); offsets past the last frame (012_4_1,
  020_6_5, 036_7_4: clipped to the last frame).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.long_videos import (Interval, LongVideo, SpottingReadResult, fit_to_video,
                                         sheet_rows, video_frames)
from lfm_tf.datasets.specs import get_spec

TREE_NAMES = ("SAMM_longvideos", "SAMM_LongVideos")
VIDEO = re.compile(r"(\d{3})_\d+")
WORKBOOK_PATTERN = "SAMM_LongVideos*.xlsx"
SHEET = "FACS_Movement_Only"
COLUMNS = ("subject", "filename", "onset", "apex", "offset", "type", "actionunits")


def _videos(tree: str) -> list[str]:
    return [n for n in base.subfolders(tree) if VIDEO.fullmatch(n)]


def find_tree(data_dir: str | None) -> str:
    """The SAMM_longvideos/ tree: `data_dir` itself or that folder in it or a level down."""
    return base.find_tree(data_dir, TREE_NAMES, lambda d: bool(_videos(d)),
                          "SAMM-LV video folders (SAMM_longvideos/006_1/006_1_0001.jpg)")


def frame(cell: object) -> int | None:
    """A frame cell as an int: floats rounded half up (566.5 -> 567); blanks None."""
    if isinstance(cell, str):
        cell = cell.strip()
        try:
            cell = float(cell)
        except ValueError:
            return None
    if cell is None or isinstance(cell, bool) or not math.isfinite(cell):
        return None
    return int(math.floor(cell + 0.5))


def read_workbook(path: str) -> list[dict]:
    """The sheet's rows as dicts (row, subject "006", video "006_1", name, frames, type, AUs).

    Raises:
      ValueError: no FACS_Movement_Only sheet, no header, or missing columns.
    """
    rows = sheet_rows(path, SHEET)
    start = base.find_header_row(rows)
    header = [re.sub(r"\s+", "", str(c)).lower() if c is not None else "" for c in rows[start]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: header row {start + 1} lacks column(s) {missing}")
    found = []
    for number, values in enumerate(rows[start + 1:], start=start + 2):
        cell = dict(zip(header, values))
        name = str(cell["filename"] or "").strip()
        if not name:
            continue
        subject = str(cell["subject"]).strip()
        subject = f"{int(float(subject)):03d}" if re.fullmatch(r"\d+(\.0)?", subject) else subject
        found.append({"row": number, "subject": subject, "video": name.rsplit("_", 1)[0],
                      "name": name, "onset": frame(cell["onset"]), "apex": frame(cell["apex"]),
                      "offset": frame(cell["offset"]), "type": str(cell["type"] or "").strip(),
                      "action_units": str(cell["actionunits"] or "").strip()})
    return found


def _interval(fields: dict) -> tuple[Interval | None, list[str]]:
    """The row as an Interval with apex -1 corrected, or None and why not."""
    kind = fields["type"]
    if len(kind) < 2 or kind[0].lower() != "m" or kind[1].lower() not in "ia":
        return None, [f"type {kind!r} is neither Micro nor Macro"]
    onset, apex, offset = fields["onset"], fields["apex"], fields["offset"]
    if onset is None or offset is None or offset < onset:
        return None, [f"no usable interval: onset {onset}, offset {offset}"]
    notes = []
    if apex == -1:
        notes.append("apex -1: not annotated")
        apex = None
    return Interval(onset, apex, offset, "me" if kind[1].lower() == "i" else "mae",
                    fields["name"], fields["action_units"]), notes


def read(data_dir: str | None, coding_file: str | None = None) -> SpottingReadResult:
    """Reads SAMM Long Videos and their intervals.

    Args:
      data_dir: the SAMM_longvideos/ tree, or a folder holding it and the workbook.
      coding_file: the workbook, if it is not beside the tree.

    Returns:
      Every video folder with frames (with or without intervals), subject the
      3-digit prefix; 1-based frame numbers clipped to the video; rows whose video
      is not on disk and unusable rows in `skipped`, fixes in `corrected`.

    Raises:
      ValueError: no tree, no workbook, or a workbook without the sheet or columns.
    """
    tree = find_tree(data_dir)
    coding_file = coding_file or base.find_spreadsheet(WORKBOOK_PATTERN, data_dir, tree)
    if coding_file is None:
        raise ValueError(f"SAMM-LV: no {WORKBOOK_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    spec = get_spec("samm_lv")
    skipped, corrected = [], []
    videos: dict[str, LongVideo] = {}
    for name in _videos(tree):
        found = video_frames(os.path.join(tree, name))
        if isinstance(found, str):
            skipped.append((f"samm_lv/{name[:3]}/{name}", found))
            continue
        videos[name] = LongVideo("samm_lv", name[:3], name, spec.fps, frames=found[0],
                                 first_frame=found[1])
    intervals: dict[str, list[Interval]] = {name: [] for name in videos}
    for fields in read_workbook(coding_file):
        name = f"samm_lv/{fields['subject']}/{fields['name']} (row {fields['row']})"
        if fields["video"] not in videos:
            skipped.append((name, f"no video folder {fields['video']} on disk"))
            continue
        interval, notes = _interval(fields)
        if interval is None:
            skipped.append((name, notes[0]))
            continue
        interval, clipped = fit_to_video(interval, videos[fields["video"]])
        corrected.extend((name, note) for note in notes + clipped)
        intervals[fields["video"]].append(interval)
    found = [dataclasses.replace(v, intervals=tuple(intervals[k]))
             for k, v in sorted(videos.items())]
    return SpottingReadResult(spec, found, skipped, corrected)
