"""The adaptive framework of Fig. 4: SFEM first, then exactly one network per clip,
with fake networks that record their calls and with real Keras models on records."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lfm_tf import features, records
from lfm_tf.table8 import adaptive, ifer

CLASSES = 7


class Spy:
    """A network that records the clips of every call and answers one class for all."""

    def __init__(self, answer: int):
        self.answer = answer
        self.calls = []

    def __call__(self, clips):
        self.calls.append(list(clips))
        return np.eye(CLASSES, dtype=np.float32)[[self.answer] * len(clips)]


def test_each_clip_goes_to_exactly_one_network_by_tau():
    lfm, image = Spy(answer=2), Spy(answer=5)
    clips = ["a", "b", "c", "d", "e", "f"]
    sfem = [0.10, 0.50, 0.35, 0.349, 2.00, 0.0]
    routed = adaptive.classify(clips, sfem, lfm, image)
    # Below tau = 0.35 (the paper's) -> LFM-FER; 0.35 itself is not below it.
    assert lfm.calls == [["a", "d", "f"]]
    assert image.calls == [["b", "c", "e"]]
    assert routed.counts() == {"lfm_fer": 3, "i_fer": 3}
    assert routed.routes.tolist() == ["lfm_fer", "i_fer", "i_fer", "lfm_fer", "i_fer", "lfm_fer"]
    assert np.argmax(routed.probabilities, axis=1).tolist() == [2, 5, 5, 2, 5, 2]
    assert routed.tau == adaptive.TAU == 0.35


def test_a_network_without_clips_is_never_called():
    lfm, image = Spy(answer=0), Spy(answer=1)
    routed = adaptive.classify(["a", "b"], [0.1, 0.2], lfm, image)
    assert routed.counts() == {"lfm_fer": 2, "i_fer": 0}
    assert lfm.calls == [["a", "b"]] and image.calls == []
    lfm, image = Spy(answer=0), Spy(answer=1)
    routed = adaptive.classify(["a", "b"], [0.1, 0.2], lfm, image, tau=0.05)
    assert routed.counts() == {"lfm_fer": 0, "i_fer": 2}
    assert lfm.calls == [] and image.calls == [["a", "b"]]


def test_bad_input_is_refused_before_any_network_runs():
    lfm, image = Spy(answer=0), Spy(answer=1)
    with pytest.raises(ValueError, match="3 clips but 2 SFEM values"):
        adaptive.classify(["a", "b", "c"], [0.1, 0.2], lfm, image)
    with pytest.raises(ValueError, match="SFEM must be finite"):
        adaptive.classify(["a"], [float("nan")], lfm, image)
    assert lfm.calls == image.calls == []


def test_scaled_tau_carries_the_threshold_by_the_fge_mean():
    # The paper's FGE mean is 0.32 / 0.132 = 2.4242...; a set whose FGE mean is a
    # tenth of it gets a tenth of 0.35.
    paper_mean = 0.32 / 0.132
    assert adaptive.scaled_tau([0.5 * paper_mean, 1.5 * paper_mean]) == pytest.approx(0.35)
    assert adaptive.scaled_tau([0.1 * paper_mean] * 3) == pytest.approx(0.035)


class CountingModel:
    """A Keras model wrapper that counts the examples it is called on."""

    def __init__(self, model):
        self.model, self.seen = model, 0

    def __call__(self, x, training=False):
        self.seen += len(x) if not isinstance(x, dict) else len(next(iter(x.values())))
        return self.model(x, training=training)

    def get_layer(self, name):
        return self.model.get_layer(name)


def _record(sfem: float, seed: int) -> records.ClipRecord:
    rng = np.random.default_rng(seed)
    face = rng.uniform(200, 440, (68, 2))
    face[36:42] += (-60, -40)  # eyes apart, so that the crop alignment is defined
    face[42:48] += (60, -40)
    track = (face + rng.normal(0, 0.5, (10, 68, 2))).astype(np.float32)
    return records.ClipRecord(
        dataset="ckplus_fme", subject="S001", clip=f"{seed:03d}", label=seed % CLASSES,
        label_name="x", variant="clfm", frame_interval=1, fps=30.0, num_filled=0, sfem=sfem,
        maps=features.normalize(features.lfm(track, 1, features.CLFM_INDICES)), landmarks=track,
        crops=rng.integers(0, 256, (3, 64, 64), dtype=np.uint8),
        crop_frames=np.array([0, 4, 9]))


def test_records_route_by_their_stored_sfem_through_real_models():
    keras.utils.set_random_seed(0)
    window = keras.Input((features.WINDOW_LENGTH, 21, 21), dtype="uint8")
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(window))
    classifier = CountingModel(keras.Model(window, keras.layers.Dense(
        CLASSES, activation="softmax")(flat)))
    image = CountingModel(ifer.build(CLASSES))
    clips = [_record(s, k) for k, s in enumerate([0.02, 0.9, 0.3, 0.1])]
    routed = adaptive.classify_records(clips, adaptive.lfm_fer(classifier),
                                       adaptive.i_fer(image))
    assert routed.counts() == {"lfm_fer": 3, "i_fer": 1}
    assert (classifier.seen, image.seen) == (3, 1)
    windows = np.stack([features.select_window(clips[k].maps) for k in (0, 2, 3)])
    np.testing.assert_allclose(routed.probabilities[[0, 2, 3]],
                               classifier.model(windows).numpy(), rtol=1e-5)
    np.testing.assert_allclose(routed.probabilities[1],
                               ifer.predict(image.model, clips[1:2])[0], rtol=1e-5)


def test_records_from_before_sfem_covered_68_landmarks_are_recognised_not_routed():
    record = _record(0.2, 0)
    assert record.sfem_setting == ("lfm", "printed")
    example = tf.train.SequenceExample.FromString(records.encode(record))
    for key in ("sfem_landmarks", "sfem_form"):
        del example.context.feature[key]
    old = records.decode(example.SerializeToString())
    assert old.sfem_setting == ("clfm", "printed")
    assert records.decode(records.encode(record)).sfem_setting == ("lfm", "printed")
    adaptive.check_sfem_setting([record, record])
    with pytest.raises(ValueError, match=(
            r"records hold SFEM as Eq. 3 as printed, the 21 CLFM landmarks; Eq. 3 as printed, "
            r"all 68 landmarks; the adaptive framework needs Eq. 3 as printed, all 68 "
            r"landmarks: preprocess again with --overwrite")):
        adaptive.classify_records([record, old], None, None)
