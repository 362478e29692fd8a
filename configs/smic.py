r"""SMIC-HS, leave-one-subject-out, 3 classes (Table 3, Table 4).

  python -m lfm_tf.preprocess --dataset=smic --data_dir=/data/SMIC --variant=clfm
  python -m lfm_tf.train --dataset=smic --variant=clfm

T = 4 (100 fps -> 25 Hz) is set by preprocessing; 16 subjects -> 16 folds.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "smic"
    config.protocol = "loso"
    return config
