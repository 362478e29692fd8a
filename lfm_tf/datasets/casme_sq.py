"""CAS(ME)^2 long videos (spotting): the rawpic tree and the code_final workbook.

Facts from ../shared/DATASETS_MORE.md section A:
- Frames `rawpic/s15/15_0101disgustingteeth/img001.jpg`, 30 fps, 1-based
  `img%03d.jpg` numbers (img1000.jpg follows img999.jpg: sorted numerically); a
  number missing from a folder is a frame without a face
  (`long_videos.video_frames`), so the frames after it keep their numbers.
  The video folder is `{2-digit subject}_{4-digit code}{name}`; the code is its
  characters 4-7. 98 folders, 22 subjects; three have no interval.
- Workbook `CAS(ME)^2code_final.xlsx` (also `code_final.xlsx`,
  `CAS(ME)^2code_final(Updated).xlsx`), read by sheet name:
  - `CASFEcode_final`, NO header row, 9 columns: subject index | expression name
    `anger1_1` (video name + `_n`) | onset | apex | offset | AUs | emotion class |
    `macro-expression` / `micro-expression` | self-reported emotion. 357 rows.
  - `naming rule1`: folder number | folder `s15` | subject index: index -> folder.
  - `naming rule2`: code `0101` | video name `disgust1`: name -> code.
- Quirks, each corrected by name in `SpottingReadResult.corrected`: offset 0 in 44
  macro rows (the apex is used as the offset, as the organisers' baseline and
  SoftNet do); apex 0 once (the midpoint of onset and offset, as the baseline);
  apex after offset in 3 rows (kept as annotated: the protocol scores onset..offset
  only, and which of the two numbers is wrong is unknown); intervals overlap (kept).
"""

from __future__ import annotations

import dataclasses
import re

from lfm_tf.datasets import base
from lfm_tf.datasets.long_videos import (Interval, LongVideo, SpottingReadResult, fit_to_video,
                                         sheet_rows, video_frames)
from lfm_tf.datasets.specs import get_spec

TREE_NAMES = ("rawpic",)
SUBJECT = re.compile(r"s\d+")
VIDEO = re.compile(r"(\d{2})_(\d{4})\w*")
WORKBOOK_PATTERN = "*code_final*.xlsx"
SHEETS = ("CASFEcode_final", "naming rule1", "naming rule2")
TYPE_NAMES = {"micro-expression": "me", "macro-expression": "mae"}


def find_tree(data_dir: str | None) -> str:
    """The rawpic/ tree: `data_dir` itself or a rawpic/ folder in it or a level down."""
    return base.find_tree(
        data_dir, TREE_NAMES, lambda d: bool(base.clip_folders(d, SUBJECT)),
        "CAS(ME)^2 subject folders (rawpic/s15/15_0101disgustingteeth/img001.jpg)")


def _text(cell: object) -> str:
    """A cell as text: 1.0 -> "1" (workbooks store codes as numbers or text)."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else str(cell).strip()


def read_workbook(path: str) -> list[tuple[str, str, dict]]:
    """(subject folder or "", video code or "", row fields) per CASFEcode_final row.

    An empty folder or code means the naming sheets do not name the row's subject
    index or video name.
    """
    rows, rule1, rule2 = (sheet_rows(path, sheet) for sheet in SHEETS)
    folders = {_text(r[2]): _text(r[1]) for r in rule1 if len(r) >= 3 and _text(r[1])}
    # Codes stored as numbers lose their leading zero (0101 -> 101).
    codes = {_text(r[1]): _text(r[0]).zfill(4) for r in rule2 if len(r) >= 2 and _text(r[1])}
    found = []
    for number, row in enumerate(rows, start=1):
        cells = list(row) + [None] * (9 - len(row))
        name = _text(cells[1])
        if not name:
            continue
        fields = {"row": number, "name": name, "onset": base.optional_frame(cells[2]),
                  "apex": base.optional_frame(cells[3]), "offset": base.optional_frame(cells[4]),
                  "action_units": _text(cells[5]), "emotion": _text(cells[6]).lower(),
                  "type": _text(cells[7]).lower()}
        video_name = name.rsplit("_", 1)[0]
        found.append((folders.get(_text(cells[0]), ""), codes.get(video_name, ""), fields))
    return found


def _interval(fields: dict) -> tuple[Interval | None, list[str]]:
    """The row as an Interval with the quirks corrected, or None and why not."""
    onset, apex, offset = fields["onset"], fields["apex"], fields["offset"]
    kind = TYPE_NAMES.get(fields["type"])
    if kind is None:
        return None, [f"type {fields['type']!r} is not one of {sorted(TYPE_NAMES)}"]
    notes = []
    if offset == 0 and apex:
        notes.append(f"offset 0: apex {apex} used as offset")
        offset = apex
    if apex == 0 and onset and offset:
        apex = (onset + offset) // 2
        notes.append(f"apex 0: midpoint {apex} used")
    if not onset or not offset or offset < onset:
        return None, [f"no usable interval: onset {fields['onset']}, apex {fields['apex']}, "
                      f"offset {fields['offset']}"]
    if apex is not None and apex > offset:
        notes.append(f"apex {apex} after offset {offset}: kept, interval {onset}-{offset}")
    return Interval(onset, apex, offset, kind, fields["name"], fields["action_units"],
                    fields["emotion"]), notes


def read(data_dir: str | None, coding_file: str | None = None) -> SpottingReadResult:
    """Reads CAS(ME)^2's long videos and their intervals.

    Args:
      data_dir: the rawpic/ tree, or a folder holding it and the workbook.
      coding_file: the workbook, if it is not beside the tree.

    Returns:
      Every video folder with frames (with or without intervals), video_id the
      folder name; intervals as (corrected) 1-based frame numbers; rows whose
      video is not on disk and unusable rows in `skipped`, fixes in `corrected`.

    Raises:
      ValueError: no tree, no workbook, or a workbook without the three sheets.
    """
    tree = find_tree(data_dir)
    coding_file = coding_file or base.find_spreadsheet(WORKBOOK_PATTERN, data_dir, tree)
    if coding_file is None:
        raise ValueError(f"CAS(ME)^2: no {WORKBOOK_PATTERN} in {data_dir!r} or beside {tree!r}; "
                         "pass --coding_file")
    spec = get_spec("casme_sq")
    skipped, corrected = [], []
    videos: dict[tuple[str, str], LongVideo] = {}
    for (subject, folder), path in base.clip_folders(tree, SUBJECT).items():
        match = VIDEO.fullmatch(folder)
        found = video_frames(path) if match else "not a video folder (15_0101name)"
        if isinstance(found, str):
            skipped.append((f"casme_sq/{subject}/{folder}", found))
            continue
        videos[(subject, match.group(2))] = LongVideo(
            "casme_sq", subject, folder, spec.fps, frames=found[0], first_frame=found[1])
    intervals: dict[tuple[str, str], list[Interval]] = {key: [] for key in videos}
    for subject, code, fields in read_workbook(coding_file):
        name = f"casme_sq/{subject or '?'}/{fields['name']} (row {fields['row']})"
        if (subject, code) not in videos:
            why = ("the naming sheets do not name its subject or video" if not subject or not code
                   else f"no video folder {subject}/{subject[1:]}_{code}* on disk")
            skipped.append((name, why))
            continue
        interval, notes = _interval(fields)
        if interval is None:
            skipped.append((name, notes[0]))
            continue
        interval, clipped = fit_to_video(interval, videos[(subject, code)])
        corrected.extend((name, note) for note in notes + clipped)
        intervals[(subject, code)].append(interval)
    found = [dataclasses.replace(video, intervals=tuple(intervals[key]))
             for key, video in sorted(videos.items(),
                                      key=lambda kv: (kv[1].subject, kv[1].video_id))]
    return SpottingReadResult(spec, found, skipped, corrected)

