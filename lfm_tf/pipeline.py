"""The preprocessing pipeline: dataset folder -> per-subject TFRecords of normalized maps.

An Apache Beam pipeline, so the same code runs on the local DirectRunner (both
cores, by default) and on Dataflow, Flink or Spark for large collections:

  clips (reader, in the driver) -> Reshuffle -> landmarks (cached per clip) ->
  maps (Eq. 1-2) + SFEM (Eq. 3) -> GroupByKey(subject) -> one atomically written
  `<subject>.tfrecord` per subject.

Output folder: `<out_dir>/<dataset>/<variant>_T<T>/` with one file per subject,
their receipts and a `manifest.json`, as `lfm_tf.tfrecord_folder` defines them.
A re-run skips complete subjects (unless `overwrite`), so an interrupted run
resumes where it stopped and never takes a half-written file for a finished one.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import difflib
import hashlib
import inspect
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Sequence

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

import lfm_tf
from lfm_tf import (datasets, features, files, landmarks, records, runtime, temporal_filter,
                    tfrecord_folder, timebase, video)
from lfm_tf.table8 import crops
from lfm_tf.datasets.base import Clip, ReadResult

PROGRESS = ".progress"
LANDMARK_SOURCES = ("dlib", "provided")


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """Settings of one preprocessing run.

    Attributes:
      dataset: registry name (`lfm_tf.datasets.READERS`).
      data_dir: the dataset as its users unpacked it (None for in-memory data).
      out_dir: root of the TFRecord tree.
      variant: "lfm" (68x68 maps) or "clfm" (21x21).
      frame_interval: T; None takes each clip's round(fps / 25) (Section V-A).
      landmark_source: "dlib" runs the detector; "provided" uses landmarks that
        ship with the data (CK+ `Landmarks/`, `landmarks.npy` in a folder dataset).
      landmark_settings: detector, tracking and refinement settings (part of
        the cache key).
      time_settings: what to do with a video clip whose frame times are uneven
        (`lfm_tf.timebase`: resample, the default, or refuse, skipping the clip).
      temporal_filter: the denoiser run on every clip's track, whatever its
        source (`lfm_tf.temporal_filter`).
      reader_options: keyword options for the dataset reader.
      crop_frames: also store this many eye-aligned face crops per clip, for the
        image-based FER (`lfm_tf.table8.crops`); 0 stores none.
      crop_size: side of a crop, px.
      overwrite: redo subjects that are already complete.
      progress: show a progress bar (local runners only).
    """

    dataset: str
    data_dir: str | None
    out_dir: str = "tfrecords"
    variant: str = "clfm"
    frame_interval: int | None = None
    landmark_source: str = "dlib"
    landmark_settings: landmarks.LandmarkSettings = landmarks.LandmarkSettings()
    time_settings: timebase.TimeSettings = timebase.TimeSettings()
    temporal_filter: str = temporal_filter.DEFAULT_TEMPORAL_FILTER
    reader_options: tuple[tuple[str, object], ...] = ()
    crop_frames: int = 0
    crop_size: int = crops.CROP_SIZE
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self):
        features.variant_indices(self.variant)
        if self.landmark_source not in LANDMARK_SOURCES:
            raise ValueError(f"landmark source must be one of {LANDMARK_SOURCES}, "
                             f"got {self.landmark_source!r}")
        if self.temporal_filter not in temporal_filter.TEMPORAL_FILTERS:
            raise ValueError(f"temporal filter must be one of "
                             f"{sorted(temporal_filter.TEMPORAL_FILTERS)}, got "
                             f"{self.temporal_filter!r}")
        if self.frame_interval is not None and self.frame_interval < 1:
            raise ValueError(f"frame_interval must be at least 1, got {self.frame_interval}")
        if self.crop_frames < 0 or self.crop_size < 8:
            raise ValueError(f"crop_frames must be at least 0 and crop_size at least 8, got "
                             f"{self.crop_frames} and {self.crop_size}")

    def settings(self) -> dict:
        """What determines the contents of the output; stored in the manifest."""
        return {
            "dataset": self.dataset,
            "variant": self.variant,
            "frame_interval": self.frame_interval or "auto",
            "landmark_source": self.landmark_source,
            "landmark_settings": self.landmark_settings.cache_key()
            if self.landmark_source == "dlib" else None,
            # Only when on, so that outputs made before the filter keep their receipts.
            **({"temporal_filter": self.temporal_filter}
               if self.temporal_filter != "none" else {}),
            "reader_options": {k: str(v) for k, v in self.reader_options},
            "lfm_tf_version": lfm_tf.__version__,
            # Part of the hash, so that subjects written when SFEM summed over the
            # CLFM landmarks are redone, never mixed with these (issue 11).
            "sfem": {"landmarks": RECORD_SFEM[0], "form": RECORD_SFEM[1]},
            # Only when asked for, so that outputs without crops keep their receipts.
            **({"crops": {"frames": self.crop_frames, "size": self.crop_size}}
               if self.crop_frames else {}),
            **({"time": dataclasses.asdict(self.time_settings)}
               if self.time_settings != timebase.TimeSettings() else {}),
        }


# The SFEM (Eq. 3) every record stores, (landmarks, form): all 68 landmarks, as
# printed, the form that Table 8 reproduces on CK+ (`features.SFEM_LANDMARKS`).
RECORD_SFEM = (features.SFEM_LANDMARKS, "printed")

# Reader options that select other recordings, labels or members of the same
# dataset (SMIC's VIS camera, CASME II's 3-class cross-dataset labels, a composite
# from another membership list): their output gets a folder of its own,
# `smic-VIS`, `casme2-cross3`, `composite-mylist`, beside the default one.
FOLDER_OPTIONS = ("modality", "label_set", "membership")


def dataset_folder(config: PreprocessConfig) -> str:
    """The dataset's folder name under `out_dir`: `casme2`, `casme2-cross3`, `smic-VIS`,
    `casme3-megc3`, `composite-mylist` (for --membership=mylist.csv).

    An option set to its reader's default (CAS(ME)^3's class4) adds no tag.
    """
    options = dict(config.reader_options)
    defaults = inspect.signature(datasets.reader_module(config.dataset).read).parameters
    tags = []
    for name in FOLDER_OPTIONS:
        default = defaults[name].default if name in defaults else None
        if name not in options or options[name] in (None, default):
            continue
        value = str(options[name])
        tags.append(os.path.splitext(os.path.basename(value))[0] if name == "membership"
                    else value)
    return "-".join([config.dataset, *tags])


def output_dir(config: PreprocessConfig, result: ReadResult) -> str:
    """`<out_dir>/<dataset>/<variant>_T<T>`; `T25hz` when T follows each clip's fps."""
    if config.frame_interval is not None:
        tag = f"T{config.frame_interval}"
    else:
        intervals = {features.frame_interval_for_fps(c.fps) for c in result.clips}
        tag = f"T{intervals.pop()}" if len(intervals) == 1 else "T25hz"
    return os.path.join(config.out_dir, dataset_folder(config), f"{config.variant}_{tag}")


def _settings_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- landmarks


class LandmarkCache:
    """Landmark tracks per clip on disk, so a second run with another variant or
    frame interval does not run dlib again. Keyed by the clip (name, its files'
    names, sizes and times) and the detector settings; clips without a face are
    cached too, with the reason."""

    def __init__(self, root: str, settings: landmarks.LandmarkSettings):
        self.root = os.path.join(root, settings.cache_key())

    def path(self, clip: Clip) -> str:
        # File sizes and modification times enter the key, so frames rendered or
        # copied anew under the same names are not matched with stale landmarks.
        files = [clip.video] if clip.video else list(clip.frames)
        stats = [f"{p}:{st.st_size}:{st.st_mtime_ns}" for p in files for st in [os.stat(p)]]
        key = hashlib.sha256("\n".join([clip.name, *stats]).encode()).hexdigest()[:16]
        return os.path.join(self.root, clip.dataset, clip.subject, f"{clip.clip_id}-{key}.npz")

    def load(self, clip: Clip) -> landmarks.LandmarkTrack | str | None:
        """The cached track, the cached no-face reason, or None if not cached.

        An entry that does not load (truncated, garbage: the zip's CRCs catch a
        flipped bit) or does not hold a track of this clip's shape is removed
        with a warning naming the clip, and None returned: it is recomputed.
        """
        path = self.path(clip)
        if not os.path.exists(path):
            return None
        try:
            # allow_pickle=False: an entry is arrays only, never code.
            with np.load(path, allow_pickle=False) as data:
                if "error" in data:
                    return str(data["error"])
                unreadable = tuple(zip(data["unreadable_frames"].tolist(),
                                       data["unreadable_reasons"].tolist()))
                track = landmarks.LandmarkTrack(landmarks=data["landmarks"],
                                                filled=data["filled"],
                                                detections=int(data["detections"]),
                                                reliability=data["reliability"],
                                                unreadable=unreadable)
            _check_track(clip, track)
            return track
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile,
                zlib.error) as err:
            # Written from Beam's worker processes too, whose logging Beam keeps.
            print(f"warning: landmark cache entry {path} of clip {clip.name} is damaged "
                  f"({type(err).__name__}: {err}); recomputing its landmarks",
                  file=sys.stderr, flush=True)
            with contextlib.suppress(OSError):
                os.remove(path)
            return None

    def save(self, clip: Clip, outcome: landmarks.LandmarkTrack | str) -> None:
        path = self.path(clip)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with files.atomic_path(path) as tmp:
            if isinstance(outcome, str):
                np.savez(tmp, error=np.array(outcome))
            else:
                frames, reasons = zip(*outcome.unreadable) if outcome.unreadable else ((), ())
                np.savez(tmp, landmarks=outcome.landmarks, filled=outcome.filled,
                         detections=np.array(outcome.detections),
                         reliability=outcome.reliability,
                         unreadable_frames=np.array(frames, dtype=np.int64),
                         unreadable_reasons=np.array(reasons, dtype=str))



def _check_track(clip: Clip, track: landmarks.LandmarkTrack) -> None:
    """Raise ValueError unless `track` has the shape of a track of `clip`."""
    points, filled = np.asarray(track.landmarks), np.asarray(track.filled)
    frames = len(clip.frames) if clip.frames else len(points)
    if (points.shape != (frames, features.NUM_LANDMARKS, 2) or filled.shape != (frames,)
            or points.dtype.kind != "f" or filled.dtype != bool):
        raise ValueError(f"landmarks {points.shape} {points.dtype} and filled {filled.shape} "
                         f"{filled.dtype}, expected ({frames}, {features.NUM_LANDMARKS}, 2) "
                         f"floats and ({frames},) bools")


def provided_landmarks(clip: Clip, max_gap: int = landmarks.LandmarkSettings.max_gap
                       ) -> landmarks.LandmarkTrack:
    """Landmarks that ship with the data: an in-memory track or per-frame files.
    Frames without a face (NaN) are filled across gaps of up to `max_gap` frames,
    as dlib's are (`landmarks.fill_gaps`, which raises NoFaceError beyond)."""
    if clip.landmarks is not None:
        track = np.asarray(clip.landmarks, dtype=np.float32)
    elif clip.landmark_files:
        from lfm_tf.datasets import ckplus  # only CK+ ships per-frame landmark files
        track = np.stack([ckplus.read_landmark_file(p) for p in clip.landmark_files])
    else:
        raise ValueError(f"{clip.name}: no landmarks ship with this clip; use dlib landmarks")
    present = np.isfinite(track).all(axis=(1, 2))
    if present.all():
        return landmarks.LandmarkTrack(landmarks=track, filled=np.zeros(len(track), bool),
                                       detections=0)
    track, filled = landmarks.fill_gaps([p if ok else None for p, ok in zip(track, present)],
                                        max_gap, clip.name)
    return landmarks.LandmarkTrack(landmarks=track, filled=filled, detections=0)


class ClipProcessor:
    """Turns one clip into its serialized record, or a reason it cannot be used.

    Holds the dlib models, which cannot be pickled: they are created on first
    use in each worker."""

    def __init__(self, config: PreprocessConfig, spec: datasets.DatasetSpec,
                 cache_root: str | None):
        self.config = config
        self.spec = spec
        self.cache_root = cache_root
        self._extractor = None
        self._cache = None

    def _landmarks(self, clip: Clip) -> landmarks.LandmarkTrack:
        if self.config.landmark_source == "provided" or clip.landmarks is not None:
            return provided_landmarks(clip, self.config.landmark_settings.max_gap)
        if self._extractor is None:
            self._extractor = landmarks.LandmarkExtractor(self.config.landmark_settings)
            if self.cache_root:
                self._cache = LandmarkCache(self.cache_root, self.config.landmark_settings)
        cached = self._cache.load(clip) if self._cache else None
        if isinstance(cached, str):
            raise landmarks.NoFaceError(cached)
        if cached is not None:
            return cached
        try:
            track = self._extractor.extract_clip(clip)
        except landmarks.NoFaceError as err:
            if self._cache:
                self._cache.save(clip, str(err))
            raise
        if self._cache:
            self._cache.save(clip, track)
        return track

    def _on_even_time(self, clip: Clip, track: landmarks.LandmarkTrack
                      ) -> tuple[landmarks.LandmarkTrack, str | None]:
        """A video clip's track on an even time base (`lfm_tf.timebase`), at the
        container's declared rate, and the note saying it was resampled (or None)."""
        if clip.video is None or clip.landmarks is not None:
            return track, None
        times = video.frame_times(clip.video)
        if len(times) != len(track.landmarks):
            raise video.VideoError(f"{clip.video}: {len(times)} frame times for "
                                   f"{len(track.landmarks)} decoded frames")
        points = np.where(track.filled[:, None, None], np.nan, track.landmarks)
        conformed = timebase.conform(clip.name, points, times, 1 / video.video_fps(clip.video),
                                     self.config.time_settings)
        if conformed.time_base != "resampled":
            return track, None
        present = np.isfinite(conformed.points).all(axis=(1, 2))
        points, filled = landmarks.fill_gaps([p if ok else None for p, ok in
                                              zip(conformed.points, present)],
                                             self.config.landmark_settings.max_gap, clip.name)
        reliability = (None if conformed.source_frames is None else
                       np.where(filled, 0.0, track.reliability[conformed.source_frames]))
        return dataclasses.replace(track, landmarks=points, filled=filled,
                                   reliability=reliability), conformed.note

    def __call__(self, clip: Clip) -> tuple[bytes | None, str | None, int]:
        """(serialized record, note, frames) or (None, reason, frames); the note
        names frames that could not be read (None when all could)."""
        try:
            track = self._landmarks(clip)
            track, resampled = self._on_even_time(clip, track)
            track = dataclasses.replace(track, landmarks=temporal_filter.denoise(
                track.landmarks, self.config.temporal_filter))
            interval = self.config.frame_interval or features.frame_interval_for_fps(clip.fps)
            indices = features.variant_indices(self.config.variant)
            n = len(track.landmarks)
            if n <= interval:
                return None, (f"{n} frames, need more than frame_interval={interval}"), n
            maps = features.normalize(features.lfm(track.landmarks, interval, indices))
            crop_fields = {}
            if self.config.crop_frames:
                positions = crops.crop_positions(n, self.config.crop_frames)
                crop_fields = {"crop_frames": positions, "crops": crops.clip_crops(
                    crops.read_frames(clip, positions), track.landmarks[positions],
                    self.config.crop_size)}
            record = records.ClipRecord(
                dataset=clip.dataset, subject=clip.subject, clip=clip.clip_id,
                label=self.spec.label_index(clip.label), label_name=clip.label,
                variant=self.config.variant, frame_interval=interval, fps=clip.fps,
                num_filled=int(track.num_filled),
                sfem=features.sfem(track.landmarks, interval,
                                   features.variant_indices(RECORD_SFEM[0]), form=RECORD_SFEM[1]),
                sfem_landmarks=RECORD_SFEM[0], sfem_form=RECORD_SFEM[1],
                maps=maps, landmarks=track.landmarks, reliability=track.reliability,
                onset=_frame_or_unknown(clip.onset), apex=_frame_or_unknown(clip.apex),
                offset=_frame_or_unknown(clip.offset), **crop_fields)
            notes = [video.describe_unreadable(track.unreadable)] if track.unreadable else []
            note = "; ".join(notes + ([resampled] if resampled else [])) or None
            return records.encode(record), note, n
        except (landmarks.NoFaceError, video.VideoError, ValueError, OSError) as err:
            # One bad clip never stops the run: it is reported by name in the manifest.
            return None, f"{type(err).__name__}: {err}", 0


def _frame_or_unknown(frame: int | None) -> int:
    return records.UNKNOWN_FRAME if frame is None else int(frame)


# ---------------------------------------------------------------- Beam stages


class _ProcessClipFn(beam.DoFn):
    def __init__(self, processor: ClipProcessor, progress_dir: str | None):
        self.processor = processor
        self.progress_dir = progress_dir

    def process(self, clip: Clip):
        encoded, reason, frames = self.processor(clip)
        if self.progress_dir:
            # One empty marker per clip; the driver counts them for its progress bar.
            marker = f"{uuid.uuid4().hex}.{frames}"
            open(os.path.join(self.progress_dir, marker), "wb").close()
        yield clip.subject, (clip.clip_id, clip.name, encoded, reason)


class _WriteSubjectFn(beam.DoFn):
    def __init__(self, folder: str, settings_hash: str):
        self.folder = folder
        self.settings_hash = settings_hash

    def process(self, element):
        subject, results = element
        tfrecord_folder.write_subject(self.folder, subject, list(results), self.settings_hash)
        yield subject


# ---------------------------------------------------------------- the run


class _Progress:
    """A progress bar in the driver that counts the workers' per-clip markers
    (workers may be other processes, so a shared folder is the simplest channel)."""

    def __init__(self, folder: str, total: int, enabled: bool, stream=None):
        self.folder, self.total, self.enabled, self.stream = folder, total, enabled, stream
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        if self.enabled and self.total:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self):
        from tqdm import tqdm
        start = last = time.monotonic()
        done = 0
        with tqdm(total=self.total, unit="clip", desc="preprocess", dynamic_ncols=True,
                  file=self.stream) as bar:
            while True:
                stopping = self._stop.wait(0.5)
                names = os.listdir(self.folder) if os.path.isdir(self.folder) else []
                if len(names) != done:
                    # The rate runs to the last finished clip, not on through the writes.
                    done, last = len(names), time.monotonic()
                    frames = sum(int(n.rsplit(".", 1)[1]) for n in names)
                    bar.n = done
                    bar.set_postfix_str(f"{frames / max(last - start, 1e-6):.0f} frames/s")
                    bar.refresh()
                if stopping:
                    return


def read_dataset(config: PreprocessConfig) -> ReadResult:
    return datasets.read(config.dataset, config.data_dir, **dict(config.reader_options))


def run(config: PreprocessConfig, beam_args: Sequence[str] = (),
        result: ReadResult | None = None) -> dict:
    """Run the pipeline and return the manifest (also written to `manifest.json`).

    Args:
      config: what to read and how to make the maps.
      beam_args: standard Beam pipeline options (`--runner`, `--direct_num_workers`,
        `--project`, ...). Without any, the DirectRunner uses both local cores.
      result: clips already read (skips calling the reader).
    """
    result = result or read_dataset(config)
    if not result.clips:
        raise ValueError(f"{config.dataset}: no usable clips found under {config.data_dir}")
    pixelless = [c.name for c in result.clips if not c.frames and c.video is None]
    if config.crop_frames and pixelless:
        raise ValueError(f"crops need frames, and {len(pixelless)} clips carry landmarks only "
                         f"(e.g. {pixelless[0]}): drop --crops, or read a dataset with its "
                         f"frames (CK+ with provided landmarks: --dataset=ckplus_fge)")
    if config.landmark_source == "dlib" and any(c.landmarks is None for c in result.clips):
        landmarks.check_model(config.landmark_settings.model_path)
    folder = output_dir(config, result)
    os.makedirs(folder, exist_ok=True)
    settings = config.settings()
    settings_hash = _settings_hash(settings)

    by_subject: dict[str, list[Clip]] = collections.defaultdict(list)
    for clip in result.clips:
        by_subject[clip.subject].append(clip)
    todo = []
    for subject, clips in sorted(by_subject.items()):
        ids = [c.clip_id for c in clips]
        if config.overwrite or tfrecord_folder.complete_receipt(folder, subject, ids, settings_hash) is None:
            todo.extend(clips)
    logging.info("%d of %d subjects to process into %s",
                 len({c.subject for c in todo}), len(by_subject), folder)

    if todo:
        _run_beam(config, result, folder, settings_hash, todo, beam_args)
    manifest = tfrecord_folder.assemble_manifest(
        config.dataset, folder, result, settings, settings_hash, by_subject)
    tfrecord_folder.write_manifest(folder, manifest)
    return manifest


def _beam_parser() -> _BeamArgumentParser:
    """Apache Beam's own parser of pipeline options: every `PipelineOptions`
    subclass registers its flags, as `PipelineOptions.get_all_options` collects them."""
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - how Beam collects its own options
    return parser


def check_beam_args(args: Sequence[str], own_flags: Sequence[str]) -> None:
    """Refuse flags that are neither this program's (`own_flags`, names without
    dashes) nor Beam pipeline options.

    Beam itself drops what it cannot parse with a warning and runs on, so a
    misspelt flag of ours (`--frame_intervall=8`) would silently take its
    default. Raises ValueError naming each such flag, with a did-you-mean.
    """
    parser = _beam_parser()
    _, unknown = parser.parse_known_args(list(args))
    if not unknown:
        return
    beam = [o[2:] for o in parser._option_string_actions if o.startswith("--")]  # noqa: SLF001
    problems = []
    for arg in unknown:
        name = arg.lstrip("-").split("=", 1)[0]
        close = difflib.get_close_matches(name, [*own_flags, *beam], n=1, cutoff=0.75)
        problems.append(arg + (f" (did you mean --{close[0]}?)" if close else ""))
    raise ValueError(f"unknown flag {', '.join(problems)}: neither this program's flag nor an "
                     f"Apache Beam pipeline option; see --helpfull for ours")


def _beam_options(beam_args: Sequence[str], local: bool) -> PipelineOptions:
    args = list(beam_args)
    if local and not any(a.startswith("--direct_num_workers") for a in args):
        args += [f"--direct_num_workers={os.cpu_count() or 1}"]
    if local and not any(a.startswith("--direct_running_mode") for a in args):
        # dlib holds the GIL: only separate processes use both cores.
        args += ["--direct_running_mode=multi_processing"]
    if local and not any(a.startswith("--default_sdk_harness_log_level") for a in args):
        # Worker processes otherwise log every gRPC channel they open and close.
        args += ["--default_sdk_harness_log_level=WARNING"]
    return PipelineOptions(args)


def _is_local(beam_args: Sequence[str]) -> bool:
    runner = next((a.split("=", 1)[1] for a in beam_args if a.startswith("--runner=")), None)
    return runner in (None, "DirectRunner", "direct")


class PipelineFailed(ValueError):
    """The Beam pipeline failed in a worker; the message gives the worker's own
    last line (a ValueError, so that the command line prints it in one line)."""


def _worker_reason(err: Exception) -> str:
    """The line of a relayed worker traceback that says what went wrong."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b", line)]
    return (errors or lines or [type(err).__name__])[-1]


def _run_beam(config, result, folder, settings_hash, todo, beam_args) -> None:
    local = _is_local(beam_args)
    cache_root = os.path.join(config.out_dir, config.dataset, "landmarks")
    processor = ClipProcessor(config, result.spec, cache_root)
    with tempfile.TemporaryDirectory(dir=folder, prefix=PROGRESS) as progress_dir, \
            runtime.filtered_stderr() as stderr:
        markers = progress_dir if local else None
        with _Progress(progress_dir, len(todo), enabled=local and config.progress, stream=stderr):
            try:
                with beam.Pipeline(options=_beam_options(beam_args, local)) as p:
                    _ = (p
                         | "Clips" >> beam.Create(todo)
                         # Spread clips over workers one by one, not in the Create's bundles.
                         | "Spread" >> beam.Reshuffle()
                         | "Maps" >> beam.ParDo(_ProcessClipFn(processor, markers))
                         | "BySubject" >> beam.GroupByKey()
                         | "Write" >> beam.ParDo(_WriteSubjectFn(folder, settings_hash)))
            except (OSError, ValueError):
                raise
            except Exception as err:  # noqa: BLE001 - a worker's error, relayed by Beam
                raise PipelineFailed(
                    f"preprocessing into {folder} failed in a Beam worker: "
                    f"{_worker_reason(err)}; subjects already written are kept: fix the cause "
                    f"and run again to resume") from err
