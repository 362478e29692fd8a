"""Fixtures shared by several test modules."""

from __future__ import annotations

import dataclasses
import os

import pytest

from configs import table8 as table8_config
from lfm_tf import experiment, features, pipeline, records, trainer, video
from lfm_tf.table8 import crops, ifer
from lfm_tf.datasets import synthetic, synthetic_render


@dataclasses.dataclass(frozen=True)
class TinyModel:
    """A model exported by the `full` protocol, and the TFRecords it learned from."""

    export: str      # the exported model folder
    tfrecords: str   # the preprocessing output folder (manifest.json, one file per subject)
    manifest: dict


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> TinyModel:
    """The real path on a tiny synthetic set, in about 12 s on 2 CPU cores:
    3 subjects x 3 classes x 2 clips of 20-40 frames at 100 fps (T = 4) ->
    pipeline.run -> CLFM TFRecords -> trainer.run, `full` protocol, one epoch
    per stage -> `<workdir>/export`."""
    root = tmp_path_factory.mktemp("tiny_model")
    manifest = pipeline.run(
        pipeline.PreprocessConfig(
            dataset="synthetic", data_dir=None, out_dir=str(root / "tfrecords"),
            variant="clfm", landmark_source="provided", progress=False,
            reader_options=(("num_subjects", 3), ("clips_per_class", 2),
                            ("num_frames", (20, 40)))),
        # The clips are in memory: one in-process worker beats starting processes.
        beam_args=["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    config = experiment.load_config("synthetic", "runlocal")  # one epoch per stage
    config.tfrecord_dir = str(root / "tfrecords")
    config.workdir = str(root / "work")
    config.protocol = "full"
    config.verbose = 0
    config.cnn.batch_size = 32
    config.lstm.batch_size = 4
    export = trainer.run(config)["export"]
    assert os.path.isdir(export)
    return TinyModel(export=export, tfrecords=manifest["folder"], manifest=manifest)


@dataclasses.dataclass(frozen=True)
class TinyIFER:
    """An I-FER exported by `ifer.train_export`, in the classes of `tiny_model`."""

    export: str     # the exported I-FER folder
    classes: tuple[str, ...]


@pytest.fixture(scope="session")
def tiny_ifer(tmp_path_factory) -> TinyIFER:
    """A tiny I-FER in about 5 s: 1 subject x 3 MEGC classes x 2 synthetic macro
    clips of 8-10 frames rendered on the photographed face, cropped as
    `preprocess --crops` crops them (3 eye-aligned 64x64 crops a clip), one epoch
    per stage, exported."""
    root = tmp_path_factory.mktemp("tiny_ifer")
    classes = synthetic.CLASS_SETS["megc"]
    clips = synthetic.generate(num_subjects=1, clips_per_class=2, classes="megc",
                               intensity="macro", fps=30.0, num_frames=(8, 10))
    tracks = synthetic_render.render(clips, str(root / "frames"))
    clip_records = []
    for clip in clips:
        track = tracks[clip.clip_id]
        positions = crops.crop_positions(len(track))
        frames = sorted((root / "frames").glob(f"*/*/{clip.clip_id}/img*.jpg"),
                        key=lambda p: int(p.stem[3:]))
        images = [video.read_image(frames[k]) for k in positions]
        clip_records.append(records.ClipRecord(
            dataset="synthetic", subject=clip.subject, clip=clip.clip_id,
            label=classes.index(clip.label), label_name=clip.label, variant="clfm",
            frame_interval=1, fps=30.0, num_filled=0, sfem=features.sfem(track, 1),
            maps=features.normalize(features.lfm(track, 1, features.CLFM_INDICES)),
            landmarks=track, crops=crops.clip_crops(images, track[positions]),
            crop_frames=positions))
    config = table8_config.get_config("runlocal").ifer  # one epoch per stage
    config.batch_size = 6
    export = ifer.train_export(clip_records, classes, config, str(root / "export"))
    return TinyIFER(export=export, classes=tuple(classes))
