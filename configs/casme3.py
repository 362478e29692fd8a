r"""CAS(ME)^3 Part A, leave-one-subject-out, 4 classes (positive, negative, surprise,
others), the set MEB reports; 860 micro-expressions of 94 subjects -> 94 folds.

  python -m lfm_tf.preprocess --dataset=casme3 --data_dir=/data/CASME3 --variant=clfm
  python -m lfm_tf.train --dataset=casme3 --variant=clfm

T = 1 (30 fps -> 25 Hz). The 7 emotions or MEGC's 3 classes: preprocess with
--label_set=emotion7 or megc3 (into casme3-emotion7/ or casme3-megc3/) and train
with --config.dataset_folder=casme3-megc3. The paper has no CAS(ME)^3 result.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "casme3"
    config.protocol = "loso"
    return config
