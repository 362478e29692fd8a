"""Face boxes of the tracked landmark fit (`lfm_tf.landmarks`): the geometry of
dlib's detector rectangles, the crops the detector and the shape predictor see,
where a box goes relative to the landmarks fitted in it, and the `Tracker` that
moves the box from frame to frame.

Boxes are float arrays (cx, cy, w, h) in full-frame pixels, with pixel edges at
whole numbers: the box of dlib's rectangle(l, t, r, b) spans [l, r + 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import dlib
import numpy as np

# The shape fit and the face check look at the box plus this fraction of its
# side on each side; the predictor's features lie well inside that margin.
CROP_MARGIN = 0.5


def box_from_rect(rect: dlib.rectangle, scale: float, origin: tuple[int, int]) -> np.ndarray:
    """A detector rectangle found in a crop at `origin`, resized by `scale`."""
    left, top = rect.left() / scale + origin[0], rect.top() / scale + origin[1]
    width, height = rect.width() / scale, rect.height() / scale
    return np.array([left + width / 2, top + height / 2, width, height])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    lo = np.maximum(a[:2] - a[2:] / 2, b[:2] - b[2:] / 2)
    hi = np.minimum(a[:2] + a[2:] / 2, b[:2] + b[2:] / 2)
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    return inter / (float(np.prod(a[2:])) + float(np.prod(b[2:])) - inter)


def crop(frame: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The box plus `CROP_MARGIN` on each side, clipped to the frame, and its origin."""
    half = box[2:] * (0.5 + CROP_MARGIN)
    x0, y0 = np.maximum(np.floor(box[:2] - half), 0).astype(int)
    x1 = int(min(np.ceil(box[0] + half[0]), frame.shape[1]))
    y1 = int(min(np.ceil(box[1] + half[1]), frame.shape[0]))
    return frame[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)], (int(x0), int(y0))


def resized(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1:
        return np.ascontiguousarray(image)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)


def centre_and_size(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """Centroid and RMS distance from it: they move and scale with the face."""
    centre = landmarks.mean(axis=0)
    return centre, float(np.sqrt(((landmarks - centre) ** 2).sum(axis=1).mean()))


@dataclasses.dataclass(frozen=True)
class BoxRelation:
    """Where the detector put its box relative to the landmarks fitted in it.

    The shape predictor was trained on detector boxes and its fit shifts with
    the box it is given, so a tracked box is placed by the same relation, in
    units of the landmarks' size, as the detection that started the track.
    """

    offset: np.ndarray  # (box centre - landmark centroid) / size
    extent: np.ndarray  # box (w, h) / size

    @classmethod
    def measure(cls, box: np.ndarray, landmarks: np.ndarray) -> BoxRelation:
        centre, size = centre_and_size(landmarks)
        return cls((box[:2] - centre) / size, box[2:] / size)

    def box(self, landmarks: np.ndarray) -> np.ndarray:
        centre, size = centre_and_size(landmarks)
        return np.concatenate([centre + self.offset * size, self.extent * size])


def landmark_array(shape: dlib.full_object_detection) -> np.ndarray:
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


class Tracker:
    """The detector's side of `LandmarkExtractor.track`, one frame at a time: the
    box placed from the last landmarks, the periodic face check, and detection
    where the track is lost.

    Args:
      detect: (frame, near box or None) -> the face's box or None: near a box,
        the face overlapping it most in a crop around it; else the largest.
      fit: (frame, box) -> the shape predictor's (68, 2) landmarks in the box.
      drifted: (box given, box its fit implies, landmarks, frame shape) ->
        whether the fit went astray.
      check_every: every this many frames the next fit confirms the face (0 never).
      min_iou: a confirming detection overlapping the box less restarts from it.
    """

    def __init__(self, detect: Callable, fit: Callable, drifted: Callable, check_every: int,
                 min_iou: float):
        self._detect, self._fit, self._drifted = detect, fit, drifted
        self._check_every, self._min_iou = check_every, min_iou
        self.detections = self._since_detector = 0
        self._box = self._relation = self._size = None

    def check_due(self) -> bool:
        """Whether the next fitted frame makes the periodic face check."""
        return (self._box is not None and self._check_every > 0
                and self._since_detector + 1 >= self._check_every)

    def place(self, landmarks: np.ndarray) -> None:
        """Place the next fit's box from landmarks known for this frame (the
        optical flow's), rather than from the frame before: a fast move
        otherwise leaves the box behind the face, and the fit with it."""
        if self._box is not None:
            self._box = self._relation.box(landmarks)

    def lose(self) -> None:
        """Forget the box (a cut: the face may be anywhere now): the next fit
        detects on the whole frame."""
        self._box = None

    def follow(self, landmarks: np.ndarray) -> None:
        """A frame whose landmarks came from elsewhere (the optical flow), not from
        a fit: the box follows them, and the frame counts towards the check."""
        self._since_detector += 1
        if self._box is not None:
            self._box = self._relation.box(landmarks)

    def fit(self, frame: np.ndarray) -> np.ndarray | None:
        """The tracked fit (68, 2) in a greyscale frame, or None (no face found)."""
        if frame.shape != self._size:
            # A box from a frame of another size may lie outside this one: detect.
            self._box, self._size = None, frame.shape
        landmarks = start = None
        self._since_detector += 1
        box = self._box
        if box is not None and self._check_every and self._since_detector >= self._check_every:
            self.detections, self._since_detector = self.detections + 1, 0
            confirmed = self._detect(frame, box)
            if confirmed is None:
                box = None
            elif iou(confirmed, box) < self._min_iou:
                box, start = None, confirmed
        if box is not None:
            fitted = self._fit(frame, box)
            moved = self._relation.box(fitted)
            if self._drifted(box, moved, fitted, frame.shape):
                box = None
            else:
                landmarks, box = fitted, moved
        if landmarks is None:
            if start is None:
                self.detections, self._since_detector = self.detections + 1, 0
                start = self._detect(frame, None)
            if start is not None:
                landmarks = self._fit(frame, start)
                self._relation = BoxRelation.measure(start, landmarks)
                box = start
        self._box = box
        return landmarks
