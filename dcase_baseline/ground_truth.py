"""The official evaluators' ground truth files of each year, read (01_test.py -e --ground-truth)
and written (the demo generator), one Format per layout in the FORMATS registry, which a year's
record names (Year.ground_truth) and years.py checks. No import of years.py.

truths, as written: [(machine type, {unit name: [(clip name in test/, 1 if anomalous, 1 if
target, the clip's development name)]})].
"""
import csv
import os
from pathlib import Path
from typing import Callable, NamedTuple

from dcase_baseline import clip_names, safe_io
from dcase_baseline.errors import BaselineError


class Format(NamedTuple):
    read: Callable      # (ground truth path, machine type, TestUnit, year) ->
                        # {clip key (clip_names.ground_truth_key): (label, domain)}
    write: Callable     # (folder, truths, year) -> None


def _csv(path, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _label_file(path, year):
    """{clip key: 0 or 1} from an evaluator's `name,flag` file."""
    try:
        return {clip_names.ground_truth_key(name, year): int(flag)
                for name, flag in safe_io.read_csv(path)}
    except FileNotFoundError:
        raise BaselineError(f"ground truth file not found: {path}; expected the official "
                            f"evaluator's files of DCASE {year.year}") from None
    except ValueError:
        raise BaselineError(f"{path}: expected rows 'name,0' or 'name,1'") from None


def _file_name(machine, unit_name):
    return f"ground_truth_{machine}_{unit_name}_test.csv"


def _read_eval_data_list(ground_truth, machine, unit, year):
    """DCASE 2020's eval_data_list.csv (ground_truth: the file or its folder): a line with a
    machine type alone, then its clips as `file name,name with its label,label`
    (id_01_00000000.wav,anomaly_id_01_00000000.wav,1): the clips are matched by the name
    without a label, their name in test/."""
    path = Path(ground_truth)
    path = path / "eval_data_list.csv" if path.is_dir() else path
    try:
        rows = safe_io.read_csv(path)
    except FileNotFoundError:
        raise BaselineError(f"ground truth file not found: {path}; expected DCASE 2020's "
                            f"eval_data_list.csv (or its folder)") from None
    found, current = {}, None
    for row in rows:
        if len(row) == 1:
            current = row[0]
        elif len(row) == 3 and current == machine:
            labelled = (clip_names.parse(row[0], year) or {}).get("label")
            name = row[1] if labelled else row[0]      # the one without a label
            fields = clip_names.parse(name, year)
            if fields and tuple(fields[key] for key in year.unit_keys) == unit.keys:
                try:
                    found[os.path.basename(name)] = (int(row[2]), None)
                except ValueError:
                    raise BaselineError(f"{path}: expected rows 'file name,renamed name,0 or "
                                        f"1', got {','.join(row)}") from None
    return found


def _write_eval_data_list(folder, truths, year):
    rows = []
    for machine, truth in truths:
        rows.append([machine])
        rows += sorted((r[0], r[3], r[1]) for unit in truth.values() for r in unit)
    _csv(Path(folder) / "eval_data_list.csv", rows)


def _read_unit_files(ground_truth, machine, unit, year):
    """DCASE 2021: a file per section and domain, `name,label`, in the folder given (or its
    ground_truth_data/)."""
    folder, name = Path(ground_truth), _file_name(machine, unit.name)
    path = next((p for p in (folder / name, folder / "ground_truth_data" / name)
                 if p.exists()), folder / name)
    domain = dict(zip(year.unit_keys, unit.keys))["domain"]
    return {key: (label, domain) for key, label in _label_file(path, year).items()}


def _write_unit_files(folder, truths, year):
    for machine, truth in truths:
        for unit, rows in truth.items():
            _csv(Path(folder) / _file_name(machine, unit), sorted((r[0], r[1]) for r in rows))


def _read_data_and_domain(ground_truth, machine, unit, year):
    """DCASE 2022 on: ground_truth_data/ (`name,1` for an anomaly) and ground_truth_domain/
    (`name,1` for the target domain), a file per section each."""
    name = _file_name(machine, unit.name)
    found = {kind: _label_file(Path(ground_truth) / f"ground_truth_{kind}" / name, year)
             for kind in ("data", "domain")}
    if found["data"].keys() != found["domain"].keys():
        raise BaselineError(f"ground truth files of {machine} {unit.name} list different clips")
    return {key: (found["data"][key], "target" if found["domain"][key] else "source")
            for key in found["data"]}


def _write_data_and_domain(folder, truths, year):
    for machine, truth in truths:
        for unit, rows in truth.items():
            for kind, column in (("data", 1), ("domain", 2)):
                _csv(Path(folder) / f"ground_truth_{kind}" / _file_name(machine, unit),
                     sorted((r[0], r[column]) for r in rows))


FORMATS = {
    "eval_data_list": Format(_read_eval_data_list, _write_eval_data_list),
    "unit_files": Format(_read_unit_files, _write_unit_files),
    "data_and_domain": Format(_read_data_and_domain, _write_data_and_domain),
}


def read(ground_truth, machine, unit, year):
    """{clip key: (label, domain)} of a TestUnit's evaluation clips from the year's official
    ground truth."""
    return FORMATS[year.ground_truth].read(ground_truth, machine, unit, year)


def write(folder, truths, year):
    """The year's official ground truth files of truths, in folder."""
    FORMATS[year.ground_truth].write(folder, truths, year)
