"""A machine type's detector: its model and the gamma fit of its training clips' scores, whose
quantile is the decision threshold. 00_train.py saves it, 01_test.py loads it.

The score distribution file names the model file it belongs to (its SHA-256), so that a test
running while a training replaces both never pairs one model with another's threshold.
"""
import common as com
import outputs
import report


def save(model_dir, machine, model, gamma, history):
    """The model, its score distribution and its loss plot. The model goes in place last: its
    presence marks the machine type as done."""
    import joblib
    with outputs.atomic_path(outputs.model_file(model_dir, machine)) as model_tmp:
        model.save(model_tmp)
        with outputs.atomic_path(outputs.score_distr_file(model_dir, machine)) as tmp:
            joblib.dump({"gamma": [float(v) for v in gamma],
                         "model_sha256": outputs.file_digest(model_tmp)}, tmp)
        report.save_loss_plot(outputs.history_file(model_dir, machine), machine, history)


def read_score_distribution(path):
    """(shape, loc, scale), and the digest of the model it belongs to; None for the original
    baseline's files, which hold the three numbers only."""
    import joblib
    found = joblib.load(path)
    if isinstance(found, dict):
        return tuple(found["gamma"]), found["model_sha256"]
    shape, loc, scale = found
    return (shape, loc, scale), None


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


def load(model_dir, machine, train_command):
    """The machine's model and its score distribution's gamma parameters; a clear error when
    either is missing, or when the distribution belongs to another model (a training of the
    machine type that replaces them may be running)."""
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
        gamma, model_digest = read_score_distribution(distr)
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
    return model, path, gamma
