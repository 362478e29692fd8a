"""The adaptive framework of Fig. 4 (Section IV-B): SFEM first, then one network.

"if SFEM is first computed for each input video, it is compared with a
pre-determined threshold tau ... we set tau to 0.35": a clip whose SFEM (Eq. 3)
is below tau is a micro-expression and goes to the landmark-map network
(LFM-FER); any other clip goes to the image-based network (I-FER, `lfm_tf.table8.ifer`).
Unlike an ensemble, each clip is seen by exactly one network, so only one runs
per clip.

`classify` is generic over what a clip is (a preprocessed `ClipRecord`, or
whatever an inference tool holds): it takes each clip's SFEM and two callables
that map a list of clips to class probabilities, and calls each callable once,
with only the clips routed to it (not at all when none are). `lfm_fer` and
`i_fer` make those callables from trained Keras models and records.

SFEM sums over all 68 landmarks (`features.SFEM_LANDMARKS`: the paper's M, which
puts CK+-like clips on its scale). As printed it is not scale-invariant, so on
preprocessed CK+ records (Table 8) tau = 0.35 applies to the printed form, and
`predict` routes by the "peak" form (`features.WINDOW_SFEM_FORM`): on a CK+-sized
face, and not summed over maps, so that windows of any length and frame rate
compare with tau (`features.sfem`; README, predict and Table 8, for the
measurements).
`scaled_tau` carries the threshold over to another set by the ratio of its FGE
mean SFEM to the paper's (0.32 / 0.132 = 2.42), from training clips only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TypeVar

import keras
import numpy as np

from lfm_tf import features
from lfm_tf.table8 import ifer
from lfm_tf.records import ClipRecord

TAU = 0.35
LFM_FER = "lfm_fer"
I_FER = "i_fer"
# The paper's mean SFEM of CK+ (FGE): its FME mean 0.32 is 13.2% of it (Section V-B).
PAPER_FGE_MEAN_SFEM = 0.32 / 0.132

Clip = TypeVar("Clip")
Predictor = Callable[[Sequence[Clip]], np.ndarray]


@dataclasses.dataclass
class Routed:
    """The adaptive framework's output for N clips.

    Attributes:
      probabilities: (N, C) class probabilities, each row from the one network
        that saw the clip.
      routes: (N,) LFM_FER or I_FER.
      sfem: (N,) the SFEM each route was chosen by.
      tau: the threshold used.
    """

    probabilities: np.ndarray
    routes: np.ndarray
    sfem: np.ndarray
    tau: float

    def counts(self) -> dict[str, int]:
        return {route: int(np.sum(self.routes == route)) for route in (LFM_FER, I_FER)}


def route(sfem: Sequence[float], tau: float = TAU) -> np.ndarray:
    """LFM_FER where SFEM < tau (a micro-expression), else I_FER."""
    values = np.asarray(sfem, np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("SFEM must be finite for every clip")
    return np.where(values < tau, LFM_FER, I_FER)


def classify(clips: Sequence[Clip], sfem: Sequence[float], lfm_fer: Predictor,
             i_fer: Predictor, tau: float = TAU) -> Routed:
    """Route every clip by its SFEM and run only the chosen network on it.

    Args:
      clips: the inputs, in any form the two predictors accept.
      sfem: Eq. 3 of each clip (`features.sfem`; preprocessing stores it per record).
      lfm_fer, i_fer: list of clips -> (len, C) probabilities. Each is called at
        most once, with exactly the clips routed to it, in their order.
      tau: the threshold (the paper's 0.35 by default).
    """
    if len(clips) != len(sfem):
        raise ValueError(f"{len(clips)} clips but {len(sfem)} SFEM values")
    routes = route(sfem, tau)
    parts = {}
    for name, predictor in ((LFM_FER, lfm_fer), (I_FER, i_fer)):
        chosen = np.flatnonzero(routes == name)
        if chosen.size:
            probs = np.asarray(predictor([clips[k] for k in chosen]))
            if probs.shape[0] != chosen.size:
                raise ValueError(f"{name} returned {probs.shape[0]} rows for {chosen.size} clips")
            parts[name] = (chosen, probs)
    if not parts:
        return Routed(np.zeros((0, 0), np.float32), routes, np.asarray(sfem, np.float64), tau)
    num_classes = next(iter(parts.values()))[1].shape[1]
    probabilities = np.zeros((len(clips), num_classes), np.float32)
    for chosen, probs in parts.values():
        probabilities[chosen] = probs
    return Routed(probabilities, routes, np.asarray(sfem, np.float64), tau)


def check_sfem_setting(records: Sequence[ClipRecord],
                       expected: tuple[str, str] = (features.SFEM_LANDMARKS, "printed")) -> None:
    """Raise ValueError unless every record's stored SFEM is of the `expected`
    (landmarks, form): tau = 0.35 means nothing on another scale, and records
    written before SFEM summed over 68 landmarks hold the 21-landmark one."""
    found = sorted({r.sfem_setting for r in records})
    if found and found != [expected]:
        names = "; ".join(features.describe_sfem(*f) for f in found)
        raise ValueError(f"records hold SFEM as {names}; the adaptive framework needs "
                         f"{features.describe_sfem(*expected)}: preprocess again with "
                         f"--overwrite")


def classify_records(records: Sequence[ClipRecord], lfm: Predictor, image: Predictor,
                     tau: float = TAU) -> Routed:
    """`classify` on preprocessed records, by the SFEM preprocessing stored (Eq. 3
    as printed over all 68 landmarks; `check_sfem_setting` raises on others)."""
    check_sfem_setting(records)
    return classify(records, [r.sfem for r in records], lfm, image, tau)


def scaled_tau(fge_sfem: Sequence[float], tau: float = TAU) -> float:
    """tau carried over to data whose SFEM scale differs from the paper's CK+:
    tau * (mean SFEM of these FGE training clips) / (the paper's FGE mean)."""
    return float(tau * np.mean(fge_sfem) / PAPER_FGE_MEAN_SFEM)


def lfm_fer(classifier: keras.Model, batch_size: int = 64) -> Predictor:
    """LFM-FER on records: each clip's 24-map window (`features.select_window`)
    through a window classifier, uint8 (batch, 24, M, M) -> probabilities (the
    trainer's exported classifier.keras, or its CNN and LSTM joined)."""
    def predict(records: Sequence[ClipRecord]) -> np.ndarray:
        windows = np.stack([features.select_window(r.maps) for r in records])
        return np.concatenate([np.asarray(classifier(windows[i:i + batch_size], training=False))
                               for i in range(0, len(windows), batch_size)])
    return predict


def i_fer(model: keras.Model) -> Predictor:
    """I-FER on records with crops: `ifer.predict`'s joint probabilities."""
    return lambda records: ifer.predict(model, records)
