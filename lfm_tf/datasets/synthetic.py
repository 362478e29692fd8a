"""The embedded default dataset: synthetic facial expressions, made from a seed.

The licensed datasets cannot ship with the toolkit, so preprocessing, training and
the reports run by default on this one. It comes in two forms:

- `generate` (and `read`, the registry entry): in-memory 68-point landmark tracks
  in the dlib/iBUG order, in pixels of a 640x480 frame. Subjects have different
  face shapes; each clip displaces the landmarks that the action units (AUs) of
  its class move, along an onset-apex-offset time course, with head drift and
  landmark noise. The pipeline takes them as landmarks that ship with the data.
- rendered (`read(..., render=True)`, `lfm_tf.datasets.synthetic_render`): the
  same motion carried onto a real photograph (scikit-image's astronaut) by a
  piecewise-affine warp and written as JPEG frames plus a coding spreadsheet in
  the CASME II layout, so that the dlib path (detector, shape predictor, frame and
  spreadsheet reading) runs on pixels.

Frame numbers (onset, apex, offset) are 1-based like the datasets' file names:
frame 1 is the first landmark frame; rendered files start at
`synthetic_render.FIRST_FRAME`.

Everything below (the mean face, the AU -> landmark table, the class prototypes,
the timing, drift and noise models) is our own construction, documented where it
is defined. It reproduces what matters for landmark feature maps: peak landmark
displacement of 1-3 px for micro and 10-20 px for macro expressions on a face about
220 px wide, micro-expressions shorter than 0.5 s, and an SFEM (Eq. 3) gap between
the two, not the faces of any dataset.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lfm_tf.datasets import specs
from lfm_tf.datasets.base import Clip, ReadResult

SPEC = specs.SPECS["synthetic"]
CLASS_SETS: dict[str, tuple[str, ...]] = {
    "megc": specs.MEGC_CLASSES,
    "ckplus": specs.CKPLUS_CLASSES,
}
INTENSITIES = ("micro", "macro", "mixed")

# Frame size of SMIC-HS and CASME II (width, height).
IMAGE_SIZE = (640, 480)

# Peak displacement of the most-moved landmark at the apex, px: micro-expressions
# move landmarks by about a pixel or two on a face ~220 px wide, posed macro
# expressions by ten or more.
PEAK_PX = {"micro": (1.0, 3.0), "macro": (10.0, 20.0)}
# A micro-expression lasts less than half a second from onset to offset.
MICRO_MAX_SECONDS = 0.5
# Std of i.i.d. Gaussian noise added to every landmark coordinate in every frame:
# about what a landmark tracker jitters on a still face of this size.
NOISE_PX = 0.2
# Head drift over a clip: the face translates by up to this much, rotates so that
# its outline moves by up to this much, and changes scale so that its width
# changes by up to half of it. Translation and rotation leave the maps (Eq. 1)
# unchanged; the scale change does not, a nuisance as in real recordings.
DRIFT_PX = 3.0
MIN_FRAMES = 8

# A neutral frontal face, ear-to-ear width 1, centred on its bounding box, x to the
# image right and y down. Ours: dlib's 68 landmarks on scikit-image's astronaut
# (upscaled 4x for sub-pixel positions), levelled by 2.7 degrees, averaged with
# its mirror image, and with her smile removed (lower lip raised 0.06 to close
# the mouth, lip corners lowered to the lip line).
_MEAN_FACE = np.array([
    (-0.500, -0.302), (-0.488, -0.173), (-0.469, -0.050), (-0.448, 0.075),
    (-0.406, 0.199), (-0.333, 0.307), (-0.231, 0.391), (-0.123, 0.461),
    (0.000, 0.483), (0.123, 0.461), (0.231, 0.391), (0.333, 0.307),
    (0.406, 0.199), (0.448, 0.075), (0.469, -0.050), (0.488, -0.173),
    (0.500, -0.302), (-0.427, -0.403), (-0.368, -0.467), (-0.279, -0.483),
    (-0.189, -0.472), (-0.104, -0.440), (0.104, -0.440), (0.189, -0.472),
    (0.279, -0.483), (0.368, -0.467), (0.427, -0.403), (0.000, -0.340),
    (0.000, -0.248), (0.000, -0.162), (0.000, -0.070), (-0.110, -0.023),
    (-0.055, -0.010), (0.000, 0.006), (0.055, -0.010), (0.110, -0.023),
    (-0.327, -0.334), (-0.268, -0.372), (-0.199, -0.369), (-0.134, -0.315),
    (-0.203, -0.307), (-0.273, -0.308), (0.134, -0.315), (0.199, -0.369),
    (0.268, -0.372), (0.327, -0.334), (0.273, -0.308), (0.203, -0.307),
    (-0.243, 0.105), (-0.153, 0.066), (-0.064, 0.065), (0.000, 0.077),
    (0.064, 0.065), (0.153, 0.066), (0.243, 0.105), (0.161, 0.120),
    (0.070, 0.169), (0.000, 0.177), (-0.070, 0.169), (-0.161, 0.120),
    (-0.215, 0.108), (-0.065, 0.104), (0.000, 0.112), (0.065, 0.104),
    (0.215, 0.108), (0.068, 0.116), (0.000, 0.123), (-0.068, 0.116),
])

# Each landmark's mirror partner in the iBUG order (midline points are their own).
_MIRROR = np.array(
    [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31,
     45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
     54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65])
# -1 on the image-left half (the subject's right), +1 on the other, 0 on the midline.
_SIDE = np.where(_MIRROR == np.arange(68), 0, np.sign(_MEAN_FACE[:, 0])).astype(int)

# AU -> {landmark: (outward, up)} for the image-left half and the midline; the other
# half is mirrored. Outward is away from the face's midline. Units are fractions of
# the largest landmark move of any AU (the jaw drop's chin). Our 2-D reading of the
# FACS descriptions: which landmarks each AU moves, in which direction, and how far
# relative to the others (a smile moves the lip corner further than AU6 lifts the
# lower lid); eyelid moves are kept small so that lids never cross.
ACTION_UNITS: dict[int, dict[int, tuple[float, float]]] = {
    1: {21: (0.0, 0.7), 20: (0.0, 0.5), 19: (0.0, 0.25), 18: (0.0, 0.1)},  # inner brow raiser
    2: {17: (0.05, 0.55), 18: (0.03, 0.7), 19: (0.0, 0.5), 20: (0.0, 0.2)},  # outer brow raiser
    4: {21: (-0.35, -0.4), 20: (-0.25, -0.5), 19: (-0.15, -0.45),  # brow lowerer
        18: (-0.05, -0.3), 17: (0.0, -0.15), 37: (0.0, -0.08), 38: (0.0, -0.1)},
    5: {37: (0.0, 0.4), 38: (0.0, 0.4), 40: (0.0, -0.05), 41: (0.0, -0.05)},  # upper lid raiser
    6: {40: (0.0, 0.3), 41: (0.0, 0.3), 36: (0.03, 0.1), 17: (0.0, -0.1)},  # cheek raiser
    7: {40: (0.0, 0.2), 41: (0.0, 0.2), 37: (0.0, -0.1), 38: (0.0, -0.1)},  # lid tightener
    9: {31: (0.08, 0.4), 32: (0.03, 0.3), 33: (0.0, 0.25), 30: (0.0, 0.1),  # nose wrinkler
        21: (-0.1, -0.25), 20: (0.0, -0.1), 39: (0.0, 0.08),
        49: (0.0, 0.15), 50: (0.0, 0.2), 51: (0.0, 0.2), 61: (0.0, 0.15), 62: (0.0, 0.15)},
    10: {50: (0.0, 0.6), 51: (0.0, 0.6), 49: (0.03, 0.45), 48: (0.0, 0.2),  # upper lip raiser
         61: (0.0, 0.55), 62: (0.0, 0.55), 60: (0.0, 0.25), 31: (0.03, 0.2), 32: (0.0, 0.1)},
    12: {48: (0.8, 0.6), 60: (0.6, 0.5), 49: (0.35, 0.35), 59: (0.35, 0.3),  # lip corner puller
         61: (0.2, 0.2), 67: (0.2, 0.25), 50: (0.1, 0.12), 58: (0.1, 0.15)},
    14: {48: (0.45, 0.15), 60: (0.4, 0.1), 49: (0.15, 0.05), 59: (0.15, 0.05)},  # dimpler
    15: {48: (0.1, -0.7), 60: (0.05, -0.55), 59: (0.0, -0.35), 49: (0.0, -0.25),  # lip corner
         67: (0.0, -0.3), 61: (0.0, -0.15), 58: (0.0, -0.15)},  # depressor
    17: {57: (0.0, 0.5), 58: (0.0, 0.45), 59: (0.0, 0.3), 66: (0.0, 0.4), 67: (0.0, 0.35),  # chin
         8: (0.0, 0.4), 7: (0.0, 0.3), 6: (0.0, 0.15), 62: (0.0, 0.1), 51: (0.0, 0.1),  # raiser
         48: (0.0, 0.1)},
    20: {48: (0.8, -0.1), 60: (0.6, -0.05), 49: (0.4, 0.0), 59: (0.4, -0.05),  # lip stretcher
         61: (0.2, 0.0), 67: (0.2, 0.0), 50: (0.15, 0.0), 58: (0.15, 0.0)},
    23: {48: (-0.5, 0.0), 60: (-0.4, 0.0), 49: (-0.25, -0.2), 50: (-0.1, -0.3),  # lip tightener
         51: (0.0, -0.3), 59: (-0.25, 0.2), 58: (-0.1, 0.3), 57: (0.0, 0.3),
         61: (-0.2, -0.1), 62: (0.0, -0.1), 67: (-0.2, 0.1), 66: (0.0, 0.1)},
    24: {51: (0.0, -0.4), 50: (0.0, -0.35), 57: (0.0, 0.4), 58: (0.0, 0.35),  # lip pressor
         62: (0.0, -0.15), 66: (0.0, 0.15), 48: (-0.15, 0.0), 60: (-0.1, 0.0)},
    25: {62: (0.0, 0.3), 61: (0.0, 0.25), 66: (0.0, -0.6), 67: (0.0, -0.55),  # lips part
         57: (0.0, -0.5), 58: (0.0, -0.45), 59: (0.0, -0.3), 51: (0.0, 0.15)},
    26: {8: (0.0, -1.0), 7: (0.0, -0.95), 6: (0.0, -0.8), 5: (0.0, -0.6),  # jaw drop
         4: (0.0, -0.35), 3: (0.0, -0.15), 57: (0.0, -0.9), 58: (0.0, -0.85),
         59: (0.0, -0.7), 66: (0.0, -0.95), 67: (0.0, -0.9), 48: (0.0, -0.45),
         60: (0.0, -0.5), 62: (0.0, -0.1)},
}


@dataclasses.dataclass(frozen=True)
class Prototype:
    """The AUs of one class: `core` always, each of `optional` in half the clips.

    `unilateral` puts the whole expression on one randomly chosen side of the face.
    """

    core: tuple[int, ...]
    optional: tuple[int, ...] = ()
    unilateral: bool = False


# Class -> AUs, after the EMFACS prototypes that CK+ labels by (anger 4+23/24,
# contempt unilateral 14, disgust 9/10, fear 1+2+4 (+5, 20, 25), happy 12 (+6),
# sadness 1+4+15, surprise 1+2 (+5, 26)) and MEGC's merged classes (negative:
# brow lowerer and lip corner depressor, with the disgust, anger and repression
# AUs as variants; positive 6+12; surprise). Which AUs are core and which
# optional is our choice, and so are the AUs from outside the prototype that
# most clips add (`_expression`): real clips are coded with such mixtures, and
# without them the classes would be separable by their apex map alone.
PROTOTYPES: dict[str, Prototype] = {
    "negative": Prototype((4, 15), (7, 9, 10, 17)),
    "positive": Prototype((12,), (6,)),
    "surprise": Prototype((1, 2), (5, 26)),
    "anger": Prototype((4, 23), (5, 7, 17, 24)),
    "contempt": Prototype((14,), (12,), unilateral=True),
    "disgust": Prototype((9,), (4, 10, 17)),
    "fear": Prototype((1, 2, 4), (5, 20, 25)),
    "happy": Prototype((12,), (6, 25)),
    "sadness": Prototype((1, 4, 15), (17,)),
}


@dataclasses.dataclass(frozen=True)
class SyntheticClip(Clip):
    """A generated clip with the codes an annotator would have written.

    Attributes:
      action_units: FACS code as in CASME II's spreadsheet, e.g. "4+9+15", or
        "R14" for a unilateral AU on the subject's right (the image's left).
      intensity: "micro" or "macro".
    """

    action_units: str = ""
    intensity: str = ""


def _au_field(au: int) -> np.ndarray:
    """(68, 2) displacement of AU `au` at full strength, in image axes (y down)."""
    field = np.zeros((68, 2))
    for k, (outward, up) in ACTION_UNITS[au].items():
        for m in {k, _MIRROR[k]}:
            field[m] = (_SIDE[m] * outward, -up)
    return field


_AU_FIELDS = {au: _au_field(au) for au in ACTION_UNITS}


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _subject_face(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A subject's neutral face (68, 2) around the origin, its centre in the frame
    and its head roll in radians.

    Variation (ours): ear-to-ear width 200-250 px, height/width +-8%, eyes and
    brows shifted apart or together by up to 3% of the width, mouth width +-12%,
    lower jaw +-8% wider and chin up to 4% longer or shorter, brows 3% higher or
    lower, 0.4% of the width of independent jitter per landmark, roll +-4 degrees
    and the face centre within 15 px of the frame centre.
    """
    width = rng.uniform(200.0, 250.0)
    face = _MEAN_FACE * (width, width * rng.uniform(0.92, 1.08))
    eyes_and_brows = np.r_[17:27, 36:48]
    face[eyes_and_brows, 0] += _SIDE[eyes_and_brows] * rng.uniform(-0.03, 0.03) * width
    face[48:68, 0] *= rng.uniform(0.88, 1.12)
    # 0 at the ears, 1 at the chin: a wider jaw or longer chin bends the outline there.
    toward_chin = np.sin(np.pi * np.arange(17) / 16)
    face[:17, 0] *= 1.0 + rng.uniform(-0.08, 0.08) * toward_chin
    face[:17, 1] += rng.uniform(-0.04, 0.04) * width * toward_chin**2
    face[17:27, 1] += rng.uniform(-0.03, 0.03) * width
    face += rng.normal(0.0, 0.004 * width, face.shape)
    centre = np.array(IMAGE_SIZE, float) / 2 + rng.uniform(-15.0, 15.0, 2)
    return face, centre, np.radians(rng.uniform(-4.0, 4.0))


def _expression(rng: np.random.Generator, label: str) -> tuple[np.ndarray, str]:
    """Unit-peak (68, 2) apex displacement of one clip of class `label`, and its AU code.

    Per clip (ours): core AUs get weights 0.6-1, each optional AU is present
    with probability 0.5 at weight 0.3-0.8, 0, 1 or 2 AUs from outside the
    prototype (probabilities 0.3, 0.4, 0.3) join at weight 0.3-1, and the two
    halves of the face get gains 1 +- a with a up to 0.3 (unilateral classes: one
    side only, the midline at half). The result is scaled so that the most-moved
    landmark moves by 1.
    """
    proto = PROTOTYPES[label]
    aus = {au: rng.uniform(0.6, 1.0) for au in proto.core}
    aus.update({au: rng.uniform(0.3, 0.8) for au in proto.optional if rng.random() < 0.5})
    others = sorted(set(ACTION_UNITS) - set(proto.core) - set(proto.optional))
    extra = rng.choice(others, size=rng.choice(3, p=(0.3, 0.4, 0.3)), replace=False)
    aus.update({int(au): rng.uniform(0.3, 1.0) for au in extra})
    if proto.unilateral:
        right = bool(rng.random() < 0.5)  # the subject's right is the image's left
        gains = {-1: float(right), 1: float(not right), 0: 0.5}
        prefix = "R" if right else "L"
    else:
        tilt = rng.uniform(-0.3, 0.3)
        gains = {-1: 1.0 + tilt, 1: 1.0 - tilt, 0: 1.0}
        prefix = ""
    field = sum(weight * _AU_FIELDS[au] for au, weight in aus.items())
    field = field * np.array([gains[s] for s in _SIDE])[:, None]
    code = "+".join(f"{prefix}{au}" for au in sorted(aus))
    return field / np.linalg.norm(field, axis=1).max(), code


def _timing(rng: np.random.Generator, n: int, fps: float,
            intensity: str) -> tuple[int, int, int, np.ndarray]:
    """0-based onset, apex and offset indices and the (n,) envelope in [0, 1].

    The expression spans 60-90% of the clip (micro: at most 0.5 s); it rises
    over 30-55% of that span along a raised cosine to the apex, holds for up to
    20% and falls back along a raised cosine to 0 at the offset. The first frame
    is always neutral.
    """
    longest = n - 2
    if intensity == "micro":
        longest = min(longest, int(MICRO_MAX_SECONDS * fps) - 1)
    if longest < 4:
        raise ValueError(f"{n} frames at {fps} fps leave no room for a {intensity} "
                         f"expression; use more frames or a higher frame rate")
    span = int(np.clip(round(rng.uniform(0.6, 0.9) * (n - 1)), 4, longest))
    onset = int(rng.integers(1, n - span))
    rise = max(1, round(rng.uniform(0.3, 0.55) * span))
    hold = min(round(rng.uniform(0.0, 0.2) * span), span - rise - 1)
    apex, release, offset = onset + rise, onset + rise + hold, onset + span
    t = np.arange(n, dtype=float)
    up = 0.5 - 0.5 * np.cos(np.pi * np.clip((t - onset) / rise, 0.0, 1.0))
    down = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - release) / (offset - release), 0.0, 1.0))
    return onset, apex, offset, np.where(t <= apex, up, down)


def _clip_track(rng: np.random.Generator, face: np.ndarray, centre: np.ndarray,
                roll: float, field: np.ndarray, envelope: np.ndarray, peak: float,
                noise_px: float, drift_px: float) -> np.ndarray:
    """(n, 68, 2) float32 landmarks: face + envelope * peak * field, posed and drifting."""
    n = len(envelope)
    # Smoothstep: the head starts and stops drifting gently.
    tau = np.linspace(0.0, 1.0, n)
    tau = tau * tau * (3.0 - 2.0 * tau)
    width = np.ptp(face[:, 0])
    shift = rng.uniform(-1.0, 1.0, 2) * drift_px / np.sqrt(2.0)
    turn = rng.uniform(-1.0, 1.0) * drift_px / (width / 2)
    zoom = rng.uniform(-1.0, 1.0) * 0.5 * drift_px / width
    centre = centre + rng.uniform(-5.0, 5.0, 2)
    roll = roll + np.radians(rng.uniform(-1.0, 1.0))
    track = np.empty((n, 68, 2))
    for k in range(n):
        pose = (1.0 + zoom * tau[k]) * _rotation(roll + turn * tau[k])
        shape = face + envelope[k] * peak * field
        track[k] = shape @ pose.T + centre + shift * tau[k]
    track += rng.normal(0.0, noise_px, track.shape)
    return track.astype(np.float32)


def generate(num_subjects: int = 8, clips_per_class: int = 4, classes: str = "megc",
             intensity: str = "micro", fps: float = SPEC.fps,
             num_frames: int | tuple[int, int] = (30, 40), seed: int = 0,
             noise_px: float = NOISE_PX, drift_px: float = DRIFT_PX) -> list[SyntheticClip]:
    """Synthetic expression clips as in-memory landmark tracks.

    The defaults make the demo set: 8 subjects x 3 classes x 4 clips of 30-40
    frames at 100 fps (96 clips). Sizes like CASME II's (246 clips, 26 subjects,
    about 67 frames at 200 fps): `generate(26, 3, fps=200.0, num_frames=(50, 85))`.

    Each clip draws from its own random stream keyed by (seed, subject, class,
    index), so a subject's clips do not change when more subjects or clips are
    asked for.

    Args:
      num_subjects: subjects "p01", "p02", ...
      clips_per_class: clips per subject and class, ids like "p01_positive_03".
      classes: "megc" (negative, positive, surprise) or "ckplus" (7 classes).
      intensity: "micro" (peak 1-3 px), "macro" (10-20 px) or "mixed" (each clip
        either, with equal probability).
      fps: frame rate; micro-expressions last under 0.5 s at any rate.
      num_frames: frames per clip, or an inclusive (low, high) range.
      seed: the random seed.
      noise_px: std of the Gaussian noise on every coordinate, px.
      drift_px: how far the head drifts over a clip, px (0 holds it still).

    Returns:
      Clips sorted by subject and clip id; `landmarks` is (N, 68, 2) float32 in
      pixels of a 640x480 frame; onset, apex and offset are 1-based frame numbers.
    """
    if classes not in CLASS_SETS:
        raise ValueError(f"unknown class set {classes!r}; expected one of {sorted(CLASS_SETS)}")
    if intensity not in INTENSITIES:
        raise ValueError(f"unknown intensity {intensity!r}; expected one of {INTENSITIES}")
    if num_subjects < 1 or clips_per_class < 1:
        raise ValueError("num_subjects and clips_per_class must be at least 1")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    if noise_px < 0 or drift_px < 0:
        raise ValueError("noise_px and drift_px cannot be negative")
    low, high = (num_frames, num_frames) if np.isscalar(num_frames) else num_frames
    if not MIN_FRAMES <= low <= high:
        raise ValueError(f"num_frames must be at least {MIN_FRAMES} (and low <= high), "
                         f"got {num_frames!r}")
    clips = []
    for s in range(1, num_subjects + 1):
        subject = f"p{s:02d}"
        face, centre, roll = _subject_face(np.random.default_rng((seed, s)))
        for c, label in enumerate(CLASS_SETS[classes]):
            for k in range(1, clips_per_class + 1):
                rng = np.random.default_rng((seed, s, c + 1, k))
                strength = (intensity if intensity != "mixed"
                            else ("micro", "macro")[int(rng.integers(2))])
                n = int(rng.integers(low, high + 1))
                onset, apex, offset, envelope = _timing(rng, n, fps, strength)
                field, code = _expression(rng, label)
                peak = rng.uniform(*PEAK_PX[strength])
                track = _clip_track(rng, face, centre, roll, field, envelope, peak,
                                    noise_px, drift_px)
                clips.append(SyntheticClip(
                    dataset="synthetic", subject=subject, clip_id=f"{subject}_{label}_{k:02d}",
                    label=label, fps=float(fps), landmarks=track, onset=onset + 1,
                    apex=apex + 1, offset=offset + 1, action_units=code, intensity=strength))
    return sorted(clips, key=lambda clip: (clip.subject, clip.clip_id))


def read(data_dir: str | None = None, *, num_subjects: int | None = None,
         clips_per_class: int | None = None, classes: str | None = None,
         intensity: str | None = None, fps: float | None = None,
         num_frames: int | tuple[int, int] | None = None, seed: int | None = None,
         render: bool = False) -> ReadResult:
    """The registry's entry: `generate` with these options (None: its default).

    In memory (`render=False`) `data_dir` is ignored and the clips carry their
    landmarks. With `render=True` the clips are rendered into `data_dir` in the
    CASME II layout (see `render`) and returned pointing at their JPEG frames,
    with onset, apex and offset as file-name numbers, so landmarks come from dlib.
    """
    options = {"num_subjects": num_subjects, "clips_per_class": clips_per_class,
               "classes": classes, "intensity": intensity, "fps": fps,
               "num_frames": num_frames, "seed": seed}
    clips = generate(**{k: v for k, v in options.items() if v is not None})
    spec = SPEC
    if classes is not None:
        spec = dataclasses.replace(spec, classes=CLASS_SETS[classes])
    if fps is not None:
        spec = dataclasses.replace(spec, fps=float(fps))
    if render:
        if data_dir is None:
            raise ValueError("synthetic: render=True needs a data_dir to write frames into")
        # Rendering alone needs OpenCV, dlib and scikit-image; the in-memory data does not.
        from lfm_tf.datasets import synthetic_render

        clips = synthetic_render.render_once(clips, data_dir, options)
    return ReadResult(spec=spec, clips=list(clips))
