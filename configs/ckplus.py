r"""CK+, subject-independent 10-fold, 7 classes (Table 8 FGE column, Table 9).

  python -m lfm_tf.preprocess --dataset=ckplus --data_dir=/data/CK+ --landmarks=provided
  python -m lfm_tf.train --dataset=ckplus --variant=clfm

T = 1 (30 fps -> round(30 / 25) = 1). Subjects, not sequences, are dealt to the
10 folds (118 subjects).
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "ckplus"
    config.protocol = "kfold"
    config.num_folds = 10
    return config
