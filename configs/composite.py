r"""MEGC 2019 composite (SMIC + CASME II + SAMM, 3 classes), LOSO over 68 subjects,
UF1/UAR overall and per source dataset (Table 6).

  python -m lfm_tf.preprocess --dataset=composite --smic_dir=... --casme2_dir=... \
      --samm_dir=... --variant=clfm
  python -m lfm_tf.train --dataset=composite --variant=clfm

Each clip keeps its source's T (4 for SMIC, 8 for CASME II and SAMM): the folder
is tagged T25hz.

Another composite, e.g. CAS(ME)^3 pooled with the others in 3 classes, is a
membership list of the same form (docs/datasets_more.md), not code:

  python -m lfm_tf.preprocess --dataset=composite --membership=pooled.csv --data_dir=/data
  python -m lfm_tf.train --dataset=composite --config.dataset_folder=composite-pooled
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "composite"
    config.protocol = "composite"
    return config
