"""A preprocessed TFRecord folder, defined once: written by `lfm_tf.pipeline`, read
by `lfm_tf.input_pipeline` (training), `lfm_tf.plots` and the tests.

`<out_dir>/<dataset>/<variant>_T<T>/` holds one `<subject>.tfrecord` per subject
(records as `lfm_tf.records` defines them), `.parts/<subject>.json` per subject
(the receipt: settings hash, clip ids, record count, the file's sha256, the clips
skipped and why) and `manifest.json`, assembled from the receipts: every file with
its record count and checksum, the settings, the counts per class and every clip
not used with the reason, and every clip kept despite frames that could not be read
(`notes`). Every file is written to a temporary name and renamed,
so a reader sees either nothing or the whole file; a subject is complete when its
receipt matches the settings and clip list and its file matches the receipt's
checksum.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence

from lfm_tf import features, records
from lfm_tf.datasets.base import Clip, ReadResult

MANIFEST = "manifest.json"
PARTS = ".parts"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: str, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename: a reader sees
    either nothing or the whole file."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_subject(folder: str, subject: str, results: Sequence[tuple], settings_hash: str) -> dict:
    """Write one subject's file and its receipt, both atomically; returns the receipt.

    `results` holds (clip id, clip name, encoded record or None, note) per clip:
    the note is why a clip was skipped (no record), or what was wrong with a clip
    that was kept (frames that could not be read), or None.
    """
    results = sorted(results, key=lambda r: r[0])
    good = [(clip_id, encoded) for clip_id, _, encoded, _ in results if encoded is not None]
    receipt = {
        "subject": subject,
        "settings": settings_hash,
        "clips": [clip_id for clip_id, *_ in results],
        "records": len(good),
        "file": None,
        "sha256": None,
        "skipped": [{"clip": name, "reason": reason}
                    for _, name, encoded, reason in results if encoded is None],
        "notes": [{"clip": name, "note": note}
                  for _, name, encoded, note in results if encoded is not None and note],
    }
    if good:
        name = f"{subject}.tfrecord"
        path = os.path.join(folder, name)
        tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
        records.write_file(tmp, (encoded for _, encoded in good))
        os.replace(tmp, path)
        receipt.update(file=name, sha256=file_sha256(path), bytes=os.path.getsize(path))
    parts = os.path.join(folder, PARTS)
    os.makedirs(parts, exist_ok=True)
    atomic_write(os.path.join(parts, f"{subject}.json"), json.dumps(receipt, indent=1).encode())
    return receipt


def complete_receipt(folder: str, subject: str, clip_ids: list[str],
                      settings_hash: str) -> dict | None:
    """The subject's receipt if its output is complete and valid, else None."""
    path = os.path.join(folder, PARTS, f"{subject}.json")
    try:
        with open(path) as f:
            receipt = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if receipt.get("settings") != settings_hash or receipt.get("clips") != sorted(clip_ids):
        return None
    if receipt["file"] is not None:
        file = os.path.join(folder, receipt["file"])
        if not os.path.exists(file) or file_sha256(file) != receipt["sha256"]:
            return None
    return receipt


def assemble_manifest(dataset: str, folder: str, result: ReadResult, settings: dict,
                      settings_hash: str, by_subject: Mapping[str, Sequence[Clip]]) -> dict:
    """The manifest of `folder` from its subjects' receipts: every file with its
    record count and checksum, the counts per class, the settings, every clip
    not used (the reader's and the pipeline's) with the reason, and `notes` on clips
    kept despite frames that could not be read.

    Raises RuntimeError naming the subjects that have no complete receipt.
    """
    files, skipped, notes, missing = {}, [], [], []
    per_class = collections.Counter()
    for subject, clips in sorted(by_subject.items()):
        receipt = complete_receipt(folder, subject, [c.clip_id for c in clips], settings_hash)
        if receipt is None:
            missing.append(subject)
            continue
        skipped.extend(receipt["skipped"])
        notes.extend(receipt.get("notes", ()))
        if receipt["file"]:
            files[receipt["file"]] = {k: receipt[k] for k in ("subject", "records", "sha256", "bytes")}
        bad = {s["clip"] for s in receipt["skipped"]}
        per_class.update(c.label for c in clips if c.name not in bad)
    if missing:
        raise RuntimeError(f"subjects not written (the pipeline failed for them): {missing}")
    return {
        "dataset": dataset,
        "folder": folder,
        "classes": list(result.spec.classes),
        "settings": settings,
        "files": files,
        "counts": {
            "clips": sum(f["records"] for f in files.values()),
            "subjects": len(files),
            "per_class": {name: per_class.get(name, 0) for name in result.spec.classes},
        },
        "skipped": [{"clip": name, "reason": reason} for name, reason in result.skipped] + skipped,
        "notes": notes,
    }


def describe(manifest: dict) -> str:
    """A few lines a person reads after a run: what was written, what was not."""
    counts = manifest["counts"]
    per_class = ", ".join(f"{k} {v}" for k, v in counts["per_class"].items())
    lines = [f"{manifest['folder']}: {counts['clips']} clips from {counts['subjects']} "
             f"subjects in {len(manifest['files'])} files ({per_class})",
             f"SFEM per clip: {features.describe_sfem(*sfem_setting(manifest))}"]
    if manifest["skipped"]:
        lines.append(f"{len(manifest['skipped'])} clips skipped:")
        lines.extend(f"  {s['clip']}: {s['reason']}" for s in manifest["skipped"])
    if manifest.get("notes"):
        lines.append(f"{len(manifest['notes'])} clips kept despite:")
        lines.extend(f"  {n['clip']}: {n['note']}" for n in manifest["notes"])
    return "\n".join(lines)


def sfem_setting(manifest: dict) -> tuple[str, str]:
    """(landmarks, form) of the SFEM a folder's records hold. Manifests written
    before the setting was recorded come from records summed over the CLFM
    landmarks, as printed (issue 11)."""
    sfem = manifest["settings"].get("sfem", {"landmarks": "clfm", "form": "printed"})
    return sfem["landmarks"], sfem["form"]


def load_manifest(folder: str) -> dict:
    """The manifest of an output folder, with a message that says what to do if absent."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {MANIFEST} in {folder}: run `python -m lfm_tf.preprocess` first")
    with open(path) as f:
        return json.load(f)


def verify(folder: str) -> list[str]:
    """Problems with an output folder: files missing, altered or truncated versus
    the manifest. An empty list means every file is whole."""
    manifest = load_manifest(folder)
    problems = []
    for name, entry in manifest["files"].items():
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            problems.append(f"{name}: missing")
        elif file_sha256(path) != entry["sha256"]:
            problems.append(f"{name}: checksum differs from the manifest (altered or truncated)")
    return problems


def iter_records(folder: str) -> Iterable[records.ClipRecord]:
    """Every clip of an output folder, subject by subject."""
    for name in sorted(load_manifest(folder)["files"]):
        yield from records.read_file(os.path.join(folder, name))
