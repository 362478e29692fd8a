"""SFEM (Eq. 3) against face size, on synthetic data (issue 11): which form of
`features.sfem` keeps the paper's tau = 0.35 meaningful at any resolution, and
which clips end up on the wrong side of it. Window length and frame rate:
`benchmarks.sfem_windows`.

  python -m benchmarks.sfem_scale            # prints markdown tables, ~1 minute

Data: `synthetic.generate(30, 1, "ckplus", "macro", fps=30, num_frames=(30, 44))`,
each clip cut at its apex as CK+ sequences are (neutral to peak, 17.5 frames on
average: the FGE set), and the FME set `table8.fme` makes from each of them with
automatic onsets (3 frames from the onset, interpolated to 12). Other face sizes
are the same tracks scaled about the origin, landmark jitter included (a tracker's
error grows with the face too). The face widths stand for: CK+ (640x490, our
reference, ~227 px between the ears), CASME II's face crops (~280 px: its faces
are about 280x340 px, Yan et al. 2014), SAMM at 2040x1088 (~400 px face), a
phone video at 1080p (~600 px) and a small webcam face (~110 px). The same set
generated without jitter and head drift (the generator draws the same expressions)
tells what the FMEs above tau are made of.

Not part of `make bench`: it measures a definition, not a speed.
"""

from __future__ import annotations

import collections

import numpy as np
from absl import app

from lfm_tf import features
from lfm_tf.datasets import synthetic
from lfm_tf.table8 import adaptive, fme

REFERENCE_WIDTH = 227.0
FACE_WIDTHS = {"CK+ 640x490": 227.0, "CASME II crops": 280.0, "SAMM 2040x1088": 400.0,
               "phone 1080p": 600.0, "small webcam face": 110.0}


def ckplus_like(num_frames=(30, 44), fps=30.0, **options):
    """(clips, FGE tracks, FME tracks, FME onsets) of the synthetic CK+-like set
    described above; `options` go to `synthetic.generate` (noise_px, drift_px)."""
    clips = synthetic.generate(30, 1, classes="ckplus", intensity="macro", fps=fps,
                               num_frames=num_frames, seed=0, **options)
    fge = [c.landmarks[:c.apex].astype(np.float64) for c in clips]
    times = fme.interpolation_times()
    fmes, onsets = [], []
    for track in fge:
        start = fme.auto_onset(track)
        fmes.append(fme.interpolate_track(track[start:start + fme.SOURCE_FRAMES], times))
        onsets.append(start)
    return clips, fge, fmes, onsets


def routing_table(fge, fmes, tau=adaptive.TAU) -> list[str]:
    lines = [f"| face | form | FGE mean | FGE >= {tau} | FME mean | FME < {tau} |",
             "|" + " --- |" * 6]
    for name, width in FACE_WIDTHS.items():
        k = width / REFERENCE_WIDTH
        for form in features.SFEM_FORMS:
            a = np.array([features.sfem(k * t, 1, form=form) for t in fge])
            b = np.array([features.sfem(k * t, 1, form=form) for t in fmes])
            lines.append(f"| {name} (~{width:.0f} px) | {form} | {a.mean():.3f} | "
                         f"{(a >= tau).mean():.1%} | {b.mean():.3f} | {(b < tau).mean():.1%} |")
    return lines


def wrong_side(tau=adaptive.TAU, form=features.WINDOW_SFEM_FORM) -> list[str]:
    """The clips on the wrong side of tau (CK+ size, `form`): synthesized FMEs at or
    above it and FGEs below it, against the rest: how strong their source
    expression is, how fast it rises, how much of it the three onset frames hold,
    their SFEM without jitter and drift (same onsets), and their classes."""
    clips, fge, fmes, onsets = ckplus_like()
    _, clean_fge, _, _ = ckplus_like(noise_px=0.0, drift_px=0.0)
    times = fme.interpolation_times()
    rows = []
    for clip, full, micro, onset, clean in zip(clips, fge, fmes, onsets, clean_fge):
        clean_micro = fme.interpolate_track(clean[onset:onset + fme.SOURCE_FRAMES], times)
        rows.append({
            "label": clip.label, "fme": features.sfem(micro, 1, form=form),
            "fme_clean": features.sfem(clean_micro, 1, form=form),
            "fge": features.sfem(full, 1, form=form),
            "fge_clean": features.sfem(clean, 1, form=form),
            # The most-moved landmark at the apex, px: the clip's drawn peak.
            "peak_px": float(np.linalg.norm(clean[-1] - clean[0], axis=1).max()),
            "rise": clip.apex - clip.onset})
    for row in rows:
        row["share"] = row["fme_clean"] / row["fge_clean"]
    lines = [f"{form} form, CK+ size, tau = {tau}: means per group", "",
             "| group | clips | FME | FME, no jitter | FGE | FGE, no jitter | apex peak, px | "
             "onset to apex, frames | FME / FGE, no jitter | classes |", "|" + " --- |" * 10]
    groups = {"FME at or above tau": [r for r in rows if r["fme"] >= tau],
              "FGE below tau": [r for r in rows if r["fge"] < tau],
              "all": rows}
    for name, group in groups.items():
        if not group:
            continue
        mean = {k: np.mean([r[k] for r in group])
                for k in ("fme", "fme_clean", "fge", "fge_clean", "peak_px", "rise", "share")}
        labels = collections.Counter(r["label"] for r in group).most_common()
        lines.append(f"| {name} | {len(group)} | {mean['fme']:.3f} | {mean['fme_clean']:.3f} | "
                     f"{mean['fge']:.3f} | {mean['fge_clean']:.3f} | {mean['peak_px']:.1f} | "
                     f"{mean['rise']:.1f} | {mean['share']:.0%} | "
                     + ", ".join(f"{k} {v}" for k, v in labels) + " |")
    return lines


def main(argv):
    del argv
    _, fge, fmes, _ = ckplus_like()
    print("\n".join(["## Routing at tau = 0.35 by face size", ""] + routing_table(fge, fmes)
                    + ["", "## Clips on the wrong side of tau", ""] + wrong_side()))


if __name__ == "__main__":
    app.run(main)
