"""Spotting runs, as `python -m lfm_tf.spot` calls them: a dataset of long videos
evaluated under the MEGC protocol, or people's own recordings spotted.

Long recordings (SAMM-LV: up to 11,770 frames of 2040x1088) are streamed frame by
frame through the landmark tracker (`recordings.read_recording` never holds a
video in memory), their landmarks cached per video so that a second run, or a run
that was interrupted, does not track them again, with progress on stderr.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from lfm_tf import datasets, landmarks, recordings
from lfm_tf.datasets.base import list_images
from lfm_tf.datasets.long_videos import spotting_facts
from lfm_tf.spotting import evaluate, report, spotter

PROGRESS_EVERY = 500  # frames between progress lines


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Progress:
    """An extractor whose `track` reports frames done (and the rate) as they stream by."""

    def __init__(self, extractor: landmarks.LandmarkExtractor, name: str, total: int | None,
                 log: Callable[[str], None]):
        self.extractor, self.name, self.total, self.log = extractor, name, total, log

    def track(self, frames: Iterable[np.ndarray],
              source: str = "frames") -> landmarks.LandmarkTrack:
        start = time.perf_counter()

        def counted():
            for n, frame in enumerate(frames, start=1):
                if n % PROGRESS_EVERY == 0:
                    rate = n / (time.perf_counter() - start)
                    of = f"/{self.total}" if self.total else ""
                    self.log(f"  {self.name}: {n}{of} frames, {rate:.0f} frames/s")
                yield frame

        return self.extractor.track(counted(), source)


def _cache_path(path: str, cache_dir: str, settings: landmarks.LandmarkSettings,
                fps: float | None) -> str:
    """One file per input, keyed by its path, its files' sizes and times (a
    re-rendered or replaced video is tracked anew) and --fps (the recording's rate
    and its notes depend on it)."""
    files = list_images(path) if os.path.isdir(path) else [path]
    stats = [f"{p}:{st.st_size}:{st.st_mtime_ns}" for p in files for st in [os.stat(p)]]
    key = hashlib.sha256("\n".join([os.path.abspath(path), f"fps {fps!r}", *stats]).encode()
                         ).hexdigest()[:16]
    name = os.path.basename(os.path.normpath(path))
    return os.path.join(cache_dir, settings.cache_key(), f"{name}-{key}.npz")


def recording(path: str, fps: float | None, cache_dir: str | None,
              extractor: landmarks.LandmarkExtractor,
              log: Callable[[str], None] = _stderr) -> recordings.Recording:
    """The landmarks of a video, a folder of frames or a landmark file, cached in
    `cache_dir` (None: not cached) for videos and frames, whole (cuts, reliability,
    notes: a second run reads what the first one found); a recording without a
    face is cached as such too, so it is not tracked again either. `extractor`
    (`recordings.unbridged_extractor`) is shared by all inputs of a run: dlib's
    models load once.

    Raises:
      recordings.InputError: an input that cannot be read (see read_recording).
      landmarks.NoFaceError: no frame with a face.
    """
    source = recordings.input_source(path)
    if source == "landmarks" or cache_dir is None:
        cached = None
    else:
        cached = _cache_path(path, cache_dir, extractor.settings, fps)
        if os.path.exists(cached):
            return _load(path, cached)
    # Frames on the folder's numbering, holes included, as the tracker counts them.
    total = len(recordings.frame_files(path)[0]) if os.path.isdir(path) else None
    if source != "landmarks":
        log(f"{path}: tracking landmarks")
    progress = _Progress(extractor, os.path.basename(path), total, log)
    try:
        rec = recordings.read_recording(path, fps, progress)
    except landmarks.NoFaceError as err:
        _save(cached, error=np.array(str(err)))
        raise
    _save(cached, landmarks=rec.landmarks, face=rec.face, fps=rec.fps, source=rec.source,
          time_base=rec.time_base, notes=np.array(rec.notes, dtype=str),
          source_frames=np.array([] if rec.source_frames is None else rec.source_frames,
                                 dtype=np.int64),
          resampled=rec.source_frames is not None, reliability=rec.reliability,
          declared_fps=np.nan if rec.declared_fps is None else rec.declared_fps,
          warnings=np.array(rec.warnings, dtype=str), cuts=np.array(rec.cuts, dtype=np.int64))
    return rec


def _load(path: str, cached: str) -> recordings.Recording:
    """The recording `recording` saved in `cached`; raises NoFaceError if it had no face."""
    # allow_pickle=False: an entry is arrays only, never code.
    with np.load(cached, allow_pickle=False) as data:
        if "error" in data:
            raise landmarks.NoFaceError(str(data["error"]))
        declared = float(data["declared_fps"])
        return recordings.Recording(
            path, str(data["source"]), float(data["fps"]), data["landmarks"], data["face"],
            str(data["time_base"]), data["notes"].tolist(),
            data["source_frames"] if bool(data["resampled"]) else None, data["reliability"],
            None if np.isnan(declared) else declared, data["warnings"].tolist(),
            tuple(data["cuts"].tolist()))


def _save(cached: str | None, **arrays) -> None:
    if cached:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        tmp = f"{cached}.tmp-{uuid.uuid4().hex[:8]}.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, cached)


_WORKER: dict = {}


def _start_worker(settings: landmarks.LandmarkSettings,
                  log: Callable[[str], None] = _stderr) -> None:
    _WORKER.update(extractor=recordings.unbridged_extractor(settings), log=log)


def _track(folder: str, fps: float, cache_dir: str) -> np.ndarray | str:
    """One video's landmarks with this process's extractor, or why there are none."""
    try:
        return recording(folder, fps, cache_dir, _WORKER["extractor"], _WORKER["log"]).landmarks
    except (recordings.InputError, landmarks.NoFaceError) as err:
        return str(err)


def evaluate_dataset(dataset: str, data_dir: str | None, workdir: str, *,
                     coding_file: str | None = None, cache_dir: str | None = None,
                     settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings(),
                     plots: int = 3, read_options: dict | None = None, workers: int = 1,
                     log: Callable[[str], None] = _stderr) -> dict:
    """Reads a spotting dataset, tracks every video (cached), spots leave-one-subject-out
    and writes report.md, metrics.json, spotted.json, the challenge CSV and the
    signal of the first `plots` videos with intervals (plots/<video>.png).

    A video whose frames cannot be tracked (no face) is named in the log and
    kept: the protocol counts its intervals as missed, as all videos are in the
    denominators. `workers` > 1 tracks that many videos at once, in processes.

    Returns:
      The protocol's result (`protocol.evaluate`).
    """
    options = dict(read_options or {})
    if coding_file:
        options["coding_file"] = coding_file
    found = datasets.read(dataset, data_dir, **options)
    log(found.summary())
    start = time.perf_counter()
    tracks = {v.video_id: v.landmarks for v in found.videos if v.landmarks is not None}
    on_disk = [v for v in found.videos if v.landmarks is None]
    cache = cache_dir or os.path.join(workdir, "landmarks")
    # A video's first frame is always present (`long_videos.video_frames`).
    jobs = [(os.path.dirname(v.frames[0]), v.fps, cache) for v in on_disk]
    if workers > 1 and len(jobs) > 1:
        # Tracking is the only step that is per video and slow; the thresholds need
        # every video at once. Each worker loads dlib once (the initializer).
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(jobs)), _start_worker, (settings,)) as pool:
            outcomes = pool.starmap(_track, jobs)
    else:
        _start_worker(settings, log)
        outcomes = [_track(*job) for job in jobs]
    unspotted = []
    for v, outcome in zip(on_disk, outcomes):
        if not isinstance(outcome, str) and len(outcome) != v.num_frames:
            # Both count the folder's frames on its numbering; positions are
            # first_frame-based frame numbers only while they agree.
            outcome = (f"{len(outcome)} frames tracked, but the folder's numbering has "
                       f"{v.num_frames}")
        if isinstance(outcome, str):
            log(f"{v.name}: not spotted, its {len(v.intervals)} intervals count as missed: "
                f"{outcome}")
            unspotted.append(v.video_id)
        tracks[v.video_id] = None if isinstance(outcome, str) else outcome
    seconds = {"landmarks": time.perf_counter() - start}
    run = evaluate.loso(found.videos, tracks, dataset, log=log)
    seconds.update(run.seconds)
    frames = sum(v.num_frames for v in found.videos)
    counts = found.type_counts()
    setting = {"data": f"{len(found.videos)} videos of {len(found.subjects())} subjects, "
                       f"{frames} frames, {counts['me']} ME and {counts['mae']} MaE intervals."
                       + (f" Not spotted, no face found (their intervals count as missed): "
                          f"{', '.join(unspotted)}." if unspotted else ""),
               "thresholds": run.thresholds, "seconds": seconds}
    log(report.write(workdir, dataset, run.result, run.predicted, setting))
    plotted = [v for v in found.videos if v.intervals and v.video_id in run.signals][:plots]
    if plotted:
        os.makedirs(os.path.join(workdir, "plots"), exist_ok=True)
    for v in plotted:
        png = report.signal_png(run.signals[v.video_id], v.fps, run.predicted[v.video_id],
                                run.thresholds[v.subject], v.video_id, v.intervals, v.first_frame)
        with open(os.path.join(workdir, "plots", f"{v.video_id}.png"), "wb") as f:
            f.write(png)
    return run.result


def spot_recordings(paths: Sequence[str], output: str, *, fps: float | None = None,
                    windows_of: str | None = None,
                    thresholds: dict[str, float] = spotter.DEFAULT_THRESHOLDS,
                    cache_dir: str | None = None,
                    settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings(),
                    log: Callable[[str], None] = _stderr) -> dict[str, list[spotter.Spotted]]:
    """Spots in people's own recordings; writes `<output>/spotted.json`,
    `<output>/spotted.csv` (the challenge's columns, vid = file name) and
    `<output>/<name>.png` per input. Frames without a face are interpolated by the
    tracker; intervals whose apex falls on such a frame are dropped.

    Args:
      paths: videos, folders of numbered frames or landmark files (.npy, .csv).
      fps: frame rate for frames and landmark files (videos declare theirs).
      windows_of: "casme_sq" or "samm_lv" to use that dataset's windows k; None:
        CAS(ME)^2's in seconds, scaled to the recording's frame rate.
      thresholds: robust-z thresholds per window (defaults fitted on synthetic data).

    Returns:
      name -> spotted intervals; an input that fails is logged with one `error:`
      line and left out (the others go on).
    """
    names = recordings.output_names(paths)
    os.makedirs(output, exist_ok=True)
    spotted, failed = {}, []
    extractor = recordings.unbridged_extractor(settings)
    for path, name in zip(paths, names):
        try:
            rec = recording(path, fps, cache_dir or os.path.join(output, "landmarks"), extractor,
                            log)
            facts = spotting_facts(windows_of, rec.fps)
            found = spotter.signals(rec.landmarks, rec.fps, facts, cuts=rec.cuts, face=rec.face)
        except ValueError as err:
            log(f"error: {path}: {err}")
            failed.append(path)
            continue
        intervals = [s for s in spotter.select(found.candidates, facts, thresholds, 1)
                     if rec.face[s.apex - 1]]
        spotted[name] = intervals
        log(f"{path}: {rec.num_frames} frames at {rec.fps:g} fps, {len(intervals)} intervals: "
            + ", ".join(f"{s.type} {s.onset}-{s.offset}" for s in intervals))
        # What predict prints of an input, spot prints too: cuts, frames without a
        # face, resampling, a --fps the video disagrees with.
        notes = list(rec.notes)
        if not rec.face.all():
            gaps = recordings.describe_runs(recordings.runs(~rec.face))
            notes.append(f"no face in {np.count_nonzero(~rec.face)} frames ({gaps}, counted from "
                         f"0): filled in, left out of the z-scale, and no interval has its apex "
                         f"there")
        for line in [*(f"warning: {w}" for w in rec.warnings), *(f"  note: {n}" for n in notes)]:
            log(line)
        png = report.signal_png(found, rec.fps, intervals, thresholds, name)
        with open(os.path.join(output, f"{name}.png"), "wb") as f:
            f.write(png)
    report.write_intervals(os.path.join(output, report.SPOTTED),
                           os.path.join(output, "spotted.csv"), spotted)
    if failed:
        raise recordings.InputError(f"{len(failed)} of {len(paths)} inputs failed: {failed}")
    return spotted
