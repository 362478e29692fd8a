"""CK+ as the facial general-expression (FGE) set of Table 8, frames kept.

The sequences, labels and landmarks of `ckplus`, with two differences:
- the clips belong to dataset "ckplus_fge" (Table 8 trains on them and tests on
  them, on the FME set synthesized from them and on a mix of both);
- with landmarks="provided" each clip keeps its frame images beside its
  landmark files, so that preprocessing can cut the face crops of the
  image-based FER (`preprocess --crops`); the landmarks still come from the files.

`read_tree` serves any tree in the CK+ layout (the FME tree too).
"""

from __future__ import annotations

import dataclasses

from lfm_tf.datasets import ckplus
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import get_spec

NAME = "ckplus_fge"


def read_tree(name: str, data_dir: str | None, landmarks: str = "dlib") -> ReadResult:
    """A CK+-layout tree read by `ckplus.read`, its clips and skipped names under `name`.

    With landmarks="provided" the clips carry both their frames and their
    landmark files; a sequence missing a landmark file is skipped as `ckplus.read`
    skips it (named, with the frames).
    """
    found = ckplus.read(data_dir, landmarks="dlib")
    clips, skipped = found.clips, list(found.skipped)
    if landmarks == "provided":
        provided = ckplus.read(data_dir, landmarks="provided")
        files = {c.name: c.landmark_files for c in provided.clips}
        skipped += [s for s in provided.skipped if s not in found.skipped]
        clips = [dataclasses.replace(c, landmark_files=files[c.name])
                 for c in clips if c.name in files]
    elif landmarks != "dlib":
        raise ValueError(f"{name}: unknown landmarks {landmarks!r}; expected one of "
                         f"{ckplus.LANDMARK_MODES}")
    prefix = "ckplus/"
    return ReadResult(
        get_spec(name), [dataclasses.replace(c, dataset=name) for c in clips],
        [(f"{name}/{n[len(prefix):]}" if n.startswith(prefix) else n, reason)
         for n, reason in skipped])


def read(data_dir: str | None, landmarks: str = "dlib") -> ReadResult:
    """CK+'s labelled sequences as the FGE set (see `ckplus.read` for `data_dir`)."""
    return read_tree(NAME, data_dir, landmarks)
