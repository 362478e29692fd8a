r"""Run Table 8 (Section V-C): train on FGE, test on FGE, FME and the mix.

  python -m lfm_tf.table8 --tfrecord_dir=runs/table8/tfrecords --workdir=runs/table8
  python -m lfm_tf.table8 --config.variants=clfm --config.lfm.cnn.epochs=3

Kept short on purpose: everything is in lfm_tf.table8.runner.
"""

from __future__ import annotations

import os
import sys

from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from lfm_tf import cli, experiment, report  # noqa: E402
from lfm_tf.table8 import runner  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(experiment.CONFIG_DIR, "table8.py"),
    "Config file (default configs/table8.py); override fields with --config.<field>=<value>.")
_TFRECORD_DIR = flags.DEFINE_string("tfrecord_dir", None, "Root of the TFRecord tree.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Where models, predictions and report.md go.")


def main(argv):
    del argv
    print(runtime.device_summary(), file=sys.stderr, flush=True)
    config = _CONFIG.value
    for field, holder in (("tfrecord_dir", _TFRECORD_DIR), ("workdir", _WORKDIR)):
        if holder.value is not None:
            config[field] = holder.value
    runner.run(config)
    print(f"report: {os.path.join(config.workdir, report.REPORT)}")
    if config.get("export_ifer"):
        print(f"I-FER export: {os.path.join(config.workdir, runner.IFER_DIR, runner.IFER_EXPORT)}")


def run():
    experiment.config_file("table8")  # puts configs/ on sys.path: configs import configs.base
    cli.run(main)


if __name__ == "__main__":
    run()
