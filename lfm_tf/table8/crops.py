"""Eye-aligned face crops: the pixels of the image-based FER (I-FER, Section IV).

The adaptive framework of Fig. 4 sends strong expressions to an image-based
network (the paper's reference [11], DTAGN), which reads a few aligned greyscale
face crops per clip. Preprocessing stores them next to the maps (`--crops`):

  frames at `crop_positions` -> one similarity transform per clip that puts the
  mean eye centres at fixed places -> `size` x `size` uint8 crops.

One transform per clip, from the eye centres averaged over the cropped frames,
not one per frame: the eye landmarks themselves move with the expression (a
squint, a blink) and jitter from frame to frame, and a per-frame alignment
would cancel or invent part of the motion the network is meant to see. Head
motion inside a CK+ sequence is small. The same transform maps the landmarks
into crop coordinates for the I-FER's geometry network (`aligned_landmarks`).

Eye centres land at 30% and 70% of the width and 38% of the height (ours):
the inter-ocular distance is 0.4 of the side, which keeps brows, both eyes,
nose and mouth inside a 64x64 crop, as in the DTAGN input.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from lfm_tf import video
from lfm_tf.datasets.base import Clip

CROP_SIZE = 64
CROP_FRAMES = 3

# The subject's right eye (image left) and left eye, 0-based iBUG indices.
_EYES = (slice(36, 42), slice(42, 48))
_EYE_TARGETS = np.array([(0.30, 0.38), (0.70, 0.38)])


def crop_positions(num_frames: int, count: int = CROP_FRAMES) -> np.ndarray:
    """0-based frames to crop: `count` frames evenly spread from the first to the last.

    The first frame is the (near) neutral start and the last the strongest
    expression of a CK+ sequence, which is what the appearance network compares.
    A clip shorter than `count` repeats frames.
    """
    if num_frames < 1 or count < 1:
        raise ValueError(f"need at least one frame and one crop, got {num_frames} and {count}")
    return np.rint(np.linspace(0, num_frames - 1, count)).astype(np.int64)


def eye_centres(landmarks) -> np.ndarray:
    """(2, 2): the image-left and image-right eye centres of (..., 68, 2) landmarks,
    averaged over any leading axes."""
    pts = np.asarray(landmarks, np.float64).reshape(-1, 68, 2)
    return np.stack([pts[:, eye].mean(axis=(0, 1)) for eye in _EYES])


def alignment(landmarks, size: int = CROP_SIZE) -> np.ndarray:
    """(2, 3) similarity transform from image to crop pixels that puts the eye
    centres of `landmarks` ((68, 2), or (K, 68, 2) averaged) at their targets."""
    src = eye_centres(landmarks)
    dst = _EYE_TARGETS * size
    # A similarity is a complex multiplication plus a shift: z -> a z + b.
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    if abs(zs[1] - zs[0]) < 1e-6:
        raise ValueError("degenerate face: the two eye centres coincide")
    a = (zd[1] - zd[0]) / (zs[1] - zs[0])
    b = zd[0] - a * zs[0]
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def aligned_landmarks(landmarks, transform: np.ndarray) -> np.ndarray:
    """(..., 68, 2) landmarks in the crop's pixel coordinates."""
    pts = np.asarray(landmarks, np.float64)
    return pts @ transform[:, :2].T + transform[:, 2]


def warp(image: np.ndarray, transform: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """The `size` x `size` crop of a greyscale image under `transform`.

    Faces are several times larger than the crop, and bilinear sampling alone
    would alias (a face 250 px wide shrinks about 6x): the image is first
    shrunk by area averaging to twice the final scale.
    """
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    matrix = np.array(transform, np.float64)
    if scale < 0.5:
        h, w = image.shape[:2]
        small = cv2.resize(image, (max(1, round(2 * scale * w)), max(1, round(2 * scale * h))),
                           interpolation=cv2.INTER_AREA)
        # Pixel centres: x = (x' + 0.5) / f - 0.5 from the shrunk image back to the original.
        f = np.array([small.shape[1] / w, small.shape[0] / h])
        matrix[:, 2] += matrix[:, :2] @ (0.5 / f - 0.5)
        matrix[:, :2] /= f
        image = small
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def read_frames(clip: Clip, positions: Sequence[int]) -> list[np.ndarray]:
    """The greyscale frames at 0-based `positions` of a clip with frame images or a video.

    A position where the folder's numbering skips a number (a None frame) shows
    the nearest frame present instead, the earlier one of two as near: a crop is
    the face at about that time, cut under the clip's one alignment, and a hole
    costs no crop (its landmarks are the interpolated ones)."""
    if clip.frames:
        present = np.flatnonzero([f is not None for f in clip.frames])
        nearest = [int(present[np.argmin(np.abs(present - k))]) for k in positions]
        return [video.read_image(clip.frames[k]) for k in nearest]
    if clip.video is None:
        raise ValueError(f"{clip.name}: crops need the clip's frames, and it has neither frame "
                         f"images nor a video (in-memory landmarks only)")
    wanted = set(int(k) for k in positions)
    kept = {k: frame for k, frame in enumerate(video.iter_video(clip.video)) if k in wanted}
    missing = sorted(wanted - set(kept))
    if missing:
        raise ValueError(f"{clip.name}: the video has no frame(s) {missing}")
    return [kept[int(k)] for k in positions]


def clip_crops(images: Sequence[np.ndarray], landmarks, size: int = CROP_SIZE) -> np.ndarray:
    """(K, size, size) uint8 crops of K frames with their (K, 68, 2) landmarks,
    all under the clip's one alignment."""
    transform = alignment(landmarks, size)
    return np.stack([warp(image, transform, size) for image in images]).astype(np.uint8)
