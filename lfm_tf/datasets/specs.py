"""Facts about each dataset, defined once: class names, frame rate, frame interval
T and the paper's evaluation protocol. Readers, the pipeline, training and the
reports all import them from here.

Counts and layouts are documented in ../shared/DATASETS.md (copied into README).
"""

from __future__ import annotations

import dataclasses

from lfm_tf import features


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What the toolkit needs to know about one dataset.

    Attributes:
      name: registry name (`--dataset=`).
      classes: class names in label-index order (the order of Tables 4 and 5).
      fps: frame rate of the recordings; None where it varies per clip.
      protocol: the paper's evaluation protocol, "loso" or "kfold".
      folds: number of folds for "kfold" (None for "loso": one per subject).
    """

    name: str
    classes: tuple[str, ...]
    fps: float | None
    protocol: str
    folds: int | None = None

    @property
    def frame_interval(self) -> int | None:
        """Default T: round(fps / 25) as in Section V-A (4, 8, 8, 1; 1, 2, 4 for
        CAS(ME)^3, 4DME and MMEW)."""
        return None if self.fps is None else features.frame_interval_for_fps(self.fps)

    def label_index(self, label: str) -> int:
        try:
            return self.classes.index(label)
        except ValueError:
            raise ValueError(
                f"{self.name}: unknown class {label!r}; classes are {list(self.classes)}"
            ) from None


MEGC_CLASSES = ("negative", "positive", "surprise")
CKPLUS_CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")

# CAS(ME)^3's 4-class set (MEB): the three MEGC classes and others.
CASME3_CLASSES = (*MEGC_CLASSES, "others")
CASME3_FPS = 30.0
# 4DME's emotion labels (unverified: MEB reads the column but lists no values).
FOURD_ME_CLASSES = (*MEGC_CLASSES, "repression", "others")
MMEW_CLASSES = ("anger", "disgust", "fear", "happiness", "others", "sadness", "surprise")
# Spotting's two types as the MEGC challenge CSV writes them: micro-, macro-expression.
SPOTTING_TYPES = ("me", "mae")

# SMIC ships three cameras; HS is the one the paper uses.
SMIC_FPS = {"HS": 100.0, "VIS": 25.0, "NIR": 25.0}

SPECS: dict[str, DatasetSpec] = {
    "smic": DatasetSpec("smic", MEGC_CLASSES, fps=SMIC_FPS["HS"], protocol="loso"),
    # The paper's 5-class CASME II set: fear and sadness are dropped.
    "casme2": DatasetSpec(
        "casme2", ("disgust", "happiness", "others", "repression", "surprise"),
        fps=200.0, protocol="loso"),
    "samm": DatasetSpec(
        "samm", ("anger", "contempt", "disgust", "fear", "happiness", "other",
                 "sadness", "surprise"),
        fps=200.0, protocol="loso"),
    "ckplus": DatasetSpec("ckplus", CKPLUS_CLASSES, fps=30.0, protocol="kfold", folds=10),
    # Table 8 (Section V-B/C): CK+ as it is (facial general expressions, FGE), the
    # micro-expressions synthesized from it (FME: 3 onset frames interpolated to 12,
    # lfm_tf.fme) and a seeded 50:50 mix. FME clips keep CK+'s 30 fps, so T = 1 as
    # for the FGE clips the model was trained on.
    "ckplus_fge": DatasetSpec("ckplus_fge", CKPLUS_CLASSES, fps=30.0, protocol="kfold", folds=10),
    "ckplus_fme": DatasetSpec("ckplus_fme", CKPLUS_CLASSES, fps=30.0, protocol="kfold", folds=10),
    "ckplus_mixed": DatasetSpec("ckplus_mixed", CKPLUS_CLASSES, fps=30.0, protocol="kfold",
                                folds=10),
    # MEGC 2019: SMIC-HS, CASME II and SAMM clips keep their own frame rates.
    "composite": DatasetSpec("composite", MEGC_CLASSES, fps=None, protocol="loso"),
    "synthetic": DatasetSpec("synthetic", MEGC_CLASSES, fps=100.0, protocol="loso"),
    # More recognition sets (DATASETS_MORE.md section D; MEB reads them). Each
    # reader's `label_set` picks other classes; these are the default sets.
    # CAS(ME)^3 parts A and C at 30 fps (T = 1): positive, negative, surprise, others.
    "casme3": DatasetSpec("casme3", CASME3_CLASSES, fps=CASME3_FPS, protocol="loso"),
    "casme3_c": DatasetSpec("casme3_c", CASME3_CLASSES, fps=CASME3_FPS, protocol="loso"),
    # 4DME's grey 2-D sequences: 60 fps (T = 2) and its 5 classes are unverified.
    "fourd_me": DatasetSpec("fourd_me", FOURD_ME_CLASSES, fps=60.0, protocol="loso"),
    # MMEW: 90 fps per one public config (T = 4); `others` stays a class.
    "mmew": DatasetSpec("mmew", MMEW_CLASSES, fps=90.0, protocol="loso"),
    # Spotting (issue 14, DATASETS_MORE.md A, B): long videos; the classes are the types.
    "casme_sq": DatasetSpec("casme_sq", SPOTTING_TYPES, fps=30.0, protocol="loso"),
    "samm_lv": DatasetSpec("samm_lv", SPOTTING_TYPES, fps=200.0, protocol="loso"),
    "synthetic_long": DatasetSpec("synthetic_long", SPOTTING_TYPES, fps=30.0, protocol="loso"),
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; expected one of {sorted(SPECS)} or 'folder'"
        ) from None
