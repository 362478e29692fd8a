r"""Run the paper's experiment for a dataset, from its per-subject TFRecords.

  python -m lfm_tf.train --dataset=smic                    # LOSO, CLFM
  python -m lfm_tf.train --dataset=casme2 --variant=lfm --config.cnn.epochs=30
  python -m lfm_tf.train --dataset=casme2 --target=smic    # Table 7, 3 classes
  python -m lfm_tf.train --dataset=smic --folds=0-7        # on one machine ...
  python -m lfm_tf.train --dataset=smic --folds=8-15       # ... and another
  python -m lfm_tf.train --dataset=smic --pool_only        # then the report

`--dataset` picks configs/<dataset>.py; `--config=FILE` picks any config file.
Every config field can be overridden with --config.<field>=<value>; the flags
below are shortcuts for the common ones. Kept short on purpose: everything is
in lfm_tf.trainer.
"""

from __future__ import annotations

import sys

from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from lfm_tf import cli, distribute, experiment, protocols, trainer  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file; default configs/<--dataset>.py. Override any field "
    "with --config.<field>=<value>.", lock_config=True)
_DATASET = flags.DEFINE_string("dataset", None, "Dataset to train on (picks its config).")
_PROTOCOL = flags.DEFINE_enum("protocol", None, list(protocols.PROTOCOLS),
                              "Evaluation protocol; default: the dataset's (cross with --target).")
_TARGET = flags.DEFINE_string("target", None, "Cross-dataset: the dataset to test on.")
_VARIANT = flags.DEFINE_enum("variant", None, ["lfm", "clfm"], "68x68 LFM or 21x21 CLFM.")
_TFRECORD_DIR = flags.DEFINE_string("tfrecord_dir", None,
                                    "Root of the TFRecord tree (preprocess --out_dir).")
_TARGET_TFRECORD_DIR = flags.DEFINE_string(
    "target_tfrecord_dir", None, "Cross-dataset: root of the target's TFRecords "
    "(default: --tfrecord_dir).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Where logs, checkpoints and reports go.")
_FOLDS = flags.DEFINE_string("folds", None, "Subset of folds: names or indices, '0-3,7'.")
_PARALLEL = flags.DEFINE_integer("parallel_folds", None, "Folds trained side by side, each in "
                                 "a process with its share of the CPU cores.", lower_bound=1)
_STRATEGY = flags.DEFINE_enum("strategy", None, list(distribute.STRATEGIES),
                              "tf.distribute strategy.")
_MIXED = flags.DEFINE_bool("mixed_precision", None, "Mixed precision (GPU/TPU).")
_SEED = flags.DEFINE_integer("seed", None, "Random seed.")
_POOL_ONLY = flags.DEFINE_bool("pool_only", None,
                               "Train nothing: pool the folds on disk into the report.")

_SHORTCUTS = {"dataset": _DATASET, "protocol": _PROTOCOL, "target": _TARGET,
              "variant": _VARIANT, "tfrecord_dir": _TFRECORD_DIR,
              "target_tfrecord_dir": _TARGET_TFRECORD_DIR, "workdir": _WORKDIR,
              "folds": _FOLDS, "parallel_folds": _PARALLEL, "strategy": _STRATEGY,
              "mixed_precision": _MIXED, "seed": _SEED, "pool_only": _POOL_ONLY}


def main(argv):
    del argv
    print(runtime.device_summary(), file=sys.stderr, flush=True)
    config = _CONFIG.value
    for field, holder in _SHORTCUTS.items():
        if holder.value is not None:
            config[field] = holder.value
    if _TARGET.value and _PROTOCOL.value is None:
        config.protocol = "cross"
    print(trainer.summary(config, trainer.run(config)))


def _parse(argv):
    # config_flags reads sys.argv itself to find the overrides.
    sys.argv = argv = experiment.argv_with_config(argv)
    try:
        return flags.FLAGS(argv)
    except (AttributeError, KeyError) as err:
        # How config_flags reports a --config.<field> that the config does not have.
        text = " ".join(str(err).replace("\\n", " ").replace("\\'", "").strip("'").split())
        sys.exit(f"error: no such config field: {text}")


def run():
    cli.run(main, flags_parser=_parse)


if __name__ == "__main__":
    run()
