r"""SAMM, leave-one-subject-out, 8 classes.

  python -m lfm_tf.preprocess --dataset=samm --data_dir=/data/SAMM --variant=clfm
  python -m lfm_tf.train --dataset=samm --variant=clfm

The paper reports SAMM only inside the composite (Table 6); T = 8; 29 folds.
Several SAMM classes have fewer than 10 clips from few subjects, so some folds
train without a class: the report lists them.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "samm"
    config.protocol = "loso"
    return config
