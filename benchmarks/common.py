"""What every benchmark module shares: flags, timing, the machine, the result file.

Each module is a program (`python -m benchmarks.<name> --work_dir=W --out=R.json`)
that `benchmarks.run` starts in a process of its own and whose JSON result
`benchmarks.report` turns into tables.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import platform
import resource
import sys
import time

from absl import flags

# The modules of `make bench`, in the order they run, and those that run only
# when named (`--only`): they train the network several times over, which
# would take `make bench` far past its 15 minutes.
MODULES = ("landmarks", "features", "preprocessing", "input_pipeline", "training", "loso",
           "spotting")
OPTIONAL_MODULES = ("weak_transfer", "landmark_loso")

WORK_DIR = flags.DEFINE_string("work_dir", None, "Scratch folder for data the benchmarks make "
                               "(shared between modules, so each is made once).")
OUT = flags.DEFINE_string("out", None, "Where this module writes its JSON result.")

# Distributions whose versions go into BENCHMARKS.md.
PACKAGES = ("tensorflow", "keras", "numpy", "opencv-python-headless", "dlib-bin", "apache-beam")


@dataclasses.dataclass
class Timing:
    """Seconds of wall time and of CPU time (this process's threads, and the
    processes it started and waited for, such as Beam's workers)."""

    wall: float
    cpu: float
    children_cpu: float = 0.0

    @property
    def total_cpu(self) -> float:
        return self.cpu + self.children_cpu

    def rates(self, count: float, unit: str) -> dict:
        """`count` things in this time: per wall second and per CPU second."""
        return {"count": count, "unit": unit, "wall_s": round(self.wall, 3),
                "cpu_s": round(self.total_cpu, 3),
                "per_wall_s": count / self.wall if self.wall > 0 else None,
                "per_cpu_s": count / self.total_cpu if self.total_cpu > 0 else None}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    """`with Stopwatch() as t: ...` then `t.timing`."""

    def __enter__(self):
        self._wall, self._cpu, self._children = (time.perf_counter(), time.process_time(),
                                                 _children_cpu())
        return self

    def __exit__(self, *exc):
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu,
                             _children_cpu() - self._children)


def timed(fn, *args, **kwargs):
    """(fn's result, its Timing)."""
    with Stopwatch() as watch:
        result = fn(*args, **kwargs)
    return result, watch.timing


def pin_to_one_core() -> int:
    """Run this process, all its threads, on one core (the last one allowed), so
    that CPU time measures one core's work; OpenCV gets one thread too."""
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
    return core


def peak_rss_mb() -> dict:
    """Peak resident memory of this process and of its largest finished child, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self": round(own, 1), "largest_child": round(children, 1)}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine() -> dict:
    """What BENCHMARKS.md says about the machine."""
    return {"nproc": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "cpu": _cpu_model(), "ram_gb": _ram_gb(), "platform": platform.platform(),
            "versions": _versions()}


def work_path(*parts: str) -> str:
    if not WORK_DIR.value:
        raise ValueError("--work_dir is required")
    path = os.path.join(WORK_DIR.value, *parts)
    os.makedirs(os.path.dirname(path) if os.path.splitext(path)[1] else path, exist_ok=True)
    return path


def log(message: str) -> None:
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print(f"[{name} {time.strftime('%H:%M:%S')}] {message}", flush=True)


def save(result: dict, started: float) -> None:
    """Write the module's result with its wall time, CPU time (this process's and
    that of the processes it waited for), peak memory and the load average at the
    end (other jobs on the machine show there)."""
    if not OUT.value:
        raise ValueError("--out is required")
    cpu = time.process_time() + _children_cpu()
    result = {**result, "wall_s": round(time.time() - started, 1), "cpu_s": round(cpu, 1),
              "peak_rss_mb": peak_rss_mb(), "load_average_end": os.getloadavg()}
    os.makedirs(os.path.dirname(os.path.abspath(OUT.value)), exist_ok=True)
    tmp = f"{OUT.value}.tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, OUT.value)
