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
