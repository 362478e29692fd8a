"""The image-based FER's input and model: eye-aligned crops (lfm_tf.crops), the
landmark trajectory in crop coordinates, and the DTAGN-style network's size."""

import numpy as np
import pytest

from lfm_tf import features, records
from lfm_tf.table8 import crops, ifer


def _face(left=(200.0, 200.0), right=(300.0, 200.0)) -> np.ndarray:
    """68 points whose eye landmarks (36-41, 42-47) centre on `left` and `right`."""
    face = np.tile([[250.0, 300.0]], (68, 1)) + np.arange(68)[:, None] * [0.5, 1.0]
    for eye, centre in ((slice(36, 42), left), (slice(42, 48), right)):
        angles = np.arange(6) * np.pi / 3
        ring = 8.0 * np.stack([np.cos(angles), np.sin(angles)], 1)
        face[eye] = np.asarray(centre) + ring
    return face


def test_alignment_puts_the_eye_centres_at_their_targets():
    # A face tilted by 30 degrees and 200 px between the eyes.
    tilt = np.radians(30)
    right = (200 + 200 * np.cos(tilt), 200 + 200 * np.sin(tilt))
    transform = crops.alignment(_face(right=right), size=64)
    eyes = crops.aligned_landmarks(crops.eye_centres(_face(right=right)), transform)
    np.testing.assert_allclose(eyes, [[0.30 * 64, 0.38 * 64], [0.70 * 64, 0.38 * 64]], atol=1e-9)
    assert np.hypot(*transform[:, 0]) == pytest.approx(0.4 * 64 / 200)


def test_crop_shows_the_eye_where_the_alignment_puts_it():
    image = np.zeros((480, 640), np.uint8)
    image[195:206, 195:206] = 255  # a bright square on the left eye centre
    crop = crops.clip_crops([image], _face()[None], size=64)[0]
    assert crop.dtype == np.uint8 and crop.shape == (64, 64)
    rows, cols = np.mgrid[0:64, 0:64]
    weight = crop.astype(np.float64) / crop.sum()
    centre = ((weight * cols).sum(), (weight * rows).sum())
    np.testing.assert_allclose(centre, (0.30 * 64, 0.38 * 64), atol=0.1)


def test_crop_positions_spread_from_first_to_last_frame():
    assert crops.crop_positions(12, 3).tolist() == [0, 6, 11]
    assert crops.crop_positions(10, 3).tolist() == [0, 4, 9]
    assert crops.crop_positions(2, 3).tolist() == [0, 0, 1]


def _record(track, crop_frames=(0, 1, 2)) -> records.ClipRecord:
    return records.ClipRecord(
        dataset="ckplus_fge", subject="S001", clip="001", label=0, label_name="anger",
        variant="clfm", frame_interval=1, fps=30.0, num_filled=0, sfem=0.0,
        maps=features.normalize(features.lfm(track, 1, features.CLFM_INDICES)), landmarks=track,
        crops=np.zeros((len(crop_frames), 64, 64), np.uint8), crop_frames=np.array(crop_frames))


def test_trajectory_is_first_frame_then_motion_in_crop_units():
    face = _face()
    track = np.stack([face, face + (5.0, -3.0), face + (5.0, -3.0)])
    track[2, 48] += (4.0, 0.0)  # the mouth corner moves 4 px right in the last frame
    path = ifer.trajectory(track, size=64).reshape(3, 68, 2)
    # A record's trajectory is that of its cropped frames' landmarks.
    record = _record(track.astype(np.float32))
    np.testing.assert_array_equal(ifer.inputs([record])["trajectory"][0],
                                  ifer.trajectory(record.landmarks, 64))
    # One alignment per clip, from the mean eye centres: 100 px between the eyes
    # become 0.4 of the crop's side, so 4 px become 4 * 0.4 / 100 = 0.016.
    shift = np.array([5.0, -3.0]) * 0.4 / 100
    np.testing.assert_allclose(path[1], np.tile(shift, (68, 1)), atol=1e-6)
    expected = np.tile(shift, (68, 1))
    expected[48] += (0.016, 0.0)
    np.testing.assert_allclose(path[2], expected, atol=1e-6)
    eyes = crops.eye_centres(path[0][None])
    # The mean eye centres over the 3 frames land on the targets, so frame 1 sits
    # two thirds of the shift away from them.
    np.testing.assert_allclose(eyes, [[-0.2, -0.12], [0.2, -0.12]] - 2 * shift / 3, atol=1e-6)


def test_the_network_has_two_branches_and_a_joint_output():
    model = ifer.build(7)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # Convs 2,432 + 51,264 + 36,928, FC 1,048,832 + 1,799 (appearance); FC 40,900 +
    # 60,600 + 4,207 (geometry); the trajectory standardization holds 2 x 408 + 1.
    assert trainable == 1_246_962 and model.count_params() - trainable == 817
    assert sorted(model.output) == sorted(ifer.OUTPUTS)


def test_records_without_crops_are_refused():
    face = _face()
    record = _record(np.stack([face] * 3).astype(np.float32))
    record.crops = record.crop_frames = None
    with pytest.raises(ValueError, match="S001/001 has none: preprocess with --crops"):
        ifer.inputs([record])
