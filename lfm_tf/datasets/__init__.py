"""Dataset readers, one module per dataset, looked up by name.

Each reader module has `read(data_dir, **options) -> ReadResult`. Modules are
imported on first use so that, say, the synthetic dataset needs no spreadsheet
library.
"""

from __future__ import annotations

import importlib

from lfm_tf.datasets.base import Clip, ReadResult
from lfm_tf.datasets.specs import SPECS, DatasetSpec, get_spec

READERS: dict[str, str] = {
    "smic": "lfm_tf.datasets.smic",
    "casme2": "lfm_tf.datasets.casme2",
    "samm": "lfm_tf.datasets.samm",
    "ckplus": "lfm_tf.datasets.ckplus",
    "ckplus_fge": "lfm_tf.table8.ckplus_fge",
    "ckplus_fme": "lfm_tf.table8.ckplus_fme",
    "ckplus_mixed": "lfm_tf.table8.ckplus_mixed",
    "casme3": "lfm_tf.datasets.casme3",
    "casme3_c": "lfm_tf.datasets.casme3_c",
    "fourd_me": "lfm_tf.datasets.fourd_me",
    "mmew": "lfm_tf.datasets.mmew",
    "composite": "lfm_tf.datasets.composite",
    "folder": "lfm_tf.datasets.folder",
    "synthetic": "lfm_tf.datasets.synthetic",
    "casme_sq": "lfm_tf.datasets.casme_sq",
    "samm_lv": "lfm_tf.datasets.samm_lv",
    "synthetic_long": "lfm_tf.datasets.synthetic_long",
}
# Long videos with intervals (SpottingReadResult): for `lfm_tf.spot`, not preprocessing.
SPOTTING_DATASETS = ("casme_sq", "samm_lv", "synthetic_long")


def reader_module(name: str):
    """The reader module of dataset `name`."""
    if name not in READERS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(READERS)}")
    return importlib.import_module(READERS[name])


def read(name: str, data_dir: str | None = None, **options) -> ReadResult:
    """Read dataset `name` from `data_dir` (see each module for its options)."""
    return reader_module(name).read(data_dir, **options)


__all__ = ["Clip", "DatasetSpec", "READERS", "ReadResult", "SPECS", "SPOTTING_DATASETS", "get_spec",
           "read", "reader_module"]
