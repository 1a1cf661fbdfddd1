"""The configuration: its keys and defaults, the rule each value must follow, reading and
checking a YAML file, and the effective configuration a run works with (the year's channel where
feature.channel is not set, the folders of --run). The scripts, download.py and the tests all
take it from here, so that they see the same configuration.
"""
import copy
import os
from typing import NamedTuple

import yaml

from dcase_baseline import years
from dcase_baseline.errors import BaselineError

DEFAULT_CONFIG = {
    "year": years.DEFAULT_YEAR,
    "dev_directory": "../dev_data",
    "eval_directory": "../eval_data",
    "model_directory": "./model",
    "result_directory": "./result",
    "result_file": "result.csv",
    "max_fpr": 0.1,
    "decision_threshold": 0.9,
    "feature": {"n_mels": 128, "n_frames": 5, "n_hop_frames": 1, "n_fft": 1024,
                "hop_length": 512, "power": 2.0, "channel": None, "fmin": 0.0, "fmax": None,
                "win_length": None},
    "fit": {"lr": 0.001, "epochs": 100, "batch_size": 512, "shuffle": True,
            "validation_split": 0.1, "validation": "tail", "checkpoint_epochs": 10,
            "verbose": 1},
    "score": "mse",
    "mahalanobis": {"shrinkage": 0.0},
    "model_per": "machine",
    "cache": {"enabled": True, "directory": "./cache"},
    "seed": None,
    "log_file": "baseline.log",
    "report": True,
}

# Keys that may be left out without a word: the successor's options that the 2022 baseline has
# not, and the channel (left out: the year's, years.Year.channel).
OPTIONAL = {"feature.channel", "feature.fmin", "feature.fmax", "feature.win_length",
            "model_per"}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# key -> (test of the value, what the key expects); keys absent here only need the default's type
CONFIG_RULES = {
    "year": (lambda v: v in years.YEARS, lambda: f"a DCASE year {years.known_years()}"),
    "score": (lambda v: v in ("mse", "mahalanobis"), "mse or mahalanobis"),
    "mahalanobis.shrinkage": (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    "max_fpr": (lambda v: 0 < v <= 1, "a number in (0, 1]"),
    "decision_threshold": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "feature.n_mels": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_frames": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_hop_frames": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_fft": (lambda v: v >= 1, "an integer >= 1"),
    "feature.hop_length": (lambda v: v >= 1, "an integer >= 1"),
    "feature.power": (lambda v: v > 0, "a number > 0"),
    "fit.lr": (lambda v: v > 0, "a number > 0"),
    "fit.epochs": (lambda v: v >= 1, "an integer >= 1"),
    "fit.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "fit.validation_split": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "fit.verbose": (lambda v: v in (0, 1, 2), "0, 1 or 2"),
    "fit.checkpoint_epochs": (lambda v: 1 <= v <= 10, "an integer from 1 to 10"),
    "fit.validation": (lambda v: v in ("tail", "clips"),
                       "tail (the last vectors, as Keras) or clips (whole clips drawn at random)"),
    "seed": (lambda v: v is None or v >= 0, "empty or an integer >= 0"),
    "feature.channel": (lambda v: v is None or v == "mean" or (type(v) is int and v >= 0),
                        "mean (the channels averaged), a channel index (0 = the first) or "
                        "empty (the year's baseline's)"),
    "feature.fmin": (lambda v: v >= 0, "a frequency in Hz >= 0"),
    "feature.fmax": (lambda v: v is None or (_is_number(v) and v > 0),
                     "a frequency in Hz > 0, or empty (half the sample rate)"),
    "feature.win_length": (lambda v: v is None or (type(v) is int and v >= 1),
                           "a window length in samples >= 1, or empty (n_fft)"),
    "log_file": (lambda v: v is None or isinstance(v, str), "a file name, or empty for none"),
    "model_per": (lambda v: v in ("machine", "section"),
                  "machine (one model per machine type) or section (one per section)"),
}
# keys whose rule checks the type too (more than one type is allowed)
RULE_TYPED = {"feature.channel", "feature.fmax", "feature.win_length", "log_file"}


def _type_ok(value, default):
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    return value is None or (isinstance(value, int) and not isinstance(value, bool))  # seed


def _type_name(default):
    return {bool: "true or false", int: "an integer", float: "a number",
            str: "a text"}.get(type(default), "empty or an integer")


def _merge_config(loaded, defaults, path, prefix, notes):
    merged = {}
    for key in loaded:
        if key not in defaults:
            raise BaselineError(f"{path}: unknown key '{prefix}{key}'; "
                                f"expected keys are {', '.join(prefix + k for k in defaults)}")
    for key, default in defaults.items():
        name = prefix + key
        if key not in loaded:
            if name not in OPTIONAL:
                notes.append(f"{path}: key '{name}' is missing, using the default {default!r}")
            merged[key] = copy.deepcopy(default)
            continue
        value = loaded[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise BaselineError(f"{path}: key '{name}' must be a mapping of "
                                    f"{', '.join(default)}, got {value!r}")
            merged[key] = _merge_config(value, default, path, name + ".", notes)
            continue
        test, expected = CONFIG_RULES.get(name, (lambda v: True, _type_name(default)))
        if not (name in RULE_TYPED or _type_ok(value, default)) or not test(value):
            expected = expected() if callable(expected) else expected
            raise BaselineError(f"{path}: key '{name}' must be {expected}, got {value!r}")
        merged[key] = float(value) if isinstance(default, float) else value
    return merged


def _check_unique_keys(node, path, prefix=""):
    """Refuse a mapping that names a key twice (YAML would silently keep the last value)."""
    if not isinstance(node, yaml.MappingNode):
        return
    seen = {}
    for key, value in node.value:
        name = prefix + str(key.value)
        line = key.start_mark.line + 1
        if name in seen:
            raise BaselineError(f"{path}: key '{name}' is given twice (lines {seen[name]} and "
                                f"{line}); keep one of them")
        seen[name] = line
        _check_unique_keys(value, path, name + ".")


def load_config(path):
    """Read and check the YAML configuration; returns (config, notes about missing keys)."""
    try:
        with open(path) as stream:
            text = stream.read()
        _check_unique_keys(yaml.compose(text, Loader=yaml.SafeLoader), path)
        loaded = yaml.safe_load(text)
    except FileNotFoundError:
        raise BaselineError(f"configuration file not found: {path}; run from the folder that "
                            f"holds baseline.yaml or pass -c PATH") from None
    except (OSError, yaml.YAMLError) as error:
        raise BaselineError(f"cannot read configuration {path}: "
                            f"{' '.join(str(error).split())}") from None
    if not isinstance(loaded, dict):
        raise BaselineError(f"{path}: expected a mapping of keys such as dev_directory, "
                            f"feature and fit, got {loaded!r}")
    notes = []
    config = _merge_config(loaded, DEFAULT_CONFIG, path, "", notes)
    _check_feature_band(config["feature"], path)
    return config, notes


def _check_feature_band(feature, path):
    """The settings that must agree with each other: a window no longer than the FFT, a band
    from fmin up to fmax (fmax against each clip's rate: features.py)."""
    if feature["win_length"] is not None and feature["win_length"] > feature["n_fft"]:
        raise BaselineError(f"{path}: feature.win_length = {feature['win_length']} is longer "
                            f"than feature.n_fft = {feature['n_fft']}; set it to at most "
                            f"n_fft, or leave it empty (n_fft)")
    if feature["fmax"] is not None and feature["fmin"] >= feature["fmax"]:
        raise BaselineError(f"{path}: feature.fmin = {feature['fmin']:g} Hz is not below "
                            f"feature.fmax = {feature['fmax']:g} Hz; set fmin below fmax")


class RunConfig(NamedTuple):
    config: dict            # the effective configuration
    year: object            # its year's record (years.Year)
    notes: list             # warnings: keys missing from the file, their defaults taken
    said: list              # what the run is told of the configuration made effective


def effective(path, run=None):
    """The configuration of the file at path as a run works with it: RunConfig. Where
    feature.channel is not set, the year's baseline's channel; with run (--run NAME), the models
    and results in folders NAME of model_directory and result_directory."""
    config, notes = load_config(path)
    said = []
    if run:
        for key in ("model_directory", "result_directory"):
            config[key] = os.path.join(config[key], run)
        said.append(f"run {run}: models in {config['model_directory']}, results in "
                    f"{config['result_directory']}")
    year = years.YEARS[config["year"]]
    if config["feature"]["channel"] is None:        # not set: the year's baseline's
        config["feature"]["channel"] = year.channel
        if year.channel != "mean":
            said.append(f"feature.channel is not set: channel {year.channel} of each clip "
                        f"({year.channel_note}), as the DCASE {year.year} baseline takes it; "
                        f"set feature.channel: mean to average the channels")
    return RunConfig(config, year, notes, said)
