"""Training throughput on this machine's CPU cores: the CNN of Table 1 in maps per
second, training and embedding, and the LSTM of Table 2 in clips per second,
for both variants, as `lfm_tf.trainer` compiles and feeds them.

  python -m benchmarks.training --work_dir=/tmp/bench --out=training.json

The settings are configs/base.py's (Adam; CNN batch 64, LSTM batch 16), the data
a leave-one-subject-out fold's training files of the CASME II-sized TFRecords.
The 68x68 LFM network is too slow on a CPU for whole epochs, so it is timed on a
few batches. Beside the defaults, the CLFM CNN is timed on a few batches under
mixed precision: float16, which --config.mixed_precision selects off TPUs, and
bfloat16, which this machine's CPU may run natively (AVX512-BF16, AMX). XLA is
not timed: Keras turns it off while op determinism is on (configs/base.py).

The roof: float32 matrix products (tf.linalg.matmul) per CPU second, that is per
core, against the CNN's arithmetic per map, counted from its layers.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from benchmarks import common, input_pipeline as pipeline_benchmark
from lfm_tf import distribute, experiment, features, input_pipeline, models, trainer

_LFM_STEPS = flags.DEFINE_integer("lfm_steps", 6, "Batches timed for the LFM CNN.")
_OPTION_STEPS = flags.DEFINE_integer("option_steps", 60,
                                     "Batches timed for each CLFM CNN option (precision, XLA).")
_LSTM_EPOCHS = flags.DEFINE_integer("lstm_epochs", 3, "LSTM epochs timed.")
MATMUL_SIDE = 2048


def matmul_flops(repeats: int = 10) -> dict:
    """float32 FLOPs of a large matrix product on all cores, per wall second and per
    CPU second (one core's share): the arithmetic roof."""
    a = tf.random.normal([MATMUL_SIDE, MATMUL_SIDE])
    product = tf.function(lambda x: tf.linalg.matmul(x, x))
    product(a).numpy()
    with common.Stopwatch() as watch:
        for _ in range(repeats):
            product(a).numpy()
    return watch.timing.rates(2 * MATMUL_SIDE**3 * repeats, "FLOP")


def forward_flops(model: keras.Model) -> int:
    """Multiply-adds x 2 of the convolution and dense layers for one map."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            total += 2 * h * w * cout * kh * kw * cin
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


def fit_rate(model: keras.Model, dataset, count: int, epochs: int = 1) -> dict:
    with common.Stopwatch() as watch:
        model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
    return watch.timing.rates(count * epochs, "maps")


def cnn_benchmark(variant: str, config, clips, table, classes) -> tuple[dict, keras.Model]:
    stage = config.cnn
    num_maps = int(table["num_maps"].sum())
    counts = np.bincount(table["label"], weights=table["num_maps"], minlength=len(classes))
    weights = input_pipeline.class_weights(counts, config.class_weight)
    maps = input_pipeline.map_dataset(clips, stage.batch_size, weights, num_maps=num_maps,
                                      seed=config.seed)
    cnn = trainer._compile(models.build_cnn(variant, len(classes), stage.dropout), stage, config,
                           -(-num_maps // stage.batch_size))
    out = {"batch": stage.batch_size, "forward_flops_per_map": forward_flops(cnn),
           "params": cnn.count_params()}
    if variant == "clfm":
        common.log(f"{variant} CNN: one epoch to warm up, then two timed ({num_maps} maps each)")
        fit_rate(cnn, maps, num_maps)
        out["train"] = fit_rate(cnn, maps, num_maps, epochs=2)
    else:
        steps = _LFM_STEPS.value
        common.log(f"{variant} CNN: {steps} batches of {stage.batch_size} timed")
        fit_rate(cnn, maps.take(2), 2 * stage.batch_size)
        out["train"] = fit_rate(cnn, maps.take(steps), steps * stage.batch_size)
    return out, cnn


def embed_benchmark(variant: str, config, cnn, clips, num_clips: int) -> dict:
    """Stage 2's embedding of each clip's 24-map window by the frozen CNN."""
    embedder = trainer.window_embedder(cnn)
    if variant == "clfm":
        windows = input_pipeline.window_dataset(clips, config.cnn.batch_size, num_clips)
        count = num_clips
    else:
        windows = input_pipeline.window_dataset(clips, 4, num_clips).take(2)
        count = 8
    trainer.predict(embedder, windows.take(1))
    with common.Stopwatch() as watch:
        trainer.predict(embedder, windows)
    return watch.timing.rates(count * features.WINDOW_LENGTH, "maps")


def lstm_benchmark(variant: str, config, labels: np.ndarray, classes) -> dict:
    """The LSTM on embeddings of the right shape (their values do not change its speed)."""
    stage = config.lstm
    width = models.network_spec(variant).fc1_units
    embeddings = np.random.default_rng(0).normal(
        size=(len(labels), features.WINDOW_LENGTH, width)).astype(np.float32)
    weights = input_pipeline.class_weights(np.bincount(labels, minlength=len(classes)),
                                           config.class_weight)
    sequences = input_pipeline.embedding_dataset(embeddings, labels, stage.batch_size, weights,
                                                 config.seed)
    lstm = trainer._compile(models.build_lstm(variant, len(classes)), stage, config,
                            -(-len(labels) // stage.batch_size))
    lstm.fit(sequences, epochs=1, verbose=0, shuffle=False)
    epochs = _LSTM_EPOCHS.value
    common.log(f"{variant} LSTM: {epochs} epochs of {len(labels)} clips timed")
    with common.Stopwatch() as watch:
        lstm.fit(sequences, epochs=epochs, verbose=0, shuffle=False)
    return {"batch": stage.batch_size, "params": lstm.count_params(),
            "train": watch.timing.rates(epochs * len(labels), "clips")}


def option_benchmark(config, clips, table, classes, policy: str) -> dict:
    """The CLFM CNN under a Keras precision policy, on a few batches."""
    stage = config.cnn
    num_maps = int(table["num_maps"].sum())
    maps = input_pipeline.map_dataset(clips, stage.batch_size, np.ones(len(classes), np.float32),
                                      num_maps=num_maps, seed=config.seed)
    with distribute.dtype_policy(policy):
        cnn = trainer._compile(models.build_cnn("clfm", len(classes), stage.dropout), stage, config,
                               -(-num_maps // stage.batch_size))
        fit_rate(cnn, maps.take(5), 5 * stage.batch_size)
        steps = _OPTION_STEPS.value
        return fit_rate(cnn, maps.take(steps), steps * stage.batch_size)


def main(argv):
    del argv
    started = time.time()
    config = experiment.load_config("casme2")  # configs/base.py's training settings
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    common.log(f"float32 matmul {MATMUL_SIDE}x{MATMUL_SIDE}")
    result = {"matmul": matmul_flops(), "threads": {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "variants": {}}
    for variant in ("clfm", "lfm"):
        folder, files, clips = pipeline_benchmark.training_clips(variant)
        table = input_pipeline.clip_table(clips)
        cnn_result, cnn = cnn_benchmark(variant, config, clips, table, folder.classes)
        common.log(f"{variant}: embedding windows")
        cnn_result["embed"] = embed_benchmark(variant, config, cnn, clips, len(table["label"]))
        lstm_result = lstm_benchmark(variant, config, table["label"], folder.classes)
        result["variants"][variant] = {
            "clips": len(table["label"]), "maps": int(table["num_maps"].sum()),
            "cnn": cnn_result, "lstm": lstm_result}
        if variant == "clfm":
            options = {}
            # float32 again on the same few batches: the reference for the others.
            for policy in ("float32", "mixed_float16", "mixed_bfloat16"):
                common.log(f"clfm CNN with the {policy} policy")
                options[policy] = option_benchmark(config, clips, table, folder.classes, policy)
            result["variants"][variant]["cnn_options"] = options
    result["config"] = {"cnn": config.cnn.to_dict(), "lstm": config.lstm.to_dict(),
                        "jit_compile": config.jit_compile, "deterministic": config.deterministic}
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
