"""`predict --ifer_model`: the adaptive framework of Fig. 4 on a recording. SFEM
first, then only the chosen network per input and window; the I-FER export folder
checked like the model's; landmark files that would need pixels fail cleanly."""

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lfm_tf import files, inference, landmarks, model_folder, recordings
from lfm_tf.table8 import crops, ifer
from tests import assets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIDEO = str(assets.asset("single_face.mp4"))  # 72 frames at 30 fps, a face throughout
# Windows of 25 frames every 10 (starts 0, 10, 20, 30, 40) have SFEM (predict's
# default: the peak form, all 68 landmarks) 1.57, 1.77, 0.81, 0.36, 0.28 and the whole
# input 1.85: tau = 1 splits them 3 : 3 (the paper's 0.35 would split them 5 : 1,
# the fourth window 0.01 above it). Those are the SFEM of the detector's own
# landmarks (`--landmark_refinement=none
# --temporal_filter=none`): the routing is under test here, not the landmarks.
DETECTOR_ONLY = landmarks.LandmarkSettings(refinement=None)
WINDOWS = inference.PredictOptions(window=25, stride=10)
TAU = 1.0


@pytest.fixture(scope="module")
def model(tiny_model):
    return model_folder.ExportedModel.load(tiny_model.export)


@pytest.fixture(scope="module")
def image(tiny_ifer):
    return model_folder.ExportedIFER.load(tiny_ifer.export)


@pytest.fixture(scope="module")
def recording():
    return recordings.read_recording(VIDEO, extractor=recordings.unbridged_extractor(DETECTOR_ONLY),
                                     denoiser="none")


def _spy(monkeypatch, cls) -> list[int]:
    """How many clips each call of `cls.probabilities` got."""
    calls, original = [], cls.probabilities

    def probabilities(self, x):
        calls.append(len(x["crops"]) if isinstance(x, dict) else len(x))
        return original(self, x)

    monkeypatch.setattr(cls, "probabilities", probabilities)
    return calls


def _spans(record):
    return [record] + [w for w in record["windows"] if "skipped" not in w]


def test_each_span_runs_only_the_network_its_sfem_chooses(model, image, recording, monkeypatch):
    alone = inference.predict_recording(model, recording, WINDOWS)
    lfm_calls = _spy(monkeypatch, model_folder.ExportedModel)
    ifer_calls = _spy(monkeypatch, model_folder.ExportedIFER)
    record = inference.predict_recording(model, recording, WINDOWS, image, TAU)
    spans = _spans(record)
    sfem = [s["sfem"] for s in spans]
    assert [s["route"] for s in spans] == ["lfm" if v < TAU else "ifer" for v in sfem] == [
        "ifer", "ifer", "ifer", "lfm", "lfm", "lfm"]
    assert record["tau"] == TAU
    assert [s["model"] for s in spans] == [
        model.folder if s["route"] == "lfm" else image.folder for s in spans]
    # One call each, with exactly the spans routed to it.
    assert (lfm_calls, ifer_calls) == ([3], [3])
    # Below tau: what the model alone says; above: the I-FER on the spans' crops.
    ranges = [(s["start_frame"], s["end_frame"] + 1) for s in spans]
    for span, before in zip(spans, _spans(alone)):
        assert span["sfem"] == before["sfem"]
        if span["route"] == "lfm":
            # The same network on the same maps, in a batch of 3 instead of 6: oneDNN's
            # kernels may sum in another order for another batch size (float32 ulps).
            np.testing.assert_allclose(list(span["probabilities"].values()),
                                       list(before["probabilities"].values()), atol=1e-6)
    chosen = [r for r, s in zip(ranges, spans) if s["route"] == "ifer"]
    expected = ifer.probabilities(image.model, inference.ifer_input(recording, chosen, 3, 64))
    got = [list(s["probabilities"].values()) for s in spans if s["route"] == "ifer"]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # A tau under every SFEM sends all to the I-FER, one above every SFEM all to
    # LFM-FER: the other network is never called.
    del lfm_calls[:], ifer_calls[:]
    inference.predict_recording(model, recording, WINDOWS, image, tau=0.0)
    assert (lfm_calls, ifer_calls) == ([], [6])
    del ifer_calls[:]
    inference.predict_recording(model, recording, WINDOWS, image, tau=100.0)
    assert (lfm_calls, ifer_calls) == ([6], [])


def test_ifer_input_is_made_as_preprocessing_makes_crops(image, recording):
    # The whole input: frames 0, 36 and 71, one eye alignment, as `preprocess --crops`.
    x = inference.ifer_input(recording, [(0, 72), (10, 35)], image.crop_frames, image.crop_size)
    assert x["crops"].shape == (2, 64, 64, 3) and x["trajectory"].shape == (2, 3 * 136)
    for k, (start, end) in enumerate([(0, 72), (10, 35)]):
        positions = start + crops.crop_positions(end - start, 3)
        frames = dict(recordings.read_frames(VIDEO, positions))
        points = recording.landmarks[positions]
        made = ifer.clip_input(crops.clip_crops([frames[p] for p in positions], points), points)
        np.testing.assert_array_equal(x["crops"][k], made["crops"])
        np.testing.assert_array_equal(x["trajectory"][k], made["trajectory"])
    assert [k for k, _ in recordings.read_frames(VIDEO, [71, 0, 36, 0])] == [0, 36, 71]
    with pytest.raises(recordings.InputError, match=r"single_face.mp4: no frame 72; it has 72"):
        list(recordings.read_frames(VIDEO, [5, 72]))


def test_result_file_names_the_route_tau_and_model_and_landmark_files_fail_cleanly(
        model, image, recording, tmp_path):
    np.save(tmp_path / "track.npy", recording.landmarks)  # the video's own landmarks
    inputs = [VIDEO, str(tmp_path / "track.npy")]
    out, err = io.StringIO(), io.StringIO()
    options = inference.PredictOptions(fps=30.0, window=25, stride=10,
                                       landmark_settings=DETECTOR_ONLY, temporal_filter="none")
    records = inference.run(model.folder, inputs, options, output=str(tmp_path / "r.json"),
                            out=out, err=err, ifer_model=image.folder, tau=TAU)
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["results"] == records
    assert saved["tau"] == TAU and saved["ifer_model"]["folder"] == image.folder
    assert saved["ifer_model"]["classes"] == saved["model"]["classes"]
    video = records[0]
    assert video["tau"] == TAU and video["route"] == "ifer" and video["model"] == image.folder
    assert [w["route"] for w in video["windows"]] == ["ifer", "ifer", "lfm", "lfm", "lfm"]
    # SFEM 1.698 >= 1: the landmark file would need pixels. One line, nothing run.
    assert records[1] == {"input": inputs[1], "error": (
        f"{inputs[1]}: SFEM not below tau = 1 sends the whole input (SFEM 1.698), frames "
        f"0-24 (SFEM 1.551), frames 10-34 (SFEM 1.612) to the image-based FER (I-FER), "
        f"which needs the frames, and a landmark file has none: pass the video or folder of "
        f"frames instead, or a larger --tau")}
    assert err.getvalue() == f"error: {records[1]['error']}\n"
    lines = out.getvalue().splitlines()
    assert lines[1] == (f"I-FER {image.folder}: 3 crops of 64x64 a clip; SFEM below tau = 1 "
                        f"-> LFM-FER, otherwise I-FER")
    assert lines[2] == ("SFEM (--sfem_form=peak): Eq. 3's largest single map from the first "
                        "frame (frames T apart, not summed over maps) on the face scaled to "
                        "17800 px^2 (CK+'s), the head's scale change removed, blinks "
                        "skipped, all 68 landmarks")
    assert lines[3].startswith(f"{VIDEO}: ") and lines[3].endswith("SFEM 1.698 -> I-FER")
    assert lines[5].endswith("SFEM 1.551 -> I-FER")
    assert lines[7].endswith("SFEM 0.629 -> LFM-FER")
    # With the tau raised above its SFEM, the landmark file goes to LFM-FER.
    record = inference.predict_file(model, inputs[1], options, image=image, tau=20.0)
    assert {w["route"] for w in _spans(record)} == {"lfm"}


def test_mismatched_or_incomplete_ifer_folders_are_refused_at_start(model, tiny_ifer, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_ifer.export, other)
    info = json.loads((other / ifer.EXPORT_INFO).read_text())
    # An I-FER exported with other classes (resealed: an edited ifer.json is refused).
    info["classes"] = ["anger", "happiness", "surprise"]
    info = files.seal(other, {k: v for k, v in info.items() if k not in ("sha256", "fingerprint")})
    (other / ifer.EXPORT_INFO).write_text(json.dumps(info))
    # Refused before any input is read (this one does not exist).
    with pytest.raises(model_folder.ModelFolderError, match=(
            rf"the I-FER {other} has classes anger, happiness, surprise but the model "
            rf"{model.folder} has negative, positive, surprise: the adaptive framework needs")):
        inference.run(model.folder, ["missing.mp4"], inference.PredictOptions(),
                      ifer_model=str(other))
    os.remove(other / "ifer.keras")
    with pytest.raises(model_folder.ModelFolderError, match=(
            rf"I-FER folder {other} is incomplete: missing ifer.keras \(the model\); export one "
            rf"with `python -m lfm_tf.table8 --config.export_ifer=True`")):
        inference.run(model.folder, ["missing.mp4"], inference.PredictOptions(),
                      ifer_model=str(other))
    # A found instance: --tau=-1 and 0 were taken and sent every input to the I-FER.
    for tau in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"--tau must be a finite number above 0 \(SFEM is "
                                             r"0 for a still face\), got "):
            inference.run(model.folder, ["missing.mp4"], inference.PredictOptions(),
                          ifer_model=str(other), tau=tau)
    del info["crops"], info["files"]["model"]
    (other / ifer.EXPORT_INFO).write_text(json.dumps(info))
    with pytest.raises(model_folder.ModelFolderError, match=r"ifer.json lacks crops, files.model"):
        model_folder.check_ifer_folder(str(other))
    with pytest.raises(model_folder.ModelFolderError, match=r"is not an exported I-FER: it has no "
                                                         r"ifer.json"):
        model_folder.check_ifer_folder(str(tmp_path))
    # The command line: one error line, exit status 2.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "lfm_tf.predict", f"--model={model.folder}",
                           f"--ifer_model={tmp_path / 'nowhere'}", "--tau=0.2", VIDEO], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"error: I-FER folder {tmp_path / 'nowhere'} does not exist: export one with")
