r"""Inference with an exported model on a person's video, frames or landmark track.

The path of one input, as in training (Choi & Song, IEEE Access 2020, Section III):

  video file | folder of frames | landmark file (.npy, .csv)
  -> 68 landmarks per frame (dlib, tracked: `lfm_tf.landmarks`), frames without a
     face counted and, across short gaps, interpolated
  -> T = round(fps / 25) (Section V-A) unless given
  -> maps of Eq. 1, normalized by Eq. 2, the middle 24 of them (Section V-A)
  -> the exported classifier (CNN of Table 1, LSTM of Table 2) -> probabilities,
     with SFEM (Eq. 3) of the same frames beside them.

A whole input is one clip, as a dataset clip is in training. With a `window` (in
frames) the same is done for every window of that many frames, `stride` frames
apart, so that a long recording shows where something happened.

Frames without a face: runs of at most `max_gap` of them are interpolated between
the frames either side, as preprocessing does (`LandmarkSettings.max_gap`). A
longer run cannot be bridged: the whole-input prediction uses the longest stretch
of frames without one, and windows that overlap one are reported as skipped.

The exported model folder is defined here and written by `trainer.export`: its
model.json (`MODEL_INFO`) holds the class names, variant, landmark indices, window
length, the T it was trained with and the versions that trained it, and names the
other parts (`MODEL_PARTS`: the Keras models of both stages, the classifier that
chains them, and its SavedModel with a serving signature). A folder lacking any of
it is refused, naming what is missing.

The adaptive framework (Section IV-B, Fig. 4; `lfm_tf.adaptive`): given an
exported I-FER too (`ifer.export`, checked by `check_ifer_folder`), the whole
input and every window is routed by its SFEM before any network runs: below tau
to the classifier above (LFM-FER), otherwise to the I-FER, which reads
eye-aligned crops of a few of its frames (`lfm_tf.crops`) and their landmark
trajectory. Only the chosen network sees it. A landmark file has no pixels: one
that a route sends to the I-FER fails, saying so.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

import keras
import numpy as np
import tensorflow as tf

from lfm_tf import adaptive, crops, features, ifer, landmarks, video
from lfm_tf.datasets.base import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, list_images

LANDMARK_EXTENSIONS = (".npy", ".csv")
SOURCES = ("video", "frames", "landmarks")

# The exported model folder: model.json, and the parts it lists under "files".
MODEL_INFO = "model.json"
MODEL_PARTS = {"cnn": "cnn.keras", "lstm": "lstm.keras", "classifier": "classifier.keras",
               "saved_model": "saved_model"}
# What inference reads from model.json.
MODEL_INFO_KEYS = ("classes", "variant", "map_size", "landmark_indices", "window_length",
                   "frame_interval", "versions", "files")
_EXPORT_ADVICE = ("export one with `python -m lfm_tf.train --dataset=... --protocol=full` "
                  "and pass its <workdir>/export folder")
_IFER_ADVICE = ("export one with `python -m lfm_tf.table8 --config.export_ifer=True` and pass "
                "its <workdir>/ifer/export folder (or write one with `ifer.train_export`)")
# What a result record calls the network that ran on a clip (`adaptive.route`'s names).
ROUTES = {adaptive.LFM_FER: "lfm", adaptive.I_FER: "ifer"}
ROUTE_TITLES = {"lfm": "LFM-FER", "ifer": "I-FER"}

# Windows go through the classifier this many at a time: a few MB of uint8 maps.
_BATCH = 256


class ModelFolderError(ValueError):
    """An exported model folder that is missing, incomplete or inconsistent."""


class InputError(ValueError):
    """An input that cannot be read, or has too few frames with a face to predict on."""


# ---------------------------------------------------------------- the model


def check_folder(path: str, info_name: str, keys: Sequence[str], parts: dict[str, str],
                 advice: str, kind: str = "model") -> dict:
    """The JSON file `info_name` of an exported folder, once every part it names
    under "files" is there.

    Raises ModelFolderError naming each missing piece: the folder, the JSON file,
    a key of it (`keys`), one of `parts` it does not list, or a listed file (a
    folder listed must hold a SavedModel). `kind` names the folder in messages.
    """
    if not os.path.isdir(path):
        raise ModelFolderError(f"{kind} folder {path} does not exist: {advice}")
    info_path = os.path.join(path, info_name)
    if not os.path.isfile(info_path):
        raise ModelFolderError(f"{path} is not an exported {kind}: it has no {info_name}; "
                               f"{advice}")
    try:
        with open(info_path) as f:
            info = json.load(f)
    except json.JSONDecodeError as err:
        raise ModelFolderError(f"{info_path} is not valid JSON ({err}); {advice}") from None
    lacking = [key for key in keys if key not in info]
    listed = info.get("files", parts)
    lacking += [f"files.{part}" for part in parts if part not in listed]
    if lacking:
        raise ModelFolderError(f"{info_path} lacks {', '.join(lacking)}; {advice}")
    missing = []
    for part, name in info["files"].items():
        target = os.path.join(path, name)
        if os.path.isdir(target):
            if not tf.saved_model.contains_saved_model(target):
                missing.append(f"{name}/saved_model.pb (the {part})")
        elif not os.path.isfile(target) or os.path.getsize(target) == 0:
            missing.append(f"{name} (the {part})")
    if missing:
        raise ModelFolderError(f"{kind} folder {path} is incomplete: missing "
                               f"{', '.join(missing)}; {advice}")
    return info


def check_model_folder(path: str) -> dict:
    """model.json of an exported model folder, once every part it names is there.

    Raises ModelFolderError naming each missing part: model.json itself, a key
    of it (`MODEL_INFO_KEYS`), a Keras model file, or the SavedModel.
    """
    info = check_folder(path, MODEL_INFO, MODEL_INFO_KEYS, MODEL_PARTS, _EXPORT_ADVICE)
    if len(info["landmark_indices"]) != info["map_size"]:
        raise ModelFolderError(f"{os.path.join(path, MODEL_INFO)}: "
                               f"{len(info['landmark_indices'])} landmark indices for maps of "
                               f"size {info['map_size']}; {_EXPORT_ADVICE}")
    return info


def check_ifer_folder(path: str) -> dict:
    """ifer.json of an exported I-FER folder (`ifer.export`), once ifer.keras is there.

    Raises ModelFolderError naming what is missing, as `check_model_folder` does.
    """
    return check_folder(path, ifer.EXPORT_INFO, ifer.EXPORT_INFO_KEYS, ifer.EXPORT_PARTS,
                        _IFER_ADVICE, kind="I-FER")


def _load_keras(file: str, advice: str) -> keras.Model:
    try:
        return keras.saving.load_model(file)
    except (ValueError, OSError, TypeError) as err:
        raise ModelFolderError(f"cannot load {file}: {err}; {advice}") from None


@dataclasses.dataclass
class _Exported:
    """What the two exported folders share: where, their JSON file, their classes."""

    folder: str
    info: dict
    # The keys of `info` that a result file repeats.
    _SUMMARY = ("classes", "dataset", "trained_on", "versions")

    @property
    def classes(self) -> list[str]:
        return list(self.info["classes"])

    def summary(self) -> dict:
        """What a result file says about the model that made it."""
        return {"folder": self.folder, **{k: self.info.get(k) for k in self._SUMMARY}}


@dataclasses.dataclass
class ExportedModel(_Exported):
    """An exported model folder, checked, with its classifier loaded.

    `classifier` maps uint8 windows (batch, window_length, M, M) of Eq. 2 maps
    to class probabilities; `info` is model.json.
    """

    classifier: keras.Model
    _SUMMARY = ("classes", "variant", "frame_interval", "dataset", "trained_on", "versions")

    @classmethod
    def load(cls, path: str) -> ExportedModel:
        info = check_model_folder(path)
        file = os.path.join(path, info["files"]["classifier"])
        classifier = _load_keras(file, _EXPORT_ADVICE)
        expected = (info["window_length"], info["map_size"], info["map_size"])
        if (tuple(classifier.input_shape[1:]) != expected
                or classifier.output_shape[-1] != len(info["classes"])):
            raise ModelFolderError(
                f"{file} reads {classifier.input_shape[1:]} and gives "
                f"{classifier.output_shape[-1]} classes, but {MODEL_INFO} says {expected} and "
                f"{len(info['classes'])}; {_EXPORT_ADVICE}")
        return cls(path, info, classifier)

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(self.info["landmark_indices"])

    @property
    def window_length(self) -> int:
        return int(self.info["window_length"])

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """(K, window_length, M, M) uint8 -> (K, classes) float32."""
        return np.concatenate([np.asarray(self.classifier(windows[k:k + _BATCH], training=False))
                               for k in range(0, len(windows), _BATCH)])


@dataclasses.dataclass
class ExportedIFER(_Exported):
    """An exported I-FER folder (`ifer.export`), checked, with its model loaded.

    `model` maps {"crops": (batch, S, S, K) uint8, "trajectory": (batch, K * 136)}
    to its outputs, of which "joint" gives the class probabilities; `info` is
    ifer.json.
    """

    model: keras.Model
    _SUMMARY = ("classes", "crops", "dataset", "trained_on", "versions")

    @classmethod
    def load(cls, path: str) -> ExportedIFER:
        info = check_ifer_folder(path)
        file = os.path.join(path, info["files"]["model"])
        model = _load_keras(file, _IFER_ADVICE)
        size, frames = info["crops"]["size"], info["crops"]["frames"]
        expected = ((size, size, frames), (frames * 2 * features.NUM_LANDMARKS,))
        try:
            found = tuple(tuple(model.input[k].shape[1:]) for k in ("crops", "trajectory"))
            classes = model.output["joint"].shape[-1]
        except (KeyError, TypeError, AttributeError):
            found, classes = None, None
        if found != expected or classes != len(info["classes"]):
            raise ModelFolderError(
                f"{file} is not the I-FER {ifer.EXPORT_INFO} describes: it should read crops "
                f"{expected[0]} and a trajectory {expected[1]} and give {len(info['classes'])} "
                f"classes; {_IFER_ADVICE}")
        return cls(path, info, model)

    @property
    def crop_frames(self) -> int:
        return int(self.info["crops"]["frames"])

    @property
    def crop_size(self) -> int:
        return int(self.info["crops"]["size"])

    def probabilities(self, x: dict[str, np.ndarray]) -> np.ndarray:
        """Batched inputs (`ifer.stack`) -> (K, classes) float32."""
        return ifer.probabilities(self.model, x, _BATCH)


def check_same_classes(model: ExportedModel, image: ExportedIFER) -> None:
    """The two networks of the adaptive framework must answer in the same classes,
    in the same order; raises ModelFolderError otherwise."""
    if model.classes != image.classes:
        raise ModelFolderError(
            f"the I-FER {image.folder} has classes {', '.join(image.classes)} but the model "
            f"{model.folder} has {', '.join(model.classes)}: the adaptive framework needs both "
            f"trained on the same classes, in the same order")


def model_input(track: np.ndarray, frame_interval: int, indices: Sequence[int],
                length: int = features.WINDOW_LENGTH) -> np.ndarray:
    """The classifier's input for a clip's landmarks, exactly as training made it:
    maps of Eq. 1 normalized by Eq. 2, the middle `length` (padded when fewer)."""
    maps = features.normalize(features.lfm(track, frame_interval, indices))
    return features.select_window(maps, length)


# ---------------------------------------------------------------- inputs


@dataclasses.dataclass
class Recording:
    """The landmarks of one input, frame by frame.

    Attributes:
      path: the input as given.
      source: "video", "frames" or "landmarks".
      fps: its frame rate.
      landmarks: float32 (N, 68, 2); frames without a face hold landmarks
        interpolated from the nearest frames with one (`landmarks.fill_gaps`).
      face: bool (N,), True where a face was found (or given).
    """

    path: str
    source: str
    fps: float
    landmarks: np.ndarray
    face: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.face)


def input_source(path: str) -> str:
    """Which of `SOURCES` an input is, by what it is on disk."""
    if os.path.isdir(path):
        return "frames"
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file or folder")
    ext = os.path.splitext(path)[1].lower()
    if ext in LANDMARK_EXTENSIONS:
        return "landmarks"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    raise InputError(f"{path}: not a video ({' '.join(VIDEO_EXTENSIONS)}), a folder of "
                     f"frames or a landmark file ({' '.join(LANDMARK_EXTENSIONS)})")


def read_landmark_file(path: str) -> np.ndarray:
    """(N, 68, 2) float64 landmarks in the dlib / iBUG 68-point order, NaN where a
    frame has no face.

    `.npy`: an (N, 68, 2) or (N, 136) array. `.csv`: one row per frame, either 136
    values x0, y0, x1, y1, ... without a header, or with a header naming columns
    x_0 .. x_67 and y_0 .. y_67 (OpenFace and py-feat write those; OpenFace's
    `success` column, where present, marks frames without a face). Empty cells
    and NaN mark frames without a face.
    """
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: not a NumPy .npy file ({err})") from None
    else:
        array = _read_landmark_csv(path)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 2 * features.NUM_LANDMARKS:
        array = array.reshape(len(array), features.NUM_LANDMARKS, 2)
    if array.ndim != 3 or array.shape[1:] != (features.NUM_LANDMARKS, 2) or not len(array):
        raise InputError(f"{path}: expected landmarks of shape (N, 68, 2) or (N, 136) in the "
                         f"dlib / iBUG 68-point order, got {array.shape}")
    return array


def _read_landmark_csv(path: str) -> np.ndarray:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [(k, row) for k, row in enumerate(csv.reader(f), start=1)
                if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{path}: empty landmark file")
    columns, success = list(range(2 * features.NUM_LANDMARKS)), None
    if not _is_number(rows[0][1][0]):
        header = [cell.strip().lower() for cell in rows[0][1]]
        names = [f"{axis}_{k}" for k in range(features.NUM_LANDMARKS) for axis in "xy"]
        if not set(names) <= set(header):
            raise InputError(f"{path}: its header does not name columns x_0 .. x_67 and y_0 .. "
                             f"y_67; or write 136 columns x0, y0, x1, y1, ... without a header")
        columns = [header.index(name) for name in names]
        success = header.index("success") if "success" in header else None
        rows = rows[1:]
    values = np.full((len(rows), len(columns)), np.nan)
    for r, (line, row) in enumerate(rows):
        if len(row) < max(columns) + 1:
            raise InputError(f"{path}, line {line}: {len(row)} columns, expected "
                             f"{max(columns) + 1}")
        if success is not None and _number(path, line, row[success]) == 0:
            continue
        values[r] = [_number(path, line, row[c]) for c in columns]
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: str, line: int, text: str) -> float:
    text = text.strip()
    if not text:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}, line {line}: {text!r} is not a number") from None


def read_recording(path: str, fps: float | None = None,
                   extractor: landmarks.LandmarkExtractor | None = None) -> Recording:
    """Landmarks of one input, with which frames had a face.

    A video's frame rate is the one it declares unless `fps` is given (high-speed
    cameras often store a playback rate). Folders of frames (numeric order, see
    `list_images`) and landmark files carry none, so they need `fps`.

    `extractor`'s `max_gap` should let every gap through (`unbridged_extractor`):
    where to split a recording is decided afterwards, by `usable_ranges`.
    """
    source = input_source(path)
    if source != "video" and not fps:
        what = "a folder of frames" if source == "frames" else "a landmark file"
        raise InputError(f"{path}: {what} carries no frame rate: pass --fps")
    if source == "landmarks":
        points = read_landmark_file(path)
        present = np.isfinite(points).all(axis=(1, 2))
        track, filled = landmarks.fill_gaps(
            [p if ok else None for p, ok in zip(points, present)], len(points), path)
        return Recording(path, source, float(fps), track, ~filled)
    extractor = extractor or unbridged_extractor()
    if source == "video":
        rate = float(fps or video.video_fps(path))
        frames = video.iter_video(path)
    else:
        paths = list_images(path)
        if not paths:
            raise InputError(f"{path}: no numbered image frames in this folder "
                             f"({' '.join(IMAGE_EXTENSIONS)})")
        rate, frames = float(fps), (video.read_image(p) for p in paths)
    track = extractor.track(frames, source=path)
    return Recording(path, source, rate, track.landmarks, ~track.filled)


def unbridged_extractor(settings: landmarks.LandmarkSettings | None = None
                        ) -> landmarks.LandmarkExtractor:
    """A landmark extractor that interpolates across every gap, however long, so
    that a recording is never refused for one; `usable_ranges` then drops what
    cannot be bridged."""
    settings = settings or landmarks.LandmarkSettings()
    return landmarks.LandmarkExtractor(dataclasses.replace(settings, max_gap=sys.maxsize))


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame `index` (0-based) of a video or a folder of frames, BGR uint8."""
    return next(read_frames(path, [index], grey=False))[1]


def read_frames(path: str, indices: Iterable[int],
                grey: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for each of the 0-based `indices` of a video or a folder of
    frames, in increasing order, uint8 greyscale or BGR. A folder reads only those
    images; a video is decoded once, up to the last one wanted. Raises InputError
    for an index the input does not have."""
    wanted = sorted({int(k) for k in indices})
    if not wanted:
        return
    if input_source(path) == "frames":
        paths = list_images(path)
        count = len(paths)
        for k in (k for k in wanted if 0 <= k < count):
            yield k, video.read_image(paths[k], grey)
    else:
        count, chosen = 0, set(wanted)
        for count, frame in enumerate(video.iter_video(path, grey), start=1):
            if count - 1 in chosen:
                yield count - 1, frame
                if count > wanted[-1]:
                    return
    outside = [k for k in wanted if not 0 <= k < count]
    if outside:
        raise InputError(f"{path}: no frame {outside[0]}; it has {count}")


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame of every run of True in `mask`, inclusive."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def unbridged_gaps(face: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """Runs of more than `max_gap` frames without a face (first, last)."""
    return [(a, b) for a, b in runs(~np.asarray(face, bool)) if b - a + 1 > max_gap]


def usable_ranges(face: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """[start, end) stretches of frames between the gaps `max_gap` cannot bridge."""
    ranges, start = [], 0
    for first, last in unbridged_gaps(face, max_gap) + [(len(face), len(face))]:
        if first > start:
            ranges.append((start, first))
        start = last + 1
    return ranges


# ---------------------------------------------------------------- prediction


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
      landmark_settings: dlib model and tracking (its own max_gap is not used).
    """

    fps: float | None = None
    frame_interval: int | None = None
    window: int | None = None
    stride: int | None = None
    max_gap: int = landmarks.LandmarkSettings.max_gap
    landmark_settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings()

    def __post_init__(self):
        for name in ("fps", "frame_interval", "window", "stride"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"--{name} must be positive, got {value}")
        if self.stride is not None and self.window is None:
            raise ValueError("--stride needs --window")
        if self.max_gap < 0:
            raise ValueError(f"--max_gap cannot be negative, got {self.max_gap}")


def window_ranges(num_frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) of each window: starts 0, stride, 2 stride, ... while a whole
    window fits; an input shorter than one window is one window."""
    if num_frames <= window:
        return [(0, num_frames)]
    return [(s, s + window) for s in range(0, num_frames - window + 1, stride)]


def _span(rec: Recording, start: int, end: int, frame_interval: int) -> dict:
    return {"start_frame": start, "end_frame": end - 1,
            "start_s": round(start / rec.fps, 3), "end_s": round((end - 1) / rec.fps, 3),
            "num_maps": end - start - frame_interval,
            "filled_frames": int(np.count_nonzero(~rec.face[start:end])),
            "sfem": features.sfem(rec.landmarks[start:end], frame_interval)}


def predict_recording(model: ExportedModel, rec: Recording, options: PredictOptions,
                      image: ExportedIFER | None = None, tau: float = adaptive.TAU) -> dict:
    """The result record of one input (see `run` for its fields); with an I-FER
    (`image`, of the same classes), the adaptive framework's (`routed_probabilities`)."""
    interval = options.frame_interval or features.frame_interval_for_fps(rec.fps)
    gaps = unbridged_gaps(rec.face, options.max_gap)
    record = {"input": rec.path, "source": rec.source, "num_frames": rec.num_frames,
              "fps": rec.fps, "frame_interval": interval,
              "no_face_frames": int(np.count_nonzero(~rec.face)),
              "no_face_ranges": [list(r) for r in runs(~rec.face)]}
    ranges = usable_ranges(rec.face, options.max_gap)
    start, end = max(ranges, key=lambda r: r[1] - r[0], default=(0, 0))
    if end - start <= interval:
        longest = f"frames {start}-{end - 1}" if end > start else "none"
        raise InputError(f"{rec.path}: too few frames in a row with a face ({end - start}; "
                         f"longest stretch: {longest}) to make a map at T = {interval}: "
                         f"need at least {interval + 1}")
    record.update(_span(rec, start, end, interval))
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
            windows.append(_span(rec, s, e, interval))
            spans.append(windows[-1])
            inputs.append((s, e))
        record["windows"] = windows
    if image is None:
        probabilities = lfm_probabilities(model, rec, inputs, interval)
    else:
        record["tau"] = tau
        probabilities = routed_probabilities(model, image, rec, spans, inputs, interval, tau)
    for span, probs in zip(spans, probabilities):
        span["class"] = model.classes[int(np.argmax(probs))]
        span["probabilities"] = {c: float(p) for c, p in zip(model.classes, probs)}
    return record


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
    users = collections.defaultdict(list)  # frame -> (range, crop) that show it
    for i, frames in enumerate(positions):
        for j, k in enumerate(frames):
            users[int(k)].append((i, j))
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
    return predict_recording(model, read_recording(path, options.fps, extractor), options,
                             image, tau)


def format_record(record: dict) -> str:
    """The lines a person reads for one result record."""
    if "error" in record:
        return f"error: {record['error']}"
    lines = [f"{record['input']}: {_prediction(record)}"]
    source = {"video": "video", "frames": "frames", "landmarks": "landmark file"}
    about = (f"  {source[record['source']]}, {record['num_frames']} frames at "
             f"{record['fps']:g} fps, T = {record['frame_interval']}; ")
    if record["no_face_frames"]:
        no_face = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in record["no_face_ranges"])
        about += f"no face in {record['no_face_frames']} frames ({no_face}); "
    used = record["end_frame"] - record["start_frame"] + 1 < record["num_frames"]
    about += (f"predicted on frames {record['start_frame']}-{record['end_frame']}" if used
              else "predicted on all frames")
    if record["filled_frames"]:
        about += f" ({record['filled_frames']} of them filled by interpolation)"
    lines.append(about)
    for w in record.get("windows", ()):
        where = (f"  frames {w['start_frame']}-{w['end_frame']} "
                 f"({w['start_s']:.2f}-{w['end_s']:.2f} s): ")
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
    frame_interval (T used), no_face_frames and no_face_ranges ([first, last]
    0-based frames where no face was found), then for the frames predicted on
    (the longest stretch without an unbridgeable gap): start_frame, end_frame,
    start_s, end_s, num_maps, filled_frames (frames without a face there,
    interpolated), sfem (Eq. 3), class and probabilities (one per class, summing
    to 1). With a window, `windows` lists the same per window, or `skipped` with
    the reason. An input that fails gives only input and error.

    With `ifer_model` (an exported I-FER folder), the adaptive framework: each
    record also holds `tau`, and the whole input and each window `route` ("lfm":
    SFEM below tau, the model above ran; "ifer": the I-FER ran) and `model` (the
    folder of the one that ran). The JSON file then names both models and tau.

    Raises ModelFolderError (before reading any input) when a model folder is
    missing or incomplete, or the two models' classes differ.
    """
    if not paths:
        raise InputError("no input: pass --input=<video, frames folder or landmark file>")
    if ifer_model and not math.isfinite(tau):
        raise ValueError(f"--tau must be a finite number, got {tau}")
    model = ExportedModel.load(model_path)
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
    records = []
    for record in predict_files(model, paths, options, image, tau):
        records.append(record)
        print(format_record(record), file=err if "error" in record else out, flush=True)
    if output:
        body = {"model": model.summary(),
                **({"ifer_model": image.summary(), "tau": tau} if image else {}),
                "options": _options_summary(options), "results": records}
        tmp = f"{output}.tmp"
        with open(tmp, "w") as f:
            json.dump(body, f, indent=1)
        os.replace(tmp, output)
        print(f"wrote {output}", file=out)
    return records


def _options_summary(options: PredictOptions) -> dict:
    fields = dataclasses.asdict(options)
    fields["landmark_settings"] = {k: v for k, v in fields["landmark_settings"].items()
                                   if k != "max_gap"}
    return fields
