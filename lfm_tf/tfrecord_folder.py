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
import os
from collections.abc import Iterable, Mapping, Sequence

from lfm_tf import features, files, records
from lfm_tf.datasets.base import Clip, ReadResult

MANIFEST = "manifest.json"
PARTS = ".parts"
# What every manifest holds, and every entry of its "files".
MANIFEST_KEYS = ("dataset", "folder", "classes", "settings", "files", "counts", "skipped")
FILE_KEYS = ("subject", "records", "sha256")


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
        with files.atomic_path(path) as tmp:
            records.write_file(tmp, (encoded for _, encoded in good))
        receipt.update(file=name, sha256=files.sha256(path), bytes=os.path.getsize(path))
    parts = os.path.join(folder, PARTS)
    os.makedirs(parts, exist_ok=True)
    files.write_json(os.path.join(parts, f"{subject}.json"), receipt)
    return receipt


def complete_receipt(folder: str, subject: str, clip_ids: list[str],
                      settings_hash: str) -> dict | None:
    """The subject's receipt if its output is complete and valid, else None."""
    path = os.path.join(folder, PARTS, f"{subject}.json")
    try:
        receipt = files.read_json(path, ("settings", "clips", "file", "sha256", "skipped"))
        if receipt["file"] is not None:
            files.inside(folder, receipt["file"], path)
    except (OSError, ValueError):
        return None  # absent or damaged: the subject is done again
    if receipt.get("settings") != settings_hash or receipt.get("clips") != sorted(clip_ids):
        return None
    if receipt.get("file") is not None:
        file = os.path.join(folder, receipt["file"])
        if not os.path.isfile(file) or files.sha256(file) != receipt.get("sha256"):
            return None
    return receipt


def assemble_manifest(dataset: str, folder: str, result: ReadResult, settings: dict,
                      settings_hash: str, by_subject: Mapping[str, Sequence[Clip]]) -> dict:
    """The manifest of `folder` from its subjects' receipts: every file with its
    record count and checksum, the counts per class, the settings, every clip
    not used (the reader's and the pipeline's) with the reason, and `notes` on clips
    kept despite frames that could not be read.

    Raises ValueError naming the subjects that have no complete receipt.
    """
    written, skipped, notes, missing = {}, [], [], []
    per_class = collections.Counter()
    for subject, clips in sorted(by_subject.items()):
        receipt = complete_receipt(folder, subject, [c.clip_id for c in clips], settings_hash)
        if receipt is None:
            missing.append(subject)
            continue
        skipped.extend(receipt["skipped"])
        notes.extend(receipt.get("notes", ()))
        if receipt["file"]:
            written[receipt["file"]] = {k: receipt[k]
                                        for k in ("subject", "records", "sha256", "bytes")}
        bad = {s["clip"] for s in receipt["skipped"]}
        per_class.update(c.label for c in clips if c.name not in bad)
    if missing:
        raise ValueError(f"{folder}: subjects not written (the pipeline failed for them): "
                         f"{', '.join(missing)}; run again to resume")
    return {
        "dataset": dataset,
        "folder": folder,
        "classes": list(result.spec.classes),
        "settings": settings,
        "files": written,
        "counts": {
            "clips": sum(f["records"] for f in written.values()),
            "subjects": len(written),
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


def write_manifest(folder: str, manifest: dict) -> None:
    files.write_json(os.path.join(folder, MANIFEST), manifest)


def load_manifest(folder: str) -> dict:
    """The manifest of an output folder, checked: `MANIFEST_KEYS` there, every file
    entry complete, every file name inside `folder` (`files.inside`).

    Raises FileNotFoundError when it is absent and ValueError when it is not
    JSON, lacks a key or names a file outside the folder, each saying what to do.
    """
    path = os.path.join(folder, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {MANIFEST} in {folder}: run `python -m lfm_tf.preprocess` first")
    redo = "run `python -m lfm_tf.preprocess` again to rewrite it"
    manifest = files.read_json(path, MANIFEST_KEYS, redo)
    if not isinstance(manifest["files"], dict):
        raise ValueError(f"{path}: its \"files\" is not an object: {redo}")
    for name, entry in manifest["files"].items():
        files.inside(folder, name, path)
        if not isinstance(entry, dict) or any(k not in entry for k in FILE_KEYS):
            raise ValueError(f"{path}: the entry of {name} lacks one of {', '.join(FILE_KEYS)}: "
                             f"{redo}")
    return manifest


def verify(folder: str) -> list[str]:
    """Problems with an output folder: files missing, altered or truncated versus
    the manifest. An empty list means every file is whole."""
    manifest = load_manifest(folder)
    problems = []
    for name, entry in manifest["files"].items():
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            problems.append(f"{name}: missing")
        elif files.sha256(path) != entry["sha256"]:
            problems.append(f"{name}: checksum differs from the manifest (altered or truncated)")
    return problems


def iter_records(folder: str) -> Iterable[records.ClipRecord]:
    """Every clip of an output folder, subject by subject."""
    for name in sorted(load_manifest(folder)["files"]):
        yield from records.read_file(os.path.join(folder, name))
