"""The implementations that issue 7 made faster, as they were, to measure the
speed-up against in every run (and to check that the results are identical).

- `lfm` and `normalize`: lfm_tf.features before (an einsum over an (N, M, M, 2)
  difference array; one temporary array per step of Eq. 2).
- `map_dataset`: lfm_tf.input_pipeline's stage-1 input before (the class weight
  looked up by a map function per map, before batching).
"""

from __future__ import annotations

import numpy as np

_NEUTRAL = 127.0
_SCALE = 128.0


def lfm(landmarks: np.ndarray, frame_interval: int, indices) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)[:, np.asarray(indices)]
    diff = pts[:, :, None, :] - pts[:, None, :, :]
    dist = np.sqrt(np.einsum("nijk,nijk->nij", diff, diff))
    return (dist[frame_interval:] - dist[:-frame_interval]).astype(np.float32)


def normalize(maps: np.ndarray) -> np.ndarray:
    x = np.asarray(maps, dtype=np.float64)
    peak = x.max(axis=(-2, -1), keepdims=True)
    trough = x.min(axis=(-2, -1), keepdims=True)
    pos = x > 0
    neg = x < 0
    up = np.sqrt(np.divide(x, np.where(peak > 0, peak, 1.0), where=pos, out=np.zeros_like(x)))
    down = np.sqrt(np.divide(x, np.where(trough < 0, trough, 1.0), where=neg, out=np.zeros_like(x)))
    out = np.full_like(x, _NEUTRAL)
    out = np.where(pos, _SCALE * up + _NEUTRAL, out)
    out = np.where(neg, -_SCALE * down + _NEUTRAL, out)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def map_dataset(clips, batch_size: int, weights: np.ndarray, *, num_maps: int, seed: int):
    import tensorflow as tf  # only here: the NumPy baselines run without it

    def to_maps(clip):
        return clip["maps"], tf.fill([tf.shape(clip["maps"])[0]], clip["label"])

    ds = clips.map(to_maps).unbatch()
    ds = ds.apply(tf.data.experimental.assert_cardinality(num_maps))
    ds = ds.shuffle(max(num_maps, 1), seed=seed, reshuffle_each_iteration=True)
    table = tf.constant(weights, tf.float32)
    ds = ds.map(lambda x, y: (x, y, tf.gather(table, y)), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
