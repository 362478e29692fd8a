"""Preprocessing end to end with the Beam DirectRunner on 1 and 2 workers: clips
per second and how they scale.

  python -m benchmarks.preprocessing --work_dir=/tmp/bench --out=preprocessing.json

`python -m lfm_tf.preprocess --dataset=casme2` as a user runs it (the CASME II
reader, decoding, tracked dlib landmarks, CLFM maps, per-subject TFRecords), on
the rendered CASME II layout (640x480 JPEGs), into a fresh output folder each time
so that no landmark comes from the cache. Workers are processes (multi_processing
mode, the local default), and each starts Python, imports TensorFlow and loads the
dlib models: a fixed cost that a small run shows and a dataset hides. So each
worker count runs twice, on one clip and on all rendered clips; the difference
is the cost of the clips, from which the time for CASME II's 246 clips follows.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time

from absl import app, flags

from benchmarks import common, data
from lfm_tf import datasets, pipeline

_WORKERS = flags.DEFINE_list("workers", ["1", "2"], "Worker counts to time.")


def timed_run(rendered: data.Rendered, clips: list, workers: int) -> dict:
    out = common.work_path("beam", f"workers{workers}")
    shutil.rmtree(out)
    frames = sum(len(c.frames) for c in clips)
    common.log(f"{workers} worker(s): {len(clips)} clips, {frames} frames")
    config = pipeline.PreprocessConfig(dataset="casme2", data_dir=rendered.data_dir,
                                       out_dir=out, variant="clfm", progress=False)
    result = datasets.read("casme2", rendered.data_dir)
    result = dataclasses.replace(result, clips=clips)
    manifest, timing = common.timed(pipeline.run, config, [f"--direct_num_workers={workers}"],
                                    result=result)
    if manifest["counts"]["clips"] != len(clips):
        raise AssertionError(f"{workers} workers: {manifest['counts']['clips']} clips written of "
                             f"{len(clips)}; skipped: {manifest['skipped']}")
    return {**timing.rates(len(clips), "clips"), "frames": frames}


def main(argv):
    del argv
    started = time.time()
    rendered = data.rendered(data.RENDERED_CLIPS)
    clips = sorted(rendered.clips, key=lambda c: (c.subject, c.clip_id))
    result = {"clips": len(clips), "frames": rendered.frames, "target_clips": data.CASME2_CLIPS,
              "runs": {}}
    logging.getLogger().setLevel(logging.WARNING)
    for workers in map(int, _WORKERS.value):
        one, every = timed_run(rendered, clips[:1], workers), timed_run(rendered, clips, workers)
        per_clip = (every["wall_s"] - one["wall_s"]) / (len(clips) - 1)
        result["runs"][str(workers)] = {
            "one_clip": one, "all": every, "seconds_per_clip": per_clip,
            "estimated_casme2_s": one["wall_s"] + (data.CASME2_CLIPS - 1) * per_clip}
    common.save(result, started)


if __name__ == "__main__":
    app.run(main)
