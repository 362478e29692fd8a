"""Feature maps per core (Eq. 1 and Eq. 2) for the LFM (68x68) and the CLFM
(21x21), against the bound that memory bandwidth sets on this machine.

  python -m benchmarks.features --work_dir=/tmp/bench --out=features.json

Pinned to one core; rates are maps per CPU second, the best of a few repeats,
over the landmark tracks of the CASME II-sized synthetic set (T = 8). The
bandwidth is that of a NumPy copy of an array far larger than the caches, on the
same core; the bound is the rate at which the maps could be written if writing
them were all the work.
"""

from __future__ import annotations

import time

import numpy as np
from absl import app, flags

from benchmarks import baselines, common, data
from lfm_tf import features

_REPEATS = flags.DEFINE_integer("repeats", 3, "Repeats of each measurement; the best counts.")
_COPY_MB = flags.DEFINE_integer("copy_mb", 256, "Size of the array copied to measure bandwidth.")
FRAME_INTERVAL = 8


def best_cpu(fn, repeats: int) -> float:
    """The least CPU time of `repeats` calls of fn, s."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def copy_bandwidth(megabytes: int, repeats: int) -> float:
    """Bytes read plus bytes written per second by np.copyto of a large array."""
    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    np.copyto(target, source)  # touch every page outside the timing
    seconds = min(best_cpu(lambda: np.copyto(target, source), 1) for _ in range(repeats + 2))
    return 2 * source.nbytes / seconds


def variant_benchmark(tracks: list[np.ndarray], variant: str, repeats: int) -> dict:
    indices = features.variant_indices(variant)
    side = len(indices)
    count = sum(len(t) - FRAME_INTERVAL for t in tracks)
    raw = [features.lfm(t, FRAME_INTERVAL, indices) for t in tracks]
    for t, r in zip(tracks, raw):  # the faster code must give the same maps, bit for bit
        before = baselines.lfm(t, FRAME_INTERVAL, indices)
        if not (np.array_equal(r, before)
                and np.array_equal(features.normalize(r), baselines.normalize(before))):
            raise AssertionError(f"{variant}: maps differ from the implementation before")
    common.log(f"{variant}: {count} maps of {side}x{side}")
    seconds = {}
    for suffix, module in (("", features), ("_before", baselines)):
        seconds["eq1" + suffix] = best_cpu(
            lambda: [module.lfm(t, FRAME_INTERVAL, indices) for t in tracks], repeats)
        seconds["eq2" + suffix] = best_cpu(lambda: [module.normalize(r) for r in raw], repeats)
        seconds["both" + suffix] = best_cpu(
            lambda: [module.normalize(module.lfm(t, FRAME_INTERVAL, indices)) for t in tracks],
            repeats)
    return {"side": side, "maps": count, "clips": len(tracks),
            "per_core": {k: count / v for k, v in seconds.items()},
            # What must move at the least: the landmarks in (68 x 2 float32 per
            # frame) and the map out (float32 for Eq. 1, uint8 after Eq. 2).
            "bytes_per_map": {"eq1": 4 * side * side + 68 * 2 * 4,
                              "both": side * side + 68 * 2 * 4}}


def main(argv):
    del argv
    started = time.time()
    core = common.pin_to_one_core()
    tracks = [c.landmarks for c in data.casme2_sized()]
    repeats = _REPEATS.value
    result = {"core": core, "frame_interval": FRAME_INTERVAL,
              "variants": {v: variant_benchmark(tracks, v, repeats) for v in ("lfm", "clfm")}}
    common.log(f"memory bandwidth: copying {_COPY_MB.value} MB")
    result["copy_bytes_per_s"] = copy_bandwidth(_COPY_MB.value, repeats)
    for entry in result["variants"].values():
        entry["bound_per_core"] = {k: result["copy_bytes_per_s"] / b
                                   for k, b in entry["bytes_per_map"].items()}
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
