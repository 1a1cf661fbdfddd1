"""Training the autoencoder: Keras' fit(x, x, ...) on frame stacks, one compiled call per epoch.

reference_fit is the algorithm in its plain form (Keras' own fit on the stacked vectors); fit
computes the same batches, updates and losses without the stacked copy of the vectors and with
each epoch compiled as a whole, which makes it about twice as fast on 2 CPU cores. The tests
compare the two in float64.
"""
import logging
import math
import time

import numpy as np

from dcase_baseline import frame_stacks, progress, scoring
from dcase_baseline.keras_backend import keras
from dcase_baseline.validation import split
log = logging.getLogger("baseline")

# XLA makes a step on 2 CPU cores about a quarter faster but takes seconds to compile, so
# TensorFlow uses it for long runs only; JAX always compiles.
XLA_MIN_STEPS = 2000


def use_xla(n_vectors, fit_config):
    """Whether to compile the training step with XLA, by the whole training's step count."""
    n_steps = fit_config["epochs"] * math.ceil(n_vectors / fit_config["batch_size"])
    backend = keras.backend.backend()
    return backend == "jax" or (backend == "tensorflow" and n_steps >= XLA_MIN_STEPS)


def seed_everything(seed):
    """Seed Python, NumPy and the Keras backend; also makes TensorFlow's CPU ops deterministic."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


def reference_fit(model, stacks, fit_config, rng=None, validation_clips=None):
    """Keras' own fit(x, x, batch_size, epochs, shuffle, validation_split) on the stacked
    vectors: the algorithm as the original runs it. Returns fit's history.

    With shuffle and an rng, each epoch is one fit call on the rng's permutation of the
    training vectors, the draws fit makes, so that the two can be compared step by step. With
    validation_clips, those clips' vectors are fit's validation_data.
    """
    options = {"batch_size": fit_config["batch_size"], "verbose": 0}
    shuffled = fit_config["shuffle"] and rng is not None
    if validation_clips is None and not shuffled:
        x = stacks.vectors(stacks.starts)
        return model.fit(x, x, epochs=fit_config["epochs"], shuffle=fit_config["shuffle"],
                         validation_split=fit_config["validation_split"], **options).history
    train, validation = (stacks.vectors(s) for s in split(
        stacks, fit_config["validation_split"], validation_clips))
    validation_data = (validation, validation) if len(validation) else None
    if not shuffled:
        return model.fit(train, train, epochs=fit_config["epochs"], shuffle=False,
                         validation_data=validation_data, **options).history
    history = {}
    for _ in range(fit_config["epochs"]):
        order = rng.permutation(len(train))
        epoch = model.fit(train[order], train[order], epochs=1, shuffle=False,
                          validation_data=validation_data, **options).history
        for key, values in epoch.items():
            history.setdefault(key, []).extend(values)
    return history


def fit(model, stacks, fit_config, rng, xla=False, validation_clips=None, checkpoint=None):
    """reference_fit's training without the stacked copy: the same batches, updates and losses.

    Validation vectors taken from the end before shuffling, a fresh permutation (drawn from
    rng) of the training vectors every epoch, a smaller last batch, loss the batch-size-weighted
    mean of the batch losses and val_loss the mean squared error of the validation vectors
    after the epoch. Returns {"loss", "val_loss" (when there is a validation split), "seconds"}
    per epoch. validation_clips: as in split. checkpoint: a checkpoints.Checkpoint, resumed
    where it holds a state of this training, and saved as it asks.
    """
    batch_size, verbose = fit_config["batch_size"], fit_config["verbose"]
    train, validation = split(stacks, fit_config["validation_split"], validation_clips)
    run_epoch = epoch_function(model, stacks, validation, xla)
    first, history = (checkpoint.restore(model, rng) if checkpoint
                      else (0, {"loss": [], "seconds": []}))
    epochs = progress.bar(range(first, fit_config["epochs"]), desc="epochs", initial=first,
                          total=fit_config["epochs"], disable=None if verbose == 1 else True)
    for epoch in epochs:
        start = time.perf_counter()
        order = rng.permutation(len(train)) if fit_config["shuffle"] else np.arange(len(train))
        loss, val_loss = run_epoch(*batches(train[order], batch_size))
        history["loss"].append(loss / len(train))
        if val_loss is not None:
            history.setdefault("val_loss", []).append(val_loss)
        history["seconds"].append(time.perf_counter() - start)
        losses = {key: f"{values[-1]:.4g}" for key, values in history.items() if key != "seconds"}
        epochs.set_postfix(losses)
        if verbose == 2:
            log.info("epoch %d/%d: %s, %.1f s", epoch + 1, fit_config["epochs"],
                     ", ".join(f"{k} {v}" for k, v in losses.items()), history["seconds"][-1])
        if checkpoint and checkpoint.due(epoch + 1):
            checkpoint.save(model, rng, epoch + 1, history)
    return history


def batches(starts, batch_size):
    """The full batches as one (n, batch_size) array, and the smaller last batch (maybe empty)."""
    n_full = len(starts) // batch_size * batch_size
    return starts[:n_full].reshape(-1, batch_size), starts[n_full:]


def epoch_function(model, stacks, validation, xla):
    """The backend's epoch: (full batches, last batch) -> (summed batch losses, validation loss
    or None), training the model on the batches in order, then computing the mean squared
    error of the validation vectors."""
    model.optimizer.build(model.trainable_variables)
    epoch = {"jax": jax_epoch, "tensorflow": tensorflow_epoch}.get(keras.backend.backend(),
                                                                   batch_by_batch_epoch)
    return epoch(model, stacks, validation, xla)


def stacked_vectors(frames, starts, n_frames):
    """FrameStacks.vectors in Keras ops, inside a compiled TensorFlow or JAX function, cast to
    floatx as fit casts its data."""
    rows = keras.ops.expand_dims(starts, 1) + keras.ops.arange(n_frames, dtype=starts.dtype)
    vectors = keras.ops.reshape(keras.ops.take(frames, rows, axis=0),
                                (-1, n_frames * frames.shape[1]))
    return keras.ops.cast(vectors, keras.config.floatx())


def validation_loss(model, stacks, validation):
    return scoring.mean_squared_error(model, stacks, validation) if len(validation) else None


def tensorflow_epoch(model, stacks, validation, xla):
    """One epoch as a single TensorFlow function (a Python call per step costs as much as the
    step's arithmetic on 2 cores), then the validation loss."""
    import tensorflow as tf

    # in place where the buffer allows (frame_stacks.frame_index makes it so): a copy would add
    # the training data's size to the peak memory
    if frame_stacks.is_aligned(stacks.frames):
        frames = tf.experimental.dlpack.from_dlpack(stacks.frames.__dlpack__())
    else:
        frames = tf.convert_to_tensor(stacks.frames)
    n_frames = stacks.n_frames

    def step(starts):
        x = stacked_vectors(frames, starts, n_frames)
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=x, y_pred=model(x, training=True), training=True)
        model.optimizer.apply(tape.gradient(loss, model.trainable_variables),
                              model.trainable_variables)
        return tf.cast(loss, tf.float64) * tf.cast(tf.shape(starts)[0], tf.float64)

    @tf.function(jit_compile=True)
    def static_epoch(full, last):
        # XLA needs static shapes: the full batches in a loop, the smaller last one apart
        total = tf.constant(0.0, tf.float64)
        for i in tf.range(full.shape[0]):
            total += step(full[i])
        if last.shape[0]:
            total += step(last)
        return total

    @tf.function(jit_compile=False)
    def dynamic_epoch(starts, batch_size):
        # one step of any batch size: traced once, not twice (seconds, on short runs)
        total = tf.constant(0.0, tf.float64)
        for begin in tf.range(0, tf.shape(starts, out_type=tf.int64)[0], batch_size):
            total += step(starts[begin:begin + batch_size])
        return total

    def run(full, last):
        if xla:
            loss = float(static_epoch(full, last))
        else:
            batch_size = full.shape[1] if full.size else len(last)
            loss = float(dynamic_epoch(np.concatenate([full.ravel(), last]), batch_size))
        return loss, validation_loss(model, stacks, validation)

    return run


def jax_epoch(model, stacks, validation, xla=True):
    """One epoch, validation included, as a single jitted function (JAX always compiles): a
    jax.lax.scan over Keras' stateless model and optimizer, then the validation loss on the
    device.

    The frames are an argument of the compiled function, not a constant captured in it: the
    program stays small, compiles faster and can be kept in JAX's persistent cache.
    """
    import jax
    import jax.numpy as jnp

    n_frames = stacks.n_frames
    frames = jnp.asarray(stacks.frames)      # copied to the device once
    val_full, val_last = (jnp.asarray(a) for a in batches(validation, scoring.BATCH_VECTORS))
    metrics = [v.value for v in model.metrics_variables]

    def loss_and_updates(trainable, non_trainable, x):
        y, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        loss, _ = model.stateless_compute_loss(trainable, non_trainable, metrics, x=x, y=x,
                                               y_pred=y, training=True)
        return loss, non_trainable

    gradient = jax.value_and_grad(loss_and_updates, has_aux=True)

    @jax.jit
    def epoch(state, frames, full, last, val_full, val_last):
        def step(state, starts):
            trainable, non_trainable, optimizer = state
            x = stacked_vectors(frames, starts, n_frames)
            (loss, non_trainable), grads = gradient(trainable, non_trainable, x)
            trainable, optimizer = model.optimizer.stateless_apply(optimizer, grads, trainable)
            return (trainable, non_trainable, optimizer), loss * starts.shape[0]

        def error_sum(starts):
            x = stacked_vectors(frames, starts, n_frames)
            y, _ = model.stateless_call(state[0], state[1], x, training=False)
            # per vector first, as scoring.squared_errors does
            return jnp.sum(jnp.sum(jnp.square(y - x), axis=1))

        state, losses = jax.lax.scan(step, state, full)
        total = losses.sum()
        if last.shape[0]:
            state, loss = step(state, last)
            total += loss
        errors = jax.lax.map(error_sum, val_full).sum() if val_full.shape[0] else 0.0
        if val_last.shape[0]:
            errors += error_sum(val_last)
        return state, total, errors

    variables = (model.trainable_variables, model.non_trainable_variables,
                 model.optimizer.variables)

    def run(full, last):
        state, total, errors = epoch(tuple([v.value for v in group] for group in variables),
                                     frames, full, last, val_full, val_last)
        for group, values in zip(variables, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return float(total), (float(errors) / (len(validation) * stacks.dim)
                              if len(validation) else None)

    return run


def batch_by_batch_epoch(model, stacks, validation, xla=False):
    """One train_on_batch call per batch, for the other backends, then the validation loss."""
    def run(full, last):
        total = 0.0
        for starts in list(full) + ([last] if len(last) else []):
            x = stacks.vectors(starts)
            total += model.train_on_batch(x, x) * len(starts)
        return total, validation_loss(model, stacks, validation)

    return run
