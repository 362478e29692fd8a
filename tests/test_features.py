"""Eq. 1-3, the CLFM index set and window selection, checked against values worked
out by hand."""

import numpy as np
import pytest

from lfm_tf import features


def _face(points: dict[int, tuple[float, float]], frames: int = 1) -> np.ndarray:
    """A (frames, 68, 2) track: all landmarks at (50, 50) except those given."""
    track = np.full((frames, 68, 2), 50.0)
    for k, xy in points.items():
        track[:, k] = xy
    return track


def _toy_track() -> np.ndarray:
    """Three landmarks (0, 1, 2) forming a 3-4-5 triangle that doubles, then shrinks back.

    Distances: frame 0 (3, 4, 5), frame 1 (6, 8, 10), frame 2 = frame 0.
    """
    track = _face({0: (0, 0), 1: (3, 0), 2: (0, 4)}, frames=3)
    track[1, 1] = (6, 0)
    track[1, 2] = (0, 8)
    return track


def test_lfm_of_toy_face_by_hand():
    maps = features.lfm(_toy_track(), frame_interval=1, indices=[0, 1, 2])
    assert maps.dtype == np.float32
    assert maps.shape == (2, 3, 3)
    grow = [[0, 3, 4], [3, 0, 5], [4, 5, 0]]
    np.testing.assert_allclose(maps[0], grow, atol=1e-6)
    np.testing.assert_allclose(maps[1], -np.array(grow), atol=1e-6)


def test_lfm_frame_interval_compares_frames_t_apart():
    maps = features.lfm(_toy_track(), frame_interval=2, indices=[0, 1, 2])
    assert maps.shape == (1, 3, 3)
    np.testing.assert_allclose(maps[0], 0.0, atol=1e-6)  # frame 2 equals frame 0


def test_lfm_defaults_to_all_68_and_is_symmetric_with_zero_diagonal():
    rng = np.random.default_rng(0)
    track = rng.uniform(100, 400, size=(6, 68, 2))
    maps = features.lfm(track, frame_interval=2)
    assert maps.shape == (4, 68, 68)
    np.testing.assert_allclose(maps, np.swapaxes(maps, 1, 2), atol=1e-5)
    np.testing.assert_array_equal(np.diagonal(maps, axis1=1, axis2=2), 0)
    # Entry (5, 40) of the second map, straight from Eq. 1.
    d = lambda n: np.linalg.norm(track[n, 5] - track[n, 40])  # noqa: E731
    assert maps[1, 5, 40] == pytest.approx(d(3) - d(1), abs=1e-4)


def test_lfm_keeps_subpixel_motion_on_large_coordinates():
    track = _face({0: (1000.0, 1000.0), 1: (1300.0, 1000.0)}, frames=2)
    track[1, 1, 0] += 0.01
    assert features.lfm(track, 1, [0, 1])[0, 0, 1] == pytest.approx(0.01, rel=1e-3)


def test_normalize_by_hand():
    # max 2 -> 255; min -8 -> -1 -> clipped to 0; 0 -> 127;
    # 0.5 -> 128 * sqrt(0.25) + 127 = 191; -2 -> -128 * sqrt(0.25) + 127 = 63.
    x = np.array([[2.0, -8.0, 0.0], [0.5, -2.0, 0.0], [0.0, 0.0, 0.0]])
    expected = [[255, 0, 127], [191, 63, 127], [127, 127, 127]]
    out = features.normalize(x)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)


def test_normalize_toy_maps_by_hand():
    maps = features.lfm(_toy_track(), 1, [0, 1, 2])
    out = features.normalize(maps)
    # 3 -> 128 * sqrt(3/5) + 127 = 226.15; 4 -> 241.49; 5 -> 255.
    np.testing.assert_array_equal(out[0], [[127, 226, 241], [226, 127, 255], [241, 255, 127]])
    # -3 -> 27.85; -4 -> 12.51; -5 -> -1 -> 0.
    np.testing.assert_array_equal(out[1], [[127, 28, 13], [28, 127, 0], [13, 0, 127]])


def test_normalize_is_per_map_and_strength_invariant():
    maps = features.lfm(_toy_track(), 1, [0, 1, 2])
    np.testing.assert_array_equal(features.normalize(maps * 0.01), features.normalize(maps))
    stacked = np.stack([maps[0], 10 * maps[0]])
    out = features.normalize(stacked)
    np.testing.assert_array_equal(out[0], out[1])


def test_normalize_edge_cases():
    np.testing.assert_array_equal(features.normalize(np.zeros((2, 4, 4))), 127)
    only_pos = np.array([[0.0, 1.0], [4.0, 0.0]])
    np.testing.assert_array_equal(features.normalize(only_pos), [[127, 191], [255, 127]])
    only_neg = -only_pos
    np.testing.assert_array_equal(features.normalize(only_neg), [[127, 63], [0, 127]])
    with pytest.raises(ValueError, match="NaN"):
        features.normalize(np.array([[np.nan, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="shape"):
        features.normalize(np.zeros((3, 4)))


def test_clfm_indices_follow_the_papers_rule():
    idx = features.CLFM_INDICES
    assert len(idx) == 21 and list(idx) == sorted(set(idx))
    paper_19 = [18, 20, 22, 23, 25, 27, 32, 34, 36, 37, 39, 40, 41, 43, 44, 46, 48, 49, 58]
    assert set(k - 1 for k in paper_19) < set(idx)
    assert set(idx) - set(k - 1 for k in paper_19) == {51, 54}  # 1-based 52 and 55
    per_region = {name: sum(k in r for k in idx) for name, r in features.LANDMARK_REGIONS.items()}
    assert per_region == {"jaw": 0, "brows": 6, "nose": 3, "eyes": 8, "mouth": 4}
    assert features.variant_indices("lfm") == tuple(range(68))
    with pytest.raises(ValueError, match="unknown variant"):
        features.variant_indices("vgg")


def test_frame_interval_matches_the_papers_settings():
    assert [features.frame_interval_for_fps(f) for f in (100, 200, 30, 25, 60)] == [4, 8, 1, 1, 2]
    with pytest.raises(ValueError):
        features.frame_interval_for_fps(0)


def test_sfem_by_hand():
    # Face width ||p1 - p17|| is 100 then 110 px, nose ||p28 - p34|| 50 px: mean size
    # (5000 + 5500) / 2 = 5250. On landmarks {0, 16}, |LFM| sums to 2 * 10 = 20.
    track = _face({0: (0, 0), 16: (100, 0), 27: (50, 0), 33: (50, 50)}, frames=2)
    track[1, 16] = (110, 0)
    assert features.sfem(track, 1, indices=[0, 16]) == pytest.approx(20 / 5250)


def test_sfem_is_zero_for_a_still_face_and_grows_with_motion():
    rng = np.random.default_rng(1)
    face = rng.uniform(200, 400, size=(68, 2))
    face[0], face[16], face[27], face[33] = (150, 300), (450, 300), (300, 250), (300, 330)
    still = np.repeat(face[None], 10, axis=0)
    assert features.sfem(still, 2) == 0.0
    assert features.sfem(still, 2, form="scaled") == 0.0
    assert features.sfem(still, 2, form="peak") == 0.0
    values = []
    for amplitude in (1.0, 3.0, 15.0):
        moving = still.copy()
        moving[:, 48:68, 1] += amplitude * np.sin(np.linspace(0, np.pi, 10))[:, None]
        values.append(features.sfem(moving, 2))
    assert 0 < values[0] < values[1] < values[2]
    assert values[2] / values[0] == pytest.approx(15.0, rel=0.05)


def test_sfem_sums_over_all_68_landmarks_by_hand():
    # p1 (0, 0), p17 (100, 0): width 100; p28 (50, -50), p34 (50, 0): nose 50; size
    # 5000. The other 64 landmarks sit on p34. Three mouth landmarks (0-based 48,
    # 51, 54) move 120 px down together. Each of them changes its distance by 120
    # to the 62 points still at (50, 0) and to p28 (50 -> 170), by 130 - 50 = 80 to
    # p1 and to p17 (sqrt(50^2 + 120^2) = 130), and by 0 to the other two movers:
    # 63 * 120 + 2 * 80 = 7720 each, both orders of every pair: 2 * 3 * 7720.
    face = np.tile(np.array([50.0, 0.0]), (68, 1))
    face[0], face[16], face[27] = (0, 0), (100, 0), (50, -50)
    track = np.stack([face, face])
    track[1, [48, 51, 54]] = (50, 120)
    assert features.sfem(track, 1) == pytest.approx(2 * 3 * 7720 / 5000)  # 9.264
    # The 21 CLFM landmarks hold the three movers (1-based 49, 52, 55) but none of
    # p1, p17, p28: 3 movers * 18 still CLFM points at (50, 0) * 120 px, both orders.
    assert features.sfem(track, 1, features.CLFM_INDICES) == pytest.approx(
        2 * 3 * 18 * 120 / 5000)  # 2.592


def test_sfem_as_printed_is_not_scale_invariant_and_the_scaled_form_is():
    rng = np.random.default_rng(2)
    track = rng.uniform(100, 300, size=(5, 68, 2))
    assert features.sfem(2 * track, 1) == pytest.approx(features.sfem(track, 1) / 2)
    # One expression (a smile: mouth corners out and up) on a 220-px and a 440-px
    # face: the scaled form gives the same value, within 5%.
    face = np.zeros((68, 2))
    face[:17, 0] = np.linspace(-110, 110, 17)  # jaw, ear to ear
    face[27:36] = (0, -40) + np.linspace(0, 1, 9)[:, None] * (0, 75)  # nose, 75 px
    face[48:68] = np.stack([np.cos(np.linspace(0, 2 * np.pi, 20)) * 30,
                            60 + np.sin(np.linspace(0, 2 * np.pi, 20)) * 10], axis=1)
    smile = np.repeat(face[None], 8, axis=0)
    smile[:, [48, 54]] += np.linspace(0, 1, 8)[:, None, None] * [[-4, -3], [4, -3]]
    small, large = (features.sfem(k * smile + (320, 240), 1, form="scaled") for k in (1, 2))
    assert small > 0 and large == pytest.approx(small, rel=0.05)
    # On a face of the reference size the two forms agree.
    size = features.face_size(smile).mean()
    assert features.sfem(smile, 1, form="scaled", reference_face_size=size) == pytest.approx(
        features.sfem(smile, 1))
    with pytest.raises(ValueError, match="unknown SFEM form"):
        features.sfem(smile, 1, form="per_frame")
    # The peak form is resolution-independent too.
    small, large = (features.sfem(k * smile + (320, 240), 1, form="peak") for k in (1, 2))
    assert small > 0 and large == pytest.approx(small, rel=1e-9)


def test_sfem_peak_form_by_hand():
    # The face of the test above: size 5000 px^2, 64 landmarks on p34 (50, 0). The
    # three mouth landmarks go down 60, 120, then back to 60 px. Against frame 0, a
    # mover changes its distance by d to the 62 points at (50, 0) and to p28, and by
    # sqrt(50^2 + d^2) - 50 to p1 and p17: frame 2 (d = 120) is the peak, with
    # 2 * 3 * (63 * 120 + 2 * 80) = 46320, the same as Eq. 3 on frames 0 and 2.
    face = np.tile(np.array([50.0, 0.0]), (68, 1))
    face[0], face[16], face[27] = (0, 0), (100, 0), (50, -50)
    track = np.stack([face] * 4)
    for k, down in ((1, 60), (2, 120), (3, 60)):
        track[k, [48, 51, 54]] = (50, down)
    assert features.sfem(track, 1, form="peak", reference_face_size=5000) == pytest.approx(
        46320 / 5000)  # 9.264
    # T = 3 compares frame 3 (d = 60) with frame 0 only: sqrt(6100) - 50 = 28.102 px.
    assert features.sfem(track, 3, form="peak", reference_face_size=5000) == pytest.approx(
        6 * (63 * 60 + 2 * (np.sqrt(6100) - 50)) / 5000)  # 4.603
    # On CK+'s face size the distances grow by sqrt(17800 / 5000), the size by its square.
    assert features.sfem(track, 1, form="peak") == pytest.approx(
        46320 / 5000 * np.sqrt(5000 / 17800))
    # Eq. 3 as printed sums the three steps instead: 60 each to the 63 points, and
    # to p1 and p17 sqrt(6100) - 50, then 130 - sqrt(6100) twice: 13.925.
    assert features.sfem(track, 1) == pytest.approx(
        6 * (63 * 180 + 2 * (np.sqrt(6100) - 50 + 2 * (130 - np.sqrt(6100)))) / 5000)
    assert features.sfem(track, 1, [0, 16, 48], form="peak", reference_face_size=5000) == (
        pytest.approx(2 * 2 * 80 / 5000))  # indices= as for the other forms


def _smile_face() -> np.ndarray:
    """A frontal face 220 px between the ears with a 75-px nose (size 16500 px^2)."""
    face = np.zeros((68, 2))
    face[:17] = np.stack([np.linspace(-110, 110, 17), np.linspace(-1, 1, 17) ** 2 * -90 + 90],
                         axis=1)
    face[17:27] = np.stack([np.linspace(-90, 90, 10), np.full(10, -55.0)], axis=1)
    face[27:36] = (0, -40) + np.linspace(0, 1, 9)[:, None] * (0, 75)
    face[36:48] = np.stack([np.r_[np.linspace(-70, -20, 6), np.linspace(20, 70, 6)],
                            np.full(12, -35.0)], axis=1)
    face[48:68] = np.stack([np.cos(np.linspace(0, 2 * np.pi, 20)) * 30,
                            60 + np.sin(np.linspace(0, 2 * np.pi, 20)) * 10], axis=1)
    return face + (320, 240)


def _smile(fps: float, seconds: float, start: float = 0.1) -> np.ndarray:
    """A smile (mouth corners 8 px out and 6 px up, raised cosine up over 0.3 s and
    straight back down over 0.3 s) from `start` s into a still window of `seconds`,
    sampled at `fps`, without noise."""
    t = np.arange(int(round(seconds * fps))) / fps
    apex = start + 0.3
    envelope = np.where(t < apex, 0.5 - 0.5 * np.cos(np.pi * np.clip((t - start) / 0.3, 0, 1)),
                        0.5 + 0.5 * np.cos(np.pi * np.clip((t - apex) / 0.3, 0, 1)))
    track = np.repeat(_smile_face()[None], len(t), axis=0)
    track[:, [48, 54]] += envelope[:, None, None] * [[-8, -6], [8, -6]]
    return track


def test_sfem_peak_form_is_the_same_at_any_frame_rate_and_window_length():
    # One smile at 30 fps (T = 1) and 200 fps (T = 8, frames 25 Hz apart), in windows
    # of 0.8 s (the smile and 0.1 s either side) and 3 s. Its apex at t = 0.4 s is a
    # sample at 30 fps (frame 12) and at 25 Hz (frame 80 = 10 T): equal to 1e-9.
    values = {(fps, seconds): features.sfem(
        _smile(fps, seconds), features.frame_interval_for_fps(fps), form="peak")
        for fps in (30.0, 200.0) for seconds in (0.8, 3.0)}
    assert values[30.0, 0.8] == pytest.approx(0.1221, abs=1e-4)  # two corners 10 px: pinned
    for value in values.values():
        assert value == pytest.approx(values[30.0, 0.8], rel=1e-9)
    # An apex between the samples: 10 ms later, the 25 Hz samples fall 10 and 30 ms
    # from it, where the raised cosine is cos^2(pi / 2 * 10 / 300) = 0.9973 of the
    # apex: the value is within 0.3% (we state 1%).
    late = features.sfem(_smile(200.0, 3.0, start=0.11), 8, form="peak")
    assert late < values[30.0, 0.8] and late == pytest.approx(values[30.0, 0.8], rel=0.01)
    # Eq. 3 summed over maps counts each motion T = 8 times at 200 fps.
    scaled = {fps: features.sfem(_smile(fps, 0.8), features.frame_interval_for_fps(fps),
                                 form="scaled") for fps in (30.0, 200.0)}
    assert scaled[200.0] / scaled[30.0] == pytest.approx(8, rel=0.05)


def test_sfem_peak_form_of_a_still_face_is_its_jitter_once_whatever_the_window():
    # 0.2 px of jitter: Eq. 3 grows with every map, the peak form stays near one
    # map's worth of jitter (0.09 on this face; benchmarks.sfem_windows: 0.09-0.10
    # on 30 faces from 12 to 666 frames at 30-200 fps).
    rng = np.random.default_rng(3)
    face = _smile_face()
    peak, scaled = {}, {}
    for fps, frames in ((30.0, 12), (30.0, 100), (200.0, 80), (200.0, 666)):
        track = face + rng.normal(0.0, 0.2, (frames, 68, 2))
        interval = features.frame_interval_for_fps(fps)
        peak[fps, frames] = features.sfem(track, interval, form="peak")
        scaled[fps, frames] = features.sfem(track, interval, form="scaled")
    assert all(0.05 < v < 0.15 for v in peak.values())
    assert max(peak.values()) / min(peak.values()) < 1.3
    assert scaled[30.0, 100] / scaled[30.0, 12] > 7  # 99 maps against 11
    assert min(scaled.values()) > 0.35  # even 12 frames of jitter alone pass tau


def _open_eyed_face() -> np.ndarray:
    """`_smile_face` with open eyes: corners 40 px apart, lids 10 px apart, so each
    eye's aspect ratio is (10 + 10) / (2 * 40) = 0.25."""
    face = _smile_face()
    for side in (-1, 1):
        outer, upper, inner, lower = (36, (37, 38), 39, (41, 40)) if side < 0 else (
            45, (44, 43), 42, (46, 47))
        face[outer] = (320 + side * 70, 205)
        face[inner] = (320 + side * 30, 205)
        face[list(upper)] = [(320 + side * 60, 200), (320 + side * 40, 200)]
        face[list(lower)] = [(320 + side * 60, 210), (320 + side * 40, 210)]
    return face


def test_eye_openness_by_hand():
    face = _open_eyed_face()
    closed = face.copy()
    closed[[37, 38, 43, 44], 1] = 210
    half = face.copy()
    half[[37, 38, 43, 44], 1] = 205
    np.testing.assert_allclose(features.eye_openness(np.stack([face, half, closed])),
                               [0.25, 0.125, 0.0])
    # Eye corners that coincide give no ratio.
    assert np.isnan(features.eye_openness(_smile_face()[None] * 0)).all()


def _zoom(track: np.ndarray, percent_per_s: float, fps: float) -> np.ndarray:
    growth = (1 + percent_per_s / 100) ** (np.arange(len(track)) / fps)
    return (track - (320, 240)) * growth[:, None, None] + (320, 240)


def test_sfem_peak_form_removes_the_heads_scale_change():
    # A still face coming 5% closer over 1 s (30 fps) changes every distance by up
    # to 5%: without the removal that is 0.05 * sum_ij d_ij(0) over the face size
    # (about 1, as much as a smile); with it, the median ratio is each frame's zoom
    # exactly and nothing is left.
    still = _zoom(np.repeat(_smile_face()[None], 31, axis=0), 5.0, 30.0)
    dist = np.linalg.norm(still[0][:, None] - still[0][None], axis=-1)
    assert features.sfem(still, 1, form="peak", scale_change="none") == pytest.approx(
        0.05 * dist.sum() / np.sqrt(features.REFERENCE_FACE_SIZE * features.face_size(
            still).mean()), rel=1e-9)
    assert features.sfem(still, 1, form="peak") < 1e-9
    assert features.sfem(still, 1, form="peak", scale_change="similarity") < 1e-4
    # The smile of the tests above (0.1221) zoomed by 10% a second: only the 133 of
    # 2278 pairs that hold a mouth corner change by more than the zoom, so the
    # median ratio is the zoom itself and the value is unchanged.
    smile = _smile(30.0, 0.8)
    zoomed = _zoom(smile, 10.0, 30.0)
    assert features.sfem(zoomed, 1, form="peak") == pytest.approx(
        features.sfem(smile, 1, form="peak"), rel=1e-9)
    assert features.sfem(zoomed, 1, form="peak", scale_change="none") > 2 * features.sfem(
        smile, 1, form="peak")
    with pytest.raises(ValueError, match="unknown scale change"):
        features.sfem(smile, 1, form="peak", scale_change="eye_corners")


def test_sfem_peak_form_skips_blinks():
    # A full blink at 30 fps: the upper lids come down 10 px to the lower ones over 2
    # frames and go back up over 3. Its frames (openness 0.125, 0, 0, 0.083, 0.167,
    # below 0.7 x the median 0.25) are skipped, so a still face scores 0.
    face = _open_eyed_face()
    blink = np.repeat(face[None], 30, axis=0)
    blink[5:10, [37, 38, 43, 44], 1] += np.array([5.0, 10, 10, 20 / 3, 10 / 3])[:, None]
    assert features.sfem(blink, 1, form="peak") == 0.0
    counted = features.sfem(blink, 1, form="peak", blink_openness=None)
    assert counted > 0.2  # four lid points 10 px: half a micro-expression's tau
    # A window that opens mid-blink is compared with its first open-eyed frame.
    assert features.sfem(blink[7:], 1, form="peak") == 0.0
    # A smile (0.1221, mouth only) with a blink on its rise keeps its value: its apex
    # (frame 12) is not a blink frame.
    smile = _smile(30.0, 0.8)
    smile[:, 36:48] = face[36:48]
    reference = features.sfem(smile, 1, form="peak")
    smile[5:10, [37, 38, 43, 44], 1] += np.array([5.0, 10, 10, 20 / 3, 10 / 3])[:, None]
    assert features.sfem(smile, 1, form="peak") == pytest.approx(reference, rel=1e-12)


def test_sfem_peak_form_skips_eyes_shut_for_most_of_the_window(monkeypatch):
    # Issue 10: the lids close over 2 frames from frame 5, stay shut for 20 frames and
    # reopen over 3: 23 of 30 frames (openness 0.125, 0 x 20, 0.083, 0.167) below 0.7
    # of the open level 0.25, only 7 open. The window's median openness is 0, so
    # against it nothing was skipped and the still face scored its lids' 10 px; its
    # 90th percentile (`BLINK_REFERENCE_PERCENTILE`) is open, and the closure is
    # skipped as a blink is.
    face = _open_eyed_face()
    shut = np.repeat(face[None], 30, axis=0)
    shut[5:28, [37, 38, 43, 44], 1] += np.r_[5.0, np.full(20, 10.0), 20 / 3, 10 / 3][:, None]
    assert features.sfem(shut, 1, form="peak") == 0.0
    # The first 20 frames end shut: 15 of 20 frames, the same.
    assert features.sfem(shut[:20], 1, form="peak") == 0.0
    counted = features.sfem(shut, 1, form="peak", blink_openness=None)
    assert round(counted, 4) == 0.2180
    # 0 skips none, as None does.
    assert features.sfem(shut, 1, form="peak", blink_openness=0.0) == counted
    # The window's median as the open level (as first made) skipped none of it.
    monkeypatch.setattr(features, "BLINK_REFERENCE_PERCENTILE", 50.0)
    assert features.sfem(shut, 1, form="peak") == counted
    with pytest.raises(ValueError, match=r"blink_openness is a fraction .* from 0 \(skip "
                                         r"none\) to 1, got 1.5"):
        features.sfem(shut, 1, form="peak", blink_openness=1.5)


def test_sfem_peak_form_crosses_tau_at_about_three_quarters_of_a_pixel_of_jitter():
    # On CK+'s face size the peak form of a still face is about 0.46 px^-1 times the
    # landmarks' jitter (benchmarks.sfem_windows, nuisance section): 1 s at 30 fps of
    # this face stays below tau = 0.35 with 0.5 px and is above it with 1 px.
    rng = np.random.default_rng(4)
    face = _open_eyed_face()
    values = {noise: [features.sfem(face + rng.normal(0.0, noise, (30, 68, 2)), 1, form="peak")
                      for _ in range(5)] for noise in (0.5, 1.0)}
    assert max(values[0.5]) < 0.35 < min(values[1.0])


def test_select_window_long_exact_and_short():
    seq = np.arange(30)
    np.testing.assert_array_equal(features.select_window(seq), np.arange(3, 27))
    np.testing.assert_array_equal(features.select_window(np.arange(24)), np.arange(24))
    np.testing.assert_array_equal(features.select_window(np.arange(25)), np.arange(0, 24))
    short = features.select_window(np.arange(5))
    np.testing.assert_array_equal(short, [0] * 9 + [0, 1, 2, 3, 4] + [4] * 10)
    maps = np.arange(3 * 2 * 2).reshape(3, 2, 2)
    out = features.select_window(maps, length=6)
    assert out.shape == (6, 2, 2)
    np.testing.assert_array_equal(out[:2], [maps[0], maps[0]])
    np.testing.assert_array_equal(out[-2:], [maps[2], maps[2]])
    with pytest.raises(ValueError, match="empty"):
        features.select_window(np.zeros((0, 3)))


@pytest.mark.parametrize(
    "track, interval, indices, message",
    [
        (np.zeros((5, 67, 2)), 1, None, "shape"),
        (np.zeros((5, 68)), 1, None, "shape"),
        (np.full((5, 68, 2), np.nan), 1, None, "NaN"),
        (np.full((5, 68, 2), np.inf), 1, None, "NaN or inf"),
        (np.zeros((4, 68, 2)), 4, None, "more than frame_interval"),
        (np.zeros((5, 68, 2)), 0, None, "at least 1"),
        (np.zeros((5, 68, 2)), 1.5, None, "integer"),
        (np.zeros((5, 68, 2)), 1, [0, 68], "out of range"),
        (np.zeros((5, 68, 2)), 1, [-1, 3], "out of range"),
        (np.zeros((5, 68, 2)), 1, [], "non-empty"),
    ],
)
def test_bad_input_raises(track, interval, indices, message):
    with pytest.raises(ValueError, match=message):
        features.lfm(track, interval, indices)
