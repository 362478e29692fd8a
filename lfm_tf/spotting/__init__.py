"""Spotting micro- and macro-expressions in long videos (issue 14).

protocol.py  the MEGC spotting protocol: IoU matching, pooled counts, the challenge CSV
"""
