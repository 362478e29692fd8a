"""`predict --ifer_model`: the adaptive framework of Fig. 4 on a recording. SFEM
first, then only the chosen network per input and window; the I-FER export folder
checked like the model's; a span the I-FER cannot read (a landmark file has no
pixels, a frame it crops is unreadable) is reported and costs only itself."""

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from lfm_tf import files, inference, landmarks, model_folder, recordings
from lfm_tf.table8 import crops, ifer
from tests import assets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIDEO = str(assets.asset("single_face.mp4"))  # 72 frames at 30 fps, a face throughout
# Windows of 25 frames every 10 (starts 0, 10, 20, 30, 40, and 47, the last ending on
# the last frame) have SFEM (predict's default: the peak form, all 68 landmarks) 1.57,
# 1.77, 0.81, 0.36, 0.28, 1.37 and the whole input 1.85: tau = 1 splits them 4 : 3 (the
# paper's 0.35 would split them 6 : 1, the fourth window 0.01 above it). Those are the
# SFEM of the detector's own
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


def _spans(record, every=False):
    """The whole input and its windows; without `every`, only those classified."""
    return [record] + [w for w in record["windows"] if every or "skipped" not in w]


def test_each_span_runs_only_the_network_its_sfem_chooses(model, image, recording, monkeypatch):
    alone = inference.predict_recording(model, recording, WINDOWS)
    lfm_calls = _spy(monkeypatch, model_folder.ExportedModel)
    ifer_calls = _spy(monkeypatch, model_folder.ExportedIFER)
    record = inference.predict_recording(model, recording, WINDOWS, image, TAU)
    spans = _spans(record)
    sfem = [s["sfem"] for s in spans]
    assert [s["route"] for s in spans] == ["lfm" if v < TAU else "ifer" for v in sfem] == [
        "ifer", "ifer", "ifer", "lfm", "lfm", "lfm", "ifer"]
    assert record["tau"] == TAU
    assert [s["model"] for s in spans] == [
        model.folder if s["route"] == "lfm" else image.folder for s in spans]
    # One call each, with exactly the spans routed to it.
    assert (lfm_calls, ifer_calls) == ([3], [4])
    # Below tau: what the model alone says; above: the I-FER on the spans' crops.
    ranges = [(s["start_frame"], s["end_frame"] + 1) for s in spans]
    for span, before in zip(spans, _spans(alone)):
        assert span["sfem"] == before["sfem"]
        if span["route"] == "lfm":
            # The same network on the same maps, in a batch of 3 instead of 7: oneDNN's
            # kernels may sum in another order for another batch size (float32 ulps).
            np.testing.assert_allclose(list(span["probabilities"].values()),
                                       list(before["probabilities"].values()), atol=1e-6)
    chosen = [r for r, s in zip(ranges, spans) if s["route"] == "ifer"]
    expected = ifer.probabilities(image.model,
                                  ifer.stack(inference.ifer_inputs(recording, chosen, 3, 64)))
    got = [list(s["probabilities"].values()) for s in spans if s["route"] == "ifer"]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # A tau under every SFEM sends all to the I-FER, one above every SFEM all to
    # LFM-FER: the other network is never called.
    del lfm_calls[:], ifer_calls[:]
    inference.predict_recording(model, recording, WINDOWS, image, tau=0.0)
    assert (lfm_calls, ifer_calls) == ([], [7])
    del ifer_calls[:]
    inference.predict_recording(model, recording, WINDOWS, image, tau=100.0)
    assert (lfm_calls, ifer_calls) == ([7], [])


def test_ifer_input_is_made_as_preprocessing_makes_crops(image, recording):
    # The whole input: frames 0, 36 and 71, one eye alignment, as `preprocess --crops`.
    x = ifer.stack(inference.ifer_inputs(recording, [(0, 72), (10, 35)], image.crop_frames,
                                         image.crop_size))
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
    # With a list for them, frames that cannot be read are named and the rest read.
    unreadable = []
    assert [k for k, _ in recordings.read_frames(VIDEO, [5, 72], unreadable=unreadable)] == [5]
    assert unreadable == [(72, "no frame 72: the input has 72")]


def test_result_file_names_the_route_tau_and_model_and_a_landmark_file_keeps_its_lfm_spans(
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
    video, track = records
    assert video["tau"] == TAU and video["route"] == "ifer" and video["model"] == image.folder
    assert [w["route"] for w in video["windows"]] == ["ifer", "ifer", "lfm", "lfm", "lfm", "ifer"]
    # Issue 11: the landmark file has no pixels for its 4 spans at or above tau (the
    # whole input 1.698, windows 1.551, 1.612 and the last one): each is reported with its route
    # and why; its 3 windows below tau are classified exactly as the video's are.
    assert "error" not in track and track["tau"] == TAU
    for span in _spans(track, every=True):
        if span["route"] == "ifer":
            assert span["skipped"] == inference.NO_PIXELS == (
                "a landmark file has no frames for the I-FER to crop: pass the video or "
                "folder of frames instead, or a larger --tau")
            assert not {"class", "probabilities", "model"} & set(span)
    assert [(w["route"], "class" in w) for w in track["windows"]] == [
        ("ifer", False), ("ifer", False), ("lfm", True), ("lfm", True), ("lfm", True),
        ("ifer", False)]
    for mine, seen in zip(track["windows"][2:5], video["windows"][2:5]):
        assert (mine["model"], mine["class"]) == (model.folder, seen["class"])
        assert mine["probabilities"] == seen["probabilities"]
    # One error line names what was not done; the exit status says it.
    assert err.getvalue() == (
        f"error: {inputs[1]}: 4 of 7 spans not classified (the whole input, frames 0-24, "
        f"frames 10-34 and 1 more): {inference.NO_PIXELS}\n")
    assert (inference.exit_status([video]), inference.exit_status(records)) == (0, 1)
    lines = out.getvalue().splitlines()
    assert lines[1] == (f"I-FER {image.folder}: 3 crops of 64x64 a clip; SFEM below tau = 1 "
                        f"-> LFM-FER, otherwise I-FER")
    assert lines[2] == ("SFEM (--sfem_form=peak): Eq. 3's largest single map from the first "
                        "frame (frames T apart, not summed over maps) on the face scaled to "
                        "17800 px^2 (CK+'s), the head's scale change removed, blinks "
                        "skipped, all 68 landmarks")
    assert lines[3].startswith(f"{VIDEO}: ") and lines[3].endswith("SFEM 1.698 -> I-FER")
    assert lines[6].endswith("SFEM 1.551 -> I-FER")
    assert lines[8].endswith("SFEM 0.629 -> LFM-FER")
    at = lines.index(f"{inputs[1]}: SFEM 1.698 -> I-FER, skipped: {inference.NO_PIXELS}")
    assert lines[at + 3] == (f"  frames 0-24 (0.00-0.80 s): SFEM 1.551 -> I-FER, skipped: "
                             f"{inference.NO_PIXELS}")
    assert lines[at + 5].startswith("  frames 20-44 (0.67-1.47 s): ")
    assert lines[at + 5].endswith("SFEM 0.629 -> LFM-FER")
    # With the tau raised above its SFEM, the landmark file goes to LFM-FER.
    record = inference.predict_file(model, inputs[1], options, image=image, tau=20.0)
    assert {w["route"] for w in _spans(record)} == {"lfm"}
    assert inference.exit_status([record]) == 0


def test_an_unreadable_frame_costs_only_the_spans_that_crop_it(model, image, recording, tmp_path,
                                                               monkeypatch):
    # The video as a folder of frames (lossless PNG, so the same pixels) whose frame 12
    # cannot be decoded: only window 0-24 crops it (frames 0, 12, 24).
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, frame in recordings.read_frames(VIDEO, range(72)):
        cv2.imwrite(str(folder / f"img{k}.png"), frame)
    (folder / "img12.png").write_bytes(b"not a PNG")
    frames = dataclasses.replace(recording, path=str(folder), source="frames")
    from_video = inference.predict_recording(model, recording, WINDOWS, image, TAU)
    ifer_calls = _spy(monkeypatch, model_folder.ExportedIFER)
    record = inference.predict_recording(model, frames, WINDOWS, image, TAU)
    assert [(s["route"], "class" in s) for s in _spans(record, every=True)] == [
        ("ifer", True), ("ifer", False), ("ifer", True), ("lfm", True), ("lfm", True),
        ("lfm", True), ("ifer", True)]
    assert record["windows"][0]["skipped"] == (
        f"frame 12 of the input, one the I-FER crops, cannot be read (cannot decode frame "
        f"image {folder / 'img12.png'}: not an image OpenCV can read, or the file is corrupt)")
    # The I-FER ran once, on the 3 spans it could crop, as it did on the video's frames.
    assert ifer_calls == [3]
    for mine, seen in zip(_spans(record, every=True), _spans(from_video)):
        if "class" in mine:
            np.testing.assert_allclose(list(mine["probabilities"].values()),
                                       list(seen["probabilities"].values()), atol=1e-6)
    assert inference.incomplete(record) == (
        f"{folder}: 1 of 7 spans not classified (frames 0-24): "
        f"{record['windows'][0]['skipped']}")
    assert inference.exit_status([record]) == 1


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
