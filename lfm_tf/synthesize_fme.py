r"""Synthesize the micro-expression (FME) set of Table 8 from CK+ (Section V-B).

  python -m lfm_tf.synthesize_fme --data_dir=/data/CK+ --out_dir=/data/CK+_FME
  python -m lfm_tf.synthesize_fme --data_dir=/data/CK+ --out_dir=... --onsets=onsets.csv

Writes a tree in CK+'s layout (12 frames per labelled sequence, interpolated
landmark files, emotion files, fme.csv) that `--dataset=ckplus_fme` preprocesses,
and prints the mean SFEM of both sets. Everything is in lfm_tf.fme.
"""

from __future__ import annotations


from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags  # noqa: E402

from lfm_tf import cli, landmarks  # noqa: E402
from lfm_tf.table8 import fme  # noqa: E402

_DATA_DIR = flags.DEFINE_string("data_dir", None, "CK+ as unpacked.", required=True)
_OUT_DIR = flags.DEFINE_string("out_dir", None, "Where the FME tree goes: outside --data_dir "
                               "(the source dataset is never written to).", required=True)
_ONSETS = flags.DEFINE_string("onsets", None, "CSV subject,sequence,onset of hand-picked "
                              "onsets (frame numbers); default: automatic onsets.")
_LANDMARKS = flags.DEFINE_enum("landmarks", "provided", ["provided", "dlib"],
                               "CK+'s Landmarks/, or dlib on the frames.")
_THRESHOLD = flags.DEFINE_float("onset_threshold", fme.ONSET_THRESHOLD,
                                "Automatic onsets: fraction of the peak displacement, in (0, 1).")


def main(argv):
    del argv
    print(fme.synthesize(_DATA_DIR.value, _OUT_DIR.value, _ONSETS.value, _LANDMARKS.value,
                         _THRESHOLD.value, landmarks.LandmarkSettings()).summary())


def run():
    cli.run(main)


if __name__ == "__main__":
    run()
