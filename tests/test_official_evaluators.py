"""evaluate.py against the official evaluators of DCASE 2020-2024 (../shared/reference/evaluators,
run as they are from a scratch copy). The same files of a foreign system (random scores with
ties, random decisions, rows shuffled, `name,score` without a header, as the evaluators read
them), in each year's evaluation layout of the demo generator, go to both: every figure the
evaluator writes (each unit's AUC, pAUC, precision, recall and F1, the means, the official
score) is evaluate.py's figure in result_eval.csv, but those left_out() says why not. The pAUC
of each domain that evaluate.py writes from 2023 on is no evaluator's figure: it is checked against
scikit-learn over that domain's clips."""
import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers import ROOT, read_rows, script_environment, shared_path, write_config

MACHINES = ("motor", "pump")        # the demo generator's; the 2021 evaluator needs two or more
# Both write every figure with all its digits (repr), from the same scikit-learn calls on the
# same values: only the order in which a mean adds its values may differ, by a few units in the
# last place. abs 1e-12 is far below the step of a figure here (an AUC moves by 1/72 or more
# when one clip changes places with another of the other class).
TOLERANCE = 1e-12
OVER_ALL = "over all machine types, sections, and domains"
KEY_COLUMNS = ("", "section", "domain", "id")


class Evaluator(NamedTuple):
    folder: str         # under ../shared/reference/evaluators
    scripts: tuple      # what runs it (the first), copied into the scratch folder
    unit: str           # an evaluation clip's name; group 1: its unit, as file names write it
    score_file: str     # the name it reads of a unit's scores (decision_result_... beside)
    decides: bool       # whether it reads decision files
    system: str         # where it reads a system's files, in the scratch folder
    result: str         # what it writes there


def _successor(year):
    return Evaluator(f"dcase{year}_evaluator", (f"dcase{year}_task2_evaluator.py", "tools"),
                     r"(section_\d\d)_\d+\.wav", "anomaly_score_{machine}_{unit}_test.csv",
                     True, "teams/foreign/system", "teams_result/system_result.csv")


# as each evaluator's script reads and writes them (the 2022-2024 ones glob teams/*/*: a team's
# folder of systems, a result per system)
EVALUATORS = {
    2020: Evaluator("dcase2020_evaluator", ("evaluator.py",), r"(id_\d\d)_\d+\.wav",
                    "anomaly_score_{machine}_{unit}.csv", False, "teams/foreign",
                    "teams/result_foreign.csv"),
    2021: Evaluator("dcase2021_evaluator", ("dcase2021_task2_evaluator.py",),
                    r"(section_\d\d_(?:source|target))_test_\d+\.wav",
                    "anomaly_score_{machine}_{unit}_test.csv", True, "teams/foreign",
                    "teams_result/foreign_result.csv"),
    2022: Evaluator("dcase2022_evaluator", ("dcase2022_task2_evaluator.py",),
                    r"(section_\d\d)_test_\d+\.wav", "anomaly_score_{machine}_{unit}_test.csv",
                    True, "teams/foreign/system", "teams_result/system_result.csv"),
    2023: _successor(2023),
    2024: _successor(2024),
}


def left_out(key, year):
    """Why a figure the evaluator writes is not compared; None where it is. key: (block, row
    key, column), as figures() names them."""
    _, (row, *_), column = key
    if column == "AUC (all)":
        return "evaluate.py writes no AUC over both domains' clips (no baseline writes it)"
    if row == "official score ci95":
        return "evaluate.py writes no jackknife interval (docs/evaluate.md)"
    if year == 2021 and row in ("source harmonic mean", "target harmonic mean"):
        return ("the 2021 evaluator takes a machine type's first len(machines)//2 units as its "
                "source ones (right for 7 machine types of 3 sections only); evaluate.py "
                "writes no domain means in 2021, as the 2021 baseline")
    if year == 2021 and row in (f"source harmonic mean {OVER_ALL}",
                                f"target harmonic mean {OVER_ALL}"):
        return "evaluate.py writes no domain means in 2021, as the 2021 baseline"
    if year == 2022 and row in ("source harmonic mean", "target harmonic mean"):
        return ("the 2022 evaluator takes the first len(section_ids)//2 of a machine type's "
                "2 x sections columns as its source ones (the 2023 one takes half of them)")
    return None


def is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def figures(rows):
    """{(block, row key, column): value} of a result file, ours or an evaluator's: the block a
    machine type (a row with its name alone) or "all" (after a blank row: the means over
    everything and the official score); the row key its key cells (section and domain, ID, or
    the name of a mean); the column named by the last header row above it."""
    found, block, header = {}, "all", []
    for row in rows:
        if not any(row):
            block = "all"
        elif len(row) == 1:
            block = row[0]
        elif row[0].startswith("official score"):       # its value, after empty cells or not
            found[("all", (row[0],), "")] = float([cell for cell in row[1:] if cell][-1])
        elif not any(is_number(cell) for cell in row):
            header = row
        else:
            key = tuple(cell for cell, name in zip(row, header) if name in KEY_COLUMNS and cell)
            for cell, name in zip(row, header):
                if name not in KEY_COLUMNS and cell:
                    found[(block, key, name)] = float(cell)
    return found


def is_unit(row_key):
    """Whether a row is a unit's (its section or ID first), not a mean's."""
    return re.fullmatch(r"\d\d", row_key[0]) is not None


def in_official_layout(ours, year):
    """Our figures, named and pooled as the year's evaluator writes them. 2020 and 2021 write
    ours. From 2022 on its means pool a column's source and target values (one of each per
    section: their mean is the mean of the two domains' means, their harmonic mean the harmonic
    mean of the two domains' harmonic means), repeat the pAUC for each domain, and give each
    domain's harmonic means apart ("source harmonic mean ...")."""
    if year < 2022:
        return dict(ours)
    view = {key: value for key, value in ours.items()
            if is_unit(key[1]) or key[1] == ("official score",)}
    means = {(block, row) for block, (row, *_), _ in ours if not is_unit((row,))}
    for block, row in means - {("all", "official score")}:
        arithmetic = row.startswith("arithmetic")
        names = [row] if arithmetic else [row, f"source {row}", f"target {row}"]
        for name in names:
            view[(block, (name,), "pAUC")] = ours[(block, (row,), "pAUC")]
        for kind in ("AUC", "precision", "recall", "F1 score"):
            source, target = (ours[(block, (row,), f"{kind} ({d})")] for d in ("source", "target"))
            view[(block, (row,), kind)] = ((source + target) / 2 if arithmetic
                                           else 2 / (1 / source + 1 / target))
            if not arithmetic:
                view[(block, (f"source {row}",), kind)] = source
                view[(block, (f"target {row}",), kind)] = target
    return view


def foreign_system(data, folder, year, seed):
    """The files of a system that is not this one, named and written as the year's evaluator
    reads them: per unit `name,score` rows in a shuffled order, no header; random scores of one
    decimal (ties: their handling must agree too) and random decisions. Returns {(machine,
    unit): {clip name: score}}."""
    evaluator = EVALUATORS[year]
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    written = {}
    for machine in MACHINES:
        units = {}
        for path in sorted((data / machine).rglob("*.wav")):
            if path.parent.name != "train":
                units.setdefault(re.fullmatch(evaluator.unit, path.name)[1], []).append(
                    path.name)
        for unit, names in units.items():
            names = [names[i] for i in rng.permutation(len(names))]
            scores = [float(s) for s in np.round(rng.normal(size=len(names)), 1)]
            path = folder / evaluator.score_file.format(machine=machine, unit=unit)
            path.write_text("".join(f"{n},{s!r}\n" for n, s in zip(names, scores)))
            if evaluator.decides:
                decisions = rng.integers(0, 2, len(names))
                path.with_name(path.name.replace("anomaly_score", "decision_result")).write_text(
                    "".join(f"{n},{d}\n" for n, d in zip(names, decisions)))
            written[(machine, unit)] = dict(zip(names, scores))
    return written


def write_rows(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def labels_and_domains(folder, file_name):
    """({clip: "0" or "1"}, {clip: "0" (source) or "1" (target)}) of a section's 2022-style
    ground truth files."""
    return tuple(dict(read_rows(Path(folder) / f"ground_truth_{kind}" / file_name))
                 for kind in ("data", "domain"))


def attribute_rows(folder, file_name):
    """A ground_truth_attributes/ file of 2023 and 2024: `evaluation name,development name
    without .wav`. The evaluator renames the score rows of clips named by the second; ours are
    named by the first, so it renames none, but without the file it skips the system without a
    word."""
    labels, domains = labels_and_domains(folder, file_name)
    rows = []
    for name, label in labels.items():
        section, number = re.fullmatch(r"(section_\d\d)_(\d+)\.wav", name).groups()
        domain = "target" if domains[name] == "1" else "source"
        rows.append([name, f"{section}_{domain}_test_{'anomaly' if label == '1' else 'normal'}"
                           f"_{number}_noAttribute"])
    return rows


def lay_out_ground_truth(truth, scratch, year):
    """The ground truth the generator wrote, where and as the year's evaluator reads it."""
    if year == 2020:
        # it takes the labels in the list's order and the scores sorted by name: each machine
        # type's clips must be listed sorted
        blocks = []
        for row in read_rows(truth / "eval_data_list.csv"):
            if len(row) == 1:
                blocks.append((row, []))
            else:
                blocks[-1][1].append(row)
        write_rows(scratch / "eval_data_list.csv",
                   [row for machine, clips in blocks for row in [machine] + sorted(clips)])
    elif year == 2021:
        shutil.copytree(truth, scratch / "ground_truth_data")
    else:
        for kind in ("data", "domain"):
            shutil.copytree(truth / f"ground_truth_{kind}", scratch / f"ground_truth_{kind}")
        if year >= 2023:
            for path in (truth / "ground_truth_data").iterdir():
                write_rows(scratch / "ground_truth_attributes" / path.name,
                           attribute_rows(truth, path.name))


def official_result(scores, truth, scratch, year):
    """The rows the year's official evaluator writes of the system's files."""
    evaluator = EVALUATORS[year]
    source = shared_path("reference", "evaluators", evaluator.folder)
    scratch.mkdir()
    for name in evaluator.scripts:
        (shutil.copytree if (source / name).is_dir() else shutil.copy)(source / name,
                                                                       scratch / name)
    lay_out_ground_truth(truth, scratch, year)
    shutil.copytree(scores, scratch / evaluator.system)
    # 2023 and 2024 import seaborn (and matplotlib) for the plots of --out_all only: an empty
    # module will do; matplotlib draws nothing, in files of its own
    stubs = scratch.parent / "stubs"
    stubs.mkdir()
    (stubs / "seaborn.py").write_text("")
    environment = script_environment(PYTHONPATH=str(stubs), MPLBACKEND="Agg",
                                     MPLCONFIGDIR=str(scratch.parent / "matplotlib"))
    run = subprocess.run([sys.executable, evaluator.scripts[0]], cwd=scratch, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # 2023 and 2024 skip a system that lacks a file without a word: its result must be there
    result = scratch / evaluator.result
    assert result.is_file(), f"no {evaluator.result}:\n{run.stdout[-3000:]}"
    return read_rows(result)


def domain_paucs(truth, written, max_fpr):
    """{(machine, (section,), "pAUC (source)" or "pAUC (target)"): scikit-learn's pAUC over
    that domain's clips}, as the 2023-2024 baseline computes it."""
    found = {}
    for (machine, unit), scores in written.items():
        labels, domains = labels_and_domains(truth, f"ground_truth_{machine}_{unit}_test.csv")
        for flag, domain in (("0", "source"), ("1", "target")):
            names = [name for name in scores if domains[name] == flag]
            found[(machine, (unit.split("_")[1],), f"pAUC ({domain})")] = roc_auc_score(
                [int(labels[n]) for n in names], [scores[n] for n in names], max_fpr=max_fpr)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("year", sorted(EVALUATORS))
def test_evaluate_py_gives_the_official_evaluators_figures(tmp_path, year):
    shared_path("reference", "evaluators", EVALUATORS[year].folder)
    from make_demo_data import make_dataset
    data, truth, scores = tmp_path / "data", tmp_path / "truth", tmp_path / "scores"
    make_dataset(data, ground_truth_dir=truth, seconds=0.1, year=year)
    written = foreign_system(data, scores, year, seed=year)
    config = write_config(tmp_path, eval_directory=str(data), year=year)
    run = subprocess.run([sys.executable, str(ROOT / "evaluate.py"), scores, "-e",
                          "--ground-truth", truth, "--year", str(year), "-c", config,
                          "-o", tmp_path / "out"], cwd=tmp_path, env=script_environment(),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ours = figures(read_rows(tmp_path / "out" / "result_eval.csv"))
    theirs = figures(official_result(scores, truth, tmp_path / "evaluator", year))

    if year >= 2023:    # evaluate.py's pAUC of each domain: no evaluator writes it
        for key, value in domain_paucs(truth, written, max_fpr=0.1).items():
            assert ours[key] == pytest.approx(value, abs=TOLERANCE), key
        ours = {key: value for key, value in ours.items() if not key[2].startswith("pAUC (")}
    view = in_official_layout(ours, year)
    compared = {key for key in theirs if left_out(key, year) is None}
    assert {key for key in view if left_out(key, year) is None} == compared
    # every unit of the system among them, and the official score from 2021 on
    assert {(block, row) for block, row, _ in compared if is_unit(row)} == {
        (machine, tuple(re.findall(r"\d\d|source|target", unit))) for machine, unit in written}
    assert (("all", ("official score",), "") in compared) == (year > 2020)
    differing = {key: (view[key], theirs[key]) for key in sorted(compared)
                 if view[key] != pytest.approx(theirs[key], abs=TOLERANCE)}
    assert not differing, f"evaluate.py's figure, the evaluator's: {differing}"
