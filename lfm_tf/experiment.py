"""An experiment: the config, the data folders and the folds of one run, checked
before anything trains, and its working folder.

  configs      `configs/<dataset>.py` (ml_collections), found beside the package;
               `--dataset` alone picks one (`argv_with_config`).
  prepare      check the config, open the TFRecord folders (`input_pipeline`), make
               the folds (`protocols`); fail in one line before any model is built.
  workdir      run.json records what the experiment is (the config less where and
               how it runs, and the data by checksum); a workdir holding another
               experiment is refused, and a fold is finished when its result.json,
               from this same experiment, is there (`finished`).

Training itself is `lfm_tf.trainer`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import os
import re
import sys

import keras
from ml_collections import ConfigDict

import lfm_tf
from lfm_tf import distribute, features, files, input_pipeline, protocols, report
from lfm_tf.datasets import specs
from lfm_tf.input_pipeline import RecordFolder

# configs/ sits beside the package in the source tree (installed editable).
CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(lfm_tf.__file__))),
                          "configs")
RUN_FILE = "run.json"
RESULT_FILE = "result.json"
EXPORT_DIR = "export"
CNN_MAPS = ("all", "window")
SCHEDULES = ("constant", "cosine")
JIT_CHOICES = {"auto": "auto", "true": True, "false": False}
# Cross-dataset (Table 7) needs the same 3 classes on both sides; CASME II gets
# them from preprocessing with --label_set=cross3, which writes `casme2-cross3`.
CROSS_FOLDERS = {"casme2": "casme2-cross3"}

# Fields that say how or where to run, not what the experiment is: folds trained
# with other values of these still belong to the same run.
_EXECUTION_FIELDS = ("workdir", "folds", "pool_only", "parallel_folds", "strategy", "tpu",
                     "jit_compile",
                     "mixed_precision", "tfrecord_dir", "target_tfrecord_dir", "dataset_folder",
                     "target_folder", "verbose")


@dataclasses.dataclass
class Experiment:
    """A checked run: its config, data folders and folds."""

    config: ConfigDict
    source: RecordFolder
    target: RecordFolder | None
    folds: list[protocols.Fold]
    workdir: str

    @property
    def classes(self) -> tuple[str, ...]:
        return self.source.classes

    @property
    def map_size(self) -> int:
        return len(features.variant_indices(self.config.variant))

    def record(self) -> dict:
        """What identifies the experiment: the config less execution fields, and
        the data by checksum. Stored as run.json; its hash marks every fold."""
        config = {k: v for k, v in self.config.to_dict().items() if k not in _EXECUTION_FIELDS}
        data = {"source": self.source.fingerprint()}
        if self.target:
            data["target"] = self.target.fingerprint()
        body = {"config": config, "data": data}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
        return {**body, "fingerprint": digest}

    def fold_dir(self, fold: protocols.Fold) -> str:
        return os.path.join(self.workdir, "folds", fold.name)


def config_file(name: str) -> str:
    """Path of `configs/<name>.py`, importable as `configs.<name>` (configs import
    `configs.base`)."""
    if not os.path.isdir(CONFIG_DIR):
        raise ValueError(f"no configs/ beside the lfm_tf package ({CONFIG_DIR}): install it "
                         f"editable (pip install -e .) or pass --config=<config file>")
    path = os.path.join(CONFIG_DIR, f"{name}.py")
    if not os.path.exists(path):
        known = sorted(f[:-3] for f in os.listdir(CONFIG_DIR)
                       if f.endswith(".py") and f not in ("__init__.py", "base.py"))
        raise ValueError(f"unknown dataset {name!r}: no config {path}; use --dataset with "
                         f"one of {known}, or --config=<your config file>")
    root = os.path.dirname(CONFIG_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)
    return path


def argv_with_config(argv: list[str]) -> list[str]:
    """Insert --config=configs/<dataset>.py when only --dataset is given, so that
    --config.<field> overrides work with --dataset alone (config_flags reads them
    from sys.argv)."""
    for k, arg in enumerate(argv[1:], start=1):
        match = re.match(r"^--?config(?:=(.*))?$", arg)
        if match:
            value = match.group(1) if match.group(1) is not None else (argv[k + 1:] or [""])[0]
            # config_flags' own message for a missing file runs to several lines.
            path = value.split(":", 1)[0]
            if not os.path.isfile(path):
                raise FileNotFoundError(f"config file {path} does not exist: pass a config file "
                                        f"(e.g. {config_file('smic')}) or --dataset=<name>")
    if any(re.match(r"^--?(config|help|helpfull)(=|$)", a) for a in argv[1:]):
        return list(argv)
    for k, arg in enumerate(argv[1:], start=1):
        match = re.match(r"^--?dataset(?:=(.*))?$", arg)
        if match:
            name = match.group(1) if match.group(1) is not None else (argv[k + 1:] or [""])[0]
            return [argv[0], f"--config={config_file(name)}", *argv[1:]]
    raise ValueError("say what to train: --dataset=<name> (configs/<name>.py) or --config=<file>")


def load_config(name: str, arg: str | None = None) -> ConfigDict:
    """`configs/<name>.py`'s get_config(arg)."""
    config_file(name)
    return importlib.import_module(f"configs.{name}").get_config(arg)


def learning_rate(stage: ConfigDict, steps_per_epoch: int = 1):
    """A stage's learning rate: `learning_rate` throughout (`schedule="constant"`),
    or (`"cosine"`) a linear warm-up from 0 to `learning_rate` over
    `warmup_epochs`, then a cosine decay to 0 at the end of the last epoch
    (Loshchilov & Hutter, SGDR, ICLR 2017; Goyal et al. 2017's warm-up), which
    reaches a constant rate's accuracy in fewer epochs (BENCHMARKS.md, time to
    accuracy). `steps_per_epoch` is the number of batches in an epoch."""
    if stage.schedule == "constant":
        return stage.learning_rate
    total = stage.epochs * steps_per_epoch
    warmup = min(round(stage.warmup_epochs * steps_per_epoch), total - 1)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total - warmup, warmup_target=stage.learning_rate,
        warmup_steps=warmup)


def optimizer(stage: ConfigDict, steps_per_epoch: int = 1) -> keras.optimizers.Optimizer:
    """The Keras optimizer that a stage's config names (`optimizer`), with its
    learning rate (`learning_rate`); raises ValueError for a name Keras does not
    know."""
    return keras.optimizers.get({"class_name": stage.optimizer,
                                 "config": {"learning_rate": learning_rate(stage, steps_per_epoch)}})


def default_workdir(config: ConfigDict) -> str:
    name = config.dataset + (f"_to_{config.target}" if config.protocol == "cross" else "")
    return os.path.join("runs", f"{name}_{config.protocol}_{config.variant}")


def check_config(config: ConfigDict) -> None:
    if config.dataset not in specs.SPECS and config.dataset != "folder":
        raise ValueError(f"unknown dataset {config.dataset!r}: use --dataset with one of "
                         f"{sorted(specs.SPECS) + ['folder']}")
    protocols.check(config.protocol, config.dataset, config.target)
    features.variant_indices(config.variant)
    if config.class_weight not in input_pipeline.CLASS_WEIGHTINGS:
        raise ValueError(f"unknown class weighting {config.class_weight!r}: use "
                         f"--config.class_weight with one of {input_pipeline.CLASS_WEIGHTINGS}")
    if config.strategy not in distribute.STRATEGIES:
        raise ValueError(f"unknown strategy {config.strategy!r}: use --strategy with one of "
                         f"{list(distribute.STRATEGIES)}")
    if str(config.jit_compile).lower() not in JIT_CHOICES:
        raise ValueError(f"--config.jit_compile must be one of {list(JIT_CHOICES)}, "
                         f"got {config.jit_compile!r}")
    for stage in ("cnn", "lstm"):
        if config[stage].schedule not in SCHEDULES:
            raise ValueError(f"unknown --config.{stage}.schedule={config[stage].schedule!r}; "
                             f"expected one of {SCHEDULES}")
    if config.cnn.maps not in CNN_MAPS:
        raise ValueError(f"unknown --config.cnn.maps={config.cnn.maps!r}; expected one of {CNN_MAPS}")
    _check_numbers(config)
    for stage in ("cnn", "lstm"):
        try:
            optimizer(config[stage])
        except (ValueError, TypeError) as err:
            raise ValueError(f"--config.{stage}.optimizer={config[stage].optimizer!r}: {err}; "
                             f"use a keras.optimizers name such as adam or sgd") from None


def _check_numbers(config: ConfigDict) -> None:
    """Numeric fields in range, before anything trains: a NaN, infinite or negative
    learning rate would train to NaN weights and score them."""
    def bad(field: str, value, ok: bool, allowed: str) -> None:
        if not ok:
            raise ValueError(f"--config.{field}={value!r} is out of range: it must be {allowed}")

    def integer(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    for stage in ("cnn", "lstm"):
        for name in ("epochs", "batch_size"):
            value = config[stage][name]
            bad(f"{stage}.{name}", value, integer(value) and value >= 1, "an integer of at least 1")
        rate = config[stage].learning_rate
        bad(f"{stage}.learning_rate", rate,
            isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0,
            "a finite number above 0")
        warmup = config[stage].warmup_epochs
        bad(f"{stage}.warmup_epochs", warmup,
            isinstance(warmup, (int, float)) and 0 <= warmup < config[stage].epochs,
            f"a number in [0, {stage}.epochs)")
        if warmup > 0 and config[stage].schedule == "constant":
            # A warm-up belongs to a schedule; with a constant rate it would be ignored.
            raise ValueError(f"--config.{stage}.warmup_epochs={warmup} needs a schedule that "
                             f"warms up: add --config.{stage}.schedule=cosine")
    dropout = config.cnn.dropout
    bad("cnn.dropout", dropout, isinstance(dropout, (int, float)) and 0 <= dropout < 1,
        "a number in [0, 1)")
    bad("parallel_folds", config.parallel_folds,
        integer(config.parallel_folds) and config.parallel_folds >= 1, "an integer of at least 1")
    if config.parallel_folds > 1 and config.strategy != "default":
        raise ValueError(f"--parallel_folds={config.parallel_folds} trains folds side by "
                         f"side, each on its own devices; it cannot be combined with "
                         f"--strategy={config.strategy}: use one or the other")
    for name in ("validation_subjects", "seed"):
        bad(name, config[name], integer(config[name]) and config[name] >= 0,
            "an integer of at least 0")


def dataset_folder(dataset: str, protocol: str, override: str = "") -> str:
    """The dataset's folder under the TFRecord root: `override` if set, else the
    dataset's own folder, but for cross-dataset CASME II the one with the 3-class
    labels of Table 7 (preprocessed with --label_set=cross3)."""
    if override:
        return override
    return CROSS_FOLDERS.get(dataset, dataset) if protocol == "cross" else dataset


def prepare(config: ConfigDict) -> Experiment:
    """Check the config and the data and build the folds; trains nothing."""
    check_config(config)
    source = input_pipeline.open_folder(
        config.tfrecord_dir, dataset_folder(config.dataset, config.protocol, config.dataset_folder),
        config.variant, config.frame_tag)
    if source.dataset != config.dataset:
        raise ValueError(f"{source.path} holds {source.dataset}, not {config.dataset}: "
                         f"fix --tfrecord_dir or --dataset")
    target = None
    if config.protocol == "cross":
        target = input_pipeline.open_folder(
            config.target_tfrecord_dir or config.tfrecord_dir,
            dataset_folder(config.target, config.protocol, config.target_folder),
            config.variant, config.target_frame_tag)
        if target.dataset != config.target:
            raise ValueError(f"{target.path} holds {target.dataset}, not {config.target}: "
                             f"fix --target_tfrecord_dir or --target")
    folds = protocols.make_folds(config.protocol, source, target, config.num_folds, config.seed)
    return Experiment(config, source, target, folds, config.workdir or default_workdir(config))


def claim_workdir(exp: Experiment, create: bool) -> None:
    """Check that the workdir holds this same experiment, or (`create`) start it
    there by writing run.json."""
    path = os.path.join(exp.workdir, RUN_FILE)
    record = exp.record()
    if os.path.exists(path):
        previous = files.read_json(path, ("fingerprint", "config", "data"),
                                   f"{exp.workdir} is not a run of this toolkit, or it was "
                                   f"damaged: use another --workdir")
        if previous["fingerprint"] != record["fingerprint"]:
            raise ValueError(f"{exp.workdir} holds a run with other settings or data "
                             f"({_differences(previous, record)}): use another --workdir, or "
                             f"repeat that run's flags (--config ones included) to resume or "
                             f"pool it")
    elif create:
        os.makedirs(exp.workdir, exist_ok=True)
        files.write_json(path, record)


def _differences(a: dict, b: dict) -> str:
    ca, cb = report.flat_hparams(a["config"]), report.flat_hparams(b["config"])
    keys = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
    if a["data"] != b["data"]:
        keys.append("the TFRecord files")
    return ", ".join(keys) or "unknown"


def finished(exp: Experiment, fold: protocols.Fold) -> dict | None:
    """The fold's result if it is on disk (from this experiment), else None."""
    path = os.path.join(exp.fold_dir(fold), RESULT_FILE)
    if not os.path.exists(path):
        return None
    result = files.read_json(path, ("fingerprint", "fold", "test_clips"),
                             f"delete {exp.fold_dir(fold)} and run again to retrain the fold")
    if result["fingerprint"] != exp.record()["fingerprint"]:
        raise ValueError(f"{path} comes from another run (other settings or data): "
                         f"use another --workdir")
    return result
