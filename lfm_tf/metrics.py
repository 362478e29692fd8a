"""The field's scores, computed from confusion matrices (../shared/DATASETS.md).

Everything is computed on predictions pooled over all folds of a protocol, never
as a mean of per-fold scores: a leave-one-subject-out fold often holds a single
subject with one or two classes, where per-fold F1 is meaningless.

  accuracy  correct / all pooled predictions.
  f1        macro F1 over the pooled predictions and the dataset's full class
            list: per class 2TP / (2TP + FP + FN), then the plain mean. A class
            with no true and no predicted clip scores 0 (scikit-learn's
            `f1_score(labels=all, average="macro", zero_division=0)`).
  uf1       unweighted F1 (MEGC 2019): per class, TP, FP and FN summed over all
            folds, F1 per class, then the mean over classes.
  uar       unweighted average recall: the mean over classes of TP_c / n_c.

Summing TP, FP and FN over folds gives exactly the pooled confusion matrix, so on
a complete run, where every class has true clips, `uf1 == f1`. They differ only
for a class absent from the pooled truth (a dataset subset, a partial run):
recall is undefined without true clips, so uf1 and uar leave such a class out of
their means (its false predictions still count as errors of the true classes),
while f1 counts it as 0. `summarize` lists those classes under `absent_classes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """(C, C) counts, rows = true class, columns = predicted class."""
    true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} true labels but {pred.size} predictions")
    for name, labels in (("true", true), ("predicted", pred)):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        if bad.size:
            raise ValueError(f"{name} labels outside 0..{num_classes - 1}: {sorted(set(bad.tolist()))}")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def summed_confusion(fold_matrices: Iterable[np.ndarray]) -> np.ndarray:
    """Per-class TP, FP and FN summed over folds, as one confusion matrix."""
    matrices = [np.asarray(m, dtype=np.int64) for m in fold_matrices]
    if not matrices:
        raise ValueError("no confusion matrices to sum")
    return np.sum(matrices, axis=0)


def _counts(cm) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 1:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    support = cm.sum(axis=1)
    return tp, fp, fn, support


def per_class_f1(cm) -> np.ndarray:
    """2TP / (2TP + FP + FN) per class; NaN where a class was neither true nor predicted."""
    tp, fp, fn, _ = _counts(cm)
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.full_like(tp, np.nan), where=denom > 0)


def per_class_recall(cm) -> np.ndarray:
    """TP_c / n_c per class; NaN for a class with no true clips."""
    tp, _, _, support = _counts(cm)
    return np.divide(tp, support, out=np.full_like(tp, np.nan), where=support > 0)


def accuracy(cm) -> float:
    cm = np.asarray(cm)
    total = cm.sum()
    if total == 0:
        raise ValueError("no predictions to score")
    return float(np.trace(cm) / total)


def macro_f1(cm) -> float:
    """Mean F1 over all classes of the class list; an undefined F1 counts as 0."""
    return float(np.nan_to_num(per_class_f1(cm), nan=0.0).mean())


def _present(cm) -> np.ndarray:
    present = _counts(cm)[3] > 0
    if not present.any():
        raise ValueError("no predictions to score")
    return present


def uf1(cm) -> float:
    """Unweighted F1 on summed (pooled) counts, over classes present in the truth."""
    return float(per_class_f1(cm)[_present(cm)].mean())


def uar(cm) -> float:
    """Unweighted average recall, over classes present in the truth."""
    return float(per_class_recall(cm)[_present(cm)].mean())


def confusion_percent(cm) -> np.ndarray:
    """Each row as percent of its true class (Tables 4 and 5); NaN rows for absent classes."""
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(100.0 * cm, rows, out=np.full_like(cm, np.nan), where=rows > 0)


def summarize(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]) -> dict:
    """All scores of one set of pooled predictions, JSON-ready."""
    cm = confusion_matrix(y_true, y_pred, len(classes))
    support = cm.sum(axis=1)
    return {
        "accuracy": accuracy(cm),
        "f1": macro_f1(cm),
        "uf1": uf1(cm),
        "uar": uar(cm),
        "num_clips": int(cm.sum()),
        "support": {name: int(n) for name, n in zip(classes, support)},
        "confusion": cm.tolist(),
        "absent_classes": [name for name, n in zip(classes, support) if n == 0],
    }


def chance_levels(support: Sequence[int]) -> dict:
    """What guessing scores on this truth: uniform guessing, and always answering
    the most frequent class. The bar a result has to clear."""
    n = np.asarray(support, dtype=np.float64)
    present = n > 0
    k = int(present.sum())
    if k == 0:
        raise ValueError("no true clips")
    share = n / n.sum()
    majority = int(np.argmax(n))
    cm = np.zeros((len(n), len(n)))
    cm[:, majority] = n
    return {
        # Uniform guessing over the C classes: expected accuracy 1/C, recall 1/C.
        "uniform_accuracy": 1.0 / len(n),
        "uniform_uar": 1.0 / len(n),
        "majority_class_accuracy": float(share[majority]),
        "majority_class_f1": macro_f1(cm),
        "majority_class_uf1": uf1(cm),
        "majority_class_uar": 1.0 / k,
    }
