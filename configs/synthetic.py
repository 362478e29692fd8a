r"""The synthetic dataset (lfm_tf.datasets.synthetic): the demo and smoke tests.

  python -m lfm_tf.demo       # generates, preprocesses and runs this config

Small clips and few subjects train in seconds per fold on a CPU, so the stages
run for few epochs at a higher CNN learning rate than the real datasets' default.
"""

from configs import base


def get_config(arg=None):
    config = base.get_config(arg)
    config.dataset = "synthetic"
    config.protocol = "loso"
    if not arg:  # the demo's own settings; runlocal and fast as in base
        config.cnn.epochs = 3
        config.cnn.learning_rate = 1e-3
        config.lstm.epochs = 20
        config.lstm.batch_size = 8
    return config
