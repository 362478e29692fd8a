r"""CASME II, leave-one-subject-out, the paper's 5 classes (Table 3, Table 5).

  python -m lfm_tf.preprocess --dataset=casme2 --data_dir=/data/CASME2 --variant=clfm
  python -m lfm_tf.train --dataset=casme2 --variant=clfm

T = 8 (200 fps -> 25 Hz); 26 subjects -> 26 folds. Cross-dataset with SMIC
(Table 7) reads the 3-class labels in casme2-cross3/ instead (preprocess with
--label_set=cross3): see pipelines/table7.sh.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "casme2"
    config.protocol = "loso"
    return config
