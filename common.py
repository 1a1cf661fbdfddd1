"""The start-up the scripts share: the command line, the configuration (its keys, defaults and
rules), logging, and the run's error handling (a BaselineError ends it in one line).

Nothing here runs at import time. The library it starts is the dcase_baseline package.
"""
import argparse
import logging
import os
import re
import shlex
import signal
import sys
from pathlib import Path

from dcase_baseline import __version__, clips, configuration, safe_io  # noqa: F401 (the version)
from dcase_baseline.errors import BaselineError


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
    """The opening both scripts share: the effective configuration (config.effective), logging
    to the console and the log file, and the machine folders of the chosen mode. Returns
    (config, the year's record (years.Year), machine folders)."""
    run = configuration.effective(args.config, args.run)
    setup_logging(run.config["log_file"])
    for note in run.notes:
        log.warning(note)
    for line in run.said:
        log.info(line)
    key = "dev_directory" if args.dev else "eval_directory"
    dirs = clips.machine_dirs(run.config[key], key, args.machine, args.config)
    clips.check_layout(dirs, run.year)
    return run.config, run.year, dirs


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
