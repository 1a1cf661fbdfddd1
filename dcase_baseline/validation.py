"""Which training vectors validate the fit rather than train it: Keras' validation_split (the
last vectors) or, with fit.validation: clips, whole clips drawn with the seed. NumPy only, so
that the scripts can check a split before importing Keras."""
import math

import numpy as np


def n_training_vectors(n_vectors, validation_split):
    """How many vectors Keras' validation_split leaves for training."""
    return math.floor(n_vectors * (1.0 - validation_split))


def split(stacks, validation_split, validation_clips=None):
    """(training, validation) vector starts. By default the validation vectors are the last
    ones, taken before shuffling, as Keras' validation_split takes them; with validation_clips
    (clip indices, fit.validation: clips) they are every vector of those clips."""
    if validation_clips is None:
        n_train = n_training_vectors(len(stacks.starts), validation_split)
        return stacks.starts[:n_train], stacks.starts[n_train:]
    held_out = np.isin(stacks.owners, validation_clips)
    return stacks.starts[~held_out], stacks.starts[held_out]


def validation_clips(groups, validation_split, rng):
    """fit.validation: clips: whole clips held out for validation, drawn with rng from each
    group (a training clip's section and domain) in proportion, round(n * validation_split)
    of its n clips, but never all of them: every group keeps a clip for training. Returns the
    clip indices, sorted."""
    chosen = []
    for group in dict.fromkeys(groups):
        members = [i for i, g in enumerate(groups) if g == group]
        chosen += rng.choice(members, size=_held_out(len(members), validation_split),
                             replace=False).tolist()
    return sorted(chosen)


def _held_out(n_clips, validation_split):
    return min(round(n_clips * validation_split), n_clips - 1)


def n_validation_clips(groups, validation_split):
    """How many clips validation_clips holds out (the draw does not change the count)."""
    return sum(_held_out(groups.count(group), validation_split) for group in set(groups))
