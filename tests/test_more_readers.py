"""Readers of CAS(ME)^3 (parts A and C), 4DME and MMEW on fixture trees in their real
layouts (fixtures/more_trees.py), and composites from a membership list.

Part A's fixture has the documented 860 samples of 94 subjects and emotion counts,
so the class counts of every label set are the documented ones.
"""

from __future__ import annotations

import collections
import os

import openpyxl
import pytest
from tests.fixtures import dataset_trees, more_trees
from tests.fixtures.more_trees import Casme3Row, FourdRow, MmewRow

from lfm_tf.datasets import base, casme3, casme3_c, composite, fourd_me, mmew

SHEET = more_trees.CASME3_SHEET_NAME


def basenames(paths):
    """File names; None where the numbering skips a number."""
    return [None if p is None else os.path.basename(p) for p in paths]


def numbered(first, last, present):
    """The file names of frames first..last, None for those not in `present`."""
    return [f"{n}.jpg" if n in present else None for n in range(first, last + 1)]


@pytest.fixture(scope="module")
def casme3_root(tmp_path_factory):
    return more_trees.build_casme3_tree(str(tmp_path_factory.mktemp("casme3")))


# CAS(ME)^3 Part A ------------------------------------------------------------------

def test_casme3_documented_counts_in_class4(casme3_root):
    result = casme3.read(casme3_root)
    assert len(result.clips) == 860 and len(result.subjects()) == 94
    assert result.class_counts() == {"negative": 457, "positive": 55, "surprise": 187,
                                     "others": 161}
    extra = os.path.join(casme3_root, "part_A_split", "part_A", "spNO.1", "m")
    assert result.skipped == [("casme3/spNO.1/m", f"video has no micro-expression in {SHEET}: "
                                                  f"{extra}")]
    assert (result.spec.name, result.spec.fps, result.spec.frame_interval) == ("casme3", 30.0, 1)
    assert result.subjects()[0] == "spNO.1" and "spNO.217" in result.subjects()


def test_casme3_frames_repeated_videos_and_corrections(casme3_root):
    result = casme3.read(casme3_root)
    by_name = {c.name: c for c in result.clips}
    rows = more_trees.casme3_rows()
    # Frames of the interval, numerically sorted, colour only (depth/ is not read).
    j = by_name["casme3/spNO.1/J"]  # the sheet's `J` is folder `j`
    assert basenames(j.frames) == ["9.jpg", "10.jpg", "11.jpg"]
    assert os.path.basename(os.path.dirname(os.path.dirname(j.frames[0]))) == "j"
    # A video holding several micro-expressions: e, e2, e3, each its own frames.
    third = more_trees.CASME3_SUBJECTS[2]
    assert third == "spNO.5"
    assert [basenames(by_name[f"casme3/{third}/{c}"].frames) for c in ("a", "a2", "a3")] == [
        ["9.jpg", "10.jpg", "11.jpg"], ["109.jpg", "110.jpg", "111.jpg"],
        ["209.jpg", "210.jpg", "211.jpg"]]
    # A frame dropped inside an interval is a frame without a face (None): the
    # frames after it keep their numbers (position k is frame onset + k).
    dropped = rows[5]
    clip = next(c for c in result.clips if (c.subject, c.onset) == (dropped.subject,
                                                                    dropped.onset)
                and c.clip_id.startswith(dropped.filename))
    assert basenames(clip.frames) == [f"{dropped.onset}.jpg", None, f"{dropped.offset}.jpg"]
    assert clip.num_frames == 3
    def clip_name(k):  # the k-th row's clip: its Filename, `e2` for a second `e`
        r = rows[k]
        n = sum(1 for q in rows[:k + 1] if (q.subject, q.filename) == (r.subject, r.filename))
        return f"casme3/{r.subject}/{r.filename}{n if n > 1 else ''}"

    assert [(name, what.split(" (")[0]) for name, what in result.corrections] == [
        (clip_name(128), "row 130: apex 83 -> 123"),
        (clip_name(708), "row 710: offset 3460 -> 34"),
        (clip_name(749), "row 751: onset 3647 -> 2647"),
        (clip_name(750), "row 752: onset 0 -> 1"),
        (clip_name(750), "row 752: apex 0 -> 1"),
        (clip_name(796), "row 798: offset 0 -> 1845"),
        (clip_name(798), "row 800: offset 0 -> 2403"),
    ]
    assert {name for name, _ in result.corrections} <= set(by_name)
    assert all("tvaranka/meb" in what for _, what in result.corrections)
    fixed = {(c.subject, c.onset, c.apex, c.offset): basenames(c.frames) for c in result.clips}
    # The fixture writes only some frames of these intervals: the rest are holes.
    assert fixed[(rows[708].subject, 20, 27, 34)] == numbered(20, 34, {20, 27, 34})  # not 40
    assert fixed[(rows[749].subject, 2647, 2650, 2653)] == numbered(2647, 2653,
                                                                    {2647, 2650, 2653})
    assert fixed[(rows[750].subject, 1, 1, 5)] == ["1.jpg", "2.jpg", None, None, "5.jpg"]
    assert fixed[(rows[128].subject, 120, 123, 126)] == numbered(120, 126, {120, 123, 126})
    assert fixed[(rows[796].subject, 1840, 1842, 1845)][-1] == "1845.jpg"
    assert "corrected" in result.summary()


def test_casme3_label_sets(casme3_root):
    seven = casme3.read(casme3_root, label_set="emotion7")
    assert seven.class_counts() == {"anger": 64, "disgust": 250, "fear": 86, "happy": 55,
                                    "others": 161, "sad": 57, "surprise": 187}
    three = casme3.read(casme3_root, label_set="megc3")
    assert three.class_counts() == {"negative": 457, "positive": 55, "surprise": 187}
    assert len(three.subjects()) == 94
    reasons = collections.Counter(reason.split(" is not")[0] for _, reason in three.skipped)
    # The 3 `Others` cells are lower-cased like the rest.
    assert reasons == {"class 'others'": 161, f"video has no micro-expression in {SHEET}: "
                       + os.path.join(casme3_root, "part_A_split", "part_A", "spNO.1", "m"): 1}
    with pytest.raises(ValueError, match="unknown label_set 'paper5'"):
        casme3.read(casme3_root, label_set="paper5")


def test_casme3_missing_frames_and_videos_are_named(tmp_path):
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11),
            Casme3Row("spNO.1", "a", "sad", 109, 110, 111, frames=(9, 10, 11)),
            Casme3Row("spNO.2", "b", "fear", 9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path), rows, missing=[2], unannotated=())
    result = casme3.read(root)
    color = os.path.join(root, "part_A_split", "part_A", "spNO.1", "a", "color")
    assert [c.name for c in result.clips] == ["casme3/spNO.1/a"]
    assert result.skipped == [
        ("casme3/spNO.1/a2", f"no frames 109-111 in {color}"),
        ("casme3/spNO.2/b", "annotated, but no clip folder on disk")]
    # Another release of the sheet: the documented fixes are not applied, and say so.
    assert len(result.corrections) == 7
    assert result.corrections[0] == ("data row 128", "apex not corrected to 123: the sheet "
                                     "has only 3 data rows (tvaranka/meb meb/datasets/"
                                     "datasets.py Casme3: apex before onset)")


def test_casme3_rows_without_subject_are_named_not_dropped(tmp_path):
    # A copy of the sheet with the Subject written once per block (merged cells).
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11),
            Casme3Row("spNO.1", "b", "disgust", 9, 10, 11),
            Casme3Row("spNO.1", "c", "surprise", 9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path), rows, unannotated=())
    book = openpyxl.load_workbook(os.path.join(root, SHEET))
    book["label"]["A3"] = book["label"]["A4"] = None
    book.save(os.path.join(root, SHEET))
    result = casme3.read(root)
    assert [c.name for c in result.clips] == ["casme3/spNO.1/a"]
    reason = ("no subject cell (merged cells in this copy?): the row names no clip; fill it "
              "in to use the row")
    assert result.skipped[:2] == [(f"casme3/{SHEET} row 3", reason),
                                  (f"casme3/{SHEET} row 4", reason)]
    assert {name for name, _ in result.skipped[2:]} == {"casme3/spNO.1/b", "casme3/spNO.1/c"}


def test_copies_of_a_frame_name_the_clip_not_two_frames(tmp_path):
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11),
            Casme3Row("spNO.1", "b", "disgust", 9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path), rows, unannotated=())
    color = os.path.join(root, "part_A_split", "part_A", "spNO.1", "b", "color")
    for copy in ("10 (copy).jpg", "11.jpeg"):
        with open(os.path.join(color, copy), "wb") as f:
            f.write(b"")
    result = casme3.read(root)
    assert [c.name for c in result.clips] == ["casme3/spNO.1/a"]
    assert result.skipped == [("casme3/spNO.1/b", f"{color}: 2 frame numbers are on more than "
                               f"one file (frame 10: 10 (copy).jpg, 10.jpg): remove the copies")]
    # The one listing every tool uses (predict, spot, the readers) refuses it the same way.
    with pytest.raises(base.FrameListError, match=r"frame 10: 10 \(copy\).jpg, 10.jpg"):
        base.list_images(color)


def test_casme3_errors(tmp_path):
    with pytest.raises(ValueError, match="does not look like the dataset.*spNO.1/a/color"):
        casme3.read(str(tmp_path))
    root = more_trees.build_casme3_tree(str(tmp_path), [Casme3Row("spNO.1", "a", "happy",
                                                                  9, 10, 11)], sheet_name=None)
    with pytest.raises(ValueError, match=r"no cas\(me\)3_part_A_ME_label_JpgIndex\*.xlsx.*"
                                         "pass --coding_file"):
        casme3.read(root)
    other = dataset_trees.write_xlsx(str(tmp_path / "x.xlsx"), ("Subject", "Filename"), [])
    with pytest.raises(ValueError, match=r"x.xlsx: no sheet 'label'; it has \['Sheet'\]"):
        casme3.read(root, coding_file=other)


# CAS(ME)^3 Part C ------------------------------------------------------------------

def test_casme3_c_documented_counts_no_apex_and_subject_spelling(tmp_path):
    result = casme3_c.read(more_trees.build_casme3_c_tree(str(tmp_path)))
    assert len(result.clips) == 165 and len(result.subjects()) == 30
    assert result.class_counts() == {"negative": 93, "positive": 7, "surprise": 25,
                                     "others": 40}
    assert result.skipped == [] and result.corrections == []
    assert {"01", "7", "30"} <= set(result.subjects())
    clip = result.clips[0]
    assert (clip.name, clip.onset, clip.apex, clip.offset) == ("casme3_c/01/1", 9, None, 11)
    assert basenames(clip.frames) == ["9.jpg", "10.jpg", "11.jpg"]
    assert result.spec.frame_interval == 1


# 4DME --------------------------------------------------------------------------------

def test_fourd_me_counts_and_label_sets(tmp_path):
    root = more_trees.build_fourd_me_tree(str(tmp_path))
    result = fourd_me.read(root)
    assert len(result.clips) == 267 and len(result.subjects()) == 41
    assert result.class_counts() == {"negative": 120, "positive": 40, "surprise": 35,
                                     "repression": 30, "others": 42}
    assert result.skipped == []
    assert result.clips[0].name == "fourd_me/1/S01_001"
    assert basenames(result.clips[0].frames) == ["img9.jpg", "img10.jpg", "img11.jpg"]
    assert (result.spec.fps, result.spec.frame_interval) == (60.0, 2)
    three = fourd_me.read(os.path.join(root, "gray_micro"),
                          coding_file=os.path.join(root, "4DME_Labelling_Micro_release v1.xlsx"),
                          label_set="megc3")
    assert three.class_counts() == {"negative": 120, "positive": 40, "surprise": 35}
    assert len(three.skipped) == 72


def test_fourd_me_reports_unknown_labels_and_unannotated_folders(tmp_path):
    rows = [FourdRow(1, "S01_001", "Negative"), FourdRow(1, "S01_002", "Negative+Surprise"),
            FourdRow(2, "S02_001", "Positive")]
    root = more_trees.build_fourd_me_tree(str(tmp_path), rows, unannotated=[("2", "S02_009")])
    result = fourd_me.read(root)
    assert [c.name for c in result.clips] == ["fourd_me/1/S01_001", "fourd_me/2/S02_001"]
    extra = os.path.join(root, "gray_micro", "2", "S02_009")
    assert result.skipped == [
        ("fourd_me/1/S01_002", "class 'negative+surprise' is not one of negative, positive, "
                               "surprise, repression, others"),
        ("fourd_me/2/S02_009", "clip folder not in 4DME_Labelling_Micro_release v1.xlsx: "
                               f"{extra}")]


# MMEW --------------------------------------------------------------------------------

def test_mmew_counts_others_kept_and_corrections(tmp_path):
    root = more_trees.build_mmew_tree(str(tmp_path))
    result = mmew.read(root)
    assert len(result.clips) == 300 and len(result.subjects()) == 36
    assert result.class_counts() == {"anger": 8, "disgust": 72, "fear": 16, "happiness": 36,
                                     "others": 66, "sadness": 13, "surprise": 89}
    assert result.skipped == []
    assert (result.spec.fps, result.spec.frame_interval) == (90.0, 4)
    assert len(result.corrections) == 32
    rows = more_trees.mmew_rows()
    by_id = {c.clip_id: c for c in result.clips}
    assert (by_id[rows[33].filename].apex, by_id[rows[33].filename].offset) == (40, 75)
    assert (by_id[rows[156].filename].apex, by_id[rows[156].filename].offset) == (38, 106)
    assert result.corrections[0][0] == f"mmew/{rows[33].subject}/{rows[33].filename}"
    assert result.corrections[0][1].startswith("row 35: apexframe None -> 40 (tvaranka/meb")
    # MMEW_FRAMES 1-4 and 10: numbers 5-9 are holes, frames without a face.
    assert basenames(by_id[rows[0].filename].frames) == numbered(1, 10, {1, 2, 3, 4, 10})
    three = mmew.read(root, label_set="megc3")
    assert three.class_counts() == {"negative": 109, "positive": 36, "surprise": 89}
    assert {r.split(" is not")[0] for _, r in three.skipped} == {"class 'others'"}


def test_mmew_misfiled_clip_is_named(tmp_path):
    rows = [MmewRow("S01", "S01_01", "happiness"), MmewRow("S01", "S01_02", "fear")]
    root = more_trees.build_mmew_tree(str(tmp_path), rows, misfiled={"S01_02": "others"})
    result = mmew.read(root)
    assert [c.name for c in result.clips] == ["mmew/S01/S01_01"]
    assert result.skipped == [("mmew/S01/S01_02", "filed under others/, but the sheet says "
                                                  "'fear'")]


# Composites from a membership list ------------------------------------------------------

def test_composite_membership_pools_casme3_with_samm(tmp_path):
    rows = [Casme3Row("spNO.1", "a", "happy", 9, 10, 11),
            Casme3Row("spNO.1", "a", "others", 109, 110, 111),
            Casme3Row("spNO.2", "J", "sad", 9, 10, 11)]
    root = more_trees.build_casme3_tree(str(tmp_path), rows, unannotated=())
    dataset_trees.build_samm_tree(str(tmp_path))
    membership = tmp_path / "pooled.csv"
    membership.write_text("casme3,spNO.1,a,1\ncasme3,spNO.2,J,0\ncasme3,spNO.9,z,2\n"
                          "samm,6,006_1_2,0\n")
    result = composite.read(root, membership=str(membership))
    assert [c.name for c in result.clips] == [
        "casme3/casme3_spNO.1/a", "casme3/casme3_spNO.2/J", "samm/samm_006/006_1_2"]
    assert result.class_counts() == {"negative": 2, "positive": 1, "surprise": 0}
    assert {c.fps for c in result.clips} == {30.0, 200.0}
    assert result.skipped == [("casme3/casme3_spNO.9/z",
                               "listed, but the casme3 reader found no such clip")]
    assert len(result.corrections) == 7  # the casme3 reader's, passed on


@pytest.mark.parametrize("text, message", [
    ("casme3,spNO.1,a\n", r"bad.csv, line 1: missing column\(s\) \['label'\]"),
    ("dataset,subject,filename,label\ncasme3,,a,1\n",
     r"bad.csv, line 2: missing column\(s\) \['subject'\]"),
    ("dfme,1,a,0\n", "bad.csv, line 1: unknown dataset 'dfme'"),
    ("casme3,spNO.1,a,negative\n", "bad.csv, line 1: label 'negative' is not 0"),
])
def test_composite_bad_membership_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        composite.read(str(tmp_path), membership=str(tmp_path / "bad.csv"))
