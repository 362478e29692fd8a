"""The `<root>/<subject>/<clip>` layout: a user's own recordings (`--dataset=folder`).

`read` is the reader for a user's own data (`--dataset=folder`):

    <root>/labels.csv                        subject,clip,label[,fps] (header row)
    <root>/<subject>/<clip>/img001.jpg ...   image frames, numbered file names
    <root>/<subject>/<clip>.mp4              or a video file
    <root>/<subject>/<clip>/landmarks.npy    or an (N, 68, 2) landmark track
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence

import cv2
import numpy as np

from lfm_tf import files
from lfm_tf.datasets import base
from lfm_tf.datasets.base import VIDEO_EXTENSIONS, ReadResult
from lfm_tf.datasets.specs import DatasetSpec

LANDMARKS_FILE = "landmarks.npy"


def read(data_dir: str | None, labels_csv: str | None = None, fps: float | None = None,
         classes: Sequence[str] | None = None) -> ReadResult:
    """Reads a user's own `<root>/<subject>/<clip>` tree (layout in the module docstring).

    Args:
      data_dir: the root folder.
      labels_csv: `subject,clip,label` CSV with a header row and an optional `fps`
        column; default `<root>/labels.csv`.
      fps: frame rate of all clips (wins over the CSV column and a video's own
        rate: high-speed recordings are often stored at a playback rate).
      classes: class names in label-index order; default the sorted labels of the CSV.

    Raises:
      ValueError: no such folder, no labels CSV, no clips, or no frame rate for
        frame or landmark clips.
    """
    if not data_dir or not os.path.isdir(data_dir):
        raise ValueError(f"folder dataset: data_dir {data_dir!r} is not an existing folder")
    labels_csv = labels_csv or os.path.join(data_dir, "labels.csv")
    rows = _read_labels(labels_csv)
    on_disk = _clip_sources(data_dir)
    if not on_disk:
        raise ValueError(f"folder dataset: no <subject>/<clip> folders or videos in {data_dir!r}")
    names = tuple(classes) if classes else tuple(sorted({note.label for note, _ in rows.values()}))

    def source(key: base.Key, path: str) -> dict[str, object]:
        clip_fps = float(fps or rows[key][1] or 0)
        if os.path.isfile(path):
            return {"video": path, "fps": clip_fps or _video_fps(path)}
        if not clip_fps:
            raise ValueError(f"folder dataset: no frame rate for {path}: pass --fps or add an "
                             f"fps column to {labels_csv}")
        track = os.path.join(path, LANDMARKS_FILE)
        if os.path.isfile(track):
            return {"landmarks": _load_track(track), "fps": clip_fps}
        found = base.frames_source(key, path)
        return found if isinstance(found, str) else {**found, "fps": clip_fps}

    annotated = {key: note for key, (note, _) in rows.items()}
    clips, skipped = base.annotated_clips("folder", names, annotated, on_disk, None,
                                     unannotated=f"not in {labels_csv}", source=source)
    return ReadResult(DatasetSpec("folder", names, fps=None, protocol="loso"), clips, skipped)


def _read_labels(path: str) -> dict[base.Key, tuple[base.Annotation, float | None]]:
    if not os.path.isfile(path):
        raise ValueError(f"folder dataset: no labels file {path!r}; expected a CSV with a header "
                         "row subject,clip,label (pass --labels_csv)")
    with open(path, newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    header = [cell.strip().lower() for cell in table[0]] if table else []
    missing = {"subject", "clip", "label"} - set(header)
    if missing:
        raise ValueError(f"{path}: header row {header} lacks column(s) {sorted(missing)}")
    rows: dict[base.Key, tuple[base.Annotation, float | None]] = {}
    for line, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        cell = dict(zip(header, (v.strip() for v in values)))
        key = (cell.get("subject", ""), cell.get("clip", ""))
        if not all(key) or not cell.get("label") or key in rows:
            raise ValueError(f"{path}, line {line}: expected a unique subject,clip and a label, "
                             f"got {values}")
        rows[key] = (base.Annotation(cell["label"]), float(cell["fps"]) if cell.get("fps") else None)
    return rows


def _clip_sources(root: str) -> dict[base.Key, str]:
    """Clip folders and video files, keyed by (subject, clip name without extension)."""
    found = base.clip_folders(root, re.compile(r".+"))
    for subject in base.subfolders(root):
        for name in sorted(os.listdir(os.path.join(root, subject))):
            stem, ext = os.path.splitext(name)
            if ext.lower() in VIDEO_EXTENSIONS:
                found[(subject, stem)] = os.path.join(root, subject, name)
    return found


def _video_fps(path: str) -> float:
    capture = cv2.VideoCapture(path)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    finally:
        capture.release()
    if not fps or not np.isfinite(fps):
        raise ValueError(f"cannot read the frame rate of video {path}; pass --fps")
    return float(fps)


def _load_track(path: str) -> np.ndarray:
    track = files.load_array(path)
    if track.ndim != 3 or track.shape[1:] != (68, 2):
        raise ValueError(f"{path}: expected an (N, 68, 2) landmark array, got shape {track.shape}")
    return track.astype(np.float32)
