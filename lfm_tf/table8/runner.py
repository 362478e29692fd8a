r"""Table 8 of Choi & Song (2020): recognition by expression strength on CK+ (Section V-C).

The runner behind `python -m lfm_tf.table8` (`lfm_tf/table8/__main__.py`).

"The classifier network was trained only with FGE dataset. Using the same trained
model, the test for FGE was performed with the original CK+ dataset, but the test
for FME was performed with the synthesized FME dataset", and on a 50:50 mix,
under 10-fold validation. Here, on the folds of the landmark-map trainer:

  per variant  `trainer.run` trains the landmark-map network on ckplus_fge
               (subject-independent k-fold; its own FGE report in <workdir>/<variant>/);
  per fold     the I-FER (`lfm_tf.table8.ifer`) trains on the same training subjects'
               FGE clips; then, and only then, the fold's test subjects are read
               in all three sets and scored by each network alone and by the
               adaptive framework (`lfm_tf.table8.adaptive`), which sends each clip to
               exactly one of them by its SFEM.

Nothing trains on FME or mixed clips. Outputs in <workdir>: table8.json (every
row's scores per set, the routes, the mean SFEM of each set),
predictions/<row>_<set>.csv and report.md, this run's table beside the paper's.

With --config.export_ifer=True the I-FER is also trained on every FGE clip and
exported to <workdir>/ifer/export (`ifer.train_export`), the folder that
`python -m lfm_tf.predict --ifer_model=...` reads.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import os

import keras
import numpy as np
from absl import logging
from ml_collections import ConfigDict

from lfm_tf import (experiment, features, files, input_pipeline, protocols, records, report,
                    tfrecord_folder, trainer)
from lfm_tf.table8 import adaptive, ifer

SETS = ("fge", "fme", "mixed")
SET_TITLES = {"fge": "FGE dataset", "fme": "FME dataset", "mixed": "Mixed dataset"}
TABLE = "table8.json"
IFER_DIR = "ifer"
IFER_MODEL = ifer.EXPORT_PARTS["model"]
IFER_EXPORT = "export"


def variants(config: ConfigDict) -> list[str]:
    names = [v.strip() for v in config.variants.split(",") if v.strip()]
    for name in names:
        features.variant_indices(name)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"--config.variants must name lfm and/or clfm once each, got "
                         f"{config.variants!r}")
    return names


def lfm_config(config: ConfigDict, variant: str) -> ConfigDict:
    """The trainer's config for one variant: FGE only, into <workdir>/<variant>."""
    lfm = ConfigDict(config.lfm.to_dict())
    lfm.dataset = "ckplus_fge"
    lfm.dataset_folder = config.fge
    lfm.variant = variant
    lfm.tfrecord_dir = config.tfrecord_dir
    lfm.workdir = os.path.join(config.workdir, variant)
    return lfm


def rows_for(fold: str, clips, probabilities: np.ndarray, classes, routed=None) -> list[dict]:
    """Prediction rows of `report.score`'s form, plus each clip's SFEM and route."""
    rows = []
    for k, (clip, probs) in enumerate(zip(clips, probabilities)):
        predicted = int(np.argmax(probs))
        rows.append({"fold": fold, "dataset": clip.dataset, "subject": clip.subject,
                     "clip": clip.clip, "true": clip.label, "true_name": classes[clip.label],
                     "predicted": predicted, "predicted_name": classes[predicted],
                     "sfem": clip.sfem, "route": "" if routed is None else routed.routes[k],
                     **{f"prob_{c}": float(p) for c, p in zip(classes, probs)}})
    return rows


def _write_rows(path: str, rows: list[dict], classes) -> None:
    fields = report.prediction_fields(classes)
    fields = fields[:8] + ["sfem", "route"] + fields[8:]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in r.items()}
                     for r in rows)
    files.atomic_write(path, text.getvalue())


class _Records:
    """Decoded records per TFRecord file, each file read once per run."""

    def __init__(self):
        self._cache = {}

    def __call__(self, files) -> list[records.ClipRecord]:
        out = []
        for path in files:
            if path not in self._cache:
                self._cache[path] = records.read_file(path)
            out += self._cache[path]
        return out


def _fold_classifier(exp: experiment.Experiment, fold: protocols.Fold) -> keras.Model:
    """The fold's CNN and LSTM, as the trainer saved them, joined into one window
    classifier (uint8 (batch, 24, M, M) -> probabilities)."""
    folder = exp.fold_dir(fold)
    cnn = keras.models.load_model(os.path.join(folder, "cnn.keras"), compile=False,
                                  safe_mode=True)
    lstm = keras.models.load_model(os.path.join(folder, "lstm.keras"), compile=False,
                                   safe_mode=True)
    window = keras.Input((features.WINDOW_LENGTH, exp.map_size, exp.map_size), dtype="uint8")
    return keras.Model(window, lstm(trainer.window_embedder(cnn)(window)))


def _ifer_model(config: ConfigDict, fold: protocols.Fold, train: list[records.ClipRecord],
                classes) -> keras.Model:
    """The fold's I-FER: trained on the fold's FGE training clips, or loaded if this
    run trained it before (the run's settings are checked once, in `_claim`)."""
    path = os.path.join(config.workdir, IFER_DIR, "folds", fold.name, IFER_MODEL)
    if os.path.exists(path):
        return keras.models.load_model(path, safe_mode=True)
    logging.info("fold %s: training the I-FER on %d FGE clips", fold.name, len(train))
    model = ifer.train(train, len(classes), config.ifer, seed=config.lfm.seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with files.atomic_path(path) as tmp:
        model.save(tmp)
    return model


def export_ifer(config: ConfigDict, fge: input_pipeline.RecordFolder, read: _Records,
                classes) -> str:
    """The I-FER trained on every FGE clip, exported for `predict --ifer_model` to
    <workdir>/ifer/export; kept if this run exported it before (`_claim`)."""
    folder = os.path.join(config.workdir, IFER_DIR, IFER_EXPORT)
    if not os.path.exists(os.path.join(folder, ifer.EXPORT_INFO)):
        train = read(list(fge.subjects.values()))
        logging.info("training the I-FER on all %d FGE clips for %s", len(train), folder)
        ifer.train_export(train, classes, config.ifer, folder, seed=config.lfm.seed)
    return folder


def _claim(config: ConfigDict, fge: input_pipeline.RecordFolder) -> None:
    """The I-FER models in workdir belong to these settings and this FGE data, or
    workdir is new."""
    path = os.path.join(config.workdir, IFER_DIR, experiment.RUN_FILE)
    record = {"ifer": config.ifer.to_dict(), "seed": config.lfm.seed,
              "num_folds": config.lfm.num_folds, "data": fge.fingerprint()}
    if os.path.exists(path):
        if files.read_json(path, advice="use another --workdir") != json.loads(json.dumps(record)):
            raise ValueError(f"{path}: the I-FER models there come from other settings "
                             f"or data: use another --workdir")
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    files.write_json(path, record)


def _open_sets(config: ConfigDict, variant: str) -> dict[str, input_pipeline.RecordFolder]:
    folders = {name: input_pipeline.open_folder(config.tfrecord_dir, config[name], variant)
               for name in SETS}
    classes = {f.classes for f in folders.values()}
    if len(classes) != 1:
        raise ValueError(f"the three sets must share their classes, got {sorted(classes)}")
    return folders


def run(config: ConfigDict) -> dict:
    """Train what is not on disk yet, score every row of Table 8, write the report."""
    names = variants(config)
    experiments, sets = {}, {}
    for variant in names:
        # Opened first: a missing set fails in one line before anything trains.
        sets[variant] = _open_sets(config, variant)
    for variant in names:
        trainer.run(lfm_config(config, variant))
        experiments[variant] = experiment.prepare(lfm_config(config, variant))
    first = experiments[names[0]]
    folds = [protocols.with_validation(f, config.lfm.validation_subjects, config.lfm.seed)
             for f in first.folds]
    for variant in names[1:]:
        if [f.test_subjects for f in experiments[variant].folds] != \
                [f.test_subjects for f in first.folds]:
            raise ValueError(f"the {names[0]} and {variant} folders hold different clips, so "
                             f"their folds differ: preprocess both from the same data")
    classes = first.classes
    fge = sets[names[0]]["fge"]
    _claim(config, fge)
    read = _Records()
    rows: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    taus = {}
    for fold in folds:
        train = read(fold.train)
        model = _ifer_model(config, fold, train, classes)
        taus[fold.name] = {"paper": config.tau}
        if config.scaled_tau:
            taus[fold.name]["scaled"] = adaptive.scaled_tau([r.sfem for r in train], config.tau)
        image = adaptive.i_fer(model)
        for variant in names:
            lfm = adaptive.lfm_fer(_fold_classifier(experiments[variant], fold))
            for name in SETS:
                folder = sets[variant][name]
                test = read([folder.subjects[s] for s in fold.test_subjects
                             if s in folder.subjects])
                if not test:
                    continue
                if variant == names[0]:
                    rows[("ifer", name)] += rows_for(fold.name, test, image(test), classes)
                rows[(variant, name)] += rows_for(fold.name, test, lfm(test), classes)
                for kind, tau in taus[fold.name].items():
                    routed = adaptive.classify_records(test, lfm, image, tau)
                    rows[(f"{variant}+ifer_{kind}", name)] += rows_for(
                        fold.name, test, routed.probabilities, classes, routed)
    if config.get("export_ifer"):
        export_ifer(config, fge, read, classes)
    return _write(config, names, classes, sets[names[0]], read, rows, taus, folds)


def _mean_sfem(folder: input_pipeline.RecordFolder, read: _Records) -> float:
    return float(np.mean([r.sfem for r in read(list(folder.subjects.values()))]))


def _write(config, names, classes, sets, read, rows, taus, folds) -> dict:
    out = os.path.join(config.workdir, "predictions")
    os.makedirs(out, exist_ok=True)
    scores = {}
    for (row, name), found in sorted(rows.items()):
        _write_rows(os.path.join(out, f"{row}_{name}.csv"), found, classes)
        result = report.score(found, classes)
        result["routes"] = dict(collections.Counter(r["route"] for r in found if r["route"]))
        scores.setdefault(row, {})[name] = result
    sfem = {name: _mean_sfem(sets[name], read) for name in ("fge", "fme")}
    setting = {tfrecord_folder.sfem_setting(f.manifest) for f in sets.values()}
    if len(setting) != 1:
        raise ValueError(f"the three sets hold different SFEM: {sorted(setting)}; preprocess "
                         f"them again with --overwrite")
    table = {
        "variants": names, "classes": list(classes), "scores": scores,
        "mean_sfem": {**sfem, "fme_over_fge": sfem["fme"] / sfem["fge"]},
        "sfem": features.describe_sfem(*setting.pop()),
        "tau": taus, "folds": [f.name for f in folds],
        "sets": {name: {"path": f.path, "clips": f.manifest["counts"]["clips"],
                        "subjects": len(f.subjects)} for name, f in sets.items()},
        "config": config.to_dict(),
    }
    files.atomic_write(os.path.join(config.workdir, TABLE), json.dumps(table, indent=1, default=str))
    files.atomic_write(os.path.join(config.workdir, report.REPORT), markdown(table))
    return table


# ---------------------------------------------------------------- report.md

# Table 8's rows: (our row key, our title, the paper's key in report.PAPER_RESULTS).
ROWS = (
    ("ifer", "I-FER (ours, in the spirit of DTAGN)", "dtagn"),
    ("lfm", "LFM-based (68x68 LFM)", "lfm"),
    ("clfm", "CLFM-based (21x21 LFM)", "clfm"),
    ("lfm+ifer_paper", "LFM and I-FER (adaptive, tau = {tau})", "lfm+dtagn"),
    ("clfm+ifer_paper", "CLFM and I-FER (adaptive, tau = {tau})", "clfm+dtagn"),
)
PAPER_TITLES = {"dtagn": "DTAGN [11]", "lfm": "LFM-based (68x68 LFM)",
                "clfm": "CLFM-based (21x21 LFM)", "lfm+dtagn": "LFM and DTAGN [11] (adaptive)",
                "clfm+dtagn": "CLFM and DTAGN [11] (adaptive)"}


def _accuracy(cell: dict | None) -> str:
    return "not run" if cell is None else f"{100 * cell['accuracy']:.2f}%"


def _paper_cells(key: str) -> list[str]:
    entry = report.PAPER_RESULTS[("table8", key)]
    cells = []
    for name in SETS:
        value = entry["accuracy"][name]
        text = "N/A" if value is None else f"{100 * value:.2f}%"
        published = entry.get("accuracy_in_11", {}).get(name)
        cells.append(text + ("" if published is None else f" ({100 * published:.2f}% in [11])"))
    return cells


def markdown(table: dict) -> str:
    scores, config = table["scores"], table["config"]
    sfem = table["mean_sfem"]
    lines = ["# Table 8: recognition by expression strength, CK+ FGE / FME / mixed", "",
             "Trained on FGE clips only (subject-independent "
             f"{len(table['folds'])}-fold); every network tested on the test subjects of each set.",
             ""]
    lines += [f"- {SET_TITLES[n]}: {s['path']} ({s['clips']} clips, {s['subjects']} subjects)"
              for n, s in table["sets"].items()]
    lines += ["", "## Accuracy", "",
              "| | " + " | ".join(SET_TITLES[n] for n in SETS) + " |", "|" + " --- |" * 4]
    for key, title, paper in ROWS:
        title = title.format(tau=config["tau"])
        lines.append(f"| This run: {title} | "
                     + " | ".join(_accuracy(scores.get(key, {}).get(n)) for n in SETS) + " |")
        lines.append(f"| Paper, published: {PAPER_TITLES[paper]} | "
                     + " | ".join(_paper_cells(paper)) + " |")
    scaled = [v for v in table["variants"] if f"{v}+ifer_scaled" in scores]
    for variant in scaled:
        taus = sorted(t["scaled"] for t in table["tau"].values())
        lines.append(f"| This run: {variant.upper()} and I-FER (adaptive, tau scaled to this "
                     f"FGE set, {taus[0]:.4f}..{taus[-1]:.4f}) | "
                     + " | ".join(_accuracy(scores[f"{variant}+ifer_scaled"].get(n))
                                  for n in SETS) + " |")
    lines += ["", "Rows marked \"Paper, published\" are copied from Choi & Song (IEEE Access "
              "2020), Table 8; they are not results of this run. The paper's DTAGN is the "
              "authors' released code (with augmentation); our I-FER is a small model in its "
              "spirit (lfm_tf/ifer.py), so its rows compare designs, not that code.", ""]
    lines += ["## Expression strength (SFEM, Eq. 3)", "",
              f"SFEM: {table['sfem']}. "
              f"Mean SFEM over each set's clips: FGE {sfem['fge']:.4f}, FME {sfem['fme']:.4f}; "
              f"FME / FGE = {100 * sfem['fme_over_fge']:.1f}%. The paper reports an FME mean "
              f"of 0.32, 13.2% of its FGE mean (so about 2.42 for FGE).", ""]
    lines += ["## Routing of the adaptive framework (clips sent to LFM-FER / I-FER)", "",
              "| | " + " | ".join(SET_TITLES[n] for n in SETS) + " |", "|" + " --- |" * 4]
    for key in sorted(k for k in scores if "+ifer_" in k):
        cells = []
        for n in SETS:
            routes = scores[key].get(n, {}).get("routes", {})
            cells.append(f"{routes.get(adaptive.LFM_FER, 0)} / {routes.get(adaptive.I_FER, 0)}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", "## Mixed set by source (accuracy on its FGE half / FME half)", ""]
    for key in sorted(scores):
        per = scores[key].get("mixed", {}).get("per_dataset", {})
        if per:
            lines.append(f"- {key}: " + ", ".join(f"{source} {100 * s['accuracy']:.2f}% "
                                                  f"({s['num_clips']} clips)"
                                                  for source, s in sorted(per.items())))
    lines += ["", "## All scores", "", "| row | set | accuracy | F1 | UF1 | UAR | clips |",
              "|" + " --- |" * 7]
    for key in sorted(scores):
        for n in SETS:
            s = scores[key].get(n)
            if s:
                lines.append(f"| {key} | {n} | {100 * s['accuracy']:.2f}% | {s['f1']:.4f} | "
                             f"{s['uf1']:.4f} | {s['uar']:.4f} | {s['num_clips']} |")
    lines += ["", "## Settings", "", "```json", json.dumps(config, indent=1, sort_keys=True,
                                                            default=str), "```", ""]
    return "\n".join(lines)
