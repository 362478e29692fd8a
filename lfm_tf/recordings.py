r"""People's recordings as landmark tracks: the one place every tool turns an input
into 68 landmarks per frame (`predict`, `visualize`, and what comes after them).

An input is a video file, a folder of numbered frames (`datasets.base.list_images`
lists them, in numeric order) or a landmark file (.npy, .csv). Pixels go through
the tracked dlib fit (`lfm_tf.landmarks`); frames without a face are counted and
interpolated across, and where a recording must be split is decided afterwards
(`usable_ranges`), from the gaps that are longer than a tool allows.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator

import numpy as np

from lfm_tf import features, landmarks, temporal_filter, video
from lfm_tf.datasets.base import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, list_images

LANDMARK_EXTENSIONS = (".npy", ".csv")
SOURCES = ("video", "frames", "landmarks")


class InputError(ValueError):
    """An input that cannot be read, or has too few frames with a face to predict on."""


@dataclasses.dataclass
class Recording:
    """The landmarks of one input, frame by frame.

    Attributes:
      path: the input as given.
      source: "video", "frames" or "landmarks".
      fps: its frame rate.
      landmarks: float32 (N, 68, 2); frames without a face hold landmarks
        interpolated from the nearest frames with one (`landmarks.fill_gaps`).
      face: bool (N,), True where a face was found (or given).
      reliability: float32 (N,) in [0, 1], how far each frame's landmarks can
        be trusted (`landmarks.LandmarkTrack.reliability`); for a landmark
        file, 1 where it has a face and 0 where not.
    """

    path: str
    source: str
    fps: float
    landmarks: np.ndarray
    face: np.ndarray
    reliability: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.face)


def input_source(path: str) -> str:
    """Which of `SOURCES` an input is, by what it is on disk."""
    if os.path.isdir(path):
        return "frames"
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file or folder")
    ext = os.path.splitext(path)[1].lower()
    if ext in LANDMARK_EXTENSIONS:
        return "landmarks"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    raise InputError(f"{path}: not a video ({' '.join(VIDEO_EXTENSIONS)}), a folder of "
                     f"frames or a landmark file ({' '.join(LANDMARK_EXTENSIONS)})")


def read_landmark_file(path: str) -> np.ndarray:
    """(N, 68, 2) float64 landmarks in the dlib / iBUG 68-point order, NaN where a
    frame has no face.

    `.npy`: an (N, 68, 2) or (N, 136) array. `.csv`: one row per frame, either 136
    values x0, y0, x1, y1, ... without a header, or with a header naming columns
    x_0 .. x_67 and y_0 .. y_67 (OpenFace and py-feat write those; OpenFace's
    `success` column, where present, marks frames without a face). Empty cells
    and NaN mark frames without a face.
    """
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: not a NumPy .npy file ({err})") from None
    else:
        array = _read_landmark_csv(path)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 2 * features.NUM_LANDMARKS:
        array = array.reshape(len(array), features.NUM_LANDMARKS, 2)
    if array.ndim != 3 or array.shape[1:] != (features.NUM_LANDMARKS, 2) or not len(array):
        raise InputError(f"{path}: expected landmarks of shape (N, 68, 2) or (N, 136) in the "
                         f"dlib / iBUG 68-point order, got {array.shape}")
    return array


def _read_landmark_csv(path: str) -> np.ndarray:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [(k, row) for k, row in enumerate(csv.reader(f), start=1)
                if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{path}: empty landmark file")
    columns, success = list(range(2 * features.NUM_LANDMARKS)), None
    if not _is_number(rows[0][1][0]):
        header = [cell.strip().lower() for cell in rows[0][1]]
        names = [f"{axis}_{k}" for k in range(features.NUM_LANDMARKS) for axis in "xy"]
        if not set(names) <= set(header):
            raise InputError(f"{path}: its header does not name columns x_0 .. x_67 and y_0 .. "
                             f"y_67; or write 136 columns x0, y0, x1, y1, ... without a header")
        columns = [header.index(name) for name in names]
        success = header.index("success") if "success" in header else None
        rows = rows[1:]
    values = np.full((len(rows), len(columns)), np.nan)
    for r, (line, row) in enumerate(rows):
        if len(row) < max(columns) + 1:
            raise InputError(f"{path}, line {line}: {len(row)} columns, expected "
                             f"{max(columns) + 1}")
        if success is not None and _number(path, line, row[success]) == 0:
            continue
        values[r] = [_number(path, line, row[c]) for c in columns]
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: str, line: int, text: str) -> float:
    text = text.strip()
    if not text:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}, line {line}: {text!r} is not a number") from None


def read_recording(path: str, fps: float | None = None,
                   extractor: landmarks.LandmarkExtractor | None = None,
                   denoiser: str = temporal_filter.DEFAULT_TEMPORAL_FILTER) -> Recording:
    """Landmarks of one input, with which frames had a face, denoised over time by
    `denoiser` (`temporal_filter.denoise`, whatever their source).

    A video's frame rate is the one it declares unless `fps` is given (high-speed
    cameras often store a playback rate). Folders of frames (numeric order, see
    `list_images`) and landmark files carry none, so they need `fps`.

    `extractor`'s `max_gap` should let every gap through (`unbridged_extractor`):
    where to split a recording is decided afterwards, by `usable_ranges`.
    """
    source = input_source(path)
    if source != "video" and not fps:
        what = "a folder of frames" if source == "frames" else "a landmark file"
        raise InputError(f"{path}: {what} carries no frame rate: pass --fps")
    if source == "landmarks":
        points = read_landmark_file(path)
        present = np.isfinite(points).all(axis=(1, 2))
        track, filled = landmarks.fill_gaps(
            [p if ok else None for p, ok in zip(points, present)], len(points), path)
        return Recording(path, source, float(fps), temporal_filter.denoise(track, denoiser),
                         ~filled, (~filled).astype(np.float32))
    extractor = extractor or unbridged_extractor()
    if source == "video":
        rate = float(fps or video.video_fps(path))
        frames = video.iter_video(path)
    else:
        paths = list_images(path)
        if not paths:
            raise InputError(f"{path}: no numbered image frames in this folder "
                             f"({' '.join(IMAGE_EXTENSIONS)})")
        rate, frames = float(fps), (video.read_image(p) for p in paths)
    track = extractor.track(frames, source=path)
    return Recording(path, source, rate, temporal_filter.denoise(track.landmarks, denoiser),
                     ~track.filled, track.reliability)


def unbridged_extractor(settings: landmarks.LandmarkSettings | None = None
                        ) -> landmarks.LandmarkExtractor:
    """A landmark extractor that interpolates across every gap, however long, so
    that a recording is never refused for one; `usable_ranges` then drops what
    cannot be bridged."""
    settings = settings or landmarks.LandmarkSettings()
    return landmarks.LandmarkExtractor(dataclasses.replace(settings, max_gap=sys.maxsize))


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame `index` (0-based) of a video or a folder of frames, BGR uint8."""
    return next(read_frames(path, [index], grey=False))[1]


def read_frames(path: str, indices: Iterable[int],
                grey: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for each of the 0-based `indices` of a video or a folder of
    frames, in increasing order, uint8 greyscale or BGR. A folder reads only those
    images; a video is decoded once, up to the last one wanted. Raises InputError
    for an index the input does not have."""
    wanted = sorted({int(k) for k in indices})
    if not wanted:
        return
    if input_source(path) == "frames":
        paths = list_images(path)
        count = len(paths)
        for k in (k for k in wanted if 0 <= k < count):
            yield k, video.read_image(paths[k], grey)
    else:
        count, chosen = 0, set(wanted)
        for count, frame in enumerate(video.iter_video(path, grey), start=1):
            if count - 1 in chosen:
                yield count - 1, frame
                if count > wanted[-1]:
                    return
    outside = [k for k in wanted if not 0 <= k < count]
    if outside:
        raise InputError(f"{path}: no frame {outside[0]}; it has {count}")


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame of every run of True in `mask`, inclusive."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def unbridged_gaps(face: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """Runs of more than `max_gap` frames without a face (first, last)."""
    return [(a, b) for a, b in runs(~np.asarray(face, bool)) if b - a + 1 > max_gap]


def usable_ranges(face: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """[start, end) stretches of frames between the gaps `max_gap` cannot bridge."""
    ranges, start = [], 0
    for first, last in unbridged_gaps(face, max_gap) + [(len(face), len(face))]:
        if first > start:
            ranges.append((start, first))
        start = last + 1
    return ranges
