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
import dataclasses
import difflib
import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

import lfm_tf
from lfm_tf import (clip_processing, datasets, features, landmarks, runtime, temporal_filter,
                    tfrecord_folder, timebase)
from lfm_tf.datasets.base import Clip, ReadResult
from lfm_tf.table8 import crops

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
            "sfem": {"landmarks": clip_processing.RECORD_SFEM[0],
                     "form": clip_processing.RECORD_SFEM[1]},
            # Only when asked for, so that outputs without crops keep their receipts.
            **({"crops": {"frames": self.crop_frames, "size": self.crop_size}}
               if self.crop_frames else {}),
            **({"time": dataclasses.asdict(self.time_settings)}
               if self.time_settings != timebase.TimeSettings() else {}),
        }


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


# ---------------------------------------------------------------- Beam stages


class _ProcessClipFn(beam.DoFn):
    def __init__(self, processor: clip_processing.ClipProcessor, progress_dir: str | None):
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
    processor = clip_processing.ClipProcessor(config, result.spec, cache_root)
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
