"""Evaluation protocols: which subjects' files train and which test, fold by fold.

Files are one per subject, so a fold is a choice of files, and the test subject's
file is simply never opened while that fold trains.

  loso       leave one subject out: one fold per subject (SMIC, CASME II, SAMM).
  kfold      subject-independent k-fold (CK+, k = 10): subjects, not clips, are
             dealt to folds, so no subject is on both sides.
  composite  MEGC 2019: leave one subject out over the composite's 68 subjects;
             the report adds UF1/UAR per source dataset (Table 6).
  cross      train on all of one dataset, test on all of another (Table 7);
             both folders must hold the same classes.
  full       train on everything, test on nothing: the model to export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from lfm_tf.input_pipeline import RecordFolder

PROTOCOLS = ("loso", "kfold", "composite", "cross", "full")
COMPOSITE_SUBJECTS = 68


@dataclasses.dataclass(frozen=True)
class Fold:
    """One train/test split.

    Attributes:
      index: position in the protocol's fold list (0-based).
      name: the test subject (loso, composite), "fold03" (kfold),
        "casme2_to_smic" (cross) or "full".
      train, test: TFRecord files, one per subject.
      train_subjects, test_subjects: the subjects of those files, in order.
      validation, validation_subjects: training subjects held out to draw
        validation curves (`with_validation`); never the test subject.
    """

    index: int
    name: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]
    validation: tuple[str, ...] = ()
    validation_subjects: tuple[str, ...] = ()

    def __post_init__(self):
        seen = set(self.test) | set(self.validation)
        if set(self.train) & seen or set(self.test) & set(self.validation):
            raise ValueError(f"fold {self.name}: a file is on two sides of the split")


def _split(index: int, name: str, folder: RecordFolder, test_subjects: Sequence[str]) -> Fold:
    files = folder.subjects
    test = set(test_subjects)
    train = [s for s in files if s not in test]
    return Fold(index=index, name=name,
                train=tuple(files[s] for s in train),
                test=tuple(files[s] for s in files if s in test),
                train_subjects=tuple(train),
                test_subjects=tuple(s for s in files if s in test))


def loso(folder: RecordFolder) -> list[Fold]:
    """One fold per subject, named after it, in natural subject order."""
    subjects = list(folder.subjects)
    if len(subjects) < 2:
        raise ValueError(f"{folder.path}: leave-one-subject-out needs at least 2 subjects, "
                         f"found {len(subjects)}")
    return [_split(k, s, folder, [s]) for k, s in enumerate(subjects)]


def kfold(folder: RecordFolder, num_folds: int, seed: int) -> list[Fold]:
    """Subject-independent k-fold.

    Subjects are dealt, largest first (ties in an order shuffled by `seed`), to
    the fold with the fewest clips so far, so folds have similar sizes and every
    subject is in exactly one test fold.
    """
    subjects = list(folder.subjects)
    if num_folds < 2:
        raise ValueError(f"k-fold needs at least 2 folds, got --config.num_folds={num_folds}")
    if len(subjects) < num_folds:
        raise ValueError(f"{folder.path}: {len(subjects)} subjects cannot fill {num_folds} "
                         f"subject-independent folds: lower --config.num_folds")
    counts = folder.clip_counts
    order = list(np.random.default_rng(seed).permutation(subjects))
    order.sort(key=lambda s: -counts[s])  # stable: the shuffle breaks ties
    sizes = [0] * num_folds
    members: list[list[str]] = [[] for _ in range(num_folds)]
    for subject in order:
        k = int(np.argmin(sizes))
        members[k].append(subject)
        sizes[k] += counts[subject]
    return [_split(k, f"fold{k + 1:02d}", folder, members[k]) for k in range(num_folds)]


def cross(source: RecordFolder, target: RecordFolder) -> list[Fold]:
    """Train on every subject of `source`, test on every subject of `target`."""
    if source.classes != target.classes:
        raise ValueError(
            f"cross-dataset needs the same classes on both sides: {source.path} has "
            f"{list(source.classes)}, {target.path} has {list(target.classes)}: preprocess "
            f"CASME II with --label_set=cross3 (into casme2-cross3/, which --protocol=cross "
            f"reads by default)")
    if source.dataset == target.dataset:
        raise ValueError(f"cross-dataset needs two datasets, got {source.dataset} twice")
    return [Fold(index=0, name=f"{source.dataset}_to_{target.dataset}",
                 train=tuple(source.subjects.values()), test=tuple(target.subjects.values()),
                 train_subjects=tuple(source.subjects), test_subjects=tuple(target.subjects))]


def full(folder: RecordFolder) -> list[Fold]:
    """Every subject trains; nothing is tested."""
    return [Fold(index=0, name="full", train=tuple(folder.subjects.values()), test=(),
                 train_subjects=tuple(folder.subjects), test_subjects=())]


def make_folds(protocol: str, source: RecordFolder, target: RecordFolder | None = None,
               num_folds: int = 10, seed: int = 0) -> list[Fold]:
    """The folds of `protocol` over `source` (and `target` for cross)."""
    check(protocol, source.dataset, target.dataset if target else "")
    if protocol in ("loso", "composite"):
        return loso(source)
    if protocol == "kfold":
        return kfold(source, num_folds, seed)
    if protocol == "cross":
        return cross(source, target)
    return full(source)


def check(protocol: str, dataset: str, target: str = "") -> None:
    """Fail early, in one line, on a protocol that cannot apply."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use --protocol with one of {list(PROTOCOLS)}")
    if protocol == "cross" and not target:
        raise ValueError("--protocol=cross needs --target (e.g. --dataset=casme2 --target=smic)")
    if protocol != "cross" and target:
        raise ValueError(f"--target={target} applies only to --protocol=cross")
    if protocol == "composite" and dataset != "composite":
        raise ValueError(f"--protocol=composite needs --dataset=composite, got {dataset}")


def select(folds: Sequence[Fold], spec: str) -> list[Fold]:
    """The folds named by `spec`: "" for all, else comma-separated fold names,
    indices or index ranges ("s3,s7", "0-3,9")."""
    if not spec.strip():
        return list(folds)
    by_name = {f.name: f for f in folds}
    chosen: dict[int, Fold] = {}
    for token in (t.strip() for t in spec.split(",") if t.strip()):
        if token in by_name:
            chosen[by_name[token].index] = by_name[token]
            continue
        bounds = token.split("-")
        if len(bounds) in (1, 2) and all(b.isdigit() for b in bounds):
            low, high = int(bounds[0]), int(bounds[-1])
            if low <= high < len(folds):
                chosen.update((k, folds[k]) for k in range(low, high + 1))
                continue
        raise ValueError(f"--folds: no fold {token!r}; folds are 0-{len(folds) - 1} or by name: "
                         f"{', '.join(by_name)}")
    return [chosen[k] for k in sorted(chosen)]


def with_validation(fold: Fold, count: int, seed: int) -> Fold:
    """Hold `count` of the fold's training subjects out as a validation set.

    Drawn from training subjects only (never the test subject), with a seed per
    fold. Validation serves curves in TensorBoard; no epoch or model is chosen on
    it or on anything else, so training is the same fixed number of epochs.
    """
    if count <= 0:
        return fold
    if count >= len(fold.train):
        raise ValueError(f"fold {fold.name}: cannot hold out {count} of {len(fold.train)} "
                         f"training subjects for validation: lower --config.validation_subjects")
    rng = np.random.default_rng((seed, fold.index))
    held = set(rng.choice(len(fold.train), size=count, replace=False).tolist())
    keep = [k for k in range(len(fold.train)) if k not in held]
    out = sorted(held)
    return dataclasses.replace(
        fold,
        train=tuple(fold.train[k] for k in keep),
        train_subjects=tuple(fold.train_subjects[k] for k in keep),
        validation=tuple(fold.train[k] for k in out),
        validation_subjects=tuple(fold.train_subjects[k] for k in out))
