"""pipelines/table8.sh end to end on a rendered CK+-layout fixture (2 subjects, 14
sequences, CLFM only, one epoch per stage, 2 folds): FME synthesis, preprocessing
with crops, training on FGE only, the I-FER, the adaptive rows, report.md, and the
whole-data I-FER export for `predict --ifer_model`."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lfm_tf import model_folder, report, tfrecord_folder
from lfm_tf.table8 import adaptive
from tests.fixtures import dataset_trees

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ("fge", "fme", "mixed")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    ckplus = str(tmp_path_factory.mktemp("ckplus"))
    dataset_trees.build_ckplus_rendered_tree(ckplus, num_subjects=2)
    out = str(tmp_path_factory.mktemp("table8"))
    env = {**os.environ, "PYTHON": sys.executable, "VARIANTS": "clfm", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PREPROCESS_FLAGS": "--direct_num_workers=1 --direct_running_mode=in_memory"}
    flags = ["--config.lfm.num_folds=2", "--config.lfm.cnn.epochs=1", "--config.lfm.lstm.epochs=1",
             "--config.lfm.verbose=0", "--config.ifer.pretrain_epochs=1", "--config.ifer.epochs=1",
             "--config.export_ifer=True"]
    done = subprocess.run([os.path.join(ROOT, "pipelines", "table8.sh"), ckplus, out, *flags],
                          capture_output=True, text=True, env=env, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(os.path.join(out, "table8.json")) as f:
        table = json.load(f)
    return {"out": out, "stdout": done.stdout, "table": table}


def _rows(out, name):
    with open(os.path.join(out, "predictions", f"{name}.csv"), newline="") as f:
        return {(r["subject"], r["clip"]): r for r in csv.DictReader(f)}


def test_every_row_scores_every_set_of_14_clips(run):
    scores = run["table"]["scores"]
    assert sorted(scores) == ["clfm", "clfm+ifer_paper", "clfm+ifer_scaled", "ifer"]
    for row in scores.values():
        assert sorted(row) == sorted(SETS)
        assert all(row[name]["num_clips"] == 14 for name in SETS)
    # The mixed set: each sequence once, 7 as synthesized FME, 7 as the original.
    per_source = scores["clfm"]["mixed"]["per_dataset"]
    assert {k: v["num_clips"] for k, v in per_source.items()} == {"ckplus_fge": 7, "ckplus_fme": 7}
    sfem = run["table"]["mean_sfem"]
    assert sfem["fme"] < 0.5 * sfem["fge"]
    assert run["table"]["folds"] == ["fold01", "fold02"]


def test_each_clip_is_scored_by_the_one_network_it_was_routed_to(run):
    out, taus = run["out"], run["table"]["tau"]
    for name in SETS:
        lfm, image = _rows(out, f"clfm_{name}"), _rows(out, f"ifer_{name}")
        for kind in ("paper", "scaled"):
            routed = _rows(out, f"clfm+ifer_{kind}_{name}")
            assert routed.keys() == lfm.keys()
            for key, row in routed.items():
                tau = taus[row["fold"]][kind]
                expected = adaptive.LFM_FER if float(row["sfem"]) < tau else adaptive.I_FER
                assert row["route"] == expected
                source = lfm if expected == adaptive.LFM_FER else image
                assert row["predicted"] == source[key]["predicted"]
    # SFEM over all 68 landmarks puts these macro-expressions on the paper's scale:
    # at its tau every FGE clip goes to the I-FER, and FME clips, weaker, to both.
    assert run["table"]["sfem"] == "Eq. 3 as printed, all 68 landmarks"
    routes = run["table"]["scores"]["clfm+ifer_paper"]
    assert routes["fge"]["routes"] == {"i_fer": 14}
    assert routes["fme"]["routes"].get("lfm_fer", 0) > 0


def test_fge_predictions_are_those_of_the_trainers_own_folds(run):
    out = run["out"]
    ours = _rows(out, "clfm_fge")
    with open(os.path.join(out, "clfm", report.PREDICTIONS), newline="") as f:
        trainer_rows = list(csv.DictReader(f))
    assert len(trainer_rows) == len(ours) == 14
    for r in trainer_rows:
        mine = ours[(r["subject"], r["clip"])]
        assert (mine["fold"], mine["predicted"]) == (r["fold"], r["predicted"])
        np.testing.assert_allclose([float(mine[k]) for k in r if k.startswith("prob_")],
                                   [float(r[k]) for k in r if k.startswith("prob_")], atol=2e-5)


def test_only_fge_trains_and_preprocessing_stored_crops(run):
    out = run["out"]
    with open(os.path.join(out, "clfm", "run.json")) as f:
        assert json.load(f)["config"]["dataset"] == "ckplus_fge"
    fge = os.path.join(out, "tfrecords", "ckplus_fge", "clfm_T1")
    with open(os.path.join(out, "ifer", "run.json")) as f:
        assert json.load(f)["data"] == {n: e["sha256"] for n, e in sorted(
            tfrecord_folder.load_manifest(fge)["files"].items())}
    manifest = tfrecord_folder.load_manifest(os.path.join(out, "tfrecords", "ckplus_fme", "clfm_T1"))
    assert manifest["settings"]["crops"] == {"frames": 3, "size": 64}
    record = next(tfrecord_folder.iter_records(manifest["folder"]))
    assert record.crops.shape == (3, 64, 64) and record.crop_frames.tolist() == [0, 6, 11]
    assert record.num_frames == 12 and record.dataset == "ckplus_fme"


def test_report_sets_this_run_beside_the_papers_table_8(run):
    with open(os.path.join(run["out"], report.REPORT)) as f:
        text = f.read()
    assert "| Paper, published: CLFM-based (21x21 LFM) | 88.78% | 78.60% | 85.63% |" in text
    assert "| Paper, published: DTAGN [11] | 93.88% (97.25% in [11]) | 43.34% | 70.95% |" in text
    assert "| Paper, published: CLFM and DTAGN [11] (adaptive) | N/A | N/A | 89.30% |" in text
    assert "| This run: LFM-based (68x68 LFM) | not run | not run | not run |" in text
    clfm = run["table"]["scores"]["clfm"]
    assert ("| This run: CLFM-based (21x21 LFM) | "
            + " | ".join(f"{100 * clfm[n]['accuracy']:.2f}%" for n in SETS) + " |") in text
    assert "they are not results of this run" in text
    assert run["stdout"].rstrip().endswith(f"== {run['out']}/report.md")


def test_the_ifer_trained_on_all_fge_clips_is_exported_for_predict(run):
    folder = os.path.join(run["out"], "ifer", "export")
    info = model_folder.check_ifer_folder(folder)
    assert info["classes"] == run["table"]["classes"]
    assert info["trained_on"] == {"clips": 14, "subjects": 2} and info["dataset"] == "ckplus_fge"
    assert info["crops"]["frames"] == 3 and info["crops"]["size"] == 64
    assert model_folder.ExportedIFER.load(folder).crop_frames == 3
    assert f"I-FER export: {folder}" in run["stdout"]
