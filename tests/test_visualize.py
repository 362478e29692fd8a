"""The pictures: one clip's maps beside its face (Fig. 3), mean maps per class
(Fig. 6), t-SNE (Fig. 7) and a run's confusion matrix, written as PNG files of the
expected size and to TensorBoard; the per-clip map and the region labels by hand."""

import dataclasses
import glob
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import features, figures, plots, records, report
from lfm_tf.datasets import specs, synthetic, synthetic_render
from lfm_tf.datasets.base import list_images
from tests import assets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLUE, RED, GREEN = (255, 0, 0), (0, 0, 255), (0x22, 0xDD, 0x22)  # BGR, as OpenCV decodes


def _image(png: bytes) -> np.ndarray:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def _has(image: np.ndarray, bgr) -> bool:
    return bool(np.all(image == bgr, axis=-1).any())


def _near(image: np.ndarray, rgba, tolerance: int = 2) -> np.ndarray:
    """Where pixels are within `tolerance` grey levels of matplotlib colour `rgba`."""
    bgr = np.round(np.array(rgba[:3])[::-1] * 255)
    return np.all(np.abs(image.astype(int) - bgr) <= tolerance, axis=-1)


def _count_near(image: np.ndarray, rgba, tolerance: int = 2) -> int:
    return int(_near(image, rgba, tolerance).sum())


def _track(moved: float = 3.0) -> np.ndarray:
    """Three frames of a fixed face; in the last, the mouth corners (landmarks 49
    and 55, 1-based) move `moved` px apart each, along the line between them."""
    rng = np.random.default_rng(0)
    face = rng.uniform(100.0, 300.0, size=(68, 2))
    face[48], face[54] = (100.0, 200.0), (160.0, 200.0)
    track = np.repeat(face[None], 3, axis=0)
    track[2, 48, 0] -= moved
    track[2, 54, 0] += moved
    return track


# ---------------------------------------------------------------- by hand


def test_region_labels_follow_the_landmark_order():
    assert plots.landmark_regions(features.CLFM_INDICES) == [
        ("brows", 0, 5), ("nose", 6, 8), ("eyes", 9, 16), ("mouth", 17, 20)]
    assert plots.landmark_regions(range(68)) == [
        ("jaw", 0, 16), ("brows", 17, 26), ("nose", 27, 35), ("eyes", 36, 47),
        ("mouth", 48, 67)]


def test_first_frame_maps_and_apex_by_hand():
    track = _track()
    clfm = list(features.CLFM_INDICES)
    i, j = clfm.index(48), clfm.index(54)
    maps = figures.first_frame_maps(track, clfm)
    assert maps.shape == (3, 21, 21)
    np.testing.assert_array_equal(maps[:2], 0)
    # 60 px apart, then 66.
    assert maps[2, i, j] == maps[2, j, i] == pytest.approx(6.0)
    assert figures.apex_frame(track) == 2
    record = records.ClipRecord(
        dataset="synthetic", subject="p1", clip="c1", label=1, label_name="positive",
        variant="clfm", frame_interval=1, fps=25.0, num_filled=0, sfem=0.0,
        maps=features.normalize(features.lfm(track, 1, clfm)), landmarks=track.astype(np.float32))
    view = figures.clip_view(record)
    assert (view.label, view.apex, view.crop) == (1, 2, None)
    # The mouth corners' pair moved apart the most: Eq. 2 maps it to 255.
    assert view.maps["clfm"][i, j] == 255 and view.maps["lfm"][48, 54] == 255
    assert view.displacement.shape == (136,)
    assert (view.displacement[2 * 48], view.displacement[2 * 54]) == (-3.0, 3.0)
    # Face crops stored by `preprocess --crops`: the one nearest the apex is used.
    crops = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
    cropped = dataclasses.replace(record, crops=crops, crop_frames=np.array([0, 1, 1]))
    np.testing.assert_array_equal(figures.clip_view(cropped).crop, crops[1])


def test_class_means_and_neighbour_agreement_by_hand():
    def view(label, value):
        return figures.ClipView(label, 1, {"clfm": np.full((21, 21), value, np.uint8)},
                              np.zeros(136), None)

    means = figures.class_means([view(0, 100), view(0, 200), view(1, 0)], num_classes=3)
    np.testing.assert_array_equal(means["clfm"][:, 0, 0], [150.0, 0.0, 127.0])
    points = np.array([[0, 0], [0, 1], [5, 5], [5, 6], [0, 2]], float)
    # The last point's nearest neighbour is of the other class.
    assert figures.neighbour_agreement(points, np.array([0, 0, 1, 1, 1])) == 0.8


def test_tsne_separates_what_is_separable():
    rng = np.random.default_rng(1)
    views = []
    for k in range(18):
        label = k % 3
        maps = {"clfm": np.clip(60 * label + 40 + rng.normal(0, 3, (21, 21)), 0, 255)
                .astype(np.uint8)}
        crop = np.full((8, 8), 80 * label, np.uint8)
        views.append(figures.ClipView(label, 1, maps, rng.normal(0, 1, 136), crop))
    panels = figures.tsne_panels(views)
    assert [name for name, _, _ in panels] == [
        "face crops at the apex (8x8 px)", "raw landmark displacements (68 x 2, px)",
        "CLFM (21x21, Eq. 1-2)"]
    assert all(points.shape == (18, 2) for _, points, _ in panels)
    assert panels[0][2] == panels[2][2] == 1.0
    with pytest.raises(ValueError, match="t-SNE needs at least 5 clips, got 4"):
        figures.tsne_panels(views[:4])


# ---------------------------------------------------------------- the pictures


def test_clip_picture_of_a_video_shows_face_and_maps():
    png, name = figures.clip_picture(str(assets.asset("single_face.mp4")))
    assert name == "single_face_maps.png"
    image = _image(png)
    # 11 x (5 + 3 rows of 8 maps x 1.25) inches at 100 dpi.
    assert image.shape == (875, 1100, 3)
    # Eq. 2 puts every map's largest increase at 255 (blue) and largest decrease
    # at 0 (red); the CLFM points are green.
    assert _has(image, BLUE) and _has(image, RED) and _has(image, GREEN)
    assert len(png) < 200_000


def test_clip_picture_of_a_tfrecord_clip(tiny_model):
    path = sorted(glob.glob(os.path.join(tiny_model.tfrecords, "*.tfrecord")))[0]
    first = records.read_file(path)[0]
    png, name = figures.clip_picture(path)
    assert name == f"{first.clip}_maps.png"
    image = _image(png)
    assert image.shape == (875, 1100, 3)
    assert _has(image, BLUE) and _has(image, RED) and _has(image, GREEN)
    with pytest.raises(ValueError, match=r"has no clip 'nope'; it has p01_negative_01"):
        figures.clip_picture(path, clip_id="nope")


def test_class_means_and_tsne_pictures_of_a_folder(tiny_model, tmp_path):
    png, name = figures.class_means_picture(os.path.dirname(tiny_model.tfrecords))
    assert name == "class_means_synthetic.png"
    image = _image(png)
    # (2.3 x 3 classes + 1.6) x (2.45 x 2 rows + 0.9) inches at 100 dpi.
    assert image.shape == (580, 850, 3)
    assert _has(image, BLUE) or _has(image, RED)
    png, name = figures.tsne_picture(tiny_model.tfrecords)
    assert name == "tsne_synthetic.png"
    # Displacements, LFM and CLFM: 3.9 x 3 by 4.9 inches.
    assert _image(png).shape == (490, 1170, 3)
    with pytest.raises(FileNotFoundError, match=r"no manifest.json at or under"):
        figures.class_means_picture(str(tmp_path))


def test_confusion_picture_of_a_finished_run(tmp_path):
    classes = list(specs.MEGC_CLASSES)
    pairs = [(0, 0), (0, 1), (1, 1), (1, 1), (2, 2), (2, 0)]
    rows = [{"fold": "p1", "dataset": "synthetic", "subject": "p1", "clip": f"c{k}", "true": t,
             "true_name": classes[t], "predicted": p, "predicted_name": classes[p]}
            for k, (t, p) in enumerate(pairs)]
    setting = {"dataset": "synthetic", "target": "", "protocol": "loso", "variant": "clfm",
               "tag": "T4", "classes": classes, "data": "six clips",
               "folds": {"total": 1, "finished": ["p1"], "missing": []}, "lacking": {},
               "config": {"seed": 0}}
    result = report.write(str(tmp_path), rows, setting)
    assert result["confusion_percent"] == [[50.0, 50.0, 0.0], [0.0, 100.0, 0.0],
                                           [50.0, 0.0, 50.0]]
    png, name = report.confusion_picture(str(tmp_path))
    assert name == f"confusion_{tmp_path.name}.png"
    # (1.2 + 0.9 x 3 classes) + 1.2 by 1.2 + 0.9 x 3 inches.
    assert _image(png).shape == (390, 510, 3)
    with pytest.raises(FileNotFoundError, match=r"no metrics.json in .*: not a finished run"):
        report.confusion_picture(str(tmp_path / "elsewhere"))


def _rendered_clip(folder_root) -> tuple[str, np.ndarray]:
    """12 rendered 200 fps frames (70 px between the eyes, camera noise) with a hand
    over the mouth in frames 6-8: (frame folder, true landmarks)."""
    clip = synthetic.generate(num_subjects=1, clips_per_class=1, fps=200.0, num_frames=12)[0]
    camera = synthetic_render.Camera(eye_distance=70.0)
    truth = synthetic_render.render([clip], str(folder_root), camera=camera)[clip.clip_id]
    folder = os.path.join(folder_root, synthetic_render.RAW_FOLDER, "sub01", clip.clip_id)
    x0, y0 = truth[7, 48:68].min(0).astype(int) - 3
    x1, y1 = truth[7, 48:68].max(0).astype(int) + 3
    for path in list_images(folder)[6:9]:
        frame = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        frame[y0:y1, x0:x1] = 40
        cv2.imwrite(path, frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return folder, truth


def test_track_view_draws_both_tracks_their_reliability_and_motion(tmp_path):
    folder, truth = _rendered_clip(tmp_path)
    view = figures.track_view(folder, fps=200.0)
    # Six frames evenly spaced over the 12, each with its pixels.
    assert view.strip == [0, 2, 4, 7, 9, 11] and view.first == 0
    paths = list_images(folder)
    for k, image in zip(view.strip, view.images):
        np.testing.assert_array_equal(image, cv2.imread(paths[k], cv2.IMREAD_GRAYSCALE))
    assert view.refined.shape == view.tracked.shape == (12, 68, 2) and view.face.all()
    # The flow fails under the hand and nowhere else.
    assert view.reliability[7] < 0.9 and (view.reliability[[0, 2, 4, 9, 11]] == 1).all()
    # What the curves plot: the brows' and mouth corners' motion from frame 0, the
    # refined one within half a pixel of the truth two frames or more from the hand
    # (the 3-frame median reaches one frame further), half the tracked one's error.
    assert view.landmarks == (21, 22, 48, 54)
    true = truth[:, [21, 22, 48, 54]] - truth[0, [21, 22, 48, 54]]
    clear = [0, 1, 2, 3, 4, 10, 11]
    refined = np.linalg.norm(view.motion("refined")[clear] - true[clear], axis=-1)
    tracked = np.linalg.norm(view.motion("tracked")[clear] - true[clear], axis=-1)
    assert refined.max() < 0.5 and refined.mean() < tracked.mean() / 2
    np.testing.assert_allclose(view.motion("tracked"),
                               view.tracked[:, [21, 22, 48, 54]] - view.tracked[0, [21, 22, 48, 54]])

    image = _image(plots.track_png(view))
    assert image.shape == (900, 1200, 3)
    # The strip (left of its colour bar): 68 magenta squares of the tracked fit in
    # each of the six frames, and the refined dots on them, in reliability 1's green
    # in the five clear frames and in frame 7's colour in one frame only.
    strip = image[:300, :1100]
    assert _count_near(strip, plots.TRACKED_COLOUR_RGB, 0) > 6 * 68
    assert _count_near(strip, plots.RELIABILITY_COLOURS(1.0)) > 5 * 68 * 2
    hand = plots.RELIABILITY_COLOURS(float(view.reliability[7]))
    assert _count_near(strip, hand) > 68 * 2
    columns = np.flatnonzero(_near(strip, hand).any(axis=0))
    assert columns.max() - columns.min() < 1100 / 6
    # The curves, one colour per landmark.
    for k in range(4):
        assert _count_near(image, plots._CLASS_COLOURS[k], 0) > 100
    np.save(tmp_path / "track.npy", truth)
    with pytest.raises(ValueError, match="draws landmarks on their frames"):
        figures.track_view(str(tmp_path / "track.npy"), fps=200.0)


# ---------------------------------------------------------------- the command line


def test_command_line_writes_png_and_tensorboard(tiny_model, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "lfm_tf.visualize", "classes",
         f"--tfrecord_dir={os.path.dirname(tiny_model.tfrecords)}", f"--out_dir={tmp_path}",
         f"--logdir={tmp_path / 'tb'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "class_means_synthetic.png"
    assert f"wrote {path}" in done.stdout
    assert _image(path.read_bytes()).shape == (580, 850, 3)
    tags = set()
    for events in glob.glob(str(tmp_path / "tb" / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(events):
            tags.update((v.tag, v.metadata.plugin_data.plugin_name) for v in event.summary.value)
    assert tags == {("class_means_synthetic", "images")}


def test_command_line_draws_a_track(tmp_path):
    folder, _ = _rendered_clip(tmp_path / "clip")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "lfm_tf.visualize", "track", f"--input={folder}", "--fps=200",
         "--last_frame=9", f"--out_dir={tmp_path}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "p01_negative_01_track.png"
    assert f"wrote {path}" in done.stdout
    image = _image(path.read_bytes())
    assert image.shape == (900, 1200, 3)
    # Frames 0-9: the strip shows 0, 2, 4, 5, 7 and 9, frame 7 under the hand.
    assert _count_near(image[:300, :1100], plots.RELIABILITY_COLOURS(1.0)) > 5 * 68 * 2
