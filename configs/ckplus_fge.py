r"""CK+ as Table 8's FGE set, subject-independent 10-fold, 7 classes.

  python -m lfm_tf.preprocess --dataset=ckplus_fge --data_dir=/data/CK+ --landmarks=provided --crops
  python -m lfm_tf.train --dataset=ckplus_fge --variant=clfm

The same sequences and protocol as configs/ckplus.py; the dataset of its own
name lets Table 8 (configs/table8.py) test the models it trains on the FME and
mixed sets synthesized from it.
"""

from configs import ckplus


def get_config(arg=None):
    config = ckplus.get_config(arg)
    config.dataset = "ckplus_fge"
    return config
