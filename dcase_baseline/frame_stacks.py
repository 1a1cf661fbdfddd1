"""The log-mel frames of many clips held once in memory, and the frame-stack vectors gathered
from them: the training data of 00_train.py and the test data of 01_test.py.

Only NumPy: a GPU machine without librosa can train on frames made elsewhere.
"""
from typing import NamedTuple

import numpy as np

# TensorFlow reads a NumPy buffer in place (DLPack) only when it starts on this boundary.
ALIGNMENT = 64


def is_aligned(array):
    """Whether an array is C-contiguous and starts on the ALIGNMENT boundary."""
    return array.flags.c_contiguous and array.ctypes.data % ALIGNMENT == 0


def aligned_empty(shape, dtype):
    """np.empty starting on the ALIGNMENT boundary."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + size].view(dtype).reshape(shape)


class FrameStacks(NamedTuple):
    """The frame-stack vectors of many clips without the stacked copy.

    Vector k is frames[starts[k] : starts[k] + n_frames] flattened (frame-major) and belongs to
    clip owners[k]; no vector crosses a clip boundary.
    """
    frames: np.ndarray      # (total frames, n_mels) float32, every clip's frames in order
    starts: np.ndarray      # (n_vectors,) int64
    owners: np.ndarray      # (n_vectors,) clip of each vector, 0 .. n_clips - 1
    n_clips: int
    n_frames: int

    @property
    def dim(self):
        """Values per vector: n_frames * n_mels."""
        return self.n_frames * self.frames.shape[1]

    def vectors(self, starts):
        """The vectors that start at the given frame rows: (len(starts), dim)."""
        rows = starts[:, None] + np.arange(self.n_frames)
        return self.frames[rows].reshape(len(starts), self.dim)


def frame_index(log_mels, n_frames, n_hop_frames=1, consume=False):
    """FrameStacks of the clips, keeping every n_hop_frames-th vector of each clip.

    The frames are allocated on the ALIGNMENT boundary, so that TensorFlow can train on them
    in place. With consume, each entry of log_mels is set to None once copied, so that the
    frames are held in memory once rather than twice.
    """
    lengths = np.array([len(m) for m in log_mels])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    frames = aligned_empty((offsets[-1], log_mels[0].shape[1]), np.float32)
    starts, owners = [], []
    for clip, length in enumerate(lengths):
        frames[offsets[clip]:offsets[clip + 1]] = log_mels[clip]
        if consume:
            log_mels[clip] = None
        first = np.arange(0, max(length - n_frames + 1, 0), n_hop_frames)
        starts.append(offsets[clip] + first)
        owners.append(np.full(len(first), clip))
    return FrameStacks(frames, np.concatenate(starts).astype(np.int64),
                       np.concatenate(owners), len(lengths), n_frames)
