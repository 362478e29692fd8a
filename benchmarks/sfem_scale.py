"""SFEM (Eq. 3) against face size, clip length and frame rate, on synthetic data
(issue 11): which form of `features.sfem` keeps the paper's tau = 0.35 meaningful.

  python -m benchmarks.sfem_scale            # prints markdown tables, ~1 minute

Data: `synthetic.generate(30, 1, "ckplus", "macro", fps=30, num_frames=(30, 44))`,
each clip cut at its apex as CK+ sequences are (neutral to peak, 17.5 frames on
average: the FGE set), and the FME set `table8.fme` makes from each of them with
automatic onsets (3 frames from the onset, interpolated to 12). Other face sizes
are the same tracks scaled about the origin, landmark jitter included (a tracker's
error grows with the face too). The face widths stand for: CK+ (640x490, our
reference, ~227 px between the ears), CASME II's face crops (~280 px: its faces
are about 280x340 px, Yan et al. 2014), SAMM at 2040x1088 (~400 px face), a
phone video at 1080p (~600 px) and a small webcam face (~110 px).

Not part of `make bench`: it measures a definition, not a speed.
"""

from __future__ import annotations

import numpy as np
from absl import app

from lfm_tf import features
from lfm_tf.datasets import synthetic
from lfm_tf.table8 import adaptive, fme

REFERENCE_WIDTH = 227.0
FACE_WIDTHS = {"CK+ 640x490": 227.0, "CASME II crops": 280.0, "SAMM 2040x1088": 400.0,
               "phone 1080p": 600.0, "small webcam face": 110.0}


def ckplus_like(num_frames=(30, 44), fps=30.0):
    """(FGE tracks, FME tracks) of the synthetic CK+-like set described above."""
    clips = synthetic.generate(30, 1, classes="ckplus", intensity="macro", fps=fps,
                               num_frames=num_frames, seed=0)
    fge = [c.landmarks[:c.apex] for c in clips]
    times = fme.interpolation_times()
    fmes = []
    for track in fge:
        start = fme.auto_onset(track)
        fmes.append(fme.interpolate_track(track[start:start + fme.SOURCE_FRAMES], times))
    return fge, fmes


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


def length_table() -> list[str]:
    """Scaled SFEM of fixed windows: a still face (0.2 px jitter only) and one whole
    expression (onset to offset) inside windows of growing length, at 30 fps, T = 1."""
    rng = np.random.default_rng(0)
    clips = synthetic.generate(30, 1, classes="ckplus", intensity="macro", fps=30.0,
                               num_frames=(30, 44), seed=0)
    lines = ["| window, frames (30 fps, T = 1) | still face, mean | one expression in it, mean |",
             "|" + " --- |" * 3]
    for length in (12, 18, 25, 50, 100):
        still, moving = [], []
        for clip in clips:
            face = clip.landmarks[:1].astype(np.float64)
            jitter = rng.normal(0.0, synthetic.NOISE_PX, (length, 68, 2))
            still.append(features.sfem(face + jitter, 1, form="scaled"))
            track = clip.landmarks
            if length >= len(track):
                pad = face + rng.normal(0.0, synthetic.NOISE_PX, (length - len(track), 68, 2))
                moving.append(features.sfem(np.concatenate([track, pad]), 1, form="scaled"))
        cell = f"{np.mean(moving):.3f}" if moving else "(clips are longer)"
        lines.append(f"| {length} | {np.mean(still):.3f} | {cell} |")
    return lines


def rate_table() -> list[str]:
    """The same expressions at 30 fps (T = 1) and 200 fps (T = 8), whole clips."""
    lines = ["| frame rate | T | mean scaled SFEM, neutral to apex |", "|" + " --- |" * 3]
    for fps, frames in ((30.0, (30, 44)), (200.0, (200, 293))):
        clips = synthetic.generate(30, 1, classes="ckplus", intensity="macro", fps=fps,
                                   num_frames=frames, seed=0)
        interval = features.frame_interval_for_fps(fps)
        values = [features.sfem(c.landmarks[:c.apex], interval, form="scaled") for c in clips]
        lines.append(f"| {fps:.0f} fps | {interval} | {np.mean(values):.3f} |")
    return lines


def main(argv):
    del argv
    fge, fmes = ckplus_like()
    print("\n".join(["## Routing at tau = 0.35 by face size", ""] + routing_table(fge, fmes)
                    + ["", "## Window length", ""] + length_table()
                    + ["", "## Frame rate", ""] + rate_table()))


if __name__ == "__main__":
    app.run(main)
