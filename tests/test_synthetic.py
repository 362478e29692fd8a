"""Tests of the synthetic dataset: determinism, counts, intensity, class signal and
rendering to real pixels in the CASME II layout."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import openpyxl
import pytest

from lfm_tf import datasets, features
from lfm_tf.datasets import specs, synthetic, synthetic_render
from lfm_tf.datasets.base import find_header_row, frame_number, list_images
from lfm_tf.landmarks import LandmarkExtractor, LandmarkSettings


def _peak_motion(clip) -> float:
    """Largest move of any landmark away from its place in the first frame, px."""
    return float(np.linalg.norm(clip.landmarks - clip.landmarks[0], axis=-1).max())


def _apex_map(clip, normalized: bool) -> np.ndarray:
    """The 68x68 map from onset to apex (Eq. 1, one step), normalized by Eq. 2 or raw."""
    track = clip.landmarks[[clip.onset - 1, clip.apex - 1]]
    raw = features.lfm(track, 1)[0]
    return features.normalize(raw) if normalized else raw


def test_same_seed_same_clips_other_seed_other_clips():
    a = synthetic.generate(num_subjects=2, clips_per_class=2, seed=3)
    b = synthetic.generate(num_subjects=2, clips_per_class=2, seed=3)
    c = synthetic.generate(num_subjects=2, clips_per_class=2, seed=4)
    assert a == b  # ids, labels, timing and AU codes (landmarks are not compared)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x.landmarks, y.landmarks)
        assert x.landmarks.shape != z.landmarks.shape or not np.allclose(x.landmarks, z.landmarks)
    assert [x.action_units for x in a] != [z.action_units for z in c]


def test_a_subjects_clips_do_not_depend_on_how_many_are_asked_for():
    small = synthetic.generate(num_subjects=2, clips_per_class=1)
    large = {c.clip_id: c for c in synthetic.generate(num_subjects=3, clips_per_class=2)}
    for clip in small:
        np.testing.assert_array_equal(clip.landmarks, large[clip.clip_id].landmarks)


def test_counts_ids_labels_and_timing():
    clips = synthetic.generate(num_subjects=5, clips_per_class=3, classes="ckplus",
                               fps=100.0, num_frames=(30, 40))
    assert len(clips) == 5 * 7 * 3
    assert [(c.subject, c.clip_id) for c in clips] == sorted((c.subject, c.clip_id) for c in clips)
    assert {c.clip_id for c in clips} == {
        f"p{s:02d}_{label}_{k:02d}" for s in range(1, 6) for label in specs.CKPLUS_CLASSES
        for k in (1, 2, 3)}
    for label in specs.CKPLUS_CLASSES:
        assert sum(c.label == label for c in clips) == 15
    for clip in clips:
        n = clip.num_frames
        assert clip.dataset == "synthetic" and clip.fps == 100.0 and clip.intensity == "micro"
        assert clip.landmarks.dtype == np.float32 and clip.landmarks.shape == (n, 68, 2)
        assert 30 <= n <= 40
        # 1-based frame numbers; frame 1 is neutral; micro-expressions last < 0.5 s.
        assert 1 < clip.onset < clip.apex < clip.offset <= n
        assert (clip.offset - clip.onset) / clip.fps < 0.5
        # On a 640x480 frame, face 200-250 px from ear to ear.
        assert (clip.landmarks >= 0).all() and (clip.landmarks < (640, 480)).all()
        assert 195 < np.linalg.norm(clip.landmarks[0, 16] - clip.landmarks[0, 0]) < 260
    # Contempt is one-sided: every AU of the clip on the same side, AU14 among them.
    for code in (c.action_units.split("+") for c in clips if c.label == "contempt"):
        assert len({au[0] for au in code}) == 1 and code[0][0] in "RL"
        assert code[0][0] + "14" in code


def test_read_is_the_registry_entry():
    result = datasets.read("synthetic")
    assert result.spec == specs.SPECS["synthetic"]
    assert result.class_counts() == {"negative": 32, "positive": 32, "surprise": 32}
    assert result.subjects() == [f"p{s:02d}" for s in range(1, 9)]
    assert all(c.landmarks is not None and not c.frames for c in result.clips)
    assert result.skipped == []

    ck = synthetic.read(None, classes="ckplus", fps=30.0, num_subjects=1, clips_per_class=1,
                        num_frames=20)
    assert ck.spec.classes == specs.CKPLUS_CLASSES
    assert ck.spec.fps == 30.0 and ck.spec.frame_interval == 1
    assert [c.label for c in ck.clips] == sorted(specs.CKPLUS_CLASSES)


def test_peak_displacement_of_micro_and_macro_expressions():
    # Without noise and drift, what moves is the expression alone.
    still = {"noise_px": 0.0, "drift_px": 0.0}
    micro = [_peak_motion(c) for c in synthetic.generate(intensity="micro", **still)]
    macro = [_peak_motion(c) for c in synthetic.generate(intensity="macro", **still)]
    print(f"peak displacement: micro {min(micro):.2f}-{max(micro):.2f} px, "
          f"macro {min(macro):.2f}-{max(macro):.2f} px")
    assert 1.0 <= min(micro) and max(micro) <= 3.0 and max(micro) - min(micro) > 1.5
    assert 10.0 <= min(macro) and max(macro) <= 20.0 and max(macro) - min(macro) > 8.0


def test_noise_and_head_drift_have_the_documented_size():
    # The same seed draws the same random numbers whatever the noise and drift
    # sizes, so the differences between these tracks are the noise and the drift.
    plain = synthetic.generate(num_subjects=2, clips_per_class=2, noise_px=0.0, drift_px=0.0)
    noisy = synthetic.generate(num_subjects=2, clips_per_class=2, drift_px=0.0)
    drifting = synthetic.generate(num_subjects=2, clips_per_class=2, noise_px=0.0)
    noise = np.concatenate([(n.landmarks - p.landmarks).ravel() for n, p in zip(noisy, plain)])
    drift = [np.linalg.norm(d.landmarks - p.landmarks, axis=-1).max()
             for d, p in zip(drifting, plain)]
    print(f"noise std {noise.std():.3f} px, head drift {min(drift):.2f}-{max(drift):.2f} px")
    assert noise.std() == pytest.approx(synthetic.NOISE_PX, rel=0.03)
    assert abs(noise.mean()) < 0.01
    assert 0.5 < np.mean(drift) and max(drift) < 3 * synthetic.DRIFT_PX
    for d, p in zip(drifting, plain):
        assert np.array_equal(d.landmarks[0], p.landmarks[0])  # drift starts at 0


def test_sfem_of_macro_clips_is_far_above_micro_ones():
    interval = features.frame_interval_for_fps(100.0)
    clips = synthetic.generate(intensity="mixed")
    values = {"micro": [], "macro": []}
    for clip in clips:
        values[clip.intensity].append(features.sfem(clip.landmarks, interval))
    micro, macro = np.mean(values["micro"]), np.mean(values["macro"])
    print(f"SFEM (T={interval}): micro {micro:.3f} ({len(values['micro'])} clips), "
          f"macro {macro:.3f} ({len(values['macro'])} clips)")
    assert 30 < len(values["micro"]) < 66
    # Over all 68 landmarks, 30-40 frames at 100 fps (T = 4) put both far above the
    # paper's tau = 0.35, which was tuned on CK+ clips of ~18 frames at T = 1
    # (README, Table 8: SFEM grows with the number of maps); the gap remains, and a
    # threshold between the means (here 4.9) separates them.
    assert 0.35 < micro and macro > 2.5 * micro
    threshold = np.sqrt(micro * macro)
    assert np.mean(np.array(values["micro"]) < threshold) > 0.8
    assert np.mean(np.array(values["macro"]) > threshold) > 0.8


def test_each_class_moves_its_own_landmarks():
    clips = synthetic.generate()

    def mean_change(label: str, i: int, j: int) -> float:
        return float(np.mean([_apex_map(c, normalized=False)[i, j]
                              for c in clips if c.label == label]))

    corners = {k: mean_change(k, 48, 54) for k in specs.MEGC_CLASSES}
    brow_eye = {k: (mean_change(k, 19, 37) + mean_change(k, 24, 44)) / 2
                for k in specs.MEGC_CLASSES}
    inner_brows = {k: mean_change(k, 21, 22) for k in specs.MEGC_CLASSES}
    for name, change in (("mouth corners", corners), ("brow-upper lid", brow_eye),
                         ("inner brows", inner_brows)):
        print(f"onset->apex change of {name}, px: "
              + ", ".join(f"{k} {v:+.2f}" for k, v in change.items()))
    # AU12 pulls the mouth corners apart.
    assert corners["positive"] > 1.5
    assert corners["positive"] > 2 * max(corners["negative"], corners["surprise"])
    # AU1+2 raise the brows away from the eyes.
    assert brow_eye["surprise"] > 0.5
    assert brow_eye["surprise"] > max(brow_eye["negative"], brow_eye["positive"]) + 0.5
    # AU4 draws the brows together.
    assert inner_brows["negative"] < -1.0
    assert min(inner_brows["positive"], inner_brows["surprise"]) > -0.5


@pytest.mark.parametrize("classes, least", [("megc", 0.8), ("ckplus", 0.6)])
def test_nearest_class_mean_beats_chance_on_held_out_subjects(classes, least):
    clips = synthetic.generate(classes=classes)
    names = synthetic.CLASS_SETS[classes]
    maps = {c.clip_id: _apex_map(c, normalized=True)[np.ix_(features.CLFM_INDICES,
                                                            features.CLFM_INDICES)]
            .astype(float).ravel() for c in clips}
    correct = []
    for subject in sorted({c.subject for c in clips}):
        train = [c for c in clips if c.subject != subject]
        means = np.stack([np.mean([maps[c.clip_id] for c in train if c.label == k], axis=0)
                          for k in names])
        for clip in (c for c in clips if c.subject == subject):
            guess = names[int(np.argmin(((means - maps[clip.clip_id]) ** 2).sum(axis=1)))]
            correct.append(guess == clip.label)
    accuracy = float(np.mean(correct))
    print(f"{classes}: nearest-class-mean LOSO accuracy on apex CLFMs {accuracy:.3f} "
          f"(chance {1 / len(names):.3f})")
    assert accuracy >= least


def test_render_writes_the_casme2_layout_and_dlib_recovers_the_motion(tmp_path):
    clips = synthetic.generate(num_subjects=2, clips_per_class=1, num_frames=20)[:3]
    synthetic_render.photo()  # dlib's first look at the photo is not rendering time
    start = time.perf_counter()
    truth = synthetic_render.render(clips, str(tmp_path))
    per_frame = (time.perf_counter() - start) / sum(c.num_frames for c in clips)

    image, anchor = synthetic_render.photo()
    extractor = LandmarkExtractor(LandmarkSettings())
    errors = []
    for clip in clips:
        folder = tmp_path / "CASME2_RAW_selected" / f"sub{clip.subject[1:]}" / clip.clip_id
        paths = list_images(str(folder))
        assert [os.path.basename(p) for p in paths] == [
            f"img{synthetic_render.FIRST_FRAME + i}.jpg" for i in range(clip.num_frames)]
        frames = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in paths]
        assert all(f.shape == (480, 640) and f.dtype == np.uint8 for f in frames)
        true = truth[clip.clip_id]
        assert true.shape == (clip.num_frames, 68, 2)
        np.testing.assert_allclose(true[0], anchor, atol=1e-3)  # frame 1 is the photo
        found = extractor.track(frames).landmarks
        errors.append(np.linalg.norm((found - found[0]) - (true - true[0]), axis=-1))
    error = np.concatenate(errors)
    print(f"render {per_frame * 1000:.1f} ms/frame; dlib-recovered motion vs true motion: "
          f"mean error {error.mean():.2f} px, 95th percentile {np.percentile(error, 95):.2f} px")
    assert error.mean() < 1.0
    assert per_frame < 0.1

    book = openpyxl.load_workbook(tmp_path / synthetic_render.CODING_FILE)
    rows = list(book.active.iter_rows(values_only=True))
    header = find_header_row(rows)
    assert rows[header] == synthetic_render.CODING_HEADER
    offset = synthetic_render.FIRST_FRAME - 1
    assert rows[header + 1:] == [
        (int(c.subject[1:]), c.clip_id, None, c.onset + offset, c.apex + offset,
         c.offset + offset, None,
         int(c.action_units) if c.action_units.isdigit() else c.action_units,
         synthetic_render.CASME2_EMOTIONS[c.label])
        for c in clips]


def test_a_camera_of_more_pixels_renders_the_photo_at_its_size(tmp_path):
    clip = synthetic.generate(num_subjects=1, clips_per_class=1, num_frames=12)[0]
    camera = synthetic_render.Camera(frame_size=(960, 720))
    true = synthetic_render.render([clip], str(tmp_path), camera=camera)[clip.clip_id]
    folder = tmp_path / "CASME2_RAW_selected" / "sub01" / clip.clip_id
    frames = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in list_images(str(folder))]
    assert len(frames) == 12 and all(f.shape == (720, 960) for f in frames)
    # The face is 1.5 times as wide as at 640x480 (720 / 480 rows), found by dlib
    # in the photo taken at that size, and moves 1.5 times as far.
    small = synthetic_render.photo()[1]
    big = synthetic_render.photo((960, 720))[1]
    np.testing.assert_allclose(true[0], big, atol=1e-3)
    width = np.linalg.norm(big[16] - big[0])
    assert width == pytest.approx(1.5 * synthetic_render.RENDER_FACE_WIDTH, rel=0.03)
    assert width == pytest.approx(1.5 * np.linalg.norm(small[16] - small[0]), rel=0.03)
    plain = synthetic_render.render([clip], str(tmp_path / "plain"))[clip.clip_id]
    np.testing.assert_allclose(true - true[0], 1.5 * (plain - plain[0]), atol=0.05)
    # Pixels of the camera's own: the noise at the full size (neighbours differ by
    # 1.7 grey levels in the corner, measured), not a 640x480 frame's upscaled (1.0).
    assert np.abs(np.diff(frames[0][:40, :40].astype(int), axis=1)).mean() > 1.4
    with pytest.raises(ValueError, match="not both"):
        synthetic_render.Camera(eye_distance=70, frame_size=(960, 720))
    with pytest.raises(ValueError, match="smaller than frames"):
        synthetic_render.photo((4000, 1088))


def test_read_render_points_the_clips_at_their_frames(tmp_path):
    rendered = synthetic.read(str(tmp_path), num_subjects=2, clips_per_class=1,
                              num_frames=12, render=True)
    generated = synthetic.generate(num_subjects=2, clips_per_class=1, num_frames=12)
    assert rendered.spec == specs.SPECS["synthetic"]
    assert [c.clip_id for c in rendered.clips] == [c.clip_id for c in generated]
    shift = synthetic_render.FIRST_FRAME - 1
    for clip, plain in zip(rendered.clips, generated):
        assert clip.landmarks is None and len(clip.frames) == 12
        assert all(os.path.isfile(p) for p in clip.frames)
        assert [frame_number(p) for p in clip.frames] == list(range(shift + 1, shift + 13))
        # Annotated frames are the numbers in the file names, as in CASME II.
        assert (clip.onset, clip.apex, clip.offset) == (plain.onset + shift,
                                                        plain.apex + shift,
                                                        plain.offset + shift)
        assert clip.label == plain.label and clip.action_units == plain.action_units


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="class set"):
        synthetic.generate(classes="smic")
    with pytest.raises(ValueError, match="intensity"):
        synthetic.generate(intensity="huge")
    with pytest.raises(ValueError, match="num_frames"):
        synthetic.generate(num_frames=5)
    with pytest.raises(ValueError, match="no room"):
        synthetic.generate(fps=8.0, num_frames=20)
    with pytest.raises(ValueError, match="data_dir"):
        synthetic.read(None, render=True)
