"""CAS(ME)^3, 4DME and MMEW fixture trees through preprocessing, and CAS(ME)^3 on
through training: reader -> landmarks -> maps -> TFRecords -> LOSO training.

The fixture frames are tiny grey images without a face, so a stand-in for dlib
(FakeLandmarks) gives each clip a moving 68-point track; the command-line test runs
real dlib and checks the counts it prints and that every faceless clip is named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from tests.fixtures import dataset_trees, more_trees
from tests.fixtures.more_trees import Casme3Row

from lfm_tf import experiment, landmarks, pipeline, tfrecord_folder, trainer

IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


class FakeLandmarks:
    """Stands in for `landmarks.LandmarkExtractor`: a random face per clip (seeded by
    its name) that drifts a little from frame to frame."""

    def __init__(self, settings=None):
        self.settings = settings

    def extract_clip(self, clip):
        n = len(clip.frames)
        rng = np.random.default_rng(zlib.crc32(clip.name.encode()))
        track = rng.uniform(100, 300, (68, 2)) + rng.normal(0, 1, (n, 68, 2)).cumsum(axis=0)
        return landmarks.LandmarkTrack(track.astype(np.float32), np.zeros(n, bool), n)


@pytest.fixture
def fake_dlib(monkeypatch):
    monkeypatch.setattr(landmarks, "LandmarkExtractor", FakeLandmarks)


@pytest.mark.parametrize("dataset, build, options, folder, counts", [
    ("casme3", more_trees.build_casme3_tree, (), "casme3/clfm_T1",
     {"negative": 457, "positive": 55, "surprise": 187, "others": 161}),
    ("casme3_c", more_trees.build_casme3_c_tree, (), "casme3_c/clfm_T1",
     {"negative": 93, "positive": 7, "surprise": 25, "others": 40}),
    ("fourd_me", more_trees.build_fourd_me_tree, (), "fourd_me/clfm_T2",
     {"negative": 120, "positive": 40, "surprise": 35, "repression": 30, "others": 42}),
    ("mmew", more_trees.build_mmew_tree, (), "mmew/clfm_T4",
     {"anger": 8, "disgust": 72, "fear": 16, "happiness": 36, "others": 66, "sadness": 13,
      "surprise": 89}),
])
def test_preprocess_each_fixture(tmp_path, fake_dlib, dataset, build, options, folder, counts):
    root = build(str(tmp_path / "data"))
    config = pipeline.PreprocessConfig(dataset=dataset, data_dir=root,
                                       out_dir=str(tmp_path / "out"), reader_options=options,
                                       progress=False)
    manifest = pipeline.run(config, IN_PROCESS)
    assert manifest["folder"] == str(tmp_path / "out" / folder)
    assert manifest["counts"]["per_class"] == counts
    assert manifest["counts"]["clips"] == sum(counts.values())
    assert manifest["counts"]["subjects"] == {"casme3": 94, "casme3_c": 30, "fourd_me": 41,
                                              "mmew": 36}[dataset]
    assert tfrecord_folder.verify(manifest["folder"]) == []
    record = next(tfrecord_folder.iter_records(manifest["folder"]))
    assert record.dataset == dataset and record.maps.shape[1:] == (21, 21)


def test_casme3_preprocess_then_train(tmp_path, fake_dlib):
    emotions = ("happy", "sad", "surprise", "others")
    rows = [Casme3Row(f"spNO.{s}", "abcd"[k], e, 9, 12, 16, frames=tuple(range(9, 17)))
            for s in (1, 2, 3) for k, e in enumerate(emotions)]
    root = more_trees.build_casme3_tree(str(tmp_path / "data"), rows, unannotated=())
    manifest = pipeline.run(pipeline.PreprocessConfig(
        dataset="casme3", data_dir=root, out_dir=str(tmp_path / "tfrecords"), progress=False),
        IN_PROCESS)
    assert manifest["counts"] == {"clips": 12, "subjects": 3, "per_class": {
        "negative": 3, "positive": 3, "surprise": 3, "others": 3}}
    config = experiment.load_config("casme3", "runlocal")  # one epoch per stage
    config.tfrecord_dir = str(tmp_path / "tfrecords")
    config.workdir = str(tmp_path / "work")
    config.verbose = 0
    config.cnn.batch_size = 32
    config.lstm.batch_size = 4
    config.folds = "spNO.2"  # one LOSO fold keeps the test short
    result = trainer.run(config)
    assert result["folds"] == {"total": 3, "finished": ["spNO.2"],
                               "missing": ["spNO.1", "spNO.3"]}
    with open(os.path.join(config.workdir, "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["classes"] == ["negative", "positive", "surprise", "others"]
    assert metrics["support"] == {"negative": 1, "positive": 1, "surprise": 1, "others": 1}


def test_command_line_prints_counts_and_corrections(tmp_path):
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11), Casme3Row("spNO.1", "a", "Others",
                                                                    109, 110, 111),
            Casme3Row("spNO.4", "J", "sad", 9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path), rows)
    run = subprocess.run(
        [sys.executable, "-m", "lfm_tf.preprocess", "--dataset=casme3", "--label_set=megc3",
         f"--data_dir={root}", f"--out_dir={tmp_path / 'out'}", *IN_PROCESS],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr
    assert "casme3: 2 clips, 2 subjects (negative 1, positive 1, surprise 0)" in run.stdout
    assert "7 known annotation errors, corrected where the sheet holds them:" in run.stdout
    assert "casme3/spNO.1/a2: class 'others' is not one of negative, positive, surprise" \
        in run.stdout
    assert "casme3/spNO.1/m: video has no micro-expression" in run.stdout
    # 8x8 grey frames have no face: dlib's verdict is reported per clip, by name.
    assert f"{tmp_path / 'out' / 'casme3-megc3' / 'clfm_T1'}: 0 clips" in run.stdout
    assert "casme3/spNO.4/J: NoFaceError" in run.stdout


def test_composite_from_a_membership_list_gets_its_own_folder(tmp_path, fake_dlib):
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11), Casme3Row("spNO.2", "b", "sad",
                                                                    9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path / "data"), rows, unannotated=())
    dataset_trees.build_samm_tree(str(tmp_path / "data"), frames=range(9, 20))
    membership = tmp_path / "pooled.csv"
    membership.write_text("casme3,spNO.1,a,1\ncasme3,spNO.2,b,0\nsamm,7,007_5_2,2\n")
    config = pipeline.PreprocessConfig(
        dataset="composite", data_dir=root, out_dir=str(tmp_path / "out"), progress=False,
        reader_options=(("membership", str(membership)),))
    manifest = pipeline.run(config, IN_PROCESS)
    # Each clip at its own T (1 for CAS(ME)^3's 30 fps, 8 for SAMM's 200).
    assert manifest["folder"] == str(tmp_path / "out" / "composite-pooled" / "clfm_T25hz")
    assert manifest["counts"] == {"clips": 3, "subjects": 3, "per_class": {
        "negative": 1, "positive": 1, "surprise": 1}}
    assert sorted((r.dataset, r.subject, r.frame_interval)
                  for r in tfrecord_folder.iter_records(manifest["folder"])) == [
        ("casme3", "casme3_spNO.1", 1), ("casme3", "casme3_spNO.2", 1), ("samm", "samm_007", 8)]
    # A label set named as its reader's default adds no tag to the folder.
    assert pipeline.dataset_folder(pipeline.PreprocessConfig(
        dataset="casme3", data_dir=None, reader_options=(("label_set", "class4"),))) == "casme3"
