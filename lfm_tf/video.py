"""Decoding the frames of a clip: image sequences and video files, in greyscale.

The landmark step (`lfm_tf.landmarks`) needs only luminance: dlib's HOG face
detector and its shape predictor both read grey pixels. So frames are decoded
straight to greyscale (JPEG decoders skip the chroma planes entirely; video frames
are converted once, by OpenCV), and never kept in colour.

Anything OpenCV cannot decode raises `VideoError` naming the file, rather than a
None frame or a cryptic OpenCV traceback further down the pipeline. That includes
a truncated JPEG, which OpenCV's decoder "decodes" with a warning on stderr and
the missing part filled in grey: such a file lacks the JPEG end-of-image marker.
A clip's frame images may also be read leniently (`iter_frames(unreadable=...)`):
one bad file among good ones then becomes a frame without a face, by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from lfm_tf.datasets.base import Clip


# FFmpeg prints its own lines on stderr for damaged files ("moov atom not found",
# "overread 8"), beside ours that name the file and the frames; quiet unless a
# user sets the level (read when OpenCV first opens a video).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoError(ValueError):
    """A video file or frame image that cannot be opened or decoded."""


def _check_exists(path: str | os.PathLike, what: str) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VideoError(f"{what} not found: {path}")
    return path


_JPEG_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
_JPEG_END = b"\xff\xd9"
# Some writers pad a JPEG after its end marker; a tail this long is searched for it.
_JPEG_TAIL = 4096


def _jpeg_is_truncated(path: str) -> bool:
    """Whether a JPEG file lacks its end-of-image marker: the entropy-coded data
    cannot hold the bytes FF D9 (a 0xFF there is always followed by 0x00), so a
    file cut short has none in its tail (an EXIF thumbnail's lies near the start)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - _JPEG_TAIL))
        return _JPEG_END not in f.read()


def read_image(path: str | os.PathLike, grey: bool = True) -> np.ndarray:
    """One frame image as uint8, (H, W) in greyscale or (H, W, 3) BGR.

    Raises VideoError when the file is missing, not an image OpenCV decodes,
    or a JPEG cut short (which OpenCV would return grey-filled).
    """
    path = _check_exists(path, "frame image")
    if path.lower().endswith(_JPEG_EXTENSIONS) and _jpeg_is_truncated(path):
        raise VideoError(f"cannot decode frame image {path}: truncated JPEG (no end-of-image "
                         "marker)")
    image = cv2.imread(path, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise VideoError(f"cannot decode frame image {path}: not an image OpenCV can read, "
                         "or the file is corrupt")
    return image


def describe_unreadable(unreadable: Sequence[tuple[int, str]], shown: int = 3) -> str:
    """One line naming unreadable frames (0-based) and why: '1 unreadable frame(s),
    counted as without a face: 4 (cannot decode frame image ...)'; consecutive
    frames with one reason are named as a range, '22-26 (...)'."""
    groups: list[list] = []
    for k, reason in unreadable:
        if groups and groups[-1][1] == k - 1 and groups[-1][2] == reason:
            groups[-1][1] = k
        else:
            groups.append([k, k, reason])
    named = "; ".join(f"{a}{'' if a == b else f'-{b}'} ({reason})"
                      for a, b, reason in groups[:shown])
    more = f"; and {len(groups) - shown} more" if len(groups) > shown else ""
    return f"{len(unreadable)} unreadable frame(s), counted as without a face: {named}{more}"


def read_images(paths: Sequence[str | None], grey: bool = True,
                unreadable: list[tuple[int, str]] | None = None
                ) -> Iterator[np.ndarray | None]:
    """The frame images in order; a None path (a number a folder's numbering skips,
    `datasets.base.numbered_frames`) yields None, a frame without a face. With an
    `unreadable` list, a file that cannot be decoded yields None and (its 0-based
    index, the reason) is appended, so that one bad frame costs a frame, not the
    clip; without one it raises VideoError."""
    for k, path in enumerate(paths):
        if path is None:
            yield None
            continue
        try:
            yield read_image(path, grey)
        except VideoError as err:
            if unreadable is None:
                raise
            unreadable.append((k, str(err)))
            yield None


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


def iter_video(path: str | os.PathLike, grey: bool = True,
               times: list[float] | None = None,
               unreadable: list[tuple[int, str]] | None = None) -> Iterator[np.ndarray | None]:
    """The frames of a video file in order, uint8 (H, W) greyscale or (H, W, 3) BGR.

    With a `times` list, each frame's presentation time in the container (s,
    OpenCV's CAP_PROP_POS_MSEC after the frame is read) is appended to it, so a
    variable frame rate shows (`lfm_tf.timebase`).

    Frames the decoder cannot grab keep their place: each is appended to
    `unreadable` as (0-based frame, reason) and yielded as None (its time one
    frame after the one before), whether a damaged stretch inside the video,
    after which the decoder finds frames again, or a damaged or truncated end,
    up to the frame count the header declares (outside an AVI, whose index
    counts exactly, a shortfall of up to `_DECLARED_COUNT_SLACK` of it or 2
    frames is taken for the header's estimate, and ends the video quietly).

    Raises VideoError when the file cannot be opened or yields no frame at all,
    and, without an `unreadable` list, at a damaged stretch or end. The file is
    opened on the first `next()`, as for any generator.
    """
    return _grabbed(path, grey, times, unreadable, retrieve=True)


def _grabbed(path: str | os.PathLike, grey: bool, times: list[float] | None,
             unreadable: list[tuple[int, str]] | None, retrieve: bool
             ) -> Iterator[np.ndarray | None]:
    """`iter_video`; without `retrieve`, frames are grabbed only and yielded as None."""
    capture, path = _open(path)
    declared = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
    rate = capture.get(cv2.CAP_PROP_FPS)
    period = 1 / rate if rate > 0 else 0.0
    count, failed = 0, []

    def lost(frames: list[int], reason: str) -> Iterator[None]:
        if unreadable is None:
            raise VideoError(reason)
        for k in frames:
            unreadable.append((k, reason))
            if times is not None:
                times.append((times[-1] if times else 0.0) + period)
            yield None

    try:
        while True:
            try:
                ok = capture.grab()
                ok, frame = capture.retrieve() if ok and retrieve else (ok, None)
            except cv2.error as err:
                raise VideoError(f"cannot decode frame {count} of video {path}: {err}") from None
            if not ok:
                failed.append(count + len(failed))
                # At the declared end this is the end; before it, the decoder may
                # find frames again after a damaged stretch.
                if failed[-1] + 1 >= declared:
                    break
                continue
            if failed:
                yield from lost(failed, (f"frames {failed[0]}-{failed[-1]}" if len(failed) > 1
                                         else f"frame {failed[0]}")
                                + f" of video {path} could not be decoded")
                count, failed = count + len(failed), []
            count += 1
            if times is not None:
                times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
            yield (None if frame is None else
                   cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if grey else frame)
    finally:
        capture.release()
    if count == 0:
        raise VideoError(f"no frame could be decoded from video {path}: the file is "
                         "empty or corrupt")
    # An AVI's index counts its frames exactly; other containers' counts may be
    # estimates (from the duration).
    slack = 0 if path.lower().endswith(".avi") else max(_DECLARED_COUNT_SLACK * declared, 2)
    if declared - count > slack:
        yield from lost(list(range(count, declared)),
                        f"video {path} declares {declared} frames, but {count} could be "
                        f"decoded: its end is truncated or damaged, or frames were lost on the "
                        f"way (then the frames after the loss come earlier than they were)")


def frame_times(path: str | os.PathLike) -> np.ndarray:
    """Every frame's presentation time (s) in a video file's container, in order,
    without decoding the pixels further than OpenCV's `grab` must: the times
    `iter_video` gives with a `times` list, frames it could not decode (and
    yields as None) included, so the two count the same frames.

    Raises VideoError when the file cannot be opened or has no frame."""
    times: list[float] = []
    for _ in _grabbed(path, True, times, [], retrieve=False):
        pass
    return np.array(times)


# A header's frame count is an estimate in some containers: a shortfall of up to
# this fraction (or 2 frames) at the end is not taken for damage.
_DECLARED_COUNT_SLACK = 0.01


def iter_frames(clip: Clip, grey: bool = True,
                unreadable: list[tuple[int, str]] | None = None) -> Iterator[np.ndarray | None]:
    """The frames of a clip, from its frame images (leniently given an
    `unreadable` list, see `read_images`) or its video file."""
    if clip.frames:
        yield from read_images(clip.frames, grey, unreadable)
    elif clip.video is not None:
        yield from iter_video(clip.video, grey, unreadable=unreadable)
    else:
        raise ValueError(f"clip {clip.name} has no frame images or video to decode")
