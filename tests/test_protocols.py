"""Fold construction for every protocol, on tiny TFRecord trees: exact fold counts,
disjoint subjects, and the one-line errors."""

import os

import pytest

from lfm_tf import input_pipeline, protocols
from lfm_tf.datasets import specs
from tests.fixtures import tfrecord_tree as trees


def _folder(root, subjects, dataset="synthetic", classes=specs.MEGC_CLASSES, **kw):
    clips = trees.clips_per_subject(subjects, len(classes), dataset=dataset, **kw)
    trees.write_tree(str(root), clips, dataset=dataset, classes=classes)
    return input_pipeline.open_folder(str(root), dataset, "clfm")


def _subject(path):
    return os.path.basename(path)[:-len(".tfrecord")]


def test_loso_has_one_fold_per_subject(tmp_path):
    folder = _folder(tmp_path, ["s1", "s2", "s10", "s3"])
    folds = protocols.make_folds("loso", folder)
    assert [f.name for f in folds] == ["s1", "s2", "s3", "s10"]
    assert [f.index for f in folds] == [0, 1, 2, 3]
    for fold in folds:
        assert fold.test_subjects == (fold.name,)
        assert [_subject(p) for p in fold.test] == [fold.name]
        assert fold.name not in fold.train_subjects
        assert sorted(fold.train_subjects + fold.test_subjects) == sorted(folder.subjects)
        assert [_subject(p) for p in fold.train] == list(fold.train_subjects)


def test_kfold_deals_subjects_not_clips(tmp_path):
    subjects = [f"S{k:03d}" for k in range(23)]
    # Subjects of 7, 6, 5 and 4 clips in turn.
    folder = _folder(tmp_path, subjects, classes=specs.CKPLUS_CLASSES,
                     missing={s: range(k % 4) for k, s in enumerate(subjects)})
    assert sorted(set(folder.clip_counts.values())) == [4, 5, 6, 7]
    folds = protocols.make_folds("kfold", folder, num_folds=10, seed=0)
    assert [f.name for f in folds] == [f"fold{k:02d}" for k in range(1, 11)]
    tested = [s for f in folds for s in f.test_subjects]
    assert sorted(tested) == subjects  # every subject tested exactly once
    for fold in folds:
        assert not set(fold.train_subjects) & set(fold.test_subjects)
        assert len(fold.train_subjects) + len(fold.test_subjects) == 23
    sizes = [sum(folder.clip_counts[s] for s in f.test_subjects) for f in folds]
    assert sum(sizes) == folder.manifest["counts"]["clips"]
    assert max(sizes) - min(sizes) <= max(folder.clip_counts.values())
    again = protocols.make_folds("kfold", folder, num_folds=10, seed=0)
    assert [f.test_subjects for f in again] == [f.test_subjects for f in folds]
    other = protocols.make_folds("kfold", folder, num_folds=10, seed=1)
    assert [f.test_subjects for f in other] != [f.test_subjects for f in folds]


def test_kfold_needs_enough_subjects(tmp_path):
    folder = _folder(tmp_path, ["a", "b", "c"])
    with pytest.raises(ValueError, match="3 subjects cannot fill 10 subject-independent "
                                         "folds: lower --config.num_folds"):
        protocols.make_folds("kfold", folder, num_folds=10)


def test_composite_is_loso_over_its_68_subjects(tmp_path):
    trees.write_tree(str(tmp_path), trees.composite_clips(), dataset="composite", tag="T25hz")
    folder = input_pipeline.open_folder(str(tmp_path), "composite", "clfm")
    folds = protocols.make_folds("composite", folder)
    assert len(folds) == protocols.COMPOSITE_SUBJECTS == 68
    assert folds[0].name == "casme2_sub01" and folds[-1].name == "smic_s16"
    assert all(len(f.train) == 67 and len(f.test) == 1 for f in folds)
    assert {f.name.split("_")[0] for f in folds} == {"smic", "casme2", "samm"}


def test_cross_trains_on_one_dataset_and_tests_on_the_other(tmp_path):
    source = _folder(tmp_path / "cross3", ["sub01", "sub02"], dataset="casme2")
    target = _folder(tmp_path / "std", ["s1", "s2", "s3"], dataset="smic")
    (fold,) = protocols.make_folds("cross", source, target)
    assert fold.name == "casme2_to_smic"
    assert fold.train_subjects == ("sub01", "sub02") and fold.test_subjects == ("s1", "s2", "s3")
    assert all(p.startswith(source.path) for p in fold.train)
    assert all(p.startswith(target.path) for p in fold.test)


def test_cross_needs_the_same_classes(tmp_path):
    five = specs.SPECS["casme2"].classes
    source = _folder(tmp_path / "a", ["sub01"], dataset="casme2", classes=five)
    target = _folder(tmp_path / "b", ["s1"], dataset="smic")
    with pytest.raises(ValueError, match=r"same classes on both sides.*--label_set=cross3"):
        protocols.make_folds("cross", source, target)


def test_full_trains_on_everything(tmp_path):
    folder = _folder(tmp_path, ["p1", "p2"])
    (fold,) = protocols.make_folds("full", folder)
    assert (fold.name, fold.test, fold.train_subjects) == ("full", (), ("p1", "p2"))


def test_protocol_errors_are_one_line_and_say_what_to_do():
    with pytest.raises(ValueError, match=r"unknown protocol 'lopo': use --protocol with one of"):
        protocols.check("lopo", "smic")
    with pytest.raises(ValueError, match="needs --target"):
        protocols.check("cross", "casme2")
    with pytest.raises(ValueError, match="applies only to --protocol=cross"):
        protocols.check("loso", "casme2", "smic")
    with pytest.raises(ValueError, match="needs --dataset=composite"):
        protocols.check("composite", "smic")


def test_select_folds_by_name_index_and_range(tmp_path):
    folds = protocols.make_folds("loso", _folder(tmp_path, [f"s{k}" for k in range(1, 7)]))
    assert [f.name for f in protocols.select(folds, "")] == [f.name for f in folds]
    assert [f.name for f in protocols.select(folds, "4-5,s1, 0")] == ["s1", "s5", "s6"]
    with pytest.raises(ValueError, match=r"no fold 's9'; folds are 0-5 or by name: s1, s2"):
        protocols.select(folds, "s9")
    with pytest.raises(ValueError, match="no fold '3-9'"):
        protocols.select(folds, "3-9")


def test_validation_subjects_come_from_training_subjects_only(tmp_path):
    folds = protocols.make_folds("loso", _folder(tmp_path, [f"s{k}" for k in range(1, 7)]))
    for fold in folds:
        held = protocols.with_validation(fold, 2, seed=0)
        assert len(held.validation_subjects) == 2 and len(held.train_subjects) == 3
        assert fold.name not in held.validation_subjects + held.train_subjects
        assert sorted(held.validation_subjects + held.train_subjects) == sorted(fold.train_subjects)
        assert held.test == fold.test
        assert protocols.with_validation(fold, 2, seed=0) == held
    assert protocols.with_validation(folds[0], 0, seed=0) is folds[0]
    with pytest.raises(ValueError, match="lower --config.validation_subjects"):
        protocols.with_validation(folds[0], 5, seed=0)


def test_a_file_on_both_sides_is_refused():
    with pytest.raises(ValueError, match="on two sides"):
        protocols.Fold(0, "x", train=("a.tfrecord",), test=("a.tfrecord",),
                       train_subjects=("a",), test_subjects=("a",))
