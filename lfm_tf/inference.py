r"""Prediction with an exported model on a person's video, frames or landmark track.

The path of one input, as in training (Choi & Song, IEEE Access 2020, Section III):

  video file | folder of frames | landmark file (.npy, .csv)
  -> 68 landmarks per frame (`lfm_tf.recordings`), frames without a face counted
     and, across short gaps, interpolated
  -> T = round(fps / 25) (Section V-A) unless given
  -> maps of Eq. 1, normalized by Eq. 2, the middle 24 of them (Section V-A)
  -> the exported classifier (`lfm_tf.model_folder`: CNN of Table 1, LSTM of
     Table 2) -> probabilities, with SFEM (Eq. 3) of the same frames beside them.

A whole input is one clip, as a dataset clip is in training. With a `window` (in
frames) the same is done for every window of that many frames, `stride` frames
apart, so that a long recording shows where something happened. With `spot`, the
spotter (`lfm_tf.spotting.spotter`) first finds ME and MaE intervals and each one is
classified as a clip of its own (spot-then-recognise, as MEGC 2022-2025 score it).

Frames without a face: runs of at most `max_gap` of them are interpolated between
the frames either side, as preprocessing does (`LandmarkSettings.max_gap`). A
longer run cannot be bridged: the whole-input prediction uses the longest stretch
of frames without one, and windows that overlap one are reported as skipped.

The adaptive framework (Section IV-B, Fig. 4; `lfm_tf.table8.adaptive`): given an
exported I-FER too (`model_folder.ExportedIFER`), the whole input and every window
is routed by its SFEM before any network runs: below tau to the classifier above
(LFM-FER), otherwise to the I-FER, which reads eye-aligned crops of a few of its
frames (`lfm_tf.table8.crops`) and their landmark trajectory. Only the chosen
network sees it. A landmark file has no pixels: one that a route sends to the
I-FER fails, saying so.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

import numpy as np

from lfm_tf import features, files, landmark_files, landmarks, temporal_filter, timebase
from lfm_tf.datasets.long_videos import TYPE_TITLES, spotting_facts
from lfm_tf.model_folder import ExportedIFER, ExportedModel, check_same_classes
from lfm_tf.recordings import (InputError, Recording, read_frames, read_recording, runs,
                               unbridged_extractor, unbridged_gaps, usable_ranges)
from lfm_tf.spotting import spotter
from lfm_tf.table8 import adaptive, crops, ifer

# What a result record calls the network that ran on a clip (`adaptive.route`'s names).
ROUTES = {adaptive.LFM_FER: "lfm", adaptive.I_FER: "ifer"}
ROUTE_TITLES = {"lfm": "LFM-FER", "ifer": "I-FER"}


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
      window: frames per sliding window; None predicts on the whole input only.
      stride: frames from one window's start to the next; None = `window`.
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
    """

    fps: float | None = None
    frame_interval: int | None = None
    window: int | None = None
    stride: int | None = None
    max_gap: int = landmarks.LandmarkSettings.max_gap
    landmark_settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings()
    file_settings: landmark_files.FileSettings = landmark_files.FileSettings()
    time_settings: timebase.TimeSettings = timebase.TimeSettings()
    spot: bool = False
    sfem_form: str = features.WINDOW_SFEM_FORM
    temporal_filter: str = temporal_filter.DEFAULT_TEMPORAL_FILTER

    def __post_init__(self):
        for name in ("fps", "frame_interval", "window", "stride"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"--{name} must be positive, got {value}")
        if self.stride is not None and self.window is None:
            raise ValueError("--stride needs --window")
        if self.max_gap < 0:
            raise ValueError(f"--max_gap cannot be negative, got {self.max_gap}")
        if self.sfem_form not in features.SFEM_FORMS:
            raise ValueError(f"--sfem_form must be one of {features.SFEM_FORMS}, got "
                             f"{self.sfem_form!r}")


def window_ranges(num_frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) of each window: starts 0, stride, 2 stride, ... while a whole
    window fits; an input shorter than one window is one window."""
    if num_frames <= window:
        return [(0, num_frames)]
    return [(s, s + window) for s in range(0, num_frames - window + 1, stride)]


def _span(rec: Recording, start: int, end: int, frame_interval: int, sfem_form: str) -> dict:
    return {"start_frame": start, "end_frame": end - 1,
            "start_s": round(start / rec.fps, 3), "end_s": round((end - 1) / rec.fps, 3),
            "num_maps": end - start - frame_interval,
            "filled_frames": int(np.count_nonzero(~rec.face[start:end])),
            "landmark_reliability": round(float(rec.reliability[start:end].mean()), 4),
            "sfem": features.sfem(rec.landmarks[start:end], frame_interval, form=sfem_form)}


def predict_recording(model: ExportedModel, rec: Recording, options: PredictOptions,
                      image: ExportedIFER | None = None, tau: float = adaptive.TAU) -> dict:
    """The result record of one input (see `run` for its fields); with an I-FER
    (`image`, of the same classes), the adaptive framework's (`routed_probabilities`)."""
    interval = options.frame_interval or features.frame_interval_for_fps(rec.fps)
    gaps = unbridged_gaps(rec.face, options.max_gap)
    record = {"input": rec.path, "source": rec.source, "num_frames": rec.num_frames,
              "fps": rec.fps, "frame_interval": interval, "time_base": rec.time_base,
              "notes": list(rec.notes),
              "no_face_frames": int(np.count_nonzero(~rec.face)),
              "no_face_ranges": [list(r) for r in runs(~rec.face)],
              "sfem_landmarks": features.SFEM_LANDMARKS, "sfem_form": options.sfem_form,
              "frame_reliability": [round(float(r), 3) for r in rec.reliability]}
    ranges = usable_ranges(rec.face, options.max_gap)
    start, end = max(ranges, key=lambda r: r[1] - r[0], default=(0, 0))
    if end - start <= interval:
        longest = f"frames {start}-{end - 1}" if end > start else "none"
        raise InputError(f"{rec.path}: too few frames in a row with a face ({end - start}; "
                         f"longest stretch: {longest}) to make a map at T = {interval}: "
                         f"need at least {interval + 1}")
    record.update(_span(rec, start, end, interval, options.sfem_form))
    spans, inputs = [record], [(start, end)]
    if options.window:
        if options.window <= interval:
            raise InputError(f"--window={options.window} frames makes no map at T = {interval}: "
                             f"use at least {interval + 1}")
        windows = []
        for s, e in window_ranges(rec.num_frames, options.window,
                                  options.stride or options.window):
            blocked = [(a, b) for a, b in gaps if a < e and b >= s]
            if blocked or e - s <= interval:
                where = ", ".join(f"{a}-{b}" for a, b in blocked)
                windows.append({"start_frame": s, "end_frame": e - 1,
                                "start_s": round(s / rec.fps, 3),
                                "end_s": round((e - 1) / rec.fps, 3),
                                "skipped": f"no face in frames {where}" if blocked
                                else f"{e - s} frames, too few at T = {interval}"})
                continue
            windows.append(_span(rec, s, e, interval, options.sfem_form))
            spans.append(windows[-1])
            inputs.append((s, e))
        record["windows"] = windows
    if options.spot:
        record["intervals"] = spotted_spans(rec, interval, gaps, options.sfem_form)
        for span in record["intervals"]:
            if "skipped" not in span:
                spans.append(span)
                inputs.append((span["start_frame"], span["end_frame"] + 1))
    if image is None:
        probabilities = lfm_probabilities(model, rec, inputs, interval)
    else:
        record["tau"] = tau
        probabilities = routed_probabilities(model, image, rec, spans, inputs, interval, tau)
    if not np.isfinite(probabilities).all():
        raise ValueError(f"{rec.path}: the model gave probabilities that are not numbers (its "
                         f"weights are NaN or inf: trained with too high a learning rate?): "
                         f"retrain and export it again")
    for span, probs in zip(spans, probabilities):
        span["class"] = model.classes[int(np.argmax(probs))]
        span["probabilities"] = {c: float(p) for c, p in zip(model.classes, probs)}
    return record


def spotted_spans(rec: Recording, frame_interval: int, gaps: Sequence[tuple[int, int]],
                  sfem_form: str) -> list[dict]:
    """A span (as for a window, 0-based frames) per interval the spotter finds, with
    its type ("me"/"mae"), apex_frame and score; `skipped` where it crosses frames
    without a face or is too short for a map at T."""
    found = spotter.spot(rec.landmarks, rec.fps, spotting_facts(None, rec.fps))
    spans = []
    for s in found:
        start, end = s.onset - 1, s.offset
        blocked = [(a, b) for a, b in gaps if a < end and b >= start]
        if blocked or end - start <= frame_interval:
            span = {"start_frame": start, "end_frame": end - 1,
                    "start_s": round(start / rec.fps, 3), "end_s": round((end - 1) / rec.fps, 3),
                    "skipped": "no face in part of it" if blocked
                    else f"{end - start} frames, too few at T = {frame_interval}"}
        else:
            span = _span(rec, start, end, frame_interval, sfem_form)
        span.update(type=s.type, apex_frame=s.apex - 1, score=s.score)
        spans.append(span)
    return spans


def lfm_probabilities(model: ExportedModel, rec: Recording, ranges: Sequence[tuple[int, int]],
                      frame_interval: int) -> np.ndarray:
    """The classifier on [start, end) frame ranges of a recording: (len, classes)."""
    batch = np.stack([model_input(rec.landmarks[s:e], frame_interval, model.indices,
                                  model.window_length) for s, e in ranges])
    return model.probabilities(batch)


def ifer_input(rec: Recording, ranges: Sequence[tuple[int, int]], num_frames: int,
               size: int) -> dict[str, np.ndarray]:
    """The I-FER's batched input for [start, end) frame ranges of a video or folder
    of frames, made as `preprocess --crops` makes a clip's: `num_frames` frames
    spread over the range (`crops.crop_positions`), warped into `size` x `size`
    greyscale crops under the range's one eye alignment (`crops.clip_crops`), and
    the landmark trajectory of those frames (`ifer.clip_input`). The input is
    decoded once and only the crops are kept, however many ranges."""
    positions = [start + crops.crop_positions(end - start, num_frames) for start, end in ranges]
    transforms = [crops.alignment(rec.landmarks[p], size) for p in positions]
    users = collections.defaultdict(list)  # input frame -> (range, crop) that show it
    for i, frames in enumerate(positions):
        for j, k in enumerate(frames):
            users[rec.input_frame(k)].append((i, j))
    pixels = np.zeros((len(ranges), num_frames, size, size), np.uint8)
    for k, frame in read_frames(rec.path, users):
        for i, j in users[k]:
            pixels[i, j] = crops.warp(frame, transforms[i], size)
    return ifer.stack([ifer.clip_input(c, rec.landmarks[p]) for c, p in zip(pixels, positions)])


def routed_probabilities(model: ExportedModel, image: ExportedIFER, rec: Recording,
                         spans: Sequence[dict], ranges: Sequence[tuple[int, int]],
                         frame_interval: int, tau: float) -> np.ndarray:
    """The adaptive framework on a recording's spans (the whole input, windows):
    each goes by its SFEM (`adaptive.route`) to LFM-FER or the I-FER, and each
    network runs once, on its spans only (`adaptive.classify`). Adds `route` and
    `model` (the folder of the network that ran) to every span.

    Raises InputError before either runs when a landmark file (no pixels) has a
    span routed to the I-FER.
    """
    sfem = [span["sfem"] for span in spans]
    routes = adaptive.route(sfem, tau)
    if rec.source == "landmarks" and adaptive.I_FER in routes:
        sent = [span for span, r in zip(spans, routes) if r == adaptive.I_FER]
        named = [("the whole input" if span is spans[0] else
                  f"frames {span['start_frame']}-{span['end_frame']}")
                 + f" (SFEM {span['sfem']:.3f})" for span in sent]
        more = f" and {len(named) - 3} more windows" if len(named) > 3 else ""
        raise InputError(f"{rec.path}: SFEM not below tau = {tau:g} sends {', '.join(named[:3])}"
                         f"{more} to the image-based FER (I-FER), which needs the frames, and a "
                         f"landmark file has none: pass the video or folder of frames instead, "
                         f"or a larger --tau")
    routed = adaptive.classify(
        ranges, sfem, lambda chosen: lfm_probabilities(model, rec, chosen, frame_interval),
        lambda chosen: image.probabilities(
            ifer_input(rec, chosen, image.crop_frames, image.crop_size)), tau)
    for span, name in zip(spans, routed.routes):
        span["route"] = ROUTES[name]
        span["model"] = (model if name == adaptive.LFM_FER else image).folder
    return routed.probabilities


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
    lines = [f"{record['input']}: {_prediction(record)}"]
    source = {"video": "video", "frames": "frames", "landmarks": "landmark file"}
    timing = {"even": "even frame times", "resampled": "resampled from uneven frame times",
              "frame order": "no frame times"}
    about = (f"  {source[record['source']]}, {record['num_frames']} frames at "
             f"{record['fps']:g} fps ({timing[record['time_base']]}), "
             f"T = {record['frame_interval']}; ")
    if record["no_face_frames"]:
        no_face = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in record["no_face_ranges"])
        about += f"no face in {record['no_face_frames']} frames ({no_face}); "
    used = record["end_frame"] - record["start_frame"] + 1 < record["num_frames"]
    about += (f"predicted on frames {record['start_frame']}-{record['end_frame']}" if used
              else "predicted on all frames")
    if record["filled_frames"]:
        about += f" ({record['filled_frames']} of them filled by interpolation)"
    lines.append(about)
    lines.extend(f"  note: {note}" for note in record["notes"])
    for w in record.get("windows", ()):
        where = (f"  frames {w['start_frame']}-{w['end_frame']} "
                 f"({w['start_s']:.2f}-{w['end_s']:.2f} s): ")
        lines.append(where + (f"skipped, {w['skipped']}" if "skipped" in w else _prediction(w)))
    if "intervals" in record:
        lines.append(f"  spotted {len(record['intervals'])} intervals")
    for w in record.get("intervals", ()):
        where = (f"  {TYPE_TITLES[w['type']]} frames {w['start_frame']}-{w['end_frame']} "
                 f"({w['start_s']:.2f}-{w['end_s']:.2f} s, apex {w['apex_frame']}, "
                 f"score {w['score']:.2f}): ")
        lines.append(where + (f"skipped, {w['skipped']}" if "skipped" in w else _prediction(w)))
    return "\n".join(lines)


def _prediction(result: dict) -> str:
    probs = ", ".join(f"{c} {p:.3f}" for c, p in result["probabilities"].items())
    route = f" -> {ROUTE_TITLES[result['route']]}" if "route" in result else ""
    return f"{result['class']} ({probs}), SFEM {result['sfem']:.3f}{route}"


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

    A record holds, for the whole input: input, source, num_frames, fps,
    frame_interval (T used), time_base ("even", "resampled" or "frame order":
    `lfm_tf.timebase`), notes (what was wrong with the input and done about
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
    to 1). With a window, `windows` lists the same per window, or `skipped` with
    the reason. An input that fails gives only input and error.

    With `ifer_model` (an exported I-FER folder), the adaptive framework: each
    record also holds `tau`, and the whole input and each window `route` ("lfm":
    SFEM below tau, the model above ran; "ifer": the I-FER ran) and `model` (the
    folder of the one that ran). The JSON file then names both models and tau.

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
    print(f"SFEM (--sfem_form={options.sfem_form}): "
          f"{features.describe_sfem(features.SFEM_LANDMARKS, options.sfem_form)}", file=out)
    records = []
    for record in predict_files(model, paths, options, image, tau):
        records.append(record)
        print(format_record(record), file=err if "error" in record else out, flush=True)
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
