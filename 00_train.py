"""Train one autoencoder per machine type: python 00_train.py -d (development) | -e (evaluation).

For each machine folder: log-mel frame stacks of every training clip, Keras fit with the
configured epochs, batch size, shuffling and validation split, then a gamma distribution fitted
to the training clips' anomaly scores (the decision threshold of 01_test.py).
"""
import math
import time

import joblib
import keras
import numpy as np
import scipy.stats
from matplotlib.figure import Figure

import common as com
import keras_model


# XLA saves about 2 ms of a 14 ms step on CPU but takes several seconds to compile; JAX runs
# eagerly without it, so it always compiles.
XLA_MIN_STEPS = 5000


def use_xla(n_steps):
    backend = keras.backend.backend()
    return backend == "jax" or (backend == "tensorflow" and n_steps >= XLA_MIN_STEPS)


class FrameStackBatches(keras.utils.PyDataset):
    """Batches (x, x) of frame stacks gathered from log-mel frames by start row.

    Holding frames instead of stacks keeps the training data n_frames times smaller; the order
    is a fresh random permutation every epoch when shuffle is set, as fit(x, x, shuffle=True),
    and the last batch may be smaller.
    """

    def __init__(self, frames, starts, n_frames, batch_size, shuffle, rng):
        super().__init__()
        self.frames, self.starts, self.n_frames = frames, starts, n_frames
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng
        self.order = self._order()

    def _order(self):
        return self.rng.permutation(len(self.starts)) if self.shuffle else np.arange(len(self.starts))

    def __len__(self):
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, i):
        rows = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        x = com.gather_vectors(self.frames, self.starts[rows], self.n_frames)
        return x, x

    def on_epoch_end(self):
        self.order = self._order()


def training_log_mels(files, config, skip_bad_files):
    """Log-mel spectrograms of the training clips long enough for one frame stack."""
    feature = config["feature"]
    log_mels, bad = com.clip_log_mels(files, feature, com.cache_directory(config), skip_bad_files,
                                      desc="train clips")
    com.stop_workers()
    kept = []
    for path, log_mel in zip(files, log_mels):
        if log_mel is None:
            continue
        if len(log_mel) < feature["n_frames"]:
            com.log.warning("skipping %s: %d frames, shorter than n_frames=%d",
                            path, len(log_mel), feature["n_frames"])
            continue
        kept.append(log_mel)
    return kept, bad


def fit(model, frames, starts, config, rng, callbacks=()):
    """Keras fit with the validation vectors taken from the end, before shuffling."""
    fit_config, n_frames = config["fit"], config["feature"]["n_frames"]
    n_train = math.floor(len(starts) * (1.0 - fit_config["validation_split"]))
    train = FrameStackBatches(frames, starts[:n_train], n_frames, fit_config["batch_size"],
                              fit_config["shuffle"], rng)
    validation = None
    if n_train < len(starts):
        validation = FrameStackBatches(frames, starts[n_train:], n_frames,
                                       fit_config["batch_size"], False, rng)
    # shuffle=False: the batches shuffle their vectors themselves, and Keras would otherwise
    # also permute whole batches, moving the smaller last batch away from the end
    history = model.fit(train, validation_data=validation, epochs=fit_config["epochs"],
                        shuffle=False, verbose=fit_config["verbose"], callbacks=list(callbacks))
    return history.history


def save_loss_plot(history, path):
    figure = Figure(figsize=(7, 5))
    axis = figure.subplots()
    axis.plot(history["loss"], label="train")
    if "val_loss" in history:
        axis.plot(history["val_loss"], label="validation")
    axis.set(title="Model loss", xlabel="Epoch", ylabel="Loss")
    axis.legend(loc="upper right")
    with com.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def train_machine(machine_dir, dev, config, args, rng):
    """Train, fit the score distribution and save the three files of one machine type."""
    machine, model_dir = machine_dir.name, config["model_directory"]
    feature = config["feature"]
    files = com.train_files(machine_dir, dev)
    com.log.info("%s: %d training clips", machine, len(files))
    log_mels, bad = training_log_mels(files, config, args.skip_bad_files)
    if not log_mels:
        raise com.BaselineError(f"no usable training clips in {machine_dir / 'train'}")
    frames, starts, owners = com.frame_index(log_mels, feature["n_frames"],
                                             feature["n_hop_frames"], consume=True)
    com.log.info("%s: %d vectors of %d values", machine, len(starts),
                 feature["n_frames"] * feature["n_mels"])

    fit_config = config["fit"]
    n_steps = fit_config["epochs"] * math.ceil(len(starts) / fit_config["batch_size"])
    model = keras_model.get_model(feature["n_frames"] * feature["n_mels"], fit_config["lr"],
                                  jit_compile=use_xla(n_steps))
    history = fit(model, frames, starts, config, rng)

    # the original fits the gamma to the training vectors as given to fit (n_hop_frames applied)
    scores = com.index_scores(model, frames, starts, owners, owners[-1] + 1, feature["n_frames"])
    gamma = list(scipy.stats.gamma.fit(scores))
    with com.atomic_path(com.score_distr_file(model_dir, machine)) as tmp:
        joblib.dump(gamma, tmp)
    save_loss_plot(history, com.history_file(model_dir, machine))
    # the model goes last: its presence marks the machine type as done
    with com.atomic_path(com.model_file(model_dir, machine)) as tmp:
        model.save(tmp)
    keras.backend.clear_session()
    return {"machine": machine, "clips": int(owners[-1]) + 1, "vectors": len(starts),
            "loss": history["loss"][-1], "val_loss": history.get("val_loss", [None])[-1],
            "bad": bad}


def main():
    args = com.parse_args("Train one autoencoder per machine type.")
    config, notes = com.load_config(args.config)
    com.setup_logging(config["log_file"])
    for note in notes:
        com.log.warning(note)
    seed = args.seed if args.seed is not None else config["seed"]

    dev = args.dev
    root = config["dev_directory"] if dev else config["eval_directory"]
    dirs = com.machine_dirs(root, "dev_directory" if dev else "eval_directory", args.machine)
    com.log.info("training in %s mode on %s (Keras %s, %s backend)",
                 "development" if dev else "evaluation", root, keras.__version__,
                 keras.backend.backend())
    summary = []
    for i, machine_dir in enumerate(dirs, 1):
        machine, model_dir = machine_dir.name, config["model_directory"]
        existing = [p for p in (com.model_file(model_dir, machine),
                                com.legacy_model_file(model_dir, machine)) if p.exists()]
        if existing and not args.force:
            com.log.info("[%d/%d] %s: model exists (%s), skipping; --force retrains it",
                         i, len(dirs), machine, existing[0])
            continue
        com.log.info("[%d/%d] %s", i, len(dirs), machine)
        # seeded per machine type, so that training one type alone (-m) gives the same model
        if seed is not None:
            com.seed_everything(seed)
        start = time.perf_counter()
        result = train_machine(machine_dir, dev, config, args, np.random.default_rng(seed))
        result["seconds"] = time.perf_counter() - start
        summary.append(result)
        com.log.info("%s: model -> %s", machine, com.model_file(model_dir, machine))

    com.log.info("summary:")
    com.log.info("%-12s %6s %9s %9s %9s %7s", "machine", "clips", "vectors", "loss", "val_loss",
                 "seconds")
    for r in summary:
        val_loss = "-" if r["val_loss"] is None else f"{r['val_loss']:.3f}"
        com.log.info("%-12s %6d %9d %9.3f %9s %7.1f", r["machine"], r["clips"], r["vectors"],
                     r["loss"], val_loss, r["seconds"])
    skipped = [b for r in summary for b in r["bad"]]
    for message in skipped:
        com.log.warning("skipped: %s", message)


if __name__ == "__main__":
    com.run_main(main)
