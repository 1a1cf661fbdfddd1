"""Reconstruction errors of frame-stack vectors, and a clip's anomaly score from them.

reference_clip_scores is the score in its plain form (one model call per clip, in float64, as
the original computes it); clip_scores computes the same scores with many clips per model call.
The model is anything with predict_on_batch; nothing here imports Keras.
"""
import numpy as np

# Vectors per model call: about 26 clips of 10 s.
BATCH_VECTORS = 8192


def predictions(model, stacks, starts, batch_vectors=BATCH_VECTORS):
    """(index of the batch's first vector, x, model(x)) for the vectors of stacks starting at
    starts, batch_vectors at a time: many clips' vectors go through the model in one call."""
    for begin in range(0, len(starts), batch_vectors):
        x = stacks.vectors(starts[begin:begin + batch_vectors])
        yield begin, x, np.asarray(model.predict_on_batch(x))


def squared_errors(model, stacks, starts, batch_vectors=BATCH_VECTORS):
    """Sum over its values of (x - model(x))^2 for each vector of stacks starting at starts.

    Each sum runs in the model's float type (640 terms in float32: relative error about 1e-7,
    five times faster than float64) and is returned as float64, in which the callers add
    vectors up.
    """
    errors = np.empty(len(starts))
    for begin, x, y in predictions(model, stacks, starts, batch_vectors):
        error = y - x
        errors[begin:begin + len(x)] = np.einsum("ij,ij->i", error, error)
    return errors


def mean_squared_error(model, stacks, starts):
    """Mean of (x - model(x))^2 over the vectors at starts and their values (Keras' MSE loss)."""
    return float(np.sum(squared_errors(model, stacks, starts)) / (len(starts) * stacks.dim))


def clip_scores(model, stacks):
    """Anomaly score of each clip of stacks: the mean of (x - model(x))^2 over its vectors and
    their values. The scores equal those of one predict call per clip in float64 to about 1e-7;
    a clip without vectors gets NaN."""
    sums = np.bincount(stacks.owners, weights=squared_errors(model, stacks, stacks.starts),
                       minlength=stacks.n_clips)
    counts = np.bincount(stacks.owners, minlength=stacks.n_clips) * stacks.dim
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def reference_clip_scores(model, stacks):
    """Anomaly score of each clip of stacks, one model call per clip: the mean of
    (x - model(x))^2 over the clip's vectors and their values, in float64."""
    scores = np.full(stacks.n_clips, np.nan)
    for clip in range(stacks.n_clips):
        starts = stacks.starts[stacks.owners == clip]
        if len(starts):
            x = stacks.vectors(starts)
            error = x.astype(np.float64) - np.asarray(model.predict_on_batch(x), np.float64)
            scores[clip] = np.mean(np.square(error))
    return scores

