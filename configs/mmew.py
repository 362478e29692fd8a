r"""MMEW, leave-one-subject-out, 7 classes with `others` kept as a class; 300
micro-expressions.

  python -m lfm_tf.preprocess --dataset=mmew --data_dir=/data/MMEW --variant=clfm
  python -m lfm_tf.train --dataset=mmew --variant=clfm

T = 4 (90 fps -> 25 Hz). 3 classes: --label_set=megc3 (mmew-megc3/), train with
--config.dataset_folder=mmew-megc3. Anger, fear and sadness have few clips, so some
folds train without a class: the report lists them.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "mmew"
    config.protocol = "loso"
    return config
