"""FME synthesis from CK+ (Section V-B): onsets (automatic and from a CSV), the 4x
interpolation of 3 onset frames to 12, flow-guided frames, the CK+-layout tree the
ckplus_fme and ckplus_mixed readers read, and the drop in SFEM."""

import numpy as np
import pytest

from lfm_tf import features, video
from lfm_tf.datasets import ckplus, synthetic, synthetic_render
from lfm_tf.table8 import ckplus_fge, ckplus_fme, ckplus_mixed, fme
from tests.fixtures import dataset_trees


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """One subject's 7 rendered CK+ sequences and the FME set synthesized from them."""
    root = str(tmp_path_factory.mktemp("ckplus"))
    clips = dataset_trees.build_ckplus_rendered_tree(root)
    out = str(tmp_path_factory.mktemp("fme"))
    return {"root": root, "out": out, "clips": clips, "synthesis": fme.synthesize(root, out)}


def _track(clip) -> np.ndarray:
    return np.stack([ckplus.read_landmark_file(p) for p in clip.landmark_files])


def test_every_sequence_becomes_12_frames_with_a_lower_sfem(tree):
    synthesis = tree["synthesis"]
    assert len(synthesis.sequences) == 7 and synthesis.skipped == []
    fge = ckplus_fge.read(tree["root"], landmarks="provided")
    made = ckplus_fme.read(tree["out"], landmarks="provided")
    assert [(c.subject, c.clip_id, c.label) for c in made.clips] == \
        [(c.subject, c.clip_id, c.label) for c in fge.clips]
    assert made.summary().startswith("ckplus_fme: 7 clips, 1 subjects (anger 1, contempt 1")
    for clip, sequence in zip(made.clips, synthesis.sequences):
        assert clip.dataset == "ckplus_fme" and clip.fps == 30.0 and clip.apex == 12
        assert len(clip.frames) == len(clip.landmark_files) == fme.FME_FRAMES
        # fme.csv's SFEM is Eq. 3 on the landmark files the reader hands on (T = 1).
        assert sequence.sfem_fme == pytest.approx(features.sfem(_track(clip), 1), rel=1e-5)
        assert sequence.sfem_fme < sequence.sfem_fge
    assert synthesis.mean_sfem_fme < 0.5 * synthesis.mean_sfem_fge
    assert "mean SFEM (Eq. 3): FGE " in synthesis.summary()


def test_landmarks_move_linearly_between_the_three_source_frames(tree):
    fge = {c.clip_id: c for c in ckplus_fge.read(tree["root"], landmarks="provided").clips}
    made = ckplus_fme.read(tree["out"], landmarks="provided").clips[0]
    sequence = tree["synthesis"].sequences[0]
    first = sequence.source_frames[0]
    assert sequence.source_frames == (first, first + 1, first + 2)
    source = _track(fge[made.clip_id])[first - 1:first + 2].astype(np.float64)
    track = _track(made)
    # Times 0, 2/11, ..., 2 in source frames: frame 1 and 12 are the first and third
    # source frames, frame 6 lies 10/11 of the way from the first to the second.
    np.testing.assert_allclose(track[0], source[0], atol=1e-3)
    np.testing.assert_allclose(track[11], source[2], atol=1e-3)
    np.testing.assert_allclose(track[5], source[0] + 10 / 11 * (source[1] - source[0]), atol=1e-3)
    np.testing.assert_allclose(track[7], source[1] + 3 / 11 * (source[2] - source[1]), atol=1e-3)


def test_automatic_onset_is_where_the_movement_starts(tree):
    still = np.tile(synthetic.generate(1, 1, classes="ckplus", noise_px=0.0, drift_px=0.0)[0]
                    .landmarks[:1].astype(np.float64), (9, 1, 1))
    still[4:, 48, 0] -= 2.0 * np.arange(1, 6)  # the mouth corner moves from frame 5 on
    # Frames 1-4 are still; frame 5 is the first that moves; the onset (0-based 3)
    # is the last still frame, so the 3 frames hold the start of the movement.
    assert fme.auto_onset(still) == 3
    assert fme.auto_onset(still[:6]) == 3  # 3 frames from there still fit
    assert fme.auto_onset(still[:5]) == 2  # they would not: the last 3 frames
    # The rendered sequences: their expressions start moving after frame `onset`.
    for clip, sequence in zip(tree["clips"], tree["synthesis"].sequences):
        assert sequence.onset_source == "auto"
        assert 0 <= sequence.onset - clip.onset <= 3, clip.clip_id


def test_flow_guided_frames_are_closer_to_the_truth_than_a_cross_fade(tree):
    clip = ckplus_fge.read(tree["root"], landmarks="provided").clips[4]  # happy
    track = _track(clip).astype(np.float64)
    first, last = (video.read_image(clip.frames[k]) for k in (0, -1))
    image, anchor = synthetic_render.photo()
    truth = synthetic_render.PiecewiseAffineWarp(image, anchor)((track[0] + track[-1]) / 2)
    middle = fme.interpolate_frames([first, last], [0.5])[0]
    fade = (first.astype(np.float64) + last) / 2
    face = np.s_[int(track[:, :, 1].min()):int(track[:, :, 1].max()),
                 int(track[:, :, 0].min()):int(track[:, :, 0].max())]
    flow_error = np.abs(middle[face].astype(np.float64) - truth[face]).mean()
    fade_error = np.abs(fade[face] - truth[face]).mean()
    assert flow_error < 0.5 * fade_error
    # On a source frame the source comes back untouched.
    np.testing.assert_array_equal(fme.interpolate_frames([first, last], [0.0, 1.0])[1], last)


def test_onsets_from_a_csv_and_what_it_does_not_name(tree, tmp_path):
    onsets = tmp_path / "onsets.csv"
    onsets.write_text("subject,sequence,onset,note\nS001,001,2,by hand\nS001,002,99,\n"
                      "S009,001,1,\n")
    out = tmp_path / "fme"
    synthesis = fme.synthesize(tree["root"], str(out), onsets_csv=str(onsets))
    assert [(s.sequence, s.onset, s.source_frames, s.onset_source)
            for s in synthesis.sequences] == [("001", 2, (2, 3, 4), "csv")]
    reasons = dict(synthesis.skipped)
    assert reasons.pop("ckplus_fge/S009/001") == f"in {onsets} but not a labelled sequence on disk"
    assert reasons.pop("ckplus_fge/S001/002").startswith("onset frame 99 is not one of its "
                                                         "frames 1..")
    assert reasons == {f"ckplus_fge/S001/00{k}": f"no onset in {onsets}" for k in range(3, 8)}
    assert [c.clip_id for c in ckplus_fme.read(str(out)).clips] == ["001"]
    with pytest.raises(ValueError, match=r"no column\(s\) \['onset'\]"):
        onsets.write_text("subject,sequence,frame\nS001,001,2\n")
        fme.read_onsets(str(onsets))


def test_mixed_set_is_a_seeded_half_of_each(tree):
    mixed = ckplus_mixed.read(tree["root"], fme_dir=tree["out"], landmarks="provided", seed=0)
    sources = [c.dataset for c in mixed.clips]
    assert len(sources) == 7 and sources.count("ckplus_fme") == 3
    assert [c.clip_id for c in mixed.clips] == [f"00{k}" for k in range(1, 8)]
    again = ckplus_mixed.read(tree["root"], fme_dir=tree["out"], landmarks="provided", seed=0)
    assert [c.dataset for c in again.clips] == sources
    other = ckplus_mixed.read(tree["root"], fme_dir=tree["out"], landmarks="provided", seed=1)
    assert [c.dataset for c in other.clips] != sources
    with pytest.raises(ValueError, match="holds no synthesized FME set"):
        ckplus_fme.read(tree["root"])
