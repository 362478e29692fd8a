"""What a run leaves behind: predictions, scores, the table in the paper's layout
next to the paper's published numbers, a confusion PNG and TensorBoard summaries.

  predictions.csv  one row per test clip: fold, dataset, subject, clip, true and
                   predicted label (index and name), one probability per class.
  metrics.json     accuracy, f1, uf1, uar, confusion (+ per_dataset for the
                   composite), chance levels, folds finished and lacking classes.
  report.md        the run's table beside the paper's published one (Tables 3-9).
  confusion.png    the pooled confusion matrix in percent per true class.
  tensorboard/run  the same confusion image, the scores and the HParams.

The paper's numbers are defined once, in `PAPER_RESULTS`, and are always printed
as the paper's, never as this run's.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from lfm_tf import files, metrics
from lfm_tf.datasets import specs
from lfm_tf.plots import confusion_png, maps_to_rgb, tile

PREDICTIONS = "predictions.csv"
METRICS = "metrics.json"
REPORT = "report.md"
CONFUSION_PNG = "confusion.png"
SCORES = ("accuracy", "f1", "uf1", "uar")

DATASET_TITLES = {"smic": "SMIC", "casme2": "CASME II", "samm": "SAMM", "ckplus": "CK+",
                  "composite": "Composite (MEGC 2019)", "synthetic": "Synthetic",
                  "ckplus_fge": "CK+ FGE", "ckplus_fme": "CK+ FME (synthesized)",
                  "ckplus_mixed": "CK+ mixed FGE/FME", "casme3": "CAS(ME)^3 Part A",
                  "casme3_c": "CAS(ME)^3 Part C", "fourd_me": "4DME", "mmew": "MMEW"}
PROTOCOL_TITLES = {"loso": "leave-one-subject-out", "kfold": "subject-independent k-fold",
                   "composite": "leave-one-subject-out over the composite",
                   "cross": "cross-dataset", "full": "train on everything"}
VARIANT_TITLES = {"lfm": "LFM-based (68x68 LFM)", "clfm": "CLFM-based (21x21 LFM)"}

# ---------------------------------------------------------------- the paper

_MEGC = specs.MEGC_CLASSES
_TABLE6_SOURCES = ("smic", "casme2", "samm")
_CASME2 = specs.SPECS["casme2"].classes
_CKPLUS = specs.CKPLUS_CLASSES

# Published results of Choi & Song (IEEE Access 2020), as printed (a row of a
# printed confusion matrix may not sum to exactly 100). Keyed by (setting,
# variant), where the setting is the dataset under its paper protocol, or
# "<source>_to_<target>" for cross-dataset.
PAPER_RESULTS: dict[tuple[str, str], dict] = {
    ("smic", "lfm"): {
        "source": "Table 3 and Table 4(a)", "protocol": "loso", "classes": _MEGC,
        "accuracy": 0.7134, "f1": 0.7134,
        "confusion_percent": [[75.7, 15.7, 8.6], [29.4, 68.6, 2.0], [23.3, 9.35, 67.4]]},
    ("smic", "clfm"): {
        "source": "Table 3 and Table 4(b)", "protocol": "loso", "classes": _MEGC,
        "accuracy": 0.7134, "f1": 0.7134,
        "confusion_percent": [[74.3, 17.1, 8.6], [35.3, 60.8, 3.9], [14.0, 7.0, 79.0]]},
    ("casme2", "lfm"): {
        "source": "Table 3 and Table 5(a)", "protocol": "loso", "classes": _CASME2,
        "accuracy": 0.7398, "f1": 0.7165,
        "confusion_percent": [[74.6, 1.6, 19.0, 3.2, 1.6], [12.5, 53.1, 12.5, 15.6, 6.3],
                              [9.1, 2.0, 84.8, 3.0, 1.0], [3.7, 3.7, 22.2, 70.4, 0.0],
                              [0.0, 4.1, 36.0, 0.0, 60.0]]},
    ("casme2", "clfm"): {
        "source": "Table 3 and Table 5(b)", "protocol": "loso", "classes": _CASME2,
        "accuracy": 0.7154, "f1": 0.7026,
        "confusion_percent": [[71.4, 4.8, 22.2, 1.6, 0.0], [12.5, 43.8, 34.4, 6.3, 3.1],
                              [7.1, 2.0, 88.9, 2.0, 0.0], [7.4, 14.8, 37.0, 40.7, 0.0],
                              [4.0, 0.0, 20.0, 4.0, 72.0]]},
    ("composite", "lfm"): {
        "source": "Table 6", "protocol": "composite", "classes": _MEGC, "uf1": 0.77, "uar": 0.75,
        "per_dataset": {"smic": {"uf1": 0.72, "uar": 0.71}, "casme2": {"uf1": 0.87, "uar": 0.84},
                        "samm": {"uf1": 0.67, "uar": 0.60}}},
    ("composite", "clfm"): {
        "source": "Table 6", "protocol": "composite", "classes": _MEGC, "uf1": 0.75, "uar": 0.72,
        "per_dataset": {"smic": {"uf1": 0.71, "uar": 0.71}, "casme2": {"uf1": 0.72, "uar": 0.77},
                        "samm": {"uf1": 0.65, "uar": 0.51}}},
    ("casme2_to_smic", "lfm"): {"source": "Table 7", "protocol": "cross", "classes": _MEGC,
                                "f1": 0.5876, "accuracy": 0.5854},
    ("casme2_to_smic", "clfm"): {"source": "Table 7", "protocol": "cross", "classes": _MEGC,
                                 "f1": 0.4978, "accuracy": 0.5549},
    ("smic_to_casme2", "lfm"): {"source": "Table 7", "protocol": "cross", "classes": _MEGC,
                                "f1": 0.6066, "accuracy": 0.6357},
    ("smic_to_casme2", "clfm"): {"source": "Table 7", "protocol": "cross", "classes": _MEGC,
                                 "f1": 0.5779, "accuracy": 0.6279},
    # CK+ original (FGE) sequences, 10-fold: Table 8's first column, Table 9.
    ("ckplus", "lfm"): {
        "source": "Table 8 (FGE) and Table 9(a)", "protocol": "kfold", "classes": _CKPLUS,
        "accuracy": 0.9266,
        "confusion_percent": [[86.7, 0.0, 4.4, 2.2, 0.0, 6.7, 0.0],
                              [5.6, 77.8, 0.0, 0.0, 11.1, 0.0, 5.6],
                              [1.7, 0.0, 96.6, 1.7, 1.7, 0.0, 0.0],
                              [0.0, 0.0, 4.0, 84.0, 8.0, 0.0, 4.0],
                              [0.0, 0.0, 2.9, 0.0, 97.1, 0.0, 0.0],
                              [10.7, 3.6, 0.0, 0.0, 0.0, 82.1, 3.6],
                              [0.0, 1.2, 0.0, 0.0, 0.0, 0.0, 98.8]]},
    ("ckplus", "clfm"): {
        "source": "Table 8 (FGE) and Table 9(b)", "protocol": "kfold", "classes": _CKPLUS,
        "accuracy": 0.8878,
        "confusion_percent": [[84.4, 0.0, 11.1, 2.2, 0.0, 2.2, 0.0],
                              [5.6, 55.6, 5.6, 0.0, 22.2, 5.6, 5.6],
                              [3.4, 0.0, 94.9, 0.0, 1.7, 0.0, 0.0],
                              [0.0, 0.0, 0.0, 60.0, 0.0, 16.0, 24.0],
                              [0.0, 0.0, 0.0, 0.0, 98.6, 0.0, 1.4],
                              [17.9, 0.0, 0.0, 14.3, 0.0, 64.3, 3.6],
                              [0.0, 1.2, 0.0, 0.0, 0.0, 0.0, 98.8]]},
    # Table 8, the whole table: each method trained on CK+ FGE only (10-fold) and
    # tested on FGE, on the FME set synthesized from it and on a 50:50 mix; keyed
    # ("table8", method), accuracy per test set, None where the paper prints N/A.
    # DTAGN's FGE accuracy as published in its own paper [11] is in parentheses there.
    ("table8", "dtagn"): {"source": "Table 8", "protocol": "kfold", "classes": _CKPLUS,
                          "accuracy": {"fge": 0.9388, "fme": 0.4334, "mixed": 0.7095},
                          "accuracy_in_11": {"fge": 0.9725}},
    ("table8", "lfm"): {"source": "Table 8", "protocol": "kfold", "classes": _CKPLUS,
                        "accuracy": {"fge": 0.9266, "fme": 0.7798, "mixed": 0.8746}},
    ("table8", "clfm"): {"source": "Table 8", "protocol": "kfold", "classes": _CKPLUS,
                         "accuracy": {"fge": 0.8878, "fme": 0.7860, "mixed": 0.8563}},
    ("table8", "lfm+dtagn"): {"source": "Table 8", "protocol": "kfold", "classes": _CKPLUS,
                              "accuracy": {"fge": None, "fme": None, "mixed": 0.8869}},
    ("table8", "clfm+dtagn"): {"source": "Table 8", "protocol": "kfold", "classes": _CKPLUS,
                               "accuracy": {"fge": None, "fme": None, "mixed": 0.8930}},
}
# Table 8's FGE set is CK+ itself: training on it is the paper's CK+ setting.
_SAME_PAPER_SETTING = {"ckplus_fge": "ckplus"}


def paper_result(dataset: str, protocol: str, variant: str, classes: Sequence[str],
                 target: str = "", sources: Iterable[str] | None = None) -> dict | None:
    """The paper's published numbers for this exact setting, or None.

    `sources`: the source datasets of a composite; a composite from another
    membership list than MEGC 2019's (other sources) is not the paper's setting.
    """
    key = f"{dataset}_to_{target}" if protocol == "cross" else dataset
    entry = PAPER_RESULTS.get((_SAME_PAPER_SETTING.get(key, key), variant))
    if entry is None or entry["protocol"] != protocol or tuple(classes) != entry["classes"]:
        return None
    if sources is not None and "per_dataset" in entry and set(sources) != set(
            entry["per_dataset"]):
        return None
    return entry


# ---------------------------------------------------------------- predictions


def prediction_fields(classes: Sequence[str]) -> list[str]:
    return (["fold", "dataset", "subject", "clip", "true", "true_name", "predicted",
             "predicted_name"] + [f"prob_{name}" for name in classes])


def write_predictions(path: str, rows: Sequence[Mapping], classes: Sequence[str]) -> None:
    """Write prediction rows (dicts with `prediction_fields` keys) atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=prediction_fields(classes))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()})
    files.atomic_write(path, text.getvalue())


def read_predictions(path: str, classes: Sequence[str] | None = None,
                     advice: str = "retrain the fold") -> list[dict]:
    """The rows of a predictions.csv, `true` and `predicted` as ints.

    With `classes`, every row must have a label index below their number and a
    finite probability per class: a NaN probability is never scored (argmax would
    make it class 0). Raises FileNotFoundError or ValueError naming the file and
    ending in `advice`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: {advice}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for line, row in enumerate(rows, start=2):
        try:
            row["true"], row["predicted"] = int(row["true"]), int(row["predicted"])
            probs = [float(row[f"prob_{name}"]) for name in classes or ()]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}, line {line}: not a prediction row of classes "
                             f"{', '.join(classes or ())}: {advice}") from None
        labels_ok = all(0 <= row[k] < len(classes or ()) for k in ("true", "predicted"))
        if classes is not None and not (labels_ok and all(math.isfinite(p) for p in probs)):
            raise ValueError(f"{path}, line {line}: clip {row.get('clip')} has probabilities "
                             f"that are not numbers or a label out of range: {advice}")
    return rows


# ---------------------------------------------------------------- scores


def score(rows: Sequence[Mapping], classes: Sequence[str]) -> dict:
    """metrics.summarize over pooled rows, with chance levels, and per source
    dataset when the rows come from several (the composite)."""
    if not rows:
        raise ValueError("no predictions to score")
    true = [r["true"] for r in rows]
    result = metrics.summarize(true, [r["predicted"] for r in rows], classes)
    result["confusion_percent"] = _rounded(metrics.confusion_percent(result["confusion"]))
    result["chance"] = metrics.chance_levels(list(result["support"].values()))
    sources = sorted({r["dataset"] for r in rows})
    # The sources the pooled rows hold: a composite of a few folds, or from another
    # membership list, is not the paper's setting even when it holds one source.
    result["sources"] = sources
    if len(sources) > 1:
        result["per_dataset"] = {
            source: metrics.summarize([r["true"] for r in rows if r["dataset"] == source],
                                      [r["predicted"] for r in rows if r["dataset"] == source],
                                      classes)
            for source in sources}
    return result


def _rounded(array) -> list:
    return [[None if math.isnan(v) else round(float(v), 2) for v in row] for row in np.asarray(array)]


# ---------------------------------------------------------------- text


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def _num(value) -> str:
    return "" if value is None else f"{value:.4f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _abbrev(name: str) -> str:
    return name[:3].capitalize() + "."


def _confusion_lines(percent, classes) -> list[str]:
    header = ["true \\ predicted"] + [_abbrev(c) for c in classes]
    rows = [[_abbrev(c)] + ["" if v is None else f"{v:.1f}" for v in row]
            for c, row in zip(classes, percent)]
    return _md_table(header, rows)


def _published(value) -> str:
    """A published score with the precision it was printed with (0.77, 0.7134)."""
    if value is None:
        return ""
    return f"{value:.2f}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.4f}"


def score_table(result: dict, setting: Mapping, paper: dict | None) -> list[str]:
    """The headline table in the paper's layout: this run, then the paper's
    published row for the same setting, then the chance levels."""
    variant = VARIANT_TITLES.get(setting["variant"], setting["variant"])
    ours, theirs = f"This run: {variant}", (f"Paper, published ({paper['source']}): {variant}"
                                            if paper else "")
    if setting["protocol"] == "composite":  # Table 6
        # Table 6's order, then the other sources of a composite from another list.
        per_dataset = result.get("per_dataset", {})
        sources = tuple(s for s in _TABLE6_SOURCES if s in per_dataset or not per_dataset) + \
            tuple(sorted(set(per_dataset) - set(_TABLE6_SOURCES)))
        header = ["", "Composite UF1", "UAR"] + [f"{DATASET_TITLES.get(s, s)} {m}" for s in sources
                                                for m in ("UF1", "UAR")]

        def row(name, overall, per, fmt):
            cells = [name, fmt(overall.get("uf1")), fmt(overall.get("uar"))]
            for s in sources:
                cells += [fmt(per.get(s, {}).get("uf1")), fmt(per.get(s, {}).get("uar"))]
            return cells

        rows = [row(ours, result, result.get("per_dataset", {}), _num)]
        if paper:
            rows.append(row(theirs, paper, paper["per_dataset"], _published))
        lines = _md_table(header, rows) + [""]
        lines += _md_table(["", "Accuracy", "F1-score", "UF1", "UAR"],
                           [[ours] + _score_cells(result)])
    elif setting["protocol"] == "cross":  # Table 7
        title = (f"{DATASET_TITLES.get(setting['dataset'], setting['dataset'])} -> "
                 f"{DATASET_TITLES.get(setting['target'], setting['target'])}")
        rows = [[f"{ours}, w/o DA", f"{_num(result['f1'])} / {_pct(result['accuracy'])}",
                 _num(result["uf1"]), _num(result["uar"])]]
        if paper:
            rows.append([f"{theirs}, w/o DA",
                         f"{_published(paper['f1'])} / {_pct(paper['accuracy'])}", "", ""])
        lines = _md_table(["", f"{title}: mean F1 / accuracy", "UF1", "UAR"], rows)
    else:  # Tables 3 and 8
        rows = [[ours] + _score_cells(result)]
        if paper:
            rows.append([theirs, _pct(paper.get("accuracy")), _published(paper.get("f1")), "", ""])
        lines = _md_table(["", "Accuracy", "F1-score", "UF1", "UAR"], rows)
    chance = result["chance"]
    lines += ["", f"Chance on this truth: uniform guessing {_pct(chance['uniform_accuracy'])} "
                  f"accuracy and {_num(chance['uniform_uar'])} UAR; always the majority class "
                  f"{_pct(chance['majority_class_accuracy'])} accuracy, "
                  f"{_num(chance['majority_class_f1'])} F1, {_num(chance['majority_class_uf1'])} "
                  f"UF1, {_num(chance['majority_class_uar'])} UAR."]
    return lines


def _score_cells(result: Mapping) -> list[str]:
    return [_pct(result["accuracy"]), _num(result["f1"]), _num(result["uf1"]), _num(result["uar"])]


def format_table(result: dict) -> str:
    """A few plain lines for the terminal, from metrics.json's content; the
    paper's published numbers for the setting, if any, on their own labelled lines."""
    setting = result["setting"]
    lines = [run_title(setting), f"{'':<32}{'Accuracy':>10}{'F1':>8}{'UF1':>8}{'UAR':>8}  clips"]

    def line(name, r, fmt=lambda v: "" if v is None else f"{v:.4f}", clips=""):
        return (f"{name:<32}{_pct(r.get('accuracy')):>10}{fmt(r.get('f1')):>8}"
                f"{fmt(r.get('uf1')):>8}{fmt(r.get('uar')):>8}  {clips}").rstrip()

    lines.append(line("this run", result, clips=result["num_clips"]))
    for source, r in sorted(result.get("per_dataset", {}).items()):
        lines.append(line(f"  {source}", r, clips=r["num_clips"]))
    c = result["chance"]
    lines.append(line("chance (uniform guess)", {"accuracy": c["uniform_accuracy"],
                                                 "uar": c["uniform_uar"]}))
    lines.append(line("chance (majority class)", {
        "accuracy": c["majority_class_accuracy"], "f1": c["majority_class_f1"],
        "uf1": c["majority_class_uf1"], "uar": c["majority_class_uar"]}))
    paper = paper_result(setting["dataset"], setting["protocol"], setting["variant"],
                         result["classes"], setting.get("target", ""), result.get("sources"))
    if paper:
        lines.append(line(f"paper, published ({paper['source'].split(' and ')[0]})", paper,
                          _published))
        for source, r in sorted(paper.get("per_dataset", {}).items()):
            lines.append(line(f"  {source}, published", r, _published))
    folds = result["folds"]
    if folds["missing"]:
        lines.append(f"partial: {len(folds['finished'])} of {folds['total']} folds finished")
    return "\n".join(lines)


def run_title(setting: Mapping) -> str:
    """The run's one-line description: data, protocol, variant, T tag."""
    data = DATASET_TITLES.get(setting["dataset"], setting["dataset"])
    if setting["protocol"] == "cross":
        data += f" -> {DATASET_TITLES.get(setting['target'], setting['target'])}"
    return (f"{data}, {PROTOCOL_TITLES[setting['protocol']]}, "
            f"{VARIANT_TITLES.get(setting['variant'], setting['variant'])}, {setting['tag']}")


def markdown(result: dict, setting: Mapping, paper: dict | None) -> str:
    classes = setting["classes"]
    folds = setting["folds"]
    lines = [f"# {run_title(setting)}", ""]
    lines.append(f"Data: {setting['data']}. Test clips scored: {result['num_clips']} "
                 f"({', '.join(f'{k} {v}' for k, v in result['support'].items())}).")
    lines.append(f"Folds finished: {len(folds['finished'])} of {folds['total']}"
                 + (f" (missing: {', '.join(folds['missing'])}; scores cover the finished "
                    f"folds only)" if folds["missing"] else "") + ".")
    # Only MEGC 2019's composite has the paper's row (`paper_result`) and 68 subjects.
    if setting["protocol"] == "composite" and paper is not None and folds["total"] != 68:
        lines.append(f"Note: the MEGC 2019 composite has 68 subjects; this folder has "
                     f"{folds['total']}.")
    lines += ["", "## Scores", ""]
    lines += score_table(result, setting, paper)
    if paper is None:
        lines += ["", "The paper publishes no result for this exact setting."]
    else:
        lines += ["", f"Rows marked \"Paper, published\" are copied from Choi & Song (IEEE "
                      f"Access 2020), {paper['source']}; they are not results of this run."]
    lines += ["", "## Confusion matrix, % of each true class (rows: true, columns: predicted)",
              "", "This run:", ""]
    lines += _confusion_lines(result["confusion_percent"], classes)
    if paper and "confusion_percent" in paper:
        lines += ["", f"Paper, published ({paper['source']}):", ""]
        lines += _confusion_lines(paper["confusion_percent"], classes)
    lines += ["", "## Folds whose training lacked a class", ""]
    lacking = setting["lacking"]
    if lacking:
        lines.append("Legitimate in leave-one-subject-out (the test subject held the only "
                     "clips of a class, or none were there); those folds could not predict it.")
        lines += [f"- {fold}: {', '.join(names)}" for fold, names in lacking.items()]
    else:
        lines.append("None: every fold trained on every class.")
    if result["absent_classes"]:
        lines += ["", f"Classes with no test clip (left out of UF1 and UAR, counted as 0 in "
                      f"F1): {', '.join(result['absent_classes'])}."]
    lines += ["", "## Settings", "", "```json", json.dumps(setting["config"], indent=1,
                                                            sort_keys=True), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- images


def confusion_picture(workdir: str) -> tuple[bytes, str]:
    """The confusion matrix of a finished run, from its metrics.json: (PNG, default name)."""
    path = os.path.join(workdir, METRICS)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {METRICS} in {workdir}: not a finished run (train it, or "
                                f"pool its folds with --pool_only)")
    result = files.read_json(path, ("confusion_percent", "classes", "setting", "folds"),
                             "pool the run again with --pool_only")
    png = confusion_png(result["confusion_percent"], result["classes"], _confusion_title(result))
    return png, f"confusion_{os.path.basename(os.path.normpath(workdir))}.png"


def _confusion_title(result: dict) -> str:
    return (f"{run_title(result['setting'])}\naccuracy {_pct(result['accuracy'])}, "
            f"UF1 {_num(result['uf1'])}, UAR {_num(result['uar'])}, {result['num_clips']} clips")


# ---------------------------------------------------------------- TensorBoard


def write_map_samples(logdir: str, samples: Mapping[str, np.ndarray], step: int = 0) -> None:
    """Each class's sample window of maps (24, M, M), tiled 4 x 6 in Fig. 3 colours."""
    with tf.summary.create_file_writer(logdir).as_default():
        for name, maps in samples.items():
            scale = max(1, 96 // maps.shape[-1])
            grid = tile(maps_to_rgb(maps, scale), columns=6)
            tf.summary.image(f"maps/{name}", grid[None], step=step,
                             description="Normalized maps (Eq. 2) of one training clip's "
                                         "window: blue = landmarks moving apart, red = closer.")


def flat_hparams(config: Mapping, prefix: str = "") -> dict:
    """Config -> {"cnn.epochs": 20, ...} with values TensorBoard's HParams accept."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        else:
            out[name] = str(value)
    return out


def write_tensorboard(logdir: str, result: dict, config: Mapping, png: bytes) -> None:
    """The run's scores, confusion image and HParams (TensorBoard's HParams plugin)."""
    hparams = flat_hparams(config)
    trial = os.path.basename(os.path.normpath(config.get("workdir") or "run"))
    scores = {name: result[name] for name in SCORES}
    for source, r in result.get("per_dataset", {}).items():
        scores.update({f"{source}/{name}": r[name] for name in ("uf1", "uar")})
    with tf.summary.create_file_writer(logdir).as_default():
        hp.hparams_config(hparams=[hp.HParam(k) for k in hparams],
                          metrics=[hp.Metric(f"scores/{k}") for k in scores])
        hp.hparams(hparams, trial_id=trial)
        for name, value in scores.items():
            tf.summary.scalar(f"scores/{name}", value, step=0)
        _png_summary("confusion_matrix", png)


def _png_summary(tag: str, png: bytes, step: int = 0) -> None:
    tf.summary.image(tag, tf.image.decode_png(png, channels=3)[None], step=step)


def write_images(logdir: str, pngs: Mapping[str, bytes], step: int = 0) -> None:
    """PNG pictures (tag -> bytes) as TensorBoard images."""
    with tf.summary.create_file_writer(logdir).as_default():
        for tag, png in pngs.items():
            _png_summary(tag, png, step)


# ---------------------------------------------------------------- the run


def write(workdir: str, rows: Sequence[Mapping], setting: Mapping) -> dict:
    """Score pooled rows and write every output file of the run; returns metrics.json.

    `setting` describes the run: dataset, target, protocol, variant, tag, classes,
    data (a sentence), folds {"total", "finished", "missing"}, lacking (fold ->
    class names) and config (the training config as a dict).
    """
    classes = list(setting["classes"])
    result = score(rows, classes)
    result["classes"] = classes
    result["setting"] = {k: setting[k] for k in ("dataset", "target", "protocol", "variant", "tag")}
    result["folds"] = dict(setting["folds"])
    result["folds_lacking_classes"] = dict(setting["lacking"])
    paper = paper_result(setting["dataset"], setting["protocol"], setting["variant"], classes,
                         setting.get("target", ""), result["sources"])
    write_predictions(os.path.join(workdir, PREDICTIONS), rows, classes)
    files.write_json(os.path.join(workdir, METRICS), result)
    files.atomic_write(os.path.join(workdir, REPORT), markdown(result, setting, paper))
    png = confusion_png(result["confusion_percent"], classes, _confusion_title(result))
    files.atomic_write(os.path.join(workdir, CONFUSION_PNG), png)
    write_tensorboard(os.path.join(workdir, "tensorboard", "run"), result, setting["config"], png)
    return result

