"""The synthetic dataset on pixels: the motion of `synthetic.generate` carried onto a
real photograph and written as files in the layouts of CASME II and CK+, so that
the dlib path (detector, shape predictor, frame and spreadsheet reading) runs on
pixels whose landmark motion is known.

`render` writes the CASME II layout, `render_ckplus` CK+'s; `render_once` is what
`synthetic.read(..., render=True)` calls. The face is scikit-image's astronaut
(`photo`), moved by a piecewise-affine warp (`PiecewiseAffineWarp`), then seen
through an ordinary camera (`Camera`: sensor noise, brightness flicker, JPEG),
because clean renders flatter every landmark method.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import zlib
from collections.abc import Sequence

import numpy as np

from lfm_tf.datasets import specs
from lfm_tf.datasets.base import Clip
from lfm_tf.datasets.synthetic import IMAGE_SIZE, SyntheticClip

# Ear-to-ear width (landmarks 1 to 17) of the astronaut in rendered frames, px.
RENDER_FACE_WIDTH = 220.0
# CASME II clips start at arbitrary frame numbers (EP02_01f begins at img46).
# Starting at 91 also crosses from two to three digits inside every clip, so a
# reader that sorts file names lexically, or takes annotated frame numbers for
# positions, fails on rendered data as it would on the real one.
FIRST_FRAME = 91
RAW_FOLDER = "CASME2_RAW_selected"
CODING_FILE = "CASME2-coding-20190701.xlsx"
CODING_HEADER = ("Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame",
                 None, "Action Units", "Estimated Emotion")

# Synthetic class -> the CASME II "Estimated Emotion" word written for it. CASME II
# has no anger or contempt; contempt's unilateral AU14 is how CASME II codes most
# "repression" clips, anger goes to "others".
CASME2_EMOTIONS: dict[str, str] = {
    "negative": "disgust", "positive": "happiness", "surprise": "surprise",
    "anger": "others", "contempt": "repression", "disgust": "disgust", "fear": "fear",
    "happy": "happiness", "sadness": "sadness",
}


@dataclasses.dataclass(frozen=True)
class Camera:
    """How rendered frames are degraded on their way to disk, as by an ordinary camera.

    The defaults are what a high-speed lab camera gives (CASME II, SAMM): landmark
    methods that only work on clean renders do not work on real clips.

    Attributes:
      sensor_noise: std of the Gaussian noise added to every pixel, grey levels.
      flicker: std of the per-frame brightness gain around 1 (lights at mains
        frequency beating with the frame rate).
      jpeg_quality: OpenCV's JPEG quality, 0-100 (PNG frames are lossless).
      eye_distance: the distance between the eye centres in the written frames,
        px; frames are scaled to it (about 70 px in CASME II's cropped faces).
        None keeps the photo's (`RENDER_FACE_WIDTH` ear to ear, about 90 px).
      frame_size: (width, height) of the written frames, px, for a camera of
        more pixels than `IMAGE_SIZE`: the photo is taken that large, its face
        scaled with the height (so SAMM's 2040x1088 shows it about 500 px ear
        to ear), warped and seen by the camera at that size, not upscaled
        from a small render. None: `IMAGE_SIZE`. Not with `eye_distance`.
      seed: the noise of frame k of a clip draws from (seed, clip id, k).
    """

    sensor_noise: float = 3.0
    flicker: float = 0.01
    jpeg_quality: int = 85
    eye_distance: float | None = None
    frame_size: tuple[int, int] | None = None
    seed: int = 0

    def __post_init__(self):
        if self.sensor_noise < 0 or self.flicker < 0 or not 0 <= self.jpeg_quality <= 100:
            raise ValueError(f"sensor_noise and flicker must be >= 0 and jpeg_quality in "
                             f"[0, 100], got {self}")
        if self.eye_distance is not None and self.eye_distance <= 0:
            raise ValueError(f"eye_distance must be positive, got {self.eye_distance}")
        if self.frame_size is not None:
            if self.eye_distance is not None:
                raise ValueError("a camera takes eye_distance or frame_size, not both")
            # Tuples, also when read back from JSON: the camera is part of render stamps.
            object.__setattr__(self, "frame_size", tuple(int(v) for v in self.frame_size))
            if len(self.frame_size) != 2 or min(self.frame_size) < 64:
                raise ValueError(f"frame_size must be (width, height) of at least 64 px, got "
                                 f"{self.frame_size}")

    def photo(self) -> tuple[np.ndarray, np.ndarray]:
        """The photo this camera renders on, and its landmarks (`photo`)."""
        return photo() if self.frame_size is None else photo(self.frame_size)

    def scale(self, anchor: np.ndarray) -> float:
        """How much frames showing the photo's `anchor` landmarks are resized."""
        if self.eye_distance is None:
            return 1.0
        return self.eye_distance / float(np.linalg.norm(
            anchor[42:48].mean(0) - anchor[36:42].mean(0)))


# The camera of an ideal render: what the project used before issue 10.
CLEAN_CAMERA = Camera(sensor_noise=0.0, flicker=0.0, jpeg_quality=95)


@functools.lru_cache(maxsize=2)
def photo(size: tuple[int, int] = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The face that rendered clips show, and its 68 landmarks as the pipeline finds them.

    scikit-image's astronaut in greyscale, scaled so that her face is
    `RENDER_FACE_WIDTH` wide at `IMAGE_SIZE` (and as much wider as `size` is
    taller) and cropped to `size` (width, height) around it.
    Raises ValueError for a size larger than the scaled photo.
    """
    # Rendering alone needs OpenCV, dlib and scikit-image; the in-memory data does not.
    import cv2
    from skimage import data

    from lfm_tf.landmarks import LandmarkExtractor, LandmarkSettings

    def landmarks(image: np.ndarray, settings: LandmarkSettings) -> np.ndarray:
        points = LandmarkExtractor(settings).detect(image)
        if points is None:
            raise RuntimeError("dlib found no face in scikit-image's astronaut")
        return points.astype(np.float64)

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    # Her face is about 90 px wide in the 512x512 original: upsample to find it.
    points = landmarks(grey, LandmarkSettings(upsample=1))
    width, height = size
    face_width = RENDER_FACE_WIDTH * height / IMAGE_SIZE[1]
    scale = face_width / np.linalg.norm(points[16] - points[0])
    big = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if big.shape[1] < width or big.shape[0] < height:
        raise ValueError(f"the photo, scaled to a {face_width:.0f} px face, is "
                         f"{big.shape[1]}x{big.shape[0]}: smaller than frames of {width}x{height}")
    cx, cy = (points.min(0) + points.max(0)) / 2 * scale
    x0 = int(np.clip(round(cx - width / 2), 0, big.shape[1] - width))
    y0 = int(np.clip(round(cy - height / 2), 0, big.shape[0] - height))
    image = np.ascontiguousarray(big[y0:y0 + height, x0:x0 + width])
    # Found again at the final scale: what the landmark step sees in frame 1.
    anchor = landmarks(image, LandmarkSettings())
    # Cached and shared by every caller: nobody may change them.
    image.flags.writeable = anchor.flags.writeable = False
    return image, anchor


class PiecewiseAffineWarp:
    """Moves an image's landmarks to new places, dragging the pixels along.

    A Delaunay triangulation of the landmarks plus fixed points on the image
    border is made once; each call maps every output pixel back into the source
    through the affine map of the output triangle it falls in (triangles
    rasterized with OpenCV, one `cv2.remap` for the whole image): about 6 ms for
    a 640x480 frame on one CPU core.
    """

    def __init__(self, image: np.ndarray, landmarks: np.ndarray):
        from scipy.spatial import Delaunay

        self.image = image
        h, w = image.shape[:2]
        xs, ys = (0, (w - 1) / 2, w - 1), (0, (h - 1) / 2, h - 1)
        # Corners and edge midpoints stay put: the warp fades out towards the border.
        self.border = np.array([(x, y) for x in xs for y in ys if (x, y) != (xs[1], ys[1])])
        self.source = np.vstack([landmarks, self.border]).astype(np.float32)
        self.triangles = Delaunay(self.source).simplices
        self.ys, self.xs = np.mgrid[0:h, 0:w].astype(np.float32)

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        import cv2

        target = np.vstack([landmarks, self.border]).astype(np.float32)
        owner = np.zeros(self.image.shape[:2], np.int32)
        back = np.empty((len(self.triangles), 2, 3), np.float32)
        for t, corners in enumerate(self.triangles):
            back[t] = cv2.getAffineTransform(target[corners], self.source[corners])
            # 4 fractional bits: triangle edges land within 1/16 px of the points.
            cv2.fillConvexPoly(owner, np.round(target[corners] * 16).astype(np.int32), t,
                               shift=4)
        a = back[owner]
        map_x = a[..., 0, 0] * self.xs + a[..., 0, 1] * self.ys + a[..., 0, 2]
        map_y = a[..., 1, 0] * self.xs + a[..., 1, 1] * self.ys + a[..., 1, 2]
        return cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)


def motion_on_photo(track: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Carry a track's motion onto other landmarks: anchor + s R (track - track[0]).

    s and R are the scale and rotation of the least-squares similarity that maps
    the track's first frame onto `anchor` (Umeyama 1991), so the motion keeps its
    size relative to the face and its direction relative to the face's axes.
    """
    first = np.asarray(track[0], np.float64)
    src = first - first.mean(0)
    dst = anchor - anchor.mean(0)
    u, sigma, vt = np.linalg.svd(dst.T @ src)
    flip = np.array([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ np.diag(flip) @ vt
    scale = (sigma * flip).sum() / (src**2).sum()
    return anchor + scale * (np.asarray(track, np.float64) - first) @ rotation.T


def _subject_number(subject: str) -> int:
    match = re.fullmatch(r"p(\d+)", subject)
    if match is None:
        raise ValueError(f"not a synthetic subject id: {subject!r}")
    return int(match.group(1))


def _clip_folder(clip: Clip, out_dir: str) -> str:
    return os.path.join(out_dir, RAW_FOLDER, f"sub{_subject_number(clip.subject):02d}",
                        clip.clip_id)


def _file_number(frame: int | None, first_frame: int) -> int | None:
    return None if frame is None else first_frame + frame - 1


def _frame_paths(clip: Clip, out_dir: str, first_frame: int) -> tuple[str, ...]:
    folder = _clip_folder(clip, out_dir)
    return tuple(os.path.join(folder, f"img{first_frame + i}.jpg")
                 for i in range(len(clip.landmarks)))


def _as_rendered(clip: SyntheticClip, out_dir: str) -> SyntheticClip:
    return dataclasses.replace(
        clip, landmarks=None, frames=_frame_paths(clip, out_dir, FIRST_FRAME),
        onset=_file_number(clip.onset, FIRST_FRAME), apex=_file_number(clip.apex, FIRST_FRAME),
        offset=_file_number(clip.offset, FIRST_FRAME))


def _write_coding(clips: Sequence[Clip], path: str, first_frame: int) -> None:
    """The coding spreadsheet, columns as in CASME II's 2019 release."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(CODING_HEADER)
    for clip in clips:
        code = clip.action_units if isinstance(clip, SyntheticClip) else ""
        sheet.append([
            _subject_number(clip.subject), clip.clip_id, None,
            _file_number(clip.onset, first_frame), _file_number(clip.apex, first_frame),
            _file_number(clip.offset, first_frame), None,
            # CASME II stores a single AU as a number, combinations as text.
            int(code) if code.isdigit() else code,
            CASME2_EMOTIONS[clip.label],
        ])
    book.save(path)


def render(clips: Sequence[Clip], out_dir: str, *, camera: Camera = Camera(),
           first_frame: int = FIRST_FRAME) -> dict[str, np.ndarray]:
    """Render clips as greyscale JPEG frames of a real face, in the CASME II layout.

    Writes `out_dir/CASME2_RAW_selected/sub<NN>/<clip_id>/img<k>.jpg` (subject
    "p07" -> "sub07", k from `first_frame` on) and `out_dir/CASME2-coding-20190701.xlsx`
    with CASME II's columns: Subject (integer) | Filename | blank | OnsetFrame |
    ApexFrame | OffsetFrame | blank | Action Units | Estimated Emotion (see
    `CASME2_EMOTIONS`). Frames a previous render left in a clip's folder are
    removed; other clips' folders are left alone.

    Each clip's motion relative to its first frame is carried onto the
    astronaut's landmarks (`motion_on_photo`) and the photo is warped along
    (`PiecewiseAffineWarp`); frame 1 is the photo itself, seen by `camera`
    (noise, flicker, JPEG quality, size: `Camera`). The CASME II reader
    takes frames to be 200 fps: generate at `fps=200.0` for a faithful stand-in
    (`read(..., render=True)` keeps the clips' own rate).

    Returns:
      clip_id -> (N, 68, 2) float32 true landmarks in the rendered frames.
    """
    image, anchor = camera.photo()
    warp = PiecewiseAffineWarp(image, anchor)
    truth = {}
    for clip in clips:
        folder = _clip_folder(clip, out_dir)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if re.fullmatch(r"img\d+\.jpg", name):
                os.remove(os.path.join(folder, name))
        truth[clip.clip_id] = _render_frames(clip, _frame_paths(clip, out_dir, first_frame),
                                             warp, anchor, camera)
    _write_coding(clips, os.path.join(out_dir, CODING_FILE), first_frame)
    return truth


def _render_frames(clip: Clip, paths: Sequence[str], warp: PiecewiseAffineWarp,
                   anchor: np.ndarray, camera: Camera) -> np.ndarray:
    """Write a clip's motion, carried onto the photo (whose landmarks are `anchor`)
    and seen by `camera`, as one image per path; returns the (N, 68, 2) float32
    landmarks of the written frames."""
    import cv2

    if clip.landmarks is None:
        raise ValueError(f"{clip.name}: only clips with landmarks can be rendered")
    track = motion_on_photo(clip.landmarks, anchor)
    scale = camera.scale(anchor)
    height, width = warp.image.shape[:2]
    size = (round(width * scale), round(height * scale))
    # Pixel centres: pixel q of the resized frame covers [q, q + 1) / scale.
    factor = np.array(size, np.float64) / (width, height)
    params = [cv2.IMWRITE_JPEG_QUALITY, camera.jpeg_quality]
    for k, (path, points) in enumerate(zip(paths, track)):
        image = warp(points)
        if size != (width, height):
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        rng = np.random.default_rng((camera.seed, zlib.crc32(clip.clip_id.encode()), k))
        gain = 1.0 + camera.flicker * rng.standard_normal()
        noisy = image * gain + camera.sensor_noise * rng.standard_normal(image.shape)
        image = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
        if not cv2.imwrite(path, image, params):
            raise OSError(f"could not write {path}")
    return ((track + 0.5) * factor - 0.5).astype(np.float32)


def render_ckplus(clips: Sequence[Clip], out_dir: str, *, camera: Camera = Camera()
                  ) -> dict[str, tuple[str, str]]:
    """Render clips of the CK+ class set as a tree in CK+'s layout, neutral to peak.

    CK+ sequences run from a neutral face to the peak of the expression, so each
    clip is cut at its apex. Clip k of subject "p07" becomes sequence k (in clip
    id order) of subject "S007": PNG frames
    `cohn-kanade-images/S007/001/S007_001_00000001.png` onwards, one landmark
    file per frame under `Landmarks/` (the true landmarks of the rendered frame,
    tracker noise included, in CK+'s number format: they stand in for CK+'s
    AAM landmarks) and the emotion file `Emotion/S007/001/S007_001_<peak>_emotion.txt`
    with the class's code (1 anger .. 7 surprise). Frames are greyscale 640x480
    (unless `camera` resizes them), seen by `camera` and written losslessly.
    Files a previous render left in those sequence folders are removed.

    Returns:
      clip_id -> (subject, sequence) as written.
    """
    image, anchor = camera.photo()
    warp = PiecewiseAffineWarp(image, anchor)
    written, counts = {}, {}
    for clip in sorted(clips, key=lambda c: (c.subject, c.clip_id)):
        if clip.label not in specs.CKPLUS_CLASSES or clip.apex is None:
            raise ValueError(f"{clip.name}: CK+ trees need CK+ classes and an apex, got "
                             f"{clip.label!r}, apex {clip.apex}")
        subject = f"S{_subject_number(clip.subject):03d}"
        counts[subject] = counts.get(subject, 0) + 1
        sequence = f"{counts[subject]:03d}"
        stems = [f"{subject}_{sequence}_{n:08d}" for n in range(1, clip.apex + 1)]
        folders = {part: os.path.join(out_dir, part, subject, sequence)
                   for part in ("cohn-kanade-images", "Landmarks", "Emotion")}
        for folder in folders.values():
            # A previous render's files would be read as part of this sequence.
            os.makedirs(folder, exist_ok=True)
            for name in os.listdir(folder):
                os.remove(os.path.join(folder, name))
        peak = dataclasses.replace(clip, landmarks=clip.landmarks[:clip.apex])
        paths = [os.path.join(folders["cohn-kanade-images"], f"{s}.png") for s in stems]
        track = _render_frames(peak, paths, warp, anchor, camera)
        for stem, points in zip(stems, track):
            with open(os.path.join(folders["Landmarks"], f"{stem}_landmarks.txt"), "w") as f:
                f.writelines(f"   {x:.7e}   {y:.7e}\n" for x, y in points)
        code = specs.CKPLUS_CLASSES.index(clip.label) + 1
        with open(os.path.join(folders["Emotion"], f"{stems[-1]}_emotion.txt"), "w") as f:
            f.write(f"   {code:.7e}\n")
        written[clip.clip_id] = (subject, sequence)
    return written


RENDER_STAMP = ".synthetic-render.json"


def render_once(clips: Sequence[SyntheticClip], out_dir: str, options: dict,
                camera: Camera = Camera()) -> list[SyntheticClip]:
    """`render` the clips into `out_dir` with `camera` unless an identical render (same
    generator `options` and camera, every frame on disk) is already there; returns
    the clips pointing at their JPEG frames, onset, apex and offset as file-name
    numbers."""
    # Rendering takes ~10 ms a frame and gives new file times, which would void
    # the landmark cache: an identical render already on disk is kept.
    stamp = os.path.join(out_dir, RENDER_STAMP)
    wanted = json.dumps({"options": options, "first_frame": FIRST_FRAME,
                         "camera": dataclasses.asdict(camera)}, sort_keys=True)
    if not _rendered_already(stamp, wanted, clips, out_dir):
        render(clips, out_dir, camera=camera)
        with open(stamp, "w") as f:
            f.write(wanted)
    return [_as_rendered(clip, out_dir) for clip in clips]


def _rendered_already(stamp: str, wanted: str, clips: Sequence[Clip], out_dir: str) -> bool:
    """Whether `out_dir` holds every frame of a render made with the same options."""
    try:
        with open(stamp) as f:
            if f.read() != wanted:
                return False
    except OSError:
        return False
    return all(os.path.exists(p) for clip in clips
               for p in _frame_paths(clip, out_dir, FIRST_FRAME))
