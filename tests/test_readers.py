"""Dataset readers on tiny fixture trees in the real layouts (see fixtures/dataset_trees.py).

Counts, frame order, annotation frames and every skipped sample are checked by
value; the composite test reproduces the official MEGC 2019 counts of DATASETS.md.
"""

from __future__ import annotations

import collections
import os
import shutil

import numpy as np
import pytest
from tests.fixtures import dataset_trees as trees
from tests.fixtures.dataset_trees import Casme2Row, CkSequence, FolderClip, SammRow, SmicClip

from lfm_tf.datasets import casme2, ckplus, composite, folder, samm, smic
from lfm_tf.datasets.specs import MEGC_CLASSES, SMIC_FPS


def basenames(paths):
    return [os.path.basename(p) for p in paths]


# SMIC ------------------------------------------------------------------------------

def test_smic_labels_from_folders_unpadded_subjects_and_no_non_micro(tmp_path):
    result = smic.read(trees.build_smic_tree(str(tmp_path)))
    assert [c.name for c in result.clips] == [
        "smic/s1/s1_ne_01", "smic/s1/s1_po_01", "smic/s10/s10_ne_01", "smic/s10/s10_sur_01",
        "smic/s2/s2_sur_01"]
    assert result.subjects() == ["s1", "s10", "s2"]
    assert result.class_counts() == {"negative": 2, "positive": 1, "surprise": 2}
    assert result.skipped == []
    clip = result.clips[0]
    assert (clip.dataset, clip.label, clip.fps) == ("smic", "negative", 100.0)
    assert basenames(clip.frames) == ["reg_image000009.bmp", "reg_image000010.bmp",
                                      "reg_image000011.bmp"]
    assert (clip.onset, clip.apex, clip.offset) == (None, None, None)
    assert result.spec.frame_interval == 4


def test_smic_vis_in_a_parent_folder_with_short_frame_names(tmp_path):
    trees.build_smic_tree(str(tmp_path / "data"), release="SMIC_all_raw", modality="VIS",
                          frame_name="reg_{}.bmp")
    result = smic.read(str(tmp_path / "data"), modality="VIS")
    assert len(result.clips) == 5
    assert result.spec.fps == SMIC_FPS["VIS"] == 25.0
    assert {c.fps for c in result.clips} == {25.0}
    assert basenames(result.clips[0].frames) == ["reg_9.bmp", "reg_10.bmp", "reg_11.bmp"]


def test_smic_reports_unknown_class_and_empty_clip(tmp_path):
    release = trees.build_smic_tree(str(tmp_path), clips=[
        SmicClip("s1", "negative", "s1_ne_01"), SmicClip("s3", "happy", "s3_ha_01")])
    empty = os.path.join(release, "HS", "s3", "micro", "positive", "s3_po_01")
    os.makedirs(empty)
    result = smic.read(str(tmp_path))
    assert [c.name for c in result.clips] == ["smic/s1/s1_ne_01"]
    assert result.skipped == [
        ("smic/s3/s3_ha_01", "class 'happy' is not one of negative, positive, surprise"),
        ("smic/s3/s3_po_01", f"no image frames in {empty}"),
    ]


def test_smic_errors_name_the_folder(tmp_path):
    with pytest.raises(ValueError, match="not an existing folder"):
        smic.read(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="does not look like the dataset.*HS/"):
        smic.read(str(tmp_path))
    with pytest.raises(ValueError, match="unknown modality 'IR'"):
        smic.read(str(tmp_path), modality="IR")


# CASME II --------------------------------------------------------------------------

def test_casme2_paper5_classes_frames_and_annotation_quirks(tmp_path):
    result = casme2.read(trees.build_casme2_tree(str(tmp_path)))
    assert [c.name for c in result.clips] == [
        "casme2/02/EP01_11f", "casme2/02/EP03_02", "casme2/sub01/EP02_01f",
        "casme2/sub01/EP19_05f", "casme2/sub04/EP07_01", "casme2/sub11/EP13_02"]
    assert result.class_counts() == {"disgust": 1, "happiness": 2, "others": 1,
                                     "repression": 1, "surprise": 1}
    assert result.subjects() == ["02", "sub01", "sub04", "sub11"]
    five = "disgust, happiness, others, repression, surprise"
    assert result.skipped == [
        ("casme2/sub04/EP01_02", f"class 'sadness' is not one of {five}"),
        ("casme2/sub04/EP18_01", f"class 'fear' is not one of {five}"),
    ]
    by_id = {c.clip_id: c for c in result.clips}
    assert basenames(by_id["EP02_01f"].frames) == ["img9.jpg", "img10.jpg", "img11.jpg"]
    happy = by_id["EP02_01f"]
    assert (happy.onset, happy.apex, happy.offset) == (9, 10, 11)
    assert by_id["EP19_05f"].apex is None  # '/' in the sheet
    assert by_id["EP01_11f"].apex is None  # blank in the sheet
    assert {c.fps for c in result.clips} == {200.0}


def test_casme2_missing_and_unannotated_clips_are_named(tmp_path):
    root = trees.build_casme2_tree(str(tmp_path), missing=["EP07_01"],
                                   unannotated=[(4, "EP99_01")])
    result = casme2.read(root)
    assert len(result.clips) == 5
    assert ("casme2/sub04/EP07_01", "annotated, but no clip folder on disk") in result.skipped
    extra = os.path.join(root, "CASME2_RAW_selected", "sub04", "EP99_01")
    assert ("casme2/sub04/EP99_01",
            f"clip folder not in CASME2-coding-20190701.xlsx: {extra}") in result.skipped
    assert len(result.skipped) == 4


def test_casme2_cropped_tree_preamble_and_explicit_coding_file(tmp_path):
    trees.build_casme2_tree(str(tmp_path), tree="Cropped", frame_name="reg_img{}.jpg",
                            coding_name="CASME2-coding-20140508.xlsx",
                            preamble=[("CASME II coding",), ()])
    sheet = str(tmp_path / "elsewhere.xlsx")
    shutil.move(str(tmp_path / "CASME2-coding-20140508.xlsx"), sheet)
    result = casme2.read(str(tmp_path / "Cropped"), coding_file=sheet)
    assert len(result.clips) == 6
    assert basenames(result.clips[0].frames) == ["reg_img9.jpg", "reg_img10.jpg",
                                                 "reg_img11.jpg"]


def test_casme2_cross3_mapping_counts(tmp_path):
    emotions = (["happiness"] * 3 + ["surprise"] * 2 + ["disgust"] * 2 + ["sadness", "fear"]
                + ["repression"] * 2 + ["others"] * 2)
    rows = [Casme2Row(1 + k % 3, f"EP{k:02d}_01", e) for k, e in enumerate(emotions)]
    result = casme2.read(trees.build_casme2_tree(str(tmp_path), rows=rows), label_set="cross3")
    assert result.spec.classes == MEGC_CLASSES
    assert (result.spec.name, result.spec.fps) == ("casme2", 200.0)
    assert result.class_counts() == {"negative": 4, "positive": 3, "surprise": 2}
    dropped = collections.Counter(reason.split("'")[1] for _, reason in result.skipped)
    assert dropped == {"repression": 2, "others": 2}
    assert set(casme2.CROSS3_MAPPING.values()) == set(MEGC_CLASSES)


def test_casme2_errors(tmp_path):
    with pytest.raises(ValueError, match="not an existing folder"):
        casme2.read(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="does not look like the dataset"):
        casme2.read(str(tmp_path))
    trees.build_casme2_tree(str(tmp_path), coding_name=None)
    with pytest.raises(ValueError, match="no CASME2-coding-.*pass --coding_file"):
        casme2.read(str(tmp_path))
    (tmp_path / "CASME2_label_Ver_2.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValueError, match=r"CASME2_label_Ver_2.xls: .*convert it to \.xlsx"):
        casme2.read(str(tmp_path))
    trees.write_xlsx(str(tmp_path / "CASME2-coding-1.xlsx"), ("Subject", "Name"), [(1, "x")])
    with pytest.raises(ValueError, match="CASME2-coding-1.xlsx: no header row with a 'Filename'"):
        casme2.read(str(tmp_path))
    with pytest.raises(ValueError, match="unknown label_set 'paper7'"):
        casme2.read(str(tmp_path), label_set="paper7")


# SAMM ------------------------------------------------------------------------------

def test_samm_preamble_int_subjects_and_eight_classes(tmp_path):
    result = samm.read(trees.build_samm_tree(str(tmp_path)))
    assert len(result.clips) == 9
    assert result.subjects() == ["006", "007", "011", "012", "014"]
    assert result.class_counts() == {"anger": 2, "contempt": 1, "disgust": 1, "fear": 1,
                                     "happiness": 1, "other": 1, "sadness": 1, "surprise": 1}
    assert result.skipped == []
    first, second, third = result.clips[:3]
    assert (first.name, first.onset, first.apex, first.offset) == ("samm/006/006_1_2", 9, 10, 11)
    assert (second.label, second.apex) == ("other", None)
    assert (third.name, third.apex) == ("samm/007/007_3_1", None)
    assert basenames(first.frames) == ["006_00009.jpg", "006_00010.jpg", "006_00011.jpg"]


def test_samm_reports_missing_unannotated_and_unknown_class(tmp_path):
    rows = [SammRow("006", "006_1_2", "Anger"), SammRow("006", "006_1_3", "Neutral"),
            SammRow("020", "020_4_1", "Happiness")]
    root = trees.build_samm_tree(str(tmp_path), rows=rows, missing=["020_4_1"],
                                 unannotated=[("009", "009_3_1")])
    result = samm.read(str(tmp_path / "SAMM"), coding_file=str(tmp_path /
                                                               "SAMM_Micro_FACS_Codes_v2.xlsx"))
    assert [c.name for c in result.clips] == ["samm/006/006_1_2"]
    eight = "anger, contempt, disgust, fear, happiness, other, sadness, surprise"
    assert result.skipped == [
        ("samm/006/006_1_3", f"class 'neutral' is not one of {eight}"),
        ("samm/009/009_3_1", "clip folder not in SAMM_Micro_FACS_Codes_v2.xlsx: "
                             f"{os.path.join(root, 'SAMM', '009', '009_3_1')}"),
        ("samm/020/020_4_1", "annotated, but no clip folder on disk"),
    ]


def test_samm_errors_and_subject_spelling(tmp_path):
    assert [samm.subject_folder(s) for s in (6, "6", "006", 37)] == ["006", "006", "006", "037"]
    with pytest.raises(ValueError, match="not a subject"):
        samm.subject_folder("six")
    trees.build_samm_tree(str(tmp_path), coding_name=None)
    with pytest.raises(ValueError, match="no SAMM_Micro_FACS_Codes.*pass --coding_file"):
        samm.read(str(tmp_path))
    with pytest.raises(ValueError, match="does not look like the dataset"):
        samm.read(str(tmp_path / "SAMM" / "006"))


# CK+ -------------------------------------------------------------------------------

def test_ckplus_labelled_sequences_and_unlabelled_reported(tmp_path):
    root = trees.build_ckplus_tree(str(tmp_path))
    result = ckplus.read(root)
    assert [(c.name, c.label, c.apex) for c in result.clips] == [
        ("ckplus/S005/001", "disgust", 11), ("ckplus/S010/002", "surprise", 3),
        ("ckplus/S011/001", "happy", 3)]
    images = os.path.join(root, "cohn-kanade-images")
    assert result.skipped == [
        ("ckplus/S010/004", f"unlabelled (no emotion file): {os.path.join(images, 'S010', '004')}"),
        ("ckplus/S011/003", f"unlabelled (no emotion file): {os.path.join(images, 'S011', '003')}"),
    ]
    frames = basenames(result.clips[0].frames)
    assert frames[8:10] == ["S005_001_00000009.png", "S005_001_00000010.png"]
    assert len(frames) == 11 and result.clips[0].fps == 30.0


def test_ckplus_emotion_labels_folder_and_neutral_code(tmp_path):
    trees.build_ckplus_tree(str(tmp_path), emotion_dir="Emotion_labels", sequences=[
        CkSequence("S005", "001", 3.0), CkSequence("S022", "005", 0.0)])
    result = ckplus.read(str(tmp_path))
    assert [c.name for c in result.clips] == ["ckplus/S005/001"]
    assert result.skipped == [("ckplus/S022/005", "class 'neutral' is not one of anger, "
                               "contempt, disgust, fear, happy, sadness, surprise")]


def test_ckplus_provided_landmarks(tmp_path):
    root = trees.build_ckplus_tree(str(tmp_path), missing_landmarks=[("S010", "002", 2)])
    result = ckplus.read(root, landmarks="provided")
    assert [c.name for c in result.clips] == ["ckplus/S005/001", "ckplus/S011/001"]
    clip = result.clips[0]
    assert clip.frames == () and clip.num_frames == 11
    assert basenames(clip.landmark_files)[8:10] == ["S005_001_00000009_landmarks.txt",
                                                    "S005_001_00000010_landmarks.txt"]
    folder_path = os.path.join(root, "Landmarks", "S010", "002")
    assert ("ckplus/S010/002", f"no landmark file for frame(s) [2] in {folder_path}") \
        in result.skipped
    points = ckplus.read_landmark_file(clip.landmark_files[9])
    assert points.dtype == np.float32 and points.shape == (68, 2)
    np.testing.assert_allclose(points[[0, 67]], [[100.0, 210.0], [167.0, 277.0]])


def test_ckplus_errors(tmp_path):
    bad = tmp_path / "bad_landmarks.txt"
    bad.write_text("1.0 2.0 3.0\n" * 68)
    with pytest.raises(ValueError, match="bad_landmarks.txt: expected 68 lines of two floats"):
        ckplus.read_landmark_file(str(bad))
    bad.write_text(trees.landmark_lines(1).replace("e+02", "e+0x", 1))
    with pytest.raises(ValueError, match="expected 68 lines of two floats"):
        ckplus.read_landmark_file(str(bad))
    with pytest.raises(ValueError, match="cohn-kanade-images"):
        ckplus.read(str(tmp_path))
    trees.build_ckplus_tree(str(tmp_path), emotion_dir="labels")
    with pytest.raises(ValueError, match="no Emotion or Emotion_labels folder"):
        ckplus.read(str(tmp_path))


# MEGC 2019 composite ----------------------------------------------------------------

def test_official_list_is_shipped_verbatim():
    rows = composite.official_list()
    assert len(rows) == 442
    assert rows[0] == ("casme2", "sub01", "EP02_01f", "positive")
    assert ("smic", "s01", "s01_ne_01", "negative") in rows
    assert ("samm", "6", "006_1_2", "negative") in rows


def test_composite_reproduces_the_official_counts(tmp_path):
    result = composite.read(trees.build_composite_tree(str(tmp_path)))
    assert len(result.clips) == 442 and len(result.subjects()) == 68
    assert result.class_counts() == {"negative": 250, "positive": 109, "surprise": 83}
    assert result.skipped == []
    per_source = collections.defaultdict(collections.Counter)
    subjects = collections.defaultdict(set)
    for clip in result.clips:
        per_source[clip.dataset][clip.label] += 1
        subjects[clip.dataset].add(clip.subject)
    assert per_source == {
        "smic": {"negative": 70, "positive": 51, "surprise": 43},
        "casme2": {"negative": 88, "positive": 32, "surprise": 25},
        "samm": {"negative": 92, "positive": 26, "surprise": 15}}
    assert {k: len(v) for k, v in subjects.items()} == {"smic": 16, "casme2": 24, "samm": 28}
    by_name = {c.name: c for c in result.clips}
    assert {"smic/smic_s1/s1_ne_01", "casme2/casme2_sub01/EP02_01f",
            "samm/samm_006/006_1_2"} <= set(by_name)
    assert by_name["smic/smic_s1/s1_ne_01"].fps == 100.0
    assert by_name["samm/samm_006/006_1_2"].fps == 200.0


def test_composite_names_a_missing_clip(tmp_path):
    root = trees.build_composite_tree(str(tmp_path), drop=[("smic", "s03_po_01")])
    result = composite.read(root)
    assert len(result.clips) == 441
    path = os.path.join(root, "SMIC_all_cropped", "HS", "s3", "micro", "positive", "s3_po_01")
    assert result.skipped == [("smic/smic_s3/s3_po_01", f"no image frames in {path}")]


def test_composite_separate_dirs_and_optional_spreadsheet(tmp_path):
    root = trees.build_composite_tree(str(tmp_path / "megc"))
    # The composite tree's frames: one take per folder (9, 10, 11 beside 1, 2 would
    # be two, which the numbering refuses).
    trees.build_casme2_tree(str(tmp_path / "megc"), rows=[Casme2Row(1, "EP02_01f", "happiness",
                                                                    46, "/", 59)],
                            frames=(1, 2))
    result = composite.read(smic_dir=os.path.join(root, "SMIC_all_cropped"),
                            casme2_dir=root, samm_dir=os.path.join(root, "SAMM"))
    assert len(result.clips) == 442
    clip = next(c for c in result.clips if c.name == "casme2/casme2_sub01/EP02_01f")
    assert (clip.label, clip.onset, clip.apex, clip.offset) == ("positive", 46, None, 59)
    with pytest.raises(ValueError, match="pass data_dir .* or smic_dir"):
        composite.read(casme2_dir=root, samm_dir=root)


# The generic folder layout -----------------------------------------------------------

def test_folder_frames_video_and_landmarks(tmp_path):
    clips = [FolderClip("alice", "smile", "happy", fps=50),
             FolderClip("alice", "talk", "neutral", "video"),
             FolderClip("bob", "smile", "happy", "landmarks", fps=30)]
    root = trees.build_folder_tree(str(tmp_path), clips=clips, fps_column=True, video_fps=15)
    result = folder.read(root)
    assert result.spec.classes == ("happy", "neutral")
    assert (result.spec.name, result.spec.fps, result.spec.protocol) == ("folder", None, "loso")
    frames, video, track = result.clips
    assert basenames(frames.frames) == ["img9.png", "img10.png", "img11.png"]
    assert (frames.fps, video.fps, track.fps) == (50.0, 15.0, 30.0)
    assert video.video == os.path.join(root, "alice", "talk.avi")
    assert track.landmarks.shape == (3, 68, 2) and track.landmarks.dtype == np.float32
    assert result.skipped == []


def test_folder_fps_option_classes_and_unpaired(tmp_path):
    root = trees.build_folder_tree(str(tmp_path))
    trees.write_frames(os.path.join(root, "carol", "yawn"), ["f1.png"])
    with open(os.path.join(root, "labels.csv"), "a") as f:
        f.write("dave,wink,happy\n")
    result = folder.read(root, fps=25, classes=["happy", "sad"])
    assert [c.name for c in result.clips] == ["folder/alice/smile", "folder/bob/smile"]
    assert {c.fps for c in result.clips} == {25.0}
    labels = os.path.join(root, "labels.csv")
    assert result.skipped == [
        ("folder/alice/talk", "class 'neutral' is not one of happy, sad"),
        ("folder/carol/yawn", f"not in {labels}: {os.path.join(root, 'carol', 'yawn')}"),
        ("folder/dave/wink", "annotated, but no clip folder on disk"),
    ]


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="not an existing folder"):
        folder.read(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no labels file .*labels.csv"):
        folder.read(str(tmp_path))
    root = trees.build_folder_tree(str(tmp_path))
    with pytest.raises(ValueError, match="no frame rate for .*pass --fps"):
        folder.read(root)
