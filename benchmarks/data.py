"""The benchmarks' data, made once per work folder and shared by the modules.

- `casme2_sized`: synthetic landmark tracks at the size of CASME II (246 clips,
  26 subjects, 50-85 frames, 200 fps, so T = 8 and about 59 maps a clip).
- `records`: those clips preprocessed to per-subject TFRecords (their true
  landmarks, no dlib), one folder per variant, as training reads them.
- `rendered`: some of those clips rendered as 640x480 JPEG frames of a real face
  in the CASME II layout, with the true landmarks of every frame, through an
  ordinary camera (`synthetic_render.Camera()`: sensor noise, flicker, JPEG 85);
  `rendered_cropped`: the same at CASME II's cropped size (70 px between the eyes).
- `samm_sized`: rendered clips at SAMM's 2040x1088 frames, the photo taken at
  that size.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil

import numpy as np

from benchmarks import common
from lfm_tf import datasets
from lfm_tf.datasets import synthetic, synthetic_render
from lfm_tf.datasets.base import ReadResult

CASME2_CLIPS = 246
CASME2_SUBJECTS = 26
CASME2_FRAMES = (50, 85)
CASME2_FPS = 200.0
SAMM_SIZE = (2040, 1088)  # width, height
# Rendered clips: enough for the Beam benchmark to keep two workers busy.
RENDERED_CLIPS = 48
_DONE = ".done.json"


def casme2_sized(noise_px: float = synthetic.NOISE_PX) -> list[synthetic.SyntheticClip]:
    """246 clips of 26 subjects: 3 per class each, and a fourth of each class for
    the first 4 subjects (the real set is uneven across subjects too); their
    landmarks carry `noise_px` of noise (`synthetic.generate`)."""
    clips = synthetic.generate(CASME2_SUBJECTS, 4, fps=CASME2_FPS, num_frames=CASME2_FRAMES,
                               noise_px=noise_px)
    first = {f"p{s:02d}" for s in range(1, 5)}
    kept = [c for c in clips if int(c.clip_id.rsplit("_", 1)[1]) <= 3 or c.subject in first]
    assert len(kept) == CASME2_CLIPS, len(kept)
    return kept


def _done(root: str, wanted: dict) -> dict | None:
    try:
        with open(os.path.join(root, _DONE)) as f:
            stamp = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    return stamp if stamp.get("wanted") == wanted else None


def _mark_done(root: str, wanted: dict, **info) -> dict:
    stamp = {"wanted": wanted, **info}
    with open(os.path.join(root, _DONE), "w") as f:
        json.dump(stamp, f)
    return stamp


def records(variant: str) -> str:
    """The CASME II-sized TFRecord folder of `variant` ("clfm" or "lfm")."""
    root = common.work_path("tfrecords", variant)
    wanted = {"variant": variant, "clips": CASME2_CLIPS}
    stamp = _done(root, wanted)
    if stamp is None:
        from lfm_tf import pipeline  # imports TensorFlow, which the others need not

        common.log(f"writing CASME II-sized {variant} TFRecords")
        result = ReadResult(spec=dataclasses.replace(synthetic.SPEC, fps=CASME2_FPS),
                            clips=casme2_sized())
        logging.getLogger().setLevel(logging.WARNING)
        manifest = pipeline.run(
            pipeline.PreprocessConfig(dataset="synthetic", data_dir=None, out_dir=root,
                                      variant=variant, landmark_source="provided",
                                      progress=False, overwrite=True),
            # In memory: one in-process worker beats starting processes (as the demo).
            beam_args=["--direct_num_workers=1", "--direct_running_mode=in_memory"],
            result=result)
        stamp = _mark_done(root, wanted, folder=manifest["folder"])
    return stamp["folder"]


def render_selection(count: int, noise_px: float = synthetic.NOISE_PX
                      ) -> list[synthetic.SyntheticClip]:
    """`count` clips, one subject after another and the classes in turn, so that
    any first few come from different subjects and classes."""
    by_subject: dict[str, list] = {}
    for clip in casme2_sized(noise_px):
        by_subject.setdefault(clip.subject, []).append(clip)
    queues = []
    for k, subject in enumerate(sorted(by_subject)):
        clips = by_subject[subject]  # class by class, so interleave the classes
        per_class = len(clips) // 3
        mixed = [clips[j % 3 * per_class + j // 3] for j in range(3 * per_class)]
        queues.append(mixed[k % 3:] + mixed[:k % 3])
    chosen = [queue[r] for r in range(max(map(len, queues))) for queue in queues if r < len(queue)]
    return chosen[:count]


@dataclasses.dataclass
class Rendered:
    """Rendered clips: the dataset folder, its clips as the CASME II reader finds
    them, and the true landmarks of every frame by clip id."""

    data_dir: str
    clips: list
    truth: dict[str, np.ndarray]

    @property
    def frames(self) -> int:
        return sum(len(c.frames) for c in self.clips)


CROPPED_EYE_DISTANCE = 70.0  # px between the eye centres in CASME II's cropped faces


def rendered(count: int, folder: str = "rendered",
             camera: synthetic_render.Camera = synthetic_render.Camera(),
             noise_px: float = synthetic.NOISE_PX) -> Rendered:
    """`count` CASME II-sized clips as JPEGs in the CASME II layout, seen by `camera`
    (640x480 unless it resizes them); `noise_px` = 0 renders the same motion
    without the generator's landmark noise, so the truth is the expression alone."""
    root = common.work_path(folder)
    selection = render_selection(count, noise_px)
    # Through JSON, as the stamp is read back (tuples become lists).
    wanted = json.loads(json.dumps({"clips": [c.clip_id for c in selection],
                                    "camera": dataclasses.asdict(camera),
                                    **({"noise_px": noise_px}
                                       if noise_px != synthetic.NOISE_PX else {})}))
    if _done(root, wanted) is None:
        common.log(f"rendering {count} CASME II-sized clips ({folder})")
        shutil.rmtree(root)
        os.makedirs(root)
        truth = synthetic_render.render(selection, root, camera=camera)
        np.savez(os.path.join(root, "truth.npz"), **truth)
        _mark_done(root, wanted)
    with np.load(os.path.join(root, "truth.npz")) as data:
        truth = {k: data[k] for k in data.files}
    clips = datasets.read("casme2", root).clips
    assert sorted(c.clip_id for c in clips) == sorted(truth), "reader and render disagree"
    return Rendered(root, clips, truth)


def rendered_cropped(count: int) -> Rendered:
    """`rendered` at the size of CASME II's cropped faces."""
    return rendered(count, "rendered_cropped",
                    synthetic_render.Camera(eye_distance=CROPPED_EYE_DISTANCE))


def samm_sized(count: int) -> Rendered:
    """`rendered` at SAMM's frame size: the photo taken at 2040x1088 (a face about
    500 px ear to ear), warped, noised and compressed at that size."""
    width, height = SAMM_SIZE
    return rendered(count, "samm", synthetic_render.Camera(frame_size=(width, height)))
