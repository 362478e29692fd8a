"""The two networks of Choi & Song (2020): the VGG13-style map encoder (Table 1)
and the sequence model on its FC1 embeddings (Table 2).

Both are plain Keras 3 functional models built from `keras.layers` alone, so they
build and run under the TensorFlow, JAX and PyTorch backends. The maps go in as
they are stored (uint8, M x M); scaling and, for the 68x68 LFM, the resize to
224x224 are parameter-free layers inside the model.

With num_classes=7 the parameter counts equal Table 2: CNN 7,351,223 (lfm) and
520,375 (clfm); LSTM 1,838,855 (lfm) and 198,023 (clfm).
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers

from lfm_tf import features

FC1_LAYER = "fc1"


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """The layer-for-layer shape of one variant of Table 1 and Table 2.

    Attributes:
      input_size: side the map is resized to before the first conv; None keeps
        the map's own size (the CLFM is "not resized", Section III-B-3).
      conv_blocks: filters of each 3x3 conv, grouped by the 2x2 max pool that
        follows the group.
      pool_last_block: whether the last group is followed by a pool too (LFM yes:
        MaxPool5; CLFM goes from Conv7 straight to Flatten).
      fc1_units: width of FC1, the embedding the sequence model reads.
      lstm_units: one entry per stacked LSTM layer.
    """

    input_size: int | None
    conv_blocks: tuple[tuple[int, ...], ...]
    pool_last_block: bool
    fc1_units: int
    lstm_units: tuple[int, ...]


# Table 1 gives the CNNs. For the sequence model the paper says only "hidden state
# and cell state of 128 dimensions" (Section III-B-2); one layer of 128 units
# reproduces Table 2's CLFM count, and two stacked layers of 256 units are the only
# depth and width that reproduce its LFM count of 1,838,855.
NETWORKS: dict[str, NetworkSpec] = {
    "lfm": NetworkSpec(
        input_size=224,
        conv_blocks=((16, 16), (32, 32), (64, 64, 64), (128, 128, 128), (128, 128, 128)),
        pool_last_block=True,
        fc1_units=1024,
        lstm_units=(256, 256),
    ),
    "clfm": NetworkSpec(
        input_size=None,
        conv_blocks=((16, 16), (32, 32), (64, 64, 64)),
        pool_last_block=False,
        fc1_units=256,
        lstm_units=(128,),
    ),
}


def network_spec(variant: str) -> NetworkSpec:
    try:
        return NETWORKS[variant]
    except KeyError:
        raise ValueError(
            f"unknown variant {variant!r}; expected one of {sorted(NETWORKS)}"
        ) from None


def _check_classes(num_classes: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2, got {num_classes!r}")


def build_cnn(
    variant: str,
    num_classes: int,
    dropout: float = 0.5,
    resize_interpolation: str = "bilinear",
) -> keras.Model:
    """The VGG13-style map classifier of Table 1.

    Input: uint8 maps of shape (M, M) as Eq. 2 stores them (M = 68 or 21).
    They are rescaled to [-0.99, 1.0] with 127 ("no change") at 0, because the
    paper gives no input scaling and a zero-centred input keeps the still parts of
    the face at zero activation. The LFM is resized to 224x224 (bilinear by
    default; the paper does not say how).

    Args:
      variant: "lfm" (68x68 -> 224x224, 13 convs, FC1 1024) or "clfm" (21x21,
        7 convs, FC1 256).
      num_classes: C, the width of FC2.
      dropout: rate applied after FC1 while training, our choice (VGG's own
        default); the paper names none. Parameter-free, so Table 2's counts hold.
      resize_interpolation: Keras interpolation for the 68 -> 224 resize.

    Returns:
      A Keras model whose FC1 layer is named "fc1" and whose output is the class
      probabilities (float32 even under mixed precision).
    """
    spec = network_spec(variant)
    _check_classes(num_classes)
    side = len(features.variant_indices(variant))
    maps = keras.Input(shape=(side, side), dtype="uint8", name="maps")
    x = layers.Reshape((side, side, 1), name="add_channel")(maps)
    x = layers.Rescaling(scale=1.0 / 128.0, offset=-127.0 / 128.0, name="rescale")(x)
    if spec.input_size is not None:
        x = layers.Resizing(spec.input_size, spec.input_size,
                            interpolation=resize_interpolation, name="resize")(x)
    conv = 0
    for block, filters in enumerate(spec.conv_blocks, start=1):
        for f in filters:
            conv += 1
            x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{conv}")(x)
        if block < len(spec.conv_blocks) or spec.pool_last_block:
            x = layers.MaxPooling2D(2, name=f"maxpool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(spec.fc1_units, activation="relu", name=FC1_LAYER)(x)
    x = layers.Dropout(dropout, name="fc1_dropout")(x)
    x = layers.Dense(num_classes, name="fc2")(x)
    probs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(maps, probs, name=f"{variant}_cnn")


def build_embedder(cnn: keras.Model) -> keras.Model:
    """The frozen encoder of stage 2: the trained CNN cut at its FC1 output."""
    embedder = keras.Model(cnn.inputs, cnn.get_layer(FC1_LAYER).output,
                           name=f"{cnn.name}_fc1")
    embedder.trainable = False
    return embedder


def build_lstm(
    variant: str,
    num_classes: int,
    window: int = features.WINDOW_LENGTH,
) -> keras.Model:
    """The sequence classifier of Table 2 on `window` FC1 embeddings.

    "clfm": one LSTM of 128 units; "lfm": two stacked LSTMs of 256 units. The
    last hidden state goes through a dense softmax layer (Section III-B-2).

    Input: float embeddings of shape (window, fc1_units).
    """
    spec = network_spec(variant)
    _check_classes(num_classes)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    x = inputs = keras.Input(shape=(window, spec.fc1_units), name="embeddings")
    for k, units in enumerate(spec.lstm_units, start=1):
        last = k == len(spec.lstm_units)
        x = layers.LSTM(units, return_sequences=not last, name=f"lstm{k}")(x)
    x = layers.Dense(num_classes, name="fc")(x)
    probs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(inputs, probs, name=f"{variant}_lstm")
