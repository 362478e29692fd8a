r"""People's recordings as landmark tracks: the one place every tool turns an input
into 68 landmarks per frame (`predict`, `visualize`, and what comes after them).

An input is a video file, a folder of numbered frames (`datasets.base.list_images`
lists them, in numeric order, without hidden and OS metadata files) or a landmark
file (`lfm_tf.landmark_files`: OpenFace, py-feat, .npy, ...). Pixels go through
the tracked dlib fit (`lfm_tf.landmarks`); a frame image that cannot be decoded,
and a number a folder's numbering skips (`frame_files`), is a frame without a
face, named in the notes, so the frames after it keep their times. Where
per-frame times are known (a video's container, a landmark file's time column)
the track is put on an even time base first (`lfm_tf.timebase`). Frames without
a face are counted and interpolated across, and where a recording must be split
is decided afterwards (`usable_ranges`), from the gaps that are longer than a
tool allows.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from lfm_tf import landmark_files, landmarks, temporal_filter, timebase, video
from lfm_tf.datasets.base import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, FrameListError,
                                  numbered_frames)

LANDMARK_EXTENSIONS = (".npy", ".npz", ".csv")
# Below this many px between the eyes the landmarks' precision was not measured:
# 16 px gave 0.107 eye distances of error against 0.04 at 96 px (a fresh user).
SMALL_FACE_EYE_DISTANCE = 30.0
SOURCES = ("video", "frames", "landmarks")


class InputError(ValueError):
    """An input that cannot be read, or has too few frames with a face to predict on."""


@dataclasses.dataclass
class Recording:
    """The landmarks of one input, frame by frame.

    Attributes:
      path: the input as given.
      source: "video", "frames" or "landmarks".
      fps: its frame rate.
      landmarks: float32 (N, 68, 2); frames without a face hold landmarks
        interpolated from the nearest frames with one (`landmarks.fill_gaps`).
      face: bool (N,), True where a face was found (or given).
      time_base: "even" (the input's frame times were), "resampled" (they were
        not, see `lfm_tf.timebase`) or "frame order" (it has no times).
      notes: what was wrong with the input and what was done about it
        (unreadable frames, rows missing or chosen, resampling), for people.
      source_frames: int (N,), the input's own 0-based frame nearest in time to
        each frame, where resampling made new ones; None when they are its own.
      reliability: float32 (N,) in [0, 1], how far each frame's landmarks can
        be trusted (`landmarks.LandmarkTrack.reliability`); for a landmark
        file, its `reliability` column where it has one (the landmark CLI's
        CSV), else 1 where it has a face; 0 where not. None: that.
      declared_fps: the frame rate the input itself declares: a video's header,
        or what a landmark file's time column gives (`timebase.times_fps`);
        None for frames and files without times. `fps` is --fps where given.
      warnings: what the output must not hide from people, e.g. a --fps that
        disagrees with `declared_fps` (`timebase.rates_disagree`).
      cuts: 0-based frames where a new shot starts (`landmarks.LandmarkTrack.cuts`,
        on this recording's frames): motion across one compares two shots, so
        `usable_ranges` ends a stretch there.
    """

    path: str
    source: str
    fps: float
    landmarks: np.ndarray
    face: np.ndarray
    time_base: str = "frame order"
    notes: list[str] = dataclasses.field(default_factory=list)
    source_frames: np.ndarray | None = None
    reliability: np.ndarray | None = None
    declared_fps: float | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    cuts: tuple[int, ...] = ()

    def __post_init__(self):
        if self.reliability is None:
            self.reliability = np.asarray(self.face, bool).astype(np.float32)

    @property
    def num_frames(self) -> int:
        return len(self.face)

    def input_frame(self, k: int) -> int:
        """The input's own frame (0-based) showing frame k: where its pixels are."""
        return int(k if self.source_frames is None else self.source_frames[k])


def output_names(paths: Sequence[str]) -> list[str]:
    """The name each input's outputs are written under: its file or folder name
    without the extension (`person.mp4` -> `person`).

    Raises InputError when two inputs share a name (`person.mp4` and the
    `person.csv` its landmarks were exported to): one would overwrite the other.
    """
    names = [os.path.splitext(os.path.basename(os.path.normpath(p)))[0] for p in paths]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        same = [p for p, n in zip(paths, names) if n == twice[0]]
        raise InputError(f"inputs with the same name would overwrite each other's outputs: "
                         f"{', '.join(same)}: rename or copy one of them")
    return names


def input_source(path: str) -> str:
    """Which of `SOURCES` an input is, by what it is on disk."""
    if os.path.isdir(path):
        return "frames"
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file or folder")
    ext = os.path.splitext(path)[1].lower()
    if ext in LANDMARK_EXTENSIONS:
        return "landmarks"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    raise InputError(f"{path}: not a video ({' '.join(VIDEO_EXTENSIONS)}), a folder of "
                     f"frames or a landmark file ({' '.join(LANDMARK_EXTENSIONS)})")


def read_landmark_file(path: str, settings: landmark_files.FileSettings =
                       landmark_files.FileSettings()) -> landmark_files.LandmarkFile:
    """A landmark file's points per frame (`lfm_tf.landmark_files`), its errors as
    InputError."""
    try:
        return landmark_files.read(path, settings)
    except landmark_files.LandmarkFileError as err:
        raise InputError(str(err)) from None


def read_recording(path: str, fps: float | None = None,
                   extractor: landmarks.LandmarkExtractor | None = None,
                   file_settings: landmark_files.FileSettings = landmark_files.FileSettings(),
                   time_settings: timebase.TimeSettings = timebase.TimeSettings(),
                   denoiser: str = temporal_filter.DEFAULT_TEMPORAL_FILTER) -> Recording:
    """Landmarks of one input, with which frames had a face, on an even time base,
    denoised over time by `denoiser` (`temporal_filter.denoise`, whatever their
    source).

    A video's frame rate is the one it declares unless `fps` is given (high-speed
    cameras often store a playback rate); its frame times come from the
    container. Folders of frames and landmark files need `fps` (a landmark
    file's time column is checked for evenness, `timebase.file_period`), except
    the landmark CLI's CSV, whose timestamps are the recording's own: its rate is
    theirs (`timebase.times_fps`), and the notes say so. Uneven frame
    times are resampled or refused as `time_settings` says. Where `fps` and the
    rate the input declares disagree (`timebase.rates_disagree`), `fps` is used
    and the recording's `warnings` say so.

    `extractor`'s `max_gap` should let every gap through (`unbridged_extractor`):
    where to split a recording is decided afterwards, by `usable_ranges`.

    Raises InputError (one line, naming the input) for anything unusable.
    """
    source = input_source(path)
    found = read_landmark_file(path, file_settings) if source == "landmarks" else None
    own_rate = (timebase.times_fps(found.times)
                if found is not None and found.own_times else None)
    if source != "video" and not fps and not own_rate:
        # Other landmark files' time columns say whether their frames are evenly spaced,
        # not their rate: OpenFace writes made-up times (30 fps, or 1 ms) for image folders.
        what = "a folder of frames" if source == "frames" else "a landmark file"
        why = ("" if found is None or found.times is None else
               " (its time column is read as the recording's own only in the landmark CLI's "
               f"CSV, with all of its columns: {', '.join(landmark_files.TRACK_CSV_COLUMNS[:5])}, "
               "x_0.., y_0..)")
        raise InputError(f"{path}: {what} carries no frame rate{why}: pass --fps")
    notes: list[str] = []
    times = period = declared = None
    cuts: tuple[int, ...] = ()
    if source == "landmarks":
        reliability, cuts = found.reliability, found.cuts
        notes += found.notes
        points, times = found.points, found.times
        declared = None if times is None else timebase.times_fps(times)
        rate = fps or own_rate
        if not fps and not 1 <= own_rate <= 100_000:
            # Timestamps in ms (or frame numbers) would make every window and T absurd.
            raise InputError(f"{path}: its timestamps give {own_rate:.4g} fps, outside the 1 "
                             f"to 100,000 fps read from timestamps (milliseconds or frame "
                             f"numbers give such rates; the landmark CLI writes seconds): "
                             f"pass --fps")
        if not fps:
            notes.append(f"{rate:.6g} fps from the file's timestamps (the landmark CLI's own "
                         f"times)")
        period = (None if times is None
                  else timebase.file_period(times, rate, time_settings.tolerance))
    else:
        extractor = extractor or unbridged_extractor()
        unreadable: list[tuple[int, str]] = []
        if source == "video":
            declared, times = float(video.video_fps(path)), []
            rate, period = declared, 1 / declared
            frames = video.iter_video(path, times=times, unreadable=unreadable)
        else:
            paths, skipped = frame_files(path)
            rate, frames = fps, video.read_images(paths, unreadable=unreadable)
        track = extractor.track(frames, source=path)
        reliability, cuts = track.reliability, track.cuts
        notes += [skipped] if source == "frames" and skipped else []
        found_points = track.landmarks[~track.filled]
        eyes = float(np.median(np.linalg.norm(found_points[:, 42:48].mean(1)
                                              - found_points[:, 36:42].mean(1), axis=1)))
        if eyes < SMALL_FACE_EYE_DISTANCE:
            notes.append(f"a small face: {eyes:.0f} px between the eyes (CASME II's crops have "
                         f"about 70): its landmark motion is less precise than the README's "
                         f"figures, measured from 70 px up")
        notes += [video.describe_unreadable(unreadable)] if unreadable else []
        points = np.where(track.filled[:, None, None], np.nan, track.landmarks)
        rate = fps or rate
    try:
        conformed = timebase.conform(path, points, times, period, time_settings)
    except timebase.TimeBaseError as err:
        raise InputError(str(err)) from None
    if conformed.note:
        notes.append(conformed.note)
    cuts = timebase.resampled_frames(cuts, conformed.source_frames)
    present = np.isfinite(conformed.points).all(axis=(1, 2))
    track, filled = landmarks.fill_gaps(
        [p if ok else None for p, ok in zip(conformed.points, present)], sys.maxsize, path,
        cuts)
    if reliability is not None and conformed.source_frames is not None:
        reliability = reliability[conformed.source_frames]
    if reliability is not None:
        reliability = np.where(filled, 0.0, reliability).astype(np.float32)
    if cuts:
        notes.append(f"{landmarks.describe_cuts(cuts)}: the landmarks start anew from the "
                     f"detector there, and no window or span crosses a cut")
    warnings = ([rate_warning(source, fps, declared)]
                if fps and timebase.rates_disagree(fps, declared) else [])
    return Recording(path, source, float(rate), temporal_filter.denoise(track, denoiser, cuts),
                     ~filled, conformed.time_base, notes, conformed.source_frames, reliability,
                     declared, warnings, cuts)


def rate_warning(source: str, fps: float, declared: float) -> str:
    """What a person reads where --fps (`fps`) disagrees with the rate a video or
    landmark file (`source`) declares: which is used, and why it may be right."""
    if source == "video":
        return (f"--fps={fps:g} overrides the {declared:g} fps the video declares (T, "
                f"seconds and windows follow --fps): right for a high-speed camera, which "
                f"stores a playback rate; without --fps, {declared:g} would be used")
    return (f"--fps={fps:g}, but the file's time column gives {declared:.4g} fps: --fps is "
            f"used (T, seconds and windows follow it); if the times are the recording's, "
            f"pass --fps={declared:.4g} (OpenFace makes times up, at 30 fps, for a folder "
            f"of images)")


def unbridged_extractor(settings: landmarks.LandmarkSettings | None = None
                        ) -> landmarks.LandmarkExtractor:
    """A landmark extractor that interpolates across every gap, however long, so
    that a recording is never refused for one; `usable_ranges` then drops what
    cannot be bridged."""
    settings = settings or landmarks.LandmarkSettings()
    return landmarks.LandmarkExtractor(dataclasses.replace(settings, max_gap=sys.maxsize))


def frame_files(path: str) -> tuple[list[str | None], str | None]:
    """The frames of a folder of numbered frames, one image path per frame, and
    a note naming the numbers the folder skips (None where it skips none):
    `datasets.base.numbered_frames`, which the dataset readers use too.

    Frame 0 is the first file (`list_images`), whatever its number (img000,
    img001, img100); frame k is the file numbered k steps after it, the step
    being the one the numbers advance by (the greatest common divisor of their
    differences: 1 for img001, img002, ...; 10 for img000, img010, ...). A
    number the folder skips (a file deleted, or never written) is a frame
    without a face, None, so that the frames after it keep their times.

    Raises InputError for a folder without numbered images, with two files of
    one number, or whose numbers would make more than
    `datasets.base.MAX_NUMBERING_SPAN` times as many frames as it has files
    (naming the largest hole).
    """
    try:
        frames, note = numbered_frames(path)
    except FrameListError as err:
        raise InputError(str(err)) from None
    if not frames:
        raise InputError(f"{path}: no numbered image frames in this folder "
                         f"({' '.join(IMAGE_EXTENSIONS)})")
    return frames, note


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame `index` (0-based) of a video or a folder of frames, BGR uint8."""
    return next(read_frames(path, [index], grey=False))[1]


def read_frames(path: str, indices: Iterable[int], grey: bool = True,
                unreadable: list[tuple[int, str]] | None = None
                ) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for each of the 0-based `indices` of a video or a folder of
    frames, in increasing order, uint8 greyscale or BGR. A folder reads only those
    images; a video is decoded once, up to the last one wanted.

    A folder's frames are numbered as `frame_files` numbers them (a number it
    skips is a frame, without an image), as the recording's frames are.

    Raises InputError for an index the input does not have, and VideoError for a
    frame image or video that cannot be decoded, or a frame a folder's numbering
    skips; with an `unreadable` list, each such frame is appended as (index,
    reason) instead and the others are read, so that one bad frame costs only
    what needs it.
    """
    wanted = sorted({int(k) for k in indices})
    if not wanted:
        return
    if input_source(path) == "frames":
        paths, _ = frame_files(path)
        count = len(paths)
        for k in (k for k in wanted if 0 <= k < count):
            try:
                if paths[k] is None:
                    raise video.VideoError(f"no frame image for frame {k} of {path}: a number "
                                           f"missing from the folder's numbering")
                image = video.read_image(paths[k], grey)
            except video.VideoError as err:
                if unreadable is None:
                    raise
                unreadable.append((k, str(err)))
                continue
            yield k, image
    else:
        # Frames the decoder cannot grab keep their place (`video.iter_video`): the
        # numbering here is the one `read_recording` tracked.
        count, chosen, lost = 0, set(wanted), []
        try:
            for count, frame in enumerate(video.iter_video(path, grey, unreadable=lost),
                                          start=1):
                if count - 1 in chosen:
                    if frame is None:
                        reason = next(r for k, r in lost if k == count - 1)
                        if unreadable is None:
                            raise video.VideoError(reason)
                        unreadable.append((count - 1, reason))
                    else:
                        yield count - 1, frame
                    if count > wanted[-1]:
                        return
        except video.VideoError as err:
            if unreadable is None:
                raise
            # Decoding cannot go on past a frame it fails on.
            unreadable.extend((k, str(err)) for k in wanted if k >= count)
            return
    outside = [k for k in wanted if not 0 <= k < count]
    if outside and unreadable is None:
        raise InputError(f"{path}: no frame {outside[0]}; it has {count}")
    if outside:
        unreadable.extend((k, f"no frame {k}: the input has {count}") for k in outside)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame of every run of True in `mask`, inclusive."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def describe_runs(ranges: Sequence[Sequence[int]]) -> str:
    """'3-5, 9' for the (first, last) runs [(3, 5), (9, 9)], for notes."""
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)


def unbridged_gaps(face: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """Runs of more than `max_gap` frames without a face (first, last)."""
    return [(a, b) for a, b in runs(~np.asarray(face, bool)) if b - a + 1 > max_gap]


def usable_ranges(face: np.ndarray, max_gap: int, cuts: Sequence[int] = ()
                  ) -> list[tuple[int, int]]:
    """[start, end) stretches of frames between the gaps `max_gap` cannot bridge,
    each split where a new shot starts (`cuts`, 0-based frames)."""
    ranges, start = [], 0
    for first, last in unbridged_gaps(face, max_gap) + [(len(face), len(face))]:
        if first > start:
            bounds = [start, *sorted(c for c in cuts if start < c < first), first]
            ranges += list(zip(bounds[:-1], bounds[1:]))
        start = last + 1
    return ranges
