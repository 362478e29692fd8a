"""Spotting micro- and macro-expressions in long videos (issue 14).

Read top to bottom, as the data flows:

  spotter.py   landmark track -> signal (Eq. 1 at the MEGC windows k) -> ME / MaE intervals
  evaluate.py  a dataset of long videos: landmarks per video, LOSO thresholds, the protocol
  protocol.py  the MEGC spotting protocol: IoU matching, pooled counts, the challenge CSV
  report.py    report.md beside the published numbers, metrics.json, the CSV, the plots
"""
