"""Sub-pixel landmark motion: optical-flow registration on top of the detector's fits.

Micro-expressions move landmarks by 1 to 3 px, and Eq. 1 subtracts positions, so
the detector's frame-to-frame noise (about 1 px even when tracked, more on noisy
footage) goes straight into the maps. The paper's landmarks (Dong et al. [17],
supervision by registration) get their temporal consistency from optical flow;
so do these.

The rule, frame by frame (`Registration.update`):
- The first frame with a face is the reference: its landmarks are the
  detector's fit. Every later frame's landmarks are the reference landmarks
  moved by OpenCV's DIS optical flow from the reference frame to that frame,
  computed on the face's window only, scaled so the eyes are at most
  `work_eye_distance` px apart. Flow against one fixed reference does not
  drift: frame 500 is compared with frame 0, not reached through 500 steps.
- Each landmark is checked forward-backward: pyramidal Lucas-Kanade tracks it
  back from the frame to the reference; where it lands further than
  `max_fb_error` from where it started, the flow there failed (a blink, an
  occluder, a fast change) and that landmark takes the detector's fit, moved by
  the landmark's last known offset between flow and detector. The frame's
  reliability is the fraction of landmarks that passed.
- The detector keeps the flow honest. If the flow landmarks disagree with the
  detector's fit (median distance over the landmarks) by more than
  `max_disagreement` eye distances, or too few landmarks pass the check for
  `reanchor_after` frames in a row, the flow has lost the face (a
  cut, a turn the flow cannot follow): the frame becomes the new reference with
  the detector's landmarks.
- The reference ages: once the landmarks have moved more than `max_motion`
  eye distances (median) from it, as in a slow head turn, the current frame
  becomes the reference with its flow landmarks, pulled by `detector_gain`
  towards the detector's fit, so that chained references neither jump nor
  wander away from the face (the pull adds that fraction of the detector's
  noise once per renewal, not per frame).
- Frames where the detector finds no face are left to `landmarks.fill_gaps`.

Measured on rendered CASME II-like clips with camera noise (BENCHMARKS.md): DIS
at half resolution with variational refinement ("fast" preset, finest scale 1)
gives the same error as the "medium" preset at twice its speed; LK alone was
less accurate on weak texture (cheeks) and is used only for the cheap check.

Coordinates as in `lfm_tf.landmarks`: (0, 0) is the centre of the top-left pixel.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

_LEFT_EYE, _RIGHT_EYE = slice(36, 42), slice(42, 48)


def eye_distance(points: np.ndarray) -> float:
    """Distance between the eye centres of (68, 2) landmarks, px."""
    return float(np.linalg.norm(points[_RIGHT_EYE].mean(0) - points[_LEFT_EYE].mean(0)))


@dataclasses.dataclass(frozen=True)
class RegistrationSettings:
    """How the flow registration runs (see the module docstring for the rule).

    Attributes:
      work_eye_distance: frames are downscaled (never upscaled) so the eyes are
        at most this far apart, px: the flow's cost follows the face's size,
        and beyond this size a bigger face adds no precision (measured).
      margin: the flow window is the reference landmarks' box plus this
        fraction of its longer side on each side.
      dis_preset: OpenCV's DIS preset (0 ultrafast, 1 fast, 2 medium).
      dis_finest_scale: the finest pyramid level DIS refines to (0 = full
        resolution of the window).
      max_fb_error: forward-backward disagreement above which a landmark's
        flow is rejected, in eye distances.
      min_reliable: a frame where fewer than this fraction of the landmarks
        pass the check counts as a flow failure.
      reanchor_after: this many failures in a row re-anchor on the detector.
      max_disagreement: flow and detector further apart than this (median, in
        eye distances) re-anchors at once: the flow lost the face.
      max_motion: the reference is renewed once the landmarks moved this far
        from it (median, in eye distances).
      detector_gain: at a renewal the landmarks move this fraction of the way
        towards the detector's fit: drift control for long recordings.
    """

    work_eye_distance: float = 100.0
    margin: float = 0.15
    dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST
    dis_finest_scale: int = 1
    max_fb_error: float = 0.04
    min_reliable: float = 0.5
    reanchor_after: int = 3
    max_disagreement: float = 0.25
    max_motion: float = 0.15
    detector_gain: float = 0.25

    def __post_init__(self):
        if self.work_eye_distance < 10 or not 0 <= self.margin <= 1:
            raise ValueError(f"work_eye_distance must be at least 10 px and margin in [0, 1], "
                             f"got {self.work_eye_distance}, {self.margin}")
        if self.dis_preset not in (0, 1, 2) or self.dis_finest_scale < 0:
            raise ValueError(f"dis_preset must be 0, 1 or 2 and dis_finest_scale >= 0, got "
                             f"{self.dis_preset}, {self.dis_finest_scale}")
        if self.reanchor_after < 1:
            raise ValueError(f"reanchor_after must be at least 1, got {self.reanchor_after}")
        for name in ("max_fb_error", "min_reliable", "max_disagreement", "max_motion",
                     "detector_gain"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


def _sample(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear flow (H, W, 2) at (K, 2) points."""
    xy = points.astype(np.float32)
    return cv2.remap(flow, xy[:, :1].T.copy(), xy[:, 1:].T.copy(), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2).astype(np.float64)


class Registration:
    """Refines one clip's detector fits frame by frame (`update`), online: it holds
    only the reference window, so recordings of any length fit in memory."""

    def __init__(self, settings: RegistrationSettings | None = None):
        self.settings = settings or RegistrationSettings()
        self._dis = cv2.DISOpticalFlow_create(self.settings.dis_preset)
        self._dis.setFinestScale(self.settings.dis_finest_scale)
        self._reference = None
        self.anchors = 0

    def _window(self, frame: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self._box
        image = np.ascontiguousarray(frame[y0:y1, x0:x1])
        if self._scale != 1:
            image = cv2.resize(image, self._work_size, interpolation=cv2.INTER_AREA)
        return image

    def _to_work(self, points: np.ndarray) -> np.ndarray:
        # Pixel centres: pixel q of the resized window covers [q, q + 1) / factor.
        return (points - self._box[:2] + 0.5) * self._factor - 0.5

    def _anchor(self, frame: np.ndarray, points: np.ndarray, detected: np.ndarray) -> None:
        """Make `frame` the reference with `points`; `detected` is the detector's fit."""
        s = self.settings
        self.anchors += 1
        self._eyes = max(eye_distance(points), 1.0)
        lo, hi = points.min(0), points.max(0)
        pad = (hi - lo).max() * s.margin
        size = np.array(frame.shape[::-1])
        x0, y0 = np.clip(np.floor(lo - pad), 0, size - 1).astype(int)
        x1, y1 = np.clip(np.ceil(hi + pad) + 1, (x0 + 2, y0 + 2), size).astype(int)
        self._box = np.array([x0, y0, x1, y1])
        self._scale = min(1.0, s.work_eye_distance / self._eyes)
        self._work_size = (max(round((x1 - x0) * self._scale), 2),
                           max(round((y1 - y0) * self._scale), 2))
        self._factor = np.array(self._work_size, float) / (x1 - x0, y1 - y0)
        self._reference = self._window(frame)
        self._points = points.copy()
        self._work_points = self._to_work(points)
        self._offset = points - detected
        self._failures = 0

    def update(self, frame: np.ndarray, detected: np.ndarray | None
               ) -> tuple[np.ndarray | None, float]:
        """This frame's refined landmarks and their reliability.

        Args:
          frame: uint8 (H, W) greyscale frame.
          detected: the detector's (68, 2) fit in it, px, or None (no face).
        Returns:
          (68, 2) float64 landmarks, px, or None where `detected` is None; and
          the fraction of landmarks whose flow passed the forward-backward
          check (1.0 at a reference frame, 0.0 without a face).
        """
        s = self.settings
        if detected is None:
            return None, 0.0
        detected = np.asarray(detected, np.float64)
        if self._reference is None:
            self._anchor(frame, detected, detected)
            return detected.copy(), 1.0
        current = self._window(frame)
        flow = self._dis.calc(self._reference, current, None)
        moved = self._work_points + _sample(flow, self._work_points)
        back, status, _ = cv2.calcOpticalFlowPyrLK(
            current, self._reference, moved.astype(np.float32).reshape(-1, 1, 2),
            self._work_points.astype(np.float32).reshape(-1, 1, 2),
            flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        fb = np.linalg.norm(back.reshape(-1, 2) - self._work_points, axis=1) / self._factor[0]
        ok = (status.ravel() == 1) & (fb <= s.max_fb_error * self._eyes)
        points = self._points + (moved - self._work_points) / self._factor
        disagreement = float(np.median(np.linalg.norm(points - detected, axis=1)))
        self._failures = self._failures + 1 if ok.mean() < s.min_reliable else 0
        if disagreement > s.max_disagreement * self._eyes or self._failures >= s.reanchor_after:
            self._anchor(frame, detected, detected)
            return detected.copy(), 1.0
        # Where the flow failed, the detector's fit carries the landmark's offset.
        points[~ok] = detected[~ok] + self._offset[~ok]
        self._offset[ok] = points[ok] - detected[ok]
        if np.median(np.linalg.norm(points - self._points, axis=1)) > s.max_motion * self._eyes:
            points = points + s.detector_gain * (detected - points)
            self._anchor(frame, points, detected)
        return points, float(ok.mean())
