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
