r"""Predict micro-expression classes with an exported model (`train --protocol=full`).

  python -m lfm_tf.predict --model=runs/smic_full_clfm/export --input=person.mp4
  python -m lfm_tf.predict --model=... --window=25 --stride=5 --output=result.json long.mp4
  python -m lfm_tf.predict --model=... --fps=200 --window=0.5s openface.csv
  python -m lfm_tf.predict --model=... --fps=200 frames_folder/ track.npy openface.csv
  python -m lfm_tf.predict --model=... --spot --output=result.json long.mp4
  python -m lfm_tf.predict --model=... --ifer_model=runs/table8/ifer/export --tau=0.35 person.mp4

Inputs are videos, folders of numbered frames, or landmark files (.npy, .csv),
given as --input (repeatable) or as arguments. A video's frame rate is read from
the file; frames and landmark files need --fps. T = round(fps / 25) unless
--frame_interval. Each input prints a line (and its windows); --output writes
them all as JSON. An input that fails prints `error: ...` and the others go on;
the exit status is 1 if any failed (or had a span the network routed to could not
classify), 2 if the model folder or a flag is unusable.
--window and --stride are frames (25) or seconds (0.5s, 500ms); the stride defaults
to half the window. Windows are laid on each stretch between runs of frames without a
face longer than --max_gap, a last one ending on the stretch's last frame; the frames
in no window (those runs, stretches too short for a map) are printed with the reason.
--ifer_model adds the image-based FER and runs the adaptive framework (Fig. 4): each
input and window goes by its SFEM, below --tau to --model, otherwise to the I-FER
(which needs frames: from a landmark file those spans are reported as skipped, the
others classified). --spot finds ME and MaE intervals first and classifies each
(`intervals` in the record, each with its frames, type and score). Kept short on
purpose: everything is in lfm_tf.inference (recordings: lfm_tf.recordings; the model
folder: lfm_tf.model_folder).
"""

from __future__ import annotations

import sys

from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags  # noqa: E402

from lfm_tf import (cli, features, inference, input_flags, landmark_files,  # noqa: E402
                    landmarks)
from lfm_tf.table8 import adaptive  # noqa: E402

_MODEL = flags.DEFINE_string("model", None, "Exported model folder: <workdir>/export of a "
                             "`train --protocol=full` run.")
_IFER_MODEL = flags.DEFINE_string("ifer_model", None, "Exported I-FER folder "
                                  "(<workdir>/ifer/export of `table8 --config.export_ifer=True`): "
                                  "route each input and window by SFEM to --model or to it.")
_TAU = flags.DEFINE_float("tau", adaptive.TAU, "With --ifer_model: SFEM below this goes to "
                          "--model (LFM-FER), otherwise to the I-FER.")
_SFEM_FORM = flags.DEFINE_enum("sfem_form", features.WINDOW_SFEM_FORM, list(features.SFEM_FORMS),
                               "SFEM (Eq. 3, all 68 landmarks): peak, its largest single map "
                               "from the first frame on the face scaled to CK+'s size, the "
                               "head's scale change removed and blinks skipped (the same at any "
                               "window length, frame rate and resolution); scaled, summed "
                               "over maps on that face; printed, as in Eq. 3 (README, predict).")
_SFEM_SCALE_CHANGE = flags.DEFINE_enum(
    "sfem_scale_change", features.WINDOW_SFEM_SCALE_CHANGE, list(features.SFEM_SCALE_CHANGES),
    "--sfem_form=peak: how the head's scale change is removed before distances are "
    "compared: median_ratio, the median over all pairs of a frame's distance over the "
    "first frame's; similarity, OpenCV's least-median-of-squares fit; none, kept "
    "(lfm_tf.features, SFEM_SCALE_CHANGES).")
_SFEM_BLINK_OPENNESS = flags.DEFINE_float(
    "sfem_blink_openness", features.BLINK_OPENNESS, "--sfem_form=peak: frames whose eye "
    "openness is below this fraction of the window's open-eye level (its 90th percentile) "
    "are skipped as blinks; 0 skips none (lfm_tf.features, BLINK_OPENNESS).",
    lower_bound=0.0, upper_bound=1.0)
_INPUT = flags.DEFINE_multi_string("input", [], "Video, folder of frames or landmark file "
                                   "(.npy, .csv); repeat for several, or list them as arguments.")
_OUTPUT = flags.DEFINE_string("output", None, "Write every result to this JSON file.")
_FPS = flags.DEFINE_float("fps", None, "Frame rate: needed for frames and landmark files; "
                          "overrides a video's own and a landmark file's times (a warning says "
                          "where they disagree).")
_FRAME_INTERVAL = flags.DEFINE_integer("frame_interval", None, "T of Eq. 1; default "
                                       "round(fps / 25).", lower_bound=1)
_WINDOW = flags.DEFINE_string("window", None, "Also predict on sliding windows this long: "
                              "frames (25; 24 + T gives exactly 24 maps) or seconds (0.5s, "
                              "500ms; refused where rounding to frames makes no map or "
                              "changes the overlap asked). A last window ends on the last "
                              "frame of each stretch with a face.")
_STRIDE = flags.DEFINE_string("stride", None, "From one window's start to the next, in "
                              "--window's unit, at most --window; default half the window, so "
                              "a movement of up to half a window lies wholly inside one.")
_MAX_GAP = flags.DEFINE_integer("max_gap", landmarks.LandmarkSettings.max_gap,
                                "Longest run of frames without a face that is interpolated.",
                                lower_bound=0)
_SPOT = flags.DEFINE_bool("spot", False, "Also spot ME and MaE intervals (lfm_tf.spotting) and "
                          "classify each: spot-then-recognise.")
_LANDMARK_MODEL = flags.DEFINE_string("landmark_model", None, "A dlib 68-point shape "
                                      "predictor .dat; default: face-recognition-models'.")

_FACE = flags.DEFINE_string("face", landmark_files.FileSettings.face, "Landmark files with "
                            "several faces in a frame: auto (the face tracked from the frame "
                            "before, else the largest), a face id, or single (refuse them).")
_MIN_CONFIDENCE = flags.DEFINE_float("min_confidence", landmark_files.FileSettings.min_confidence,
                                     "Landmark file rows below this confidence (OpenFace "
                                     "`confidence`, py-feat `FaceScore`) count as without a face.")
input_flags.define(flags)

flags.mark_flag_as_required("model")


def main(argv):
    if _TAU.present and not _IFER_MODEL.value:
        raise ValueError("--tau needs --ifer_model: without the I-FER nothing is routed")
    for flag in (_SFEM_SCALE_CHANGE, _SFEM_BLINK_OPENNESS):
        if flag.present and _SFEM_FORM.value != "peak":
            raise ValueError(f"--{flag.name} is a setting of --sfem_form=peak, not of "
                             f"--sfem_form={_SFEM_FORM.value}")
    options = inference.PredictOptions(
        fps=_FPS.value, frame_interval=_FRAME_INTERVAL.value, window=_WINDOW.value,
        stride=_STRIDE.value, max_gap=_MAX_GAP.value, sfem_form=_SFEM_FORM.value,
        landmark_settings=landmarks.LandmarkSettings(
            model_path=_LANDMARK_MODEL.value,
            **input_flags.detection_settings(flags.FLAGS)),
        temporal_filter=flags.FLAGS.temporal_filter,
        file_settings=landmark_files.FileSettings(_FACE.value, _MIN_CONFIDENCE.value),
        time_settings=input_flags.time_settings(flags.FLAGS),
        spot=_SPOT.value, sfem_scale_change=_SFEM_SCALE_CHANGE.value,
        sfem_blink_openness=_SFEM_BLINK_OPENNESS.value)
    records = inference.run(_MODEL.value, _INPUT.value + argv[1:], options, _OUTPUT.value,
                            ifer_model=_IFER_MODEL.value, tau=_TAU.value)
    sys.exit(inference.exit_status(records))


def run():
    # 2: the model folder or a flag is unusable (1 is for inputs that failed).
    cli.run(main, exit_code=2)


if __name__ == "__main__":
    run()
