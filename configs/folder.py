r"""Your own clips (lfm_tf.datasets.folder), leave-one-subject-out.

  python -m lfm_tf.preprocess --dataset=folder --data_dir=/data/mine \
      --labels_csv=/data/mine/labels.csv --fps=100
  python -m lfm_tf.train --dataset=folder

Classes come from the folder's manifest.json.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "folder"
    config.protocol = "loso"
    return config
