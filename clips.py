"""The DCASE data layout of each year: clip names, the machine folders and the clip lists of
each run, and the official evaluators' ground truth.

A machine type's test clips form units, each scored on its own: the machine ID in 2020, a
section and domain (folders source_test/ and target_test/) in 2021, a section from 2022 on.
"""
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


# DCASE 2020: normal_id_00_00000000.wav, anomaly_id_00_..., evaluation id_01_00000000.wav
ID_NAME = re.compile(r"(?:(?P<label>normal|anomaly)_)?id_(?P<id>\d\d)_(?P<index>\d+)\.(?i:wav)")

def parse_clip_name(file_name, year=2022):
    """The fields of a DCASE clip name of that year, or None when the base name does not follow
    the year's scheme.

    2021 on: section_00_source_train_normal_0000_<attributes>.wav (attributes may be empty),
    evaluation test section_03_test_0000.wav or section_03_0000.wav (2024: "test_" may be
    missing from development names too). 2020: normal_id_00_00000000.wav, evaluation
    id_01_00000000.wav. The extension may be written in any case (.WAV), as a case-insensitive
    file system reads it.
    """
    match = (ID_NAME if year == 2020 else CLIP_NAME).fullmatch(os.path.basename(file_name))
    return match.groupdict() if match else None


def looks_like(file_name):
    """Which years' scheme a clip name follows, in words (for a message), or None."""
    name = os.path.basename(file_name)
    if ID_NAME.fullmatch(name):
        return "DCASE 2020 (year: 2020)"
    if CLIP_NAME.fullmatch(name):
        return "DCASE 2021-2026 (year: 2021 to 2026)"
    return None


def ground_truth_key(file_name, year=2022):
    """Name under which an evaluation clip is matched with the official ground truth: from
    2022 on, section and index (the ground truth of 2022 omits "test_"); else the name."""
    fields = parse_clip_name(file_name, year) if year >= 2022 else None
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


EXPECTED = {2020: "normal_id_00_00000000.wav (evaluation: id_01_00000000.wav)",
            2022: "section_00_source_train_normal_0000_<attributes>.wav"}


def check_layout(machine_dirs, year):
    """Refuse machine folders laid out as another year's (2021 keeps its test clips in
    source_test/ and target_test/); say once that 2025's supplemental/ folders are not used."""
    for machine_dir in machine_dirs:
        has = {name for name in ("test", "source_test", "target_test")
               if (machine_dir / name).is_dir()}
        if year != 2021 and not has & {"test"} and has:
            raise BaselineError(f"{machine_dir} has {' and '.join(sorted(has))}/ as DCASE 2021 "
                                f"does, and no test/; set year: 2021 in the configuration")
        if year == 2021 and "test" in has and not has - {"test"}:
            raise BaselineError(f"{machine_dir} has test/ but no source_test/ or target_test/ "
                                f"as DCASE 2021 has; set year in the configuration to the "
                                f"data set's year")
    supplemental = [d / "supplemental" for d in machine_dirs if (d / "supplemental").is_dir()]
    if supplemental:
        log.info("%s (DCASE 2025's clean machine and noise clips) %s not used by this baseline",
                 ", ".join(map(str, supplemental)), "is" if len(supplemental) == 1 else "are")


def _clips(folder, year):
    """(path, fields) of the clips in a folder that follow the year's naming scheme, sorted by
    name; the others are named in a warning."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BaselineError(f"folder not found: {folder}; each machine folder needs train/ and "
                            f"{' and '.join(test_folders(year))}/ with .wav clips named like "
                            f"{EXPECTED.get(year, EXPECTED[2022])} (year: {year})")
    clips = []
    for path in sorted(p for p in folder.iterdir() if not p.is_dir()):
        fields = parse_clip_name(path.name, year)
        if fields is None:
            other = looks_like(path.name)
            log.warning("ignoring %s: not a clip named like %s%s", path,
                        EXPECTED.get(year, EXPECTED[2022]),
                        f"; it looks like a {other} name" if other else "")
        else:
            clips.append((path, fields))
    if not clips:
        raise BaselineError(f"no clips in {folder}: expected files named like "
                            f"{EXPECTED.get(year, EXPECTED[2022])} (DCASE {year}); set year in "
                            f"the configuration to the data set's year")
    return clips


def test_folders(year):
    """The folders of a machine type that hold its test clips."""
    return ("source_test", "target_test") if year == 2021 else ("test",)


def train_files(machine_dir, dev, year=2022):
    """Training clips of a machine, sorted: the normal ones in development mode, all in eval."""
    clips = _clips(Path(machine_dir) / "train", year)
    files = [path for path, fields in clips if not dev or fields["label"] == "normal"]
    if not files:
        raise BaselineError(f"no normal training clips in {Path(machine_dir) / 'train'}: "
                            f"expected names like {EXPECTED.get(year, EXPECTED[2022])}")
    return files


def _units_of_folder(folder, year):
    """{unit name: [(path, fields)]} of the clips in a test folder, in unit order."""
    units = {}
    for path, fields in _clips(folder, year):
        if year == 2020:
            unit = f"id_{fields['id']}"
        elif year == 2021:      # the folder tells the domain, as the 2021 baseline reads it
            unit = f"section_{fields['section']}_{folder.name.split('_')[0]}"
        else:
            unit = f"section_{fields['section']}"
        units.setdefault(unit, []).append((path, fields))
    return dict(sorted(units.items()))


def training_domain(path, year=2022):
    """A training clip's domain as the successor baseline takes it: target where the name says
    so, else source (2020 has no domains)."""
    fields = parse_clip_name(path, year) or {}
    return "target" if fields.get("domain") == "target" else "source"


def training_group(path, year=2022):
    """A training clip's section (2020: machine ID) and domain, for fit.validation: clips."""
    fields = parse_clip_name(path, year) or {}
    return fields.get("section") or fields.get("id"), training_domain(path, year)


def unit_keys(unit):
    """The key cells of a unit's result.csv row: ("00",) of id_00 or section_00, ("00",
    "source") of section_00_source."""
    return tuple(unit.split("_")[1:])


def units(machine_dir, dev, year=2022):
    """The test clips of each unit of a machine type, in the year's order: [(unit name, paths,
    labels, domains)], unit names as in the score file names (id_00, section_00_source,
    section_00).

    Development: per unit, sorted normals (label 0) then sorted anomalies (label 1), with the
    domain from the name (2021: the folder; 2020: None). Evaluation: every clip of the unit,
    sorted, with labels and domains None.
    """
    found = []
    for name in test_folders(year):
        folder = Path(machine_dir) / name
        for unit, own in _units_of_folder(folder, year).items():
            if not dev:
                found.append((unit, [p for p, _ in own], None, None))
                continue
            ordered = ([(p, f) for p, f in own if f["label"] == "normal"]
                       + [(p, f) for p, f in own if f["label"] == "anomaly"])
            if not ordered:
                raise BaselineError(f"no labelled clips of {unit} in {folder}: expected names "
                                    f"with _normal_ or _anomaly_")
            labels = np.array([int(f["label"] == "anomaly") for _, f in ordered])
            domains = np.array([folder.name.split("_")[0] if year == 2021 else f.get("domain")
                                for _, f in ordered])
            found.append((unit, [p for p, _ in ordered], labels, domains))
    return found


def read_ground_truth(ground_truth, machine, unit, year=2022):
    """{clip key: (label, domain)} of a unit's evaluation clips from the official ground truth
    of that year: 2020 eval_data_list.csv (ground_truth: the file or its folder), 2021 one file
    per section and domain, 2022 on the evaluator's ground_truth_data/ and
    ground_truth_domain/ files."""
    if year == 2020:
        return _eval_data_list(ground_truth, machine, unit)
    if year == 2021:
        name = f"ground_truth_{machine}_{unit}_test.csv"
        folder = Path(ground_truth)
        path = next((p for p in (folder / name, folder / "ground_truth_data" / name)
                     if p.exists()), folder / name)
        domain = unit.rsplit("_", 1)[1]
        return {key: (label, domain) for key, label in _label_file(path, year).items()}
    found = {kind: _label_file(Path(ground_truth) / f"ground_truth_{kind}"
                               / f"ground_truth_{machine}_{unit}_test.csv", year)
             for kind in ("data", "domain")}
    if found["data"].keys() != found["domain"].keys():
        raise BaselineError(f"ground truth files of {machine} {unit} list different clips")
    return {key: (found["data"][key], "target" if found["domain"][key] else "source")
            for key in found["data"]}


def _label_file(path, year):
    """{clip key: 0 or 1} from an evaluator's `name,flag` file."""
    try:
        return {ground_truth_key(name, year): int(flag) for name, flag in outputs.read_csv(path)}
    except FileNotFoundError:
        raise BaselineError(f"ground truth file not found: {path}; expected the official "
                            f"evaluator's files of DCASE {year}") from None
    except ValueError:
        raise BaselineError(f"{path}: expected rows 'name,0' or 'name,1'") from None


def _eval_data_list(ground_truth, machine, unit):
    """DCASE 2020's eval_data_list.csv: a line with a machine type alone, then its clips as
    `file name,name with its label,label` (id_01_00000000.wav,anomaly_id_01_00000000.wav,1):
    the clips are matched by the name without a label, their name in test/."""
    path = Path(ground_truth)
    path = path / "eval_data_list.csv" if path.is_dir() else path
    try:
        rows = outputs.read_csv(path)
    except FileNotFoundError:
        raise BaselineError(f"ground truth file not found: {path}; expected DCASE 2020's "
                            f"eval_data_list.csv (or its folder)") from None
    found, current = {}, None
    for row in rows:
        if len(row) == 1:
            current = row[0]
        elif len(row) == 3 and current == machine:
            labelled = (parse_clip_name(row[0], 2020) or {}).get("label")
            name = row[1] if labelled else row[0]      # the one without a label
            fields = parse_clip_name(name, 2020)
            if fields and f"id_{fields['id']}" == unit:
                try:
                    found[os.path.basename(name)] = (int(row[2]), None)
                except ValueError:
                    raise BaselineError(f"{path}: expected rows 'file name,renamed name,0 or "
                                        f"1', got {','.join(row)}") from None
    return found


def ground_truth_labels(paths, ground_truth, machine, unit, year=2022):
    """Labels and domains of a unit's evaluation clips from the official ground truth."""
    truth = read_ground_truth(ground_truth, machine, unit, year)
    keys = [ground_truth_key(p, year) for p in paths]
    missing = sorted(set(truth) - set(keys))
    extra = sorted(set(keys) - set(truth))
    if missing or extra:
        raise BaselineError(
            f"{machine} {unit}: test clips and ground truth differ; missing from the test "
            f"folder: {', '.join(missing) or 'none'}; not in the ground truth: "
            f"{', '.join(extra) or 'none'}")
    return (np.array([truth[k][0] for k in keys]), np.array([truth[k][1] for k in keys]))
