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
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _patch_keras_for_multi_worker()
        return strategy
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown strategy {name!r}: use --strategy with one of {list(STRATEGIES)}")


def _patch_keras_for_multi_worker() -> None:
    """Work around two faults of Keras 3's `fit` under MultiWorkerMirroredStrategy
    (keras-team/keras issue 20585, open from Keras 3.7 to 3.15; TensorFlow's own
    multi-worker tutorial fails the same way):
      - before the first step it builds the model from one batch averaged over
        the replicas with `strategy.reduce`, which fails for this strategy
        ("Attempt to convert a value (PerReplica ...)"); only the batch's shapes
        and dtypes are needed, so it is built from the first local replica's part;
      - after each step it averages the logs (loss, metrics: scalars) over the
        replicas along axis 0, which scalars do not have ("Invalid reduction
        dimension 0"); scalars are averaged as they are.
    Applied when the strategy is made, so single-process training is untouched.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    def local(strategy, value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda v: local(self.distribute_strategy, v), next(batches))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    keras_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and isinstance(
                strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return tf.nest.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=0 if local(strategy, v).shape.rank
                                          else None), values)
        return keras_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the results: always, but under
    `multi_worker_mirrored` only the chief (the `chief` task, or worker 0 when the
    cluster has none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and \
        "chief" not in resolver.cluster_spec().as_dict()


def task_name(strategy_name: str) -> str:
    """This process's task in TF_CONFIG ("worker 1"), for messages."""
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return f"{resolver.task_type} {resolver.task_id}" if strategy_name == \
        "multi_worker_mirrored" else "this process"


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
