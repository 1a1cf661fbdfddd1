"""A machine type's detector: its model and the gamma fit of its training clips' scores, whose
quantile is the decision threshold. 00_train.py saves it, 01_test.py loads it.

The score distribution file names the model file it belongs to (its SHA-256), so that a test
running while a training replaces both never pairs one model with another's threshold.
"""
import common as com
import outputs
import report


def save(model_dir, machine, model, gamma, history, score="mse", covariances=None):
    """The model, its score distribution (fitted to scores of that kind), the Mahalanobis
    covariances where given, and the loss plot. The model goes in place last: its presence
    marks the machine type as done."""
    import joblib
    import numpy as np
    with outputs.atomic_path(outputs.model_file(model_dir, machine)) as model_tmp:
        model.save(model_tmp)
        digest = outputs.file_digest(model_tmp)
        if covariances is not None:
            with outputs.atomic_path(mahalanobis_file(model_dir, machine)) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, model_sha256=digest, **covariances)
        with outputs.atomic_path(outputs.score_distr_file(model_dir, machine)) as tmp:
            joblib.dump({"gamma": [float(v) for v in gamma], "model_sha256": digest,
                         "score": score}, tmp)
        report.save_loss_plot(outputs.history_file(model_dir, machine), machine, history)


def mahalanobis_file(model_dir, machine):
    return outputs.model_file(model_dir, machine).with_name(f"mahalanobis_{machine}.npz")


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
    path = mahalanobis_file(model_dir, machine)
    try:
        with np.load(path) as found:
            if model_digest and str(found["model_sha256"]) != model_digest:
                raise com.BaselineError(f"{path} belongs to another model than "
                                        f"{outputs.model_file(model_dir, machine)}; retrain it "
                                        f"with `{train_command} --force`")
            return {d: found[f"{d}_precision"] for d in ("source", "target")}
    except FileNotFoundError:
        raise com.BaselineError(f"{path} not found: score: mahalanobis needs the covariances "
                                f"that 00_train.py saves with score: mahalanobis; retrain with "
                                f"`{train_command} --force`") from None


def files(model_dir, machine, train_command):
    """The machine's model file (ours, or the original's) and its score distribution file; a
    clear error when the model is missing or either file may not be read."""
    existing = outputs.existing_model_files(model_dir, machine)
    if not existing:
        raise com.BaselineError(f"model file not found: {outputs.model_file(model_dir, machine)}; "
                                f"create it with `{train_command}`")
    distr = outputs.score_distr_file(model_dir, machine)
    com.check_readable(existing[0], "model")
    com.check_readable(distr, "score distribution")
    return existing[0], distr


def load(model_dir, machine, train_command, score="mse"):
    """The machine's model, its score distribution's gamma parameters and, for score:
    mahalanobis, the inverse covariances ({domain: matrix}, else None). A clear error when one
    is missing, when the distribution belongs to another model (a training of the machine type
    that replaces them may be running) or was fitted to another kind of score."""
    import keras_model
    path, distr = files(model_dir, machine, train_command)
    lock = outputs.training_lock_file(model_dir, machine)
    training_now = outputs.is_locked(lock)
    if training_now:
        com.log.warning("%s: another process is training this machine type (it holds %s); "
                        "scoring with the model in place now", machine, lock)
    digest = outputs.file_digest(path)
    try:
        model = keras_model.load_model(path)
    except Exception as error:
        raise com.BaselineError(f"cannot load model {path} ({com.describe(error)}); "
                                f"recreate it with `{train_command} --force`") from None
    try:
        gamma, model_digest, fitted_to = read_score_distribution(distr)
    except FileNotFoundError:
        raise com.BaselineError(f"score distribution not found: {distr}; "
                                f"create it with `{train_command} --force`") from None
    except Exception as error:
        raise com.BaselineError(f"cannot read score distribution {distr} "
                                f"({com.describe(error)}); recreate it with "
                                f"`{train_command} --force`") from None
    # the model file's digest before and after loading it: the model loaded is the one hashed
    if model_digest and not model_digest == digest == outputs.file_digest(path):
        advice = (f"a training of {machine} is running (it holds {lock}): rerun when it has "
                  f"finished" if training_now or outputs.is_locked(lock)
                  else f"retrain it with `{train_command} --force`")
        raise com.BaselineError(f"score distribution {distr} belongs to another model than "
                                f"{path}; {advice}")
    if fitted_to != score:
        raise com.BaselineError(f"score distribution {distr} was fitted to {fitted_to} scores, "
                                f"the configuration asks for score: {score}; set score: "
                                f"{fitted_to}, or retrain with `{train_command} --force`")
    precisions = (read_precisions(model_dir, machine, model_digest, train_command)
                  if score == "mahalanobis" else None)
    return model, path, gamma, precisions
