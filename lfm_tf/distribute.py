"""`--strategy` -> a tf.distribute strategy, and the numeric policy that goes with it.

Models are built and compiled inside `strategy.scope()` (see trainer); Keras 3
then splits each global batch over the replicas.
"""

from __future__ import annotations

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")


def get_strategy(name: str, tpu_address: str = "") -> tf.distribute.Strategy:
    """The strategy called `name`.

      default                the default strategy: one device (a GPU if there is one).
      mirrored               synchronous data parallelism over the local GPUs; on a
                             machine without GPUs, over its logical CPU devices.
      multi_worker_mirrored  the same over several machines, configured by TF_CONFIG.
      tpu                    a Cloud TPU; `tpu_address` is its name or grpc address
                             ("" on a TPU VM: the local TPU).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown strategy {name!r}: use --strategy with one of {list(STRATEGIES)}")


def precision_policy(strategy_name: str, mixed_precision: bool,
                     has_gpu: bool | None = None) -> str:
    """Keras dtype policy: float32, or mixed precision in the hardware's half type:
    float16 on GPUs, bfloat16 on TPUs and CPUs (float16 ran 5x slower than float32
    on our CPU, bfloat16 1.0-1.4x faster: BENCHMARKS.md). The softmax stays float32.

    Args:
      has_gpu: whether GPUs are used; None asks TensorFlow.
    """
    if not mixed_precision:
        return "float32"
    if has_gpu is None:
        has_gpu = bool(tf.config.list_physical_devices("GPU"))
    return "mixed_float16" if has_gpu and strategy_name != "tpu" else "mixed_bfloat16"


class dtype_policy:
    """Context manager: set the global Keras dtype policy, restore it on exit."""

    def __init__(self, policy: str):
        self.policy = policy
        self._previous = None

    def __enter__(self):
        self._previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.policy)
        return self

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self._previous)
