"""Run a protocol: two-stage training per fold (Section III-B), pooling, report.

  run       check everything first (`experiment.prepare`: config, folders,
            manifests, classes, folds; one line, before any model is built), train
            the folds not yet on disk, then pool every finished fold into the
            report; with `pool_only` it only pools.

Per fold, in `<workdir>/folds/<fold>/`:
  stage 1  the CNN of Table 1 on single maps, each labelled with its clip's label;
  stage 2  the CNN frozen; each training clip's 24-map window embedded once by
           its FC1 layer; the LSTM of Table 2 trained on those embeddings;
  test     only then are the test subjects' files opened and scored.
Fixed epochs: nothing is chosen on the test fold (no early stopping, no best
epoch), and a validation split, if asked for, comes from training subjects and
only draws curves. A fold is finished when its `result.json` exists; re-running
skips finished folds, so an interrupted protocol resumes where it stopped and
folds can be spread over machines (`folds`) and pooled at the end (`pool_only`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from ml_collections import ConfigDict

import lfm_tf
from lfm_tf import (distribute, experiment, features, files, input_pipeline, model_folder,
                    models, parallel_folds, protocols, report)


# ---------------------------------------------------------------- one fold


def _compile(model: keras.Model, stage: ConfigDict, config: ConfigDict,
             steps_per_epoch: int) -> keras.Model:
    jit = experiment.JIT_CHOICES[str(config.jit_compile).lower()]
    model.compile(optimizer=experiment.optimizer(stage, steps_per_epoch),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)
    return model


def window_embedder(cnn: keras.Model, window: int = features.WINDOW_LENGTH) -> keras.Model:
    """(batch, window, M, M) uint8 maps -> (batch, window, F) FC1 embeddings, frozen."""
    side = cnn.input.shape[-1]
    maps = keras.Input(shape=(window, side, side), dtype="uint8", name="window")
    embedded = keras.layers.TimeDistributed(models.build_embedder(cnn), name="embed")(maps)
    model = keras.Model(maps, embedded, name="window_embedder")
    model.trainable = False
    return model


def predict(model: keras.Model, dataset: tf.data.Dataset) -> np.ndarray:
    """Inference on one device, the model called outside the strategy.

    Under several replicas a last batch smaller than the replica count would
    leave a replica empty, which some kernels reject; inference is a small part
    of the work (each clip once), so it runs undistributed on the mirrored
    weights, and eagerly: a few large batches, nothing worth tracing."""
    return np.concatenate([np.asarray(model(x, training=False)) for x in dataset])


def _whole_batches(fold: str, count: int, batch_size: int, replicas: int, what: str,
                   field: str) -> bool:
    """drop_remainder for a training set: with several replicas every batch is kept
    whole (see `predict`), which needs at least one full batch."""
    if replicas == 1:
        return False
    if count < batch_size:
        raise ValueError(f"fold {fold}: {count} training {what}, fewer than one batch of {batch_size} "
                         f"for {replicas} replicas: lower --config.{field}")
    return True


def _steps(count: int, batch_size: int, drop_remainder: bool) -> int:
    """Batches in an epoch of `count` examples."""
    return count // batch_size if drop_remainder else math.ceil(count / batch_size)


class TrainingDiverged(ValueError):
    """A loss that is no longer finite: the weights are NaN or inf from then on."""


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raise `TrainingDiverged` at the end of the first epoch whose loss is NaN or inf.

    Keras' TerminateOnNaN only stops the fit, which then returns normally: the
    fold would go on to embed, test and score with NaN weights. Checked per epoch,
    not per batch: a batch hook makes Keras wait for every step's loss (it doubled
    the CLFM CNN's training time), and one non-finite batch makes the epoch's mean
    loss non-finite too.
    """

    def __init__(self, fold: str, stage: str, learning_rate: float):
        super().__init__()
        self.fold, self.stage, self.learning_rate = fold, stage, learning_rate

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(
                f"fold {self.fold}: the {self.stage.upper()} loss became {float(loss)} in epoch "
                f"{epoch + 1}, so the weights are no longer numbers: lower "
                f"--config.{self.stage}.learning_rate (now {self.learning_rate:g}) and run again "
                f"(finished folds are kept)")


def _callbacks(logdir: str, fold: str, stage: str, learning_rate: float) -> list:
    return [_StopOnNonFiniteLoss(fold, stage, learning_rate),
            keras.callbacks.TensorBoard(logdir, write_graph=False, profile_batch=0)]


def _map_samples(clips: tf.data.Dataset, classes) -> dict[str, np.ndarray]:
    """The first training clip's window of each class, for TensorBoard."""
    samples = {}
    for clip in clips.as_numpy_iterator():
        name = classes[int(clip["label"])]
        if name not in samples:
            samples[name] = np.asarray(input_pipeline.select_window(clip["maps"]))
        if len(samples) == len(classes):
            break
    return samples


@dataclasses.dataclass
class _Clips:
    """Some subjects' clips, parsed and cached, with their ids and labels."""

    data: tf.data.Dataset
    table: dict[str, np.ndarray]

    @classmethod
    def read(cls, files, map_size: int) -> "_Clips":
        data = input_pipeline.read_clips(files, map_size)
        return cls(data, input_pipeline.clip_table(data))

    @property
    def labels(self) -> np.ndarray:
        return self.table["label"]

    def num_maps(self, window_only: bool) -> int:
        if window_only:
            return len(self.labels) * features.WINDOW_LENGTH
        return int(self.table["num_maps"].sum())

    def per_class(self, num_classes: int, maps: bool = False, window_only: bool = False):
        """Clips (or maps) per class."""
        if not maps:
            return np.bincount(self.labels, minlength=num_classes)
        each = (np.full(len(self.labels), features.WINDOW_LENGTH) if window_only
                else self.table["num_maps"])
        return np.bincount(self.labels, weights=each, minlength=num_classes)


def _train_cnn(exp: experiment.Experiment, fold, train: _Clips, validation: _Clips | None,
               strategy, logdir: str):
    """Stage 1: the CNN of Table 1 on single maps, each with its clip's label."""
    config, stage = exp.config, exp.config.cnn
    window_only = stage.maps == "window"
    replicas = strategy.num_replicas_in_sync
    weights = input_pipeline.class_weights(
        train.per_class(len(exp.classes), maps=True, window_only=window_only),
        config.class_weight)
    num_maps = train.num_maps(window_only)
    whole = _whole_batches(fold.name, num_maps, stage.batch_size, replicas, "maps",
                           "cnn.batch_size")
    maps = input_pipeline.map_dataset(
        train.data, stage.batch_size, weights, num_maps=num_maps, seed=config.seed,
        window_only=window_only, drop_remainder=whole)
    val_maps = None if validation is None else input_pipeline.map_dataset(
        validation.data, stage.batch_size, weights, num_maps=validation.num_maps(window_only),
        seed=None, window_only=window_only, drop_remainder=replicas > 1)
    with strategy.scope():
        cnn = _compile(models.build_cnn(config.variant, len(exp.classes), stage.dropout),
                       stage, config, _steps(num_maps, stage.batch_size, whole))
    # shuffle=False: the tf.data pipeline shuffles (Keras cannot shuffle a dataset).
    history = cnn.fit(maps, epochs=stage.epochs, validation_data=val_maps, shuffle=False,
                      callbacks=_callbacks(os.path.join(logdir, "cnn"), fold.name, "cnn",
                                          stage.learning_rate), verbose=config.verbose)
    return cnn, history


def _train_lstm(exp: experiment.Experiment, fold, train: tuple[np.ndarray, np.ndarray],
                validation: tuple[np.ndarray, np.ndarray] | None, strategy, logdir: str):
    """Stage 2: the LSTM of Table 2 on (embeddings, labels) of clip windows."""
    config, stage = exp.config, exp.config.lstm
    replicas = strategy.num_replicas_in_sync
    embeddings, labels = train
    weights = input_pipeline.class_weights(np.bincount(labels, minlength=len(exp.classes)),
                                           config.class_weight)
    whole = _whole_batches(fold.name, len(labels), stage.batch_size, replicas, "clips",
                           "lstm.batch_size")
    sequences = input_pipeline.embedding_dataset(
        embeddings, labels, stage.batch_size, weights, config.seed, drop_remainder=whole)
    val_sequences = None if validation is None else input_pipeline.embedding_dataset(
        *validation, stage.batch_size, weights, seed=None, drop_remainder=replicas > 1)
    with strategy.scope():
        lstm = _compile(models.build_lstm(config.variant, len(exp.classes)), stage, config,
                        _steps(len(labels), stage.batch_size, whole))
    history = lstm.fit(sequences, epochs=stage.epochs, validation_data=val_sequences,
                       shuffle=False, callbacks=_callbacks(os.path.join(logdir, "lstm"), fold.name,
                                                          "lstm", stage.learning_rate),
                       verbose=config.verbose)
    return lstm, history


def train_fold(exp: experiment.Experiment, fold: protocols.Fold,
               strategy: tf.distribute.Strategy) -> dict:
    """Train and test one fold; writes its models, logs, predictions and result."""
    config, classes = exp.config, exp.classes
    start = time.time()
    fold = protocols.with_validation(fold, config.validation_subjects, config.seed)
    fold_dir = exp.fold_dir(fold)
    logdir = os.path.join(fold_dir, "tensorboard")
    os.makedirs(fold_dir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    clock = _StageClock()

    train = _Clips.read(fold.train, exp.map_size)
    validation = _Clips.read(fold.validation, exp.map_size) if fold.validation else None
    clips_per_class = train.per_class(len(classes))
    lacking = [name for name, n in zip(classes, clips_per_class) if n == 0]
    if lacking:
        logging.warning("fold %s: no training clips of %s", fold.name, ", ".join(lacking))

    clock.lap("read")
    cnn, cnn_history = _train_cnn(exp, fold, train, validation, strategy, logdir)
    clock.lap("cnn")
    with files.atomic_path(os.path.join(fold_dir, "cnn.keras")) as tmp:
        cnn.save(tmp)
    report.write_map_samples(os.path.join(logdir, "inputs"), _map_samples(train.data, classes))
    clock.lap("save")

    # Stage 2 reads each clip's window through the frozen CNN once, here.
    with strategy.scope():
        embedder = window_embedder(cnn)

    def embed(clips: _Clips) -> tuple[np.ndarray, np.ndarray]:
        windows = input_pipeline.window_dataset(clips.data, config.cnn.batch_size,
                                                len(clips.labels))
        return predict(embedder, windows), clips.labels

    embedded = embed(train), embed(validation) if validation else None
    clock.lap("embed")
    lstm, lstm_history = _train_lstm(exp, fold, *embedded, strategy, logdir)
    clock.lap("lstm")
    with files.atomic_path(os.path.join(fold_dir, "lstm.keras")) as tmp:
        lstm.save(tmp)
    clock.lap("save")

    # Test: the test subjects' files are opened only now.
    rows = []
    if fold.test:
        test = _Clips.read(fold.test, exp.map_size)
        embeddings, _ = embed(test)
        probs = predict(lstm, tf.data.Dataset.from_tensor_slices(embeddings)
                        .batch(config.lstm.batch_size))
        rows = _prediction_rows(fold.name, test.table, probs, classes)
        report.write_predictions(os.path.join(fold_dir, report.PREDICTIONS), rows, classes)
    else:
        export(exp, cnn, lstm, len(train.labels), len(fold.train))
    clock.lap("test")

    result = {
        "fold": fold.name,
        "index": fold.index,
        "fingerprint": exp.record()["fingerprint"],
        "train_subjects": list(fold.train_subjects),
        "validation_subjects": list(fold.validation_subjects),
        "test_subjects": list(fold.test_subjects),
        "train_clips_per_class": dict(zip(classes, clips_per_class.tolist())),
        "lacking_classes": lacking,
        "test_clips": len(rows),
        # What pooling checks the fold's predictions.csv against.
        "test_clip_ids": [f"{r['subject']}/{r['clip']}" for r in rows],
        "test_accuracy": (float(np.mean([r["true"] == r["predicted"] for r in rows]))
                          if rows else None),
        "final": {"cnn": _last(cnn_history), "lstm": _last(lstm_history)},
        "seconds": round(time.time() - start, 1),
        # Where the fold's wall time went (BENCHMARKS.md section 4 sums them).
        "stage_seconds": clock.seconds,
        "replicas": strategy.num_replicas_in_sync,
        # How the fold ran, which the run's fingerprint leaves out (shards may differ):
        # float32 sums depend on the threads (0: all cores, TensorFlow's default), and
        # the precision on the policy.
        "execution": {"strategy": exp.config.strategy,
                      "parallel_folds": exp.config.parallel_folds,
                      "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                      "mixed_precision": bool(exp.config.mixed_precision),
                      "jit_compile": exp.config.jit_compile},
    }
    # Written last: its presence marks the fold finished.
    files.write_json(os.path.join(fold_dir, experiment.RESULT_FILE), result)
    return result


class _StageClock:
    """Wall seconds per stage of a fold, by laps; a stage met twice adds up."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.time()

    def lap(self, stage: str) -> None:
        now = time.time()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._last, 2)
        self._last = now


def _last(history) -> dict:
    return {k: float(v[-1]) for k, v in history.history.items()}


def _prediction_rows(fold: str, table: dict, probs: np.ndarray, classes) -> list[dict]:
    if not np.isfinite(probs).all():
        bad = [str(table["clip"][k]) for k in np.flatnonzero(~np.isfinite(probs).all(axis=1))]
        raise TrainingDiverged(f"fold {fold}: the LSTM gave probabilities that are not numbers "
                               f"for {len(bad)} test clips ({', '.join(bad[:3])}): training "
                               f"diverged; lower the learning rates and run again")
    predicted = np.argmax(probs, axis=1)
    rows = []
    for k in range(len(predicted)):
        true, pred = int(table["label"][k]), int(predicted[k])
        row = {"fold": fold, "dataset": table["dataset"][k], "subject": table["subject"][k],
               "clip": table["clip"][k], "true": true, "true_name": classes[true],
               "predicted": pred, "predicted_name": classes[pred]}
        row.update({f"prob_{name}": float(p) for name, p in zip(classes, probs[k])})
        rows.append(row)
    return rows


def export(exp: experiment.Experiment, cnn: keras.Model, lstm: keras.Model, clips: int,
           subjects: int) -> str:
    """The `full` protocol's models for inference, in `<workdir>/export`, in the
    format of `lfm_tf.model_folder`: both stages, the classifier chaining them
    (uint8 windows (batch, 24, M, M) -> class probabilities) as .keras and as a
    SavedModel, and model.json with everything needed to make its input."""
    window = keras.Input(shape=(features.WINDOW_LENGTH, exp.map_size, exp.map_size),
                         dtype="uint8", name="window")
    classifier = keras.Model(window, lstm(window_embedder(cnn)(window)), name="lfm_classifier")
    tag = exp.source.tag
    info = {
        "classes": list(exp.classes),
        "variant": exp.config.variant,
        "map_size": exp.map_size,
        "landmark_indices": list(features.variant_indices(exp.config.variant)),
        "landmark_indices_base": 0,
        "window_length": features.WINDOW_LENGTH,
        "frame_interval": int(tag[1:]) if tag[1:].isdigit() else "round(fps / 25) per clip",
        "input": "uint8 maps of Eq. 2, the middle 24 of a clip (features.select_window)",
        "dataset": exp.source.dataset,
        "trained_on": {"clips": clips, "subjects": subjects},
        "versions": {"lfm_tf": lfm_tf.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__},
        "config": exp.config.to_dict(),
    }
    return model_folder.write(os.path.join(exp.workdir, experiment.EXPORT_DIR), cnn, lstm,
                              classifier, info)


# ---------------------------------------------------------------- the run


def setting(exp: experiment.Experiment, results: dict[str, dict]) -> dict:
    """What the report needs to know about the run."""
    names = [f.name for f in exp.folds]
    counts = ", ".join(f"{k} {v}" for k, v in exp.source.class_counts.items())
    data = (f"{exp.source.path} ({exp.source.manifest['counts']['clips']} clips, "
            f"{len(exp.source.subjects)} subjects; {counts})")
    if exp.target:
        target_counts = ", ".join(f"{k} {v}" for k, v in exp.target.class_counts.items())
        data += (f" -> {exp.target.path} ({exp.target.manifest['counts']['clips']} clips, "
                 f"{len(exp.target.subjects)} subjects; {target_counts})")
    return {
        "dataset": exp.config.dataset, "target": exp.config.target,
        "protocol": exp.config.protocol, "variant": exp.config.variant,
        "tag": exp.source.tag, "classes": list(exp.classes), "data": data,
        "folds": {"total": len(names), "finished": [n for n in names if n in results],
                  "missing": [n for n in names if n not in results]},
        "lacking": {n: results[n]["lacking_classes"] for n in names
                    if n in results and results[n]["lacking_classes"]},
        "config": exp.config.to_dict(),
    }


def checked_predictions(exp: experiment.Experiment, fold: protocols.Fold,
                        result: dict) -> list[dict]:
    """A finished fold's predictions.csv rows, once they are the fold's test clips:
    as many as the manifest gives its test subjects, the same clips its
    result.json lists, each with finite probabilities (`report.read_predictions`).

    Raises ValueError naming the file and what to do: a fold whose rows are
    missing or foreign must be retrained, never pooled as it is.
    """
    path = os.path.join(exp.fold_dir(fold), report.PREDICTIONS)
    redo = (f"delete {exp.fold_dir(fold)} and run again without --pool_only to retrain "
            f"fold {fold.name}")
    rows = report.read_predictions(path, exp.classes, redo)
    folder = exp.target or exp.source
    expected = sum(folder.clip_counts[s] for s in fold.test_subjects)
    ids = [f"{r['subject']}/{r['clip']}" for r in rows]
    listed = result.get("test_clip_ids", ids)
    if len(rows) != expected:
        missing = sorted(set(listed) - set(ids))
        named = f" (missing {', '.join(missing[:3])})" if missing else ""
        raise ValueError(f"{path} holds {len(rows)} predictions but fold {fold.name} has "
                         f"{expected} test clips{named}: {redo}")
    if sorted(ids) != sorted(listed):
        foreign = sorted(set(ids) - set(listed)) or sorted(set(listed) - set(ids))
        raise ValueError(f"{path} does not predict the clips fold {fold.name} tested (e.g. "
                         f"{foreign[0]}): {redo}")
    return rows


def pool(exp: experiment.Experiment) -> dict:
    """Score every finished fold on disk and write the run's report files."""
    results, rows = {}, []
    for fold in exp.folds:
        result = experiment.finished(exp, fold)
        if result is None:
            continue
        results[fold.name] = result
        rows += checked_predictions(exp, fold, result)
    if not results:
        raise ValueError(f"no finished folds in {exp.workdir}: train first (without --pool_only)")
    return report.write(exp.workdir, rows, setting(exp, results))


def _log_result(result: dict) -> None:
    accuracy = result["test_accuracy"]
    logging.info("fold %s: %d test clips, accuracy %s, %.0f s", result["fold"],
                 result["test_clips"], "-" if accuracy is None else f"{accuracy:.3f}",
                 result["seconds"])


def run(config: ConfigDict) -> dict:
    """Train the folds not yet finished (unless `pool_only`), then pool.

    With `parallel_folds` > 1 the folds train in that many worker processes
    (`lfm_tf.parallel_folds`), with the same result per fold.

    Returns metrics.json's content, or for the `full` protocol {"export": folder}.
    """
    strategy = None
    if not config.pool_only and config.parallel_folds == 1:
        # Before anything runs on TensorFlow: multi_worker_mirrored sets up its
        # collective ops when it is made, which TensorFlow allows only at start-up.
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        strategy = distribute.get_strategy(config.strategy, config.tpu)
    exp = experiment.prepare(config)
    experiment.claim_workdir(exp, create=not config.pool_only)
    if not config.pool_only:
        todo = []
        for fold in protocols.select(exp.folds, config.folds):
            if experiment.finished(exp, fold) is not None:
                logging.info("fold %s: finished earlier, skipped", fold.name)
            else:
                todo.append(fold)
        if config.parallel_folds > 1 and todo:
            parallel_folds.train(config, [f.name for f in todo], _log_result)
        elif todo and not _train_in_turn(exp, todo, strategy):
            return {"worker": distribute.task_name(exp.config.strategy)}
    if config.protocol == "full":
        path = os.path.join(exp.workdir, experiment.EXPORT_DIR)
        if not os.path.exists(os.path.join(path, model_folder.MODEL_INFO)):
            raise ValueError(f"no exported model in {path}: train first (without --pool_only)")
        return {"export": path}
    return pool(exp)


def _train_in_turn(exp: experiment.Experiment, todo: list[protocols.Fold],
                   strategy: tf.distribute.Strategy) -> bool:
    """Train `todo` one after another in this process, under `strategy`.

    Under `multi_worker_mirrored` every worker runs this same loop (the fold list
    is decided before any of them trains, so they stay in step); only the chief
    writes into the workdir, the other workers into a scratch folder deleted
    afterwards (TensorFlow's rule for multi-worker saving). Returns whether this
    process is the one whose outputs count (the chief, or the only process).
    """
    config = exp.config
    chief = distribute.is_chief(strategy)
    with contextlib.ExitStack() as stack:
        if not chief:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="lfm_worker_"))
            exp = dataclasses.replace(exp, workdir=scratch)
        stack.enter_context(distribute.dtype_policy(
            distribute.precision_policy(config.strategy, config.mixed_precision)))
        for fold in todo:
            logging.info("fold %s (%d of %d): training on %d subjects", fold.name,
                         fold.index + 1, len(exp.folds), len(fold.train))
            _log_result(train_fold(exp, fold, strategy))
    return chief


def summary(config: ConfigDict, result: dict) -> str:
    """The lines the command line prints at the end."""
    if "export" in result:
        return f"exported the model to {result['export']}"
    if "worker" in result:
        return f"{result['worker']}: its share of training done; the chief writes the results"
    workdir = config.workdir or experiment.default_workdir(config)
    return "\n".join([report.format_table(result),
                      f"report: {os.path.join(workdir, report.REPORT)}",
                      f"TensorBoard logs: tensorboard --logdir {workdir}"])
