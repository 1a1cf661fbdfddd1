"""The DCASE data layout: clip names, the machine folders and the clip lists of each run, and
the official evaluator's ground truth."""
import logging
import os
import re
from pathlib import Path

import numpy as np

import outputs
from errors import BaselineError

log = logging.getLogger("baseline")

CLIP_NAME = re.compile(
    r"section_(?P<section>\d\d)_"
    r"(?:(?P<domain>source|target)_)?"
    r"(?:(?P<split>train|test)_)?"
    r"(?:(?P<label>normal|anomaly)_)?"
    r"(?P<index>\d+)"
    r"(?:_(?P<attributes>.*))?\.(?i:wav)")


def parse_clip_name(file_name):
    """The fields of a DCASE clip name, or None when the base name does not follow the scheme.

    Development: section_00_source_train_normal_0000_<attributes>.wav (attributes may be empty)
    Evaluation test: section_03_test_0000.wav (the official ground truth omits "test_")
    The extension may be written in any case (.WAV), as a case-insensitive file system reads it.
    """
    match = CLIP_NAME.fullmatch(os.path.basename(file_name))
    return match.groupdict() if match else None


def ground_truth_key(file_name):
    """Name under which an evaluation clip is matched with the official ground truth."""
    fields = parse_clip_name(file_name)
    if fields is None:
        return os.path.basename(file_name)
    return f"section_{fields['section']}_{int(fields['index']):04d}"


def _resolved(root, config_path):
    """How a relative data root was read: against the current folder, which may not be the
    folder of the configuration file."""
    if root.is_absolute():
        return ""
    note = f" (that is {os.path.abspath(root)}: relative to the current folder {os.getcwd()}"
    if config_path and os.path.dirname(os.path.abspath(config_path)) != os.getcwd():
        note += f", not to the folder of the configuration file {config_path}"
    return note + ")"


def machine_dirs(root, mode_name, machines=None, config_path=None):
    """Sorted machine folders under the data root, optionally only the named ones."""
    root = Path(root)
    if not root.is_dir():
        raise BaselineError(f"{mode_name} folder not found: {root}{_resolved(root, config_path)}; "
                            f"expected {root}/<machine>/train/*.wav and "
                            f"{root}/<machine>/test/*.wav (set it in the configuration)")
    # hidden folders (.downloads of download.py, ...) hold no machine type
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise BaselineError(f"no machine folders in {root}; expected {root}/<machine>/train and "
                            f"{root}/<machine>/test")
    if machines:
        names = [d.name for d in dirs]
        unknown = [m for m in machines if m not in names]
        if unknown:
            raise BaselineError(f"unknown machine type {', '.join(unknown)} in {root}; "
                                f"available: {', '.join(names)}")
        dirs = [d for d in dirs if d.name in machines]
    return dirs


def _clips(folder):
    """(path, fields) of the clips in a folder that follow the naming scheme, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BaselineError(f"folder not found: {folder}; each machine folder needs train/ and "
                            f"test/ with section_XX_*.wav clips")
    clips = []
    for path in sorted(p for p in folder.iterdir() if not p.is_dir()):
        fields = parse_clip_name(path.name)
        if fields is None:
            log.warning("ignoring %s: not a clip named section_XX_..._NNNN_*.wav", path)
        else:
            clips.append((path, fields))
    if not clips:
        raise BaselineError(f"no clips in {folder}: expected files named like "
                            f"section_00_source_train_normal_0000_<attributes>.wav")
    return clips


def train_files(machine_dir, dev):
    """Training clips of a machine, sorted: the normal ones in development mode, all in eval."""
    clips = _clips(Path(machine_dir) / "train")
    files = [path for path, fields in clips if not dev or fields["label"] == "normal"]
    if not files:
        raise BaselineError(f"no normal training clips in {Path(machine_dir) / 'train'}: "
                            f"expected section_XX_<source|target>_train_normal_NNNN_*.wav")
    return files


def sections(machine_dir, dev):
    """The test clips of each section in the machine's test folder, in section order:
    [(section name "section_00", paths, labels, domains), ...].

    Development: per section, sorted normals (label 0) then sorted anomalies (label 1), with
    the domain from the name. Evaluation: every clip of the section, sorted, with labels and
    domains None.
    """
    test_dir = Path(machine_dir) / "test"
    clips = _clips(test_dir)
    found = []
    for number in sorted({fields["section"] for _, fields in clips}):
        section = f"section_{number}"
        own = [(p, f) for p, f in clips if f["section"] == number]
        if not dev:
            found.append((section, [p for p, _ in own], None, None))
            continue
        ordered = ([(p, f) for p, f in own if f["label"] == "normal"]
                   + [(p, f) for p, f in own if f["label"] == "anomaly"])
        if not ordered:
            raise BaselineError(f"no labelled clips of {section} in {test_dir}: expected "
                                f"{section}_<source|target>_test_<normal|anomaly>_NNNN_*.wav")
        labels = np.array([int(f["label"] == "anomaly") for _, f in ordered])
        domains = np.array([f["domain"] for _, f in ordered])
        found.append((section, [p for p, _ in ordered], labels, domains))
    return found


def read_ground_truth(ground_truth_dir, machine, section):
    """{clip key: (label, domain)} from the official evaluator's two files for a section."""
    found = {}
    for kind in ("data", "domain"):
        path = (Path(ground_truth_dir) / f"ground_truth_{kind}"
                / f"ground_truth_{machine}_{section}_test.csv")
        try:
            found[kind] = {ground_truth_key(name): int(flag)
                           for name, flag in outputs.read_csv(path)}
        except FileNotFoundError:
            raise BaselineError(f"ground truth file not found: {path}; expected the official "
                                f"evaluator's ground_truth_data/ and ground_truth_domain/") from None
        except ValueError:
            raise BaselineError(f"{path}: expected rows 'name,0' or 'name,1'") from None
    if found["data"].keys() != found["domain"].keys():
        raise BaselineError(f"ground truth files of {machine} {section} list different clips")
    return {key: (found["data"][key], "target" if found["domain"][key] else "source")
            for key in found["data"]}
