r"""Defaults shared by every dataset, and what each field means.

  python -m lfm_tf.train --dataset=smic --config.cnn.epochs=30
  python -m lfm_tf.train --config=configs/smic.py:runlocal   # a 1-epoch smoke run

The paper (Choi & Song, IEEE Access 2020, Section III-B and V) fixes the
networks (Tables 1-2), the frame interval T (4 for SMIC, 8 for CASME II and SAMM,
round(fps / 25) in general), the 24-map window and the protocols. It gives NO
optimizer, learning rate, number of epochs, batch size, class weighting, dropout
or input scaling. The values of those fields below are our choices: common,
untuned defaults for small from-scratch networks, picked before seeing any
result on the real datasets. Change them with --config.<field>=<value>; they are
recorded in run.json, metrics.json and TensorBoard's HParams.
"""

from ml_collections import ConfigDict


def get_config(arg: str | None = None) -> ConfigDict:
    """`arg="runlocal"` shrinks training to one epoch per stage (smoke runs)."""
    config = ConfigDict()

    # What to run. The dataset's own config sets `dataset` and `protocol`.
    config.dataset = "synthetic"
    config.protocol = "loso"        # loso | kfold | composite | cross | full
    config.target = ""              # cross only: the dataset to test on
    config.variant = "clfm"         # clfm (21x21 maps) | lfm (68x68, resized to 224)

    # Where the data is and where results go.
    config.tfrecord_dir = "tfrecords"   # preprocess's --out_dir, or a folder with manifest.json
    # The dataset's folder under tfrecord_dir: "" = its own (`smic`), except that
    # cross-dataset CASME II reads `casme2-cross3` (--label_set=cross3, Table 7's
    # 3 classes). Another, e.g. "smic-VIS" for the VIS camera.
    config.dataset_folder = ""
    config.frame_tag = ""               # which <variant>_<tag> folder ("T8"); "" = the only one
    config.target_tfrecord_dir = ""     # cross: root of the target's TFRecords ("" = tfrecord_dir)
    config.target_folder = ""
    config.target_frame_tag = ""
    config.workdir = ""                 # "" = runs/<dataset>_<protocol>_<variant>

    # Which folds: "" = all; "s1,s3" or "0-4" runs a subset (e.g. one per machine).
    config.folds = ""
    config.pool_only = False        # train nothing; pool the folds on disk into the report
    # Folds trained side by side, each in a process of its own with the CPU cores
    # split between them (lfm_tf.parallel_folds); 1 = one after another.
    config.parallel_folds = 1
    config.num_folds = 10           # kfold: the paper's 10 for CK+
    # Training subjects held out per fold to draw validation curves. Our default
    # 0: the paper names no validation set, and nothing is ever selected on it.
    config.validation_subjects = 0

    config.seed = 0
    # Deterministic kernels (tf.config.experimental.enable_op_determinism): the
    # same seed gives the same predictions. On GPUs it turns XLA off and may be
    # slower; set False there when speed matters more than bitwise repeatability.
    config.deterministic = True

    # Our choice: the micro-expression sets are imbalanced (CASME II: others 99,
    # surprise 25) and they are scored by UF1 and UAR, which weigh classes equally,
    # so the loss does too: weight n / (C * n_c). "none" for plain cross-entropy.
    config.class_weight = "balanced"

    # Stage 1: the CNN of Table 1 on single maps (Section III-B-1).
    config.cnn = ConfigDict()
    config.cnn.epochs = 20          # ours; fixed, no early stopping
    config.cnn.batch_size = 64      # ours; global, split over replicas
    config.cnn.optimizer = "adam"   # ours; any keras.optimizers name
    config.cnn.learning_rate = 1e-4  # ours: Adam at 1e-4 trains the 13-conv LFM net without
    #                                  batch norm from scratch; 1e-3 suits the CLFM net too
    # "constant": learning_rate throughout; "cosine": a linear warm-up to it over
    # warmup_epochs, then a cosine decay to 0 by the last epoch (experiment.learning_rate).
    config.cnn.schedule = "constant"
    config.cnn.warmup_epochs = 0.0
    config.cnn.dropout = 0.5        # ours (VGG's own rate), after FC1
    # "all": every map of every clip, each with the clip's label, as the paper
    # says ("the LFMs of all frames ... are input with the corresponding labels").
    # "window": only the 24 maps stage 2 reads.
    config.cnn.maps = "all"

    # Stage 2: the LSTM of Table 2 on frozen FC1 embeddings (Section III-B-2).
    config.lstm = ConfigDict()
    config.lstm.epochs = 40         # ours
    config.lstm.batch_size = 16     # ours: a few hundred clips per dataset
    config.lstm.optimizer = "adam"  # ours
    config.lstm.learning_rate = 1e-3  # ours (Adam's default)
    config.lstm.schedule = "constant"
    config.lstm.warmup_epochs = 0.0

    # How to run (not part of the experiment's identity).
    config.strategy = "default"     # default | mirrored | multi_worker_mirrored | tpu
    config.tpu = ""                 # tpu: name or address ("" = the local TPU VM)
    config.mixed_precision = False  # float16 on GPUs, bfloat16 on TPUs/CPUs; float32 softmax
    config.jit_compile = "auto"     # XLA: "auto" = on GPUs/TPUs (Keras' rule), "true", "false"
    config.verbose = 2              # Keras fit: 0 silent, 1 progress bar, 2 a line per epoch

    if arg == "runlocal":
        config.cnn.epochs = 1
        config.lstm.epochs = 1
    elif arg == "fast":
        fast(config)
    elif arg:
        raise ValueError(f"unknown config argument {arg!r}; 'runlocal' or 'fast'")
    return config


def fast(config: ConfigDict) -> ConfigDict:
    """The time-to-accuracy recipe (`--config=configs/<dataset>.py:fast`), CLFM: a
    fifth of the CNN epochs at twice the batch, Adam at 10x the rate with a 0.3-epoch
    warm-up and a cosine decay, and half the LSTM epochs, also cosine. Chosen on a
    development set of 8 other synthetic subjects (seed 1, 72 clips), where it scored
    one clip fewer than the defaults (64/72 against 65/72) in about a quarter of the
    time; on 2 CASME II-sized folds one more (README, "How long it takes";
    BENCHMARKS.md, time to accuracy). Not measured on the LFM network, which trains
    without batch norm and may need the defaults' lower rate."""
    config.cnn.epochs = 4
    config.cnn.batch_size = 128
    config.cnn.learning_rate = 1e-3
    config.cnn.schedule = "cosine"
    config.cnn.warmup_epochs = 0.3
    config.lstm.epochs = 20
    config.lstm.schedule = "cosine"
    return config
