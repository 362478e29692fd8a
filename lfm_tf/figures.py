"""What each picture of `lfm_tf.plots` shows, read from a recording, a TFRecord clip
or a preprocessed folder: the library behind `python -m lfm_tf.visualize`.

The track view (`track_picture`) shows where the landmarks are, frame by frame:
the refined landmarks (the default, coloured by each frame's reliability) and
the detector's tracked fit (`--landmark_refinement=none`) on a strip of the
frames, and a few landmarks' motion over time.

One map per clip for the class means (Fig. 6) and the t-SNE (Fig. 7): Eq. 1
between the clip's first frame and its apex, normalized by Eq. 2. Our choice: a
micro-expression moves landmarks one way from onset to apex and back from apex to
offset, so the maps of a whole clip (T frames apart) average to nearly nothing;
the first frame against the apex keeps the expression's pattern, as the
neutral-to-peak sequences of CK+ behind Fig. 6 do. The apex is the frame whose
CLFM distances differ most from the first frame's (CLFM, as for SFEM: the salient
landmarks, not the jaw). The t-SNE is placed on the maps, on the raw landmark
displacements and, where preprocessing stored them, on the face crops.

The `*_picture` functions read their input and return (PNG bytes, a name for it).
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Sequence

import numpy as np

from lfm_tf import features, landmarks, recordings, records, tfrecord_folder
from lfm_tf.plots import class_means_png, clip_png, track_png, tsne_png

# Fewer clips than this make a t-SNE picture that says nothing.
MIN_TSNE_CLIPS = 5
# The track view: frames in its strip, and the landmarks (0-based) whose motion
# it plots: the inner brow ends and the mouth corners, which most expressions move.
STRIP_FRAMES = 6
TRACK_LANDMARKS = (21, 22, 48, 54)


def first_frame_maps(track: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """Eq. 1 between the first frame and every frame: (N, M, M) float32, the
    first all zero."""
    # Frames paired with the first one, so that features.lfm at T = 1 gives, at
    # every even position, frame n against frame 0.
    pairs = np.repeat(np.asarray(track, np.float64)[:1], 2 * len(track), axis=0)
    pairs[1::2] = track
    return features.lfm(pairs, 1, indices)[0::2]


def apex_frame(track: np.ndarray) -> int:
    """The frame whose CLFM distances differ most from the first frame's."""
    change = np.abs(first_frame_maps(track, features.CLFM_INDICES)).sum(axis=(1, 2))
    return int(np.argmax(change))


@dataclasses.dataclass
class ClipView:
    """What the class means and the t-SNE need of one clip.

    Attributes:
      label: class index.
      apex: 0-based frame of the apex (`apex_frame`).
      maps: variant -> (M, M) uint8, Eq. 1-2 between the first frame and the apex.
      displacement: (136,) raw landmark displacement from the first frame to the
        apex, in pixels (head motion included, as the maps are not).
      crop: the stored face crop nearest the apex (S, S) uint8, None if none.
    """

    label: int
    apex: int
    maps: dict[str, np.ndarray]
    displacement: np.ndarray
    crop: np.ndarray | None


def clip_view(record: records.ClipRecord, variants: Sequence[str] = ("lfm", "clfm")) -> ClipView:
    track = np.asarray(record.landmarks, np.float64)
    apex = apex_frame(track)
    maps = {}
    for variant in variants:
        indices = features.variant_indices(variant)
        maps[variant] = features.normalize(first_frame_maps(track[[0, apex]], indices)[1])
    crop = None
    if record.crops is not None and len(record.crops):
        crop = record.crops[int(np.argmin(np.abs(np.asarray(record.crop_frames) - apex)))]
    return ClipView(record.label, apex, maps, (track[apex] - track[0]).ravel(), crop)


# ---------------------------------------------------------------- inputs


def record_folder(path: str) -> str:
    """The preprocessing output folder (with manifest.json) at or under `path`."""
    if os.path.isfile(os.path.join(path, tfrecord_folder.MANIFEST)):
        return path
    found = sorted(os.path.dirname(p) for p in
                   glob.glob(os.path.join(glob.escape(path), "**", tfrecord_folder.MANIFEST),
                             recursive=True))
    if not found:
        raise FileNotFoundError(f"no {tfrecord_folder.MANIFEST} at or under {path}: point "
                                f"--tfrecord_dir at a `python -m lfm_tf.preprocess` output folder")
    if len(found) > 1:
        raise ValueError(f"several TFRecord folders under {path} ({', '.join(found)}): "
                         f"choose one with --tfrecord_dir")
    return found[0]


def read_folder(path: str) -> tuple[dict, list[records.ClipRecord]]:
    """The manifest and every clip of a TFRecord folder, checked against the manifest."""
    folder = record_folder(path)
    problems = tfrecord_folder.verify(folder)
    if problems:
        raise ValueError(f"{folder}: files disagree with manifest.json ({'; '.join(problems[:3])})")
    clips = list(tfrecord_folder.iter_records(folder))
    if not clips:
        raise ValueError(f"{folder} holds no clips")
    return tfrecord_folder.load_manifest(folder), clips


def class_means(views: Sequence[ClipView], num_classes: int) -> dict[str, np.ndarray]:
    """variant -> (C, M, M) float mean of the clips' maps per class (NaN-free:
    a class without clips is left at 127, no change)."""
    means = {}
    for variant in views[0].maps:
        side = views[0].maps[variant].shape[-1]
        stack = np.full((num_classes, side, side), 127.0)
        for c in range(num_classes):
            mine = [v.maps[variant] for v in views if v.label == c]
            if mine:
                stack[c] = np.mean(mine, axis=0)
        means[variant] = stack
    return means


def embed(samples: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, d) -> (n, 2) by t-SNE (sklearn), perplexity scaled down for few clips."""
    # Imported here: it takes a second, and only this picture needs it (report,
    # and so every training run, imports this module).
    from sklearn.manifold import TSNE

    n = len(samples)
    # Perplexity must stay below n; a third of n keeps it meaningful for small sets.
    perplexity = min(30.0, (n - 1) / 3)
    return TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        np.asarray(samples, np.float64))


def neighbour_agreement(points: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point has the same class: how well the
    classes cluster in an embedding."""
    distance = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    return float(np.mean(labels[np.argmin(distance, axis=1)] == labels))


def tsne_panels(views: Sequence[ClipView], seed: int = 0) -> list[tuple[str, np.ndarray, float]]:
    """(what, embedding, 1-NN agreement) for face crops (if every clip has one),
    raw landmark displacements, and the LFM and CLFM maps."""
    if len(views) < MIN_TSNE_CLIPS:
        raise ValueError(f"t-SNE needs at least {MIN_TSNE_CLIPS} clips, got {len(views)}")
    labels = np.array([v.label for v in views])
    sources = []
    if all(v.crop is not None for v in views):
        side = views[0].crop.shape[0]
        sources.append((f"face crops at the apex ({side}x{side} px)",
                        np.stack([v.crop.ravel() for v in views])))
    sources.append(("raw landmark displacements (68 x 2, px)",
                    np.stack([v.displacement for v in views])))
    for variant in views[0].maps:
        side = views[0].maps[variant].shape[0]
        sources.append((f"{variant.upper()} ({side}x{side}, Eq. 1-2)",
                        np.stack([v.maps[variant].ravel() for v in views]).astype(np.float64)))
    panels = []
    for name, samples in sources:
        points = embed(samples, seed)
        panels.append((name, points, neighbour_agreement(points, labels)))
    return panels


# ---------------------------------------------------------------- pictures


@dataclasses.dataclass
class _Source:
    """A clip to draw: its landmarks and where its pixels are, if anywhere."""

    name: str
    stem: str
    track: np.ndarray       # (N, 68, 2)
    face: np.ndarray        # (N,) bool: a face was found
    frame_interval: int
    variant: str
    pixels: str | None      # a video or folder of frames


def _tfrecord_source(path: str, clip_id: str | None) -> _Source:
    clips = records.read_file(path)
    chosen = [c for c in clips if clip_id in (None, c.clip)]
    if not chosen:
        raise ValueError(f"{path} has no clip {clip_id!r}; it has "
                         f"{', '.join(c.clip for c in clips)}")
    clip = chosen[0]
    # Which frames had no face is not stored, only how many (num_filled).
    return _Source(f"{clip.subject}/{clip.clip} ({clip.label_name}), {clip.dataset}", clip.clip,
                   clip.landmarks, np.ones(clip.num_frames, bool), clip.frame_interval,
                   clip.variant, None)


def _recording_source(path: str, variant: str, fps: float | None,
                      frame_interval: int | None) -> _Source:
    recording = recordings.read_recording(path, fps)
    base = os.path.basename(os.path.normpath(path))
    return _Source(f"{base}, {recording.fps:g} fps", os.path.splitext(base)[0],
                   recording.landmarks, recording.face,
                   frame_interval or features.frame_interval_for_fps(recording.fps), variant,
                   None if recording.source == "landmarks" else path)


def clip_picture(path: str, clip_id: str | None = None, variant: str = "clfm",
                 fps: float | None = None, frame_interval: int | None = None,
                 first_frame: int = 0, last_frame: int | None = None) -> tuple[bytes, str]:
    """The clip figure of a video, folder of frames, landmark file or .tfrecord
    file (`clip_id`: which clip; default its first, drawn with its own variant
    and T), frames [first_frame, last_frame). Returns (PNG, default name)."""
    source = (_tfrecord_source(path, clip_id) if path.endswith(".tfrecord")
              else _recording_source(path, variant, fps, frame_interval))
    track = source.track[first_frame:last_frame]
    interval, indices = source.frame_interval, features.variant_indices(source.variant)
    if len(track) <= interval:
        raise ValueError(f"{path}: {len(track)} frames, need more than T = {interval}")
    motion = features.lfm(track, interval, indices)
    maps = features.normalize(motion)
    chosen = features.select_window(np.arange(len(maps)))
    peak = int(np.argmax(np.abs(motion[chosen]).sum(axis=(1, 2))))
    face_frame = int(chosen[peak]) + interval
    image = (recordings.read_frame(source.pixels, first_frame + face_frame)
             if source.pixels else None)
    no_face = int(np.count_nonzero(~source.face[first_frame:last_frame]))
    window = (f"the middle {len(chosen)} of its {len(maps)} maps" if len(maps) >= len(chosen)
              else f"its {len(maps)} maps padded to {len(chosen)} (ends repeated)")
    title = (source.name + (f", no face in {no_face} frames (filled)" if no_face else "")
             + f"\n{source.variant.upper()} maps at T = {interval}: {window}")
    png = clip_png(maps[chosen], (chosen + first_frame).tolist(), interval, indices, image,
                   np.asarray(track[face_frame]), peak, title)
    return png, f"{source.stem}_maps.png"


def class_means_picture(tfrecord_dir: str) -> tuple[bytes, str]:
    """Fig. 6 for a TFRecord folder: (PNG, default name)."""
    manifest, clips = read_folder(tfrecord_dir)
    classes = manifest["classes"]
    views = [clip_view(c) for c in clips]
    counts = np.bincount([v.label for v in views], minlength=len(classes)).tolist()
    title = (f"Mean map per class, {manifest['dataset']} ({len(views)} clips): "
             f"first frame -> apex of each clip (cf. Fig. 6)")
    png = class_means_png(class_means(views, len(classes)), classes, counts, title)
    return png, f"class_means_{manifest['dataset']}.png"


def tsne_picture(tfrecord_dir: str, seed: int = 0) -> tuple[bytes, str]:
    """Fig. 7 for a TFRecord folder: (PNG, default name)."""
    manifest, clips = read_folder(tfrecord_dir)
    views = [clip_view(c) for c in clips]
    panels = tsne_panels(views, seed)
    title = (f"t-SNE of {len(views)} clips of {manifest['dataset']}, one point per clip "
             f"(first frame -> apex), by class (cf. Fig. 7)")
    png = tsne_png(panels, np.array([v.label for v in views]), manifest["classes"], title)
    return png, f"tsne_{manifest['dataset']}.png"


@dataclasses.dataclass
class TrackView:
    """What the track view of a recording shows.

    Attributes:
      name: the input's name and frame rate, for the title.
      first: the recording's frame shown first (0-based); frame k of the arrays
        below is frame first + k of the recording.
      refined: (N, 68, 2) landmarks as `predict` uses them.
      tracked: (N, 68, 2) the detector's tracked fit, unrefined.
      reliability: (N,) of the refined landmarks.
      face: (N,) bool, a face was found.
      strip: frames of the strip, 0-based in the arrays.
      images: their pixels, greyscale.
      landmarks: the landmarks whose motion is plotted.
    """

    name: str
    first: int
    refined: np.ndarray
    tracked: np.ndarray
    reliability: np.ndarray
    face: np.ndarray
    strip: list[int]
    images: list[np.ndarray]
    landmarks: tuple[int, ...] = TRACK_LANDMARKS

    def motion(self, which: str) -> np.ndarray:
        """(N, len(landmarks), 2): each plotted landmark's position relative to the
        first frame shown, px, of the "refined" or "tracked" landmarks."""
        points = getattr(self, which)[:, list(self.landmarks)]
        return points - points[:1]


def track_view(path: str, fps: float | None = None, first_frame: int = 0,
               last_frame: int | None = None, strip_frames: int = STRIP_FRAMES,
               settings: landmarks.LandmarkSettings | None = None) -> TrackView:
    """The track view of a video or folder of frames, frames [first_frame,
    last_frame): both landmark tracks of the whole input, and `strip_frames`
    frames evenly spaced over the range for the strip.

    Raises ValueError for a landmark file (the view draws on pixels) or a range
    of fewer than 2 frames.
    """
    if recordings.input_source(path) == "landmarks":
        raise ValueError(f"{path}: the track view draws landmarks on their frames: give the "
                         "video or folder of frames they were found in")
    settings = settings or landmarks.LandmarkSettings()
    refined = recordings.read_recording(path, fps, recordings.unbridged_extractor(settings))
    tracked = recordings.read_recording(path, fps, recordings.unbridged_extractor(
        dataclasses.replace(settings, refinement=None)))
    stop = refined.num_frames if last_frame is None else min(last_frame, refined.num_frames)
    if stop - first_frame < 2:
        raise ValueError(f"{path}: frames {first_frame} to {stop} of {refined.num_frames}: "
                         "the track view needs at least 2")
    count = min(strip_frames, stop - first_frame)
    strip = np.unique(np.round(np.linspace(0, stop - first_frame - 1, count)).astype(int))
    wanted = [refined.input_frame(first_frame + k) for k in strip]
    pixels = dict(recordings.read_frames(path, wanted))
    base = os.path.basename(os.path.normpath(path))
    return TrackView(f"{base}, {refined.fps:g} fps", first_frame,
                     refined.landmarks[first_frame:stop], tracked.landmarks[first_frame:stop],
                     refined.reliability[first_frame:stop], refined.face[first_frame:stop],
                     strip.tolist(), [pixels[k] for k in wanted])


def track_picture(path: str, fps: float | None = None, first_frame: int = 0,
                  last_frame: int | None = None) -> tuple[bytes, str]:
    """The track view of a video or folder of frames (`track_view`): (PNG, default name)."""
    view = track_view(path, fps, first_frame, last_frame)
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    return track_png(view), f"{stem}_track.png"
