"""Facial micro-expressions (FME) synthesized from CK+, Section V-B of Choi & Song (2020).

"The first frame in which a facial expression starts in each sequence of the CK+
is detected, and three consecutive frames from that frame are selected ... each
FME sequence is four times interpolated ... three-frame sequence ... is
converted into a sequence of twelve frames." The paper found the onsets by hand
and interpolated images with a learned interpolator (Niklaus et al. [14]). Here:

Onset. Either a CSV of hand-picked onsets (`read_onsets`: columns subject,
  sequence, onset, the onset being the frame number in the file names), or
  `auto_onset`: CK+ sequences start neutral, so a frame's displacement from the
  first frame (`expression_intensity`: Eq. 1 with frame 1 as the reference,
  summed over the CLFM landmark pairs as in Eq. 3's numerator, over frame 1's
  face size) grows from the landmarks' jitter (frame 2's displacement) to the
  peak. The onset is the last frame before the first one that has risen
  `ONSET_THRESHOLD` (10%) of the way from that floor to the peak, so the three
  frames hold the start of the movement. A sequence too short for three frames
  from there starts three frames before its end. On synthetic CK+-like
  sequences (`synthetic_render.render_ckplus`) this lands on the first frame that moves
  in most sequences, and 1 to 3 frames later in the rest.

Time. The 3 frames span 2 frame intervals; the 12 output frames sample them
  evenly, times 0, 2/11, 4/11, ..., 2 (`interpolation_times`): the first and
  last are the source frames themselves. The clips stay at CK+'s 30 fps, so
  T = 1 as for the FGE clips the model is trained on (the same model tests both).

Landmarks: each landmark moves linearly between the source frames
  (`interpolate_track`).

Images, our classical substitute for [14] (`interpolate_frames`): dense optical
  flow both ways between neighbouring source frames (OpenCV's DIS flow, Kroeger
  et al. ECCV 2016, medium preset), the flows from the intermediate time to
  both frames approximated from them as in Super SloMo (Jiang et al., CVPR
  2018, Eq. 4), both frames warped backward along those flows and blended with
  weights 1 - t and t. Small facial motions interpolate without the double
  edges of a plain cross-fade.

`synthesize` writes the FME set as a tree in CK+'s own layout (read by the
`ckplus_fme` dataset) and reports the mean SFEM (Eq. 3) of both sets: the paper's
FME mean is 0.32, 13.2% of its FGE mean.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Sequence

import cv2
import numpy as np

from lfm_tf import features, files, landmarks, video
from lfm_tf.datasets import ckplus
from lfm_tf.datasets.base import Clip, frame_numbers
from lfm_tf.datasets.specs import CKPLUS_CLASSES
from lfm_tf.table8 import ckplus_fge
from lfm_tf.table8.ckplus_fme import RECORD_FILE

SOURCE_FRAMES = 3
FME_FRAMES = 12
ONSET_THRESHOLD = 0.1
ONSET_COLUMNS = ("subject", "sequence", "onset")
# The paper's figures (Section V-B), for the summary line only.
PAPER_FME_MEAN_SFEM = 0.32
PAPER_FME_SFEM_RATIO = 0.132
RECORD_COLUMNS = ("subject", "sequence", "label", "onset", "onset_source", "source_frames",
                  "fge_frames", "sfem_fge", "sfem_fme")


# ---------------------------------------------------------------- onsets


def expression_intensity(track, indices: Sequence[int] = features.CLFM_INDICES) -> np.ndarray:
    """(N,) how far each frame has moved from the first: sum over landmark pairs of
    |LFM(i, j)| between frame 1 and that frame, over frame 1's face size (Eq. 3)."""
    pts = np.asarray(track, np.float64)
    size = features.face_size(pts[:1])[0]
    if size <= 0:
        raise ValueError("degenerate face: ears or nose landmarks coincide")
    return np.array([np.abs(features.lfm(np.stack([pts[0], p]), 1, indices)).sum() / size
                     for p in pts])


def auto_onset(track, threshold: float = ONSET_THRESHOLD) -> int:
    """0-based onset of a neutral-to-peak sequence (see the module docstring)."""
    pts = np.asarray(track)
    if len(pts) < SOURCE_FRAMES:
        raise ValueError(f"{len(pts)} frames, need at least {SOURCE_FRAMES}")
    intensity = expression_intensity(pts)
    # Frames 1 and 2 of a CK+ sequence are both neutral: their difference is the
    # landmarks' jitter, which the threshold must rise above.
    floor = intensity[1]
    first = int(np.argmax(intensity >= floor + threshold * (intensity.max() - floor)))
    return min(max(first - 1, 0), len(pts) - SOURCE_FRAMES)


def read_onsets(path: str) -> dict[tuple[str, str], int]:
    """Hand-picked onsets: a CSV with the header subject,sequence,onset (any order,
    more columns allowed), e.g. `S005,001,4`; onset is the frame number of the
    file names (S005_001_00000004.png)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ONSET_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; expected a header "
                             f"{','.join(ONSET_COLUMNS)}")
        onsets = {}
        for line, row in enumerate(reader, start=2):
            key = (row["subject"].strip(), row["sequence"].strip())
            if key in onsets:
                raise ValueError(f"{path}, line {line}: {key[0]}/{key[1]} has two onsets")
            try:
                onsets[key] = int(row["onset"])
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: onset {row['onset']!r} is not a "
                                 f"frame number") from None
    return onsets


# ---------------------------------------------------------------- interpolation


def interpolation_times(source: int = SOURCE_FRAMES, count: int = FME_FRAMES) -> np.ndarray:
    """`count` evenly spaced times over the source frames' span, in source frames."""
    return np.linspace(0.0, source - 1.0, count)


def _segments(times: np.ndarray, source: int) -> tuple[np.ndarray, np.ndarray]:
    """For each time: the source frame it follows and how far towards the next."""
    times = np.asarray(times, np.float64)
    if times.min() < 0 or times.max() > source - 1:
        raise ValueError(f"times must lie in [0, {source - 1}]")
    start = np.minimum(np.floor(times).astype(int), source - 2)
    return start, times - start


def interpolate_track(track, times) -> np.ndarray:
    """(len(times), 68, 2) float32: landmarks moving linearly between the source frames."""
    pts = np.asarray(track, np.float64)
    start, frac = _segments(times, len(pts))
    frac = frac[:, None, None]
    return ((1.0 - frac) * pts[start] + frac * pts[start + 1]).astype(np.float32)


def _flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(H, W, 2) flow F with first(x) ~ second(x + F(x))."""
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(first, second, None)


def _warp_back(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image(x + flow(x)) for every pixel x."""
    h, w = image.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(image.astype(np.float32), xs + flow[..., 0], ys + flow[..., 1],
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def flow_blend(first: np.ndarray, second: np.ndarray, t: float, forward: np.ndarray,
               backward: np.ndarray) -> np.ndarray:
    """The frame at time t in (0, 1) between two frames, from their flows both ways
    (Super SloMo's flow approximation, without its learned visibility maps)."""
    to_first = -(1.0 - t) * t * forward + t * t * backward
    to_second = (1.0 - t) ** 2 * forward - t * (1.0 - t) * backward
    blend = (1.0 - t) * _warp_back(first, to_first) + t * _warp_back(second, to_second)
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)


def interpolate_frames(images: Sequence[np.ndarray], times) -> list[np.ndarray]:
    """Greyscale uint8 frames at `times` (in source frames) by flow-guided blending;
    times on a source frame return that frame unchanged."""
    images = [np.asarray(im, np.uint8) for im in images]
    start, frac = _segments(times, len(images))
    flows = {}
    out = []
    for k, t in zip(start, frac):
        if t == 0.0 or t == 1.0:
            out.append(images[k + int(t)].copy())
            continue
        if k not in flows:
            flows[k] = (_flow(images[k], images[k + 1]), _flow(images[k + 1], images[k]))
        out.append(flow_blend(images[k], images[k + 1], float(t), *flows[k]))
    return out


# ---------------------------------------------------------------- the set


@dataclasses.dataclass(frozen=True)
class FmeSequence:
    """One synthesized sequence, as fme.csv records it.

    Attributes:
      onset: frame number (file-name number) of the first source frame.
      onset_source: "csv" or "auto".
      source_frames: the three frame numbers interpolated.
      fge_frames: frames of the original sequence.
      sfem_fge, sfem_fme: Eq. 3 on the original and on the synthesized landmarks
        (`features.sfem`'s default: as printed, all 68 landmarks, the form the
        preprocessed records hold).
    """

    subject: str
    sequence: str
    label: str
    onset: int
    onset_source: str
    source_frames: tuple[int, ...]
    fge_frames: int
    sfem_fge: float
    sfem_fme: float


@dataclasses.dataclass
class Synthesis:
    """What `synthesize` made, and every labelled sequence it could not use, by name."""

    sequences: list[FmeSequence]
    skipped: list[tuple[str, str]]

    @property
    def mean_sfem_fge(self) -> float:
        return float(np.mean([s.sfem_fge for s in self.sequences]))

    @property
    def mean_sfem_fme(self) -> float:
        return float(np.mean([s.sfem_fme for s in self.sequences]))

    def summary(self) -> str:
        fge, fme = self.mean_sfem_fge, self.mean_sfem_fme
        lines = [f"{len(self.sequences)} FME sequences of {FME_FRAMES} frames synthesized "
                 f"({sum(s.onset_source == 'auto' for s in self.sequences)} automatic onsets); "
                 f"mean SFEM (Eq. 3): FGE {fge:.4f}, FME {fme:.4f}, FME/FGE {fme / fge:.1%} "
                 f"(the paper's FME: {PAPER_FME_MEAN_SFEM}, "
                 f"{PAPER_FME_SFEM_RATIO:.1%} of its FGE); "
                 f"SFEM: {features.describe_sfem()}"]
        if self.skipped:
            lines.append(f"{len(self.skipped)} sequences not used:")
            lines.extend(f"  {name}: {reason}" for name, reason in self.skipped)
        return "\n".join(lines)


def _track(clip: Clip, extractor: landmarks.LandmarkExtractor | None) -> np.ndarray:
    """The clip's landmarks, frames without a face (holes in its numbering among
    them) filled as preprocessing fills them."""
    if extractor is None:
        track = ckplus.read_landmark_files(clip.landmark_files)
        present = np.isfinite(track).all(axis=(1, 2))
        return landmarks.fill_gaps([p if ok else None for p, ok in zip(track, present)],
                                   landmarks.LandmarkSettings.max_gap, clip.name)[0]
    return extractor.extract_clip(clip).landmarks


def _onset_position(clip: Clip, onset: int) -> int:
    numbers = frame_numbers(clip.frames)
    if onset not in numbers:
        raise ValueError(f"onset frame {onset} is not one of its frames "
                         f"{numbers[0]}..{numbers[-1]}")
    position = numbers.index(onset)
    if position > len(numbers) - SOURCE_FRAMES:
        raise ValueError(f"onset frame {onset} leaves fewer than {SOURCE_FRAMES} frames")
    return position


def _write_sequence(out_dir: str, clip: Clip, images: Sequence[np.ndarray],
                    track: np.ndarray) -> None:
    """The FME sequence as CK+ stores one: frames 1..12, landmark files, emotion file."""
    stems = [f"{clip.subject}_{clip.clip_id}_{n:08d}" for n in range(1, len(images) + 1)]
    folders = {part: os.path.join(out_dir, part, clip.subject, clip.clip_id)
               for part in (ckplus.IMAGES, ckplus.LANDMARKS, ckplus.EMOTION_DIRS[0])}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    for stem, image, points in zip(stems, images, track):
        path = os.path.join(folders[ckplus.IMAGES], f"{stem}.png")
        encoded, png = cv2.imencode(".png", image)
        if not encoded:
            raise ValueError(f"could not encode {path} as PNG")
        files.atomic_write(path, png.tobytes())
        files.atomic_write(os.path.join(folders[ckplus.LANDMARKS], f"{stem}_landmarks.txt"),
                           "".join(f"   {x:.7e}   {y:.7e}\n" for x, y in points))
    code = CKPLUS_CLASSES.index(clip.label) + 1
    files.atomic_write(os.path.join(folders[ckplus.EMOTION_DIRS[0]], f"{stems[-1]}_emotion.txt"),
                       f"   {code:.7e}\n")


def synthesize(data_dir: str, out_dir: str, onsets_csv: str | None = None,
               landmark_source: str = "provided", threshold: float = ONSET_THRESHOLD,
               landmark_settings: landmarks.LandmarkSettings | None = None) -> Synthesis:
    """Synthesize the FME set from CK+ and write it to `out_dir` in CK+'s layout.

    Args:
      data_dir: CK+ as unpacked (see `ckplus.read`).
      out_dir: where the FME tree goes: neither `data_dir`, nor inside it, nor
        holding it, once symbolic links are resolved; `fme.csv`, written last,
        records every sequence (`RECORD_COLUMNS`).
      onsets_csv: hand-picked onsets (`read_onsets`); a labelled sequence without
        a row, or a row naming no labelled sequence, is skipped by name. None
        picks every onset automatically (`auto_onset`).
      landmark_source: "provided" (CK+'s Landmarks/) or "dlib".
      threshold: `auto_onset`'s fraction of the peak displacement, in (0, 1).
      landmark_settings: dlib settings for landmark_source="dlib".

    Raises ValueError, before anything is written, for an `out_dir` that would
    write into the source dataset or a threshold outside (0, 1).
    """
    if files.is_within(out_dir, data_dir) or files.is_within(data_dir, out_dir):
        where = "is" if os.path.realpath(out_dir) == os.path.realpath(data_dir) else "overlaps"
        raise ValueError(f"--out_dir {out_dir} {where} the CK+ folder {data_dir} (resolved: "
                         f"{os.path.realpath(out_dir)} and {os.path.realpath(data_dir)}): the "
                         f"source dataset is never written to; choose an --out_dir outside it")
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ValueError(f"--onset_threshold={threshold} is out of range: it must be a number "
                         f"between 0 and 1 (a fraction of the peak displacement)")
    found = ckplus_fge.read(data_dir, landmarks=landmark_source)
    skipped = list(found.skipped)
    onsets = read_onsets(onsets_csv) if onsets_csv else None
    if onsets is not None:
        on_disk = {(c.subject, c.clip_id) for c in found.clips}
        skipped += [(f"{ckplus_fge.NAME}/{s}/{q}", f"in {onsets_csv} but not a labelled "
                     f"sequence on disk") for s, q in sorted(set(onsets) - on_disk)]
    extractor = (landmarks.LandmarkExtractor(landmark_settings)
                 if landmark_source == "dlib" else None)
    times = interpolation_times()
    made = []
    for clip in found.clips:
        key = (clip.subject, clip.clip_id)
        try:
            if onsets is not None and key not in onsets:
                raise ValueError(f"no onset in {onsets_csv}")
            track = _track(clip, extractor)
            if len(track) < SOURCE_FRAMES:
                raise ValueError(f"{len(track)} frames, need at least {SOURCE_FRAMES}")
            start = (auto_onset(track, threshold) if onsets is None
                     else _onset_position(clip, onsets[key]))
            picked = range(start, start + SOURCE_FRAMES)
            numbers = frame_numbers(clip.frames)
            holes = [numbers[k] for k in picked if clip.frames[k] is None]
            if holes:
                # Interpolating from a frame that is not there would invent the motion.
                raise ValueError(f"source frame(s) {holes} missing from the folder's "
                                 f"numbering: no image to interpolate from")
            fme_track = interpolate_track(track[start:start + SOURCE_FRAMES], times)
            images = interpolate_frames([video.read_image(clip.frames[k]) for k in picked], times)
        except (ValueError, OSError) as err:
            skipped.append((clip.name, str(err)))
            continue
        _write_sequence(out_dir, clip, images, fme_track)
        interval = features.frame_interval_for_fps(clip.fps)
        made.append(FmeSequence(
            subject=clip.subject, sequence=clip.clip_id, label=clip.label,
            onset=numbers[start],
            onset_source="auto" if onsets is None else "csv",
            source_frames=tuple(numbers[k] for k in picked),
            fge_frames=len(track), sfem_fge=features.sfem(track, interval),
            sfem_fme=features.sfem(fme_track, interval)))
    if not made:
        raise ValueError(f"no FME sequence could be synthesized from {data_dir}:\n"
                         + "\n".join(f"  {n}: {r}" for n, r in skipped))
    _write_record(os.path.join(out_dir, RECORD_FILE), made)
    return Synthesis(made, skipped)


def _write_record(path: str, sequences: Sequence[FmeSequence]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(RECORD_COLUMNS)
    for s in sequences:
        writer.writerow([s.subject, s.sequence, s.label, s.onset, s.onset_source,
                         " ".join(map(str, s.source_frames)), s.fge_frames,
                         f"{s.sfem_fge:.6f}", f"{s.sfem_fme:.6f}"])
    files.atomic_write(path, text.getvalue())

