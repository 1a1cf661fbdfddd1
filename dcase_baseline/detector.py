"""A detector: a model (of a machine type, or of some of its sections) and the gamma fit of
its training clips' scores, whose quantile is the decision threshold. 00_train.py saves it,
01_test.py loads it.

The score distribution file names the model file it belongs to (its SHA-256), so that a test
running while a training replaces both never pairs one model with another's threshold.
"""
import logging
from typing import NamedTuple

from dcase_baseline import filenames, mahalanobis, safe_io
from dcase_baseline.errors import BaselineError, describe

log = logging.getLogger("baseline")


def save(model_dir, name, model, gamma, score="mse", covariances=None, training=None):
    """The model, its score distribution (fitted to scores of that kind, with the record of its
    training: sections, seed, settings) and the Mahalanobis covariances where given. The model
    goes in place last: its presence marks the model as done."""
    import joblib
    import numpy as np
    with safe_io.atomic_path(filenames.model_file(model_dir, name)) as model_tmp:
        model.save(model_tmp)
        digest = safe_io.file_digest(model_tmp)
        if covariances is not None:
            with safe_io.atomic_path(filenames.mahalanobis_file(model_dir, name)) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, model_sha256=digest, **covariances)
        with safe_io.atomic_path(filenames.score_distr_file(model_dir, name)) as tmp:
            joblib.dump({"gamma": [float(v) for v in gamma], "model_sha256": digest,
                         "score": score, "training": training}, tmp)


class ScoreDistribution(NamedTuple):
    gamma: tuple            # (shape, loc, scale)
    model_sha256: object    # of the model file it belongs to; None: the original's file
    score: str              # the kind of score it was fitted to
    training: object        # {"sections", "seed", "feature", "fit", "year"} of the model's
                            # training; None where not recorded (the original, older versions)


def read_score_distribution(path):
    """The ScoreDistribution in a file; the original baseline's (the three numbers only) is
    read as fitted to mse scores."""
    import joblib
    found = joblib.load(path)
    if isinstance(found, dict):
        return ScoreDistribution(tuple(found["gamma"]), found["model_sha256"],
                                 found.get("score", "mse"), found.get("training"))
    shape, loc, scale = found
    return ScoreDistribution((shape, loc, scale), None, "mse", None)


def read_precisions(model_dir, name, model_digest, train_command):
    """{domain: inverse covariance} saved with the model for score: mahalanobis."""
    import numpy as np
    path = filenames.mahalanobis_file(model_dir, name)
    try:
        with np.load(path) as found:
            if model_digest and str(found["model_sha256"]) != model_digest:
                raise BaselineError(f"{path} belongs to another model than "
                                    f"{filenames.model_file(model_dir, name)}; retrain it "
                                    f"with `{train_command} --force`")
            precisions = {d: found[f"{d}_precision"] for d in mahalanobis.DOMAINS}
    except FileNotFoundError:
        raise BaselineError(f"{path} not found: score: mahalanobis needs the covariances "
                            f"that 00_train.py saves with score: mahalanobis; retrain with "
                            f"`{train_command} --force`") from None
    for domain, precision in precisions.items():
        # a model folder written before the covariances were checked this way may hold one
        found_rank = mahalanobis.rank(precision)
        if found_rank < len(precision):
            raise BaselineError(
                f"{path}: its {domain} inverse covariance is not positive definite (rank "
                f"{found_rank} of {len(precision)}; {mahalanobis.SINGULAR_WORDS}), so its "
                f"squared distances can fall below zero; retrain with `{train_command} "
                f"--force` and mahalanobis.shrinkage set in the configuration (e.g. 0.1)")
    return precisions


def files(model_dir, name, train_command):
    """The model file (ours, or the original's) and its score distribution file; a
    clear error when the model is missing or either file may not be read."""
    existing = filenames.existing_model_files(model_dir, name)
    if not existing:
        raise BaselineError(f"model file not found: {filenames.model_file(model_dir, name)}; "
                            f"create it with `{train_command}`")
    distr = filenames.score_distr_file(model_dir, name)
    safe_io.check_readable(existing[0], "model")
    safe_io.check_readable(distr, "score distribution")
    return existing[0], distr


class Loaded(NamedTuple):
    model: object
    path: object            # the model file
    distribution: object    # its ScoreDistribution
    precisions: object      # score: mahalanobis: {domain: inverse covariance}; else None


def load(model_dir, name, train_command, load_model, score="mse"):
    """The model (read by load_model(path): keras_model.load_model) with its score
    distribution and, for score: mahalanobis, the inverse covariances: Loaded. A clear error
    when one is missing, when the distribution belongs to another model (a training of the
    model that replaces them may be running) or was fitted to another kind of score."""
    path, distr = files(model_dir, name, train_command)
    lock = filenames.training_lock_file(model_dir, name)
    training_now = safe_io.is_locked(lock)
    if training_now:
        log.warning("%s: another process is training this model (it holds %s); "
                    "scoring with the model in place now", name, lock)
    digest = safe_io.file_digest(path)
    try:
        model = load_model(path)
    except Exception as error:
        raise BaselineError(f"cannot load model {path} ({describe(error)}); "
                            f"recreate it with `{train_command} --force`") from None
    try:
        distribution = read_score_distribution(distr)
    except FileNotFoundError:
        raise BaselineError(f"score distribution not found: {distr}; "
                            f"create it with `{train_command} --force`") from None
    except Exception as error:
        raise BaselineError(f"cannot read score distribution {distr} "
                            f"({describe(error)}); recreate it with "
                            f"`{train_command} --force`") from None
    # the model file's digest before and after loading it: the model loaded is the one hashed
    model_digest = distribution.model_sha256
    if model_digest and not model_digest == digest == safe_io.file_digest(path):
        advice = (f"a training of {name} is running (it holds {lock}): rerun when it has "
                  f"finished" if training_now or safe_io.is_locked(lock)
                  else f"retrain it with `{train_command} --force`")
        raise BaselineError(f"score distribution {distr} belongs to another model than "
                            f"{path}; {advice}")
    if distribution.score != score:
        raise BaselineError(f"score distribution {distr} was fitted to {distribution.score} "
                            f"scores, the configuration asks for score: {score}; set score: "
                            f"{distribution.score}, or retrain with `{train_command} --force`")
    precisions = (read_precisions(model_dir, name, model_digest, train_command)
                  if score == "mahalanobis" else None)
    return Loaded(model, path, distribution, precisions)
