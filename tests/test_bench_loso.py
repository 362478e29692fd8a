"""benchmarks.loso's estimate and the time-to-accuracy target in BENCHMARKS.md."""

from benchmarks import loso, report


def test_estimate_two_folds_side_by_side():
    # 2 folds of 100 s and 110 s trained 2 at a time in a 120 s run: the folds kept
    # the run busy for (100 + 110) / 2 = 105 s, so 15 s was overhead; 26 folds of
    # 105 s on average, 2 at a time: 15 + 26 x 105 / 2.
    got = loso.estimate(120.0, [100.0, 110.0], parallel=2, total=26)
    assert got["overhead_s"] == 15.0
    assert got["estimated_full_s"] == 15.0 + 26 * 105.0 / 2


def test_estimate_one_fold_of_two_workers():
    # One fold of 250 s in a 275 s run: the second worker had nothing to do, so the
    # overhead is 25 s, not 275 - 250 / 2.
    got = loso.estimate(275.0, [250.0], parallel=2, total=26)
    assert got["overhead_s"] == 25.0
    assert got["estimated_full_s"] == 25.0 + 26 * 250.0 / 2


def test_estimate_one_after_another():
    got = loso.estimate(230.0, [100.0, 110.0], parallel=1, total=26)
    assert got["overhead_s"] == 20.0
    assert got["estimated_full_s"] == 20.0 + 26 * 105.0


def _recipe(seconds: float, correct: int, folds: int = 2) -> dict:
    return {"folds_total": 26, "estimated_full_s": seconds, "correct": correct,
            "test_clips": 24, "folds_timed": [{}] * folds}


def test_target_needs_time_and_accuracy():
    recipes = {"default": _recipe(3600.0, 20), "fast": _recipe(800.0, 20),
               "faster": _recipe(600.0, 19), "slow": _recipe(901.0, 22, folds=26)}
    rows = report._targets(None, None, None, {"recipes": recipes}, {"modules": {}})
    verdict = {line.split("`")[1]: line.rsplit("|", 2)[1].strip()
               for line in rows if "LOSO" in line}
    assert verdict == {"default": "**missed**", "fast": "**met**", "faster": "**missed**",
                       "slow": "**missed**"}
    fast = next(line for line in rows if "`fast`" in line)
    assert "13.3 min (estimated from 2 folds); accuracy 20/24 vs the default's 20/24" in fast
    assert "(estimated" not in next(line for line in rows if "`slow`" in line)
