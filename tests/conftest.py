"""Fixtures shared by several test modules."""

from __future__ import annotations

import dataclasses
import os

import pytest

from lfm_tf import pipeline, trainer


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
    config = trainer.load_config("synthetic", "runlocal")  # one epoch per stage
    config.tfrecord_dir = str(root / "tfrecords")
    config.workdir = str(root / "work")
    config.protocol = "full"
    config.verbose = 0
    config.cnn.batch_size = 32
    config.lstm.batch_size = 4
    export = trainer.run(config)["export"]
    assert os.path.isdir(export)
    return TinyModel(export=export, tfrecords=manifest["folder"], manifest=manifest)
