"""Decoding the frames of a clip: image sequences and video files, in greyscale.

The landmark step (`lfm_tf.landmarks`) needs only luminance: dlib's HOG face
detector and its shape predictor both read grey pixels. So frames are decoded
straight to greyscale (JPEG decoders skip the chroma planes entirely; video frames
are converted once, by OpenCV), and never kept in colour.

Anything OpenCV cannot decode raises `VideoError` naming the file, rather than a
None frame or a cryptic OpenCV traceback further down the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import cv2
import numpy as np

from lfm_tf.datasets.base import Clip


class VideoError(ValueError):
    """A video file or frame image that cannot be opened or decoded."""


def _check_exists(path: str | os.PathLike, what: str) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VideoError(f"{what} not found: {path}")
    return path


def read_image(path: str | os.PathLike, grey: bool = True) -> np.ndarray:
    """One frame image as uint8, (H, W) in greyscale or (H, W, 3) BGR."""
    path = _check_exists(path, "frame image")
    image = cv2.imread(path, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise VideoError(f"cannot decode frame image {path}: not an image OpenCV can read, "
                         "or the file is corrupt")
    return image


def _open(path: str | os.PathLike) -> tuple[cv2.VideoCapture, str]:
    path = _check_exists(path, "video file")
    try:
        capture = cv2.VideoCapture(path)
    except cv2.error as err:
        raise VideoError(f"cannot open video {path}: {err}") from None
    if not capture.isOpened():
        capture.release()
        raise VideoError(f"cannot open video {path}: not a video OpenCV can decode, "
                         "or the file is corrupt")
    return capture, path


def video_fps(path: str | os.PathLike) -> float:
    """The frame rate a video file declares."""
    capture, path = _open(path)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    if not np.isfinite(fps) or fps <= 0:
        raise VideoError(f"video {path} declares no frame rate")
    return float(fps)


def iter_video(path: str | os.PathLike, grey: bool = True) -> Iterator[np.ndarray]:
    """The frames of a video file in order, uint8 (H, W) greyscale or (H, W, 3) BGR.

    Raises VideoError when the file cannot be opened or yields no frame at all.
    The file is opened on the first `next()`, as for any generator.
    """
    capture, path = _open(path)
    count = 0
    try:
        while True:
            try:
                ok, frame = capture.read()
            except cv2.error as err:
                raise VideoError(f"cannot decode frame {count} of video {path}: {err}") from None
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if grey else frame
    finally:
        capture.release()
    if count == 0:
        raise VideoError(f"no frame could be decoded from video {path}: the file is "
                         "empty or corrupt")


def iter_frames(clip: Clip, grey: bool = True) -> Iterator[np.ndarray]:
    """The frames of a clip, from its frame images or its video file."""
    if clip.frames:
        for path in clip.frames:
            yield read_image(path, grey)
    elif clip.video is not None:
        yield from iter_video(clip.video, grey)
    else:
        raise ValueError(f"clip {clip.name} has no frame images or video to decode")
