"""`python -m lfm_tf.spot` on both dataset layouts (landmarks stood in for dlib's) and on
a real video through dlib, with the landmark cache."""

from __future__ import annotations

import csv
import dataclasses
import json
import os

import numpy as np
import pytest
from tests import assets
from tests.fixtures import spotting_trees as trees

from lfm_tf import landmarks, recordings
from lfm_tf.datasets import synthetic_long
from lfm_tf.spotting import run as spotting_run


@pytest.mark.parametrize("dataset, build, csv_name, published", [
    ("casme_sq", trees.build_casme_sq_tree, "cas_pred.csv",
     ["| MEGC 2019 baseline (MDMD), published | n/a | n/a | 0.0179 | n/a | n/a |",
      "| LGSNet, published | n/a | n/a | 0.4637 | n/a | n/a |"]),
    ("samm_lv", trees.build_samm_lv_tree, "samm_pred.csv",
     ["| MEGC 2019 baseline (MDMD), published | n/a | n/a | 0.0316 | n/a | n/a |"]),
])
def test_dataset_layouts_end_to_end(tmp_path, monkeypatch, dataset, build, csv_name, published):
    # Pixels are not the point here: each video folder's frames are given the
    # landmarks of a synthetic recording of as many frames.
    track = synthetic_long.generate(1, 1, seconds=20.0, seed=5)[0].landmarks

    def stand_in(path, fps, cache_dir, extractor, log=None):
        n = len(os.listdir(path))
        return recordings.Recording(path, "frames", fps, track[:n], np.ones(n, bool))

    monkeypatch.setattr(spotting_run, "recording", stand_in)
    workdir = str(tmp_path / "run")
    result = spotting_run.evaluate_dataset(dataset, build(str(tmp_path / "data")), workdir,
                                           log=lambda line: None)
    expected = {"casme_sq": (3, 3, 5), "samm_lv": (2, 2, 3)}[dataset]
    assert (result["me"]["tp"] + result["me"]["fn"], result["mae"]["tp"] + result["mae"]["fn"],
            result["videos"]) == expected
    text = open(os.path.join(workdir, "report.md")).read()
    for row in published:
        assert row in text
    with open(os.path.join(workdir, csv_name)) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["vid", "pred_onset", "pred_offset", "type"]
    spotted = json.load(open(os.path.join(workdir, "spotted.json")))
    assert len(rows) - 1 == sum(len(v) for v in spotted.values())
    assert {r[3] for r in rows[1:]} <= {"me", "mae"}
    assert os.listdir(os.path.join(workdir, "plots"))


def test_spot_a_real_video_then_from_the_cache(tmp_path):
    video = str(assets.asset("single_face.mp4"))  # 72 frames at 30 fps, a face throughout
    out = str(tmp_path / "spots")
    log = []
    spotted = spotting_run.spot_recordings([video], out, log=log.append)
    assert any("tracking landmarks" in line for line in log)
    assert any(line.startswith(f"{video}: 72 frames at 30 fps") for line in log)
    # A --fps the video's header disagrees with is a warning, as in predict.
    log.clear()
    spotting_run.spot_recordings([video], str(tmp_path / "at60"), fps=60.0, log=log.append)
    assert [line for line in log if line.startswith("warning: ")] == [
        f"warning: {recordings.rate_warning('video', 60.0, 30.0)}"]
    log.clear()
    assert sorted(os.listdir(out)) == ["landmarks", "single_face.png", "spotted.csv",
                                       "spotted.json"]
    written = json.load(open(os.path.join(out, "spotted.json")))
    assert written == {"single_face": [s.as_dict() for s in spotted["single_face"]]}
    for interval in written["single_face"]:
        assert 1 <= interval["onset"] <= interval["apex"] <= interval["offset"] <= 72
    log.clear()
    again = spotting_run.spot_recordings([video], out, log=log.append)
    assert not any("tracking" in line for line in log)   # landmarks came from the cache
    assert again == spotted
    with pytest.raises(recordings.InputError, match="1 of 1 inputs failed"):
        spotting_run.spot_recordings([str(tmp_path / "missing.mp4")], out, log=log.append)
    assert log[-1].startswith("error: ")


def test_dataset_videos_without_a_face_count_as_missed(tmp_path):
    # The fixture's 8x8 grey frames through dlib: no face anywhere. Every video stays
    # in the denominators; the no-face outcome is cached like landmarks are.
    root = trees.build_samm_lv_tree(str(tmp_path / "data"))
    log = []
    result = spotting_run.evaluate_dataset("samm_lv", root, str(tmp_path / "run"), log=log.append)
    assert [(result[t]["tp"], result[t]["fp"], result[t]["fn"]) for t in ("me", "mae")] == [
        (0, 0, 2), (0, 0, 2)]
    missed = [line.split(":")[0] + ": " + line.split(": ")[1] for line in log
              if "not spotted" in line]
    assert missed == [
        "samm_lv/006/006_1: not spotted, its 3 intervals count as missed",
        "samm_lv/006/006_2: not spotted, its 0 intervals count as missed",
        "samm_lv/012/012_4: not spotted, its 1 intervals count as missed"]
    first_log = list(log)
    report = open(tmp_path / "run" / "report.md").read()
    assert "Not spotted, no face found (their intervals count as missed): 006_1, 006_2, " \
           "012_4." in report
    log.clear()
    spotting_run.evaluate_dataset("samm_lv", root, str(tmp_path / "run"), log=log.append)
    assert not any("tracking" in line for line in log)
    # Two worker processes, a fresh cache: the same outcome.
    log.clear()
    again = spotting_run.evaluate_dataset("samm_lv", root, str(tmp_path / "run2"),
                                          log=log.append, workers=2)
    assert again == result
    assert [line for line in log if "not spotted" in line] == [
        line for line in first_log if "not spotted" in line]


def test_the_cache_gives_back_the_whole_recording(tmp_path, monkeypatch):
    # A second run read only landmarks, face and rate back: the cut, the
    # reliability and the notes of the first were lost, and a --fps given anew
    # was ignored. Tracking is stood in for: the recording is what it returns.
    path = str(tmp_path / "clip.mp4")
    open(path, "wb").write(b"frames")
    n = 40
    tracked = []

    def read(p, fps, extractor=None):
        tracked.append(fps)
        return recordings.Recording(
            p, "video", fps or 25.0, np.full((n, 68, 2), 3.5, np.float32), np.arange(n) != 7,
            "resampled", ["a cut between shots at frame 20: ..."], np.arange(n) // 2,
            np.linspace(0, 1, n, dtype=np.float32), 25.0,
            ["--fps 50 but the video's header says 25 fps"] if fps else [], (20,))

    monkeypatch.setattr(recordings, "read_recording", read)
    first = spotting_run.recording(path, None, str(tmp_path / "cache"), _Extractor())
    again = spotting_run.recording(path, None, str(tmp_path / "cache"), _Extractor())
    assert tracked == [None]
    assert {f.name for f in dataclasses.fields(first)} == {
        "path", "source", "fps", "landmarks", "face", "time_base", "notes", "source_frames",
        "reliability", "declared_fps", "warnings", "cuts"}
    for field in dataclasses.fields(first):
        a, b = getattr(first, field.name), getattr(again, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype, field.name
        else:
            assert a == b, field.name
    assert again.cuts == (20,) and again.declared_fps == 25.0
    other = spotting_run.recording(path, 50.0, str(tmp_path / "cache"), _Extractor())
    assert tracked == [None, 50.0] and other.fps == 50.0 and other.warnings


class _Extractor:
    settings = landmarks.LandmarkSettings()


def test_spot_names_frames_without_a_face_and_tracks_no_landmark_file(tmp_path):
    # predict named the frames without a face; spot, on the same file, did not, and
    # said "tracking landmarks" for a CSV it only reads.
    from lfm_tf import track_export

    track = synthetic_long.generate(1, 1, seconds=20.0, seed=5)[0].landmarks[:120].astype(np.float32)
    face = np.ones(len(track), bool)
    face[10:15] = False
    rec = recordings.Recording("clip.mp4", "video", 30.0, track, face)
    track_export.write_track(rec, str(tmp_path / "clip"))
    log = []
    spotting_run.spot_recordings([str(tmp_path / "clip.csv")], str(tmp_path / "out"),
                                 log=log.append)
    assert not any("tracking" in line for line in log)
    assert ("  note: no face in 5 frames (10-14, counted from 0): filled in, left out of the "
            "z-scale, and no interval has its apex there") in log
