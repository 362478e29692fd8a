r"""Training and inference throughput of the networks of Tables 1 and 2 on a GPU.

TensorFlow's wheel does not fit the GPU machine this project is sometimes lent,
so this runs the same Keras 3 models (`lfm_tf.models`, unchanged) on the JAX
backend, with nothing of TensorFlow imported:

  KERAS_BACKEND=jax python -m benchmarks.gpu --out=gpu.json

Inputs are random uint8 maps (what Eq. 2 stores) and random labels: throughput
does not depend on their values. Per network and batch size it times `fit` on
whole epochs after a warm-up epoch (XLA compilation), in float32 and in mixed
precision (bfloat16, the GPU's fast type besides float16), and `predict` of the
frozen FC1 encoder on 24-map windows, which is how stage 2 embeds clips. Prints
and writes one JSON object; `benchmarks/report.py` does not read it: the numbers
go into BENCHMARKS.md by hand, with the machine named.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import keras
import numpy as np

from lfm_tf import features, models

CLASSES = 5


def _maps(variant: str, count: int, rng: np.random.Generator) -> np.ndarray:
    side = len(features.variant_indices(variant))
    return rng.integers(0, 256, (count, side, side), dtype=np.uint8)


def train_rate(variant: str, batch: int, policy: str, steps: int, rng) -> dict:
    """Maps per second of `fit` on the CNN of Table 1 (after one warm-up epoch)."""
    keras.config.set_dtype_policy(policy)
    cnn = models.build_cnn(variant, CLASSES)
    cnn.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
                jit_compile=True)
    x, y = _maps(variant, batch * steps, rng), rng.integers(0, CLASSES, batch * steps)
    cnn.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    start = time.perf_counter()
    cnn.fit(x, y, batch_size=batch, epochs=2, verbose=0)
    seconds = time.perf_counter() - start
    keras.config.set_dtype_policy("float32")
    return {"variant": variant, "batch": batch, "policy": policy, "maps": 2 * len(x),
            "seconds": round(seconds, 3), "maps_per_s": round(2 * len(x) / seconds, 1)}


def embed_rate(variant: str, clips: int, rng) -> dict:
    """24-map windows per second through the frozen FC1 encoder (stage 2's input)."""
    cnn = models.build_cnn(variant, CLASSES)
    embedder = models.build_embedder(cnn)
    maps = _maps(variant, clips * features.WINDOW_LENGTH, rng)
    # Warm-up on whole batches of the timed shape: another shape would compile again.
    embedder.predict(maps[:2 * 256], batch_size=256, verbose=0)
    start = time.perf_counter()
    embedder.predict(maps, batch_size=256, verbose=0)
    seconds = time.perf_counter() - start
    return {"variant": variant, "clips": clips, "seconds": round(seconds, 3),
            "windows_per_s": round(clips / seconds, 1)}


def lstm_rate(variant: str, batch: int, clips: int, rng) -> dict:
    """Clips per second of `fit` on the LSTM of Table 2."""
    lstm = models.build_lstm(variant, CLASSES)
    lstm.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                 jit_compile=True)
    width = models.network_spec(variant).fc1_units
    x = rng.standard_normal((clips, features.WINDOW_LENGTH, width)).astype(np.float32)
    y = rng.integers(0, CLASSES, clips)
    lstm.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    start = time.perf_counter()
    lstm.fit(x, y, batch_size=batch, epochs=2, verbose=0)
    seconds = time.perf_counter() - start
    return {"variant": variant, "batch": batch, "clips": 2 * clips,
            "seconds": round(seconds, 3), "clips_per_s": round(2 * clips / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gpu.json")
    parser.add_argument("--steps", type=int, default=40, help="batches per timed epoch")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    import jax

    result = {"backend": keras.backend.backend(), "keras": keras.__version__,
              "jax": jax.__version__, "devices": [str(d) for d in jax.devices()],
              "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
              "train": [], "embed": [], "lstm": []}
    for variant, batches in (("clfm", (64, 512)), ("lfm", (64, 256))):
        for batch in batches:
            for policy in ("float32", "mixed_bfloat16"):
                result["train"].append(train_rate(variant, batch, policy, args.steps, rng))
                print(json.dumps(result["train"][-1]), flush=True)
        result["embed"].append(embed_rate(variant, 512, rng))
        print(json.dumps(result["embed"][-1]), flush=True)
        result["lstm"].append(lstm_rate(variant, 16, 2048, rng))
        print(json.dumps(result["lstm"][-1]), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
