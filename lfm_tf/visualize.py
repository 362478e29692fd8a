r"""Pictures of feature maps, classes and runs, as PNG files (and TensorBoard images).

  python -m lfm_tf.visualize clip --input=person.mp4            # maps beside the face (Fig. 3)
  python -m lfm_tf.visualize clip --input=frames/ --fps=200 --variant=lfm
  python -m lfm_tf.visualize clip --input=tfrecords/smic/clfm_T4/s1.tfrecord --clip=s1_ne_01
  python -m lfm_tf.visualize classes --tfrecord_dir=tfrecords/smic      # mean map per class (Fig. 6)
  python -m lfm_tf.visualize tsne --tfrecord_dir=tfrecords/smic         # t-SNE (Fig. 7)
  python -m lfm_tf.visualize confusion --workdir=runs/smic_loso_clfm    # a finished run
  python -m lfm_tf.visualize track --input=person.mp4 --last_frame=200  # landmarks on frames

Each writes one PNG, named after what it shows (`<clip>_maps.png`,
`class_means_<dataset>.png`, `tsne_<dataset>.png`, `confusion_<run>.png`,
`<input>_track.png`) in
--out_dir, or to --out; --logdir also writes it to TensorBoard. Kept short on
purpose: the figures are in lfm_tf.figures (drawing: lfm_tf.plots).
"""

from __future__ import annotations

import os

from lfm_tf import runtime

# Before any module that imports TensorFlow: its start-up lines would bury ours.
runtime.start()

from absl import flags  # noqa: E402

from lfm_tf import cli, features, figures, files, report  # noqa: E402

COMMANDS = ("clip", "classes", "tsne", "confusion", "track")

_INPUT = flags.DEFINE_string("input", None, "clip: a video, folder of frames, landmark file "
                             "(.npy, .csv) or .tfrecord file; track: a video or folder of "
                             "frames.")
_CLIP = flags.DEFINE_string("clip", None, "clip, from a .tfrecord: the clip id (default: the "
                            "file's first clip).")
_VARIANT = flags.DEFINE_enum("variant", "clfm", sorted(features.VARIANT_INDICES),
                             "clip, from pixels or landmarks: 21x21 CLFM or 68x68 LFM maps.")
_FPS = flags.DEFINE_float("fps", None, "clip, track: frame rate (needed for frames and "
                          "landmark files).")
_FRAME_INTERVAL = flags.DEFINE_integer("frame_interval", None, "clip: T of Eq. 1; default "
                                       "round(fps / 25).", lower_bound=1)
_FIRST_FRAME = flags.DEFINE_integer("first_frame", 0, "clip, track: first frame to use "
                                    "(0-based).", lower_bound=0)
_LAST_FRAME = flags.DEFINE_integer("last_frame", None, "clip, track: last frame to use "
                                   "(inclusive).", lower_bound=0)
_TFRECORD_DIR = flags.DEFINE_string("tfrecord_dir", None, "classes, tsne: a preprocessing "
                                    "output folder (or a folder with exactly one below it).")
_SEED = flags.DEFINE_integer("seed", 0, "tsne: random seed.")
_WORKDIR = flags.DEFINE_string("workdir", None, "confusion: a finished run's folder "
                               "(with metrics.json).")
_OUT = flags.DEFINE_string("out", None, "The PNG file to write; default <out_dir>/<name>.")
_OUT_DIR = flags.DEFINE_string("out_dir", ".", "Folder for the PNG under its default name.")
_LOGDIR = flags.DEFINE_string("logdir", None, "Also write the picture to this TensorBoard "
                              "log folder.")


def _required(holder: flags.FlagHolder, command: str) -> str:
    if holder.value is None:
        raise ValueError(f"{command} needs --{holder.name}")
    return holder.value


def _draw(command: str) -> tuple[bytes, str]:
    last = None if _LAST_FRAME.value is None else _LAST_FRAME.value + 1
    if command == "clip":
        return figures.clip_picture(_required(_INPUT, command), _CLIP.value, _VARIANT.value,
                                  _FPS.value, _FRAME_INTERVAL.value, _FIRST_FRAME.value, last)
    if command == "track":
        return figures.track_picture(_required(_INPUT, command), _FPS.value, _FIRST_FRAME.value,
                                     last)
    if command == "classes":
        return figures.class_means_picture(_required(_TFRECORD_DIR, command))
    if command == "tsne":
        return figures.tsne_picture(_required(_TFRECORD_DIR, command), _SEED.value)
    return report.confusion_picture(_required(_WORKDIR, command))


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        raise ValueError(f"say what to draw: python -m lfm_tf.visualize "
                         f"{{{'|'.join(COMMANDS)}}} --flags")
    png, name = _draw(argv[1])
    path = _OUT.value or os.path.join(_OUT_DIR.value, name)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    files.atomic_write(path, png)
    print(f"wrote {path}")
    if _LOGDIR.value:
        report.write_images(_LOGDIR.value, {os.path.splitext(name)[0]: png})
        print(f"and to TensorBoard: tensorboard --logdir {_LOGDIR.value}")


def run():
    cli.run(main)


if __name__ == "__main__":
    run()
