"""Experiment configs, one per dataset: `get_config()` returns an ml_collections
ConfigDict; `python -m lfm_tf.train --dataset=NAME` loads `configs/NAME.py`, and
every field can be overridden, e.g. `--config.cnn.epochs=30`."""
