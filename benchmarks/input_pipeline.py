"""What tf.data delivers to training, with the model removed: maps per second of
stage 1 (`input_pipeline.map_dataset`) and windows per second of stage 2's input.

  python -m benchmarks.input_pipeline --work_dir=/tmp/bench --out=input_pipeline.json

On the CASME II-sized TFRecords, a leave-one-subject-out fold's training files
(every subject but the first), batch 64 as configs/base.py, op determinism on as
training runs it. The first pass parses the records into the cache; later epochs
read the cache, as every epoch after the first does in training. The report sets
these rates against what the CNN consumes (benchmarks.training).
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from benchmarks import baselines, common, data
from lfm_tf import features, input_pipeline

_EPOCHS = flags.DEFINE_integer("epochs", 3, "Epochs timed after the first.")
BATCH = 64


def training_clips(variant: str):
    """A fold's training clips (cached dataset), their table and their file count."""
    folder = input_pipeline.open_folder(data.records(variant), "synthetic", variant)
    files = list(folder.subjects.values())[1:]
    clips = input_pipeline.read_clips(files, len(features.variant_indices(variant)))
    return folder, files, clips


def consume(dataset) -> int:
    """Iterate once, as a training loop does; the number of maps (or windows)."""
    count = 0
    for batch in dataset:
        count += int(batch[0].shape[0]) if isinstance(batch, tuple) else int(batch.shape[0])
    return count


def epochs_rate(dataset, epochs: int) -> dict:
    consume(dataset)  # warm: traced, and the shuffle buffer's memory allocated
    with common.Stopwatch() as watch:
        count = sum(consume(dataset) for _ in range(epochs))
    return watch.timing.rates(count, "maps")


def variant_benchmark(variant: str, epochs: int) -> dict:
    folder, files, clips = training_clips(variant)
    table, fill = common.timed(input_pipeline.clip_table, clips)
    num_maps = int(table["num_maps"].sum())
    common.log(f"{variant}: {len(files)} files, {len(table['label'])} clips, {num_maps} maps")
    counts = np.bincount(table["label"], weights=table["num_maps"], minlength=len(folder.classes))
    weights = input_pipeline.class_weights(counts, "balanced")
    now = input_pipeline.map_dataset(clips, BATCH, weights, num_maps=num_maps, seed=0)
    before = baselines.map_dataset(clips, BATCH, weights, num_maps=num_maps, seed=0)
    for a, b in zip(now, before):  # the same batches, in the same order
        if not all(np.array_equal(x, y) for x, y in zip(a, b)):
            raise AssertionError(f"{variant}: batches differ from the pipeline before")
    out = {"files": len(files), "clips": len(table["label"]), "num_maps": num_maps,
           "side": len(features.variant_indices(variant)), "batch": BATCH,
           "parse_and_cache": fill.rates(num_maps, "maps"),
           "maps": epochs_rate(now, epochs), "maps_before": epochs_rate(before, epochs)}
    windows = input_pipeline.window_dataset(clips, BATCH, len(table["label"]))
    consume(windows)
    with common.Stopwatch() as watch:
        count = sum(consume(windows) for _ in range(epochs))
    out["windows"] = watch.timing.rates(count, "windows")
    return out


def main(argv):
    del argv
    started = time.time()
    # As training runs it: configs/base.py's deterministic=True.
    tf.config.experimental.enable_op_determinism()
    result = {"variants": {v: variant_benchmark(v, _EPOCHS.value) for v in ("clfm", "lfm")}}
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
