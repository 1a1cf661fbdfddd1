"""frame_stacks.py: the clips' frames held once, and the frame-stack vectors gathered from them."""
import numpy as np

from dcase_baseline import frame_stacks


def test_frame_stacks_are_frame_major():
    log_mel = np.arange(6 * 3, dtype=np.float32).reshape(6, 3)   # 6 frames of 3 mels
    stacks = frame_stacks.frame_index([log_mel], 4)
    vectors = stacks.vectors(stacks.starts)
    assert vectors.shape == (3, 12)
    assert vectors[1].tolist() == log_mel[1:5].ravel().tolist()
    stacks = frame_stacks.frame_index([log_mel], 7)
    assert stacks.vectors(stacks.starts).shape == (0, 21)


def test_frame_index_keeps_clips_apart_and_applies_the_hop():
    clips = [np.full((6, 2), 1.0, np.float32), np.full((4, 2), 2.0, np.float32),
             np.full((1, 2), 3.0, np.float32)]
    stacks = frame_stacks.frame_index(clips, n_frames=3, n_hop_frames=2)
    assert stacks.starts.tolist() == [0, 2, 6] and stacks.owners.tolist() == [0, 0, 1]
    assert stacks.n_clips == 3 and stacks.dim == 6
    vectors = stacks.vectors(stacks.starts)
    assert vectors.tolist() == [[1.0] * 6, [1.0] * 6, [2.0] * 6]


def test_frames_start_on_a_64_byte_boundary():
    # TensorFlow reads the frames in place only then (DLPack), else copies them
    for n_clips in (1, 3, 7):
        log_mels = [np.ones((9 + n, 4), np.float32) for n in range(n_clips)]
        frames = frame_stacks.frame_index(log_mels, 5).frames
        assert frames.ctypes.data % 64 == 0 and frames.flags.c_contiguous
        np.testing.assert_array_equal(frames, np.concatenate(log_mels))
