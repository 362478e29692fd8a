"""The time base of a recording: frames evenly spaced in time, or made so.

Eq. 1 compares frames T apart and T = round(fps / 25) (Section V-A) assumes they
are 1 / fps apart. Phones record variable-frame-rate video, and a landmark file
may skip frames, so where per-frame times are known (a video container's
presentation times, a landmark file's time column) they are checked first.

Even: every interval between consecutive frames is within `tolerance` of a frame
period (default 25%: ms-rounded times at 200 fps still pass, a 5 ms / 15 ms
alternation at 100 fps does not). The period is the declared rate's: a video's
own fps; for a landmark file `--fps`, unless its times run on another clock
(OpenFace writes made-up times for image folders, 30 fps or 1 ms apart, whatever
their real rate): then the mean time per frame of its times (`file_period`), and
`--fps` still says what rate the frames are, as it does for a video.

The rate is `--fps` wherever it is given, even where the input declares another
(a high-speed camera's video stores a playback rate; OpenFace's times for an image
folder are made up): T, times in seconds and windows follow it. A declared rate
further than `RATE_TOLERANCE` from it (a video's header; a landmark file's times,
`times_fps`) is reported, never silently overridden (`recordings.read_recording`).

Uneven, by default (`uneven="resample"`): the landmark track is resampled to the
period, t0 + k / fps for k = 0, 1, ...: a grid time within `tolerance` of a frame
takes that frame; otherwise it is interpolated linearly between the frames either
side, unless they are (2 - tolerance) periods or more apart (a frame is missing
there) or either has no face: then it is a frame without a face, filled or not
under `--max_gap` like any other. `uneven="refuse"` refuses the input instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

UNEVEN_CHOICES = ("resample", "refuse")
# How far --fps may lie from the rate an input declares (a video's header, the
# times of a landmark file) before the output says so, as a fraction: NTSC's 29.97
# against 30 fps passes, 25 against 30 or 24 against 25 does not, and times written
# to the millisecond pass over 50 ms or more of recording.
RATE_TOLERANCE = 0.02


class TimeBaseError(ValueError):
    """Frame times that are unusable, or uneven where that is refused."""


@dataclasses.dataclass(frozen=True)
class TimeSettings:
    """What to do with uneven frame times.

    Attributes:
      uneven: "resample" to the declared rate, or "refuse".
      tolerance: the largest deviation of an interval from the frame period
        that still counts as even, as a fraction of the period.
    """

    uneven: str = "resample"
    tolerance: float = 0.25

    def __post_init__(self):
        if self.uneven not in UNEVEN_CHOICES:
            raise ValueError(f"--uneven_time must be one of {', '.join(UNEVEN_CHOICES)}, "
                             f"got {self.uneven!r}")
        if not 0 < self.tolerance < 0.5:
            raise ValueError(f"--time_tolerance must be in (0, 0.5), got {self.tolerance}")


@dataclasses.dataclass
class Conformed:
    """A track on an even time base.

    Attributes:
      points: float64 (M, 68, 2) px, NaN for frames without a face.
      time_base: "even" (the times were), "resampled" or "frame order" (no times).
      note: what was found and done, for people; None when nothing was.
      source_frames: int (M,), the input frame nearest in time to each frame
        (where its pixels are); None when the frames are the input's own.
    """

    points: np.ndarray
    time_base: str
    note: str | None = None
    source_frames: np.ndarray | None = None


def _steps(times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames with a time, their times, and the time per frame from each to the next
    (frames without a time, e.g. rows a landmark file lacks, are spanned)."""
    known = np.flatnonzero(np.isfinite(times))
    t = times[known]
    return known, t, np.diff(t) / np.maximum(np.diff(known), 1)


def times_fps(times: np.ndarray) -> float | None:
    """The frame rate (frames / s) that per-frame `times` (s, NaN where unknown)
    give: the frames from the first known time to the last over the time between
    them; None with fewer than 2 times or none between them."""
    known, t, _ = _steps(np.asarray(times, np.float64))
    if len(known) < 2 or t[-1] <= t[0]:
        return None
    return float((known[-1] - known[0]) / (t[-1] - t[0]))


def rates_disagree(given: float, declared: float | None) -> bool:
    """Whether a frame rate `given` (--fps) lies further than `RATE_TOLERANCE`
    from the one an input `declared` (None: it declares none)."""
    return declared is not None and abs(given / declared - 1) > RATE_TOLERANCE


def file_period(times: np.ndarray, fps: float, tolerance: float) -> float | None:
    """The frame period (s) a landmark file's `times` (NaN where unknown) are
    judged against: 1 / `fps` (--fps) where their mean time per frame is within
    `tolerance` of it, else that mean (the times run on another clock, e.g.
    OpenFace's made-up times for an image folder); None with fewer than 2 times."""
    rate = times_fps(times)
    if rate is None:
        return None
    return 1 / fps if abs(fps / rate - 1) <= tolerance else 1 / rate


def conform(source: str, points: np.ndarray, times: np.ndarray | None, period: float | None,
            settings: TimeSettings = TimeSettings()) -> Conformed:
    """`points` (N, 68, 2), NaN without a face, taken at `times` (N,) s (NaN where
    unknown), on an even time base of `period` s (module docstring).

    Raises TimeBaseError naming `source` when the times go backwards, or are
    uneven and `settings.uneven` is "refuse".
    """
    points = np.asarray(points, np.float64)
    if times is None or period is None:
        return Conformed(points, "frame order")
    times = np.asarray(times, np.float64)
    known, t, steps = _steps(times)
    p = points[known]
    if (steps <= 0).any():
        k = int(known[np.argmax(steps <= 0) + 1])
        raise TimeBaseError(f"{source}: frame times do not increase at frame {k} "
                            f"({t[np.argmax(steps <= 0)]:.4f} s, then {times[k]:.4f} s)")
    tol = settings.tolerance
    if steps.size == 0 or (np.abs(steps - period) <= tol * period).all():
        return Conformed(points, "even")
    fps = 1 / period
    found = (f"frame times uneven (intervals {steps.min() * 1e3:.1f} to {steps.max() * 1e3:.1f} "
             f"ms, a frame is {period * 1e3:.1f} ms at {fps:g} fps; tolerance {tol:.0%})")
    if settings.uneven == "refuse":
        raise TimeBaseError(f"{source}: {found}: pass --uneven_time=resample to resample the "
                            f"landmarks to {fps:g} fps")
    # The grid ends at the last frame (within tolerance), never beyond it.
    count = int(np.floor((t[-1] - t[0]) / period + tol)) + 1
    grid = t[0] + np.arange(count) * period
    out = np.full((count, *points.shape[1:]), np.nan)
    for k, g in enumerate(grid):
        b = int(np.searchsorted(t, g))
        near = [j for j in (b - 1, b) if 0 <= j < len(t) and abs(t[j] - g) <= tol * period]
        if near:
            out[k] = p[min(near, key=lambda j: abs(t[j] - g))]
        elif 0 < b < len(t) and t[b] - t[b - 1] < (2 - tol) * period:
            w = (g - t[b - 1]) / (t[b] - t[b - 1])
            out[k] = (1 - w) * p[b - 1] + w * p[b]
    after = np.clip(np.searchsorted(t, grid), 1, max(len(t) - 1, 1))
    nearest = np.where(np.abs(t[after - 1] - grid) <= np.abs(t[after] - grid), after - 1, after)
    return Conformed(out, "resampled", f"{found}: landmarks resampled to {fps:g} fps, "
                                      f"{len(points)} -> {count} frames", known[nearest])


def resampled_frames(frames: Sequence[int], source_frames: np.ndarray | None) -> tuple[int, ...]:
    """Where the input's 0-based `frames` (cuts) fall on a resampled grid: the first
    grid frame drawn from each or a later one (`Conformed.source_frames`; None:
    the grid is the input's own frames)."""
    if source_frames is None:
        return tuple(frames)
    return tuple(sorted({int(np.searchsorted(source_frames, f)) for f in frames}))
