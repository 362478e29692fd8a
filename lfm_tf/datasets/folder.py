"""The `<root>/<subject>/<clip>` layout: users' own data, and what every reader shares.

Every dataset of DATASETS.md keeps one folder per subject and one per clip inside
it (CASME II `sub01/EP02_01f/`, SAMM `006/006_1_2/`, CK+ `S005/001/`, SMIC under
`s1/micro/<class>/`), and every reader must report by name what it cannot pair:
annotation rows with no frames on disk and clip folders with no annotation. So
finding a tree (`find_tree`), listing its clip folders (`clip_folders`) and pairing
them with the annotations (`annotated_clips`) are written once, here.

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
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np

from lfm_tf.datasets.base import VIDEO_EXTENSIONS, Clip, ReadResult, list_images
from lfm_tf.datasets.specs import DatasetSpec

Key = tuple[str, str]
"""(subject, clip id) as spelled on disk."""

LANDMARKS_FILE = "landmarks.npy"


class Annotation(NamedTuple):
    """What an annotation table says about one clip: its class and annotated frame numbers."""

    label: str
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None


def subfolders(path: str) -> list[str]:
    """Names of the folders directly in `path`, sorted; hidden ones (.DS_Store, ...) left out."""
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path)
                  if not n.startswith(".") and os.path.isdir(os.path.join(path, n)))


def find_tree(data_dir: str | None, names: Sequence[str],
              looks_like: Callable[[str], bool], expected: str) -> str:
    """The dataset tree: `data_dir` itself, or a folder named one of `names` in it or one level down.

    Users point at the folder they unpacked, which is either the tree or a folder
    that holds it next to its spreadsheet (or next to the other datasets).
    """
    if not data_dir or not os.path.isdir(data_dir):
        raise ValueError(f"data_dir {data_dir!r} is not an existing folder; expected {expected}")
    parents = [data_dir] + [os.path.join(data_dir, n) for n in subfolders(data_dir)]
    candidates = [data_dir] + [os.path.join(p, n) for p in parents for n in names]
    for candidate in candidates:
        if os.path.isdir(candidate) and looks_like(candidate):
            return candidate
    raise ValueError(f"{data_dir!r} does not look like the dataset: expected {expected}, in it, "
                     f"in a folder named {' or '.join(names)} or one level below")


def clip_folders(tree: str, subject: re.Pattern[str]) -> dict[Key, str]:
    """Every `<tree>/<subject>/<clip>/` folder whose subject name matches `subject`."""
    return {(s, c): os.path.join(tree, s, c)
            for s in subfolders(tree) if subject.fullmatch(s)
            for c in subfolders(os.path.join(tree, s))}


def frames_source(key: Key, folder: str) -> dict[str, object] | str:
    """A clip's image frames in numeric order, or why there are none."""
    frames = list_images(folder)
    return {"frames": tuple(frames)} if frames else f"no image frames in {folder}"


def annotated_clips(
    dataset: str, classes: Sequence[str], annotated: Mapping[Key, Annotation],
    on_disk: Mapping[Key, str], fps: float | None, *,
    relabel: Mapping[str, str] | None = None,
    unannotated: str = "clip folder has no annotation row",
    source: Callable[[Key, str], dict[str, object] | str] = frames_source,
) -> tuple[list[Clip], list[tuple[str, str]]]:
    """Pairs annotations with what is on disk, and names everything left unpaired.

    Args:
      dataset: Clip.dataset, and the first part of each skipped name.
      classes: the class set; other labels (after `relabel`) are skipped with reason.
      annotated: annotation per (subject, clip), keyed in the on-disk spelling.
      on_disk: folder (or file) per (subject, clip) found on disk.
      fps: Clip.fps, unless `source` returns one.
      relabel: maps annotated labels to class names; unmapped labels are skipped.
      unannotated: the reason given for a clip on disk with no annotation.
      source: (key, path) -> Clip fields (frames=, video=, ...) or the reason for none.

    Returns:
      Clips sorted by (subject, clip id), and (name, reason) for all the rest.
    """
    clips, skipped = [], []
    for key in sorted(set(annotated) | set(on_disk)):
        name = f"{dataset}/{key[0]}/{key[1]}"
        if key not in on_disk:
            skipped.append((name, "annotated, but no clip folder on disk"))
            continue
        if key not in annotated:
            skipped.append((name, f"{unannotated}: {on_disk[key]}"))
            continue
        note = annotated[key]
        label = note.label if relabel is None else relabel.get(note.label)
        if label not in classes:
            skipped.append((name, f"class {note.label!r} is not one of {', '.join(classes)}"))
            continue
        found = source(key, on_disk[key])
        if isinstance(found, str):
            skipped.append((name, found))
            continue
        fields = {"fps": fps, "onset": note.onset, "apex": note.apex, "offset": note.offset}
        clips.append(Clip(dataset=dataset, subject=key[0], clip_id=key[1], label=label,
                          **{**fields, **found}))
    return clips, skipped


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

    def source(key: Key, path: str) -> dict[str, object]:
        clip_fps = float(fps or rows[key][1] or 0)
        if os.path.isfile(path):
            return {"video": path, "fps": clip_fps or _video_fps(path)}
        if not clip_fps:
            raise ValueError(f"folder dataset: no frame rate for {path}: pass --fps or add an "
                             f"fps column to {labels_csv}")
        track = os.path.join(path, LANDMARKS_FILE)
        if os.path.isfile(track):
            return {"landmarks": _load_track(track), "fps": clip_fps}
        found = frames_source(key, path)
        return found if isinstance(found, str) else {**found, "fps": clip_fps}

    annotated = {key: note for key, (note, _) in rows.items()}
    clips, skipped = annotated_clips("folder", names, annotated, on_disk, None,
                                     unannotated=f"not in {labels_csv}", source=source)
    return ReadResult(DatasetSpec("folder", names, fps=None, protocol="loso"), clips, skipped)


def _read_labels(path: str) -> dict[Key, tuple[Annotation, float | None]]:
    if not os.path.isfile(path):
        raise ValueError(f"folder dataset: no labels file {path!r}; expected a CSV with a header "
                         "row subject,clip,label (pass --labels_csv)")
    with open(path, newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    header = [cell.strip().lower() for cell in table[0]] if table else []
    missing = {"subject", "clip", "label"} - set(header)
    if missing:
        raise ValueError(f"{path}: header row {header} lacks column(s) {sorted(missing)}")
    rows: dict[Key, tuple[Annotation, float | None]] = {}
    for line, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        cell = dict(zip(header, (v.strip() for v in values)))
        key = (cell.get("subject", ""), cell.get("clip", ""))
        if not all(key) or not cell.get("label") or key in rows:
            raise ValueError(f"{path}, line {line}: expected a unique subject,clip and a label, "
                             f"got {values}")
        rows[key] = (Annotation(cell["label"]), float(cell["fps"]) if cell.get("fps") else None)
    return rows


def _clip_sources(root: str) -> dict[Key, str]:
    """Clip folders and video files, keyed by (subject, clip name without extension)."""
    found = clip_folders(root, re.compile(r".+"))
    for subject in subfolders(root):
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
    track = np.load(path)
    if track.ndim != 3 or track.shape[1:] != (68, 2):
        raise ValueError(f"{path}: expected an (N, 68, 2) landmark array, got shape {track.shape}")
    return track.astype(np.float32)
