"""The spotter's steps on hand-made signals, the synthetic long recordings, and LOSO."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lfm_tf import features
from lfm_tf.datasets import synthetic_long
from lfm_tf.datasets.long_videos import spotting_facts
from lfm_tf.spotting import evaluate, spotter


@pytest.fixture(scope="module")
def videos():
    # 2 subjects x 1 video of 30 s at 30 fps: 1,800 frames in all.
    return synthetic_long.generate(num_subjects=2, videos_per_subject=1, seconds=30.0, seed=3)


def test_distances_are_those_of_eq1(videos):
    track = videos[0].landmarks[:40]
    d = spotter.pair_distances(track)
    i, j = np.triu_indices(len(spotter.SPOTTING_INDICES), 1)
    maps = features.lfm(track, 6, spotter.SPOTTING_INDICES)
    np.testing.assert_allclose(d[6:] - d[:-6], maps[:, i, j], atol=1e-4)
    assert not set(spotter.EYELIDS) & set(spotter.SPOTTING_INDICES)
    assert len(spotter.SPOTTING_INDICES) == 17


def test_both_sided_change_keeps_bumps_not_steps_or_ramps():
    bump = [0, 0, 0, 2, 0, 0, 0]      # an expression: differs from both sides
    dip = [0, 0, 0, -1, 0, 0, 0]      # signed: landmarks came closer
    step = [0, 0, 0, 3, 3, 3, 3]      # a head turn that stays
    ramp = [0, 1, 2, 3, 4, 5, 6]      # slow drift
    change = spotter.both_sided_change(np.array([bump, dip, step, ramp], float).T, 1)
    np.testing.assert_array_equal(change[:, 0], [0, 0, 0, 2, 0, 0, 0])
    np.testing.assert_array_equal(change[:, 1], [0, 0, 0, -1, 0, 0, 0])
    np.testing.assert_array_equal(change[:, 2], np.zeros(7))
    np.testing.assert_array_equal(change[:, 3], np.zeros(7))
    # A wider bump at k = 2: frames 2..4 raised by 1, 3 by 2: min(2-0, 2-0) at 3.
    wide = spotter.both_sided_change(np.array([[0, 0, 1, 2, 1, 0, 0]], float).T, 2)
    np.testing.assert_array_equal(wide[:, 0], [0, 0, 0, 2, 0, 0, 0])


def test_talking_needs_repeated_openings():
    fps, n = 30.0, 120
    track = np.repeat(synthetic_long.synthetic._MEAN_FACE[None] * 200.0 + 300.0, n, axis=0)
    opening = np.zeros(n)
    opening[30:60] = 6.0 * np.sin(np.pi * np.arange(30) / 7.5) ** 2  # 4 syllables in 1 s
    talk = track.copy()
    talk[:, 66, 1] += opening
    # Openings at frames 34 .. 56, widened by 0.3 s (9 frames) each side.
    assert spotter.talking(talk, fps, spotter.SpotterSettings()) == [(25, 65)]
    once = track.copy()
    once[30:45, 66, 1] += 6.0 * np.sin(np.pi * np.arange(15) / 14)   # one surprised opening
    assert spotter.talking(once, fps, spotter.SpotterSettings()) == []


def test_synthetic_long_plants_known_intervals(videos):
    video = videos[0]
    assert video.landmarks.shape == (900, 68, 2) and video.fps == 30.0
    lengths = {t: [i.length for i in video.intervals if i.type == t] for t in ("me", "mae")}
    assert lengths["me"] and lengths["mae"]
    assert all(7 <= n <= 15 for n in lengths["me"])        # 0.25-0.5 s at 30 fps
    assert all(21 <= n <= 90 for n in lengths["mae"])      # 0.7-3 s
    assert all(i.onset <= i.apex <= i.offset for i in video.intervals)
    again = synthetic_long.generate(num_subjects=2, videos_per_subject=1, seconds=30.0, seed=3)
    np.testing.assert_array_equal(again[0].landmarks, video.landmarks)


def test_loso_counts_and_no_peeking(videos):
    tracks = {v.video_id: v.landmarks for v in videos}
    run = evaluate.loso(videos, tracks, None, log=lambda line: None)
    truth = {t: sum(1 for v in videos for i in v.intervals if i.type == t) for t in ("me", "mae")}
    for t in ("me", "mae"):
        assert run.result[t]["tp"] + run.result[t]["fn"] == truth[t]   # all in the denominators
    assert run.result["me"]["f1"] >= 0.8 and run.result["mae"]["f1"] >= 0.8
    # A subject's thresholds come from the other subject only: wreck p01's track and
    # p02's thresholds (fitted on p01) may change, p01's (fitted on p02) may not.
    noisy = dict(tracks, p01_1=tracks["p01_1"] + np.random.default_rng(0).normal(
        0, 3.0, tracks["p01_1"].shape).astype(np.float32))
    again = evaluate.loso(videos, noisy, None, log=lambda line: None)
    assert again.thresholds["p01"] == run.thresholds["p01"]
    spotted = run.predicted["p01_1"]
    assert all(s.type == ("me" if s.offset - s.onset + 1 <= 16 else "mae") for s in spotted)


def test_windows_that_do_not_fit_find_nothing(videos):
    facts = spotting_facts("samm_lv", 200.0)   # MaE k = 174 needs 349 frames
    found = spotter.signals(videos[0].landmarks[:300], 200.0, facts)
    assert {c.window for c in found.candidates} <= {"me"}
    np.testing.assert_array_equal(found.z["mae"], np.zeros(300))
    with pytest.raises(ValueError, match="shape \\(10, 2\\)"):
        spotter.signals(np.zeros((10, 2)), 30.0, facts)
    assert dataclasses.asdict(facts) == {"k": {"me": 37, "mae": 174}, "me_frames": (47, 105)}
    assert spotting_facts(None, 200.0).k == {"me": 40, "mae": 120}


def test_a_cut_between_shots_is_no_expression():
    # 20 s at 30 fps with 4 planted MEs; from frame 300 the face is seen in another
    # shot: 1.3 x 1.15 larger and 40 px away. Across the cut that made a false ME
    # at frames 299-301 (score 6.1) and hid the first true one (the z-scale mixes
    # two face sizes); taken shot by shot, the spots are the planted four.
    [video] = synthetic_long.generate(1, 1, seconds=20.0, seed=5)
    track = video.landmarks.astype(np.float64)
    centre = track[300:].reshape(-1, 2).mean(0)
    track[300:] = (track[300:] - centre) * [1.3, 1.15] + centre + 40
    facts = spotting_facts(None, video.fps)
    across = spotter.spot(track, video.fps, facts)
    per_shot = spotter.spot(track, video.fps, facts, cuts=(300,))
    planted = [(i.onset, i.offset) for i in video.intervals]
    assert planted == [(31, 38), (124, 137), (182, 194), (420, 433)]
    assert [(s.onset, s.offset) for s in across] == [(126, 134), (184, 192), (299, 301),
                                                      (422, 431)]
    assert [(s.onset, s.offset) for s in per_shot] == [(32, 38), (126, 134), (184, 192),
                                                        (422, 431)]
    found = spotter.signals(track, video.fps, facts, cuts=(300,))
    assert all(c.offset < 300 or c.onset >= 300 for c in found.candidates)
    assert found.z["me"].shape == (600,)


def test_frames_without_a_face_do_not_set_the_z_scale():
    # The face lost from frame 200 of 600 and its last landmarks held (as a track
    # fills them): 400 frames of no change made the MAD 0, z up to 1.96e9 and 12
    # "expressions" in the 200 frames with a face. Scaled on the frames with a face,
    # they give what those frames give alone; the floor keeps the rest finite.
    [video] = synthetic_long.generate(1, 1, seconds=20.0, seed=5)
    track = video.landmarks.astype(np.float64)
    held = track.copy()
    held[200:] = held[199]
    facts = spotting_facts(None, video.fps)
    alone = spotter.spot(track[:200], video.fps, facts)
    masked = spotter.spot(held, video.fps, facts, face=np.arange(600) < 200)
    assert [(s.onset, s.offset) for s in alone] == [(32, 38), (126, 134), (184, 192)]
    assert [(s.onset, s.offset) for s in masked] == [(s.onset, s.offset) for s in alone]
    unmasked = spotter.signals(held, video.fps, facts)
    assert 20 < unmasked.z["me"].max() < 50
    np.testing.assert_array_equal(spotter.robust_z(np.zeros(5)), np.zeros(5))
    np.testing.assert_allclose(spotter.robust_z(np.array([0, 0, 0, 1.0]), floor=0.5),
                               [0, 0, 0, 2])
