"""`make bench`: run every benchmark, each in a process of its own, and write
BENCHMARKS.md from their results.

  python -m benchmarks.run                       # all: about 40 minutes on these 2 cores
  python -m benchmarks.run --only=features       # re-run some; the others' last results stay
  python -m benchmarks.run --loso_folds=26       # the whole protocol instead of an estimate
  python -m benchmarks.run --only=landmark_loso,weak_transfer   # the optional modules

Two modules are optional, run only when `--only` names them, because they train
the network several times each (issue 10: what the landmarks do to the method)
and would take `make bench` far past its 15 minutes on 2 cores:
`landmark_loso` (LOSO on the rendered synthetic set with three landmark sources,
about 15 CPU minutes) and `weak_transfer` (five sources, each trained once).

Data the benchmarks make (TFRecords, rendered frames) stay in --work_dir (by
default <tmp>/lfm_tf_bench) and are reused by the next run; results go to
<work_dir>/results/<module>.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from benchmarks import common, report

DEFAULT_WORK_DIR = os.path.join(tempfile.gettempdir(), "lfm_tf_bench")
_OUTPUT = flags.DEFINE_string("output", "BENCHMARKS.md", "The report to write.")
_ONLY = flags.DEFINE_list("only", list(common.MODULES),
                          f"Modules to run, of {list(common.MODULES + common.OPTIONAL_MODULES)}.")
_LOSO_FOLDS = flags.DEFINE_integer("loso_folds", 2, "LOSO folds to train (of 26).")
RUN_FILE = "run.json"


def run_module(name: str, work: str, results: str, extra: list[str]) -> dict:
    """Run `python -m benchmarks.<name>`; its wall time, CPU time and peak memory."""
    command = [sys.executable, "-m", f"benchmarks.{name}", f"--work_dir={work}",
               f"--out={os.path.join(results, name + '.json')}", *extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    # wait4: the child's resource use, with that of the processes it started.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"command": " ".join(command[1:3]), "exit_code": process.returncode,
            "wall_s": round(time.perf_counter() - start, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def main(argv):
    del argv
    known = common.MODULES + common.OPTIONAL_MODULES
    unknown = sorted(set(_ONLY.value) - set(known))
    if unknown:
        raise app.UsageError(f"unknown modules {unknown}; choose from {list(known)}")
    work = os.path.abspath(common.WORK_DIR.value or DEFAULT_WORK_DIR)
    results = os.path.join(work, "results")
    os.makedirs(results, exist_ok=True)
    run_path = os.path.join(results, RUN_FILE)
    previous = {}
    if os.path.exists(run_path):
        with open(run_path) as f:
            previous = json.load(f).get("modules", {})
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join(["python", "-m", "benchmarks.run", *sys.argv[1:]]),
            "machine": common.machine(), "load_average_start": os.getloadavg(),
            "modules": {k: v for k, v in previous.items() if k not in _ONLY.value}}
    start = time.perf_counter()
    for name in (m for m in known if m in _ONLY.value):
        print(f"=== benchmarks.{name}", flush=True)
        extra = [f"--folds={_LOSO_FOLDS.value}"] if name == "loso" else []
        info["modules"][name] = run_module(name, work, results, extra)
    info["wall_s"] = round(time.perf_counter() - start, 1)
    info["load_average_end"] = os.getloadavg()
    with open(run_path, "w") as f:
        json.dump(info, f, indent=1)
    report.write(results, _OUTPUT.value)
    print(f"wrote {_OUTPUT.value} ({info['wall_s']:.0f} s)", flush=True)
    failed = [k for k, v in info["modules"].items() if v["exit_code"] != 0]
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)} (see their output above)")


if __name__ == "__main__":
    app.run(main)
