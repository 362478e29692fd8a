"""`python -m lfm_tf.preprocess` end to end: the command line, real footage through
dlib, the landmark cache, CK+'s provided landmarks, and clips that cannot be used."""

import dataclasses
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lfm_tf import features, landmarks, pipeline, tfrecord_folder
from lfm_tf.datasets import synthetic
from tests import assets
from tests.fixtures import dataset_trees

IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def _preprocess(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "lfm_tf.preprocess", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_command_line_writes_records_and_forwards_beam_options(tmp_path):
    out = tmp_path / "tfrecords"
    run = _preprocess("--dataset=synthetic", "--num_subjects=2", "--clips_per_class=1",
                      f"--out_dir={out}", *IN_PROCESS)
    assert run.returncode == 0, run.stderr
    folder = out / "synthetic" / "clfm_T4"
    assert f"{folder}: 6 clips from 2 subjects in 2 files " \
           "(negative 2, positive 2, surprise 2)" in run.stdout
    assert sorted(os.listdir(folder)) == [".parts", "manifest.json", "p01.tfrecord", "p02.tfrecord"]


@pytest.mark.parametrize("args, message", [
    (["--dataset=casme2", "--data_dir=/no/such/folder"], "is not an existing folder"),
    (["--dataset=casme2", "--data_dir=/tmp", "--modality=VIS"],
     "--modality does not apply to --dataset=casme2"),
    (["--dataset=casme3", "--data_dir=/tmp", "--label_set=paper5"],
     "casme3: unknown label_set 'paper5'; expected one of ['class4', 'emotion7', 'megc3']"),
    (["--dataset=composite", "--data_dir=/tmp", "--membership=/no/such.csv"],
     "membership list '/no/such.csv' does not exist"),
])
def test_command_line_bad_input_is_one_clear_line(args, message):
    run = _preprocess(*args)
    assert run.returncode != 0
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_rendered_frames_through_dlib_and_the_landmark_cache(tmp_path, monkeypatch):
    data_dir, out = str(tmp_path / "rendered"), str(tmp_path / "out")
    result = synthetic.read(data_dir, num_subjects=1, clips_per_class=1, intensity="macro",
                            num_frames=12, render=True)
    assert all(len(c.frames) == 12 and c.landmarks is None for c in result.clips)
    config = pipeline.PreprocessConfig(dataset="synthetic", data_dir=data_dir, out_dir=out,
                                       progress=False)
    manifest = pipeline.run(config, IN_PROCESS, result=result)
    assert manifest["counts"]["clips"] == 3 and manifest["skipped"] == []
    first = {r.clip: r for r in tfrecord_folder.iter_records(manifest["folder"])}

    # Another variant reuses the cached landmarks: dlib must not run again.
    def no_dlib(*_):
        raise AssertionError("dlib ran although its landmarks are cached")
    monkeypatch.setattr(landmarks.LandmarkExtractor, "extract_clip", no_dlib)
    lfm_manifest = pipeline.run(dataclasses.replace(config, variant="lfm"), IN_PROCESS,
                                result=result)
    for rec in tfrecord_folder.iter_records(lfm_manifest["folder"]):
        np.testing.assert_array_equal(rec.landmarks, first[rec.clip].landmarks)
        assert rec.maps.shape == (8, 68, 68)
        np.testing.assert_array_equal(
            rec.maps, features.normalize(features.lfm(first[rec.clip].landmarks, 4)))


def test_frames_without_a_face_are_skipped_by_name(tmp_path):
    root = dataset_trees.build_casme2_tree(str(tmp_path), rows=[
        dataset_trees.Casme2Row(1, "EP01_01", "happiness"),
        dataset_trees.Casme2Row(2, "EP02_01", "surprise")])
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=root, out_dir=str(tmp_path / "o"),
                                       progress=False)
    # 8x8 blank frames: no face anywhere. The run finishes and says so per clip.
    manifest = pipeline.run(config, IN_PROCESS)
    assert manifest["files"] == {} and manifest["counts"]["clips"] == 0
    # The fixture spells subject 2's folder without its prefix, as some copies do.
    assert sorted(s["clip"] for s in manifest["skipped"]) == ["casme2/02/EP02_01",
                                                              "casme2/sub01/EP01_01"]
    assert all(s["reason"].startswith("NoFaceError: ") and s["reason"].endswith("no face found in any of its 3 frames")
               for s in manifest["skipped"])
    assert sorted(os.listdir(manifest["folder"])) == [".parts", "manifest.json"]


def test_real_video_and_a_video_whose_face_leaves(tmp_path):
    videos = {name: assets.asset(name) for name in ("single_face.mp4", "face_noface.mov")}
    root = tmp_path / "own"
    (root / "p1").mkdir(parents=True)
    shutil.copy(videos["single_face.mp4"], root / "p1" / "talk.mp4")
    shutil.copy(videos["face_noface.mov"], root / "p1" / "gone.mov")
    (root / "labels.csv").write_text("subject,clip,label\np1,talk,positive\np1,gone,negative\n")
    config = pipeline.PreprocessConfig(dataset="folder", data_dir=str(root),
                                       out_dir=str(tmp_path / "o"), progress=False)
    manifest = pipeline.run(config, IN_PROCESS)
    assert manifest["counts"]["clips"] == 1
    assert manifest["skipped"] == [{
        "clip": "folder/p1/gone",
        "reason": "NoFaceError: folder/p1/gone: no face in 97 of 169 frames, 97 of them in a "
                  "row (frames 72-168), more than max_gap=5 frames can be filled"}]
    rec = next(tfrecord_folder.iter_records(manifest["folder"]))
    assert rec.clip == "talk" and rec.num_frames == 72 and rec.num_filled == 0
    assert rec.frame_interval == features.frame_interval_for_fps(rec.fps)
    assert np.isfinite(rec.landmarks).all() and rec.sfem > 0


def test_ckplus_provided_landmarks(tmp_path):
    root = dataset_trees.build_ckplus_tree(str(tmp_path))
    config = pipeline.PreprocessConfig(dataset="ckplus", data_dir=root, out_dir=str(tmp_path / "o"),
                                       landmark_source="provided", frame_interval=1,
                                       reader_options=(("landmarks", "provided"),),
                                       progress=False)
    manifest = pipeline.run(config, IN_PROCESS)
    recs = list(tfrecord_folder.iter_records(manifest["folder"]))
    # Three labelled sequences; the fixture's landmarks only translate, so no
    # distance changes: every map is "no change" and SFEM is 0.
    assert [(r.subject, r.clip, r.label_name) for r in recs] == [
        ("S005", "001", "disgust"), ("S010", "002", "surprise"), ("S011", "001", "happy")]
    assert [r.num_frames for r in recs] == [11, 3, 3]
    assert all(r.frame_interval == 1 and r.sfem == 0 and (r.maps == 127).all() for r in recs)
    np.testing.assert_allclose(recs[1].landmarks[2, 5], [105.0, 208.0])
