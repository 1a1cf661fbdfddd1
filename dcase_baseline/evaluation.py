"""Any system's score files scored by a year's official rules (evaluate.py): the anomaly score
(and decision) files of each test unit, named as the year's evaluator reads them, are read as
other systems write them, joined with the clips of the data folder by name (labels and domains
from the names, or in evaluation mode from the official ground truth), and turned into the
blocks, result.csv and report that 01_test.py writes of its own scores.
"""
import logging
import math
import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dcase_baseline import clips, filenames, metrics, results, safe_io, years
from dcase_baseline.errors import BaselineError

log = logging.getLogger("baseline")

# a unit key's cells in a file name: two digits (section, machine ID) or a domain
_KEY_CELL = {"domain": "source|target"}


def file_pattern(year, kind):
    """The regular expression of the year's score ("score") or decision ("decision") file
    names, with the groups machine and the unit's keys; None where the year has no such file."""
    form = year.score_file if kind == "score" else year.decision_file
    if form is None:
        return None
    unit = re.escape(year.unit_name)
    for key in year.unit_keys:
        unit = unit.replace(re.escape("{" + key + "}"),
                            f"(?P<{key}>{_KEY_CELL.get(key, r'[0-9][0-9]')})")
    parts = re.escape(form).replace(re.escape("{machine}"), "(?P<machine>.+?)")
    return re.compile(parts.replace(re.escape("{unit}"), unit))


def named_like(file_name, kind):
    """The years whose score (or decision) files are named so: {year: match}."""
    found = {}
    for number, year in sorted(years.YEARS.items()):
        pattern = file_pattern(year, kind)
        match = pattern.fullmatch(file_name) if pattern else None
        if match:
            found[number] = match
    return found


def check_folder(scores_dir, units_of, year):
    """Refuse score and decision files in the folder that name a machine type or unit the data
    do not have, or that are named as another year's evaluator reads them. units_of: {machine
    type: its TestUnits}."""
    for path in sorted(Path(scores_dir).iterdir()):
        for kind in ("score", "decision"):
            found = named_like(path.name, kind)
            if not found:
                continue
            match = found.get(year.year)
            if match is None:
                others = years.in_words(found)
                raise BaselineError(
                    f"{path}: named as the DCASE {others} evaluator reads {kind} files, not as "
                    f"DCASE {year.year}'s ({file_pattern(year, kind).pattern}); give --year "
                    f"{min(found)} or rename the files")
            machine = match["machine"]
            if machine not in units_of:
                raise BaselineError(f"{path}: no machine type {machine} in the data "
                                    f"({', '.join(units_of)}); remove the file or add the "
                                    f"machine type's clips")
            keys = tuple(match[key] for key in year.unit_keys)
            if keys not in {unit.keys for unit in units_of[machine]}:
                raise BaselineError(
                    f"{path}: the data of {machine} have no {' '.join(keys)} "
                    f"({', '.join(unit.name for unit in units_of[machine])}); remove the file "
                    f"or add those clips")


def _split(line, delimiter):
    return [cell.strip() for cell in line.split(delimiter)]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_values(path, kind):
    """{clip name: value} of a score file (kind "score": finite numbers) or decision file
    (kind "decision": 0 or 1) as other systems write them: comma or tab separated, with or
    without a header row, clips by base name or whole path, any line ends, any float notation.
    A row that is not so is a one-line error naming the file and the row."""
    try:
        with open(path, newline=None, errors="surrogateescape") as f:
            lines = [line.rstrip("\n") for line in f]
    except OSError as error:
        raise BaselineError(f"cannot read {path}: {error.strerror or error}") from None
    found, rows = {}, {}
    first = next((number for number, line in enumerate(lines, 1) if line.strip()), None)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        delimiter = "\t" if "\t" in line else ","
        cells = _split(line, delimiter)
        where = f"{path}, row {number}"
        if len(cells) < 2:
            raise BaselineError(f"{where}: expected a clip name and a {kind}, separated by a "
                                f"comma or a tab, got {line!r}")
        value = _number(cells[1])
        if value is None and number == first:      # a header row: the first line only
            continue
        name = re.split(r"[\\/]", cells[0])[-1]
        if value is None or not math.isfinite(value):
            raise BaselineError(f"{where}: the {kind} of {name} is {cells[1]!r}, not a finite "
                                f"number")
        if kind == "decision" and value not in (0.0, 1.0):
            raise BaselineError(f"{where}: the decision of {name} is {cells[1]!r}; a decision "
                                f"is 1 (anomalous) or 0 (normal)")
        if name in rows:
            raise BaselineError(f"{where}: {name} is listed twice (rows {rows[name]} and "
                                f"{number}); give each clip once")
        found[name], rows[name] = value, number
    return found


def aligned(values, path, unit, machine):
    """The values of the unit's clips, in its order; a clip missing from the file or a name
    the unit does not have is a one-line error naming them."""
    names = [os.path.basename(p) for p in unit.paths]
    missing = sorted(set(names) - set(values))
    extra = sorted(set(values) - set(names))
    if missing or extra:
        raise BaselineError(
            f"{path}: its clips are not those of {machine} {unit.name}; missing: "
            f"{', '.join(missing[:5]) or 'none'}{' ...' if len(missing) > 5 else ''} "
            f"({len(missing)}); not in the data: {', '.join(extra[:5]) or 'none'}"
            f"{' ...' if len(extra) > 5 else ''} ({len(extra)})")
    return np.array([values[name] for name in names])


class UnitScores(NamedTuple):
    unit: object            # the TestUnit, with labels and domains
    scores: np.ndarray
    decisions: object       # np.ndarray, or None without a decision file


def unit_scores(scores_dir, machine, unit, year):
    """A unit's scores and decisions from its files."""
    path = filenames.anomaly_score_file(scores_dir, machine, unit.name, year)
    if not path.is_file():
        raise BaselineError(f"{path} not found: the scores of {machine} {unit.name} "
                            f"({len(unit.paths)} clips), named as the DCASE {year.year} "
                            f"evaluator reads them")
    scores = aligned(read_values(path, "score"), path, unit, machine)
    decision_path = filenames.decision_result_file(scores_dir, machine, unit.name, year)
    decisions = None
    if decision_path is not None and decision_path.is_file():
        decisions = aligned(read_values(decision_path, "decision"), decision_path, unit,
                            machine).astype(int)
    return UnitScores(unit, scores, decisions)


def unit_row(found, year, max_fpr):
    """The ResultRow of a unit's scores; precision, recall and F1 empty without decisions."""
    unit = found.unit
    decisions = found.decisions if found.decisions is not None else np.zeros(len(unit.labels))
    values = metrics.unit_metrics(year.metric_columns, unit.labels, found.scores, decisions,
                                  unit.domains, max_fpr)
    if found.decisions is None:
        values = [None if metrics.KINDS[column.kind].of_decisions else value
                  for column, value in zip(year.metric_columns, values)]
    return results.ResultRow(unit.keys, values)


def machine_units(machine_dir, dev, year, ground_truth):
    """The TestUnits of a machine type with their labels and domains: from the names in
    development mode, from the official ground truth in evaluation mode."""
    units = clips.units(machine_dir, dev, year)
    if dev:
        return units
    return [clips.with_ground_truth(unit, ground_truth, machine_dir.name, year)
            for unit in units]


def without_decisions(found_units, year):
    """The units scored without a decision file, in words, for the one warning about them."""
    if year.decision_file is None:
        return []
    return [f"{machine} {found.unit.name}" for machine, found in found_units
            if found.decisions is None]


def evaluate(scores_dir, out_dir, config, year, dirs, dev, ground_truth=None, seed=None):
    """Score the score files of scores_dir by the year's rules against the clips of the
    machine folders dirs, and write into out_dir what 01_test.py writes of its own scores:
    the blocks with their records, result.csv, the figures and report.html. Every file is read
    and checked before anything is written. Returns result.csv's Blocks and its path."""
    from dcase_baseline import plots, report, run_settings
    units_of = {d.name: machine_units(d, dev, year, ground_truth) for d in dirs}
    check_folder(scores_dir, units_of, year)
    found = {machine: [unit_scores(scores_dir, machine, unit, year) for unit in units]
             for machine, units in units_of.items()}
    lacking = without_decisions([(m, f) for m, units in found.items() for f in units], year)
    if lacking:
        log.warning("no decision files for %s: their precision, recall and F1 are left empty",
                    ", ".join(lacking))
    # the score folder in place of the model folder (runs of several seeds each have one);
    # "system" tells these figures from 01_test.py's (summarize.py --across system)
    record = dict(run_settings.run_record(config, dirs[0].parent, ground_truth, seed),
                  **{"model folder": str(Path(scores_dir).resolve()),
                     "system": "another system's score files (evaluate.py)"})
    result_path = Path(out_dir) / config["result_file"]
    for machine, units in found.items():
        rows = [unit_row(f, year, config["max_fpr"]) for f in units]
        results.save_block(result_path, machine, results.Block(machine, rows), dev, record)
        scored = [plots.ScoredUnit(f.unit.name, f.scores, f.unit.labels, f.unit.domains)
                  for f in units]
        plots.save_model_plot(filenames.plot_file(out_dir, machine, dev), machine, scored,
                              None, config["max_fpr"])
        safe_io.save_json(filenames.facts_file(out_dir, machine, dev), {
            "machine type": machine, "score files": record["model folder"], "seed": seed,
            "data folder": record["data folder"], "ground truth": record["ground truth"],
            "DCASE year": year.year,
            "decision files": "none" if all(f.decisions is None for f in units) else
                              "for every unit" if all(f.decisions is not None for f in units)
                              else "for some units",
            "clips scored per unit": ", ".join(f"{f.unit.name}: {len(f.scores)}"
                                               for f in units),
            "config": config})
    with results.assembly_lock(result_path):
        blocks, left_out, written = results.assemble(result_path, dev, record)
        page = report.write_report(written, out_dir, blocks, dev, year, left_out,
                                   config["score"], f"scores of {Path(scores_dir).resolve()}")
    log.info("report -> %s", page)
    return blocks, written
