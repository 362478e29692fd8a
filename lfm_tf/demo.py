r"""`make demo`: the whole path on synthetic data, in a few minutes on 2 CPU cores.

  synthetic micro-expressions (lfm_tf.datasets.synthetic, in memory)
  -> preprocessing (the Beam pipeline: maps of Eq. 1-2, per-subject TFRecords)
  -> leave-one-subject-out with the CLFM network (configs/synthetic.py)
  -> the result table, report.md and TensorBoard logs under runs/demo/
  -> spotting: synthetic long recordings (lfm_tf.datasets.synthetic_long), the
     spotter leave-one-subject-out, its F1 under the MEGC protocol (runs/demo/spotting/)

  python -m lfm_tf.demo [--num_subjects=8] [--clips_per_class=4] [--out=runs/demo]
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags, logging  # noqa: E402

from lfm_tf import cli, experiment, pipeline, tfrecord_folder, trainer  # noqa: E402
from lfm_tf.spotting import run as spotting_run  # noqa: E402

_OUT = flags.DEFINE_string("out", os.path.join("runs", "demo"), "Where everything goes.")
_SUBJECTS = flags.DEFINE_integer("num_subjects", 8, "Synthetic subjects (= LOSO folds).")
_CLIPS = flags.DEFINE_integer("clips_per_class", 4, "Clips per subject and class.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the data and of training.")


def main(argv):
    del argv
    print(runtime.device_summary(), file=sys.stderr, flush=True)
    start = time.time()
    tfrecords = os.path.join(_OUT.value, "tfrecords")
    workdir = os.path.join(_OUT.value, "workdir")
    # Beam's own progress messages would drown the demo's few lines.
    logging.set_verbosity(logging.WARNING)
    manifest = pipeline.run(
        pipeline.PreprocessConfig(
            dataset="synthetic", data_dir=None, out_dir=tfrecords, variant="clfm",
            landmark_source="provided", progress=False,
            reader_options=(("num_subjects", _SUBJECTS.value),
                            ("clips_per_class", _CLIPS.value), ("seed", _SEED.value))),
        # The clips are in memory: one in-process worker beats starting processes.
        beam_args=["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    logging.set_verbosity(logging.INFO)
    print(tfrecord_folder.describe(manifest), flush=True)

    # A fresh run every time, so the printed time is the whole protocol's; only a
    # folder this toolkit wrote (it has run.json) is removed.
    if os.path.exists(os.path.join(workdir, experiment.RUN_FILE)):
        shutil.rmtree(workdir)
    config = experiment.load_config("synthetic")
    config.tfrecord_dir = tfrecords
    config.workdir = workdir
    config.seed = _SEED.value
    config.verbose = 0
    print(f"leave-one-subject-out over {manifest['counts']['subjects']} subjects, "
          f"CLFM network, {config.cnn.epochs} + {config.lstm.epochs} epochs ...", flush=True)
    result = trainer.run(config)
    print()
    print(trainer.summary(config, result))
    print("\nspotting: 4 synthetic subjects x 1 recording of 30 s at 30 fps, with blinks, "
          "talking, a head turn and drift ...", flush=True)
    spotted = spotting_run.evaluate_dataset(
        "synthetic_long", None, os.path.join(_OUT.value, "spotting"), plots=1,
        read_options={"num_subjects": 4, "videos_per_subject": 1, "seconds": 30.0,
                      "seed": _SEED.value}, log=lambda line: None)
    print("spotting F1 (MEGC protocol, IoU >= 0.5): " + ", ".join(
        f"{name} {spotted[key]['f1']:.3f}" for key, name in
        (("me", "ME"), ("mae", "MaE"), ("overall", "overall"))))
    print(f"demo finished in {time.time() - start:.0f} s")


if __name__ == "__main__":
    cli.run(main)
