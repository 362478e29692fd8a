"""The MEGC spotting protocol (2019-2023), as ../shared/DATASETS_MORE.md section C states it.

- An interval is the inclusive set of frames onset..offset. Two intervals match
  when their IoU is at least 0.5: inter = min(offsets) - max(onsets) + 1,
  union = length1 + length2 - inter (the organisers' baseline, result_helper.py).
- Per video and per type (ME, MaE), with m true intervals and n predictions of
  that type and a = the true intervals hit by at least one prediction:
  TP = a, FP = n - a, FN = m - a (the organisers' counting, "megc"). SoftNet and
  MTSN match one to one instead ("one_to_one": each prediction may hit one true
  interval, best IoU first), which differs only where intervals overlap:
  there one prediction can hit two true intervals, and the baseline's FP = n - a
  goes below 0 (its precision above 1), as its result_helper.py computes it.
- TP, FP and FN are summed over all videos of a dataset (every video, including
  those without intervals or without predictions, so all 357 / 502 intervals are
  in the denominators), then precision, recall and F1 per type, and overall from
  the pooled ME + MaE counts.

Intervals are anything with `onset`, `offset` and `type` ("me" or "mae"):
`long_videos.Interval` for the truth, `spotting.Spotted` for predictions.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from lfm_tf.datasets.long_videos import TYPES

IOU_THRESHOLD = 0.5
MATCHINGS = ("megc", "one_to_one")
CSV_HEADER = ("vid", "pred_onset", "pred_offset", "type")


def iou(a, b) -> float:
    """IoU of the inclusive frame sets a.onset..a.offset and b.onset..b.offset, in [0, 1]."""
    inter = min(a.offset, b.offset) - max(a.onset, b.onset) + 1
    if inter <= 0:
        return 0.0
    union = (a.offset - a.onset + 1) + (b.offset - b.onset + 1) - inter
    return inter / union


@dataclasses.dataclass(frozen=True)
class Counts:
    """TP, FP, FN and the scores they give; P, R, F1 are 0 where undefined."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision,
                "recall": self.recall, "f1": self.f1}


def match(truth: Sequence, predicted: Sequence, matching: str = "megc",
          threshold: float = IOU_THRESHOLD) -> Counts:
    """Counts of one video and one type (all intervals given must be of that type).

    Args:
      truth: the m annotated intervals.
      predicted: the n predicted intervals.
      matching: "megc" (TP = true intervals hit by any prediction, FP = n - TP) or
        "one_to_one" (greedy by IoU, each prediction and each true interval used once).
      threshold: the IoU a hit needs (0.5).

    Raises:
      ValueError: an unknown matching.
    """
    if matching not in MATCHINGS:
        raise ValueError(f"unknown matching {matching!r}; expected one of {MATCHINGS}")
    pairs = [(iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)]
    hits = [(value, i, j) for value, i, j in pairs if value >= threshold]
    if matching == "megc":
        tp = len({i for _, i, _ in hits})
    else:
        used_t, used_p = set(), set()
        for _, i, j in sorted(hits, key=lambda h: (-h[0], h[1], h[2])):
            if i not in used_t and j not in used_p:
                used_t.add(i)
                used_p.add(j)
        tp = len(used_t)
    return Counts(tp, len(predicted) - tp, len(truth) - tp)


def evaluate(truth: Mapping[str, Sequence], predicted: Mapping[str, Sequence],
             matching: str = "megc", threshold: float = IOU_THRESHOLD) -> dict:
    """The protocol over a dataset: counts per video and type, pooled, and the scores.

    Args:
      truth: video id -> annotated intervals, for EVERY video of the dataset
        (videos without intervals map to ()).
      predicted: video id -> predicted intervals; a video missing here has none.
      matching, threshold: as in `match`.

    Returns:
      {"me": {...}, "mae": {...}, "overall": {...}} with tp, fp, fn, precision,
      recall, f1 (overall from the pooled ME + MaE counts), "videos": the number
      of videos, and "per_video": video -> type -> (tp, fp, fn).

    Raises:
      ValueError: a prediction for a video not in `truth`, or a type not me/mae.
    """
    unknown = sorted(set(predicted) - set(truth))
    if unknown:
        raise ValueError(f"predictions for videos without ground truth: {unknown}")
    for video, intervals in [*truth.items(), *predicted.items()]:
        bad = sorted({i.type for i in intervals} - set(TYPES))
        if bad:
            raise ValueError(f"{video}: interval types {bad}; expected one of {TYPES}")
    pooled = {t: Counts() for t in TYPES}
    per_video = {}
    for video in sorted(truth):
        counts = {t: match([i for i in truth[video] if i.type == t],
                           [p for p in predicted.get(video, ()) if p.type == t],
                           matching, threshold) for t in TYPES}
        per_video[video] = {t: (c.tp, c.fp, c.fn) for t, c in counts.items()}
        pooled = {t: pooled[t] + counts[t] for t in TYPES}
    result = {t: pooled[t].as_dict() for t in TYPES}
    result["overall"] = (pooled["me"] + pooled["mae"]).as_dict()
    result.update(videos=len(truth), matching=matching, threshold=threshold,
                  per_video=per_video)
    return result


def write_challenge_csv(path: str, predicted: Mapping[str, Iterable]) -> int:
    """Writes the submission CSV: `vid,pred_onset,pred_offset,type`, one row per interval.

    Rows are in video order, then by onset; type is "me" or "mae". Returns the
    number of rows.
    """
    rows = sorted((video, p.onset, p.offset, p.type)
                  for video, intervals in predicted.items() for p in intervals)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    return len(rows)
