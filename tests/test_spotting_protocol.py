"""The MEGC spotting protocol on hand-worked examples (DATASETS_MORE.md section C)."""

from __future__ import annotations

import pytest

from lfm_tf.datasets.long_videos import Interval
from lfm_tf.spotting import protocol


def me(onset, offset):
    return Interval(onset, None, offset, "me")


def mae(onset, offset):
    return Interval(onset, None, offset, "mae")


@pytest.mark.parametrize("a, b, expected", [
    ((1, 10), (1, 10), 1.0),
    ((1, 10), (3, 10), 0.8),        # inter 8, union 10 + 8 - 8 = 10
    ((1, 10), (6, 15), 1 / 3),      # inter 5, union 15
    ((1, 10), (1, 5), 0.5),         # exactly the threshold: a hit
    ((1, 10), (1, 4), 0.4),
    ((1, 5), (6, 10), 0.0),         # adjacent, no common frame
    ((7, 7), (7, 7), 1.0),          # single frames are intervals of length 1
])
def test_iou_of_inclusive_frame_sets(a, b, expected):
    assert protocol.iou(me(*a), me(*b)) == pytest.approx(expected)
    assert protocol.iou(me(*b), me(*a)) == pytest.approx(expected)


def test_threshold_is_inclusive():
    assert protocol.match([me(1, 10)], [me(1, 5)]) == protocol.Counts(1, 0, 0)
    assert protocol.match([me(1, 10)], [me(1, 4)]) == protocol.Counts(0, 1, 1)


def test_pooled_counts_over_all_videos_worked_example():
    truth = {
        "A": [me(10, 20), mae(100, 160)],
        "B": [me(5, 14)],     # never predicted: a false negative
        "C": [],              # no interval: its prediction is a false positive
        "D": [],              # nothing at all: counts for nothing, but is a video
    }
    predicted = {
        "A": [me(12, 20),     # IoU 9/11: hit
              me(50, 58),     # nothing there
              mae(100, 130),  # IoU 31/61 = 0.508: hit
              ],
        "C": [mae(1, 40)],
    }
    result = protocol.evaluate(truth, predicted)
    assert result["videos"] == 4
    assert result["per_video"] == {
        "A": {"me": (1, 1, 0), "mae": (1, 0, 0)}, "B": {"me": (0, 0, 1), "mae": (0, 0, 0)},
        "C": {"me": (0, 0, 0), "mae": (0, 1, 0)}, "D": {"me": (0, 0, 0), "mae": (0, 0, 0)}}
    assert result["me"] == pytest.approx(
        {"tp": 1, "fp": 1, "fn": 1, "precision": 0.5, "recall": 0.5, "f1": 0.5})
    assert result["mae"] == pytest.approx(
        {"tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0, "f1": 2 / 3})
    # Overall from the pooled ME + MaE counts, not the mean of the two F1s (0.583).
    assert result["overall"] == pytest.approx(
        {"tp": 2, "fp": 2, "fn": 1, "precision": 0.5, "recall": 2 / 3, "f1": 4 / 7})


def test_types_are_matched_apart():
    # Right frames, wrong type: one FN of MaE and one FP of ME.
    result = protocol.evaluate({"v": [mae(1, 30)]}, {"v": [me(1, 30)]})
    assert result["per_video"]["v"] == {"me": (0, 1, 0), "mae": (0, 0, 1)}
    assert result["overall"]["f1"] == 0.0


def test_organisers_counting_against_one_to_one_on_overlapping_truth():
    # CAS(ME)^2 has overlapping intervals: one prediction hits both.
    truth = [me(1, 10), me(2, 10)]
    predicted = [me(1, 10)]
    assert protocol.match(truth, predicted, "megc") == protocol.Counts(2, -1, 0)
    assert protocol.match(truth, predicted, "one_to_one") == protocol.Counts(1, 0, 1)
    # Two predictions on one true interval: one hit, one false positive either way.
    for matching in protocol.MATCHINGS:
        assert protocol.match([me(1, 10)], [me(1, 9), me(2, 10)], matching) == \
            protocol.Counts(1, 1, 0)


def test_scores_are_zero_when_undefined_and_errors_are_named():
    assert protocol.Counts().as_dict() == {"tp": 0, "fp": 0, "fn": 0, "precision": 0.0,
                                           "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError, match="without ground truth: \\['x'\\]"):
        protocol.evaluate({"v": []}, {"x": []})
    with pytest.raises(ValueError, match="types \\['blink'\\]"):
        protocol.evaluate({"v": [Interval(1, None, 2, "blink")]}, {})
    with pytest.raises(ValueError, match="unknown matching"):
        protocol.match([], [], "hungarian")


def test_challenge_csv(tmp_path):
    path = str(tmp_path / "cas_pred.csv")
    rows = protocol.write_challenge_csv(path, {"s16_0101": [mae(200, 260), me(31, 40)],
                                               "s15_0102": [], "s15_0101": [me(5, 14)]})
    assert rows == 3
    assert open(path).read() == ("vid,pred_onset,pred_offset,type\n"
                                 "s15_0101,5,14,me\n"
                                 "s16_0101,31,40,me\n"
                                 "s16_0101,200,260,mae\n")


def test_f1_reproduces_the_baselines_published_casme_sq_count():
    # DATASETS_MORE.md C: 130 TP of 6,558 predictions and 357 true intervals -> 0.0376.
    counts = protocol.Counts(tp=130, fp=6558 - 130, fn=357 - 130)
    assert round(counts.f1, 4) == 0.0376
