"""Training spread over processes, for real: folds side by side in worker processes
(`--parallel_folds`), and one fold trained by two `multi_worker_mirrored` workers
talking over the loopback interface with a TF_CONFIG each."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from lfm_tf import experiment, parallel_folds, report, trainer
from tests.fixtures import tfrecord_tree as trees

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = "import sys\nfrom lfm_tf import train\nsys.argv = ['train'] + sys.argv[1:]\ntrain.run()\n"


def _env(**extra):
    return {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _probabilities(workdir, fold):
    rows = report.read_predictions(os.path.join(workdir, "folds", fold, report.PREDICTIONS))
    return np.array([[float(v) for k, v in row.items() if k.startswith("prob_")] for row in rows])


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """3 subjects x 3 classes x 2 clips of 14 frames: 10 maps a clip at T = 4, so a
    fold trains on 120 maps (5 batches of 24) and 12 clips (3 batches of 4), whole
    batches on one worker and on two."""
    root = tmp_path_factory.mktemp("records")
    trees.write_tree(str(root), trees.clips_per_subject(["p1", "p2", "p3"], 3, per_class=2))
    return root


_TRAINING = ["--dataset=synthetic", "--config.cnn.epochs=2", "--config.lstm.epochs=2",
             "--config.verbose=0", "--config.cnn.batch_size=24", "--config.lstm.batch_size=4",
             # Dropout draws its masks per replica: without it, one fewer difference.
             "--config.cnn.dropout=0"]


def test_multi_worker_mirrored_on_two_local_workers_matches_one_worker(records, tmp_path):
    one = subprocess.run([sys.executable, "-c", CLI, *_TRAINING, f"--tfrecord_dir={records}",
                          "--folds=p3", f"--workdir={tmp_path / 'one'}"],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]

    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(("localhost", 0))
    cluster = {"worker": [f"localhost:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    workers = [subprocess.Popen(
        [sys.executable, "-c", CLI, *_TRAINING, f"--tfrecord_dir={records}", "--folds=p3",
         f"--workdir={tmp_path / 'two'}", "--strategy=multi_worker_mirrored"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                     "index": k}})))
        for k in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]

    # The chief (worker 0) writes the fold and the report; worker 1 writes nothing there.
    with open(tmp_path / "two" / "folds" / "p3" / "result.json") as f:
        assert json.load(f)["replicas"] == 2
    assert "this run" in outputs[0][0]
    assert "worker 1: its share of training done" in outputs[1][0]
    assert sorted(os.listdir(tmp_path / "two" / "folds")) == ["p3"]
    single, double = (_probabilities(tmp_path / w, "p3") for w in ("one", "two"))
    assert single.shape == double.shape == (6, 3)
    # The same classifier, not the same bits: both predict every test clip's class
    # (2 of each), though their probabilities differ by up to about 0.3 after these
    # few steps at 1e-3 (measured; the initial weights are identical, so the steps
    # differ: see BENCHMARKS.md on multi-worker training).
    truth = [row["true"] for row in report.read_predictions(
        os.path.join(tmp_path / "one", "folds", "p3", report.PREDICTIONS))]
    assert sorted(truth) == [0, 0, 1, 1, 2, 2]
    assert single.argmax(1).tolist() == truth
    assert double.argmax(1).tolist() == truth


def test_parallel_folds_equal_one_after_another_with_the_same_threads(records, tmp_path):
    """Worker processes of 1 intra-op thread each give, bit for bit, what one
    process gives fold after fold with 1 thread; and a resumed parallel run trains
    only the folds not yet finished."""
    args = [*_TRAINING, f"--tfrecord_dir={records}", "--config.cnn.dropout=0.5"]
    one_thread = _env(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    serial = subprocess.run([sys.executable, "-c", CLI, *args, f"--workdir={tmp_path / 's'}"],
                            cwd=ROOT, env=one_thread, capture_output=True, text=True, timeout=600)
    assert serial.returncode == 0, serial.stderr[-3000:]

    # Two workers on 2 cores: 1 thread each (the split the tests rely on).
    assert parallel_folds.threads_per_worker(2, cores=2) == 1
    assert parallel_folds.threads_per_worker(3, cores=2) == 1
    assert parallel_folds.threads_per_worker(2, cores=16) == 8
    config = experiment.load_config("synthetic")
    config.tfrecord_dir, config.workdir = str(records), str(tmp_path / "p")
    config.cnn.epochs, config.lstm.epochs, config.verbose = 2, 2, 0
    config.cnn.batch_size, config.lstm.batch_size = 24, 4
    config.parallel_folds = 2
    config.folds = "p2"
    trainer.run(config)                      # one fold: no worker processes needed
    finished_first = os.path.getmtime(tmp_path / "p" / "folds" / "p2" / "result.json")
    config.folds = ""
    metrics = trainer.run(config)            # p1 and p3 in two worker processes
    assert os.path.getmtime(tmp_path / "p" / "folds" / "p2" / "result.json") == finished_first
    assert sum(metrics["support"].values()) == 18
    for fold in ("p1", "p2", "p3"):
        assert (_probabilities(tmp_path / "s", fold) == _probabilities(tmp_path / "p", fold)).all()
    # Each fold says how it ran: a worker's share of the cores.
    with open(tmp_path / "p" / "folds" / "p1" / "result.json") as f:
        assert json.load(f)["execution"] == {
            "strategy": "default", "parallel_folds": 2,
            "intra_op_threads": parallel_folds.threads_per_worker(2),
            "mixed_precision": False, "jit_compile": config.jit_compile}


def test_parallel_folds_cannot_be_combined_with_a_strategy(records, tmp_path):
    config = experiment.load_config("synthetic")
    config.tfrecord_dir, config.workdir = str(records), str(tmp_path / "w")
    config.parallel_folds, config.strategy = 2, "mirrored"
    with pytest.raises(ValueError, match="parallel_folds=2 .* cannot be combined with "
                                         "--strategy=mirrored"):
        trainer.run(config)
