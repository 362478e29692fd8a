"""What a spotting run writes: report.md beside the published numbers, metrics.json,
the challenge CSV, the spotted intervals as JSON, and a picture of the signal.

Published numbers are the authors' own, on the real datasets, and are always
labelled as published; this toolkit has not reproduced them.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from lfm_tf.datasets.long_videos import TYPE_TITLES, TYPES
from lfm_tf.spotting import protocol
from lfm_tf.spotting.spotter import Signals, Spotted

REPORT, METRICS, SPOTTED = "report.md", "metrics.json", "spotted.json"
# The challenge's file names (DATASETS_MORE.md C); other datasets get pred.csv.
CHALLENGE_CSV = {"casme_sq": "cas_pred.csv", "samm_lv": "samm_pred.csv"}
TITLES = {"casme_sq": "CAS(ME)^2 long videos", "samm_lv": "SAMM Long Videos",
          "synthetic_long": "synthetic long recordings"}
# Overall F1 (ME + MaE pooled) at IoU 0.5, as published (issue 14): the MEGC 2019
# baseline (He et al., MDMD) and LGSNet (Yu et al., 2023).
PUBLISHED: dict[str, list[tuple[str, dict[str, float]]]] = {
    "casme_sq": [("MEGC 2019 baseline (MDMD), published", {"overall": 0.0179}),
                 ("LGSNet, published", {"overall": 0.4637})],
    "samm_lv": [("MEGC 2019 baseline (MDMD), published", {"overall": 0.0316})],
}
COLOURS = {"me": "tab:red", "mae": "tab:blue"}


def _f1(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def markdown(dataset: str, result: Mapping, setting: Mapping) -> str:
    """report.md: this run's scores per type beside the published ones.

    `setting`: "data" (a sentence on what was read), "thresholds" (subject -> fitted
    thresholds), "seconds" (wall time per step).
    """
    title = TITLES.get(dataset, dataset)
    lines = [f"# Spotting on {title}", "",
             f"{setting['data']}", "",
             f"MEGC protocol (DATASETS_MORE.md C): IoU of inclusive frame sets >= "
             f"{result['threshold']}, {result['matching']} counting, TP/FP/FN summed over all "
             f"{result['videos']} videos; thresholds fitted leave-one-subject-out.", "",
             "| | ME F1 | MaE F1 | overall F1 | overall precision | overall recall |",
             "| --- | --- | --- | --- | --- | --- |"]
    overall = result["overall"]
    lines.append(f"| this run | {_f1(result['me']['f1'])} | {_f1(result['mae']['f1'])} | "
                 f"{_f1(overall['f1'])} | {_f1(overall['precision'])} | {_f1(overall['recall'])} |")
    for name, scores in PUBLISHED.get(dataset, []):
        lines.append(f"| {name} | {_f1(scores.get('me'))} | {_f1(scores.get('mae'))} | "
                     f"{_f1(scores.get('overall'))} | n/a | n/a |")
    lines += ["", "| counts | TP | FP | FN | precision | recall | F1 |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for key in (*TYPES, "overall"):
        c = result[key]
        lines.append(f"| {TYPE_TITLES.get(key, key)} | {c['tp']} | {c['fp']} | {c['fn']} | "
                     f"{c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} |")
    lines += ["", "Thresholds (robust z) per left-out subject: " + ", ".join(
        f"{s} ME {t['me']:g} MaE {t['mae']:g}" for s, t in setting["thresholds"].items()), ""]
    if setting.get("seconds"):
        lines.append("Wall time: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in setting["seconds"].items()))
    if dataset in PUBLISHED:
        lines += ["", "Published rows are the authors' numbers on the real dataset, not ours."]
    return "\n".join(lines) + "\n"


def signal_png(signals: Signals, fps: float, spotted: Sequence[Spotted],
               thresholds: Mapping[str, float], title: str, truth: Sequence = (),
               first_frame: int = 1) -> bytes:
    """The z-signal of both windows over time (s) with the thresholds, spotted
    intervals shaded, true intervals as bars below (when known), talking hatched."""
    fig = Figure(figsize=(12, 3.6))
    ax = fig.add_subplot()
    n = len(next(iter(signals.z.values())))
    seconds = np.arange(n) / fps
    for kind in TYPES:
        ax.plot(seconds, signals.z[kind], lw=0.7, color=COLOURS[kind],
                label=f"{TYPE_TITLES[kind]} window")
        ax.axhline(thresholds[kind], color=COLOURS[kind], ls=":", lw=0.8)
    top = max(float(np.max(z)) for z in signals.z.values())
    for first, last in signals.talking:
        ax.axvspan(first / fps, last / fps, color="0.85", hatch="//", lw=0, label="_talking")
    for s in spotted:
        ax.axvspan((s.onset - first_frame) / fps, (s.offset - first_frame) / fps,
                   color=COLOURS[s.type], alpha=0.25)
    for t in truth:
        ax.plot([(t.onset - first_frame) / fps, (t.offset - first_frame) / fps],
                [-0.06 * top] * 2, color=COLOURS[t.type], lw=4, solid_capstyle="butt")
    ax.set_xlim(0, n / fps)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("signal (robust z)")
    ax.set_title(f"{title}: shaded spotted, bars true (red ME, blue MaE), hatched talking",
                 fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def write_intervals(json_path: str, csv_path: str,
                    predicted: Mapping[str, Sequence[Spotted]]) -> None:
    """The spotted intervals as JSON (video -> onset, apex, offset, score, type) and
    as the challenge CSV (`vid,pred_onset,pred_offset,type`)."""
    _write_text(json_path, json.dumps(
        {video: [s.as_dict() for s in spotted] for video, spotted in predicted.items()}, indent=1))
    protocol.write_challenge_csv(csv_path, predicted)


def write(workdir: str, dataset: str, result: Mapping, predicted: Mapping[str, Sequence[Spotted]],
          setting: Mapping) -> str:
    """report.md, metrics.json, spotted.json and the challenge CSV in `workdir`;
    returns report.md's text."""
    os.makedirs(workdir, exist_ok=True)
    text = markdown(dataset, result, setting)
    _write_text(os.path.join(workdir, REPORT), text)
    _write_text(os.path.join(workdir, METRICS), json.dumps(
        {**result, "thresholds": setting["thresholds"], "seconds": setting.get("seconds", {})},
        indent=1))
    write_intervals(os.path.join(workdir, SPOTTED),
                    os.path.join(workdir, CHALLENGE_CSV.get(dataset, "pred.csv")), predicted)
    return text


def _write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
