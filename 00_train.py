"""Train one autoencoder per machine type: python 00_train.py -d (development) | -e (evaluation).

For each machine folder: log-mel frame stacks of every training clip, Keras fit with the
configured epochs, batch size, shuffling and validation split, then a gamma distribution fitted
to the training clips' anomaly scores (the decision threshold of 01_test.py).
"""
import math
import time

import numpy as np

import clips
import common as com
import frame_stacks

# Keras (TensorFlow), librosa, SciPy and matplotlib take seconds to import: the functions
# import them where they need them, after main() has checked the command line and the
# configuration, so that -h and mistakes are answered at once.


# XLA makes a step on 2 CPU cores about a quarter faster but takes seconds to compile, so
# TensorFlow uses it for long runs only; JAX always compiles.
XLA_MIN_STEPS = 2000


def use_xla(n_steps):
    import keras
    backend = keras.backend.backend()
    return backend == "jax" or (backend == "tensorflow" and n_steps >= XLA_MIN_STEPS)


def seed_everything(seed):
    """Seed Python, NumPy and the Keras backend; also makes TensorFlow's CPU ops deterministic."""
    import keras
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


def start_training_features(machine_dir, dev, config, early=False):
    """The machine type's training clips, and their log-mel spectrograms under way."""
    import features
    files = clips.train_files(machine_dir, dev)
    return files, features.start_log_mels(files, config["feature"],
                                          features.cache_directory(config),
                                          features.early_workers(len(files)) if early else None)


def training_log_mels(files, started, config, skip_bad_files):
    """Log-mel spectrograms of the training clips long enough for one frame stack, and the
    messages of the unreadable (skipped) and the silent (used) clips."""
    import features
    feature = config["feature"]
    log_mels, bad, silent = features.finish_log_mels(started, skip_bad_files, desc="train clips")
    features.stop_workers(started)
    short = features.too_short(files, log_mels, feature["n_frames"])
    for message in short.values():
        com.log.warning("skipping %s", message)
    kept = [m for i, m in enumerate(log_mels) if m is not None and i not in short]
    return kept, bad, silent


def stacked_vectors(frames, starts, n_frames):
    """FrameStacks.vectors in Keras ops, inside a compiled TensorFlow or JAX function, cast to
    floatx as fit casts its data."""
    import keras
    rows = keras.ops.expand_dims(starts, 1) + keras.ops.arange(n_frames, dtype=starts.dtype)
    vectors = keras.ops.reshape(keras.ops.take(frames, rows, axis=0),
                                (-1, n_frames * frames.shape[1]))
    return keras.ops.cast(vectors, keras.config.floatx())


def batches(starts, batch_size):
    """The full batches as one (n, batch_size) array, and the smaller last batch (maybe empty)."""
    n_full = len(starts) // batch_size * batch_size
    return starts[:n_full].reshape(-1, batch_size), starts[n_full:]


def tensorflow_epoch(model, stacks, xla):
    """One epoch as a single TensorFlow function: a Python call per step costs as much as the
    step's arithmetic on 2 cores."""
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
            return float(static_epoch(full, last))
        batch_size = full.shape[1] if full.size else len(last)
        return float(dynamic_epoch(np.concatenate([full.ravel(), last]), batch_size))

    return run


def jax_epoch(model, stacks, validation):
    """One epoch, validation included, as a single jitted function: a jax.lax.scan over Keras'
    stateless model and optimizer, then the validation loss on the device.

    The frames are an argument of the compiled function, not a constant captured in it: the
    program stays small, compiles faster and can be kept in JAX's persistent cache.
    """
    import jax
    import jax.numpy as jnp

    import scoring
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


def batch_by_batch_epoch(model, stacks):
    """One train_on_batch call per batch, for the other backends."""
    def run(full, last):
        total = 0.0
        for starts in list(full) + ([last] if len(last) else []):
            x = stacks.vectors(starts)
            total += model.train_on_batch(x, x) * len(starts)
        return total

    return run


def epoch_function(model, stacks, validation, xla):
    """(full batches, last batch) -> (summed batch losses, validation loss or None), training
    the model on the batches in order, then computing the mean squared error of the vectors at
    validation."""
    import keras

    import scoring
    model.optimizer.build(model.trainable_variables)
    backend = keras.backend.backend()
    if backend == "jax":
        return jax_epoch(model, stacks, validation)
    train = (tensorflow_epoch(model, stacks, xla) if backend == "tensorflow"
             else batch_by_batch_epoch(model, stacks))

    def run(full, last):
        loss = train(full, last)
        return loss, (scoring.mean_squared_error(model, stacks, validation)
                      if len(validation) else None)

    return run


def fit(model, stacks, config, rng, xla=False):
    """Keras' fit(x, x, epochs, batch_size, shuffle, validation_split) on the vectors at starts.

    The same batches, updates and logged losses as fit on the stacked array: validation vectors
    taken from the end before shuffling, a fresh permutation of the training vectors every
    epoch, a smaller last batch, loss the batch-size-weighted mean of the batch losses and
    val_loss the mean squared error of the validation vectors after the epoch. Each epoch runs
    as one compiled call where the backend allows (with its validation, under JAX).
    """
    from tqdm import tqdm
    fit_config = config["fit"]
    batch_size, verbose = fit_config["batch_size"], fit_config["verbose"]
    n_train = math.floor(len(stacks.starts) * (1.0 - fit_config["validation_split"]))
    train, validation = stacks.starts[:n_train], stacks.starts[n_train:]
    run_epoch = epoch_function(model, stacks, validation, xla)
    history = {"loss": [], "seconds": []}
    epochs = tqdm(range(fit_config["epochs"]), desc="epochs", disable=verbose != 1)
    for epoch in epochs:
        start = time.perf_counter()
        order = rng.permutation(n_train) if fit_config["shuffle"] else np.arange(n_train)
        loss, val_loss = run_epoch(*batches(train[order], batch_size))
        history["loss"].append(loss / n_train)
        if val_loss is not None:
            history.setdefault("val_loss", []).append(val_loss)
        history["seconds"].append(time.perf_counter() - start)
        losses = {key: f"{values[-1]:.4g}" for key, values in history.items() if key != "seconds"}
        epochs.set_postfix(losses)
        if verbose == 2:
            com.log.info("epoch %d/%d: %s, %.1f s", epoch + 1, fit_config["epochs"],
                         ", ".join(f"{k} {v}" for k, v in losses.items()), history["seconds"][-1])
    return history


def save_loss_plot(history, path):
    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 5))
    axis = figure.subplots()
    axis.plot(history["loss"], label="train")
    if "val_loss" in history:
        axis.plot(history["val_loss"], label="validation")
    axis.set(title="Model loss", xlabel="Epoch", ylabel="Loss")
    axis.legend(loc="upper right")
    with com.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def train_machine(machine_dir, dev, config, args, rng, started=None):
    """Train, fit the score distribution and save the three files of one machine type.

    started: start_training_features' result, where main() started it early."""
    import joblib
    import keras
    import scipy.stats

    import keras_model
    import scoring
    machine, model_dir = machine_dir.name, config["model_directory"]
    feature = config["feature"]
    files, started = started or start_training_features(machine_dir, dev, config)
    com.log.info("%s: %d training clips", machine, len(files))
    log_mels, bad, silent = training_log_mels(files, started, config, args.skip_bad_files)
    if not log_mels:
        raise com.BaselineError(f"no usable training clips in {machine_dir / 'train'}")
    stacks = frame_stacks.frame_index(log_mels, feature["n_frames"], feature["n_hop_frames"],
                                      consume=True)
    com.log.info("%s: %d vectors of %d values", machine, len(stacks.starts), stacks.dim)

    fit_config = config["fit"]
    n_steps = fit_config["epochs"] * math.ceil(len(stacks.starts) / fit_config["batch_size"])
    xla = use_xla(n_steps)
    model = keras_model.get_model(stacks.dim, fit_config["lr"], jit_compile=xla)
    history = fit(model, stacks, config, rng, xla)

    # the original fits the gamma to the training vectors as given to fit (n_hop_frames applied)
    scores = scoring.clip_scores(model, stacks)
    gamma = list(scipy.stats.gamma.fit(scores))
    with com.atomic_path(com.score_distr_file(model_dir, machine)) as tmp:
        joblib.dump(gamma, tmp)
    save_loss_plot(history, com.history_file(model_dir, machine))
    # the model goes last: its presence marks the machine type as done
    with com.atomic_path(com.model_file(model_dir, machine)) as tmp:
        model.save(tmp)
    keras.backend.clear_session()
    return {"machine": machine, "clips": stacks.n_clips, "vectors": len(stacks.starts),
            "loss": history["loss"][-1], "val_loss": history.get("val_loss", [None])[-1],
            "bad": bad, "silent": silent}


def existing_models(model_dir, machine):
    """The machine type's model files that exist: ours, or the original's."""
    return [p for p in (com.model_file(model_dir, machine),
                        com.legacy_model_file(model_dir, machine)) if p.exists()]


def main():
    args = com.parse_args("Train one autoencoder per machine type.")
    config, dirs = com.start_run(args)
    seed = args.seed if args.seed is not None else config["seed"]
    model_dir = config["model_directory"]
    com.check_output_folders(config, "model_directory")
    # worker processes compute the first machine type's features while Keras is imported
    first = next((d for d in dirs if args.force or not existing_models(model_dir, d.name)), None)
    early = first and start_training_features(first, args.dev, config, early=True)
    keras = com.import_keras()
    com.use_compilation_cache(config)
    com.log.info("training in %s mode on %s (Keras %s, %s backend)",
                 "development" if args.dev else "evaluation", dirs[0].parent, keras.__version__,
                 keras.backend.backend())
    summary = []
    for i, machine_dir in enumerate(dirs, 1):
        machine = machine_dir.name
        # a run on another node or in another shell may be training this machine type
        with com.file_lock(com.training_lock_file(model_dir, machine), wait=False) as mine:
            if not mine:
                com.log.info("[%d/%d] %s: being trained by another run, skipping", i, len(dirs),
                             machine)
                continue
            existing = existing_models(model_dir, machine)
            if existing and not args.force:
                com.log.info("[%d/%d] %s: model exists (%s), skipping; --force retrains it",
                             i, len(dirs), machine, existing[0])
                continue
            com.log.info("[%d/%d] %s", i, len(dirs), machine)
            # seeded per machine type, so that training one type alone (-m) gives the same model
            if seed is not None:
                seed_everything(seed)
            start = time.perf_counter()
            result = train_machine(machine_dir, args.dev, config, args,
                                   np.random.default_rng(seed),
                                   early if machine_dir == first else None)
            result["seconds"] = time.perf_counter() - start
            summary.append(result)
            com.log.info("%s: model -> %s", machine, com.model_file(model_dir, machine))

    com.log.info("summary:")
    com.log.info("%-12s %6s %9s %9s %9s %7s", "machine", "clips", "vectors", "loss", "val_loss",
                 "seconds")
    for r in summary:
        val_loss = "-" if r["val_loss"] is None else f"{r['val_loss']:.4f}"
        com.log.info("%-12s %6d %9d %9.4f %9s %7.1f", r["machine"], r["clips"], r["vectors"],
                     r["loss"], val_loss, r["seconds"])
    for kind, key in (("silent", "silent"), ("skipped", "bad")):
        for message in (m for r in summary for m in r[key]):
            com.log.warning("%s: %s", kind, message)


if __name__ == "__main__":
    com.run_main(main)
