"""The TFRecord schema and the Beam preprocessing pipeline: round trip, manifest,
skipped clips, resume, overwrite and truncation."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import features, pipeline, records, temporal_filter, tfrecord_folder
from lfm_tf.datasets import specs
from lfm_tf.datasets.base import Clip, ReadResult

IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def _track(rng, frames: int, label: int) -> np.ndarray:
    face = rng.uniform(150, 450, size=(68, 2))
    track = np.repeat(face[None], frames, axis=0) + rng.normal(0, 0.2, size=(frames, 68, 2))
    track[:, 48 + 4 * label:52 + 4 * label, 1] += np.linspace(0, 3, frames)[:, None]
    return track.astype(np.float32)


def _result(frames=(12, 9, 3), subjects=("p1", "p2")) -> ReadResult:
    rng = np.random.default_rng(0)
    spec = specs.SPECS["synthetic"]
    clips = []
    for subject in subjects:
        for k, n in enumerate(frames):
            label = spec.classes[k % 3]
            clips.append(Clip(dataset="synthetic", subject=subject, clip_id=f"{subject}_c{k}",
                              label=label, fps=100.0, landmarks=_track(rng, n, k % 3),
                              onset=1, apex=n // 2 if k else None, offset=n))
    return ReadResult(spec, clips, skipped=[("synthetic/p9/x", "no frames on disk")])


def _config(tmp_path, **kw) -> pipeline.PreprocessConfig:
    return pipeline.PreprocessConfig(dataset="synthetic", data_dir=None,
                                     out_dir=str(tmp_path / "out"), progress=False, **kw)


def test_record_round_trip():
    rng = np.random.default_rng(1)
    lm = _track(rng, 10, 1)
    maps = features.normalize(features.lfm(lm, 4, features.CLFM_INDICES))
    rec = records.ClipRecord(dataset="casme2", subject="sub01", clip="EP02_01f", label=2,
                             label_name="others", variant="clfm", frame_interval=4, fps=200.0,
                             num_filled=1, sfem=0.25, maps=maps, landmarks=lm, onset=46, apex=59,
                             reliability=np.linspace(0, 1, 10, dtype=np.float32))
    back = records.decode(records.encode(rec))
    np.testing.assert_array_equal(back.maps, maps)
    np.testing.assert_array_equal(back.landmarks, lm)
    np.testing.assert_array_equal(back.reliability, rec.reliability)
    # Records written before the reliability field read as all 1.
    older = records.decode(records.encode(dataclasses.replace(rec, reliability=None)))
    np.testing.assert_array_equal(older.reliability, np.ones(10, np.float32))
    with pytest.raises(ValueError, match="one value per frame"):
        records.encode(dataclasses.replace(rec, reliability=np.ones(9, np.float32)))
    assert (back.label, back.label_name, back.subject, back.clip) == (2, "others", "sub01", "EP02_01f")
    assert (back.onset, back.apex, back.offset) == (46, 59, records.UNKNOWN_FRAME)
    assert back.map_size == 21 and back.num_frames == 10 and back.sfem == pytest.approx(0.25)


def test_encode_rejects_maps_that_do_not_match_the_frames():
    lm = np.zeros((10, 68, 2), np.float32)
    rec = records.ClipRecord("d", "s", "c", 0, "x", "clfm", 4, 25.0, 0, 0.0,
                             maps=np.zeros((5, 21, 21), np.uint8), landmarks=lm)
    with pytest.raises(ValueError, match="give 6 maps, got 5"):
        records.encode(rec)


def test_optional_crops_round_trip_and_records_without_them_have_none():
    rng = np.random.default_rng(2)
    lm = _track(rng, 6, 0)
    maps = features.normalize(features.lfm(lm, 1, features.CLFM_INDICES))
    rec = records.ClipRecord("ckplus_fge", "S005", "001", 2, "disgust", "clfm", 1, 30.0, 0, 0.5,
                             maps=maps, landmarks=lm, crop_frames=np.array([0, 2, 5]),
                             crops=rng.integers(0, 256, (3, 16, 16), dtype=np.uint8))
    back = records.decode(records.encode(rec))
    np.testing.assert_array_equal(back.crops, rec.crops)
    assert back.crop_frames.tolist() == [0, 2, 5]
    parsed = records.parse_sequence_example(tf.constant(records.encode(rec)))
    assert parsed["crops"].shape == (3, 16, 16) and int(parsed["crop_size"]) == 16
    plain = records.decode(records.encode(dataclasses.replace(rec, crops=None, crop_frames=None)))
    assert plain.crops is None and plain.crop_frames is None
    np.testing.assert_array_equal(plain.maps, maps)
    with pytest.raises(ValueError, match="one frame index each"):
        records.encode(dataclasses.replace(rec, crop_frames=np.array([0, 2])))


def test_crops_need_frames_and_say_so_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="crops need frames, and 6 clips carry landmarks only"):
        pipeline.run(_config(tmp_path, crop_frames=3), IN_PROCESS, result=_result())
    assert not (tmp_path / "out").exists()


def test_pipeline_writes_per_subject_files_that_parse_back(tmp_path):
    result = _result()
    manifest = pipeline.run(_config(tmp_path), IN_PROCESS, result=result)
    folder = tmp_path / "out" / "synthetic" / "clfm_T4"
    assert manifest["folder"] == str(folder)
    assert sorted(os.listdir(folder)) == [".parts", "manifest.json", "p1.tfrecord", "p2.tfrecord"]
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    # The 3-frame clips cannot make a map with T = 4: skipped by name, with the
    # reader's own skipped sample listed too.
    assert manifest["counts"] == {"clips": 4, "subjects": 2,
                                  "per_class": {"negative": 2, "positive": 2, "surprise": 0}}
    reasons = {s["clip"]: s["reason"] for s in manifest["skipped"]}
    assert reasons == {"synthetic/p9/x": "no frames on disk",
                       "synthetic/p1/p1_c2": "3 frames, need more than frame_interval=4",
                       "synthetic/p2/p2_c2": "3 frames, need more than frame_interval=4"}
    assert manifest["files"]["p1.tfrecord"]["records"] == 2
    assert tfrecord_folder.verify(str(folder)) == []
    clips = {c.clip_id: c for c in result.clips}
    back = list(tfrecord_folder.iter_records(str(folder)))
    assert [r.clip for r in back] == ["p1_c0", "p1_c1", "p2_c0", "p2_c1"]
    assert manifest["settings"]["temporal_filter"] == "median3"
    for rec in back:
        # The landmarks as given, denoised by the default 3-frame running median.
        lm = temporal_filter.denoise(clips[rec.clip].landmarks, "median3")
        np.testing.assert_array_equal(rec.landmarks, lm)
        np.testing.assert_array_equal(
            rec.maps, features.normalize(features.lfm(lm, 4, features.CLFM_INDICES)))
        assert rec.label == specs.SPECS["synthetic"].label_index(clips[rec.clip].label)
        assert rec.sfem == pytest.approx(features.sfem(lm, 4), rel=1e-6)
        assert rec.frame_interval == 4 and rec.num_filled == 0


def test_variant_and_frame_interval_name_the_folder(tmp_path):
    manifest = pipeline.run(_config(tmp_path, variant="lfm", frame_interval=2), IN_PROCESS,
                            result=_result(frames=(6,), subjects=("p1",)))
    assert manifest["folder"].endswith(os.path.join("synthetic", "lfm_T2"))
    rec = next(tfrecord_folder.iter_records(manifest["folder"]))
    assert rec.maps.shape == (4, 68, 68) and rec.variant == "lfm"


def test_label_sets_and_cameras_get_folders_of_their_own():
    def folder(**options):
        config = pipeline.PreprocessConfig(dataset="casme2", data_dir=None,
                                           reader_options=tuple(options.items()))
        return pipeline.dataset_folder(config)
    assert folder() == "casme2"
    assert folder(label_set="paper5") == "casme2"
    assert folder(label_set="cross3", coding_file="x.xlsx") == "casme2-cross3"
    assert folder(modality="VIS") == "casme2-VIS"


def test_rerun_skips_complete_subjects_and_redoes_damaged_ones(tmp_path):
    config = _config(tmp_path)
    result = _result()
    first = pipeline.run(config, IN_PROCESS, result=result)
    folder = first["folder"]
    stamp = {f: os.stat(os.path.join(folder, f)).st_mtime_ns for f in first["files"]}

    # Truncate p2's file: the manifest check finds it, and reading it fails.
    path = os.path.join(folder, "p2.tfrecord")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 7)
    assert tfrecord_folder.verify(folder) == [
        "p2.tfrecord: checksum differs from the manifest (altered or truncated)"]
    with pytest.raises(ValueError, match=f"^{path} is truncated or corrupt"):
        records.read_file(path)
    # A crash mid-write leaves only a temporary name, which nothing takes as output.
    open(os.path.join(folder, "p3.tfrecord.tmp-deadbeef"), "wb").close()

    second = pipeline.run(config, IN_PROCESS, result=result)
    assert second == first
    assert os.stat(os.path.join(folder, "p1.tfrecord")).st_mtime_ns == stamp["p1.tfrecord"]
    assert os.stat(path).st_mtime_ns != stamp["p2.tfrecord"]
    assert tfrecord_folder.verify(folder) == []
    assert len(records.read_file(path)) == 2

    third = pipeline.run(dataclasses_replace(config, overwrite=True), IN_PROCESS, result=result)
    assert third == first
    assert os.stat(os.path.join(folder, "p1.tfrecord")).st_mtime_ns != stamp["p1.tfrecord"]


def dataclasses_replace(config, **changes):
    import dataclasses
    return dataclasses.replace(config, **changes)


def test_changed_settings_or_clips_redo_the_subject(tmp_path):
    config = _config(tmp_path)
    result = _result(frames=(12, 9))
    folder = pipeline.run(config, IN_PROCESS, result=result)["folder"]
    stamp = os.stat(os.path.join(folder, "p1.tfrecord")).st_mtime_ns
    fewer = ReadResult(result.spec, [c for c in result.clips if c.clip_id != "p1_c1"])
    manifest = pipeline.run(config, IN_PROCESS, result=fewer)
    assert manifest["files"]["p1.tfrecord"]["records"] == 1
    assert os.stat(os.path.join(folder, "p1.tfrecord")).st_mtime_ns != stamp


def test_load_manifest_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `python -m lfm_tf.preprocess` first"):
        tfrecord_folder.load_manifest(str(tmp_path))


def test_no_usable_clips_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no usable clips"):
        pipeline.run(_config(tmp_path), IN_PROCESS,
                     result=ReadResult(specs.SPECS["synthetic"], []))


def test_two_worker_processes_give_the_same_output(tmp_path):
    result = _result(frames=(12, 9), subjects=("p1", "p2", "p3"))
    one = pipeline.run(_config(tmp_path / "a"), IN_PROCESS, result=result)
    two = pipeline.run(_config(tmp_path / "b"), ["--direct_num_workers=2",
                                                 "--direct_running_mode=multi_processing"],
                       result=result)
    assert {k: v["sha256"] for k, v in one["files"].items()} == \
        {k: v["sha256"] for k, v in two["files"].items()}
