"""Synthetic long recordings for spotting: expressions planted at known times among distractors.

Each video is an in-memory 68-point landmark track (px of a 640x480 frame) of one
synthetic subject (`synthetic`'s faces and AU displacement fields) in which
micro-expressions (ME: 1-3 px at the apex, 0.25-0.5 s) and macro-expressions (MaE:
10-20 px, 0.7-3 s) follow each other with 1-3 s gaps, interleaved with what a
spotter must not report (our model of each, documented where it is made):

- blinks, every 2-6 s at random (also during expressions): the lids close and
  open in 0.1-0.3 s;
- talking: bursts of 1-3 s of the jaw opening and closing at 3-5 syllables/s;
- a head turn: yaw to 10-20 degrees in 0.5-1 s, held 2-4 s, and back, projected
  from a depth model of the face (so distances change, unlike a roll or shift);
- slow drift of position (+-20 px), scale (+-5%) and roll (+-3 degrees) over the
  video, and landmark noise (0.2 px per coordinate per frame, `synthetic.NOISE_PX`).

Frame numbers are 1-based like the datasets' file names. The truth is every
planted expression as an Interval (type "me"/"mae", name "p01_1_me03").
"""

from __future__ import annotations

import numpy as np

from lfm_tf.datasets import specs, synthetic
from lfm_tf.datasets.long_videos import Interval, LongVideo, SpottingReadResult

SPEC = specs.SPECS["synthetic_long"]
DURATION_S = {"me": (0.25, 0.5), "mae": (0.7, 3.0)}
GAP_S = (1.0, 3.0)
BLINK_EVERY_S, BLINK_S, BLINK_CLOSURE = (2.0, 6.0), (0.1, 0.3), 0.9
TALK_S, SYLLABLES_HZ, TALK_CHIN_PX = (1.0, 3.0), (3.0, 5.0), (3.0, 8.0)
TURN_RAMP_S, TURN_HOLD_S, TURN_DEGREES = (0.5, 1.0), (2.0, 4.0), (10.0, 20.0)
DRIFT = {"shift_px": 20.0, "scale": 0.05, "roll_degrees": 3.0}
# What happens between expressions, in this proportion (ours): mostly nothing, then
# talking; one head turn per video is planted apart.
EVENTS = {"me": 0.3, "mae": 0.25, "talk": 0.2, "rest": 0.25}

# Upper and lower lids of both eyes move toward each other in a blink.
_UPPER_LIDS, _LOWER_LIDS = (37, 38, 43, 44), (41, 40, 47, 46)
# Depth of each landmark (fraction of face width, toward the camera) for the head
# turn: a half-ellipsoid of the outline with the nose standing out (ours).
_X = synthetic._MEAN_FACE[:, 0]
_DEPTH = 0.45 * np.sqrt(np.clip(1.0 - (2.0 * _X) ** 2, 0.0, 1.0))
_DEPTH[27:36] += np.array([0.05, 0.1, 0.15, 0.2, 0.1, 0.12, 0.14, 0.12, 0.1])


def _raised_cosine(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) onset-apex-offset envelope, 0 at both ends and 1 at the apex, as in
    `synthetic._timing`: rise over 30-55%, hold up to 20%, fall."""
    rise = max(1, round(rng.uniform(0.3, 0.55) * (n - 1)))
    hold = min(round(rng.uniform(0.0, 0.2) * (n - 1)), n - 2 - rise)
    t = np.arange(n, dtype=float)
    up = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / rise, 0.0, 1.0))
    fall = max(1, n - 1 - rise - hold)
    down = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - rise - hold) / fall, 0.0, 1.0))
    return np.where(t <= rise + hold, up, down)


def _smooth_walk(rng: np.random.Generator, n: int, fps: float, size: float) -> np.ndarray:
    """(n,) slow random motion within +-size: noise low-passed to periods of ~10 s."""
    knots = rng.uniform(-size, size, int(n / (10 * fps)) + 2)
    return np.interp(np.linspace(0, len(knots) - 1, n), np.arange(len(knots)), knots)


def _video(rng: np.random.Generator, subject: str, video_id: str, fps: float, seconds: float,
           noise_px: float) -> LongVideo:
    n = int(round(seconds * fps))
    face, centre, roll = synthetic._subject_face(rng)
    width = np.ptp(face[:, 0])
    shape = np.repeat(face[None], n, axis=0)
    intervals, yaw = [], np.zeros(n)
    # The head turn sits in the middle third; expressions keep clear of it, since a
    # turn hides the face's own motion behind its own.
    ramp, hold = (int(rng.uniform(*r) * fps) for r in (TURN_RAMP_S, TURN_HOLD_S))
    turn_start = int(rng.uniform(n / 3, 2 * n / 3 - 2 * ramp - hold))
    turn_end = turn_start + 2 * ramp + hold
    angle = np.radians(rng.uniform(*TURN_DEGREES)) * rng.choice([-1, 1])
    rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    yaw[turn_start:turn_end] = angle * np.r_[rise, np.ones(hold), rise[::-1]]
    t = int(GAP_S[0] * fps)
    counts = {"me": 0, "mae": 0}
    while True:
        kind = str(rng.choice(list(EVENTS), p=list(EVENTS.values())))
        low, high = DURATION_S.get(kind, TALK_S if kind == "talk" else GAP_S)
        length = max(3, int(round(rng.uniform(low, high) * fps)))
        if t + length + fps >= n:
            break
        if t < turn_end and t + length > turn_start:
            t = turn_end + int(GAP_S[0] * fps)
            continue
        if kind in counts:
            label = str(rng.choice(specs.MEGC_CLASSES))
            field, code = synthetic._expression(rng, label)
            peak = rng.uniform(*synthetic.PEAK_PX["micro" if kind == "me" else "macro"])
            envelope = _raised_cosine(length, rng)
            shape[t:t + length] += envelope[:, None, None] * peak * field
            counts[kind] += 1
            intervals.append(Interval(
                t + 1, t + 1 + int(np.argmax(envelope)), t + length, kind,
                f"{video_id}_{kind}{counts[kind]:02d}", code, label))
        elif kind == "talk":
            phase = 2 * np.pi * rng.uniform(*SYLLABLES_HZ) * np.arange(length) / fps
            opening = rng.uniform(*TALK_CHIN_PX) * np.sin(phase / 2) ** 2
            jaw = synthetic._AU_FIELDS[26] + 0.5 * synthetic._AU_FIELDS[25]
            shape[t:t + length] += opening[:, None, None] * jaw / np.abs(jaw).max()
        t += length + int(rng.uniform(*GAP_S) * fps)
    blink = int(rng.uniform(*BLINK_EVERY_S) * fps)
    while blink < n - fps:
        length = max(3, int(rng.uniform(*BLINK_S) * fps))
        closure = np.sin(np.pi * np.arange(length) / (length - 1)) * BLINK_CLOSURE
        for upper, lower in zip(_UPPER_LIDS, _LOWER_LIDS):
            gap = shape[blink:blink + length, lower, 1] - shape[blink:blink + length, upper, 1]
            shape[blink:blink + length, upper, 1] += 0.7 * closure * gap
            shape[blink:blink + length, lower, 1] -= 0.3 * closure * gap
        blink += length + int(rng.uniform(*BLINK_EVERY_S) * fps)
    # Head turn: orthographic projection of the face turned about its vertical axis.
    depth = _DEPTH * width
    shape[..., 0] = shape[..., 0] * np.cos(yaw)[:, None] + depth * np.sin(yaw)[:, None]
    scale = 1.0 + _smooth_walk(rng, n, fps, DRIFT["scale"])
    angle = roll + np.radians(_smooth_walk(rng, n, fps, DRIFT["roll_degrees"]))
    c, s = np.cos(angle), np.sin(angle)
    x, y = shape[..., 0], shape[..., 1]
    track = np.stack([c[:, None] * x - s[:, None] * y, s[:, None] * x + c[:, None] * y], -1)
    track *= scale[:, None, None]
    shift = np.stack([_smooth_walk(rng, n, fps, DRIFT["shift_px"]) for _ in range(2)], -1)
    track += centre + shift[:, None, :]
    track += rng.normal(0.0, noise_px, track.shape)
    return LongVideo("synthetic_long", subject, video_id, float(fps), tuple(intervals),
                     landmarks=track.astype(np.float32))


def generate(num_subjects: int = 6, videos_per_subject: int = 2, fps: float = SPEC.fps,
             seconds: float = 60.0, seed: int = 0,
             noise_px: float = synthetic.NOISE_PX) -> list[LongVideo]:
    """Long synthetic recordings with planted intervals, keyed by (seed, subject, video).

    Args:
      num_subjects: subjects "p01", "p02", ... (LOSO folds).
      videos_per_subject: videos "p01_1", "p01_2", ...
      fps: frame rate; 30 like CAS(ME)^2 (200 like SAMM-LV costs 6.7x the frames).
      seconds: length of each video, at least 20 s.
      seed: the random seed; a video does not change when more are asked for.
      noise_px: std of the landmark noise per coordinate and frame, px.

    Returns:
      Videos sorted by subject and id, `landmarks` (N, 68, 2) float32 px, every
      planted expression in `intervals`.
    """
    if seconds < 20 or not fps > 0 or num_subjects < 1 or videos_per_subject < 1:
        raise ValueError("need seconds >= 20, fps > 0 and at least one subject and video")
    return [_video(np.random.default_rng((seed, s, v)), f"p{s:02d}", f"p{s:02d}_{v}", fps,
                   seconds, noise_px)
            for s in range(1, num_subjects + 1) for v in range(1, videos_per_subject + 1)]


def read(data_dir: str | None = None, *, num_subjects: int | None = None,
         videos_per_subject: int | None = None, fps: float | None = None,
         seconds: float | None = None, seed: int | None = None) -> SpottingReadResult:
    """The registry's entry: `generate` with these options (None: its default);
    `data_dir` is ignored (everything is in memory)."""
    options = {"num_subjects": num_subjects, "videos_per_subject": videos_per_subject,
               "fps": fps, "seconds": seconds, "seed": seed}
    videos = generate(**{k: v for k, v in options.items() if v is not None})
    return SpottingReadResult(SPEC if fps is None else specs.DatasetSpec(
        SPEC.name, SPEC.classes, float(fps), SPEC.protocol), videos)
