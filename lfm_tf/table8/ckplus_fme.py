"""The facial micro-expressions (FME) synthesized from CK+ for Table 8.

`python -m lfm_tf.synthesize_fme` (library: `lfm_tf.table8.fme.synthesize`) writes them as
a tree in CK+'s own layout: per labelled sequence, 12 frames
`cohn-kanade-images/S005/001/S005_001_00000001.png` .. `..._00000012.png`, their
interpolated landmark files under `Landmarks/`, the emotion file under `Emotion/`
(named after frame 12), and `fme.csv` beside them, which records for every
sequence the onset used, the source frames and the SFEM of both versions. This
reader reads that tree like CK+, keeping the sequences fme.csv lists: a folder it
does not list (left by an earlier synthesis that could use more sequences) is
skipped by name.
"""

from __future__ import annotations

import csv
import os

from lfm_tf.datasets.base import ReadResult
from lfm_tf.table8.ckplus_fge import read_tree

NAME = "ckplus_fme"
# Written by the synthesis beside cohn-kanade-images/; its presence marks an FME tree.
RECORD_FILE = "fme.csv"


def read(data_dir: str | None, landmarks: str = "dlib") -> ReadResult:
    """The synthesized FME tree in `data_dir`."""
    if not data_dir or not os.path.isfile(os.path.join(data_dir, RECORD_FILE)):
        raise ValueError(f"{data_dir!r} holds no synthesized FME set (no {RECORD_FILE}): run "
                         f"`python -m lfm_tf.synthesize_fme --data_dir=<CK+> --out_dir={data_dir}`")
    with open(os.path.join(data_dir, RECORD_FILE), newline="") as f:
        listed = {(row["subject"], row["sequence"]) for row in csv.DictReader(f)}
    found = read_tree(NAME, data_dir, landmarks)
    found.skipped += [(c.name, f"not listed in {RECORD_FILE}") for c in found.clips
                      if (c.subject, c.clip_id) not in listed]
    found.clips = [c for c in found.clips if (c.subject, c.clip_id) in listed]
    return found
