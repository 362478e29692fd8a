"""I-FER: the image-based FER of the adaptive framework (Section IV, Fig. 4).

The paper pairs its landmark-map network with DTAGN (Jung et al., "Joint
fine-tuning in deep neural networks for facial expression recognition", ICCV
2015; the paper's reference [11]) and sends strong expressions to it. DTAGN
joins two networks that see a few frames of a clip:

  appearance (DTAN)  the aligned greyscale face crops, stacked as channels;
  geometry (DTGN)    the landmark trajectory of the same frames;
  joint fine-tuning  both trained further together on their own losses plus
                     the loss of their summed logits, which makes the prediction.

This is a small Keras model in that spirit, not the released DTAGN: sizes,
optimizer, epochs and augmentation are ours (`configs/table8.py`). Its input is
what `preprocess --crops` stores: K eye-aligned crops per clip (`lfm_tf.table8.crops`)
and the landmarks of those frames, mapped by the same alignment into crop
coordinates. The trajectory is the first cropped frame's landmarks followed by
each later frame's displacement from it, standardized over the training clips,
so that the motion is not drowned by the differences between faces.

  build         the three-output model (appearance, geometry, joint)
  train         pretrain both branches on their own losses, then fine-tune jointly
  predict       the joint class probabilities of records
  train_export  train on every given record and write the folder that
                `predict --ifer_model` reads (`export`; checked and loaded by
                `model_folder.ExportedIFER`)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from ml_collections import ConfigDict

import lfm_tf
from lfm_tf import features, files, input_pipeline
from lfm_tf.table8 import crops
from lfm_tf.records import ClipRecord

OUTPUTS = ("appearance", "geometry", "joint")
# Largest random shift of the crops while training, px (our augmentation).
_SHIFT = 4

# The exported I-FER folder: ifer.json (`EXPORT_INFO_KEYS` at least), and the
# parts it lists under "files". Written by `export`, read by `model_folder.ExportedIFER`.
EXPORT_INFO = "ifer.json"
EXPORT_PARTS = {"model": "ifer.keras"}
EXPORT_INFO_KEYS = ("classes", "crops", "trajectory", "versions", "files", "sha256",
                    "fingerprint")


def _check(records: Sequence[ClipRecord]) -> tuple[int, int]:
    """(K, S) shared by all records; a clear error if any lacks crops."""
    shapes = {None if r.crops is None else r.crops.shape for r in records}
    if None in shapes:
        bad = next(f"{r.subject}/{r.clip}" for r in records if r.crops is None)
        raise ValueError(f"the image-based FER needs face crops, and {bad} has none: "
                         f"preprocess with --crops")
    if len(shapes) != 1:
        raise ValueError(f"records hold crops of different shapes {sorted(shapes)}: "
                         f"preprocess every set with the same --crop_frames and --crop_size")
    k, size, _ = shapes.pop()
    return k, size


def trajectory(points, size: int = crops.CROP_SIZE) -> np.ndarray:
    """(K * 136,) float32: the (K, 68, 2) landmarks of the cropped frames in crop
    coordinates (the clip's alignment for `size` x `size` crops, scaled to side 1,
    centre 0), as the first frame's positions then each later frame's displacement."""
    aligned = crops.aligned_landmarks(points, crops.alignment(points, size)) / size - 0.5
    return np.concatenate([aligned[:1], aligned[1:] - aligned[:1]]).reshape(-1).astype(np.float32)


def clip_input(clip_crops: np.ndarray, points) -> dict[str, np.ndarray]:
    """One clip's input from its (K, S, S) crops (`crops.clip_crops`) and the
    (K, 68, 2) image landmarks of the same frames."""
    return {"crops": np.moveaxis(clip_crops, 0, -1),
            "trajectory": trajectory(points, clip_crops.shape[-1])}


def stack(clips: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`clip_input`s batched: `crops` (N, S, S, K) uint8 and `trajectory` (N, K * 136)."""
    return {name: np.stack([c[name] for c in clips]) for name in ("crops", "trajectory")}


def inputs(records: Sequence[ClipRecord]) -> dict[str, np.ndarray]:
    """The model's inputs: `crops` (N, S, S, K) uint8 and `trajectory` (N, K * 136)."""
    _check(records)
    return stack([clip_input(r.crops, r.landmarks[np.asarray(r.crop_frames)]) for r in records])


def build(num_classes: int, num_frames: int = crops.CROP_FRAMES, crop_size: int = crops.CROP_SIZE,
          dropout: float = 0.5) -> keras.Model:
    """The two networks and their joint output.

    appearance: 3 x (conv, 2x2 max pool) with 32, 64, 64 filters (5x5, 5x5, 3x3),
      FC 256, dropout, FC C; geometry: FC 100, FC 600 (with dropout), FC C; joint:
      the softmax of the two FC C outputs (logits) summed.
    """
    frames = keras.Input((crop_size, crop_size, num_frames), dtype="uint8", name="crops")
    path = keras.Input((num_frames * 2 * features.NUM_LANDMARKS,), name="trajectory")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(frames)
    for k, (filters, kernel) in enumerate(((32, 5), (64, 5), (64, 3)), start=1):
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"conv{k}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{k}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="appearance_fc")(x)
    x = layers.Dropout(dropout, name="appearance_dropout")(x)
    appearance = layers.Dense(num_classes, name="appearance_logits")(x)
    g = layers.Normalization(name="trajectory_norm")(path)
    for units in (100, 600):
        g = layers.Dense(units, activation="relu", name=f"geometry_fc{units}")(g)
        g = layers.Dropout(dropout, name=f"geometry_dropout{units}")(g)
    geometry = layers.Dense(num_classes, name="geometry_logits")(g)
    joint = layers.Add(name="joint_logits")([appearance, geometry])
    outputs = {name: layers.Activation("softmax", dtype="float32", name=name)(logits)
               for name, logits in zip(OUTPUTS, (appearance, geometry, joint))}
    return keras.Model({"crops": frames, "trajectory": path}, outputs, name="ifer")


def _dataset(x: dict[str, np.ndarray], labels: np.ndarray, weights: np.ndarray, batch_size: int,
             seed: int) -> tf.data.Dataset:
    targets = {name: labels for name in OUTPUTS}
    sample_weights = {name: weights for name in OUTPUTS}
    size = x["crops"].shape[1]

    def shift(features_, y, w):
        padded = tf.pad(features_["crops"], [[_SHIFT, _SHIFT], [_SHIFT, _SHIFT], [0, 0]],
                        mode="SYMMETRIC")
        moved = tf.image.random_crop(padded, tf.shape(features_["crops"]))
        return {"crops": tf.ensure_shape(moved, [size, size, None]),
                "trajectory": features_["trajectory"]}, y, w

    ds = tf.data.Dataset.from_tensor_slices((x, targets, sample_weights))
    ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return ds.map(shift, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(2)


def _compile(model: keras.Model, learning_rate: float, loss_weights: Sequence[float]) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss={name: "sparse_categorical_crossentropy" for name in OUTPUTS},
                  loss_weights=dict(zip(OUTPUTS, loss_weights)),
                  metrics={"joint": ["accuracy"]})


def train(records: Sequence[ClipRecord], num_classes: int, config: ConfigDict,
          seed: int = 0) -> keras.Model:
    """Train on labelled records with crops.

    First `config.pretrain_epochs` with each branch on its own loss only (the
    branches share no weights, so this trains them apart, as DTAGN pretrains
    DTAN and DTGN), then `config.epochs` of joint fine-tuning with the loss
    weights `config.joint_loss_weights` (appearance, geometry, joint) at
    `config.finetune_learning_rate`. Class weights as for the landmark-map
    network (`config.class_weight`).
    """
    num_frames, size = _check(records)
    keras.utils.set_random_seed(seed)
    x = inputs(records)
    labels = np.array([r.label for r in records], np.int64)
    weights = input_pipeline.class_weights(np.bincount(labels, minlength=num_classes),
                                           config.class_weight)[labels]
    model = build(num_classes, num_frames, size, config.dropout)
    model.get_layer("trajectory_norm").adapt(x["trajectory"])
    data = _dataset(x, labels, weights, config.batch_size, seed)
    stages = ((config.pretrain_epochs, config.learning_rate, (1.0, 1.0, 0.0)),
              (config.epochs, config.finetune_learning_rate, tuple(config.joint_loss_weights)))
    for epochs, learning_rate, loss_weights in stages:
        if epochs:
            _compile(model, learning_rate, loss_weights)
            model.fit(data, epochs=epochs, verbose=config.verbose)
    return model


def predict(model: keras.Model, records: Sequence[ClipRecord], batch_size: int = 64) -> np.ndarray:
    """(N, C) joint class probabilities."""
    if not records:
        return np.zeros((0, model.get_layer("appearance_logits").units), np.float32)
    return probabilities(model, inputs(records), batch_size)


def probabilities(model: keras.Model, x: dict[str, np.ndarray],
                  batch_size: int = 64) -> np.ndarray:
    """(N, C) joint class probabilities of batched inputs (`inputs`, `stack`)."""
    return np.concatenate([
        np.asarray(model({k: v[i:i + batch_size] for k, v in x.items()}, training=False)["joint"])
        for i in range(0, len(x["crops"]), batch_size)])


# ---------------------------------------------------------------- export


def export(model: keras.Model, folder: str, classes: Sequence[str], **about) -> str:
    """Write a trained I-FER where `predict --ifer_model` reads it: `EXPORT_PARTS`
    and `EXPORT_INFO` (written last, so that an interrupted export is refused).

    ifer.json says how to make the input from a recording's frames and landmarks:
    the crops (K frames spread from first to last, one eye alignment per clip, S
    x S greyscale) and the trajectory (`trajectory` of the same K frames), with the
    classes, the versions that trained it and `about` (e.g. dataset, trained_on,
    config, seed).
    """
    size, _, frames = model.input["crops"].shape[1:]
    if len(classes) != model.output["joint"].shape[-1]:
        raise ValueError(f"{len(classes)} class names for a model of "
                         f"{model.output['joint'].shape[-1]} classes")
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(os.path.join(folder, EXPORT_INFO)):
        os.remove(os.path.join(folder, EXPORT_INFO))  # until the new model is in place
    with files.atomic_path(os.path.join(folder, EXPORT_PARTS["model"])) as tmp:
        model.save(tmp)
    info = {
        "classes": list(classes),
        "crops": {"frames": int(frames), "size": int(size), "grey": True,
                  "positions": "evenly spread from the first to the last frame "
                               "(crops.crop_positions)",
                  "alignment": "one similarity per clip from the mean eye centres of the "
                               "cropped frames (crops.alignment)"},
        "trajectory": {"frames": int(frames), "size": int(size),
                       "length": int(model.input["trajectory"].shape[-1]),
                       "form": "the first cropped frame's landmarks, then each later one's "
                               "displacement, in crop coordinates scaled to side 1, centre 0 "
                               "(ifer.trajectory); standardized inside the model"},
        "output": "joint class probabilities",
        **about,
        "versions": {"lfm_tf": lfm_tf.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__},
        "files": EXPORT_PARTS,
    }
    files.write_json(os.path.join(folder, EXPORT_INFO), files.seal(folder, info))
    return folder


def train_export(records: Sequence[ClipRecord], classes: Sequence[str], config: ConfigDict,
                 folder: str, seed: int = 0) -> str:
    """`train` on every record (the whole data, no held-out fold) and `export` the
    model into `folder`, for `predict --ifer_model`."""
    model = train(records, len(classes), config, seed)
    trained_on = {"clips": len(records), "subjects": len({r.subject for r in records})}
    datasets = ", ".join(sorted({r.dataset for r in records}))
    return export(model, folder, classes, dataset=datasets, trained_on=trained_on,
                  config=config.to_dict(), seed=seed)
