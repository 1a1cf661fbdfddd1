"""A machine type's detector: its model and the gamma fit of its training clips' scores, whose
quantile is the decision threshold. 00_train.py saves it, 01_test.py loads it.

The score distribution file names the model file it belongs to (its SHA-256), so that a test
running while a training replaces both never pairs one model with another's threshold.
"""
import logging

from dcase_baseline import filenames, safe_io
from dcase_baseline.errors import BaselineError, describe

log = logging.getLogger("baseline")


def save(model_dir, machine, model, gamma, score="mse", covariances=None):
    """The model, its score distribution (fitted to scores of that kind) and the Mahalanobis
    covariances where given. The model goes in place last: its presence marks the machine
    type as done."""
    import joblib
    import numpy as np
    with safe_io.atomic_path(filenames.model_file(model_dir, machine)) as model_tmp:
        model.save(model_tmp)
        digest = safe_io.file_digest(model_tmp)
        if covariances is not None:
            with safe_io.atomic_path(filenames.mahalanobis_file(model_dir, machine)) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, model_sha256=digest, **covariances)
        with safe_io.atomic_path(filenames.score_distr_file(model_dir, machine)) as tmp:
            joblib.dump({"gamma": [float(v) for v in gamma], "model_sha256": digest,
                         "score": score}, tmp)


def read_score_distribution(path):
    """(shape, loc, scale), the digest of the model it belongs to and the kind of score it was
    fitted to; None and "mse" for the original baseline's files (the three numbers only)."""
    import joblib
    found = joblib.load(path)
    if isinstance(found, dict):
        return tuple(found["gamma"]), found["model_sha256"], found.get("score", "mse")
    shape, loc, scale = found
    return (shape, loc, scale), None, "mse"


def read_precisions(model_dir, machine, model_digest, train_command):
    """{domain: inverse covariance} saved with the model for score: mahalanobis."""
    import numpy as np
    path = filenames.mahalanobis_file(model_dir, machine)
    try:
        with np.load(path) as found:
            if model_digest and str(found["model_sha256"]) != model_digest:
                raise BaselineError(f"{path} belongs to another model than "
                                    f"{filenames.model_file(model_dir, machine)}; retrain it "
                                    f"with `{train_command} --force`")
            return {d: found[f"{d}_precision"] for d in ("source", "target")}
    except FileNotFoundError:
        raise BaselineError(f"{path} not found: score: mahalanobis needs the covariances "
                            f"that 00_train.py saves with score: mahalanobis; retrain with "
                            f"`{train_command} --force`") from None


def files(model_dir, machine, train_command):
    """The machine's model file (ours, or the original's) and its score distribution file; a
    clear error when the model is missing or either file may not be read."""
    existing = filenames.existing_model_files(model_dir, machine)
    if not existing:
        raise BaselineError(f"model file not found: {filenames.model_file(model_dir, machine)}; "
                            f"create it with `{train_command}`")
    distr = filenames.score_distr_file(model_dir, machine)
    safe_io.check_readable(existing[0], "model")
    safe_io.check_readable(distr, "score distribution")
    return existing[0], distr


def load(model_dir, machine, train_command, load_model, score="mse"):
    """The machine's model (read by load_model(path): keras_model.load_model), its score
    distribution's gamma parameters and, for score: mahalanobis, the inverse covariances
    ({domain: matrix}, else None). A clear error when one is missing, when the distribution
    belongs to another model (a training of the machine type that replaces them may be
    running) or was fitted to another kind of score."""
    path, distr = files(model_dir, machine, train_command)
    lock = filenames.training_lock_file(model_dir, machine)
    training_now = safe_io.is_locked(lock)
    if training_now:
        log.warning("%s: another process is training this machine type (it holds %s); "
                    "scoring with the model in place now", machine, lock)
    digest = safe_io.file_digest(path)
    try:
        model = load_model(path)
    except Exception as error:
        raise BaselineError(f"cannot load model {path} ({describe(error)}); "
                            f"recreate it with `{train_command} --force`") from None
    try:
        gamma, model_digest, fitted_to = read_score_distribution(distr)
    except FileNotFoundError:
        raise BaselineError(f"score distribution not found: {distr}; "
                            f"create it with `{train_command} --force`") from None
    except Exception as error:
        raise BaselineError(f"cannot read score distribution {distr} "
                            f"({describe(error)}); recreate it with "
                            f"`{train_command} --force`") from None
    # the model file's digest before and after loading it: the model loaded is the one hashed
    if model_digest and not model_digest == digest == safe_io.file_digest(path):
        advice = (f"a training of {machine} is running (it holds {lock}): rerun when it has "
                  f"finished" if training_now or safe_io.is_locked(lock)
                  else f"retrain it with `{train_command} --force`")
        raise BaselineError(f"score distribution {distr} belongs to another model than "
                            f"{path}; {advice}")
    if fitted_to != score:
        raise BaselineError(f"score distribution {distr} was fitted to {fitted_to} scores, "
                            f"the configuration asks for score: {score}; set score: "
                            f"{fitted_to}, or retrain with `{train_command} --force`")
    precisions = (read_precisions(model_dir, machine, model_digest, train_command)
                  if score == "mahalanobis" else None)
    return model, path, gamma, precisions
