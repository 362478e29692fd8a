"""tf.data input: the window op against its NumPy original (eagerly and inside
tf.data), what each stage yields, class weights, and the one-line errors on bad
TFRecord folders."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import features, input_pipeline, records
from tests.fixtures import tfrecord_tree as trees


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfrecords")
    clips = trees.clips_per_subject(["p1", "p2"], 3, per_class=2, frames=12)
    trees.write_tree(str(root), clips)
    return input_pipeline.open_folder(str(root), "synthetic", "clfm")


@pytest.mark.parametrize("n", [1, 2, 10, 11, 23, 24, 25, 31, 40])
def test_select_window_equals_features_select_window(n):
    maps = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2)
    expected = features.select_window(maps)
    np.testing.assert_array_equal(input_pipeline.select_window(tf.constant(maps)).numpy(), expected)
    ds = tf.data.Dataset.from_tensors(maps).map(input_pipeline.select_window)
    np.testing.assert_array_equal(next(iter(ds)).numpy(), expected)


def test_folder_lists_subjects_in_natural_order(tmp_path):
    trees.write_tree(str(tmp_path), trees.clips_per_subject(["s10", "s2", "s1"], 3))
    f = input_pipeline.open_folder(str(tmp_path), "synthetic", "clfm")
    assert list(f.subjects) == ["s1", "s2", "s10"]
    assert f.subjects["s2"] == os.path.join(f.path, "s2.tfrecord")
    assert (f.dataset, f.variant, f.tag, f.classes) == (
        "synthetic", "clfm", "T4", ("negative", "positive", "surprise"))
    assert f.clip_counts == {"s1": 3, "s2": 3, "s10": 3}


def test_read_clips_and_clip_table_match_the_records(folder):
    files = list(folder.subjects.values())
    clips = input_pipeline.read_clips(files, 21)
    assert clips.element_spec["maps"].shape.as_list() == [None, 21, 21]
    table = input_pipeline.clip_table(clips)
    stored = [r for path in files for r in records.read_file(path)]
    assert table["clip"].tolist() == [r.clip for r in stored]
    assert table["subject"].tolist() == [r.subject for r in stored]
    assert table["label"].tolist() == [r.label for r in stored]
    assert table["num_maps"].tolist() == [len(r.maps) for r in stored]
    first = next(iter(clips))
    np.testing.assert_array_equal(first["maps"].numpy(), stored[0].maps)


def test_stage_one_yields_every_map_with_its_clips_label(folder):
    files = list(folder.subjects.values())
    clips = input_pipeline.read_clips(files, 21)
    table = input_pipeline.clip_table(clips)
    weights = np.array([0.5, 1.0, 2.0], np.float32)
    total = int(table["num_maps"].sum())
    ds = input_pipeline.map_dataset(clips, 5, weights, num_maps=total, seed=None)
    maps, labels, w = (np.concatenate(parts) for parts in zip(*ds.as_numpy_iterator()))
    assert maps.shape == (total, 21, 21) and maps.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.repeat(table["label"], table["num_maps"]))
    np.testing.assert_array_equal(w, weights[labels])
    stored = [r for path in files for r in records.read_file(path)]
    np.testing.assert_array_equal(maps, np.concatenate([r.maps for r in stored]))
    assert ds.cardinality().numpy() == -(-total // 5)


def test_stage_one_shuffle_is_seeded_and_window_only_takes_24_maps_a_clip(folder):
    clips = input_pipeline.read_clips(list(folder.subjects.values()), 21)
    total = int(input_pipeline.clip_table(clips)["num_maps"].sum())
    ones = np.ones(3, np.float32)

    def labels(seed):
        ds = input_pipeline.map_dataset(clips, 7, ones, num_maps=total, seed=seed)
        return np.concatenate([y for _, y, _ in ds.as_numpy_iterator()])

    assert np.array_equal(labels(1), labels(1))
    assert not np.array_equal(labels(1), labels(2))
    assert sorted(labels(1)) == sorted(labels(None))
    window = input_pipeline.map_dataset(clips, 24, ones, num_maps=12 * 24, seed=None,
                                        window_only=True)
    assert sum(len(y) for _, y, _ in window.as_numpy_iterator()) == 12 * 24


def test_stage_two_windows_and_embeddings(folder):
    clips = input_pipeline.read_clips(list(folder.subjects.values()), 21)
    windows = np.concatenate(list(input_pipeline.window_dataset(clips, 5, 12).as_numpy_iterator()))
    assert windows.shape == (12, 24, 21, 21)
    first = next(iter(clips))["maps"].numpy()
    np.testing.assert_array_equal(windows[0], features.select_window(first))
    emb = np.random.default_rng(0).normal(size=(12, 24, 8)).astype(np.float32)
    labels = np.arange(12) % 3
    ds = input_pipeline.embedding_dataset(emb, labels, 4, np.array([1, 2, 3], np.float32), seed=0)
    x, y, w = (np.concatenate(p) for p in zip(*ds.as_numpy_iterator()))
    assert x.shape == (12, 24, 8) and sorted(y) == sorted(labels)
    np.testing.assert_array_equal(w, y + 1)


def test_class_weights():
    # n = 8 clips over the 2 classes present: 8 / (2 * 6) and 8 / (2 * 2); absent class 0.
    np.testing.assert_allclose(input_pipeline.class_weights([6, 2, 0], "balanced"), [2 / 3, 2, 0])
    np.testing.assert_allclose(input_pipeline.class_weights([6, 2, 0], "none"), [1, 1, 1])
    with pytest.raises(ValueError, match="unknown class weighting"):
        input_pipeline.class_weights([1], "inverse")


# ---------------------------------------------------------------- bad folders


def test_missing_folder_says_to_preprocess(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `python -m lfm_tf.preprocess "
                                                "--dataset=smic --variant=clfm"):
        input_pipeline.open_folder(str(tmp_path), "smic", "clfm")
    os.makedirs(tmp_path / "smic" / "clfm_T4")
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        input_pipeline.open_folder(str(tmp_path), "smic", "clfm")


def test_preprocess_command_carries_the_folders_reader_options():
    assert input_pipeline.preprocess_command("casme2-cross3", "lfm", "out") == (
        "python -m lfm_tf.preprocess --dataset=casme2 --label_set=cross3 --variant=lfm "
        "--out_dir=out")
    assert input_pipeline.preprocess_command("smic-VIS", "clfm", "t").startswith(
        "python -m lfm_tf.preprocess --dataset=smic --modality=VIS --variant=clfm")


def test_manifest_disagreeing_with_files(tmp_path):
    path = trees.write_tree(str(tmp_path), trees.clips_per_subject(["p1", "p2", "p3"], 3))
    with open(os.path.join(path, "p2.tfrecord"), "ab") as f:
        f.write(b"x")
    os.remove(os.path.join(path, "p3.tfrecord"))
    with pytest.raises(ValueError, match=r"files disagree with manifest.json \(p2.tfrecord: "
                                         r"checksum differs.*p3.tfrecord: missing\): re-run"):
        input_pipeline.open_folder(str(tmp_path), "synthetic", "clfm")


def test_empty_folder_and_class_without_clips(tmp_path):
    path = trees.write_tree(str(tmp_path / "a"), trees.clips_per_subject(["p1"], 3))
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    manifest.update(files={}, counts={"clips": 0, "subjects": 0, "per_class": {}})
    with open(os.path.join(path, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    with pytest.raises(ValueError, match="holds no clips"):
        input_pipeline.open_folder(str(tmp_path / "a"), "synthetic", "clfm")
    trees.write_tree(str(tmp_path / "b"), trees.clips_per_subject(
        ["p1", "p2"], 3, missing={"p1": [2], "p2": [2]}))
    with pytest.raises(ValueError, match="class 'surprise' has no clips at all"):
        input_pipeline.open_folder(str(tmp_path / "b"), "synthetic", "clfm")


def test_ambiguous_or_wrong_variant_folder(tmp_path):
    clips = trees.clips_per_subject(["p1", "p2"], 3)
    trees.write_tree(str(tmp_path), clips, frame_interval=4)
    trees.write_tree(str(tmp_path), clips, frame_interval=2)
    with pytest.raises(ValueError, match=r"several clfm folders.*frame_tag \(one of \['T2', 'T4'\]\)"):
        input_pipeline.open_folder(str(tmp_path), "synthetic", "clfm")
    assert input_pipeline.open_folder(str(tmp_path), "synthetic", "clfm", "T2").tag == "T2"
    lfm = trees.write_tree(str(tmp_path / "x"), clips, variant="clfm")
    with pytest.raises(ValueError, match="holds clfm maps but --variant=lfm"):
        input_pipeline.open_folder(lfm, "synthetic", "lfm")
