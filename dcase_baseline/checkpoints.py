"""A model's training state, saved while it trains so that a rerun after a crash (or a
SIGKILL) resumes at the last checkpoint and ends with the model an uninterrupted run gives.

The state: the weights, the optimizer's variables (its step count and moments included), the
epochs done, the shuffling generator's state and the loss history, written atomically every
fit.checkpoint_epochs epochs or every CHECKPOINT_SECONDS, whichever comes first. A checkpoint
made with other settings or clips is not resumed.
"""
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from dcase_baseline import filenames, run_settings, safe_io
log = logging.getLogger("baseline")

CHECKPOINT_SECONDS = 300


class Checkpoint:
    def __init__(self, path, settings, every_epochs):
        """settings: what must be the same for a checkpoint to be resumed (JSON data)."""
        self.path, self.every_epochs = Path(path), every_epochs
        self.settings = json.loads(json.dumps(settings))     # as it reads back
        self.saved_at = time.monotonic()

    def restore(self, model, rng):
        """(epochs done, history) of the checkpoint, put into the model, its optimizer (built
        already) and rng; (0, a new history) where there is none to resume."""
        fresh = 0, {"loss": [], "seconds": []}
        try:
            with np.load(self.path) as found:
                meta = json.loads(str(found["meta"]))
                arrays = {key: found[key] for key in found.files if key != "meta"}
        except FileNotFoundError:
            return fresh
        except (OSError, ValueError, KeyError) as error:
            log.warning("%s cannot be read (%s); training from the first epoch", self.path, error)
            return fresh
        if meta["settings"] != self.settings:
            log.warning("%s was made with other settings (%s); training from the first epoch",
                        self.path, _changes(meta["settings"], self.settings))
            return fresh
        model.set_weights([arrays[f"weight_{i}"] for i in range(meta["weights"])])
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(arrays[f"optimizer_{i}"])
        rng.bit_generator.state = meta["rng"]
        done, epochs = meta["epochs done"], self.settings["fit"]["epochs"]
        if done < epochs:
            log.info("resuming at epoch %d of %d from %s", done + 1, epochs, self.path)
        else:
            log.info("all %d epochs trained in %s: only the score is fitted", epochs, self.path)
        return done, meta["history"]

    def due(self, epochs_done):
        """Whether to save after this epoch (never after the last: the model is saved then)."""
        if epochs_done >= self.settings["fit"]["epochs"]:
            return False
        return (epochs_done % self.every_epochs == 0
                or time.monotonic() - self.saved_at >= CHECKPOINT_SECONDS)

    def save(self, model, rng, epochs_done, history):
        from dcase_baseline.keras_backend import keras
        weights = model.get_weights()
        optimizer = [keras.ops.convert_to_numpy(v.value) for v in model.optimizer.variables]
        meta = {"settings": self.settings, "epochs done": epochs_done, "history": history,
                "rng": rng.bit_generator.state, "weights": len(weights)}
        with safe_io.atomic_path(self.path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, meta=json.dumps(meta),
                         **{f"weight_{i}": w for i, w in enumerate(weights)},
                         **{f"optimizer_{i}": v for i, v in enumerate(optimizer)})
        self.saved_at = time.monotonic()

    def remove(self):
        if self.path.exists():
            os.remove(self.path)


def _changes(old, new):
    """How the checkpoint's settings differ from this run's, in words; the training clips (a
    digest) by name only."""
    clips = [] if old.get("clips") == new.get("clips") else ["other training clips"]
    old, new = ({k: v for k, v in s.items() if k != "clips"} for s in (old, new))
    return "; ".join(filter(None, [run_settings.changes(old, new)] + clips))


def for_model(model_dir, model, paths, config, seed):
    """The checkpoint of a model's training: resumed by a rerun with the same settings, seed
    and training clips."""
    settings = {"feature": config["feature"], "seed": seed, "year": config["year"],
                "fit": run_settings.fit_settings(config["fit"]),
                "clips": hashlib.sha256("\n".join(map(str, paths)).encode(
                    errors="surrogateescape")).hexdigest()}
    return Checkpoint(filenames.checkpoint_file(model_dir, model), settings,
                      config["fit"]["checkpoint_epochs"])
