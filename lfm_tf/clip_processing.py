"""One clip through preprocessing: its landmarks (cached per clip, or those that
ship with the data), an even time base, the temporal filter, the maps of Eq. 1-2
and SFEM (Eq. 3), serialized as its record (`lfm_tf.records`). `lfm_tf.pipeline`
runs `ClipProcessor` over a dataset in Beam's workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import sys
import zipfile
import zlib
from typing import TYPE_CHECKING

import numpy as np

from lfm_tf import features, files, landmarks, records, temporal_filter, timebase, video
from lfm_tf.datasets import DatasetSpec
from lfm_tf.datasets.base import Clip, describe_holes
from lfm_tf.table8 import crops

if TYPE_CHECKING:
    from lfm_tf.pipeline import PreprocessConfig

# The SFEM (Eq. 3) every record stores, (landmarks, form): all 68 landmarks, as
# printed, the form that Table 8 reproduces on CK+ (`features.SFEM_LANDMARKS`).
RECORD_SFEM = (features.SFEM_LANDMARKS, "printed")


class LandmarkCache:
    """Landmark tracks per clip on disk, so a second run with another variant or
    frame interval does not run dlib again. Keyed by the clip (name, its files'
    names, sizes and times), the detector settings and the entry's format; clips
    without a face are cached too, with the reason."""

    # 2: the track's cuts are stored.
    FORMAT = 2

    def __init__(self, root: str, settings: landmarks.LandmarkSettings):
        self.root = os.path.join(root, settings.cache_key())

    def path(self, clip: Clip) -> str:
        # File sizes and modification times enter the key, so frames rendered or
        # copied anew under the same names are not matched with stale landmarks. A
        # hole in the numbering (None) is a frame of the clip: its place is in the key.
        files = [clip.video] if clip.video else list(clip.frames)
        stats = [f"<hole {k}>" if p is None else f"{p}:{st.st_size}:{st.st_mtime_ns}"
                 for k, p in enumerate(files) for st in [None if p is None else os.stat(p)]]
        key = hashlib.sha256("\n".join([f"format {self.FORMAT}", clip.name, *stats]).encode()
                             ).hexdigest()[:16]
        return os.path.join(self.root, clip.dataset, clip.subject, f"{clip.clip_id}-{key}.npz")

    def load(self, clip: Clip) -> landmarks.LandmarkTrack | str | None:
        """The cached track, the cached no-face reason, or None if not cached.

        An entry that does not load (truncated, garbage: the zip's CRCs catch a
        flipped bit) or does not hold a track of this clip's shape is removed
        with a warning naming the clip, and None returned: it is recomputed.
        """
        path = self.path(clip)
        if not os.path.exists(path):
            return None
        try:
            # allow_pickle=False: an entry is arrays only, never code.
            with np.load(path, allow_pickle=False) as data:
                if "error" in data:
                    return str(data["error"])
                unreadable = tuple(zip(data["unreadable_frames"].tolist(),
                                       data["unreadable_reasons"].tolist()))
                track = landmarks.LandmarkTrack(landmarks=data["landmarks"],
                                                filled=data["filled"],
                                                detections=int(data["detections"]),
                                                reliability=data["reliability"],
                                                unreadable=unreadable,
                                                cuts=tuple(data["cuts"].tolist()))
            _check_track(clip, track)
            return track
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile,
                zlib.error) as err:
            # Written from Beam's worker processes too, whose logging Beam keeps.
            print(f"warning: landmark cache entry {path} of clip {clip.name} is damaged "
                  f"({type(err).__name__}: {err}); recomputing its landmarks",
                  file=sys.stderr, flush=True)
            with contextlib.suppress(OSError):
                os.remove(path)
            return None

    def save(self, clip: Clip, outcome: landmarks.LandmarkTrack | str) -> None:
        path = self.path(clip)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with files.atomic_path(path) as tmp:
            if isinstance(outcome, str):
                np.savez(tmp, error=np.array(outcome))
            else:
                frames, reasons = zip(*outcome.unreadable) if outcome.unreadable else ((), ())
                np.savez(tmp, landmarks=outcome.landmarks, filled=outcome.filled,
                         detections=np.array(outcome.detections),
                         reliability=outcome.reliability,
                         unreadable_frames=np.array(frames, dtype=np.int64),
                         unreadable_reasons=np.array(reasons, dtype=str),
                         cuts=np.array(outcome.cuts, dtype=np.int64))



def _check_track(clip: Clip, track: landmarks.LandmarkTrack) -> None:
    """Raise ValueError unless `track` has the shape of a track of `clip`."""
    points, filled = np.asarray(track.landmarks), np.asarray(track.filled)
    frames = len(clip.frames) if clip.frames else len(points)
    if (points.shape != (frames, features.NUM_LANDMARKS, 2) or filled.shape != (frames,)
            or points.dtype.kind != "f" or filled.dtype != bool):
        raise ValueError(f"landmarks {points.shape} {points.dtype} and filled {filled.shape} "
                         f"{filled.dtype}, expected ({frames}, {features.NUM_LANDMARKS}, 2) "
                         f"floats and ({frames},) bools")


def provided_landmarks(clip: Clip, max_gap: int = landmarks.LandmarkSettings.max_gap
                       ) -> landmarks.LandmarkTrack:
    """Landmarks that ship with the data: an in-memory track or per-frame files.
    Frames without a face (NaN, or no file: a hole in the frames' numbering) are
    filled across gaps of up to `max_gap` frames, as dlib's are
    (`landmarks.fill_gaps`, which raises NoFaceError beyond)."""
    if clip.landmarks is not None:
        track = np.asarray(clip.landmarks, dtype=np.float32)
    elif clip.landmark_files:
        from lfm_tf.datasets import ckplus  # only CK+ ships per-frame landmark files
        track = ckplus.read_landmark_files(clip.landmark_files)
    else:
        raise ValueError(f"{clip.name}: no landmarks ship with this clip; use dlib landmarks")
    present = np.isfinite(track).all(axis=(1, 2))
    if present.all():
        return landmarks.LandmarkTrack(landmarks=track, filled=np.zeros(len(track), bool),
                                       detections=0)
    track, filled = landmarks.fill_gaps([p if ok else None for p, ok in zip(track, present)],
                                        max_gap, clip.name)
    return landmarks.LandmarkTrack(landmarks=track, filled=filled, detections=0)


class ClipProcessor:
    """Turns one clip into its serialized record, or a reason it cannot be used.

    Holds the dlib models, which cannot be pickled: they are created on first
    use in each worker."""

    def __init__(self, config: PreprocessConfig, spec: DatasetSpec,
                 cache_root: str | None):
        self.config = config
        self.spec = spec
        self.cache_root = cache_root
        self._extractor = None
        self._cache = None

    def _landmarks(self, clip: Clip) -> landmarks.LandmarkTrack:
        if self.config.landmark_source == "provided" or clip.landmarks is not None:
            return provided_landmarks(clip, self.config.landmark_settings.max_gap)
        if self._extractor is None:
            self._extractor = landmarks.LandmarkExtractor(self.config.landmark_settings)
            if self.cache_root:
                self._cache = LandmarkCache(self.cache_root, self.config.landmark_settings)
        cached = self._cache.load(clip) if self._cache else None
        if isinstance(cached, str):
            raise landmarks.NoFaceError(cached)
        if cached is not None:
            return cached
        try:
            track = self._extractor.extract_clip(clip)
        except landmarks.NoFaceError as err:
            if self._cache:
                self._cache.save(clip, str(err))
            raise
        if self._cache:
            self._cache.save(clip, track)
        return track

    def _on_even_time(self, clip: Clip, track: landmarks.LandmarkTrack
                      ) -> tuple[landmarks.LandmarkTrack, str | None]:
        """A video clip's track on an even time base (`lfm_tf.timebase`), at the
        container's declared rate, and the note saying it was resampled (or None)."""
        if clip.video is None or clip.landmarks is not None:
            return track, None
        times = video.frame_times(clip.video)
        if len(times) != len(track.landmarks):
            raise video.VideoError(f"{clip.video}: {len(times)} frame times for "
                                   f"{len(track.landmarks)} decoded frames")
        points = np.where(track.filled[:, None, None], np.nan, track.landmarks)
        conformed = timebase.conform(clip.name, points, times, 1 / video.video_fps(clip.video),
                                     self.config.time_settings)
        if conformed.time_base != "resampled":
            return track, None
        present = np.isfinite(conformed.points).all(axis=(1, 2))
        cuts = timebase.resampled_frames(track.cuts, conformed.source_frames)
        points, filled = landmarks.fill_gaps([p if ok else None for p, ok in
                                              zip(conformed.points, present)],
                                             self.config.landmark_settings.max_gap, clip.name,
                                             cuts)
        reliability = (None if conformed.source_frames is None else
                       np.where(filled, 0.0, track.reliability[conformed.source_frames]))
        return dataclasses.replace(track, landmarks=points, filled=filled,
                                   reliability=reliability, cuts=cuts), conformed.note

    def __call__(self, clip: Clip) -> tuple[bytes | None, str | None, int]:
        """(serialized record, note, frames) or (None, reason, frames); the note
        names the numbers the clip's folder skips (`base.describe_holes`, frames
        without a face, filled as `num_filled` counts) and frames that could not be
        read (None when there are neither); a reason names the holes too."""
        holes = None
        try:
            holes = describe_holes(clip.frames)
            track = self._landmarks(clip)
            track, resampled = self._on_even_time(clip, track)
            track = dataclasses.replace(track, landmarks=temporal_filter.denoise(
                track.landmarks, self.config.temporal_filter, track.cuts))
            interval = self.config.frame_interval or features.frame_interval_for_fps(clip.fps)
            indices = features.variant_indices(self.config.variant)
            n = len(track.landmarks)
            if n <= interval:
                return None, (f"{n} frames, need more than frame_interval={interval}"), n
            maps = features.normalize(features.lfm(track.landmarks, interval, indices))
            crop_fields = {}
            if self.config.crop_frames:
                positions = crops.crop_positions(n, self.config.crop_frames)
                crop_fields = {"crop_frames": positions, "crops": crops.clip_crops(
                    crops.read_frames(clip, positions), track.landmarks[positions],
                    self.config.crop_size)}
            record = records.ClipRecord(
                dataset=clip.dataset, subject=clip.subject, clip=clip.clip_id,
                label=self.spec.label_index(clip.label), label_name=clip.label,
                variant=self.config.variant, frame_interval=interval, fps=clip.fps,
                num_filled=int(track.num_filled),
                sfem=features.sfem(track.landmarks, interval,
                                   features.variant_indices(RECORD_SFEM[0]), form=RECORD_SFEM[1]),
                sfem_landmarks=RECORD_SFEM[0], sfem_form=RECORD_SFEM[1],
                maps=maps, landmarks=track.landmarks, reliability=track.reliability,
                onset=_frame_or_unknown(clip.onset), apex=_frame_or_unknown(clip.apex),
                offset=_frame_or_unknown(clip.offset), **crop_fields)
            notes = [holes] if holes else []
            notes += [video.describe_unreadable(track.unreadable)] if track.unreadable else []
            # A dataset's clip is one shot: a cut there is worth a look, and the maps
            # across it compare two pictures.
            notes += ([f"{landmarks.describe_cuts(track.cuts)}: the landmarks start anew "
                       f"from the detector there; maps across it compare two shots"]
                      if track.cuts else [])
            note = "; ".join(notes + ([resampled] if resampled else [])) or None
            return records.encode(record), note, n
        except (landmarks.NoFaceError, video.VideoError, ValueError, OSError) as err:
            # One bad clip never stops the run: it is reported by name in the manifest.
            return None, f"{type(err).__name__}: {err}" + (f"; {holes}" if holes else ""), 0


def _frame_or_unknown(frame: int | None) -> int:
    return records.UNKNOWN_FRAME if frame is None else int(frame)
