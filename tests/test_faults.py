"""Faults and bad input (issue 13): every failure is one `error:` line naming the
path and what to do; nothing half-written, nothing silently wrong, nothing read
from outside its folder, the source tree untouched. Mostly in-process: the two
command-line runs check that the error is the last line and the exit status."""

import errno
import json
import math
import os
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from absl import flags

from lfm_tf import (cli, clip_processing, experiment, files, inference, landmarks, model_folder,
                    pipeline, records, recordings, report, runtime, tfrecord_folder, trainer)
from lfm_tf.datasets import base
from lfm_tf.datasets.base import Clip
from lfm_tf.table8 import fme
from tests.fixtures import tfrecord_tree as trees

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _tree(root) -> str:
    return trees.write_tree(str(root), trees.clips_per_subject(["p1", "p2", "p3"], 3))


def _snapshot(folder) -> dict:
    return {os.path.join(d, n): os.path.getsize(os.path.join(d, n))
            for d, _, names in os.walk(folder) for n in names}


def _no_temporary_files(folder) -> None:
    assert not [p for p in _snapshot(folder) if ".tmp-" in os.path.basename(p)]


# ---------------------------------------------------------------- the cli wrapper


@pytest.fixture
def flag(monkeypatch):
    """A flag of the global FlagValues, as the entry points define theirs."""
    name = "fault_test_interval"
    if name not in flags.FLAGS:
        flags.DEFINE_integer(name, None, "T.", lower_bound=1)
        flags.DEFINE_enum("fault_test_variant", "clfm", ["lfm", "clfm"], "Maps.")
    return name


def _run_cli(monkeypatch, capsys, main, *argv) -> tuple[int, list[str]]:
    monkeypatch.setattr(sys, "argv", ["prog", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.run(main)
    return exit_.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("argv, message", [
    (["--fault_test_interval=0"], "error: flag --fault_test_interval=0: 0 is not a positive "
                                  "integer"),
    (["--fault_test_interval=-3"], "error: flag --fault_test_interval=-3: -3 is not a positive "
                                   "integer"),
    (["--fault_test_interval=abc"], "error: flag --fault_test_interval=abc: invalid literal for "
                                    "int() with base 10: 'abc' (--fault_test_interval takes a "
                                    "positive integer)"),
    (["--fault_test_variant=xx"], "error: flag --fault_test_variant=xx: value should be one of "
                                  "<lfm|clfm>"),
    (["--fault_test_intervall=3"], "error: Unknown command line flag 'fault_test_intervall'. "
                                   "Did you mean: fault_test_interval ?"),
])
def test_flag_errors_are_one_line_with_the_allowed_values(flag, monkeypatch, capsys, argv,
                                                         message):
    code, lines = _run_cli(monkeypatch, capsys, lambda argv: 0, *argv)
    assert code == 1 and lines == [message]


def test_a_config_file_that_raises_is_one_line_without_its_traceback():
    err = flags.IllegalFlagValueError(
        "flag --config=configs/synthetic.py:fastt: Error whilst parsing config file: "
        "Traceback (most recent call last):\n  File \"configs/base.py\", line 102, in "
        "get_config\n    raise ValueError(...)\nValueError: unknown config argument "
        "'fastt'; 'runlocal' or 'fast'\n")
    assert cli.flag_error_message(err) == (
        "flag --config=configs/synthetic.py:fastt: Error whilst parsing config file: "
        "ValueError: unknown config argument 'fastt'; 'runlocal' or 'fast'")


def test_ctrl_c_is_one_line_and_exit_status_130(monkeypatch, capsys):
    def interrupted(argv):
        raise KeyboardInterrupt

    assert _run_cli(monkeypatch, capsys, interrupted) == (130, ["error: interrupted"])


def test_os_errors_are_one_line_naming_the_path(monkeypatch, capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")

    def make_folder(argv):
        os.makedirs(blocker / "out")

    code, lines = _run_cli(monkeypatch, capsys, make_folder)
    assert code == 1 and lines == [f"error: {blocker / 'out'}: a file is in the way where a "
                                   f"folder should be: choose another path or move it "
                                   f"(Not a directory)"]
    for number, advice in [(errno.ENOSPC, "the disk is full: free space and run again"),
                           (errno.EACCES, "permission denied: choose a location you may write"),
                           (errno.EROFS, "the file system is read-only")]:
        err = OSError(number, os.strerror(number), str(tmp_path / "out.json"))
        assert cli.os_error_message(err).startswith(f"{tmp_path / 'out.json'}: {advice}")


# ---------------------------------------------------------------- atomic outputs


def test_full_disk_leaves_the_old_file_and_no_temporary_one(monkeypatch, tmp_path):
    path = tmp_path / "r.json"
    files.write_json(path, {"old": 1})
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(ENOSPC))
    with pytest.raises(OSError) as raised:
        files.write_json(path, {"new": 2})
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(path)
    assert json.loads(path.read_text()) == {"old": 1}
    assert os.listdir(tmp_path) == ["r.json"]
    monkeypatch.undo()
    files.write_json(path, {"new": 2})  # the disk freed, the rerun completes
    assert json.loads(path.read_text()) == {"new": 2}
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_folder" / "x").write_text("x")
    with pytest.raises(IsADirectoryError, match="a_folder"):
        files.atomic_write(tmp_path / "a_folder", b"png")


def test_preprocessing_after_a_full_disk_resumes_and_completes(monkeypatch, tmp_path):
    config = pipeline.PreprocessConfig(
        dataset="synthetic", data_dir=None, out_dir=str(tmp_path), landmark_source="provided",
        progress=False, reader_options=(("num_subjects", 2), ("clips_per_class", 1),
                                        ("num_frames", (12, 14))))
    in_process = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
    write_file = records.write_file

    def full_for_p02(path, serialized):
        if "p02" in os.path.basename(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_file(path, serialized)

    monkeypatch.setattr(records, "write_file", full_for_p02)
    with pytest.raises(Exception, match="No space left on device"):
        pipeline.run(config, in_process)
    folder = tmp_path / "synthetic" / "clfm_T4"
    assert not (folder / tfrecord_folder.MANIFEST).exists()
    assert not (folder / "p02.tfrecord").exists()
    _no_temporary_files(tmp_path)
    monkeypatch.undo()
    manifest = pipeline.run(config, in_process)
    assert sorted(manifest["files"]) == ["p01.tfrecord", "p02.tfrecord"]
    assert tfrecord_folder.verify(str(folder)) == []


def test_predict_output_is_atomic_and_named_on_failure(monkeypatch, tmp_path):
    monkeypatch.setattr(inference.ExportedModel, "load", classmethod(
        lambda cls, path: cls(path, {"variant": "clfm", "classes": ["a"], "frame_interval": 1,
                                     "dataset": "x"}, None)))
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(ENOSPC))
    out = tmp_path / "r.json"
    with pytest.raises(OSError) as raised:
        inference.run("model", [str(tmp_path / "gone.npy")], inference.PredictOptions(),
                      output=str(out))
    assert raised.value.filename == str(out)
    assert os.listdir(tmp_path) == []  # no r.json, no r.json.tmp
    garbage = tmp_path / "garbage.dat"
    garbage.write_bytes(b"\0garbage" * 64)
    options = inference.PredictOptions(
        landmark_settings=landmarks.LandmarkSettings(model_path=str(garbage)))
    with pytest.raises(ValueError, match=rf"^landmark model {garbage} is not a dlib shape "
                                         rf"predictor .*--landmark_model"):
        inference.run("model", ["a.mp4", "b.mp4"], options, output=str(out))


# ---------------------------------------------------------------- silent wrong results


def test_misspelt_flags_are_not_passed_to_beam():
    ours = ["frame_interval", "variant", "out_dir"]
    pipeline.check_beam_args(["--direct_num_workers=2", "--runner", "DirectRunner",
                              "--direct_running_mode=multi_processing"], ours)
    for arg, guess in [("--frame_intervall=8", "frame_interval"), ("--varaint=lfm", "variant"),
                       ("--direct_num_worker=2", "direct_num_workers")]:
        with pytest.raises(ValueError, match=rf"^unknown flag {arg} \(did you mean --{guess}\?\)"):
            pipeline.check_beam_args([arg], ours)


@pytest.mark.parametrize("field, value", [
    ("cnn.learning_rate", math.nan), ("lstm.learning_rate", math.inf),
    ("cnn.learning_rate", -1e-3), ("lstm.learning_rate", 0.0), ("cnn.epochs", 0),
    ("lstm.batch_size", -4), ("cnn.dropout", 1.5), ("validation_subjects", -1)])
def test_config_values_are_checked_before_anything_trains(field, value):
    config = experiment.load_config("synthetic")
    stage, _, name = field.rpartition(".")
    (config[stage] if stage else config)[name] = value
    with pytest.raises(ValueError, match=rf"^--config.{field}={value!r} is out of range"):
        experiment.check_config(config)


def test_a_non_finite_loss_stops_the_fold_with_an_error(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.array([[1.0, 2.0], [np.nan, 1.0]] * 4, np.float32)
    with pytest.raises(trainer.TrainingDiverged, match=r"^fold p02: the CNN loss became nan in "
                       r"epoch 1, .*lower --config.cnn.learning_rate \(now 0.5\)"):
        model.fit(x, np.zeros(8), batch_size=8, epochs=2, verbose=0,
                  callbacks=trainer._callbacks(str(tmp_path), "p02", "cnn", 0.5))


def test_non_finite_probabilities_are_never_scored(tmp_path):
    table = {"label": np.array([0, 1]), "dataset": ["d", "d"], "subject": ["s", "s"],
             "clip": ["c1", "c2"]}
    with pytest.raises(trainer.TrainingDiverged, match="for 1 test clips \\(c2\\)"):
        trainer._prediction_rows("s", table, np.array([[0.9, 0.1], [np.nan, np.nan]]), ["a", "b"])
    path = tmp_path / report.PREDICTIONS
    path.write_text("fold,dataset,subject,clip,true,true_name,predicted,predicted_name,prob_a,"
                    "prob_b\ns,d,s,c1,0,a,0,a,0.9,0.1\ns,d,s,c2,1,b,0,a,nan,nan\n")
    with pytest.raises(ValueError, match=rf"^{path}, line 3: clip c2 has probabilities that are "
                                         rf"not numbers"):
        report.read_predictions(str(path), ["a", "b"], "retrain")


def test_predict_refuses_non_finite_probabilities(monkeypatch):
    monkeypatch.setattr(inference, "lfm_probabilities",
                        lambda *args: np.full((1, 2), np.nan, np.float32))
    model = inference.ExportedModel("m", {"classes": ["a", "b"]}, None)
    track = trees.clip_landmarks(0, 3, 12, seed=0)
    rec = recordings.Recording(path="t.npy", source="landmarks", fps=25.0,
                               landmarks=track, face=np.ones(12, bool))
    with pytest.raises(ValueError, match=r"^t.npy: the model gave probabilities that are not "
                                         r"numbers"):
        inference.predict_recording(model, rec, inference.PredictOptions())


def _finished_loso(tmp_path):
    config = experiment.load_config("synthetic", "runlocal")
    config.tfrecord_dir, config.workdir = _tree(tmp_path / "tf"), str(tmp_path / "w")
    exp = experiment.prepare(config)
    experiment.claim_workdir(exp, create=True)
    fold = exp.folds[0]
    clips = [f"{fold.name}/{fold.name}_c{k}_0" for k in range(3)]
    rows = [{"fold": fold.name, "dataset": "synthetic", "subject": fold.name,
             "clip": c.split("/")[1], "true": k, "true_name": exp.classes[k], "predicted": k,
             "predicted_name": exp.classes[k], **{f"prob_{n}": float(n == exp.classes[k])
                                                  for n in exp.classes}}
            for k, c in enumerate(clips)]
    os.makedirs(exp.fold_dir(fold))
    report.write_predictions(os.path.join(exp.fold_dir(fold), report.PREDICTIONS), rows,
                             exp.classes)
    files.write_json(os.path.join(exp.fold_dir(fold), experiment.RESULT_FILE),
                     {"fold": fold.name, "fingerprint": exp.record()["fingerprint"],
                      "test_clips": 3, "test_clip_ids": clips, "lacking_classes": []})
    return exp, fold


def test_pooling_checks_each_folds_predictions_against_its_test_clips(tmp_path):
    exp, fold = _finished_loso(tmp_path)
    assert trainer.pool(exp)["folds"]["finished"] == [fold.name]
    path = os.path.join(exp.fold_dir(fold), report.PREDICTIONS)
    lines = open(path).read().splitlines()
    with open(path, "w") as f:
        f.write("\n".join(lines[:-1]) + "\n")  # the last row lost
    with pytest.raises(ValueError, match=rf"^{path} holds 2 predictions but fold p1 has 3 test "
                                         rf"clips \(missing p1/p1_c2_0\): delete"):
        trainer.pool(exp)
    with open(path, "w") as f:
        f.write("\n".join(lines[:-1] + [lines[-1].replace("p1_c2_0", "p9_c2_0")]) + "\n")
    with pytest.raises(ValueError, match=rf"^{path} does not predict the clips fold p1 tested"):
        trainer.pool(exp)
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=rf"^{path} does not exist: delete"):
        trainer.pool(exp)


def test_run_json_that_is_not_json_or_lacks_keys_is_refused(tmp_path):
    exp, _ = _finished_loso(tmp_path)
    path = os.path.join(exp.workdir, experiment.RUN_FILE)
    for text, problem in [("{not json", "is not valid JSON"), ("{}", "lacks fingerprint")]:
        with open(path, "w") as f:
            f.write(text)
        with pytest.raises(ValueError, match=rf"^{path} {problem}"):
            experiment.claim_workdir(exp, create=False)


def test_synthesize_fme_never_writes_into_its_source(tmp_path):
    source = tmp_path / "CK+"
    (source / "cohn-kanade-images" / "S005" / "001").mkdir(parents=True)
    (source / "cohn-kanade-images" / "S005" / "001" / "S005_001_00000001.png").write_bytes(b"x")
    (tmp_path / "link").symlink_to(source)
    before = _snapshot(tmp_path)
    for out in [source, source / "fme", tmp_path / "link", tmp_path / "link" / "fme", tmp_path]:
        with pytest.raises(ValueError, match=rf"^--out_dir {re.escape(str(out))} (is|overlaps) "
                                             rf"the CK\+ folder {re.escape(str(source))} "
                                             rf".*never written to"):
            fme.synthesize(str(source), str(out))
    for threshold in (math.nan, -0.1, 0.0, 1.0, math.inf):
        with pytest.raises(ValueError, match=r"^--onset_threshold=.* is out of range"):
            fme.synthesize(str(source), str(tmp_path / "elsewhere"), threshold=threshold)
    assert _snapshot(tmp_path) == before


# ---------------------------------------------------------------- exports and manifests


def test_export_is_verified_confined_and_loaded_safely(tiny_model, tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(tiny_model.export, folder)
    info_path = folder / model_folder.MODEL_INFO
    info = json.loads(info_path.read_text())
    assert set(info["sha256"]) == set(model_folder.MODEL_PARTS.values())

    def refused(change: dict, message: str) -> None:
        info_path.write_text(json.dumps({**info, **change}))
        with pytest.raises(model_folder.ModelFolderError, match=message):
            model_folder.ExportedModel.load(str(folder))

    refused({"classes": info["classes"][::-1]},
            rf"^{info_path} was changed after export .*the class list")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(folder / "classifier.keras", tmp_path / "elsewhere" / "classifier.keras")
    for name in ("../elsewhere/classifier.keras", str(tmp_path / "elsewhere/classifier.keras")):
        refused({"files": {**info["files"], "classifier": name}},
                rf"^{info_path} names '{name}', which (leads outside|is not a path inside)")
    original = (folder / "classifier.keras").read_bytes()
    shutil.copy(folder / "cnn.keras", folder / "classifier.keras")  # another model swapped in
    refused({}, rf"^{folder / 'classifier.keras'} \(the classifier\) is not the file this "
                rf"export wrote")
    # safe_mode stays on: a model carrying Python code (a Lambda) is refused even when
    # model.json's checksums are made to match it.
    x = keras.Input((24, 21, 21), dtype="uint8")
    y = keras.layers.Lambda(lambda t: keras.ops.ones((keras.ops.shape(t)[0], 3)))(x)
    keras.Model(x, y).save(folder / "classifier.keras")
    info_path.write_text(json.dumps(files.seal(folder, {k: v for k, v in info.items()
                                                        if k not in ("sha256", "fingerprint")})))
    with pytest.raises(model_folder.ModelFolderError, match=r"cannot load .*classifier.keras.*"
                                                           r"safe_mode"):
        model_folder.ExportedModel.load(str(folder))
    (folder / "classifier.keras").write_bytes(original)


def test_manifest_names_only_files_inside_its_folder(tmp_path):
    folder = _tree(tmp_path)
    path = os.path.join(folder, tfrecord_folder.MANIFEST)
    manifest = json.loads(open(path).read())
    entry = manifest["files"].pop("p1.tfrecord")
    for name in ("../../p1.tfrecord", "/etc/passwd"):
        files.write_json(path, {**manifest, "files": {**manifest["files"], name: entry}})
        with pytest.raises(ValueError, match=rf"^{path} names '{name}', which"):
            tfrecord_folder.load_manifest(folder)
    for text, problem in [("[]", "is not a JSON object"), ("{", "is not valid JSON"),
                          ('{"dataset": "x"}', "lacks folder, classes, settings, files")]:
        with open(path, "w") as f:
            f.write(text)
        with pytest.raises(ValueError, match=rf"^{path} {problem}"):
            tfrecord_folder.load_manifest(folder)


# ---------------------------------------------------------------- bad input files


def test_damaged_landmark_cache_entries_are_recomputed_with_a_warning(tmp_path, capfd):
    frames = []
    for k in range(5):
        frames.append(str(tmp_path / f"img{k}.jpg"))
        open(frames[-1], "wb").close()
    clip = Clip("synthetic", "p1", "p1_c0", "negative", 100.0, frames=tuple(frames))
    cache = clip_processing.LandmarkCache(str(tmp_path / "cache"), landmarks.LandmarkSettings())
    track = landmarks.LandmarkTrack(landmarks=trees.clip_landmarks(0, 3, 5, seed=0),
                                    filled=np.zeros(5, bool), detections=1)
    path = cache.path(clip)
    good = None
    for damage in ("truncate", "garbage", "other clip", "flip"):
        cache.save(clip, track)
        good = good or open(path, "rb").read()
        data = bytearray(good)
        if damage == "truncate":
            data = data[:len(data) // 2]
        elif damage == "garbage":
            data = bytearray(b"not an npz at all")
        elif damage == "flip":
            data[len(data) // 3] ^= 0xFF
        else:
            np.savez(path, landmarks=track.landmarks[:3], filled=track.filled[:3],
                     detections=np.array(1))
            data = bytearray(open(path, "rb").read())
        open(path, "wb").write(bytes(data))
        assert cache.load(clip) is None, damage
        assert f"warning: landmark cache entry {path} of clip {clip.name} is damaged" in \
            capfd.readouterr().err
        assert not os.path.exists(path)
    cache.save(clip, track)
    np.testing.assert_array_equal(cache.load(clip).landmarks, track.landmarks)


def test_bad_input_files_name_the_path(tmp_path):
    empty, text = tmp_path / "empty.npy", tmp_path / "text.npy"
    empty.write_bytes(b"")
    text.write_text("x,y\n1,2\n")
    for path in (empty, text):
        with pytest.raises(ValueError, match=rf"^{path} is not a NumPy .npy array"):
            recordings.read_landmark_file(str(path))
    sheet = tmp_path / "CASME2-coding.xlsx"
    sheet.write_text("Subject,Filename\n")
    with pytest.raises(ValueError, match=rf"^{sheet} is not an Excel .xlsx workbook"):
        base.read_annotation_sheet(str(sheet), str)
    model = tmp_path / "garbage.dat"
    model.write_bytes(b"\0garbage" * 64)
    with pytest.raises(ValueError, match=rf"^landmark model {model} is not a dlib shape "
                                         rf"predictor"):
        landmarks.check_model(str(model))
    with pytest.raises(FileNotFoundError, match=rf"^config file {tmp_path / 'c.py'} does not "
                                                rf"exist"):
        experiment.argv_with_config(["train", f"--config={tmp_path / 'c.py'}"])
    with pytest.raises(FileNotFoundError, match=rf"^TFRecord file {tmp_path / 'no.tfrecord'} "
                                                rf"does not exist"):
        records.read_file(str(tmp_path / "no.tfrecord"))


# ---------------------------------------------------------------- the last line is ours


def test_worker_noise_is_filtered_and_real_lines_pass(capfd):
    child = ("import os; os.write(2, b'INFO:__main__:Logging handler created.\\n"
             "warning: from a worker\\n')")
    with runtime.filtered_stderr() as stream:
        os.write(2, b"I0000 00:00 1 cudart_stub.cc:31] Could not find cuda drivers\nours\n")
        subprocess.run([sys.executable, "-c", child], check=True)
        stream.write("progress\r")
        stream.flush()
    err = capfd.readouterr().err
    assert "progress\r" in err  # straight through, not held until a line ends
    assert err.replace("progress\r", "") == "ours\nwarning: from a worker\n"


def _entry(module, *args, prelude=""):
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = f"{prelude}import sys\nfrom lfm_tf import {module}\nsys.argv[0] = '{module}'\n" \
           f"{module}.run()\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_command_lines_end_in_one_error_line(tmp_path):
    folder = _tree(tmp_path / "tf")
    record = os.path.join(folder, "p1.tfrecord")
    with open(record, "r+b") as f:
        f.truncate(os.path.getsize(record) - 9)
    before = _snapshot(tmp_path)
    done = _entry("visualize", "clip", f"--input={record}", f"--out_dir={tmp_path / 'png'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"error: {record} is truncated or corrupt")
    assert _snapshot(tmp_path) == before  # no PNG, whole or truncated
    done = _entry("preprocess", "--dataset=synthetic", "--frame_intervall=8",
                  f"--out_dir={tmp_path / 'out'}")
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    assert done.stderr.strip().splitlines()[-1] == (
        "error: unknown flag --frame_intervall=8 (did you mean --frame_interval?): neither this "
        "program's flag nor an Apache Beam pipeline option; see --helpfull for ours")
