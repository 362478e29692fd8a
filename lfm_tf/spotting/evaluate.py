"""Spotting evaluated on a dataset of long videos: landmarks per video (cached),
thresholds fitted leave-one-subject-out, the MEGC protocol on the pooled counts.

LOSO as DATASETS_MORE.md C has it for learned spotters: for each subject, the
thresholds are fitted on the other subjects' videos and applied to this one's;
the predictions of all folds are pooled before counting. A subject's own videos
never choose its threshold.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from lfm_tf.datasets.long_videos import LongVideo, spotting_facts
from lfm_tf.spotting import protocol, spotter


@dataclasses.dataclass
class Evaluation:
    """Everything one protocol run produced.

    Attributes:
      predicted: video id -> spotted intervals (each fold's thresholds).
      thresholds: subject -> the thresholds fitted without it.
      result: `protocol.evaluate` on all videos.
      signals: video id -> the spotter's signals (for the plots); not for videos
        without a track.
      seconds: wall time of the landmark step and of the spotter.
    """

    predicted: dict[str, list[spotter.Spotted]]
    thresholds: dict[str, dict[str, float]]
    result: dict
    signals: dict[str, spotter.Signals]
    seconds: dict[str, float]


def loso(videos: Sequence[LongVideo], tracks: dict[str, np.ndarray | None], dataset: str | None,
         settings: spotter.SpotterSettings = spotter.SpotterSettings(),
         log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> Evaluation:
    """Leave-one-subject-out spotting and the protocol on the pooled predictions.

    Args:
      videos: every video of the dataset (with or without intervals).
      tracks: video id -> its (N, 68, 2) landmark track, px; None for a video with
        no usable face: it is spotted in nowhere, so its intervals count as missed.
      dataset: the registry name, for the windows k (other names: scaled by fps).

    Raises:
      ValueError: fewer than two subjects (nothing to fit a threshold on).
    """
    subjects = sorted({v.subject for v in videos})
    if len(subjects) < 2:
        raise ValueError("leave-one-subject-out needs at least two subjects")
    start = time.perf_counter()
    found, all_signals = {}, {}
    for v in videos:
        facts = spotting_facts(dataset, v.fps)
        if tracks[v.video_id] is None:
            found[v.video_id] = ([], facts, v.first_frame)
            continue
        all_signals[v.video_id] = spotter.signals(tracks[v.video_id], v.fps, facts, settings)
        found[v.video_id] = (all_signals[v.video_id].candidates, facts, v.first_frame)
    truth = {v.video_id: list(v.intervals) for v in videos}
    predicted, thresholds = {}, {}
    for subject in subjects:
        train = [v.video_id for v in videos if v.subject != subject]
        thresholds[subject] = spotter.fit_thresholds(
            {k: found[k] for k in train}, {k: truth[k] for k in train})
        for v in (v for v in videos if v.subject == subject):
            predicted[v.video_id] = spotter.select(*found[v.video_id][:2], thresholds[subject],
                                                   v.first_frame)
        log(f"fold {subject}: thresholds ME {thresholds[subject]['me']:g}, "
            f"MaE {thresholds[subject]['mae']:g}")
    result = protocol.evaluate(truth, predicted)
    return Evaluation(predicted, thresholds, result, all_signals,
                      {"spotting": time.perf_counter() - start})
