"""The benchmarks' data, made once per work folder and shared by the modules.

- `casme2_sized`: synthetic landmark tracks at the size of CASME II (246 clips,
  26 subjects, 50-85 frames, 200 fps, so T = 8 and about 59 maps a clip).
- `records`: those clips preprocessed to per-subject TFRecords (their true
  landmarks, no dlib), one folder per variant, as training reads them.
- `rendered`: some of those clips rendered as 640x480 JPEG frames of a real face
  in the CASME II layout, with the true landmarks of every frame, through an
  ordinary camera (`synthetic_render.Camera()`: sensor noise, flicker, JPEG 85);
  `rendered_cropped`: the same at CASME II's cropped size (70 px between the eyes).
- `samm_sized`: rendered clips scaled to SAMM's 2040x1088 frames.
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


def casme2_sized() -> list[synthetic.SyntheticClip]:
    """246 clips of 26 subjects: 3 per class each, and a fourth of each class for
    the first 4 subjects (the real set is uneven across subjects too)."""
    clips = synthetic.generate(CASME2_SUBJECTS, 4, fps=CASME2_FPS, num_frames=CASME2_FRAMES)
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


def _render_selection(count: int) -> list[synthetic.SyntheticClip]:
    """`count` clips, one subject after another and the classes in turn, so that
    any first few come from different subjects and classes."""
    by_subject: dict[str, list] = {}
    for clip in casme2_sized():
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
             camera: synthetic_render.Camera = synthetic_render.Camera()) -> Rendered:
    """`count` CASME II-sized clips as JPEGs in the CASME II layout, seen by `camera`
    (640x480 unless it resizes them)."""
    root = common.work_path(folder)
    selection = _render_selection(count)
    wanted = {"clips": [c.clip_id for c in selection], "camera": dataclasses.asdict(camera)}
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
    """The first `count` rendered clips at SAMM's frame size: scaled to its height
    (a face about 500 px wide) and padded to its width by repeating the edges."""
    import cv2

    source = rendered(RENDERED_CLIPS)
    root = common.work_path("samm")
    width, height = SAMM_SIZE
    clips = sorted(source.clips, key=lambda c: c.clip_id)[:count]
    wanted = {"clips": [c.clip_id for c in clips], "size": [width, height]}
    scaled = (round(640 * height / 480), height)
    scale = np.array(scaled, float) / (640, 480)
    pad = (width - scaled[0]) // 2
    out_clips, truth = [], {}
    for clip in clips:
        folder = os.path.join(root, clip.clip_id)
        os.makedirs(folder, exist_ok=True)
        paths = tuple(os.path.join(folder, os.path.basename(p)) for p in clip.frames)
        out_clips.append(dataclasses.replace(clip, frames=paths))
        # Pixel centres: x' = (x + 0.5) * scale - 0.5, then the padding.
        truth[clip.clip_id] = (source.truth[clip.clip_id] + 0.5) * scale - 0.5 + (pad, 0)
    if _done(root, wanted) is None:
        common.log(f"scaling {count} rendered clips to {width}x{height}")
        for clip, out in zip(clips, out_clips):
            for src, dst in zip(clip.frames, out.frames):
                frame = cv2.imread(src, cv2.IMREAD_GRAYSCALE)
                big = cv2.resize(frame, scaled, interpolation=cv2.INTER_LINEAR)
                big = cv2.copyMakeBorder(big, 0, 0, pad, width - big.shape[1] - pad,
                                         cv2.BORDER_REPLICATE)
                cv2.imwrite(dst, big, [cv2.IMWRITE_JPEG_QUALITY, 95])
        _mark_done(root, wanted)
    return Rendered(root, out_clips, truth)
