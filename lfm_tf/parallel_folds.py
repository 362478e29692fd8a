"""Folds trained side by side in worker processes (`--config.parallel_folds=N`).

A fold's two stages keep 2 CPU cores only about 60% busy (small kernels, the
steps between them in Python: BENCHMARKS.md section 4), so on a CPU N folds at
once, each in its own process with the cores split between them, finish a
protocol sooner than the same folds one after another.

Each worker process imports TensorFlow once, with cores // N intra-op threads
and one inter-op thread, and then trains fold after fold from a shared queue
with `trainer.train_fold`, exactly as the sequential loop would: every fold
starts from `keras.utils.set_random_seed(config.seed)`, its tf.data order is
seeded, and each fold writes only its own folder, whose `result.json` (written
last) marks it finished. So resuming works as before, and a fold's predictions
do not depend on which worker trained it or in what order. They can differ from
a run with another number of threads in the last bits of float32 sums, because
the kernels split their sums by thread (BENCHMARKS.md measures by how much).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading

from absl import logging
from ml_collections import ConfigDict

# One experiment per worker process, prepared on its first fold.
_EXPERIMENT = None


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Intra-op threads of each of `workers` processes sharing `cores` (at least 1)."""
    return max(1, (cores or available_cores()) // workers)


def _die_with_parent() -> None:
    """Have the kernel end this worker when the process that started it ends (Linux's
    PR_SET_PDEATHSIG), so that a killed run leaves no fold training on behind it,
    writing into a folder that a rerun may be training too. Elsewhere a no-op: the
    pool ends its workers on a clean exit or Ctrl-C."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != multiprocessing.parent_process().pid:  # it died before the call
        os._exit(1)


def _start_worker(threads: int) -> None:
    """Initializer of a worker process: TensorFlow quietly, its threads set before
    any op runs, GPU memory taken as needed so that workers can share a GPU."""
    from lfm_tf import runtime

    _die_with_parent()
    tf = runtime.import_tensorflow()
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    logging.set_verbosity(logging.WARNING)


def _train(job: tuple[dict, str]) -> dict:
    """Train one fold (by name) of the experiment that `config` describes."""
    global _EXPERIMENT
    import tensorflow as tf

    from lfm_tf import distribute, experiment, trainer

    config_dict, name = job
    config = ConfigDict(config_dict)
    if _EXPERIMENT is None:
        _EXPERIMENT = experiment.prepare(config)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
    fold = next(f for f in _EXPERIMENT.folds if f.name == name)
    policy = distribute.precision_policy(config.strategy, config.mixed_precision)
    with distribute.dtype_policy(policy):
        return trainer.train_fold(_EXPERIMENT, fold, distribute.get_strategy("default"))


def train(config: ConfigDict, fold_names: list[str], on_result) -> None:
    """Train `fold_names` in `config.parallel_folds` worker processes (fewer if
    there are fewer folds), each with the threads of its share of the cores
    whatever the number of folds, so that a fold's result does not depend on how
    many were left; `on_result(result)` is called in this process as each fold
    finishes (in the order they finish).

    Raises the first worker's error after stopping the others; folds finished by
    then stay on disk, so running again resumes.
    """
    threads = threads_per_worker(config.parallel_folds)
    workers = min(config.parallel_folds, len(fold_names))
    logging.info("%d folds in %d worker processes of %d threads each", len(fold_names),
                 workers, threads)
    # spawn, not fork: TensorFlow's thread pools do not survive a fork.
    context = multiprocessing.get_context("spawn")
    jobs = [(config.to_dict(), name) for name in fold_names]
    # SIGTERM (kill, a scheduler's pre-emption) ends the pool as Ctrl-C does: the
    # workers are stopped and the queue's semaphores released, not left behind.
    # Only the main thread may set a handler; from another thread SIGTERM stays as it is.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        with context.Pool(workers, initializer=_start_worker, initargs=(threads,)) as pool:
            for result in pool.imap_unordered(_train, jobs):
                on_result(result)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
