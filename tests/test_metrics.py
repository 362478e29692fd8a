"""Scores against hand-worked confusion matrices, and the report's fixed facts
(the paper's published numbers, Fig. 3 colours, pooling per source dataset)."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from lfm_tf import metrics, report

CLASSES = ("negative", "positive", "surprise")

# Imbalanced: 8 negative, 2 positive, 2 surprise; every surprise is missed.
#   negative: TP 7, FP 1 + 2 = 3, FN 1 -> F1 14/18 = 7/9, recall 7/8
#   positive: TP 1, FP 1,         FN 1 -> F1 2/4  = 1/2, recall 1/2
#   surprise: TP 0, FP 0,         FN 2 -> F1 0,          recall 0
IMBALANCED = np.array([[7, 1, 0],
                       [1, 1, 0],
                       [2, 0, 0]])


def _labels(cm):
    true, pred = [], []
    for (i, j), n in np.ndenumerate(np.asarray(cm)):
        true += [i] * n
        pred += [j] * n
    return true, pred


def test_imbalanced_case_uf1_and_uar_differ_from_accuracy():
    assert metrics.accuracy(IMBALANCED) == pytest.approx(8 / 12)
    np.testing.assert_allclose(metrics.per_class_f1(IMBALANCED), [7 / 9, 1 / 2, 0])
    np.testing.assert_allclose(metrics.per_class_recall(IMBALANCED), [7 / 8, 1 / 2, 0])
    assert metrics.uf1(IMBALANCED) == pytest.approx((7 / 9 + 1 / 2) / 3)      # 0.4259
    assert metrics.uar(IMBALANCED) == pytest.approx((7 / 8 + 1 / 2) / 3)      # 0.4583
    assert metrics.macro_f1(IMBALANCED) == pytest.approx(23 / 54)
    assert metrics.uf1(IMBALANCED) < metrics.uar(IMBALANCED) < metrics.accuracy(IMBALANCED)


def test_confusion_matrix_counts_rows_true_columns_predicted():
    true, pred = _labels(IMBALANCED)
    np.testing.assert_array_equal(metrics.confusion_matrix(true, pred, 3), IMBALANCED)
    with pytest.raises(ValueError, match="outside 0..2"):
        metrics.confusion_matrix([0, 3], [0, 0], 3)
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        metrics.confusion_matrix([0, 1], [0], 3)


def test_uf1_sums_tp_fp_fn_over_folds_instead_of_averaging_folds():
    fold_a = np.array([[4, 0, 0], [1, 1, 0], [0, 0, 0]])
    fold_b = np.array([[3, 1, 0], [0, 0, 0], [2, 0, 0]])
    summed = metrics.summed_confusion([fold_a, fold_b])
    np.testing.assert_array_equal(summed, IMBALANCED)
    assert metrics.uf1(summed) == pytest.approx((7 / 9 + 1 / 2) / 3)
    # Averaging per-fold scores would give another number: fold_a alone scores
    # (8/9 + 2/3) / 2 = 7/9 over its two present classes, fold_b (2/3 + 0) / 2.
    per_fold = (metrics.uf1(fold_a) + metrics.uf1(fold_b)) / 2
    assert per_fold == pytest.approx((7 / 9 + 1 / 3) / 2)
    assert per_fold != pytest.approx(metrics.uf1(summed))


def test_class_absent_from_truth_is_left_out_of_uf1_and_uar_but_counts_zero_in_f1():
    # No true surprise, one negative predicted as surprise.
    cm = np.array([[3, 0, 1],
                   [0, 2, 0],
                   [0, 0, 0]])
    assert metrics.uar(cm) == pytest.approx((3 / 4 + 1) / 2)
    assert metrics.uf1(cm) == pytest.approx((6 / 7 + 1) / 2)
    assert metrics.macro_f1(cm) == pytest.approx((6 / 7 + 1 + 0) / 3)
    summary = metrics.summarize(*_labels(cm), CLASSES)
    assert summary["absent_classes"] == ["surprise"]
    assert summary["support"] == {"negative": 4, "positive": 2, "surprise": 0}
    assert summary["accuracy"] == pytest.approx(5 / 6)


def test_f1_is_uf1_when_every_class_is_present_and_matches_scikit_learn():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5, 200)
    pred = np.where(rng.random(200) < 0.6, true, rng.integers(0, 5, 200))
    s = metrics.summarize(true, pred, [str(k) for k in range(5)])
    assert s["f1"] == pytest.approx(f1_score(true, pred, labels=range(5), average="macro",
                                             zero_division=0))
    assert s["uf1"] == pytest.approx(s["f1"])
    assert s["uar"] == pytest.approx(balanced_accuracy_score(true, pred))
    assert s["accuracy"] == pytest.approx(np.mean(true == pred))
    assert sum(map(sum, s["confusion"])) == 200


def test_confusion_percent_per_true_class():
    pct = metrics.confusion_percent(IMBALANCED)
    np.testing.assert_allclose(pct[0], [87.5, 12.5, 0.0])
    np.testing.assert_allclose(pct[2], [100.0, 0.0, 0.0])
    assert np.isnan(metrics.confusion_percent([[1, 0], [0, 0]])[1]).all()


def test_chance_levels_of_an_imbalanced_truth():
    chance = metrics.chance_levels([8, 2, 2])
    assert chance["uniform_accuracy"] == pytest.approx(1 / 3)
    assert chance["majority_class_accuracy"] == pytest.approx(8 / 12)
    # Always "negative": its F1 is 2*8 / (2*8 + 4) = 0.8, the others 0.
    assert chance["majority_class_f1"] == pytest.approx(0.8 / 3)
    assert chance["majority_class_uf1"] == pytest.approx(0.8 / 3)
    assert chance["majority_class_uar"] == pytest.approx(1 / 3)


def test_no_predictions_is_an_error():
    with pytest.raises(ValueError, match="no predictions"):
        metrics.uf1(np.zeros((3, 3)))


def test_report_scores_each_source_dataset_of_the_composite():
    rows = [{"dataset": d, "true": t, "predicted": p} for d, t, p in [
        ("smic", 0, 0), ("smic", 1, 0), ("casme2", 2, 2), ("casme2", 0, 0), ("samm", 1, 1)]]
    result = report.score(rows, CLASSES)
    assert set(result["per_dataset"]) == {"smic", "casme2", "samm"}
    assert result["per_dataset"]["smic"]["accuracy"] == pytest.approx(0.5)
    assert result["per_dataset"]["smic"]["uar"] == pytest.approx(0.5)
    assert result["per_dataset"]["casme2"]["uf1"] == pytest.approx(1.0)
    assert result["accuracy"] == pytest.approx(0.8)
    assert "per_dataset" not in report.score(rows[:2], CLASSES)


def test_paper_numbers_only_for_the_papers_exact_setting():
    smic = report.paper_result("smic", "loso", "clfm", CLASSES)
    assert (smic["accuracy"], smic["f1"], smic["source"]) == (0.7134, 0.7134, "Table 3 and Table 4(b)")
    assert smic["confusion_percent"][2] == [14.0, 7.0, 79.0]
    casme2 = report.paper_result("casme2", "loso", "lfm",
                                 ("disgust", "happiness", "others", "repression", "surprise"))
    assert (casme2["accuracy"], casme2["f1"]) == (0.7398, 0.7165)
    assert report.paper_result("composite", "composite", "lfm", CLASSES)["per_dataset"]["samm"] == \
        {"uf1": 0.67, "uar": 0.60}
    assert report.paper_result("casme2", "cross", "lfm", CLASSES, target="smic")["f1"] == 0.5876
    assert report.paper_result("smic", "cross", "clfm", CLASSES, target="casme2")["accuracy"] == 0.6279
    # CASME II with the 3-class cross mapping under LOSO, other protocols, synthetic: none.
    assert report.paper_result("casme2", "loso", "lfm", CLASSES) is None
    assert report.paper_result("smic", "kfold", "lfm", CLASSES) is None
    assert report.paper_result("synthetic", "loso", "clfm", CLASSES) is None
    # A composite whose pooled rows hold other sources, or one source only (a few
    # folds, a pooled CAS(ME)^3 list): not Table 6's setting.
    assert report.paper_result("composite", "composite", "clfm", CLASSES, sources=["casme3"]) is None
    assert report.paper_result("composite", "composite", "clfm", CLASSES, sources=["samm"]) is None


def test_a_composite_of_other_sources_is_not_the_papers_table_6(tmp_path):
    megc = report.paper_result("composite", "composite", "clfm", CLASSES,
                               sources=["casme2", "samm", "smic"])
    assert megc["source"] == "Table 6"
    assert report.paper_result("composite", "composite", "clfm", CLASSES,
                               sources=["casme3", "samm"]) is None
    rows = [{"fold": f"f{k}", "dataset": source, "subject": f"{source}_{k}", "clip": f"c{k}",
             "true": k % 3, "true_name": CLASSES[k % 3], "predicted": 0,
             "predicted_name": CLASSES[0], **{f"prob_{c}": 1 / 3 for c in CLASSES}}
            for k, source in enumerate(["casme3", "casme3", "samm", "samm"])]
    setting = {"dataset": "composite", "target": "", "protocol": "composite", "variant": "clfm",
               "tag": "T25hz", "classes": list(CLASSES), "data": "composite-pooled",
               "folds": {"total": 4, "finished": [r["fold"] for r in rows], "missing": []},
               "lacking": {}, "config": {}}
    report.write(str(tmp_path), rows, setting)
    text = (tmp_path / report.REPORT).read_text()
    assert "|  | Composite UF1 | UAR | SAMM UF1 | SAMM UAR | CAS(ME)^3 Part A UF1 |" in text
    assert "Paper, published" not in text and "68 subjects" not in text


def test_paper_confusion_matrices_are_transcribed_row_for_row():
    off = []
    for (setting, variant), entry in report.PAPER_RESULTS.items():
        rows = entry.get("confusion_percent", [])
        assert len(rows) in (0, len(entry["classes"]))
        for k, row in enumerate(rows):
            assert len(row) == len(entry["classes"]), (setting, variant, k)
            if abs(sum(row) - 100) > 0.2:
                off.append((setting, variant, k, round(sum(row), 1)))
    # Rows sum to 100 up to rounding, but for one printed as it is in the paper:
    # Table 9(a), disgust: 1.7 + 96.6 + 1.7 + 1.7 = 101.7.
    assert off == [("ckplus", "lfm", 2, 101.7)]


def test_maps_are_drawn_in_the_colours_of_fig_3():
    rgb = report.maps_to_rgb(np.array([[127, 255], [0, 191]], np.uint8), scale=2)
    assert rgb.shape == (4, 4, 3)
    assert tuple(rgb[0, 0]) == (255, 255, 255)   # no change: white
    assert tuple(rgb[0, 2]) == (0, 0, 255)       # moving apart: blue
    assert tuple(rgb[2, 0]) == (255, 0, 0)       # coming closer: red
    assert tuple(rgb[2, 2]) == (128, 128, 255)   # half way apart: light blue
    grid = report.tile(np.zeros((5, 3, 3, 3), np.uint8), columns=2, gap=1)
    assert grid.shape == (3 * 3 + 2, 2 * 3 + 1, 3)


def test_composite_report_follows_table_6_next_to_the_published_row(tmp_path):
    rows = []
    for k, (source, true, pred) in enumerate([("smic", 0, 0), ("smic", 1, 1), ("smic", 2, 0),
                                              ("casme2", 0, 0), ("casme2", 2, 2),
                                              ("samm", 1, 1), ("samm", 0, 1)]):
        rows.append({"fold": f"{source}_{k}", "dataset": source, "subject": f"{source}_{k}",
                     "clip": f"c{k}", "true": true, "true_name": CLASSES[true],
                     "predicted": pred, "predicted_name": CLASSES[pred],
                     **{f"prob_{c}": float(c == CLASSES[pred]) for c in CLASSES}})
    setting = {"dataset": "composite", "target": "", "protocol": "composite", "variant": "clfm",
               "tag": "T25hz", "classes": list(CLASSES), "data": "a folder",
               "folds": {"total": 7, "finished": [r["fold"] for r in rows], "missing": []},
               "lacking": {"smic_0": ["surprise"]}, "config": {"workdir": str(tmp_path)}}
    result = report.write(str(tmp_path), rows, setting)
    assert set(result["per_dataset"]) == {"smic", "casme2", "samm"}
    assert result["per_dataset"]["casme2"]["uf1"] == pytest.approx(1.0)
    text = (tmp_path / report.REPORT).read_text()
    assert "| Paper, published (Table 6): CLFM-based (21x21 LFM) | 0.75 | 0.72 | 0.71 | 0.71 | " \
           "0.72 | 0.77 | 0.65 | 0.51 |" in text
    assert "the MEGC 2019 composite has 68 subjects; this folder has 7" in text
    assert "- smic_0: surprise" in text
    table = report.format_table(result)
    assert table.splitlines()[0] == ("Composite (MEGC 2019), leave-one-subject-out over the "
                                     "composite, CLFM-based (21x21 LFM), T25hz")
    assert "paper, published (Table 6)" in table and "  samm, published" in table
    assert len(report.read_predictions(str(tmp_path / report.PREDICTIONS))) == 7
