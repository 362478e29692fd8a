"""Spotting (issue 14): F1 on held-out synthetic long recordings, the spotter's speed
and memory on a SAMM-LV-sized video, and frames/s end to end on a rendered video.

  python -m benchmarks.spotting --work_dir=/tmp/bench --out=spotting.json

- F1: synthetic long recordings with distractors (`datasets.synthetic_long`), seed
  2026, which no part of the spotter was developed or tuned on (development used
  seeds 0, 1, 3 and 5); 10 subjects x 2 videos x 60 s at 30 fps; thresholds fitted
  leave-one-subject-out; the MEGC protocol. Again with 0.5 px landmark noise.
- Speed and memory: `spotting.spotter.signals` on one 11,770-frame track at 200 fps
  (SAMM-LV's longest video), pinned to one core; memory is the peak of NumPy's
  allocations (tracemalloc) during the call.
- End to end: 40 s of a synthetic recording (seed 2026) rendered at 640x480 on a
  real face photo (`synthetic_render`) and written as an MJPG .avi; `spot_recordings`
  on it (decoding, dlib landmarks tracked, the spotter, the picture), one core, and
  the protocol against the intervals planted in those frames (default thresholds:
  nothing is fitted on dlib's landmarks).
"""

from __future__ import annotations

import os
import time
import tracemalloc

import cv2
from absl import app

from benchmarks import common
from lfm_tf.datasets import synthetic_long, synthetic_render
from lfm_tf.datasets.long_videos import TYPE_TITLES, spotting_facts
from lfm_tf.spotting import evaluate, protocol, run, spotter

HELD_OUT_SEED = 2026
SAMM_LV_LONGEST = 11770


def f1_run(noise_px: float) -> dict:
    videos = synthetic_long.generate(num_subjects=10, videos_per_subject=2, seconds=60.0,
                                     seed=HELD_OUT_SEED, noise_px=noise_px)
    start = time.perf_counter()
    result = evaluate.loso(videos, {v.video_id: v.landmarks for v in videos}, None,
                           log=common.log).result
    return {"noise_px": noise_px, "videos": len(videos),
            "frames": sum(v.num_frames for v in videos), "wall_s": time.perf_counter() - start,
            **{k: {m: result[k][m] for m in ("tp", "fp", "fn", "precision", "recall", "f1")}
               for k in ("me", "mae", "overall")}}


def speed() -> dict:
    track = synthetic_long.generate(1, 1, fps=200.0, seconds=SAMM_LV_LONGEST / 200.0,
                                    seed=HELD_OUT_SEED)[0].landmarks
    facts = spotting_facts("samm_lv", 200.0)
    tracemalloc.start()
    with common.Stopwatch() as watch:
        spotter.signals(track, 200.0, facts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"frames": len(track), **watch.timing.rates(len(track), "frames"),
            "peak_mb": peak / 2**20}


def end_to_end() -> dict:
    video = synthetic_long.generate(1, 1, seconds=60.0, seed=HELD_OUT_SEED)[0]
    frames = 1200
    image, anchor = synthetic_render.photo()
    warp = synthetic_render.PiecewiseAffineWarp(image, anchor)
    path = common.work_path("spotting", "rendered_640x480.avi")
    if not os.path.exists(path):
        track = synthetic_render.motion_on_photo(video.landmarks[:frames], anchor)
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0,
                                 (image.shape[1], image.shape[0]), isColor=False)
        for points in track:
            writer.write(warp(points))
        writer.release()
    out = common.work_path("spotting", "spots")
    with common.Stopwatch() as watch:
        spotted = run.spot_recordings([path], out, cache_dir=None, log=common.log)
    truth = [i for i in video.intervals if i.offset <= frames]
    result = protocol.evaluate({"v": truth}, {"v": next(iter(spotted.values()))})
    return {"size": [int(image.shape[1]), int(image.shape[0])],
            **watch.timing.rates(frames, "frames"),
            **{k: {m: result[k][m] for m in ("tp", "fp", "fn", "f1")}
               for k in ("me", "mae", "overall")}}


def main(argv):
    del argv
    started = time.time()
    common.pin_to_one_core()
    result = {"f1": [f1_run(0.2), f1_run(0.5)], "speed": speed(), "end_to_end": end_to_end()}
    common.save(result, started)


def section(sp: dict) -> list[str]:
    """BENCHMARKS.md's spotting section from this module's result."""
    lines = ["## 6. Spotting", "",
             f"Synthetic long recordings with distractors (blinks, talking, a head turn, drift), "
             f"held-out seed {HELD_OUT_SEED}, {sp['f1'][0]['videos']} videos of 60 s at 30 fps "
             f"({sp['f1'][0]['frames']} frames), thresholds fitted leave-one-subject-out, MEGC "
             "protocol at IoU 0.5 (targets: ME F1 >= 0.5, MaE F1 >= 0.7):", "",
             "| landmark noise | type | TP | FP | FN | precision | recall | F1 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run_ in sp["f1"]:
        for key in ("me", "mae", "overall"):
            c = run_[key]
            lines.append(f"| {run_['noise_px']} px | {TYPE_TITLES.get(key, key)} | {c['tp']} | "
                         f"{c['fp']} | {c['fn']} | {c['precision']:.3f} | {c['recall']:.3f} | "
                         f"{c['f1']:.3f} |")
    s, e = sp["speed"], sp["end_to_end"]
    lines += ["", f"Spotter alone on a SAMM-LV-sized track ({s['frames']} frames at 200 fps, "
              f"one core): {s['per_cpu_s']:.0f} frames per CPU second, peak NumPy memory "
              f"{s['peak_mb']:.0f} MB. End to end on a rendered {e['size'][0]}x{e['size'][1]} "
              f"video ({e['count']} frames: decoding, dlib landmarks, spotter, picture): "
              f"{e['per_cpu_s']:.0f} frames per CPU second (target 200; loading dlib's model "
              "and drawing the picture included: section 1 measures tracking alone). On "
              "those frames, with dlib's landmarks and the default thresholds, against the "
              "planted intervals: " + ", ".join(
                  f"{TYPE_TITLES.get(k, k)} TP {e[k]['tp']} FP {e[k]['fp']} FN {e[k]['fn']} "
                  f"F1 {e[k]['f1']:.3f}" for k in ("me", "mae", "overall")) + ".", ""]
    return lines


if __name__ == "__main__":
    app.run(main)
