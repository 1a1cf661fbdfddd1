"""The settings of a run that change its figures: what a result block's record and a training
checkpoint hold, so that results and trainings of other settings are never mixed."""
from pathlib import Path


def fit_settings(fit_config):
    """The fit keys that change the model trained (verbose and checkpoint_epochs do not)."""
    return {k: v for k, v in fit_config.items() if k not in ("verbose", "checkpoint_epochs")}


def run_record(config, data_dir, ground_truth, seed):
    """What makes two runs' figures comparable: the same data, models and settings."""
    return {"data folder": str(Path(data_dir).resolve()),
            "model folder": str(Path(config["model_directory"]).resolve()),
            "ground truth": str(Path(ground_truth).resolve()) if ground_truth else None,
            "feature": config["feature"],
            "fit": fit_settings(config["fit"]),
            "seed": seed, "max_fpr": config["max_fpr"],
            "decision_threshold": config["decision_threshold"], "year": config["year"],
            "score": config["score"], "mahalanobis": config["mahalanobis"]}


def flat(settings, prefix=""):
    """{dotted key: value} of nested settings: {"fit": {"lr": 0.001}} -> {"fit.lr": 0.001}."""
    found = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            found.update(flat(value, f"{prefix}{key}."))
        else:
            found[prefix + key] = value
    return found


def differences(old, new):
    """[(dotted key, old value, new value)] of the settings that differ, in new's order (keys
    only one of them has come last, with None for the missing value)."""
    old, new = flat(old), flat(new)
    keys = list(new) + [key for key in old if key not in new]
    return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]


def changes(old, new):
    """differences in words: "fit.lr 0.001 -> 0.002; seed 1 -> 2"."""
    return "; ".join(f"{key} {a!r} -> {b!r}" for key, a, b in differences(old, new))
