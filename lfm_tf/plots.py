"""The pictures people look at, drawn in the paper's colours (Choi & Song, IEEE Access 2020).

  clip         one clip's normalized maps (Eq. 2) as a colour image sequence beside
               its face with the 68 landmarks drawn and the 21 CLFM points marked,
               as Fig. 3 shows them (`clip_png`).
  class means  the mean map per class, LFM and CLFM rows (Fig. 6, `class_means_png`).
  t-SNE        clips placed by t-SNE, coloured by class (Fig. 7, `tsne_png`).
  confusion    a confusion matrix in percent per true class (`confusion_png`).
  track        a landmark track on a strip of its frames, refined and tracked,
               and a few landmarks' motion over time (`track_png`).

Colours (Fig. 3): 127, no change, is white; blue where landmarks move apart (up to
255), red where they come closer (down to 0). Map axes are labelled with the face
regions of the landmarks (`features.LANDMARK_REGIONS`).

Drawing functions take arrays and return PNG bytes (matplotlib's object API, no
global pyplot state). What each figure shows of a clip, a TFRecord folder or a
recording, and the reading, is in `lfm_tf.figures`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from lfm_tf import features

DPI = 100
# Marker per class as well as a colour, for readers who do not tell colours apart.
_MARKERS = "osD^vP*Xph"
_CLASS_COLOURS = colormaps["tab10"].colors
# The track view: the detector's tracked fit as magenta squares; the refined
# landmarks as dots coloured by their frame's reliability, red (0) to green (1).
TRACKED_COLOUR_RGB = (1.0, 0.0, 1.0)
RELIABILITY_COLOURS = colormaps["RdYlGn"]
# Where the 68-point face's outline runs, for drawing a face from landmarks alone:
# (first, last, closed) in the iBUG order.
_OUTLINE = ((0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False),
            (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True))


# ---------------------------------------------------------------- colours


def maps_to_rgb(maps, scale: int = 1) -> np.ndarray:
    """Normalized maps (..., M, M) uint8 -> (..., M*scale, M*scale, 3) uint8 in the
    colours of Fig. 3: 127 (no change) white, blue where landmarks move apart
    (> 127), red where they come closer (< 127), saturating at 255 and 0."""
    v = np.asarray(maps, dtype=np.float32) - 127.0
    # Eq. 2 stores the largest increase as 255 and the largest decrease as 0.
    t = np.where(v > 0, v / 128.0, v / 127.0)
    fade = 255.0 * (1.0 - np.abs(t))
    rgb = np.stack([np.where(t > 0, fade, 255.0), fade, np.where(t < 0, fade, 255.0)], axis=-1)
    rgb = np.rint(rgb).astype(np.uint8)
    if scale > 1:
        rgb = np.repeat(np.repeat(rgb, scale, axis=-3), scale, axis=-2)
    return rgb


def tile(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """(K, H, W, 3) -> one grid image with white gaps, `columns` images a row."""
    k, h, w, _ = images.shape
    rows = -(-k // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return grid


# The same colours as a colour map over 0..255, for images with a colour bar.
LFM_COLOURS = ListedColormap(maps_to_rgb(np.arange(256)) / 255.0, name="lfm")


def _show_map(ax, image, **kwargs):
    return ax.imshow(image, cmap=LFM_COLOURS, vmin=0, vmax=255, interpolation="nearest", **kwargs)


def _map_colourbar(fig, image, **kwargs) -> None:
    bar = fig.colorbar(image, ticks=[0, 127, 255], **kwargs)
    bar.ax.set_yticklabels(["closer\n(0)", "no change\n(127)", "apart\n(255)"], fontsize=8)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


# ---------------------------------------------------------------- map axes


def landmark_regions(indices: Sequence[int]) -> list[tuple[str, int, int]]:
    """(region, first, last) positions of each face region among `indices`
    (ascending landmark indices, as in the maps), regions with none left out."""
    found = []
    for name, span in features.LANDMARK_REGIONS.items():
        positions = [k for k, i in enumerate(indices) if i in span]
        if positions:
            found.append((name, positions[0], positions[-1]))
    return found


def _region_axes(ax, indices: Sequence[int], fontsize: float = 7, x: bool = True,
                 y: bool = True) -> None:
    """Ticks named by face region at each region's middle, thin lines between regions."""
    regions = landmark_regions(indices)
    centres = [(a + b) / 2 for _, a, b in regions]
    names = [name for name, _, _ in regions]
    ax.set_xticks(centres, names if x else [], fontsize=fontsize, rotation=90 if x else 0)
    ax.set_yticks(centres, names if y else [], fontsize=fontsize)
    ax.tick_params(length=0, pad=1)
    for _, first, _ in regions[1:]:
        ax.axvline(first - 0.5, color="0.55", linewidth=0.5)
        ax.axhline(first - 0.5, color="0.55", linewidth=0.5)


# ---------------------------------------------------------------- figures


def _draw_face(ax, image: np.ndarray | None, points: np.ndarray) -> None:
    """The face (or, without pixels, its outline from the landmarks), the 68
    landmarks and the CLFM points in green as in Fig. 3(a)."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.25 * (high - low).max()
    x0, y0 = low - margin
    x1, y1 = high + margin
    if image is not None:
        h, w = image.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
        # In grey, as the landmark step sees it: the coloured points stand out, and
        # a grey photo keeps the PNG small.
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        ax.imshow(grey, cmap="gray", vmin=0, vmax=255)
    else:
        for first, last, closed in _OUTLINE:
            run = points[list(range(first, last + 1)) + ([first] if closed else [])]
            ax.plot(run[:, 0], run[:, 1], color="0.7", linewidth=1)
    clfm = list(features.CLFM_INDICES)
    ax.scatter(points[:, 0], points[:, 1], s=9, color="#00a0ff", edgecolors="none",
               label="68 landmarks")
    ax.scatter(points[clfm, 0], points[clfm, 1], s=30, color="#22dd22", edgecolors="black",
               linewidths=0.6, label="21 CLFM landmarks")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8, frameon=False)


def clip_png(maps: np.ndarray, first_frames: Sequence[int], frame_interval: int,
             indices: Sequence[int], face: np.ndarray | None, face_points: np.ndarray,
             peak: int, title: str) -> bytes:
    """One clip's window of maps as a colour image sequence, beside its face.

    Args:
      maps: (K, M, M) uint8 maps of Eq. 2 (K = 24 for the classifier's window).
      first_frames: per map, the earlier of its two frames (n - T of Eq. 1).
      frame_interval: T.
      indices: the M landmarks of the maps.
      face: the frame the face panel shows (grey or BGR), None to draw the
        landmarks' outline instead.
      face_points: (68, 2) landmarks of that frame.
      peak: which map to show large, with its axes labelled by face region.
      title: the figure's title.
    """
    columns = 8
    rows = -(-len(maps) // columns)
    fig = Figure(figsize=(11, 5 + 1.25 * rows))
    top, bottom = fig.subfigures(2, 1, height_ratios=[5, 1.25 * rows])
    grid = top.add_gridspec(1, 3, width_ratios=[1.0, 1.0, 0.04], left=0.03, right=0.88,
                            top=0.83, bottom=0.17, wspace=0.25)
    face_ax = top.add_subplot(grid[0])
    _draw_face(face_ax, face, face_points)
    frame = first_frames[peak] + frame_interval
    face_ax.set_title(f"frame {frame}" + (" (landmarks only: no pixels stored)" if face is None
                                          else ""), fontsize=10)
    peak_ax = top.add_subplot(grid[1])
    image = _show_map(peak_ax, maps[peak])
    _region_axes(peak_ax, indices, fontsize=8)
    peak_ax.set_title(f"frames {first_frames[peak]} -> {frame}: the strongest motion",
                      fontsize=10)
    peak_ax.set_xlabel("landmark j", fontsize=9)
    peak_ax.set_ylabel("landmark i", fontsize=9)
    _map_colourbar(top, image, cax=top.add_subplot(grid[2]))
    top.suptitle(title, fontsize=12)
    axes = bottom.subplots(rows, columns, squeeze=False,
                           gridspec_kw={"left": 0.03, "right": 0.97, "top": 0.86,
                                        "bottom": 0.02, "wspace": 0.1, "hspace": 0.4})
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(maps):
            ax.set_visible(False)
            continue
        _show_map(ax, maps[k])
        first = first_frames[k]
        ax.set_title(f"{first} -> {first + frame_interval}", fontsize=7,
                     fontweight="bold" if k == peak else "normal", pad=2)
        if k == peak:
            for spine in ax.spines.values():
                spine.set_linewidth(2.5)
    bottom.suptitle(f"The {len(maps)} maps the classifier reads, frames n - T -> n "
                    f"(bold: the one shown large)", fontsize=10)
    return _png(fig)


def class_means_png(means: Mapping[str, np.ndarray], classes: Sequence[str],
                    counts: Sequence[int], title: str) -> bytes:
    """Mean map per class (Fig. 6): a row per variant, a column per class.

    Args:
      means: variant ("lfm", "clfm") -> (C, M, M) mean maps in 0..255.
      classes: the C class names; counts: clips per class.
    """
    rows, cols = len(means), len(classes)
    fig = Figure(figsize=(2.3 * cols + 1.6, 2.45 * rows + 0.9))
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1] * cols + [0.06],
                            left=0.09, right=0.88, top=1 - 0.75 / fig.get_figheight(),
                            bottom=0.55 / fig.get_figheight(), wspace=0.45, hspace=0.45)
    image = None
    for r, (variant, stack) in enumerate(means.items()):
        indices = features.variant_indices(variant)
        side = len(indices)
        for c, name in enumerate(classes):
            ax = fig.add_subplot(grid[r, c])
            image = _show_map(ax, stack[c])
            _region_axes(ax, indices, fontsize=6.5)
            ax.set_title(f"{name} ({counts[c]} clips)" if r == 0 else name, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{variant.upper()} ({side}x{side})", fontsize=10,
                              fontweight="bold")
    _map_colourbar(fig, image, cax=fig.add_subplot(grid[:, cols]))
    fig.suptitle(title, fontsize=11)
    return _png(fig)


def tsne_png(panels: Sequence[tuple[str, np.ndarray, float]], labels: np.ndarray,
             classes: Sequence[str], title: str) -> bytes:
    """t-SNE scatter plots side by side (Fig. 7), one marker and colour per class.

    Args:
      panels: (what was embedded, (n, 2) embedding, 1-NN agreement) each.
      labels: (n,) class index per clip.
    """
    fig = Figure(figsize=(3.9 * len(panels), 4.9))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, points, agreement) in zip(axes, panels):
        for k, cls in enumerate(classes):
            mine = labels == k
            ax.scatter(points[mine, 0], points[mine, 1], s=22, marker=_MARKERS[k % len(_MARKERS)],
                       color=_CLASS_COLOURS[k % len(_CLASS_COLOURS)], alpha=0.85,
                       edgecolors="none")
        ax.set_title(f"{name}\nnearest neighbour same class: {agreement:.0%}", fontsize=9.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1", fontsize=8)
        ax.set_ylabel("t-SNE 2", fontsize=8)
    # One scatter per class was drawn in class order on every panel.
    fig.legend(axes[0].collections[:len(classes)], list(classes), loc="lower center",
               ncol=len(classes), fontsize=9, frameon=False, markerscale=1.5)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return _png(fig)


def confusion_png(percent, classes: Sequence[str], title: str) -> bytes:
    """The confusion matrix (percent per true class) as PNG bytes."""
    data = np.array([[np.nan if v is None else v for v in row] for row in percent], dtype=float)
    size = 1.2 + 0.9 * len(classes)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.subplots()
    image = ax.imshow(data, cmap="Blues", vmin=0, vmax=100)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for (i, j), v in np.ndenumerate(data):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center",
                    color="white" if v > 60 else "black", fontsize=8)
    fig.colorbar(image, ax=ax, label="% of true class")
    fig.tight_layout()
    return _png(fig)


def track_png(view) -> bytes:
    """A landmark track on its frames and over time (`figures.TrackView`).

    Top, a strip of `view.strip` frames cropped to the face: the tracked fit as
    magenta squares, the refined landmarks as dots in the colour of the frame's
    reliability. Below, the plotted landmarks' x and y motion from the first
    frame (refined solid, tracked dashed) and the reliability, over the frames,
    with the strip's frames marked.
    """
    strip = view.strip
    fig = Figure(figsize=(12, 9))
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.2, 5.8])
    axes = top.subplots(1, len(strip) + 1, squeeze=False,
                        gridspec_kw={"width_ratios": [1] * len(strip) + [0.06], "left": 0.02,
                                     "right": 0.94, "top": 0.8, "bottom": 0.04,
                                     "wspace": 0.08})[0]
    shown = np.concatenate([view.refined[strip], view.tracked[strip]]).reshape(-1, 2)
    low, high = shown.min(axis=0), shown.max(axis=0)
    margin = 0.15 * (high - low).max()
    for ax, k, image in zip(axes, strip, view.images):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        # The squares larger than the dots on them: where the two agree, a magenta rim.
        ax.scatter(*view.tracked[k].T, s=16, marker="s", color=TRACKED_COLOUR_RGB,
                   edgecolors="none")
        dots = ax.scatter(*view.refined[k].T, s=7, c=np.full(len(view.refined[k]),
                                                              view.reliability[k]),
                          cmap=RELIABILITY_COLOURS, vmin=0, vmax=1, edgecolors="none")
        ax.set_xlim(low[0] - margin, high[0] + margin)
        ax.set_ylim(high[1] + margin, low[1] - margin)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"frame {view.first + k}\nreliability {view.reliability[k]:.2f}"
                     + ("" if view.face[k] else ", no face"), fontsize=9)
    top.colorbar(dots, cax=axes[-1], label="reliability")
    top.suptitle(f"{view.name}: refined landmarks (dots, coloured by reliability) and the "
                 f"detector's tracked fit (magenta squares)", fontsize=11)
    x_ax, y_ax, r_ax = bottom.subplots(3, 1, sharex=True, gridspec_kw={
        "height_ratios": [2, 2, 1], "left": 0.07, "right": 0.8, "top": 0.95, "bottom": 0.08,
        "hspace": 0.12})
    frames = view.first + np.arange(len(view.refined))
    refined, tracked = view.motion("refined"), view.motion("tracked")
    for j, index in enumerate(view.landmarks):
        colour = _CLASS_COLOURS[j % len(_CLASS_COLOURS)]
        region = next(name for name, span in features.LANDMARK_REGIONS.items() if index in span)
        for axis, ax in enumerate((x_ax, y_ax)):
            ax.plot(frames, refined[:, j, axis], color=colour, linewidth=1.5,
                    label=f"{region} {index + 1}" if axis == 0 else None)
            ax.plot(frames, tracked[:, j, axis], color=colour, linewidth=0.8, linestyle="--",
                    alpha=0.7)
    r_ax.plot(frames, view.reliability, color="black", linewidth=1)
    r_ax.set_ylim(-0.05, 1.05)
    for ax, label in ((x_ax, "x motion, px"), (y_ax, "y motion, px"), (r_ax, "reliability")):
        ax.set_ylabel(label, fontsize=9)
        for k in strip:
            ax.axvline(view.first + k, color="0.75", linewidth=0.6, linestyle=":")
    r_ax.set_xlabel("frame", fontsize=9)
    x_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                title="landmark (1-based)\nsolid refined,\ndashed tracked", title_fontsize=8)
    x_ax.set_title("Motion from the first frame shown (dotted: the frames above)", fontsize=10)
    return _png(fig)
