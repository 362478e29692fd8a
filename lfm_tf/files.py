"""Files on disk, defined once for every module that writes or reads them: written
whole or not at all, checked when read, and kept inside their folder.

  writing   `atomic_path` / `atomic_write` / `write_json`: every output goes to a
            temporary name beside its final one and is renamed only once whole,
            so a crash, a full disk or a kill leaves either the old file or the
            new one, never a truncated one under the final name; the temporary
            file is removed when the write fails, so a rerun after the disk is
            freed starts clean.
  reading   `read_json`: a JSON file that is missing, not JSON, not an object or
            lacking keys raises ValueError naming the file and what to do.
  checking  `sha256`: the checksum of a file or of a folder's tree (exports and
            caches record it and verify it on reading).
  confining `inside`: a file name read from a file (model.json, manifest.json)
            resolved against its folder, refused when it leads outside it
            (`..`, an absolute path, a symbolic link out).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path in `path`'s folder, with `path`'s extension (Keras and
    NumPy insist on theirs), renamed to `path` when the block ends without an
    exception and removed (file or folder) when it raises.

    Raises whatever the block raises (OSError for a full disk, a read-only folder).
    """
    path = os.fspath(path)
    if os.path.isdir(path) and os.listdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    root, ext = os.path.splitext(path)
    tmp = f"{root}.tmp-{uuid.uuid4().hex[:8]}{ext}"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        if err.filename in (None, tmp):
            # Name the file the user asked for, not our temporary one.
            raise type(err)(err.errno, err.strerror, path) from None
        raise
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write `data` (str as UTF-8) to `path` whole or not at all (`atomic_path`),
    synced to disk before the rename."""
    if isinstance(data, str):
        data = data.encode()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_json(path: str | os.PathLike, value) -> None:
    """`value` as indented JSON, written atomically."""
    atomic_write(path, json.dumps(value, indent=1))


def read_json(path: str | os.PathLike, keys: Sequence[str] = (), advice: str = "") -> dict:
    """A JSON object from `path`, holding at least `keys`.

    Raises FileNotFoundError if it does not exist and ValueError if it is not a
    JSON object or lacks a key; each message names the file and ends in `advice`.
    """
    path = os.fspath(path)
    tail = f": {advice}" if advice else ""
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist{tail}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}){tail}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} is not a JSON object{tail}")
    lacking = [key for key in keys if key not in value]
    if lacking:
        raise ValueError(f"{path} lacks {', '.join(lacking)}{tail}")
    return value


def load_array(path: str | os.PathLike):
    """A NumPy array from an .npy file, loaded safely (no pickled objects).

    Raises FileNotFoundError if it does not exist and ValueError naming the file
    if it is empty, text, pickled or otherwise not an .npy array.
    """
    import numpy as np  # only readers of .npy files pay for it

    path = os.fspath(path)
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except (ValueError, EOFError, OSError) as err:
        raise ValueError(f"{path} is not a NumPy .npy array (empty, text or pickled: "
                         f"{type(err).__name__}): save the array with numpy.save") from None


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, or of a folder: every file below it by relative
    path (sorted), its name and its bytes, so a renamed, altered, added or
    removed file changes it."""
    path = os.fspath(path)
    digest = hashlib.sha256()
    if os.path.isdir(path):
        names = sorted(os.path.relpath(os.path.join(dirpath, name), path)
                       for dirpath, _, filenames in os.walk(path) for name in filenames)
        for name in names:
            digest.update(name.encode() + b"\0" + sha256(os.path.join(path, name)).encode())
        return digest.hexdigest()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inside(folder: str | os.PathLike, name: str, source: str) -> str:
    """`folder`/`name` for a file name read from `source` (a file in `folder`),
    refused unless it resolves (symbolic links followed) to a path inside
    `folder`: a file must never make us read or load something elsewhere.

    Raises ValueError naming `source` and the name.
    """
    folder = os.fspath(folder)
    if not isinstance(name, str) or not name or os.path.isabs(name):
        raise ValueError(f"{source} names {name!r}, which is not a path inside {folder}: "
                         f"refusing to read outside the folder; restore the file from the "
                         f"program that wrote it")
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(folder, name))
    if os.path.commonpath([root, target]) != root or target == root:
        raise ValueError(f"{source} names {name!r}, which leads outside {folder}: refusing "
                         f"to read outside the folder; restore the file from the program "
                         f"that wrote it")
    return os.path.join(folder, name)


def is_within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether `path` is `folder` or lies inside it, once both are resolved
    (symbolic links followed, even where `path` does not exist yet)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


# ---------------------------------------------------------------- sealed folders


def _fingerprint(info: dict) -> str:
    body = {k: v for k, v in info.items() if k != "fingerprint"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def seal(folder: str | os.PathLike, info: dict) -> dict:
    """`info` (a folder's JSON index, whose "files" maps parts to names in
    `folder`) with "sha256" (name -> `sha256` of each listed file or folder) and
    "fingerprint" (SHA-256 of the whole index) added: `check_seal` then notices
    a part swapped for another's and an index edited by hand (say, its class
    list reordered)."""
    info = json.loads(json.dumps(info, default=str))
    info["sha256"] = {name: sha256(os.path.join(folder, name)) for name in info["files"].values()}
    info["fingerprint"] = _fingerprint(info)
    return info


def check_seal(folder: str | os.PathLike, info: dict, source: str, advice: str) -> None:
    """Raise ValueError, naming `source` (the index file) or the part and ending
    in `advice`, unless `info` is as `seal` left it and every part it lists has
    the checksum recorded there."""
    if "sha256" not in info or "fingerprint" not in info:
        raise ValueError(f"{source} records no checksums (exported by an older version, or "
                         f"written by hand): {advice}")
    if info["fingerprint"] != _fingerprint(info):
        raise ValueError(f"{source} was changed after export (its fingerprint no longer "
                         f"matches its content, e.g. the class list): {advice}")
    for part, name in info["files"].items():
        if sha256(os.path.join(folder, name)) != info["sha256"].get(name):
            raise ValueError(f"{os.path.join(folder, name)} (the {part}) is not the file this "
                             f"export wrote (its sha256 differs from {source}'s): {advice}")
