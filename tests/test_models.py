"""The networks of Table 1 and Table 2, layer for layer and parameter for parameter."""

import ast
import inspect

import keras
import numpy as np
import pytest

from lfm_tf import models


@pytest.mark.parametrize("variant, cnn_params, lstm_params",
                         [("lfm", 7_351_223, 1_838_855), ("clfm", 520_375, 198_023)])
def test_parameter_counts_equal_table_2(variant, cnn_params, lstm_params):
    assert models.build_cnn(variant, 7).count_params() == cnn_params
    assert models.build_lstm(variant, 7).count_params() == lstm_params


def test_clfm_cnn_layers_follow_table_1():
    cnn = models.build_cnn("clfm", 3)
    convs = [l for l in cnn.layers if isinstance(l, keras.layers.Conv2D)]
    assert [l.filters for l in convs] == [16, 16, 32, 32, 64, 64, 64]
    assert all(l.kernel_size == (3, 3) and l.padding == "same" for l in convs)
    assert cnn.get_layer("maxpool1").output.shape[1:] == (10, 10, 16)
    assert cnn.get_layer("maxpool2").output.shape[1:] == (5, 5, 32)
    assert cnn.get_layer("flatten").output.shape[1:] == (1600,)
    assert cnn.get_layer("fc1").output.shape[1:] == (256,)
    assert cnn.output.shape[1:] == (3,)


def test_lfm_cnn_layers_follow_table_1():
    cnn = models.build_cnn("lfm", 5)
    assert cnn.input.shape[1:] == (68, 68)
    assert cnn.get_layer("resize").output.shape[1:] == (224, 224, 1)
    convs = [l for l in cnn.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) == 13 and convs[-1].name == "conv13"
    assert cnn.get_layer("maxpool5").output.shape[1:] == (7, 7, 128)
    assert cnn.get_layer("flatten").output.shape[1:] == (6272,)
    assert cnn.get_layer("fc1").output.shape[1:] == (1024,)


def test_cnn_takes_stored_uint8_maps_and_outputs_probabilities():
    cnn = models.build_cnn("clfm", 3)
    maps = np.random.default_rng(0).integers(0, 256, size=(4, 21, 21), dtype=np.uint8)
    probs = np.asarray(cnn.predict(maps, verbose=0))
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # "No change" (127) is the zero input.
    scaled = keras.Model(cnn.input, cnn.get_layer("rescale").output)
    np.testing.assert_allclose(scaled.predict(np.full((1, 21, 21), 127, np.uint8), verbose=0), 0.0)


def test_embedder_is_frozen_fc1_and_feeds_the_lstm():
    cnn = models.build_cnn("clfm", 3)
    embedder = models.build_embedder(cnn)
    assert not embedder.trainable and embedder.output.shape[1:] == (256,)
    maps = np.random.default_rng(1).integers(0, 256, size=(24, 21, 21), dtype=np.uint8)
    emb = np.asarray(embedder.predict(maps, verbose=0))
    lstm = models.build_lstm("clfm", 3)
    assert lstm.input.shape[1:] == (24, 256)
    probs = np.asarray(lstm.predict(emb[None], verbose=0))
    assert probs.shape == (1, 3)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_models_module_uses_keras_only():
    tree = ast.parse(inspect.getsource(models))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.split(".")[0] == "tensorflow" for name in imported)


@pytest.mark.parametrize("call", [
    lambda: models.build_cnn("vgg", 3),
    lambda: models.build_cnn("clfm", 1),
    lambda: models.build_lstm("clfm", 3, window=0),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
