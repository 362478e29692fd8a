"""Training end to end on tiny synthetic data (CLFM, one epoch per stage): outputs
and their keys, resume, pooling, the test subject never read while training,
determinism, cross-dataset, export, the mirrored strategy on two logical CPUs, and
bad input failing in one line before any training."""

import csv
import glob
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import distribute, experiment, input_pipeline, pipeline, report, trainer
from lfm_tf.datasets import specs
from tests.fixtures import tfrecord_tree as trees

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tfrecord_dir, workdir, **fields):
    config = experiment.load_config("synthetic", "runlocal")  # one epoch per stage
    config.tfrecord_dir = str(tfrecord_dir)
    config.workdir = str(workdir)
    config.verbose = 0
    config.cnn.batch_size = 32
    config.lstm.batch_size = 4
    for name, value in fields.items():
        *parents, leaf = name.split("__")
        node = config
        for p in parents:
            node = node[p]
        node[leaf] = value
    return config


def _no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(trainer, "train_fold", fail)


def _event_tags(folder):
    """(tag, plugin) of every summary value in the event files under `folder`."""
    found = set()
    for path in glob.glob(os.path.join(folder, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.add((value.tag, value.metadata.plugin_data.plugin_name))
    return found


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """The real path: synthetic clips -> pipeline.run -> TFRecords -> trainer.run.

    First an "interrupted" run of fold p01 only, with spies on what training reads;
    then the whole protocol, which must train p02 and p03 only."""
    root = tmp_path_factory.mktemp("e2e")
    manifest = pipeline.run(
        pipeline.PreprocessConfig(
            dataset="synthetic", data_dir=None, out_dir=str(root / "tfrecords"), variant="clfm",
            landmark_source="provided", progress=False,
            reader_options=(("num_subjects", 3), ("clips_per_class", 1), ("num_frames", (20, 26)))),
        beam_args=["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    config = _config(root / "tfrecords", root / "work")
    events = []
    mp = pytest.MonkeyPatch()
    read_clips, fit = input_pipeline.read_clips, keras.Model.fit

    def spy_read(files, map_size):
        ds = read_clips(files, map_size)
        subjects = sorted({s.decode() for s in ds.map(lambda c: c["subject"]).as_numpy_iterator()})
        events.append(("read", [os.path.basename(f) for f in files], subjects))
        return ds

    def spy_fit(self, *args, **kwargs):
        events.append(("fit", self.name, None))
        return fit(self, *args, **kwargs)

    mp.setattr(input_pipeline, "read_clips", spy_read)
    mp.setattr(keras.Model, "fit", spy_fit)
    config.folds = "p01"
    partial = trainer.run(config)
    mp.undo()
    with open(os.path.join(config.workdir, report.METRICS)) as f:
        partial_json = json.load(f)

    trained = []
    train_fold = trainer.train_fold
    mp.setattr(trainer, "train_fold", lambda exp, fold, s: trained.append(fold.name)
               or train_fold(exp, fold, s))
    config.folds = ""
    result = trainer.run(config)
    mp.undo()
    return {"root": root, "manifest": manifest, "config": config, "events": events,
            "partial": partial, "partial_json": partial_json, "trained": trained,
            "result": result}


def test_interrupted_run_resumes_with_the_missing_folds(e2e):
    assert e2e["partial"]["folds"] == {"total": 3, "finished": ["p01"], "missing": ["p02", "p03"]}
    assert e2e["partial_json"]["folds"]["missing"] == ["p02", "p03"]
    assert e2e["trained"] == ["p02", "p03"]
    assert e2e["result"]["folds"] == {"total": 3, "finished": ["p01", "p02", "p03"], "missing": []}


def test_training_input_holds_none_of_the_test_subjects_clips(e2e):
    events = e2e["events"]
    fits = [k for k, e in enumerate(events) if e[0] == "fit"]
    assert [events[k][1] for k in fits] == ["clfm_cnn", "clfm_lstm"]
    reads = [(k, e) for k, e in enumerate(events) if e[0] == "read"]
    training = [e for k, e in reads if k < fits[-1]]
    assert training and all(e[1] == ["p02.tfrecord", "p03.tfrecord"] for e in training)
    assert all(e[2] == ["p02", "p03"] for e in training)
    testing = [e for k, e in reads if k > fits[-1]]
    assert [e[1:] for e in testing] == [(["p01.tfrecord"], ["p01"])]


def test_run_writes_every_output_with_its_keys(e2e):
    workdir, result = e2e["config"].workdir, e2e["result"]
    with open(os.path.join(workdir, report.PREDICTIONS), newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["fold", "dataset", "subject", "clip", "true", "true_name",
                             "predicted", "predicted_name", "prob_negative", "prob_positive",
                             "prob_surprise"]
    assert len(rows) == e2e["manifest"]["counts"]["clips"] == 9
    assert {r["subject"] for r in rows} == {"p01", "p02", "p03"}
    assert all(r["fold"] == r["subject"] for r in rows)
    for r in rows:
        probs = [float(r[f"prob_{c}"]) for c in specs.MEGC_CLASSES]
        assert sum(probs) == pytest.approx(1, abs=1e-4)
        assert int(r["predicted"]) == int(np.argmax(probs))
    with open(os.path.join(workdir, report.METRICS)) as f:
        saved = json.load(f)
    assert {"accuracy", "f1", "uf1", "uar", "confusion", "confusion_percent", "chance",
            "classes", "folds", "folds_lacking_classes", "support", "setting"} <= set(saved)
    for key in ("accuracy", "f1", "uf1", "uar"):
        assert 0.0 <= saved[key] <= 1.0 and saved[key] == pytest.approx(result[key])
    assert np.sum(saved["confusion"]) == 9
    assert saved["folds_lacking_classes"] == {}
    with open(os.path.join(workdir, report.REPORT)) as f:
        text = f.read()
    assert text.startswith("# Synthetic, leave-one-subject-out, CLFM-based (21x21 LFM), T4")
    assert "| This run: CLFM-based (21x21 LFM) |" in text
    assert "The paper publishes no result for this exact setting." in text
    with open(os.path.join(workdir, report.CONFUSION_PNG), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    for fold in ("p01", "p02", "p03"):
        folder = os.path.join(workdir, "folds", fold)
        assert {"cnn.keras", "lstm.keras", "result.json", "predictions.csv",
                "tensorboard"} <= set(os.listdir(folder))
        with open(os.path.join(folder, "result.json")) as f:
            fold_result = json.load(f)
        stages = fold_result["stage_seconds"]
        assert list(stages) == ["read", "cnn", "save", "embed", "lstm", "test"]
        assert all(v >= 0 for v in stages.values())
        assert sum(stages.values()) == pytest.approx(fold_result["seconds"], abs=0.5)


def test_tensorboard_has_curves_images_and_hparams(e2e):
    workdir = e2e["config"].workdir
    fold = os.path.join(workdir, "folds", "p02", "tensorboard")
    for stage in ("cnn", "lstm"):
        tags = {t for t, _ in _event_tags(os.path.join(fold, stage))}
        assert {"epoch_loss", "epoch_accuracy"} <= tags
    maps = _event_tags(os.path.join(fold, "inputs"))
    assert {(f"maps/{c}", "images") for c in specs.MEGC_CLASSES} <= maps
    run = _event_tags(os.path.join(workdir, "tensorboard", "run"))
    assert ("confusion_matrix", "images") in run
    assert ("scores/uf1", "scalars") in run
    assert {"hparams"} == {p for t, p in run if t.startswith("_hparams_/")}


def test_pool_only_rebuilds_the_report_from_the_folds_on_disk(e2e, monkeypatch):
    config = e2e["config"].copy_and_resolve_references()
    os.remove(os.path.join(config.workdir, report.METRICS))
    _no_training(monkeypatch)
    config.pool_only = True
    result = trainer.run(config)
    assert result["uf1"] == pytest.approx(e2e["result"]["uf1"])
    assert os.path.exists(os.path.join(config.workdir, report.METRICS))
    config.workdir = str(e2e["root"] / "empty")
    with pytest.raises(ValueError, match="no finished folds in .*: train first"):
        trainer.run(config)


def test_same_seed_gives_the_same_predictions(e2e):
    config = e2e["config"].copy_and_resolve_references()
    config.workdir = str(e2e["root"] / "again")
    config.folds = "p01"
    trainer.run(config)
    first, second = (report.read_predictions(os.path.join(w, "folds", "p01", report.PREDICTIONS))
                     for w in (e2e["config"].workdir, config.workdir))
    assert first == second


def test_workdir_of_another_experiment_is_refused(e2e, monkeypatch):
    _no_training(monkeypatch)
    config = e2e["config"].copy_and_resolve_references()
    config.cnn.epochs = 2
    with pytest.raises(ValueError, match=r"holds a run with other settings or data "
                                         r"\(cnn.epochs\): use another --workdir, or "
                                         r"repeat that run's flags \(--config ones included\) "
                                         r"to resume or pool it"):
        trainer.run(config)


# ---------------------------------------------------------------- other protocols


def test_fold_lacking_a_class_trains_and_is_reported(tmp_path):
    trees.write_tree(str(tmp_path / "tf"), trees.clips_per_subject(
        ["p1", "p2"], 3, missing={"p2": [2]}))
    result = trainer.run(_config(tmp_path / "tf", tmp_path / "w", folds="p1"))
    assert result["folds_lacking_classes"] == {"p1": ["surprise"]}
    with open(tmp_path / "w" / report.REPORT) as f:
        assert "- p1: surprise" in f.read()
    with open(tmp_path / "w" / "folds" / "p1" / "result.json") as f:
        assert json.load(f)["train_clips_per_class"] == {"negative": 1, "positive": 1,
                                                         "surprise": 0}


def test_cross_dataset_trains_on_source_and_reports_table_7(tmp_path):
    # CASME II's 3-class labels where preprocessing --label_set=cross3 puts them.
    trees.write_tree(str(tmp_path / "tf"), trees.clips_per_subject(
        ["sub01", "sub02"], 3, dataset="casme2"), dataset="casme2", frame_interval=8,
        folder_name="casme2-cross3")
    trees.write_tree(str(tmp_path / "tf2"), trees.clips_per_subject(
        ["s1", "s2"], 3, dataset="smic"), dataset="smic")
    # One of the two CASME II subjects is held out for validation curves.
    config = _config(tmp_path / "tf", tmp_path / "w", dataset="casme2", protocol="cross",
                     target="smic", target_tfrecord_dir=str(tmp_path / "tf2"),
                     validation_subjects=1)
    result = trainer.run(config)
    assert result["num_clips"] == 6 and result["folds"]["finished"] == ["casme2_to_smic"]
    fold = tmp_path / "w" / "folds" / "casme2_to_smic"
    with open(fold / "result.json") as f:
        saved = json.load(f)
    assert len(saved["validation_subjects"]) == 1 and len(saved["train_subjects"]) == 1
    assert set(saved["validation_subjects"] + saved["train_subjects"]) == {"sub01", "sub02"}
    for stage in ("cnn", "lstm"):
        assert ("epoch_loss", "scalars") in _event_tags(str(fold / "tensorboard" / stage / "validation"))
    rows = report.read_predictions(str(tmp_path / "w" / report.PREDICTIONS))
    assert {r["dataset"] for r in rows} == {"smic"}
    with open(tmp_path / "w" / report.REPORT) as f:
        text = f.read()
    assert "CASME II -> SMIC: mean F1 / accuracy" in text
    assert "| Paper, published (Table 7): CLFM-based (21x21 LFM), w/o DA | 0.4978 / 55.49% |" in text


def test_cross_dataset_casme2_reads_its_3_class_folder(tmp_path, monkeypatch):
    _no_training(monkeypatch)
    assert experiment.dataset_folder("casme2", "cross") == "casme2-cross3"
    assert experiment.dataset_folder("casme2", "loso") == "casme2"
    assert experiment.dataset_folder("smic", "cross") == "smic"
    assert experiment.dataset_folder("smic", "loso", "smic-VIS") == "smic-VIS"
    config = _config(tmp_path, tmp_path / "w", dataset="smic", protocol="cross", target="casme2")
    trees.write_tree(str(tmp_path), trees.clips_per_subject(["s1"], 3, dataset="smic"),
                     dataset="smic")
    with pytest.raises(FileNotFoundError, match=r"no clfm TFRecords for casme2-cross3 under .*: "
                       r"run `python -m lfm_tf.preprocess --dataset=casme2 --label_set=cross3 "
                       r"--variant=clfm --out_dir="):
        trainer.run(config)
    # The 5-class folder, named explicitly, is refused for want of the same classes.
    trees.write_tree(str(tmp_path), trees.clips_per_subject(["sub01"], 5, dataset="casme2"),
                     dataset="casme2", classes=specs.SPECS["casme2"].classes)
    config.target_folder = "casme2"
    with pytest.raises(ValueError, match="same classes on both sides"):
        trainer.run(config)


def test_full_protocol_exports_models_for_inference(tmp_path):
    trees.write_tree(str(tmp_path / "tf"), trees.clips_per_subject(["p1", "p2"], 3))
    result = trainer.run(_config(tmp_path / "tf", tmp_path / "w", protocol="full"))
    out = result["export"]
    assert out == str(tmp_path / "w" / "export")
    assert {"cnn.keras", "lstm.keras", "classifier.keras", "saved_model",
            "model.json"} <= set(os.listdir(out))
    with open(os.path.join(out, "model.json")) as f:
        info = json.load(f)
    assert info["classes"] == list(specs.MEGC_CLASSES)
    assert (info["variant"], info["map_size"], info["frame_interval"]) == ("clfm", 21, 4)
    assert info["landmark_indices"] == [17, 19, 21, 22, 24, 26, 31, 33, 35, 36, 38, 39, 40,
                                        42, 43, 45, 47, 48, 51, 54, 57]
    assert set(info["versions"]) == {"lfm_tf", "tensorflow", "keras"}
    window = np.full((2, 24, 21, 21), 127, np.uint8)
    saved_model = tf.saved_model.load(os.path.join(out, "saved_model"))
    served = saved_model.serve(window).numpy()
    np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)
    keras_probs = keras.saving.load_model(os.path.join(out, "classifier.keras")).predict(
        window, verbose=0)
    np.testing.assert_allclose(served, keras_probs, atol=1e-5)


# ---------------------------------------------------------------- bad input


def test_bad_config_fails_before_any_training(tmp_path, monkeypatch):
    _no_training(monkeypatch)
    trees.write_tree(str(tmp_path / "tf"), trees.clips_per_subject(["p1", "p2"], 3))
    cases = [
        ({"dataset": "smicc"}, r"unknown dataset 'smicc': use --dataset with one of"),
        ({"protocol": "lopo"}, r"unknown protocol 'lopo': use --protocol"),
        ({"strategy": "gpu"}, r"unknown strategy 'gpu': use --strategy"),
        ({"variant": "lfm"}, r"no lfm TFRecords for synthetic under .*: run `python -m "
                             r"lfm_tf.preprocess --dataset=synthetic --variant=lfm"),
        ({"jit_compile": "yes"}, r"--config.jit_compile must be one of"),
        ({"lstm__optimizer": "adamm"}, r"--config.lstm.optimizer='adamm': .*use a keras.optimizers"),
        ({"protocol": "kfold"}, r"2 subjects cannot fill 10 subject-independent folds"),
        ({"folds": "p7"}, r"--folds: no fold 'p7'"),
        ({"cnn__schedule": "step"}, r"unknown --config.cnn.schedule='step'; expected one of "
                                    r"\('constant', 'cosine'\)"),
        ({"lstm__warmup_epochs": 1.0}, r"--config.lstm.warmup_epochs=1.0 is out of range: it "
                                       r"must be a number in \[0, lstm.epochs\)"),
        ({"parallel_folds": 0}, r"--config.parallel_folds=0 is out of range"),
        ({"cnn__warmup_epochs": 0.5}, r"--config.cnn.warmup_epochs=0.5 needs a schedule that "
                                      r"warms up: add --config.cnn.schedule=cosine"),
    ]
    for fields, message in cases:
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            trainer.run(_config(tmp_path / "tf", tmp_path / "w", **fields))


def test_learning_rate_schedules_by_hand():
    stage = experiment.load_config("casme2").cnn
    assert experiment.learning_rate(stage, 10) == 1e-4          # constant
    stage.epochs, stage.learning_rate, stage.schedule, stage.warmup_epochs = 2, 1e-3, "cosine", 0.5
    rate = experiment.learning_rate(stage, steps_per_epoch=10)  # 20 steps, 5 of warm-up
    # Linear from 0 to 1e-3 over 5 steps, then 1e-3 * (1 + cos(pi * t / 15)) / 2.
    expected = {0: 0.0, 1: 2e-4, 5: 1e-3, 10: 1e-3 * (1 + np.cos(np.pi * 5 / 15)) / 2,
                20: 0.0}
    for step, value in expected.items():
        assert float(rate(step)) == pytest.approx(value, abs=1e-9)


def test_fast_recipe_and_runlocal_config_arguments():
    fast = experiment.load_config("casme2", "fast")
    assert (fast.cnn.epochs, fast.cnn.batch_size, fast.cnn.learning_rate, fast.cnn.schedule,
            fast.cnn.warmup_epochs) == (4, 128, 1e-3, "cosine", 0.3)
    assert (fast.lstm.epochs, fast.lstm.schedule, fast.lstm.learning_rate) == (20, "cosine", 1e-3)
    assert fast.dataset == "casme2"
    assert experiment.load_config("synthetic", "fast").cnn.epochs == 4  # not the demo's 3
    default = experiment.load_config("casme2")
    assert (default.cnn.epochs, default.cnn.schedule, default.parallel_folds) == (20, "constant", 1)
    with pytest.raises(ValueError, match="'runlocal' or 'fast'"):
        experiment.load_config("casme2", "quick")


def test_dataset_flag_picks_its_config_file():
    argv = experiment.argv_with_config(["train", "--dataset=smic", "--config.cnn.epochs=3"])
    assert argv == ["train", f"--config={experiment.CONFIG_DIR}/smic.py", "--dataset=smic",
                    "--config.cnn.epochs=3"]
    mine = f"--config={experiment.CONFIG_DIR}/smic.py:runlocal"
    assert experiment.argv_with_config(["t", mine, "--dataset=x"]) == ["t", mine, "--dataset=x"]
    with pytest.raises(ValueError, match=r"unknown dataset 'nope': no config .*nope.py; use "
                                         r"--dataset with one of \['casme2', 'casme3', "
                                         r"'casme3_c', 'ckplus'"):
        experiment.argv_with_config(["t", "--dataset", "nope"])
    with pytest.raises(ValueError, match="say what to train"):
        experiment.argv_with_config(["t"])
    for name in ("smic", "casme2", "samm", "ckplus", "composite", "synthetic", "folder",
                 "casme3", "casme3_c", "fourd_me", "mmew"):
        config = experiment.load_config(name)
        assert config.dataset == name
        assert config.protocol == {"ckplus": "kfold", "composite": "composite"}.get(name, "loso")


def test_strategy_names_and_precision_policies():
    assert distribute.get_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match="unknown strategy 'one_device'"):
        distribute.get_strategy("one_device")
    assert distribute.precision_policy("default", False) == "float32"
    assert distribute.precision_policy("mirrored", True, has_gpu=True) == "mixed_float16"
    assert distribute.precision_policy("mirrored", True, has_gpu=False) == "mixed_bfloat16"
    assert distribute.precision_policy("tpu", True, has_gpu=False) == "mixed_bfloat16"
    before = keras.config.dtype_policy().name
    with distribute.dtype_policy("mixed_float16"):
        assert keras.config.dtype_policy().name == "mixed_float16"
    assert keras.config.dtype_policy().name == before


def _run_cli(args, prelude="", **kwargs):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    code = prelude + "import sys\nfrom lfm_tf import train\nsys.argv = ['train'] + sys.argv[1:]\ntrain.run()\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, **kwargs)


def test_mirrored_strategy_over_two_logical_cpus_from_the_command_line(tmp_path):
    trees.write_tree(str(tmp_path / "tf"), trees.clips_per_subject(["p1", "p2"], 3))
    # Logical devices must be configured before TensorFlow initializes: a fresh process.
    prelude = ("import tensorflow as tf\n"
               "cpu = tf.config.list_physical_devices('CPU')[0]\n"
               "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n")
    proc = _run_cli(["--dataset=synthetic", f"--tfrecord_dir={tmp_path / 'tf'}",
                     f"--workdir={tmp_path / 'w'}", "--strategy=mirrored", "--folds=p2",
                     "--config.cnn.epochs=1", "--config.lstm.epochs=1", "--config.verbose=0",
                     "--config.cnn.batch_size=16", "--config.lstm.batch_size=2"], prelude)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / "w" / "folds" / "p2" / "result.json") as f:
        assert json.load(f)["replicas"] == 2
    assert re.search(r"this run +\d+\.\d\d%", proc.stdout)
    assert "partial: 1 of 2 folds finished" in proc.stdout
    assert f"TensorBoard logs: tensorboard --logdir {tmp_path / 'w'}" in proc.stdout


def test_command_line_bad_input_is_one_line(tmp_path):
    proc = _run_cli(["--dataset=smic", f"--tfrecord_dir={tmp_path / 'none'}"])
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: no clfm TFRecords for smic under {tmp_path / 'none'}/smic: "
                           f"run `python -m lfm_tf.preprocess --dataset=smic --variant=clfm")


def test_table_pipelines_use_only_flags_that_exist():
    def defined(module):
        with open(os.path.join(ROOT, "lfm_tf", f"{module}.py")) as f:
            return set(re.findall(r'DEFINE_\w+\(\s*"(\w+)"', f.read()))

    # Flags each entry module defines, and the config whose fields it overrides.
    entries = {"lfm_tf.train": (defined("train"), "smic"),
               "lfm_tf.table8": (defined("table8/__main__"), "table8"),
               "lfm_tf.preprocess": (defined("preprocess"), None),
               "lfm_tf.synthesize_fme": (defined("synthesize_fme"), None)}
    fields = {name: set(report.flat_hparams(experiment.load_config(name).to_dict()))
              for name in ("smic", "table8")}
    scripts = sorted(glob.glob(os.path.join(ROOT, "pipelines", "table*.sh")))
    assert [os.path.basename(s) for s in scripts] == ["table3.sh", "table6.sh", "table7.sh",
                                                      "table8.sh"]
    for script in scripts:
        with open(script) as f:
            commands = f.read().replace("\\\n", " ").split("\n")
        used = {module: set() for module in entries}
        for line in commands:
            for module in used:
                if f"{module} " in line:
                    used[module] |= set(re.findall(r"--([\w.]+)=", line))
        assert (used["lfm_tf.train"] or used["lfm_tf.table8"]) and used["lfm_tf.preprocess"], script
        for module, (flags, config) in entries.items():
            for flag in used[module]:
                assert flag in flags or (config and flag.startswith("config.")
                                         and flag[7:] in fields[config]), (script, flag)
        assert subprocess.run(["bash", "-n", script]).returncode == 0
