r"""4DME, leave-one-subject-out, 5 emotion classes (negative, positive, surprise,
repression, others); 267 micro-expressions.

  python -m lfm_tf.preprocess --dataset=fourd_me --data_dir=/data/4DME --variant=clfm
  python -m lfm_tf.train --dataset=fourd_me --variant=clfm

T = 2 from 60 fps, which is unverified: if your copy's rate differs, preprocess
with --frame_interval=round(fps / 25). 3 classes: --label_set=megc3 (fourd_me-megc3/).
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "fourd_me"
    config.protocol = "loso"
    return config
