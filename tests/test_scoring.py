"""scoring.py with fake models in NumPy (no Keras): reconstruction errors, clip scores, batching."""
import functools

import numpy as np
import pytest

from dcase_baseline import frame_stacks
from dcase_baseline import scoring


class Half:
    """A model that reconstructs x as x / 2, so that each value's error is (x / 2)^2; it
    records the size of every batch it is given."""

    def __init__(self):
        self.batches = []

    def predict_on_batch(self, x):
        self.batches.append(len(x))
        return np.asarray(x) * 0.5


class Linear:
    """A model that reconstructs x as x @ weights (in float32, as a Keras model would)."""

    def __init__(self, weights):
        self.weights = weights.astype(np.float32)

    def predict_on_batch(self, x):
        return np.asarray(x) @ self.weights


def small_stacks():
    """Three clips of 2 mels, stacks of 2 frames: clip 0 has 3 vectors, clip 1 has 2, clip 2
    (one frame) has none."""
    clip_0 = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.float32)
    clip_1 = np.array([[1, 1], [2, 2], [3, 3]], np.float32)
    clip_2 = np.array([[9, 9]], np.float32)
    return frame_stacks.frame_index([clip_0, clip_1, clip_2], n_frames=2)


# Worked out by hand for Half: a vector's squared error is (1/4) * the sum of its values' squares.
#   clip 0: vectors (1, 2, 3, 4), (3, 4, 5, 6), (5, 6, 7, 8): sums of squares 30, 86, 174
#   clip 1: vectors (1, 1, 2, 2), (2, 2, 3, 3): sums of squares 10, 26
VECTOR_ERRORS = [30 / 4, 86 / 4, 174 / 4, 10 / 4, 26 / 4]
CLIP_SCORES = [(30 + 86 + 174) / 4 / (3 * 4), (10 + 26) / 4 / (2 * 4)]   # mean over 12 and 8 values


def test_the_stacks_are_as_worked_out_by_hand():
    stacks = small_stacks()
    assert stacks.starts.tolist() == [0, 1, 2, 4, 5] and stacks.owners.tolist() == [0, 0, 0, 1, 1]
    assert stacks.vectors(stacks.starts).tolist() == [
        [1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [1, 1, 2, 2], [2, 2, 3, 3]]


def test_squared_errors_by_hand():
    stacks = small_stacks()
    assert scoring.squared_errors(Half(), stacks, stacks.starts).tolist() == VECTOR_ERRORS


@pytest.mark.parametrize("batch_vectors", [1, 2, 3, 4, 5, 8192])
def test_batching_does_not_change_the_squared_errors(batch_vectors):
    stacks = small_stacks()
    model = Half()
    errors = scoring.squared_errors(model, stacks, stacks.starts, batch_vectors=batch_vectors)
    assert errors.dtype == np.float64 and errors.tolist() == VECTOR_ERRORS
    # every vector goes through the model once, in batches of at most batch_vectors
    assert sum(model.batches) == 5 and max(model.batches) == min(batch_vectors, 5)


def test_clip_scores_by_hand_and_nan_for_a_clip_without_vectors():
    scores = scoring.clip_scores(Half(), small_stacks())
    assert scores.shape == (3,)
    assert scores[:2] == pytest.approx(CLIP_SCORES, rel=1e-15)
    assert np.isnan(scores[2])


@pytest.mark.parametrize("batch_vectors", [2, 3])     # neither divides the 5 vectors
def test_batching_does_not_change_the_clip_scores(monkeypatch, batch_vectors):
    stacks = small_stacks()
    whole = scoring.clip_scores(Half(), stacks)
    model = Half()
    monkeypatch.setattr(scoring, "squared_errors",
                        functools.partial(scoring.squared_errors, batch_vectors=batch_vectors))
    batched = scoring.clip_scores(model, stacks)
    assert len(model.batches) == -(-5 // batch_vectors) and model.batches[-1] == 5 % batch_vectors
    np.testing.assert_array_equal(batched, whole)


def test_clips_without_any_vectors_are_all_nan_and_need_no_model_call():
    stacks = frame_stacks.frame_index([np.ones((1, 2), np.float32), np.ones((3, 2), np.float32)],
                                      n_frames=4)
    model = Half()
    scores = scoring.clip_scores(model, stacks)
    assert scores.shape == (2,) and np.isnan(scores).all() and model.batches == []
    assert np.isnan(scoring.reference_clip_scores(model, stacks)).all()


def test_reference_clip_scores_by_hand():
    scores = scoring.reference_clip_scores(Half(), small_stacks())
    assert scores[:2] == pytest.approx(CLIP_SCORES, rel=1e-15) and np.isnan(scores[2])


def random_stacks(seed=0, n_frames=5, n_hop_frames=1):
    """Clips of 64 mels and various lengths (some shorter than a stack) with dB-like values."""
    rng = np.random.default_rng(seed)
    lengths = [31, 4, 57, 5, 1, 40, 13]
    log_mels = [(rng.normal(-30, 15, size=(n, 64))).astype(np.float32) for n in lengths]
    return frame_stacks.frame_index(log_mels, n_frames, n_hop_frames)


@pytest.mark.parametrize("n_hop_frames", [1, 3])
def test_clip_scores_equal_the_reference_clip_scores(monkeypatch, n_hop_frames):
    stacks = random_stacks(n_hop_frames=n_hop_frames)
    rng = np.random.default_rng(1)
    model = Linear(np.eye(stacks.dim) * 0.9 + rng.normal(0, 0.01, (stacks.dim, stacks.dim)))
    reference = scoring.reference_clip_scores(model, stacks)
    assert np.isnan(reference).tolist() == [False, True, False, False, True, False, False]
    scores = scoring.clip_scores(model, stacks)
    np.testing.assert_allclose(scores, reference, rtol=1e-6)
    # many small batches that do not divide the vectors: the same scores
    monkeypatch.setattr(scoring, "squared_errors",
                        functools.partial(scoring.squared_errors, batch_vectors=8))
    assert len(stacks.starts) % 8 != 0
    np.testing.assert_allclose(scoring.clip_scores(model, stacks), reference, rtol=1e-6)


def test_clip_scores_equal_a_plain_float64_loop():
    """An independent computation: each clip's vectors built by slicing its own frames."""
    rng = np.random.default_rng(2)
    log_mels = [rng.normal(size=(n, 8)).astype(np.float32) for n in (6, 9, 3)]
    weights = rng.normal(0, 0.3, (24, 24))
    stacks = frame_stacks.frame_index(log_mels, n_frames=3)
    scores = scoring.clip_scores(Linear(weights), stacks)
    for log_mel, score in zip(log_mels, scores):
        x = np.array([log_mel[t:t + 3].ravel() for t in range(len(log_mel) - 2)], np.float64)
        # the model computes in float32
        y = (x.astype(np.float32) @ weights.astype(np.float32)).astype(np.float64)
        assert score == pytest.approx(np.mean((x - y) ** 2), rel=1e-6)


def test_mean_squared_error_by_hand():
    stacks = small_stacks()
    # vector 0 of clip 0 and vector 0 of clip 1: sums of squares 30 and 10, (1/4) of them over
    # 2 vectors of 4 values
    starts = stacks.starts[[0, 3]]
    assert scoring.mean_squared_error(Half(), stacks, starts) == pytest.approx(
        (30 + 10) / 4 / (2 * 4), rel=1e-15)
    assert scoring.mean_squared_error(Half(), stacks, stacks.starts) == pytest.approx(
        sum(VECTOR_ERRORS) / (5 * 4), rel=1e-15)
