"""tf.data input of the two training stages, from the per-subject TFRecords.

  folder (manifest checked) -> files chosen by the protocol -> parsed clips (cached)
    stage 1: single maps, each with its clip's label -> shuffle -> batch -> weights
    stage 2: each clip's 24-map window (Section V-A) -> frozen CNN once -> cached
             FC1 embeddings -> shuffle -> batch -> weights

Everything a training run reads is opened here: `open_folder` checks a folder
against its manifest and fails with one line that says what to do, before any
model is built. The parsed clips are cached in memory, so each file is read once
per fold whatever the number of epochs, and the accelerator never waits on disk.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from lfm_tf import features, records, tfrecord_folder
from lfm_tf.datasets import specs

AUTOTUNE = tf.data.AUTOTUNE
CLASS_WEIGHTINGS = ("balanced", "none")

# The context fields training and the report need; the rest (landmarks, onset...)
# is dropped right after parsing so that the cache holds maps and ids only.
_KEPT = ("dataset", "subject", "clip", "label", "maps")


@dataclasses.dataclass(frozen=True)
class RecordFolder:
    """One preprocessing output folder, `<tfrecord_dir>/<dataset>/<variant>_T<T>`,
    with its manifest (see `lfm_tf.pipeline`)."""

    path: str
    manifest: dict

    @property
    def dataset(self) -> str:
        return self.manifest["dataset"]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.manifest["classes"])

    @property
    def variant(self) -> str:
        return self.manifest["settings"]["variant"]

    @property
    def tag(self) -> str:
        """The folder's T tag, "T4" or "T25hz" (per-clip T)."""
        return os.path.basename(os.path.normpath(self.path)).split("_", 1)[-1]

    @property
    def subjects(self) -> dict[str, str]:
        """Subject -> path of its file, in natural order (s2 before s10)."""
        entries = {e["subject"]: os.path.join(self.path, name)
                   for name, e in self.manifest["files"].items()}
        return {s: entries[s] for s in sorted(entries, key=natural_key)}

    @property
    def clip_counts(self) -> dict[str, int]:
        return {e["subject"]: int(e["records"]) for e in self.manifest["files"].values()}

    @property
    def class_counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"]["per_class"])

    def fingerprint(self) -> dict[str, str]:
        """File name -> sha256: what identifies the data, wherever the folder lives."""
        return {name: e["sha256"] for name, e in sorted(self.manifest["files"].items())}


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers numerically: s2 < s10 < sub01b."""
    parts, digits, current = [], False, ""
    for ch in text:
        if ch.isdigit() != digits and current:
            parts.append((0, int(current), "") if digits else (1, 0, current))
            current = ""
        digits = ch.isdigit()
        current += ch
    if current:
        parts.append((0, int(current), "") if digits else (1, 0, current))
    return tuple(parts)


def preprocess_command(folder_name: str, variant: str, out_dir: str) -> str:
    """The preprocessing command that writes `<out_dir>/<folder_name>/<variant>_T*`.

    Folder names carry the reader options that select other labels or recordings
    (`casme2-cross3`, `smic-VIS`, `composite-mylist`; see `pipeline.dataset_folder`)."""
    dataset, *tags = folder_name.split("-")
    options = "".join(f" --modality={t}" if t in specs.SMIC_FPS
                      else f" --membership={t}.csv" if dataset == "composite"
                      else f" --label_set={t}" for t in tags)
    return (f"python -m lfm_tf.preprocess --dataset={dataset}{options} --variant={variant} "
            f"--out_dir={out_dir}")


def locate_folder(tfrecord_dir: str, folder_name: str, variant: str, tag: str = "") -> str:
    """The preprocessing output folder `<tfrecord_dir>/<folder_name>/<variant>_<tag>`.

    `tfrecord_dir` is the root preprocessing wrote to (`--out_dir`), or directly a
    folder that holds a manifest. `folder_name` is the dataset's folder under it
    (`smic`, `casme2-cross3`). With `tag` empty the one `<variant>_T*` folder is
    taken; several are an error that names them.
    """
    if os.path.exists(os.path.join(tfrecord_dir, tfrecord_folder.MANIFEST)):
        return tfrecord_dir
    advice = (f"run `{preprocess_command(folder_name, variant, tfrecord_dir)}` first, "
              f"or point --tfrecord_dir at its output")
    root = os.path.join(tfrecord_dir, folder_name)
    if tag:
        folder = os.path.join(root, f"{variant}_{tag}")
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"no TFRecord folder {folder}: {advice}")
        return folder
    found = sorted(p for p in glob.glob(os.path.join(root, f"{variant}_T*")) if os.path.isdir(p))
    if not found:
        raise FileNotFoundError(f"no {variant} TFRecords for {folder_name} under {root}: {advice}")
    if len(found) > 1:
        tags = [os.path.basename(p).split("_", 1)[1] for p in found]
        raise ValueError(f"several {variant} folders for {folder_name} ({', '.join(found)}): "
                         f"choose one with --config.frame_tag (one of {tags})")
    return found[0]


def open_folder(tfrecord_dir: str, folder_name: str, variant: str, tag: str = "") -> RecordFolder:
    """Locate a folder (`locate_folder`) and check it before training: manifest
    present and matching the files byte for byte, clips present, every class with
    clips, the right variant."""
    path = locate_folder(tfrecord_dir, folder_name, variant, tag)
    manifest = tfrecord_folder.load_manifest(path)
    folder = RecordFolder(path, manifest)
    rerun = f"re-run preprocessing for {folder.dataset} into a fresh --out_dir"
    problems = tfrecord_folder.verify(path)
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise ValueError(f"{path}: files disagree with manifest.json ({shown}): {rerun}")
    if not manifest["files"] or manifest["counts"]["clips"] == 0:
        raise ValueError(f"{path} holds no clips ({len(manifest['skipped'])} skipped, see its "
                         f"manifest.json): check the dataset folder and {rerun}")
    if folder.variant != variant:
        raise ValueError(f"{path} holds {folder.variant} maps but --variant={variant}: "
                         f"point --tfrecord_dir at {variant} TFRecords")
    empty = [name for name in folder.classes if folder.class_counts.get(name, 0) == 0]
    if empty:
        raise ValueError(f"{path}: class {', '.join(map(repr, empty))} has no clips at all, so "
                         f"it can be neither learned nor scored: preprocess a class set in which "
                         f"every class has clips (e.g. another --label_set)")
    return folder


def read_clips(files: Sequence[str], map_size: int) -> tf.data.Dataset:
    """The clips of `files`, parsed once and cached in memory.

    Elements: dict of `maps` (K, M, M) uint8, `label` int64 and the ids
    `dataset`, `subject`, `clip` (strings). Every dataset derived from this one
    shares its cache: stage 1, stage 2 and the clip table read the files once.
    """
    if not files:
        raise ValueError("no TFRecord files to read")

    def parse(serialized):
        clip = records.parse_sequence_example(serialized)
        clip["maps"] = tf.ensure_shape(clip["maps"], [None, map_size, map_size])
        return {key: clip[key] for key in _KEPT}

    # Files one after another in the protocol's order: each is read once per fold
    # (the cache), so parallel reads would gain little and cost the fixed order.
    ds = tf.data.TFRecordDataset(list(files))
    # Parsing is the only costly step and gives the same result every epoch, so it
    # runs once, in parallel, before the cache.
    ds = ds.map(parse, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.cache()


def clip_table(clips: tf.data.Dataset) -> dict[str, np.ndarray]:
    """The ids, labels and map counts of every clip, as NumPy arrays (fills the cache)."""
    table = {"dataset": [], "subject": [], "clip": [], "label": [], "num_maps": []}
    ids = clips.map(lambda c: {**{k: c[k] for k in ("dataset", "subject", "clip", "label")},
                               "num_maps": tf.shape(c["maps"])[0]})
    for batch in ids.batch(1024).as_numpy_iterator():
        for key in table:
            values = batch[key].tolist()
            table[key].extend(v.decode() if isinstance(v, bytes) else v for v in values)
    return {key: np.asarray(value) for key, value in table.items()}


def select_window(maps: tf.Tensor, length: int = features.WINDOW_LENGTH) -> tf.Tensor:
    """`features.select_window` as a graph op: the middle `length` maps, or the
    sequence padded by repeating its first and last map (Section V-A)."""
    n = tf.shape(maps)[0]
    tf.debugging.assert_positive(n, message="cannot select a window from a clip without maps")
    # Long sequences start at (n - length) // 2; short ones are padded with
    # (length - n) // 2 copies of the first map in front. Indices clipped to
    # [0, n - 1] repeat the end maps.
    start = tf.where(n >= length, (n - length) // 2, -((length - n) // 2))
    index = tf.clip_by_value(tf.range(length) + start, 0, n - 1)
    return tf.gather(maps, index)


def class_weights(counts: Sequence[int], mode: str) -> np.ndarray:
    """Per-class loss weights from training counts.

    "balanced": n / (C' * n_c) over the C' classes present, so that every class
    present contributes equally to the loss (the metrics, UF1 and UAR, weigh
    classes equally); classes absent from training get 0. "none": all 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if mode == "none":
        return np.ones_like(counts, dtype=np.float32)
    if mode != "balanced":
        raise ValueError(f"unknown class weighting {mode!r}; expected one of {CLASS_WEIGHTINGS}")
    present = counts > 0
    weights = np.zeros_like(counts)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


def _weighted(weights: np.ndarray):
    table = tf.constant(weights, tf.float32)
    return lambda x, y: (x, y, tf.gather(table, y))


def map_dataset(clips: tf.data.Dataset, batch_size: int, weights: np.ndarray, *,
                num_maps: int, seed: int | None, window_only: bool = False,
                drop_remainder: bool = False) -> tf.data.Dataset:
    """Stage 1: single maps, each labelled with its clip's label.

    Args:
      clips: from `read_clips` (cached).
      batch_size: global batch size (split over replicas by the strategy).
      weights: per-class loss weights (`class_weights`).
      num_maps: how many maps the clips hold (the shuffle buffer holds them all).
      seed: shuffle seed; None for no shuffling (evaluation).
      window_only: use only each clip's 24-map window instead of all its maps.
      drop_remainder: drop the last partial batch (several replicas: see trainer).
    """
    def to_maps(clip):
        maps = select_window(clip["maps"]) if window_only else clip["maps"]
        return maps, tf.fill([tf.shape(maps)[0]], clip["label"])

    # No filter: the protocol chose the files. The cache is upstream (parsed clips).
    ds = clips.map(to_maps).unbatch()
    # The count is known from the clip table: telling tf.data lets Keras size its
    # epochs from the start.
    ds = ds.apply(tf.data.experimental.assert_cardinality(num_maps))
    if seed is not None:
        # A buffer as large as the data is a full shuffle; reshuffled every epoch.
        ds = ds.shuffle(max(num_maps, 1), seed=seed, reshuffle_each_iteration=True)
    # No repeat: Keras runs one pass per epoch, so epochs stay exact without
    # steps_per_epoch. Weights are looked up per batch, not per map: a map
    # function's fixed cost per element made this pipeline several times slower
    # (BENCHMARKS.md).
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return _shard_by_batch(ds.map(_weighted(weights), num_parallel_calls=AUTOTUNE)
                           .prefetch(AUTOTUNE))


def _shard_by_batch(ds: tf.data.Dataset) -> tf.data.Dataset:
    """Under several workers (multi_worker_mirrored), each runs this same seeded
    pipeline and takes its share of every global batch (tf.data's DATA sharding),
    so a step sees the maps one worker would have batched together. The default
    (FILE) would give each worker its own subjects' files instead: other batches,
    another result. No effect on one process."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def window_dataset(clips: tf.data.Dataset, batch_size: int, num_clips: int,
                   length: int = features.WINDOW_LENGTH) -> tf.data.Dataset:
    """Each clip's window of `length` maps, (batch, length, M, M) uint8, in file order."""
    ds = clips.apply(tf.data.experimental.assert_cardinality(num_clips))
    ds = ds.map(lambda c: select_window(c["maps"], length), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def embedding_dataset(embeddings: np.ndarray, labels: np.ndarray, batch_size: int,
                      weights: np.ndarray, seed: int | None,
                      drop_remainder: bool = False) -> tf.data.Dataset:
    """Stage 2: cached FC1 embeddings of clip windows, (batch, 24, F), with labels.

    The CNN is frozen in stage 2, so the embeddings are computed once per fold and
    the LSTM trains on them directly: the CNN never runs again in the epoch loop.
    """
    ds = tf.data.Dataset.from_tensor_slices((embeddings, labels.astype(np.int64)))
    # Already in memory: no cache needed.
    if seed is not None:
        ds = ds.shuffle(max(len(labels), 1), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return _shard_by_batch(ds.map(_weighted(weights), num_parallel_calls=AUTOTUNE)
                           .prefetch(AUTOTUNE))
