"""The flags of how inputs are read, shared by `preprocess`, `predict` and the
landmark CLI (`track_export`): face detection and landmark refinement
(`landmarks.LandmarkSettings`), the temporal filter (`lfm_tf.temporal_filter`) and
the time base (`timebase.TimeSettings`), with those settings' defaults."""

from __future__ import annotations

from lfm_tf import landmarks, temporal_filter, timebase

DETECTION_FLAGS = ("detect_max_side", "upsample", "detect_retry")


def define(flags, with_temporal_filter: bool = True) -> None:
    """--detect_max_side, --upsample, --detect_retry, --landmark_refinement,
    --uneven_time, --time_tolerance, and --temporal_filter where
    `with_temporal_filter` (not for the landmark CLI, whose files are read and
    filtered by the tools that take them)."""
    d, t = landmarks.LandmarkSettings, timebase.TimeSettings
    flags.DEFINE_enum("landmark_refinement", "flow", list(landmarks.REFINEMENTS),
                      "flow: the detector's landmarks refined by optical-flow registration "
                      "(lfm_tf.registration); none: the detector's fits as they are.")
    if with_temporal_filter:
        flags.DEFINE_enum("temporal_filter", temporal_filter.DEFAULT_TEMPORAL_FILTER,
                          list(temporal_filter.TEMPORAL_FILTERS), "Denoise every landmark "
                          "track over time: medianK, a running median over K frames (steps "
                          "keep their onset frame); lfm_tf.temporal_filter has the "
                          "measurements behind the default.")
    flags.DEFINE_integer("detect_max_side", d.detect_max_side, "Frames are downscaled to this "
                         "longest side (px) for face detection; faces from 80 px at that "
                         "size are found.", lower_bound=80)
    flags.DEFINE_integer("upsample", d.upsample, "dlib detector upsampling steps (each doubles "
                         "the image side and about quadruples the cost).", lower_bound=0)
    flags.DEFINE_bool("detect_retry", d.detect_retry, "Where the downscaled detection finds no "
                      "face, retry at full resolution, then upsampled once more.")
    flags.DEFINE_enum("uneven_time", t.uneven, list(timebase.UNEVEN_CHOICES),
                      "Frame times (video container, landmark file time column) uneven beyond "
                      "--time_tolerance: resample the landmarks to the declared rate, or refuse.")
    flags.DEFINE_float("time_tolerance", t.tolerance, "Largest deviation of a frame interval "
                       "from the frame period still counted as even, as a fraction of it.")


def detection_settings(flag_values) -> dict:
    """`LandmarkSettings` fields from the detection and refinement flags."""
    return {**{name: flag_values[name].value for name in DETECTION_FLAGS},
            "refinement": landmarks.REFINEMENTS[flag_values["landmark_refinement"].value]}


def time_settings(flag_values) -> timebase.TimeSettings:
    """`TimeSettings` from the time-base flags."""
    return timebase.TimeSettings(flag_values["uneven_time"].value,
                                 flag_values["time_tolerance"].value)
