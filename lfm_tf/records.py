"""The TFRecord schema, defined once: one `tf.train.SequenceExample` per clip.

Preprocessing writes it (`encode`), tf.data reads it (`parse_sequence_example`)
and tools read it in NumPy (`decode`, `read_file`). Files are one per subject,
`<out_dir>/<dataset>/<variant>_T<T>/<subject>.tfrecord`, so that
leave-one-subject-out is a choice of files.

Context (one value per clip):
  dataset         bytes    source dataset ("smic", "casme2", ...; for the
                           composite the clip's own source)
  subject         bytes    subject id, unique within the output folder
  clip            bytes    clip id as the dataset spells it
  label           int64    class index into the folder's class list
  label_name      bytes    class name
  variant         bytes    "lfm" or "clfm"
  frame_interval  int64    T of Eq. 1, in frames
  fps             float    frame rate of the recording
  map_size        int64    M: 68 (LFM) or 21 (CLFM)
  num_frames      int64    N, frames with landmarks (the clip has N - T maps)
  num_filled      int64    frames whose landmarks were interpolated (no face)
  sfem            float    Eq. 3 on the clip (`features.sfem`), with which
  sfem_landmarks  bytes    landmarks it summed over: "lfm" (all 68) or "clfm" (21)
  sfem_form       bytes    "printed" (Eq. 3 as printed) or "scaled" (face scaled
                           to CK+'s size first); records written before these two
                           fields existed summed over the CLFM landmarks, printed,
                           and read back as "clfm" / "printed"
  onset, apex, offset int64 annotated frame numbers, -1 where unknown

Feature lists (one entry per time step):
  maps       bytes   N - T maps, each M*M uint8 of Eq. 2, row-major
  landmarks  float   N frames, each 68*2 coordinates (x0, y0, x1, y1, ...)

Optional, absent from records written before it existed (parsed as all 1):
  reliability  float   N frames, each in [0, 1]: how far the frame's landmarks
                       can be trusted (`landmarks.LandmarkTrack.reliability`)

Optional, written only by `preprocess --crops` (for the image-based FER):
  crop_size    context int64   S, the side of a crop; 0 (the default) = no crops
  crops        bytes           K eye-aligned greyscale face crops, S*S uint8 each
  crop_frames  int64           the 0-based frame each crop shows (K entries)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from lfm_tf import features

UNKNOWN_FRAME = -1

_BYTES_CONTEXT = ("dataset", "subject", "clip", "label_name", "variant")
_INT_CONTEXT = ("label", "frame_interval", "map_size", "num_frames", "num_filled",
                "onset", "apex", "offset")
_FLOAT_CONTEXT = ("fps", "sfem")
# Which SFEM a record holds (issue 11). Records written before these fields existed
# parse with the defaults: their SFEM was Eq. 3 as printed on the CLFM landmarks.
_SFEM_CONTEXT = {"sfem_landmarks": "clfm", "sfem_form": "printed"}

# The crop fields are optional: records written without crops parse with
# crop_size 0 and empty lists.
CONTEXT_FEATURES = {
    **{k: tf.io.FixedLenFeature([], tf.string) for k in _BYTES_CONTEXT},
    **{k: tf.io.FixedLenFeature([], tf.int64) for k in _INT_CONTEXT},
    **{k: tf.io.FixedLenFeature([], tf.float32) for k in _FLOAT_CONTEXT},
    **{k: tf.io.FixedLenFeature([], tf.string, default_value=v)
       for k, v in _SFEM_CONTEXT.items()},
    "crop_size": tf.io.FixedLenFeature([], tf.int64, default_value=0),
}
SEQUENCE_FEATURES = {
    "maps": tf.io.FixedLenSequenceFeature([], tf.string),
    "landmarks": tf.io.FixedLenSequenceFeature([2 * features.NUM_LANDMARKS], tf.float32),
    "reliability": tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True),
    "crops": tf.io.FixedLenSequenceFeature([], tf.string, allow_missing=True),
    "crop_frames": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
}


@dataclasses.dataclass
class ClipRecord:
    """One clip's stored features; mirrors the schema above field for field."""

    dataset: str
    subject: str
    clip: str
    label: int
    label_name: str
    variant: str
    frame_interval: int
    fps: float
    num_filled: int
    sfem: float
    maps: np.ndarray        # (N - T, M, M) uint8
    landmarks: np.ndarray   # (N, 68, 2) float32
    onset: int = UNKNOWN_FRAME
    apex: int = UNKNOWN_FRAME
    offset: int = UNKNOWN_FRAME
    reliability: np.ndarray | None = None  # (N,) float32 in [0, 1]; None: all 1
    crops: np.ndarray | None = None        # (K, S, S) uint8, optional
    crop_frames: np.ndarray | None = None  # (K,) 0-based frame of each crop
    sfem_landmarks: str = features.SFEM_LANDMARKS
    sfem_form: str = "printed"

    @property
    def sfem_setting(self) -> tuple[str, str]:
        """(landmarks, form) of the stored SFEM, e.g. ("lfm", "printed")."""
        return self.sfem_landmarks, self.sfem_form

    @property
    def map_size(self) -> int:
        return int(self.maps.shape[-1])

    @property
    def num_frames(self) -> int:
        return int(self.landmarks.shape[0])


def encode(record: ClipRecord) -> bytes:
    """Serialize a clip to a SequenceExample."""
    maps = np.ascontiguousarray(record.maps, dtype=np.uint8)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2]:
        raise ValueError(f"maps must have shape (K, M, M), got {maps.shape}")
    if record.num_frames - record.frame_interval != maps.shape[0]:
        raise ValueError(
            f"{record.clip}: {record.num_frames} frames with T={record.frame_interval} "
            f"give {record.num_frames - record.frame_interval} maps, got {maps.shape[0]}")
    values = {k: getattr(record, k)
              for k in _BYTES_CONTEXT + _INT_CONTEXT + _FLOAT_CONTEXT + tuple(_SFEM_CONTEXT)}
    if record.sfem_form not in features.SFEM_FORMS:
        raise ValueError(f"{record.clip}: unknown SFEM form {record.sfem_form!r}")
    context = {}
    for key in _BYTES_CONTEXT + tuple(_SFEM_CONTEXT):
        context[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[values[key].encode()]))
    for key in _INT_CONTEXT:
        context[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(values[key])]))
    for key in _FLOAT_CONTEXT:
        context[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(values[key])]))
    map_list = tf.train.FeatureList(feature=[
        tf.train.Feature(bytes_list=tf.train.BytesList(value=[m.tobytes()])) for m in maps])
    points = np.asarray(record.landmarks, dtype=np.float32).reshape(record.num_frames, -1)
    landmark_list = tf.train.FeatureList(feature=[
        tf.train.Feature(float_list=tf.train.FloatList(value=row)) for row in points])
    feature_lists = {"maps": map_list, "landmarks": landmark_list}
    if record.reliability is not None:
        reliability = np.asarray(record.reliability, dtype=np.float32)
        if reliability.shape != (record.num_frames,):
            raise ValueError(f"{record.clip}: reliability must have one value per frame "
                             f"({record.num_frames}), got {reliability.shape}")
        feature_lists["reliability"] = tf.train.FeatureList(feature=[
            tf.train.Feature(float_list=tf.train.FloatList(value=[r])) for r in reliability])
    if record.crops is not None:
        crops = np.ascontiguousarray(record.crops, dtype=np.uint8)
        frames = np.asarray(record.crop_frames, dtype=np.int64)
        if crops.ndim != 3 or crops.shape[1] != crops.shape[2] or frames.shape != crops.shape[:1]:
            raise ValueError(f"{record.clip}: crops must have shape (K, S, S) with one frame "
                             f"index each, got {crops.shape} and {frames.shape}")
        context["crop_size"] = tf.train.Feature(
            int64_list=tf.train.Int64List(value=[crops.shape[1]]))
        feature_lists["crops"] = tf.train.FeatureList(feature=[
            tf.train.Feature(bytes_list=tf.train.BytesList(value=[c.tobytes()])) for c in crops])
        feature_lists["crop_frames"] = tf.train.FeatureList(feature=[
            tf.train.Feature(int64_list=tf.train.Int64List(value=[k])) for k in frames.tolist()])
    example = tf.train.SequenceExample(
        context=tf.train.Features(feature=context),
        feature_lists=tf.train.FeatureLists(feature_list=feature_lists))
    # Deterministic: proto maps otherwise serialize in per-process hash order, and
    # identical input must give byte-identical files (checksums, resume).
    return example.SerializeToString(deterministic=True)


def parse_sequence_example(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
    """Parse one serialized clip inside tf.data: context scalars plus
    `maps` (K, M, M) uint8, `landmarks` (N, 68, 2) float32, `reliability` (N,)
    float32 (all 1 in records written without it), and `crops` (K, S, S)
    uint8 with their `crop_frames` (empty when the record has none)."""
    context, sequence = tf.io.parse_single_sequence_example(
        serialized, context_features=CONTEXT_FEATURES, sequence_features=SEQUENCE_FEATURES)
    size = context["map_size"]
    maps = tf.io.decode_raw(sequence["maps"], tf.uint8)
    parsed = dict(context)
    parsed["maps"] = tf.reshape(maps, tf.stack([-1, size, size]))
    parsed["landmarks"] = tf.reshape(sequence["landmarks"], [-1, features.NUM_LANDMARKS, 2])
    reliability = sequence["reliability"]
    parsed["reliability"] = tf.cond(
        tf.size(reliability) > 0, lambda: reliability,
        lambda: tf.ones(tf.shape(parsed["landmarks"])[:1], tf.float32))
    num_crops = tf.shape(sequence["crops"], out_type=tf.int64)[0]
    crop_size = context["crop_size"]
    parsed["crops"] = tf.reshape(tf.io.decode_raw(sequence["crops"], tf.uint8),
                                 tf.stack([num_crops, crop_size, crop_size]))
    parsed["crop_frames"] = sequence["crop_frames"]
    return parsed


def decode(serialized: bytes) -> ClipRecord:
    """The NumPy inverse of `encode`."""
    parsed = parse_sequence_example(tf.constant(serialized))
    fields = {}
    for key in _BYTES_CONTEXT + tuple(_SFEM_CONTEXT):
        fields[key] = parsed[key].numpy().decode()
    for key in _INT_CONTEXT:
        if key not in ("map_size", "num_frames"):
            fields[key] = int(parsed[key].numpy())
    for key in _FLOAT_CONTEXT:
        fields[key] = float(parsed[key].numpy())
    if parsed["crop_size"] > 0:
        fields["crops"] = parsed["crops"].numpy()
        fields["crop_frames"] = parsed["crop_frames"].numpy()
    return ClipRecord(maps=parsed["maps"].numpy(), landmarks=parsed["landmarks"].numpy(),
                      reliability=parsed["reliability"].numpy(), **fields)


def read_file(path: str | os.PathLike) -> list[ClipRecord]:
    """All clips of one TFRecord file.

    Raises FileNotFoundError for a missing file and ValueError, naming it, for a
    truncated or corrupt one (TFRecord frames carry CRCs).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"TFRecord file {path} does not exist: check the path")
    try:
        return [decode(raw.numpy()) for raw in tf.data.TFRecordDataset(path)]
    except tf.errors.OpError as err:
        raise ValueError(f"{path} is truncated or corrupt ({err.message.splitlines()[0]}): "
                         f"preprocess it again (`python -m lfm_tf.preprocess`)") from None


def write_file(path: str | os.PathLike, serialized: Iterable[bytes]) -> int:
    """Write serialized clips to a TFRecord file; returns how many."""
    count = 0
    with tf.io.TFRecordWriter(os.fspath(path)) as writer:
        for raw in serialized:
            writer.write(raw)
            count += 1
    return count


def count_records(path: str | os.PathLike) -> int:
    """Records in a file, verifying every record's checksums on the way."""
    return sum(1 for _ in tf.data.TFRecordDataset(os.fspath(path)))
