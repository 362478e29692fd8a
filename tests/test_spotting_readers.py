"""casme_sq and samm_lv on fixture trees in the layouts of DATASETS_MORE.md A and B.

Every workbook row of tests/fixtures/spotting_trees.py is accounted for by name:
read (with its corrections) or not used (with its reason).
"""

from __future__ import annotations

import os

import openpyxl
import pytest
from tests.fixtures import spotting_trees as trees

from lfm_tf.datasets import casme_sq, read, samm_lv
from lfm_tf.datasets.long_videos import Interval


def intervals_by_video(result):
    return {v.video_id: [(i.name, i.type, i.onset, i.apex, i.offset) for i in v.intervals]
            for v in result.videos}


def test_casme_sq_every_row_accounted_for(tmp_path):
    result = read("casme_sq", trees.build_casme_sq_tree(str(tmp_path)))
    assert result.spec.fps == 30.0
    assert [(v.subject, v.video_id, v.num_frames) for v in result.videos] == [
        ("s15", "15_0101disgustingteeth", 40), ("s15", "15_0508funnydunkey", 12),
        ("s16", "16_0102eatingworms", 30), ("s16", "16_0401girlcrashing", 30),
        ("s19", "19_0502funnyerrors", 12)]
    assert intervals_by_video(result) == {
        "15_0101disgustingteeth": [("disgust1_1", "me", 5, 9, 14),
                                   ("disgust1_2", "mae", 20, 30, 30)],  # offset 0 -> apex
        "15_0508funnydunkey": [],
        "16_0102eatingworms": [("disgust2_1", "mae", 2, 10, 20),  # overlapping, both kept
                               ("disgust2_2", "me", 8, 12, 16)],
        "16_0401girlcrashing": [("anger1_1", "mae", 2, 14, 26),  # apex 0 -> midpoint
                                ("anger1_2", "me", 10, 20, 18)],  # apex after offset, kept
        "19_0502funnyerrors": []}
    assert result.corrected == [
        ("casme_sq/s15/disgust1_2 (row 2)", "offset 0: apex 30 used as offset"),
        ("casme_sq/s16/anger1_1 (row 3)", "apex 0: midpoint 14 used"),
        ("casme_sq/s16/anger1_2 (row 4)", "apex 20 after offset 18: kept, interval 10-18")]
    assert result.skipped == [
        ("casme_sq/s19/happy2_1 (row 7)", "no video folder s19/19_0503* on disk"),
        ("casme_sq/s15/disgust1_3 (row 8)",
         "type 'eye blink' is not one of ['macro-expression', 'micro-expression']")]
    assert result.type_counts() == {"me": 3, "mae": 3}
    assert result.videos[0].intervals[0] == Interval(5, 9, 14, "me", "disgust1_1", "4+10",
                                                     "negative")
    frames = result.videos[0].frames
    assert [os.path.basename(f) for f in (frames[0], frames[-1])] == ["img001.jpg", "img040.jpg"]


def test_casme_sq_names_missing_sheets(tmp_path):
    root = trees.build_casme_sq_tree(str(tmp_path))
    path = os.path.join(root, "CAS(ME)^2code_final.xlsx")
    book = openpyxl.load_workbook(path)
    del book["naming rule2"]
    book.save(path)
    with pytest.raises(ValueError, match="no sheet 'naming rule2'"):
        casme_sq.read(root)


def test_samm_lv_every_row_accounted_for(tmp_path):
    result = read("samm_lv", trees.build_samm_lv_tree(str(tmp_path)))
    assert result.spec.fps == 200.0
    assert [(v.subject, v.video_id, v.num_frames) for v in result.videos] == [
        ("006", "006_1", 30), ("006", "006_2", 12), ("012", "012_4", 20)]
    assert intervals_by_video(result) == {
        "006_1": [("006_1_1", "me", 3, 6, 12),
                  ("006_1_2", "mae", 1, 5, 18),     # onset 0 -> first frame
                  ("006_1_3", "me", 20, 23, 27)],   # 20.4, 22.5, 26.5 rounded half up
        "006_2": [],
        "012_4": [("012_4_1", "mae", 2, None, 20)]}  # apex -1; offset 25 > 20 frames
    assert result.corrected == [
        ("samm_lv/006/006_1_2 (row 12)", "onset 0 before the first frame: 1"),
        ("samm_lv/012/012_4_1 (row 14)", "apex -1: not annotated"),
        ("samm_lv/012/012_4_1 (row 14)", "offset 25 after the last frame: 20")]
    assert result.skipped == [
        ("samm_lv/020/020_6_5 (row 15)", "no video folder 020_6 on disk"),
        ("samm_lv/006/006_1_4 (row 16)", "type 'Blink' is neither Micro nor Macro")]
    five_digits = result.videos[1].frames
    assert os.path.basename(five_digits[-1]) == "006_2_00012.jpg"
    assert result.videos[1].first_frame == 1


def test_samm_lv_frame_cells():
    assert [samm_lv.frame(c) for c in (566.4, 566.5, 7, "12", None, "", -1)] == [
        566, 567, 7, 12, None, None, -1]
