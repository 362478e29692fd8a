r"""CAS(ME)^3 Part C (mock crime), leave-one-subject-out, 4 classes as Part A;
165 micro-expressions of 30 subjects -> 30 folds.

  python -m lfm_tf.preprocess --dataset=casme3_c --data_dir=/data/CASME3 --variant=clfm
  python -m lfm_tf.train --dataset=casme3_c --variant=clfm

T = 1 (30 fps). Part C's frame layout is an unverified assumption (docs/datasets_more.md).
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "casme3_c"
    config.protocol = "loso"
    return config
