"""The mixed-expression set of Table 8: each CK+ sequence as its FGE or its FME version.

"randomly sampled in 50:50 from FGE and FME datasets" (Section V-C). Our reading:
every sequence that exists in both sets appears once, as its synthesized FME for
a seeded random half (the smaller half when the count is odd) and as the
original FGE for the rest, so the mixed set has the subjects, labels and size of
the FGE set and the same subject-independent folds apply. Each clip keeps its
source as its dataset ("ckplus_fge" or "ckplus_fme"), so reports can score the
two halves apart.
"""

from __future__ import annotations

import numpy as np

from lfm_tf.table8 import ckplus_fge, ckplus_fme
from lfm_tf.datasets.base import ReadResult
from lfm_tf.datasets.specs import get_spec

NAME = "ckplus_mixed"


def read(data_dir: str | None, fme_dir: str | None = None, landmarks: str = "dlib",
         seed: int = 0) -> ReadResult:
    """Args:
      data_dir: CK+ (the FGE set).
      fme_dir: the FME tree synthesized from it.
      landmarks: "dlib" or "provided", for both.
      seed: seed of the 50:50 draw.
    """
    if not fme_dir:
        raise ValueError(f"{NAME} needs the synthesized FME tree too: pass --fme_dir")
    fge = ckplus_fge.read(data_dir, landmarks)
    fme = ckplus_fme.read(fme_dir, landmarks)
    by_key = {"fge": {(c.subject, c.clip_id): c for c in fge.clips},
              "fme": {(c.subject, c.clip_id): c for c in fme.clips}}
    both = sorted(set(by_key["fge"]) & set(by_key["fme"]))
    skipped = fge.skipped + fme.skipped
    for kind, other in (("fge", "fme"), ("fme", "fge")):
        skipped += [(f"{NAME}/{s}/{c}", f"in the {kind.upper()} set but not in the "
                     f"{other.upper()} set") for s, c in sorted(set(by_key[kind]) - set(both))]
    order = np.random.default_rng(seed).permutation(len(both))
    as_fme = {both[k] for k in order[:len(both) // 2]}
    clips = [by_key["fme" if key in as_fme else "fge"][key] for key in both]
    return ReadResult(get_spec(NAME), clips, skipped)
