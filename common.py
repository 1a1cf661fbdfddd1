"""The start-up the scripts share: the command line, the configuration (its keys, defaults and
rules), logging, and the run's error handling (a BaselineError ends it in one line).

Nothing here runs at import time. The library it starts is the dcase_baseline package.
"""
import argparse
import copy
import logging
import os
import re
import shlex
import signal
import sys
from pathlib import Path

import yaml

from dcase_baseline import clips, safe_io, years
from dcase_baseline.errors import BaselineError

__version__ = "2.0.0"

log = logging.getLogger("baseline")

DEFAULT_CONFIG_FILE = "baseline.yaml"

def parse_args(description, argv=None, test_script=False):
    """Parse the command line shared by both scripts; exit as the original does without a mode."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-v", "--version", action="store_true", help="show the version")
    parser.add_argument("-d", "--dev", action="store_true", help="development mode (dev_directory)")
    parser.add_argument("-e", "--eval", action="store_true", help="evaluation mode (eval_directory)")
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG_FILE,
                        help="configuration file (default: baseline.yaml in the current folder)")
    parser.add_argument("-m", "--machine", nargs="+", metavar="NAME",
                        help="only these machine types (default: every machine folder)")
    parser.add_argument("--seed", type=int, help="seed Python, NumPy and Keras (overrides seed:)")
    parser.add_argument("-s", "--section", nargs="+", metavar="NN", type=section_number,
                        help="only these sections (2020: machine IDs), e.g. -s 00 01; with "
                             "model_per: section, a model each")
    parser.add_argument("--run", metavar="NAME", type=run_name,
                        help="put this run's models and results in a folder NAME of "
                             "model_directory and of result_directory (e.g. one per seed)")
    parser.add_argument("--skip-bad-files", action="store_true",
                        help="log and skip clips that cannot be read instead of stopping")
    if test_script:
        parser.add_argument("--ground-truth", metavar="DIR",
                            help="with -e: the official evaluator's ground truth folder; "
                                 "writes result.csv for the evaluation set")
        parser.add_argument("--no-report", action="store_true",
                            help="no plots and no report.html (as report: false)")
    else:
        parser.add_argument("--force", action="store_true",
                            help="retrain and overwrite models that already exist")
    args = parser.parse_args(argv)
    if args.version:
        print("===============================")
        print(f"DCASE 2022 task 2 baseline\nversion {__version__}")
        print("===============================\n")
    if args.dev == args.eval:
        if args.version and not args.dev:
            sys.exit(0)
        print("incorrect argument")
        print("please set option argument '--dev' or '--eval'")
        sys.exit(1)
    if test_script and args.ground_truth and not args.eval:
        parser.error("--ground-truth goes with -e/--eval")
    return args


def section_number(text):
    """-s/--section NN: a section (or 2020 machine ID) number, written with two digits."""
    if not text.isdigit() or len(text) > 2:
        raise argparse.ArgumentTypeError(f"{text!r} is no section number: use 00, 01, ...")
    return f"{int(text):02d}"


RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*")


def run_name(text):
    """--run NAME: one folder name, letters, digits and _ . + = - (not starting with . or -)."""
    if not RUN_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is no folder name: use letters, digits and _ . + = - (e.g. seed1)")
    return text


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


def setup_logging(log_file):
    """Log to the console and, as the original does, to a log file (its folder is created
    where needed). File names that are not valid UTF-8 are written back as their own bytes."""
    log.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s - %(levelname)s - %(message)s")
    handlers = [logging.StreamHandler()]
    if log_file:
        safe_io.check_writable(Path(log_file).parent, "log_file", create=True)
        handlers.append(logging.FileHandler(log_file, errors="surrogateescape"))
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)


def start_run(args):
    """The opening both scripts share: the checked configuration, logging to the console and the
    log file, and the machine folders of the chosen mode. Returns (config, the year's record
    (years.Year), machine folders)."""
    config, notes = load_config(args.config)
    setup_logging(config["log_file"])
    for note in notes:
        log.warning(note)
    if args.run:
        for key in ("model_directory", "result_directory"):
            config[key] = os.path.join(config[key], args.run)
        log.info("run %s: models in %s, results in %s", args.run, config["model_directory"],
                 config["result_directory"])
    year = years.YEARS[config["year"]]
    if config["feature"]["channel"] is None:        # not set: the year's baseline's
        config["feature"]["channel"] = year.channel
        if year.channel != "mean":
            log.info("feature.channel is not set: channel %s of each clip (%s), as the DCASE %d "
                     "baseline takes it; set feature.channel: mean to average the channels",
                     year.channel, year.channel_note, year.year)
    key = "dev_directory" if args.dev else "eval_directory"
    dirs = clips.machine_dirs(config[key], key, args.machine, args.config)
    clips.check_layout(dirs, year)
    return config, year, dirs


def train_command(args, machine, sections=None):
    """The 00_train.py command that makes a model's files, of a machine type or of some of its
    sections, where this run looks for them: its mode, configuration, run folder and seed."""
    words = ["python", "00_train.py", "-d" if args.dev else "-e"]
    if args.config != DEFAULT_CONFIG_FILE:
        words += ["-c", args.config]
    words += ["-m", machine] + (["-s", *sections] if sections else [])
    if args.run:
        words += ["--run", args.run]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    return shlex.join(words)


def seed_of(args, config):
    """The run's seed: --seed, else the configuration's seed (None: not seeded)."""
    return args.seed if args.seed is not None else config["seed"]


def log_problems(problems):
    """The closing list of the clips that need a look, kind by kind: problems is a list of
    {kind: [message, ...]}, one per machine type."""
    for kind in dict.fromkeys(kind for found in problems for kind in found):
        for found in problems:
            for message in found.get(kind, []):
                log.warning("%s: %s", kind, message)


def log_averaged(paths):
    """Say once per run how many clips of several channels were averaged into one."""
    if paths:
        log.warning("%d clips have several channels (e.g. %s) and were averaged into one, as "
                    "the original baseline does; set feature.channel to a channel index (0 = "
                    "the first, the near microphone in DCASE 2026) to use one channel",
                    len(paths), paths[0])


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_main(main):
    """Run a script's main() and exit; a BaselineError ends it with its one-line message and
    exit status 1.

    SIGTERM is handled like Ctrl-C, so that a killed run removes its temporary files too.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main()
    except BaselineError as error:
        log.error(str(error))
        sys.exit(1)
    except KeyboardInterrupt:
        log.error("interrupted: finished files are kept, rerun to continue")
        sys.exit(130)
    if "tensorflow" in sys.modules:
        # Every file is written and closed by now; TensorFlow's teardown at a normal exit
        # would take another second.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def check_output_folders(config, key):
    """safe_io.check_writable for the run's output folder (config[key]) and the feature cache."""
    safe_io.check_writable(config[key], key)
    if config["cache"]["enabled"]:
        safe_io.check_writable(config["cache"]["directory"], "cache.directory")
