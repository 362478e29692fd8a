r"""Landmark files other tools write, read by their own columns, never guessed.

One row per face per frame, 68 points in the dlib / iBUG 300-W order, x and y in
pixels. What is read:

| format | landmark columns | frame | time | face | confidence |
| --- | --- | --- | --- | --- | --- |
| ours (`python -m lfm_tf.landmarks`, `TRACK_CSV_COLUMNS`) | `x_0..x_67`, `y_0..y_67` | row order (its `frame` only names the input's frame) | `timestamp` (s, the recording's own) | one | `success`, `reliability`; `cut` 1 where a new shot starts |
| OpenFace 2.x (FeatureExtraction, FaceLandmarkVidMulti) | `x_0..x_67`, `y_0..y_67` | `frame` (from 1) | `timestamp` (s) | `face_id` | `success`, `confidence` |
| py-feat (`Fex.to_csv`) | `x_0..x_67`, `y_0..y_67` | `frame` (from 0) | none (its `approx_time` is whole seconds) | `face_id` | `FaceScore` |
| MediaPipe-style and others | `x0..x67`/`y0..y67`, `landmark_0_x`/`landmark_0_y`, ... | `frame`, `frame_id`, `frame_index`, `frame_number` | `timestamp_ms`, `time_ms` (ms); `time`, `time_s` (s) | `face_id`, `face` | `confidence` |
| plain CSV | 136 values x0, y0, x1, y1, ... per row, no header | row order | none | one | none |
| `.npy` | (N, 68, 2) or (N, 136) | row order | none | one | none |
| `.npz` | `landmarks` (N, 68, 2) | `frame` (N,) | `timestamp` (N,) s | one | none |

Column names are matched after stripping spaces (OpenFace writes `" x_0"`), and
the other columns' names ignoring case, but the landmark axes' case is kept:
OpenFace's upper-case `X_k, Y_k, Z_k` are 3-D positions in millimetres, and a
file with only those is refused, naming what it has and what is needed. So is a
file whose coordinates all lie in 0..1 (normalized, as MediaPipe writes them).

Frames: where a file has a frame column, row r belongs to frame `frame[r]`, and
frame numbers the file skips are frames without a face (counted, filled or not
under `--max_gap` like any other), not closed up. The track starts at the file's
first frame number. Without a frame column, rows are frames in order; so are
the rows of our own CSV (`TRACK_CSV_COLUMNS`, the landmark CLI's): each row is a
frame of the recording's even time grid, and its `frame` is the input's frame
nearest in time, which repeats or skips where the input was resampled.

Times: only our own CSV's times are the recording's (`LandmarkFile.own_times`),
so only they give its frame rate; other files' may be made up (OpenFace writes
30 fps times for a folder of images).

Faces: where a frame has several rows (faces), `FileSettings.face` decides:
"auto" (default) takes the face nearest the one taken in the frame before, or the
largest (face box, else landmark extent) where there is none; a face id takes
that face only (`--face=1`); "single" refuses the file, naming the frames.

Confidence: a row with `success` 0, or a confidence (`confidence`, `FaceScore`)
missing, at most 0 or below `FileSettings.min_confidence`, is a frame without a
face; so is a row with an empty or NaN coordinate. Our own CSV's `reliability`
(`landmarks.LandmarkTrack.reliability`) is read as `LandmarkFile.reliability`.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re

import numpy as np

from lfm_tf import files
from lfm_tf.features import NUM_LANDMARKS

FACE_CHOICES = ("auto", "single")
# The CSV `python -m lfm_tf.landmarks` writes (`track_export`): OpenFace's names,
# the reliability of each frame's landmarks, and 1 in `cut` where a new shot starts
# (`landmarks.LandmarkTrack.cuts`). A file with all of them is ours.
TRACK_CSV_COLUMNS = ("frame", "timestamp", "success", "reliability", "cut",
                     *(f"x_{k}" for k in range(NUM_LANDMARKS)),
                     *(f"y_{k}" for k in range(NUM_LANDMARKS)))
NEEDED = "x_0..x_67 and y_0..y_67 in pixels (or 136 values x0, y0, x1, y1, ... without a header)"

_FRAME_COLUMNS = ("frame", "frame_id", "frame_index", "frame_number", "frame_idx")
_TIME_COLUMNS = {"timestamp": 1.0, "time": 1.0, "time_s": 1.0, "timestamp_s": 1.0,
                 "timestamp_ms": 1e-3, "time_ms": 1e-3}
_FACE_COLUMNS = ("face_id", "face")
_SUCCESS_COLUMNS = ("success",)
_CONFIDENCE_COLUMNS = ("confidence", "facescore")
_BOX_COLUMNS = ("facerectwidth", "facerectheight")
# Landmark k's x or y, lower-case axis only (upper case is OpenFace's 3-D, mm).
_POINT_PATTERNS = (re.compile(r"(?P<axis>[xy])_?(?P<k>\d+)"),
                   re.compile(r"(?:landmark|lm|point|p)_?(?P<k>\d+)_(?P<axis>[xy])"))
_3D_PATTERN = re.compile(r"[XYZ]_\d+")


class LandmarkFileError(ValueError):
    """A landmark file that cannot be read as 68 2-D landmarks per frame."""


@dataclasses.dataclass(frozen=True)
class FileSettings:
    """How the faces and rows of a landmark file are chosen.

    Attributes:
      face: "auto" (the face tracked from the frame before, else the largest),
        a face id (the value of the file's face id column), or "single" (refuse
        a file with several faces in a frame).
      min_confidence: rows whose confidence column is below this are frames
        without a face (rows at or below 0 always are).
    """

    face: str = "auto"
    min_confidence: float = 0.0

    def __post_init__(self):
        if not str(self.face).strip():
            raise ValueError("--face must be auto, single or a face id")
        if not 0 <= self.min_confidence <= 1:
            raise ValueError(f"--min_confidence must be in [0, 1], got {self.min_confidence}")


@dataclasses.dataclass
class LandmarkFile:
    """What a landmark file holds, frame by frame.

    Attributes:
      points: float64 (N, 68, 2) px, NaN where a frame has no face (or the file
        has no row for it).
      times: float64 (N,) s from the file's time column, NaN for frames it has
        no row for; None without a time column.
      first_frame: the file's own number of frame 0 (0 without a frame column).
      notes: what was done to read it (missing frames, faces chosen), for people.
      reliability: float64 (N,) in [0, 1] from our own CSV's `reliability`
        column, 0 for frames without a face; None for other files.
      own_times: whether `times` are the recording's own (our own CSV), so
        that they give its frame rate; other files' times may be made up.
      cuts: 0-based frames where a new shot starts (our own CSV's `cut`).
    """

    points: np.ndarray
    times: np.ndarray | None
    first_frame: int
    notes: list[str]
    reliability: np.ndarray | None = None
    own_times: bool = False
    cuts: tuple[int, ...] = ()


def read(path: str, settings: FileSettings = FileSettings()) -> LandmarkFile:
    """Read a landmark file (formats in the module docstring).

    Raises LandmarkFileError, naming the file and what to do, for a file that is
    not one of them: 3-D-only or unnamed columns, normalized coordinates, bad
    cells, several faces in a frame under face="single", a face id it lacks.
    """
    lower = path.lower()
    if lower.endswith(".npy") or lower.endswith(".npz"):
        found = _read_numpy(path)
    else:
        found = _read_csv(path, settings)
    coords = found.points[np.isfinite(found.points)]
    # No face spans under 2 px, so coordinates that all lie in -1..2 are fractions of
    # the frame (MediaPipe writes them so, slightly past 0..1 at the frame's edges).
    if coords.size and coords.min() >= -1 and coords.max() <= 2:
        raise LandmarkFileError(
            f"{path}: every coordinate lies in -1..2, so they are normalized (MediaPipe writes "
            f"them so), not pixels: multiply x by the frame width and y by its height first")
    _drop_impossible(path, found)
    return found


# A face's 68 points lie within about 2.2 times their median distance from their
# median point (1.5-2.2 in py-feat's videos tracked, through cuts and turns), and
# that size changes little within a recording (0.85-1.24 of its median there). A
# row with a point further than this many times the file's median size, or whose
# size is this many times smaller or larger, is a typing or export error. At 5, a
# nose tip typed 300 px (two face widths) off passed and doubled a window's SFEM.
NOT_A_FACE = 3.5


def _drop_impossible(path: str, found: LandmarkFile) -> None:
    """Rows whose 68 points cannot be one face (`NOT_A_FACE`: one point at 1e9, all
    at one spot) become frames without a face, named in `found.notes`: their
    distances would pass into the maps as an expression of any strength.

    Raises LandmarkFileError where that is every row with points (a column
    written wrong, say), naming the first."""
    points = found.points
    present = np.isfinite(points).all(axis=(1, 2))
    if not present.any():
        return
    centre = np.median(points, axis=1, keepdims=True)
    spread = np.linalg.norm(points - centre, axis=2)
    size = np.median(spread, axis=1)
    typical = float(np.median(size[present]))
    with np.errstate(invalid="ignore", divide="ignore"):
        bad = present & ((spread.max(axis=1) > NOT_A_FACE * typical)
                         | (size * NOT_A_FACE < typical) | (size > NOT_A_FACE * typical))
    if bad.any() and bad.sum() == present.sum():
        k = int(np.flatnonzero(bad)[0])
        worst = int(np.argmax(spread[k]))
        raise LandmarkFileError(
            f"{path}: no row's 68 points can be one face: in frame {k + found.first_frame} "
            f"(the file's numbers) point {worst} lies {spread[k, worst] / typical:.3g} face "
            f"sizes from the others' median, where a face's points reach about 2: is a column "
            f"written wrong?")
    if bad.any():
        frames = (np.flatnonzero(bad) + found.first_frame).tolist()
        points[bad] = np.nan
        if found.reliability is not None:
            found.reliability[bad] = 0.0
        found.notes.append(
            f"{len(frames)} row(s) whose 68 points cannot be one face (a point more than "
            f"{NOT_A_FACE:g} face sizes from the others, or all far smaller or larger than the "
            f"file's face), taken as frames without a face: frame(s) {_frame_list(frames)} "
            f"(the file's numbers; rows from 0 where it has none)")


def _read_numpy(path: str) -> LandmarkFile:
    try:
        loaded = files.load_array(path)
    except ValueError as err:
        raise LandmarkFileError(str(err)) from None
    frames = times = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if "landmarks" not in loaded.files:
                raise LandmarkFileError(f"{path}: no `landmarks` array (it has "
                                        f"{', '.join(loaded.files) or 'none'})")
            array = loaded["landmarks"]
            frames = loaded["frame"] if "frame" in loaded.files else None
            times = loaded["timestamp"] if "timestamp" in loaded.files else None
    else:
        array = loaded
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 2 * NUM_LANDMARKS:
        array = array.reshape(len(array), NUM_LANDMARKS, 2)
    if array.ndim != 3 or array.shape[1:] != (NUM_LANDMARKS, 2) or not len(array):
        raise LandmarkFileError(f"{path}: expected landmarks of shape (N, 68, 2) or (N, 136) in "
                                f"the dlib / iBUG 68-point order, got {array.shape}")
    for name, column in (("frame", frames), ("timestamp", times)):
        if column is not None and np.shape(column) != (len(array),):
            raise LandmarkFileError(f"{path}: `{name}` has shape {np.shape(column)}, expected "
                                    f"({len(array)},), one per row of `landmarks`")
    rows = [_Row(k, None, array[k], None, True) for k in range(len(array))]
    frame_numbers = None if frames is None else [_whole(path, "frame", k + 1, v)
                                                 for k, v in enumerate(frames)]
    return _assemble(path, rows, frame_numbers,
                     None if times is None else np.asarray(times, np.float64), FileSettings())


@dataclasses.dataclass
class _Row:
    line: int
    face_id: str | None
    points: np.ndarray  # (68, 2), NaN without a face
    area: float | None  # the face box's area, px^2, where the file gives one
    ok: bool  # success and confidence allow it
    reliability: float = math.nan  # our own CSV's, else NaN


def _read_csv(path: str, settings: FileSettings) -> LandmarkFile:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            table = [(k, row) for k, row in enumerate(csv.reader(f), start=1)
                     if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise LandmarkFileError(f"{path}: not a readable CSV file ({err})") from None
    if not table:
        raise LandmarkFileError(f"{path}: empty landmark file")
    if _is_number(table[0][1][0]):
        return _read_plain(path, table)
    header = [cell.strip() for cell in table[0][1]]
    columns = _point_columns(path, header)
    named = {name.lower(): k for k, name in enumerate(header)}

    def first(names):
        return next((named[n] for n in names if n in named), None)

    ours = all(name in named for name in TRACK_CSV_COLUMNS)
    frame_col, face_col = first(_FRAME_COLUMNS), first(_FACE_COLUMNS)
    reliability_col = named["reliability"] if ours else None
    cuts = []
    success_col, confidence_col = first(_SUCCESS_COLUMNS), first(_CONFIDENCE_COLUMNS)
    time_name = next((n for n in _TIME_COLUMNS if n in named), None)
    box_cols = [named[n] for n in _BOX_COLUMNS if n in named]
    width = max([int(columns.max()), *box_cols, *(
        c for c in (frame_col, face_col, success_col, confidence_col,
                    named.get(time_name)) if c is not None)]) + 1
    rows, frames, times = [], [], []
    for line, cells in table[1:]:
        if len(cells) < width:
            raise LandmarkFileError(f"{path}, line {line}: {len(cells)} columns, the header "
                                    f"names {len(header)}")
        values = np.array([_number(path, line, cells[c]) for c in columns.ravel()])
        points = values.reshape(NUM_LANDMARKS, 2)
        ok = True
        if success_col is not None:
            # OpenFace and our writer put 0 or 1: anything else is not theirs to guess.
            success = _number(path, line, cells[success_col])
            if success not in (0, 1):
                raise LandmarkFileError(f"{path}, line {line}: success "
                                        f"{cells[success_col].strip()!r} is not 0 or 1")
            ok = success == 1
        if confidence_col is not None:
            confidence = _number(path, line, cells[confidence_col])
            ok = ok and confidence > 0 and confidence >= settings.min_confidence
        area = (math.prod(_number(path, line, cells[c]) for c in box_cols)
                if len(box_cols) == 2 else None)
        face_id = cells[face_col].strip() if face_col is not None else None
        reliability = (_number(path, line, cells[reliability_col])
                       if reliability_col is not None else math.nan)
        # Our writer puts a number in [0, 1] and a 0 or 1 on every row: anything else
        # was edited by hand, and a guess would pass wrong trust or shots on.
        if reliability_col is not None and not 0 <= reliability <= 1:
            raise LandmarkFileError(f"{path}, line {line}: reliability "
                                    f"{cells[reliability_col].strip()!r} is not a number in "
                                    f"[0, 1]")
        rows.append(_Row(line, face_id, points, area, ok, reliability))
        cut = _number(path, line, cells[named["cut"]]) if ours else 0
        if cut not in (0, 1):
            raise LandmarkFileError(f"{path}, line {line}: cut {cells[named['cut']].strip()!r} "
                                    f"is not 0 or 1")
        if cut == 1:
            cuts.append(len(rows) - 1)
        if frame_col is not None:
            frames.append(_whole(path, header[frame_col], line,
                                 _number(path, line, cells[frame_col])))
        if time_name is not None:
            times.append(_number(path, line, cells[named[time_name]]) * _TIME_COLUMNS[time_name])
    if not rows:
        raise LandmarkFileError(f"{path}: a header and no rows")
    if ours:
        return _read_track_csv(path, rows, frames, np.array(times), cuts, settings)
    return _assemble(path, rows, frames if frame_col is not None else None,
                     np.array(times) if time_name is not None else None, settings)


def _read_plain(path: str, table: list[tuple[int, list[str]]]) -> LandmarkFile:
    rows = []
    for line, cells in table:
        if len(cells) != 2 * NUM_LANDMARKS:
            raise LandmarkFileError(
                f"{path}, line {line}: {len(cells)} values; a landmark file without a header "
                f"has 136 per row (x0, y0, x1, y1, ...); or name columns {NEEDED}")
        values = np.array([_number(path, line, c) for c in cells])
        rows.append(_Row(line, None, values.reshape(NUM_LANDMARKS, 2), None, True))
    return _assemble(path, rows, None, None, FileSettings())


def _point_columns(path: str, header: list[str]) -> np.ndarray:
    """(68, 2) column indices of each landmark's x and y."""
    found: dict[tuple[int, str], int] = {}
    beyond = []
    for c, name in enumerate(header):
        for pattern in _POINT_PATTERNS:
            match = pattern.fullmatch(name)
            if match and int(match["k"]) < NUM_LANDMARKS:
                found.setdefault((int(match["k"]), match["axis"]), c)
            elif match:
                beyond.append(name)
    if beyond:
        # Another point scheme (98-point WFLW, 468-point mesh) is not dlib's 68 with
        # extras: its first 68 points are other places of the face.
        raise LandmarkFileError(f"{path}: landmark columns beyond the 68 of dlib/iBUG order "
                                f"({beyond[0]}, {len(beyond)} in all): another point scheme; "
                                f"convert it to 68 points first. Needed: {NEEDED}")
    missing = [f"{axis}_{k}" for k in range(NUM_LANDMARKS) for axis in "xy"
               if (k, axis) not in found]
    if missing:
        three_d = sorted({name[0] for name in header if _3D_PATTERN.fullmatch(name)})
        has = (f"{', '.join(f'{a}_0..{a}_67' for a in three_d)} (OpenFace's 3-D landmarks, "
               f"in mm; run FeatureExtraction with -2Dfp for the 2-D ones)" if three_d
               else f"{len(found)} of the 136 2-D landmark columns (first missing: "
               f"{missing[0]})")
        separated = ([f"; its header looks {sep!r}-separated: save it comma-separated, with "
                      f"'.' decimals" for sep in (";", "\t") if len(header) < 3
                      and sep in "".join(header)][:1])
        raise LandmarkFileError(f"{path}: no 2-D landmark columns: found {has}; needed {NEEDED}"
                                + "".join(separated))
    return np.array([[found[(k, "x")], found[(k, "y")]] for k in range(NUM_LANDMARKS)])


def _read_track_csv(path: str, rows: list[_Row], frames: list[int], times: np.ndarray,
                    cuts: list[int], settings: FileSettings) -> LandmarkFile:
    """Our own CSV's rows (`TRACK_CSV_COLUMNS`), one per frame of the recording's
    even time grid: each is placed by its timestamp, on the grid of the median
    time between rows, so that rows removed (say, the unreliable ones) leave
    frames without a face and rows out of order are put back in order. Its
    `frame` column does not place rows: it names the input's frame, which
    repeats where the input was resampled. `cuts` are the rows with `cut` 1.
    Timestamps off that grid (edited by hand) leave the rows in file order and
    the times to `timebase.conform`, which resamples or refuses them."""
    steps = np.diff(np.sort(times))
    period = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
    # The CLI's times start at 0: a later first time is rows removed from the
    # start, whose places stay (as many as the file has rows, at most).
    start = 0.0 if times.min() <= len(rows) * period else times.min()
    places = np.round((times - start) / period).astype(int)
    if np.abs(times - start - places * period).max() > 0.25 * period:
        found = _assemble(path, rows, None, times, settings)
        found.first_frame, found.own_times, found.cuts = frames[0], True, tuple(cuts)
        return found
    order = np.argsort(places, kind="stable")
    twice = np.flatnonzero(np.diff(places[order]) == 0)
    if twice.size:
        a, b = sorted(order[twice[0]:twice[0] + 2])
        raise LandmarkFileError(
            f"{path}: lines {rows[a].line} and {rows[b].line} are one frame (timestamps "
            f"{times[a]:.6f} and {times[b]:.6f} s, frames {period:.6g} s apart): each frame of "
            f"the landmark CLI's CSV is one row")
    found = _assemble(path, rows, places.tolist(), times, settings, first=0)
    if (np.diff(places) < 0).any():
        found.notes.append("rows out of time order: each placed by its timestamp")
    found.first_frame, found.own_times = frames[int(np.argmin(times))], True
    found.cuts = tuple(sorted(int(places[r]) for r in cuts))
    return found


def _assemble(path: str, rows: list[_Row], frames: list[int] | None,
              times: np.ndarray | None, settings: FileSettings,
              first: int | None = None) -> LandmarkFile:
    """Rows -> one face per frame, on the file's own frame numbers, from
    `first` (default: the smallest)."""
    notes = []
    if frames is None:
        frames = list(range(len(rows)))
        first = 0
    else:
        order = np.argsort(frames, kind="stable")
        rows, frames = [rows[k] for k in order], [frames[k] for k in order]
        times = None if times is None else times[order]
        first = frames[0] if first is None else first
    count = frames[-1] - first + 1
    by_frame: dict[int, list[int]] = {}
    for r, frame in enumerate(frames):
        by_frame.setdefault(frame - first, []).append(r)
    crowded = sorted(k + first for k, members in by_frame.items() if len(members) > 1)
    face = str(settings.face).strip()
    if crowded and face == "single":
        raise LandmarkFileError(
            f"{path}: several faces in {len(crowded)} frames ({_frame_list(crowded)}): pass "
            f"--face=auto (the face tracked from frame to frame) or --face=<face id>")
    if face not in FACE_CHOICES:
        ids = sorted({row.face_id for row in rows if row.face_id is not None})
        if not ids:
            raise LandmarkFileError(f"{path}: --face={face}, but the file has no face id column "
                                    f"({' or '.join(_FACE_COLUMNS)})")
        if not any(_same_id(i, face) for i in ids):
            raise LandmarkFileError(f"{path}: no face {face} in the file; its face ids: "
                                    f"{', '.join(ids[:10])}")
    points = np.full((count, NUM_LANDMARKS, 2), np.nan)
    frame_times = None if times is None else np.full(count, np.nan)
    # Only our own CSV's rows carry a reliability (NaN in every other file's).
    reliability = (np.zeros(count) if any(np.isfinite(row.reliability) for row in rows)
                   else None)
    previous = None
    for k in range(count):
        members = by_frame.get(k, [])
        if face not in FACE_CHOICES:
            members = [r for r in members if _same_id(rows[r].face_id, face)]
        if frame_times is not None and members:
            frame_times[k] = times[members[0]]
        usable = [r for r in members if rows[r].ok and np.isfinite(rows[r].points).all()]
        if not usable:
            continue
        chosen = min(usable, key=lambda r: _distance(rows[r].points, previous)) \
            if previous is not None else max(usable, key=lambda r: _size(rows[r]))
        points[k] = previous = rows[chosen].points
        if reliability is not None:
            reliability[k] = np.clip(np.nan_to_num(rows[chosen].reliability), 0, 1)
    absent = sorted(set(range(count)) - set(by_frame))
    if absent:
        notes.append(f"the file has no row for {len(absent)} frames "
                     f"({_frame_list([k + first for k in absent])}): counted as without a face")
    if crowded and face == "auto":
        notes.append(f"several faces in {len(crowded)} frames ({_frame_list(crowded)}): took the "
                     f"one tracked from the frame before (or the largest)")
    elif crowded:
        notes.append(f"face {face} taken in frames with several ({_frame_list(crowded)})")
    return LandmarkFile(points, frame_times, first, notes, reliability)


def _size(row: _Row) -> float:
    if row.area is not None and np.isfinite(row.area):
        return row.area
    return float(np.prod(np.ptp(row.points, axis=0)))


def _distance(points: np.ndarray, previous: np.ndarray) -> float:
    return float(np.linalg.norm(points.mean(axis=0) - previous.mean(axis=0)))


def _same_id(cell: str | None, wanted: str) -> bool:
    if cell is None:
        return False
    if cell == wanted:
        return True
    try:
        return float(cell) == float(wanted)
    except ValueError:
        return False


def _frame_list(frames: list[int], shown: int = 8) -> str:
    text = ", ".join(map(str, frames[:shown]))
    return text + (f" and {len(frames) - shown} more" if len(frames) > shown else "")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: str, line: int, text: str) -> float:
    text = text.strip()
    if not text:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise LandmarkFileError(f"{path}, line {line}: {text!r} is not a number") from None


def _whole(path: str, column: str, line: int, value: float) -> int:
    if not np.isfinite(value) or value != int(value):
        raise LandmarkFileError(f"{path}, line {line}: frame number {column}={value} is not a "
                                f"whole number")
    return int(value)
