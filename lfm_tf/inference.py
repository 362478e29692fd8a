r"""Prediction with an exported model on a person's video, frames or landmark track.

The path of one input, as in training (Choi & Song, IEEE Access 2020, Section III):

  video file | folder of frames | landmark file (.npy, .csv)
  -> 68 landmarks per frame (`lfm_tf.recordings`), frames without a face counted
     and, across short gaps, interpolated
  -> T = round(fps / 25) (Section V-A) unless given
  -> maps of Eq. 1, normalized by Eq. 2, the middle 24 of them (Section V-A)
  -> the exported classifier (`lfm_tf.model_folder`: CNN of Table 1, LSTM of
     Table 2) -> probabilities, with SFEM (Eq. 3) of the same frames beside them.

A whole input is one clip, as a dataset clip is in training. With a `window` (frames,
or seconds: "0.5s") the same is done for every window of that length, `stride`
apart (default half a window, so that a movement of up to half a window lies wholly
inside one), and, where frames are left after the last, one more window ending on
the last frame (`window_ranges`): every frame with a face is in a window, so a long
recording shows where something happened. With `spot`, the
spotter (`lfm_tf.spotting.spotter`) first finds ME and MaE intervals and each one is
classified as a clip of its own (spot-then-recognise, as MEGC 2022-2025 score it).

Frames without a face: runs of at most `max_gap` of them are interpolated between
the frames either side, as preprocessing does (`LandmarkSettings.max_gap`). A
longer run cannot be bridged: the whole-input prediction uses the longest stretch
of frames without one, and each stretch between such runs gets its own windows, laid
as on a whole input (`stretch_windows`; one shorter than a window is one shorter
window). The record names the frames in no window and why (`outside_windows`): the
runs without a face, and any stretch between them of at most T frames, too short
for a map.

The adaptive framework (Section IV-B, Fig. 4; `lfm_tf.table8.adaptive`): given an
exported I-FER too (`model_folder.ExportedIFER`), the whole input and every window
is routed by its SFEM before any network runs: below tau to the classifier above
(LFM-FER), otherwise to the I-FER, which reads eye-aligned crops of a few of its
frames (`lfm_tf.table8.crops`) and their landmark trajectory. Only the chosen
network sees it. A span the chosen network cannot run on (routed to the I-FER from
a landmark file, which has no pixels; a frame to crop that cannot be read) is
reported as skipped, with its route and the reason, and costs only itself: the
other spans are classified, and `exit_status` says the input was not fully done.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

import numpy as np

from lfm_tf import features, files, landmark_files, landmarks, temporal_filter, timebase
from lfm_tf.datasets.long_videos import TYPE_TITLES, spotting_facts
from lfm_tf.model_folder import ExportedIFER, ExportedModel, check_same_classes
from lfm_tf.recordings import (InputError, Recording, describe_runs, read_frames,
                               read_recording, runs, unbridged_extractor, unbridged_gaps,
                               usable_ranges)
from lfm_tf.spotting import spotter
from lfm_tf.table8 import adaptive, crops, ifer

# What a result record calls the network that ran on a clip (`adaptive.route`'s names).
ROUTES = {adaptive.LFM_FER: "lfm", adaptive.I_FER: "ifer"}
ROUTE_TITLES = {"lfm": "LFM-FER", "ifer": "I-FER"}
# Why a span routed to the I-FER from a landmark file gets no class.
NO_PIXELS = ("a landmark file has no frames for the I-FER to crop: pass the video or "
             "folder of frames instead, or a larger --tau")
# --window and --stride: a whole number of frames, or a duration in s or ms.
_LENGTH = re.compile(r"(?P<value>[-+]?\d+(?:\.\d*)?|\.\d+)(?P<unit>s|ms)?")
_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3}


def model_input(track: np.ndarray, frame_interval: int, indices: Sequence[int],
                length: int = features.WINDOW_LENGTH) -> np.ndarray:
    """The classifier's input for a clip's landmarks, exactly as training made it:
    maps of Eq. 1 normalized by Eq. 2, the middle `length` (padded when fewer)."""
    maps = features.normalize(features.lfm(track, frame_interval, indices))
    return features.select_window(maps, length)


@dataclasses.dataclass(frozen=True)
class PredictOptions:
    """How inputs are read and cut.

    Attributes:
      fps: frame rate; required for frames and landmark files, and overrides
        what a video declares.
      frame_interval: T of Eq. 1; None for round(fps / 25) per input (Section V-A).
      window: the length of a sliding window: a whole number of frames (25 or
        "25") or a duration ("0.5s", "500ms"), made frames at each input's rate
        (`length_frames`); None predicts on the whole input only.
      stride: from one window's start to the next, in the window's unit, at
        most the window (frames between windows would never be seen); None:
        half the window in frames, rounded down, so that a movement of up to
        half a window (an onset) lies wholly inside at least one window. Windows
        are laid on each stretch between unbridgeable gaps (`stretch_windows`),
        and where frames are left after a stretch's last window, one more ends
        on its last frame (`window_ranges`). Seconds are made frames at each
        input's rate (`window_frames`), which refuses a rounding that changes
        what was asked.
      max_gap: the longest run of frames without a face that is interpolated.
      landmark_settings: dlib model, detection, tracking and refinement (its own
        max_gap is not used).
      temporal_filter: `lfm_tf.temporal_filter` denoiser run on every track.
      file_settings: which face of a landmark file, and its confidence floor.
      time_settings: uneven frame times resampled or refused, and the tolerance.
      spot: also spot ME and MaE intervals and classify each (default thresholds,
        `spotter.DEFAULT_THRESHOLDS`; windows k of CAS(ME)^2 in seconds).
      sfem_form: the form of SFEM (Eq. 3, all 68 landmarks) that each input,
        window and spotted interval gets and is routed by (`features.sfem`):
        "peak" (default, `features.WINDOW_SFEM_FORM`: the same value whatever
        the window's length, the frame rate and the face's size in pixels),
        "scaled" or "printed" (summed over maps, as the records and Table 8
        hold it).
      sfem_scale_change: the peak form's estimate of the head's scale change
        (`features.SFEM_SCALE_CHANGES`).
      sfem_blink_openness: the peak form skips frames whose eye openness is
        below this fraction of the window's open-eye level, in [0, 1]; 0 skips
        none (`features.BLINK_OPENNESS`).

    Raises ValueError for a setting out of range or that cannot make a map:
    a window of one frame (or of at most --frame_interval frames), and, where
    --fps is given, what `window_frames` refuses at it: before any input is read.
    """

    fps: float | None = None
    frame_interval: int | None = None
    window: int | str | None = None
    stride: int | str | None = None
    max_gap: int = landmarks.LandmarkSettings.max_gap
    landmark_settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings()
    file_settings: landmark_files.FileSettings = landmark_files.FileSettings()
    time_settings: timebase.TimeSettings = timebase.TimeSettings()
    spot: bool = False
    sfem_form: str = features.WINDOW_SFEM_FORM
    temporal_filter: str = temporal_filter.DEFAULT_TEMPORAL_FILTER
    sfem_scale_change: str = features.WINDOW_SFEM_SCALE_CHANGE
    sfem_blink_openness: float = features.BLINK_OPENNESS

    def __post_init__(self):
        for name in ("fps", "frame_interval"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"--{name} must be positive, got {value}")
        if self.stride is not None and self.window is None:
            raise ValueError("--stride needs --window")
        if self.window is not None:
            window = parse_length(self.window, "window")
        if self.stride is not None:
            stride = parse_length(self.stride, "stride")
            if stride[1] != window[1]:
                raise ValueError(f"--stride={self.stride} and --window={self.window}: give "
                                 f"both in frames or both in seconds")
            if stride[0] > window[0]:
                raise ValueError(f"--stride={self.stride} is longer than --window="
                                 f"{self.window}: the frames between windows would never be "
                                 f"seen; use a stride of at most the window")
        if self.max_gap < 0:
            raise ValueError(f"--max_gap cannot be negative, got {self.max_gap}")
        if self.sfem_form not in features.SFEM_FORMS:
            raise ValueError(f"--sfem_form must be one of {features.SFEM_FORMS}, got "
                             f"{self.sfem_form!r}")
        if self.sfem_scale_change not in features.SFEM_SCALE_CHANGES:
            raise ValueError(f"--sfem_scale_change must be one of "
                             f"{features.SFEM_SCALE_CHANGES}, got {self.sfem_scale_change!r}")
        if not 0 <= self.sfem_blink_openness <= 1:
            raise ValueError(f"--sfem_blink_openness is a fraction of the open eyes' "
                             f"openness, from 0 (skip no frame) to 1, got "
                             f"{self.sfem_blink_openness}")
        if self.window is not None and window[1] == "frames":
            # A map compares two frames T apart: known before any input is read.
            least = (self.frame_interval or 1) + 1
            if window[0] < least:
                at = (f"T = --frame_interval={self.frame_interval}" if self.frame_interval
                      else "any T")
                raise ValueError(f"--window={self.window} is {_frames(window[0])}, which makes "
                                 f"no map at {at} (a map compares frames T apart): use at "
                                 f"least {least} frames")
        if self.window is not None and self.fps:
            # Every input is read at --fps: its windows are known now, so a bad one
            # is refused once, not once per input.
            self.window_frames(self.fps, self.frame_interval
                               or features.frame_interval_for_fps(self.fps))

    def window_frames(self, fps: float, frame_interval: int) -> tuple[int, int]:
        """(window, stride) in frames at `fps` (frames / s), for maps at T =
        `frame_interval`; needs a window.

        Seconds are rounded to the nearest frame. Raises ValueError, with the
        frames each became, where that changes what was asked: a window of at
        most T frames (no map), a stride of 0 frames, or a stride asked shorter
        than the window that rounds to all of it (the windows would not overlap).
        """
        window = length_frames(self.window, fps, "window")
        if window <= frame_interval:
            raise ValueError(f"--window={self.window} is {_frames(window)} at {fps:g} fps, "
                             f"which makes no map at T = {frame_interval}: use at least "
                             f"{frame_interval + 1} frames")
        if self.stride is None:
            return window, window // 2
        stride = length_frames(self.stride, fps, "stride")
        if stride == 0:
            raise ValueError(f"--stride={self.stride} is 0 frames at {fps:g} fps: use at "
                             f"least 1 frame ({1 / fps:.4g}s)")
        asked_less = parse_length(self.stride, "stride")[0] < parse_length(self.window,
                                                                           "window")[0]
        if asked_less and stride >= window:
            shorter = window - 1
            raise ValueError(f"--stride={self.stride} and --window={self.window} are both "
                             f"{_frames(window)} at {fps:g} fps: the windows would not "
                             f"overlap as asked; give a stride of at most {shorter / fps:.4g}s "
                             f"({_frames(shorter)}), or both in frames")
        return window, stride

    def sfem(self, track: np.ndarray, frame_interval: int) -> float:
        """SFEM (Eq. 3, all 68 landmarks) of a span's landmarks in this form and
        with these settings (`features.sfem`)."""
        return features.sfem(track, frame_interval, form=self.sfem_form,
                             scale_change=self.sfem_scale_change,
                             blink_openness=self.sfem_blink_openness)


def parse_length(length: int | str, flag: str) -> tuple[float, str]:
    """A --window or --stride as (value, unit): (25, "frames") for 25 or "25",
    (0.5, "s") for "0.5s" or "500ms".

    Raises ValueError, naming `--flag`, for anything else: a fraction of a frame,
    another unit, a length that is not above 0.
    """
    match = _LENGTH.fullmatch(str(length).strip().lower())
    if match is None:
        raise ValueError(f"--{flag}={length}: give frames (25) or seconds (0.5s, 500ms)")
    value, unit = float(match["value"]), match["unit"]
    if not value > 0:
        raise ValueError(f"--{flag}={length} must be above 0")
    if unit is None:
        if value != int(value):
            raise ValueError(f"--{flag}={length}: a number of frames is whole; for seconds, "
                             f"write {length}s")
        return int(value), "frames"
    return value * _SECONDS_PER_UNIT[unit], "s"


def length_frames(length: int | str, fps: float, flag: str) -> int:
    """A --window or --stride (`parse_length`) in frames at `fps` (frames / s): a
    duration is rounded to the nearest frame, 0 where it is under half a frame
    (`PredictOptions.window_frames` says what that means)."""
    value, unit = parse_length(length, flag)
    return int(value) if unit == "frames" else round(value * fps)


def _frames(count: int) -> str:
    """'1 frame', '25 frames'."""
    return f"{count} frame" if count == 1 else f"{count} frames"


def window_ranges(num_frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) of each window of `window` frames, `stride` (at most `window`)
    apart: starts 0, stride, 2 stride, ... while a whole window fits, then, where
    frames are left after the last of those, one more window ending on the last
    frame (starting at num_frames - window). So every frame is in a window, and
    any run of up to window - stride frames lies wholly inside at least one. An
    input shorter than one window is one window.

    Raises ValueError when `stride` is above `window`.
    """
    if stride > window:
        raise ValueError(f"a stride of {stride} frames is longer than the window, {window}: "
                         f"the frames between windows would never be seen")
    if num_frames <= window:
        return [(0, num_frames)]
    ranges = [(s, s + window) for s in range(0, num_frames - window + 1, stride)]
    if ranges[-1][1] < num_frames:
        ranges.append((num_frames - window, num_frames))
    return ranges


def stretch_windows(face: np.ndarray, max_gap: int, frame_interval: int, window: int,
                    stride: int, cuts: Sequence[int] = ()
                    ) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """The windows of a recording whose frames with a face are `face` (bool (N,)),
    and the frames in none.

    Each stretch between gaps of more than `max_gap` frames without a face and
    cuts between shots (`usable_ranges`) gets its own windows, laid as on a whole input
    (`window_ranges`): from its start, the last ending on its last frame, and a
    stretch shorter than a window is one shorter window. A window never holds a
    frame of such a gap, which cannot be interpolated across.

    Returns ([start, end) of each window, in order; (first, last, why) of each run
    of frames in no window: an unbridgeable gap, or a stretch of at most T =
    `frame_interval` frames, too short for a map).
    """
    windows = []
    outside = [(a, b, f"no face in {_frames(b - a + 1)} in a row, more than --max_gap="
                f"{max_gap} interpolates across") for a, b in unbridged_gaps(face, max_gap)]
    for start, end in usable_ranges(face, max_gap, cuts):
        if end - start <= frame_interval:
            outside.append((start, end - 1, f"only {_frames(end - start)} with a face between "
                                            f"gaps or cuts, too few for a map at T = "
                                            f"{frame_interval}"))
            continue
        windows += [(start + s, start + e) for s, e in window_ranges(end - start, window, stride)]
    return windows, sorted(outside)


def _span(rec: Recording, start: int, end: int, frame_interval: int,
          options: PredictOptions) -> dict:
    return {"start_frame": start, "end_frame": end - 1,
            "start_s": round(start / rec.fps, 3), "end_s": round((end - 1) / rec.fps, 3),
            "num_maps": end - start - frame_interval,
            "filled_frames": int(np.count_nonzero(~rec.face[start:end])),
            "landmark_reliability": round(float(rec.reliability[start:end].mean()), 4),
            "sfem": options.sfem(rec.landmarks[start:end], frame_interval)}


def predict_recording(model: ExportedModel, rec: Recording, options: PredictOptions,
                      image: ExportedIFER | None = None, tau: float = adaptive.TAU) -> dict:
    """The result record of one input (see `run` for its fields); with an I-FER
    (`image`, of the same classes), the adaptive framework's (`routed_probabilities`)."""
    interval = options.frame_interval or features.frame_interval_for_fps(rec.fps)
    gaps = unbridged_gaps(rec.face, options.max_gap)
    record = {"input": rec.path, "source": rec.source, "num_frames": rec.num_frames,
              "fps": rec.fps, "declared_fps": rec.declared_fps, "frame_interval": interval,
              "time_base": rec.time_base, "warnings": list(rec.warnings),
              "notes": list(rec.notes),
              "no_face_frames": int(np.count_nonzero(~rec.face)),
              "no_face_ranges": [list(r) for r in runs(~rec.face)],
              "sfem_landmarks": features.SFEM_LANDMARKS, "sfem_form": options.sfem_form,
              "frame_reliability": [round(float(r), 3) for r in rec.reliability]}
    ranges = usable_ranges(rec.face, options.max_gap, rec.cuts)
    start, end = max(ranges, key=lambda r: r[1] - r[0], default=(0, 0))
    if end - start <= interval:
        longest = f"frames {start}-{end - 1}" if end > start else "none"
        raise InputError(f"{rec.path}: too few frames in a row with a face ({end - start}; "
                         f"longest stretch: {longest}) to make a map at T = {interval}: "
                         f"need at least {interval + 1}")
    record.update(_span(rec, start, end, interval, options))
    spans, inputs = [record], [(start, end)]
    if options.window:
        length, stride = options.window_frames(rec.fps, interval)
        ranges, outside = stretch_windows(rec.face, options.max_gap, interval, length, stride,
                                          rec.cuts)
        record.update(window_frames=length, stride_frames=stride,
                      windows=[_span(rec, s, e, interval, options) for s, e in ranges],
                      outside_windows=[{"start_frame": a, "end_frame": b, "why": why}
                                       for a, b, why in outside])
        spans += record["windows"]
        inputs += ranges
    if options.spot:
        record["intervals"] = spotted_spans(rec, interval, gaps, options)
        for span in record["intervals"]:
            if "skipped" not in span:
                spans.append(span)
                inputs.append((span["start_frame"], span["end_frame"] + 1))
    if image is None:
        probabilities = lfm_probabilities(model, rec, inputs, interval)
    else:
        record["tau"] = tau
        probabilities = routed_probabilities(model, image, rec, spans, inputs, interval, tau)
    classified = [(span, probs) for span, probs in zip(spans, probabilities)
                  if "skipped" not in span]
    if not all(np.isfinite(probs).all() for _, probs in classified):
        raise ValueError(f"{rec.path}: the model gave probabilities that are not numbers (its "
                         f"weights are NaN or inf: trained with too high a learning rate?): "
                         f"retrain and export it again")
    for span, probs in classified:
        span["class"] = model.classes[int(np.argmax(probs))]
        span["probabilities"] = {c: float(p) for c, p in zip(model.classes, probs)}
    return record


def spotted_spans(rec: Recording, frame_interval: int, gaps: Sequence[tuple[int, int]],
                  options: PredictOptions) -> list[dict]:
    """A span (as for a window, 0-based frames) per interval the spotter finds, with
    its type ("me"/"mae"), apex_frame and score; `skipped` where it crosses frames
    without a face or is too short for a map at T. The spotter takes each shot
    between the recording's cuts on its own, so no span crosses a cut."""
    found = spotter.spot(rec.landmarks, rec.fps, spotting_facts(None, rec.fps), cuts=rec.cuts,
                         face=rec.face)
    spans = []
    for s in found:
        start, end = s.onset - 1, s.offset
        blocked = [(a, b) for a, b in gaps if a < end and b >= start]
        if blocked or end - start <= frame_interval:
            span = {"start_frame": start, "end_frame": end - 1,
                    "start_s": round(start / rec.fps, 3), "end_s": round((end - 1) / rec.fps, 3),
                    "skipped": "no face in part of it" if blocked
                    else f"{_frames(end - start)}, too few at T = {frame_interval}"}
        else:
            span = _span(rec, start, end, frame_interval, options)
        span.update(type=s.type, apex_frame=s.apex - 1, score=s.score)
        spans.append(span)
    return spans


def lfm_probabilities(model: ExportedModel, rec: Recording, ranges: Sequence[tuple[int, int]],
                      frame_interval: int) -> np.ndarray:
    """The classifier on [start, end) frame ranges of a recording: (len, classes)."""
    batch = np.stack([model_input(rec.landmarks[s:e], frame_interval, model.indices,
                                  model.window_length) for s, e in ranges])
    return model.probabilities(batch)


def ifer_inputs(rec: Recording, ranges: Sequence[tuple[int, int]], num_frames: int,
                size: int) -> list[dict[str, np.ndarray] | str]:
    """The I-FER's input for each [start, end) frame range of a video or folder of
    frames, made as `preprocess --crops` makes a clip's: `num_frames` frames
    spread over the range (`crops.crop_positions`), warped into `size` x `size`
    greyscale crops under the range's one eye alignment (`crops.clip_crops`), and
    the landmark trajectory of those frames (`ifer.clip_input`); `ifer.stack`
    batches them. The input is decoded once and only the crops are kept, however
    many ranges.

    Where a range's input cannot be made (a frame it crops cannot be read or is
    past the input's end, its eyes coincide), its entry is the reason instead,
    and only that range goes without.
    """
    positions = [start + crops.crop_positions(end - start, num_frames) for start, end in ranges]
    reasons: dict[int, str] = {}  # range -> why its input cannot be made
    transforms = {}
    for i, frames in enumerate(positions):
        try:
            transforms[i] = crops.alignment(rec.landmarks[frames], size)
        except ValueError as err:
            reasons[i] = f"no eye alignment for the I-FER's crops ({err})"
    users = collections.defaultdict(list)  # input frame -> (range, crop) that show it
    for i in transforms:
        for j, k in enumerate(positions[i]):
            users[rec.input_frame(k)].append((i, j))
    pixels = np.zeros((len(ranges), num_frames, size, size), np.uint8)
    unreadable: list[tuple[int, str]] = []
    for k, frame in read_frames(rec.path, users, unreadable=unreadable):
        for i, j in users[k]:
            pixels[i, j] = crops.warp(frame, transforms[i], size)
    for k, why in unreadable:
        for i, _ in users[k]:
            reasons.setdefault(i, f"frame {k} of the input, one the I-FER crops, cannot be "
                                  f"read ({why})")
    return [reasons[i] if i in reasons else ifer.clip_input(pixels[i], rec.landmarks[p])
            for i, p in enumerate(positions)]


def routed_probabilities(model: ExportedModel, image: ExportedIFER, rec: Recording,
                         spans: Sequence[dict], ranges: Sequence[tuple[int, int]],
                         frame_interval: int, tau: float) -> np.ndarray:
    """The adaptive framework on a recording's spans (the whole input, windows,
    spotted intervals): each goes by its SFEM (`adaptive.route`) to LFM-FER or the
    I-FER, and each network runs once, on its spans only (`adaptive.classify`).
    Adds `route` to every span, and `model` (the folder of the network that ran)
    where it ran.

    A span routed to the I-FER that the I-FER cannot read (a landmark file has no
    pixels, `NO_PIXELS`; `ifer_inputs` gives the other reasons) gets `skipped`,
    the reason, and a NaN row; the other spans are classified as if it were not
    there. Returns (len(spans), classes) probabilities.
    """
    sfem = [span["sfem"] for span in spans]
    routes = adaptive.route(sfem, tau)
    sent = [k for k, name in enumerate(routes) if name == adaptive.I_FER]
    if rec.source == "landmarks":
        made = {k: NO_PIXELS for k in sent}
    else:
        made = dict(zip(sent, ifer_inputs(rec, [ranges[k] for k in sent], image.crop_frames,
                                          image.crop_size)))
    reasons = {k: why for k, why in made.items() if isinstance(why, str)}
    runnable = [k for k in range(len(spans)) if k not in reasons]
    probabilities = np.full((len(spans), len(model.classes)), np.nan, np.float32)
    if runnable:
        routed = adaptive.classify(
            runnable, [sfem[k] for k in runnable],
            lambda chosen: lfm_probabilities(model, rec, [ranges[k] for k in chosen],
                                             frame_interval),
            lambda chosen: image.probabilities(ifer.stack([made[k] for k in chosen])), tau)
        probabilities[runnable] = routed.probabilities
    for k, (span, name) in enumerate(zip(spans, routes)):
        span["route"] = ROUTES[name]
        if k in reasons:
            span["skipped"] = reasons[k]
        else:
            span["model"] = (model if name == adaptive.LFM_FER else image).folder
    return probabilities


def predict_file(model: ExportedModel, path: str, options: PredictOptions,
                 extractor: landmarks.LandmarkExtractor | None = None,
                 image: ExportedIFER | None = None, tau: float = adaptive.TAU) -> dict:
    """Read one input and predict on it; raises on anything unusable."""
    rec = read_recording(path, options.fps, extractor, options.file_settings,
                         options.time_settings, options.temporal_filter)
    return predict_recording(model, rec, options, image, tau)


def format_record(record: dict) -> str:
    """The lines a person reads for one result record."""
    if "error" in record:
        return f"error: {record['error']}"
    tau = record.get("tau")
    lines = [f"{record['input']}: {_outcome(record, tau)}"]
    source = {"video": "video", "frames": "frames", "landmarks": "landmark file"}
    timing = {"even": "even frame times", "resampled": "resampled from uneven frame times",
              "frame order": "no frame times"}
    about = (f"  {source[record['source']]}, {record['num_frames']} frames at "
             f"{record['fps']:g} fps ({timing[record['time_base']]}), "
             f"T = {record['frame_interval']}; ")
    if record["no_face_frames"]:
        no_face = describe_runs(record["no_face_ranges"])
        about += f"no face in {_frames(record['no_face_frames'])} ({no_face}); "
    used = record["end_frame"] - record["start_frame"] + 1 < record["num_frames"]
    # The input's own line is the longest stretch's (`predict_recording`); the
    # windows, if any, cover the others.
    about += (f"the line above is the longest stretch's, frames {record['start_frame']}-"
              f"{record['end_frame']}" if used else "predicted on all frames")
    if record["filled_frames"]:
        about += f" ({record['filled_frames']} of them filled by interpolation)"
    lines.append(about)
    lines.extend(f"  warning: {warning}" for warning in record["warnings"])
    lines.extend(f"  note: {note}" for note in record["notes"])
    if "windows" in record:
        lines.append(_windows_summary(record))
        # In frame order: the frames in no window, and why, where they fall.
        fps = record["fps"]
        rows = [(w["start_frame"], w["end_frame"], w["start_s"], w["end_s"], _outcome(w, tau))
                for w in record["windows"]]
        rows += [(a, b, round(a / fps, 3), round(b / fps, 3), f"in no window, {o['why']}")
                 for o in record["outside_windows"]
                 for a, b in [(o["start_frame"], o["end_frame"])]]
        lines.extend(f"  frames {a}-{b} ({start:.2f}-{end:.2f} s): {what}"
                     for a, b, start, end, what in sorted(rows))
    if "intervals" in record:
        lines.append(f"  spotted {len(record['intervals'])} intervals")
    for w in record.get("intervals", ()):
        where = (f"  {TYPE_TITLES[w['type']]} frames {w['start_frame']}-{w['end_frame']} "
                 f"({w['start_s']:.2f}-{w['end_s']:.2f} s, apex {w['apex_frame']}, "
                 f"score {w['score']:.2f}): ")
        lines.append(where + _outcome(w, tau))
    return "\n".join(lines)


def _windows_summary(record: dict) -> str:
    """Where the windows lie, so that the lines after it account for every frame."""
    frames, fps = record["num_frames"], record["fps"]
    length, stride = record["window_frames"], record["stride_frames"]
    windows, outside = record["windows"], record["outside_windows"]
    sizes = [w["end_frame"] - w["start_frame"] + 1 for w in windows]
    if not outside and sizes == [frames] and frames <= length:
        size = "shorter than a window" if frames < length else "exactly a window long"
        return (f"  1 window, the whole input: it is {size} ({_frames(length)}, "
                f"{length / fps:.2f} s)")
    text = (f"  {len(windows)} window{'s' if len(windows) != 1 else ''} of {_frames(length)} "
            f"({length / fps:.2f} s), {stride} apart ({stride / fps:.2f} s), ")
    if outside:
        short = sum(size < length for size in sizes)
        text += ("on each stretch between frames in no window, the last ending on the "
                 "stretch's last frame" + (f" ({short} shorter: a stretch shorter than a "
                                           f"window is one window)" if short else ""))
    else:
        text += f"the last ending on the last frame ({frames - 1})"
    if stride < length:
        return (f"{text}: a movement of up to {_frames(length - stride)} "
                f"({(length - stride) / fps:.2f} s) lies wholly inside one")
    return f"{text}: they do not overlap, so a movement across two is cut in two"


def _sfem_text(sfem: float, tau: float | None) -> str:
    """SFEM with 3 decimals, or as many more as it takes to print it on its side
    of `tau` (0.3496 routed below 0.35 is not printed 0.350)."""
    for digits in range(3, 17):
        text = f"{sfem:.{digits}f}"
        if tau is None or (float(text) < tau) == (sfem < tau):
            return text
    return repr(sfem)


def _outcome(span: dict, tau: float | None = None) -> str:
    """A span's class, or why it has none; SFEM printed on its side of `tau`,
    where the span was routed by it."""
    sfem = _sfem_text(span["sfem"], tau) if "sfem" in span else None
    if "class" in span:
        probs = ", ".join(f"{c} {p:.3f}" for c, p in span["probabilities"].items())
        route = f" -> {ROUTE_TITLES[span['route']]}" if "route" in span else ""
        return f"{span['class']} ({probs}), SFEM {sfem}{route}"
    if "route" in span:
        return f"SFEM {sfem} -> {ROUTE_TITLES[span['route']]}, skipped: {span['skipped']}"
    return f"skipped, {span['skipped']}"


def _spans(record: dict) -> list[dict]:
    """A result record's spans: the whole input, its windows, its spotted intervals."""
    return [record, *record.get("windows", ()), *record.get("intervals", ())]


def unclassified(record: dict) -> list[dict]:
    """The spans of a result record routed to a network that could not run on
    them (`routed_probabilities`)."""
    return [s for s in _spans(record) if "route" in s and "skipped" in s]


def incomplete(record: dict) -> str | None:
    """The one line saying which spans of a record were routed but not classified,
    and why; None when there are none."""
    missed = unclassified(record)
    if not missed:
        return None
    routed = [s for s in _spans(record) if "route" in s]
    names = ["the whole input" if s is record else f"frames {s['start_frame']}-{s['end_frame']}"
             for s in missed]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    reasons = list(dict.fromkeys(s["skipped"] for s in missed))
    others = f"; and {len(reasons) - 1} other reasons, on their lines" if len(reasons) > 1 else ""
    return (f"{record['input']}: {len(missed)} of {len(routed)} spans not classified "
            f"({', '.join(names[:3])}{more}): {reasons[0]}{others}")


def exit_status(records: Sequence[dict]) -> int:
    """predict's exit status for its result records: 1 when an input failed or a
    span was routed to a network that could not run on it (`unclassified`: the
    output names them), else 0."""
    return int(any("error" in r or unclassified(r) for r in records))


def _message(path: str, err: Exception) -> str:
    text = str(err) if isinstance(err, (ValueError, OSError)) else f"{type(err).__name__}: {err}"
    return text if path in text else f"{path}: {text}"


def predict_files(model: ExportedModel, paths: Iterable[str], options: PredictOptions,
                  image: ExportedIFER | None = None,
                  tau: float = adaptive.TAU) -> Iterable[dict]:
    """One record per input, in order; an input that fails gives {"input", "error"}
    and the rest go on."""
    extractor = unbridged_extractor(options.landmark_settings)
    for path in paths:
        try:
            yield predict_file(model, path, options, extractor, image, tau)
        # One bad input must not cost the others, whatever went wrong with it: the
        # record names the input and the error, and the exit status shows it.
        except Exception as err:  # noqa: BLE001
            yield {"input": path, "error": _message(path, err)}


def run(model_path: str, paths: Sequence[str], options: PredictOptions,
        output: str | None = None, out: TextIO = sys.stdout,
        err: TextIO = sys.stderr, ifer_model: str | None = None,
        tau: float = adaptive.TAU) -> list[dict]:
    """Predict on every input, print each result as it comes, and write them all
    to `output` (JSON) if given. Returns the records.

    A record holds, for the whole input: input, source, num_frames, fps (the
    rate used: --fps where given), declared_fps (the rate the input declares: a
    video's header, a landmark file's times; None where none), frame_interval (T
    used), time_base ("even", "resampled" or "frame order": `lfm_tf.timebase`),
    warnings (what must not go unseen: a --fps that disagrees with declared_fps,
    `timebase.RATE_TOLERANCE`), notes (what was wrong with the input and done about
    it: unreadable frames, missing or crowded rows, resampling), no_face_frames and
    no_face_ranges ([first, last] 0-based frames where no face was found),
    frame_reliability (per frame, in [0, 1]: the fraction of landmarks whose
    optical flow passed its check, `lfm_tf.registration`; 0 where no face), then
    for the frames predicted on
    (the longest stretch without an unbridgeable gap): start_frame, end_frame,
    start_s, end_s, num_maps, filled_frames (frames without a face there,
    interpolated), landmark_reliability (the mean of frame_reliability there),
    sfem (Eq. 3; which one: sfem_landmarks and sfem_form, given
    once per record), class and probabilities (one per class, summing
    to 1). With a window, window_frames and stride_frames (at this input's fps),
    `windows` lists the same per window (`stretch_windows`), and
    `outside_windows` the frames in none: start_frame, end_frame (inclusive) and
    why (no face for longer than max_gap, or too few frames between such gaps
    for a map); together they hold every frame. An input that fails gives only
    input and error, printed as one `error:` line.

    With `ifer_model` (an exported I-FER folder), the adaptive framework: each
    record also holds `tau`, and the whole input and each window `route` ("lfm":
    SFEM below tau, to the model above; "ifer": to the I-FER) and `model` (the
    folder of the one that ran), or, where the one routed to could not run
    (`routed_probabilities`), `skipped` with the reason instead of class,
    probabilities and model; an `error:` line names those spans (`incomplete`),
    and the other spans are classified. The JSON file then names both models and
    tau.

    Raises ModelFolderError (before reading any input) when a model folder is
    missing or incomplete, or the two models' classes differ, and ValueError
    when a landmark model given is not one.
    """
    if not paths:
        raise InputError("no input: pass --input=<video, frames folder or landmark file>")
    if ifer_model and not (math.isfinite(tau) and tau > 0):
        # SFEM is never negative: at tau <= 0 every input would go to the I-FER.
        raise ValueError(f"--tau must be a finite number above 0 (SFEM is 0 for a still "
                         f"face), got {tau}")
    model = ExportedModel.load(model_path)
    if options.landmark_settings.model_path is not None:
        # A landmark model given but unusable fails once, not once per input.
        landmarks.check_model(options.landmark_settings.model_path)
    image = None
    if ifer_model:
        image = ExportedIFER.load(ifer_model)
        check_same_classes(model, image)
    info = model.info
    print(f"model {model.folder}: {info['variant']}, classes {', '.join(model.classes)}; "
          f"trained on {info.get('dataset')} at T = {info['frame_interval']}", file=out)
    if image:
        print(f"I-FER {image.folder}: {image.crop_frames} crops of {image.crop_size}x"
              f"{image.crop_size} a clip; SFEM below tau = {tau:g} -> LFM-FER, otherwise I-FER",
              file=out)
    sfem = features.describe_sfem(features.SFEM_LANDMARKS, options.sfem_form,
                                  options.sfem_scale_change, options.sfem_blink_openness)
    print(f"SFEM (--sfem_form={options.sfem_form}): {sfem}", file=out)
    records = []
    for record in predict_files(model, paths, options, image, tau):
        records.append(record)
        print(format_record(record), file=err if "error" in record else out, flush=True)
        missed = incomplete(record)
        if missed:
            print(f"error: {missed}", file=err, flush=True)
    if output:
        body = {"model": model.summary(),
                **({"ifer_model": image.summary(), "tau": tau} if image else {}),
                "options": _options_summary(options), "results": records}
        files.write_json(output, body)
        print(f"wrote {output}", file=out)
    return records


def _options_summary(options: PredictOptions) -> dict:
    fields = dataclasses.asdict(options)
    fields["landmark_settings"] = {k: v for k, v in fields["landmark_settings"].items()
                                   if k != "max_gap"}
    return fields
