r"""The exported model folder: its format, written by `trainer.export` and read by
`predict` (`ExportedModel`), defined here once, as `records` defines the TFRecords.

A folder holds `MODEL_INFO` (model.json) and the parts it lists under "files"
(`MODEL_PARTS`): the Keras models of both stages (Tables 1 and 2), the classifier
that chains them, and its SavedModel with a serving signature. model.json holds
at least `MODEL_INFO_KEYS`: the class names, variant, map size, landmark
indices, window length, the T it was trained with, the versions that trained it.
`write` puts model.json down last, with each part's sha256 and a fingerprint of
model.json itself (`files.seal`), so an interrupted export is refused; reading
refuses, in one line naming the file, a folder lacking any part, a part listed
outside the folder, a part swapped for another's and a model.json edited after
export (its class list reordered, say). Keras models load with `safe_mode` on.

The image-based FER of the adaptive framework (Fig. 4) has a folder of its own,
whose format `lfm_tf.table8.ifer` defines (`EXPORT_INFO`, `EXPORT_PARTS`) and
writes; `ExportedIFER` reads it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from lfm_tf import features, files
from lfm_tf.table8 import ifer

MODEL_INFO = "model.json"
MODEL_PARTS = {"cnn": "cnn.keras", "lstm": "lstm.keras", "classifier": "classifier.keras",
               "saved_model": "saved_model"}
# What inference reads from model.json; `write` adds the last three.
MODEL_INFO_KEYS = ("classes", "variant", "map_size", "landmark_indices", "window_length",
                   "frame_interval", "versions", "files", "sha256", "fingerprint")
_EXPORT_ADVICE = ("export one with `python -m lfm_tf.train --dataset=... --protocol=full` "
                  "and pass its <workdir>/export folder")
_IFER_ADVICE = ("export one with `python -m lfm_tf.table8 --config.export_ifer=True` and pass "
                "its <workdir>/ifer/export folder (or write one with `ifer.train_export`)")

# Windows go through the classifier this many at a time: a few MB of uint8 maps.
_BATCH = 256


class ModelFolderError(ValueError):
    """An exported model folder that is missing, incomplete or inconsistent."""


def write(folder: str, cnn: keras.Model, lstm: keras.Model, classifier: keras.Model,
          info: dict) -> str:
    """Write an exported model folder: the `MODEL_PARTS`, each atomically, and
    model.json last: `info` with "files", each part's "sha256" and the
    "fingerprint" of the whole added (`files.seal`), which `check_model_folder`
    verifies.

    Raises ValueError if `info` lacks one of the other `MODEL_INFO_KEYS`.
    """
    lacking = [key for key in MODEL_INFO_KEYS[:-3] if key not in info]
    if lacking:
        raise ValueError(f"model.json would lack {', '.join(lacking)}")
    os.makedirs(folder, exist_ok=True)
    info_path = os.path.join(folder, MODEL_INFO)
    if os.path.exists(info_path):
        os.remove(info_path)  # until the new parts are in place
    for model, part in ((cnn, "cnn"), (lstm, "lstm"), (classifier, "classifier")):
        with files.atomic_path(os.path.join(folder, MODEL_PARTS[part])) as tmp:
            model.save(tmp)
    saved_model = os.path.join(folder, MODEL_PARTS["saved_model"])
    if os.path.isdir(saved_model):
        shutil.rmtree(saved_model)  # a folder cannot be renamed over another
    with files.atomic_path(saved_model) as tmp:
        classifier.export(tmp, verbose=False)
    files.write_json(info_path, files.seal(folder, {**info, "files": MODEL_PARTS}))
    return folder


def check_folder(path: str, info_name: str, keys: Sequence[str], parts: dict[str, str],
                 advice: str, kind: str = "model") -> dict:
    """The JSON file `info_name` of an exported folder, once every part it names
    under "files" is there, inside the folder, as the export wrote it.

    Raises ModelFolderError naming each missing piece: the folder, the JSON file,
    a key of it (`keys`), one of `parts` it does not list, or a listed file (a
    folder listed must hold a SavedModel); a listed name that leads outside the
    folder; a part whose sha256 differs from the recorded one, or a JSON file
    edited after export (`files.check_seal`). `kind` names the folder in messages.
    """
    if not os.path.isdir(path):
        raise ModelFolderError(f"{kind} folder {path} does not exist: {advice}")
    info_path = os.path.join(path, info_name)
    if not os.path.isfile(info_path):
        raise ModelFolderError(f"{path} is not an exported {kind}: it has no {info_name}; "
                               f"{advice}")
    try:
        info = files.read_json(info_path, advice=advice)
    except ValueError as err:
        raise ModelFolderError(str(err)) from None
    lacking = [key for key in keys if key not in info]
    listed = info.get("files", parts)
    if not isinstance(listed, dict):
        raise ModelFolderError(f"{info_path}: its \"files\" is not an object; {advice}")
    lacking += [f"files.{part}" for part in parts if part not in listed]
    if lacking:
        raise ModelFolderError(f"{info_path} lacks {', '.join(lacking)}; {advice}")
    missing = []
    for part, name in info["files"].items():
        try:
            target = files.inside(path, name, info_path)
        except ValueError as err:
            raise ModelFolderError(str(err)) from None
        if os.path.isdir(target):
            if not tf.saved_model.contains_saved_model(target):
                missing.append(f"{name}/saved_model.pb (the {part})")
        elif not os.path.isfile(target) or os.path.getsize(target) == 0:
            missing.append(f"{name} (the {part})")
    if missing:
        raise ModelFolderError(f"{kind} folder {path} is incomplete: missing "
                               f"{', '.join(missing)}; {advice}")
    try:
        files.check_seal(path, info, info_path, advice)
    except ValueError as err:
        raise ModelFolderError(str(err)) from None
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
        # safe_mode: a .keras file may hold pickled Python (Lambda layers) that
        # would run on loading; ours never does, so such a file is refused.
        return keras.saving.load_model(file, safe_mode=True)
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
