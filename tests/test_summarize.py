"""summarize.py: several runs' result.csv -> mean, std, min and max of every cell."""
import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT

from dcase_baseline import results, safe_io, years
from dcase_baseline import summary as summaries
from dcase_baseline.errors import BaselineError

METRICS_2022 = ["AUC (source)", "AUC (target)", "pAUC", "precision (source)",
                "precision (target)", "recall (source)", "recall (target)", "F1 score (source)",
                "F1 score (target)"]
ALL_2022 = "arithmetic mean over all machine types, sections, and domains"
HALL_2022 = "harmonic mean over all machine types, sections, and domains"
# the official scores of the three runs, and their summary computed by hand:
# mean 0.65; deviations -0.04, -0.01, 0.05; squares 0.0016 + 0.0001 + 0.0025 = 0.0042;
# sample variance 0.0042 / 2 = 0.0021
OFFICIAL = ["0.61", "0.64", "0.70"]
OFFICIAL_SUMMARY = (0.65, math.sqrt(0.0021), 0.61, 0.70)
EMPTY_CELL = ("valve", "01", "precision (target)")   # empty in run 2 only


def values_2022(run):
    """Each numeric cell of run (0, 1, 2) of the hand-made 2022 table: {(machine, row, column):
    text}. The numbers differ per run, cell and column; four decimals as a user would type."""
    cells = {}
    rows = [(m, r) for m in ("fan", "valve") for r in ("00", "01", "arithmetic mean",
                                                       "harmonic mean")]
    rows += [("", ALL_2022), ("", HALL_2022)]
    for k, (machine, row) in enumerate(rows):
        for c, column in enumerate(METRICS_2022):
            value = 0.5 + 0.01 * k + 0.02 * c + [0.0, 0.031, -0.017][run] * (1 + (k + c) % 3)
            cells[(machine, row, column)] = f"{value:.4f}"
    if run == 1:
        cells[EMPTY_CELL] = ""
    cells[("", "official score", "value")] = OFFICIAL[run]
    return cells


def table_2022(cells):
    """result.csv's 2022 layout from the cells of values_2022."""
    rows = []
    for machine in ("fan", "valve"):
        rows += [[machine], ["section"] + METRICS_2022]
        for row in ("00", "01", "arithmetic mean", "harmonic mean"):
            rows.append([row] + [cells[(machine, row, c)] for c in METRICS_2022])
        rows.append([])
    rows += [[""] + METRICS_2022,
             [ALL_2022] + [cells[("", ALL_2022, c)] for c in METRICS_2022],
             [HALL_2022] + [cells[("", HALL_2022, c)] for c in METRICS_2022],
             [],
             ["official score", cells[("", "official score", "value")]]]
    return rows


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read_summary(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["machine", "row", "column", "mean", "std", "min", "max", "n", "empty"]
    return {tuple(r[:3]): r[3:] for r in rows[1:]}


def run_summarize(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "summarize.py"), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def three_runs(tmp_path):
    """Three result folders of the 2022 layout; runs 1 and 2 have the records 01_test.py
    writes beside result.csv (seeds 1 and 2), run 3 has none."""
    folders = []
    for run in range(3):
        folder = tmp_path / f"seed{run + 1}" / "result"
        rows = table_2022(values_2022(run))
        write_csv(folder / "result.csv", rows)
        if run < 2:
            for machine, start in (("fan", 0), ("valve", 7)):
                block = folder / f"result_{machine}_dev.csv"
                write_csv(block, rows[start:start + 6])
                block.with_suffix(".json").write_text(json.dumps(
                    {"run": {"seed": run + 1, "year": 2022}, "scored": "2026-01-01 00:00:00"}))
        folders.append(folder)
    return folders


@pytest.mark.slow
def test_three_runs_summary_as_computed_here(three_runs, tmp_path):
    done = run_summarize(*three_runs, "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = read_summary(tmp_path / "out" / "summary.csv")
    runs = [values_2022(run) for run in range(3)]
    assert list(summary) == list(runs[0])      # every numeric cell, in result.csv's order
    for key, (mean, std, low, high, n, empty) in summary.items():
        texts = [run[key] for run in runs]
        if key == EMPTY_CELL:
            assert (mean, std, low, high, n, empty) == ("", "", "", "", "2", "1")
            continue
        values = np.array([float(t) for t in texts])
        assert float(mean) == pytest.approx(np.mean(values), abs=1e-15), key
        assert float(std) == pytest.approx(np.std(values, ddof=1), abs=1e-15), key
        assert (float(low), float(high)) == (values.min(), values.max()), key
        assert (n, empty) == ("3", "0")
    score = summary[("", "official score", "value")]
    assert [float(v) for v in score[:4]] == pytest.approx(OFFICIAL_SUMMARY, abs=1e-15)
    assert score[4:] == ["3", "0"]
    assert "official score over 3 runs: 0.6500 +- 0.0458 (sample std), min 0.6100, max 0.7000" \
        in done.stderr

    # summary_mean.csv reads like a result.csv: its layout, the means in its numeric cells
    means = safe_io.read_csv(tmp_path / "out" / "summary_mean.csv")
    first = table_2022(runs[0])
    assert len(means) == len(first)
    for mine, theirs in zip(means, first):
        assert len(mine) == len(theirs)
        assert ([c for c in mine if c and not is_number(c)]
                == [c for c in theirs if c and not is_number(c)])
    assert means[5][0] == "harmonic mean" and float(means[5][1]) == pytest.approx(
        np.mean([float(run[("fan", "harmonic mean", "AUC (source)")]) for run in runs]))
    assert means[10][0] == "01" and means[10][5] == ""       # valve 01 precision (target)
    assert means[-1][0] == "official score" and float(means[-1][1]) == pytest.approx(0.65)

    # the runs, with the seeds of their records; the third folder has none
    runs_csv = safe_io.read_csv(tmp_path / "out" / "summary_runs.csv")
    assert [r[2] for r in runs_csv[1:]] == ["1", "2", "unknown (no record beside result.csv)"]
    page = (tmp_path / "out" / "summary.html").read_text()
    assert "Official score: <b>0.6500</b> &plusmn; 0.0458 [min 0.6100, max 0.7000]" in page
    assert "<h2>fan</h2>" in page and "<h2>valve</h2>" in page
    assert "<h2>All machine types</h2>" in page
    assert "empty in 1 of 3 runs" in page
    assert str(three_runs[0] / "result.csv") in page and "<td class='key'>2</td>" in page


def is_number(cell):
    try:
        return not math.isnan(float(cell))
    except ValueError:
        return False


def test_values_match_numpy_when_imported(three_runs):
    runs = [summaries.read_result(folder) for folder in three_runs]
    _, cells = summaries.summarize(runs)
    by_key = {(c.machine, c.row_name, c.column): c[5:] for c in cells}
    fan = [float(values_2022(r)[("fan", "00", "pAUC")]) for r in range(3)]
    assert by_key[("fan", "00", "pAUC")] == pytest.approx(
        (np.mean(fan), np.std(fan, ddof=1), min(fan), max(fan), 3, 0), abs=1e-15)


@pytest.mark.slow
def test_one_run_gives_its_own_table(three_runs, tmp_path):
    done = run_summarize(three_runs[0], "-o", tmp_path / "one", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    means = safe_io.read_csv(tmp_path / "one" / "summary_mean.csv")
    result = safe_io.read_csv(three_runs[0] / "result.csv")
    assert [[float(c) if is_number(c) else c for c in row] for row in means] == [
        [float(c) if is_number(c) else c for c in row] for row in result]
    summary = read_summary(tmp_path / "one" / "summary.csv")
    assert all(std == "" and n == "1" for _, std, _, _, n, _ in summary.values())


@pytest.mark.slow
def test_default_output_folder_and_csv_argument(three_runs, tmp_path):
    done = run_summarize(three_runs[0] / "result.csv", three_runs[1], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "summary").iterdir()) == [
        "summary.csv", "summary.html", "summary_mean.csv", "summary_runs.csv"]


def one_line_error(done):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and done.stdout == "" and len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.slow
def test_layout_mismatch_is_one_line_naming_both_files(three_runs, tmp_path):
    rows = table_2022(values_2022(2))
    rows[3][0] = "02"                                   # fan's second section
    write_csv(three_runs[2] / "result.csv", rows)
    done = run_summarize(*three_runs, "-o", tmp_path / "out", cwd=tmp_path)
    line = one_line_error(done)
    assert str(three_runs[0] / "result.csv") in line and str(three_runs[2] / "result.csv") in line
    assert "row 4" in line and "'01," in line and "'02," in line
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_other_machine_types_or_fewer_rows_differ(three_runs, tmp_path):
    rows = table_2022(values_2022(1))
    write_csv(three_runs[1] / "result.csv", rows[:7] + rows[14:])        # no valve
    line = one_line_error(run_summarize(*three_runs, cwd=tmp_path))
    assert "row 8" in line and str(three_runs[1] / "result.csv") in line
    write_csv(three_runs[1] / "result.csv", rows[:-2])                   # no official score
    line = one_line_error(run_summarize(*three_runs, cwd=tmp_path))
    assert "row 18" in line and "(no such row)" in line


@pytest.mark.slow
def test_missing_result_csv_is_one_line(three_runs, tmp_path):
    empty = tmp_path / "seed9" / "result"
    empty.mkdir(parents=True)
    line = one_line_error(run_summarize(three_runs[0], empty, cwd=tmp_path))
    assert f"no result.csv in {empty}" in line
    line = one_line_error(run_summarize(three_runs[0], three_runs[0], cwd=tmp_path))
    assert "given twice" in line


@pytest.mark.slow
def test_same_seed_warns(three_runs, tmp_path):
    record = three_runs[1] / "result_fan_dev.json"
    for path in (record, three_runs[1] / "result_valve_dev.json"):
        path.write_text(path.read_text().replace('"seed": 2', '"seed": 1'))
    done = run_summarize(*three_runs, cwd=tmp_path)
    assert done.returncode == 0 and "have the same seed 1" in done.stderr


def table_2021(run):
    names = ["AUC", "pAUC", "precision", "recall", "F1 score"]
    rows = []
    k = 0
    for machine in ("fan", "gearbox"):
        rows += [[machine], ["section", "domain"] + names]
        for keys in (["00", "source"], ["01", "source"], ["00", "target"], ["01", "target"],
                     ["arithmetic mean", ""], ["harmonic mean", ""]):
            rows.append(keys + [f"{0.4 + 0.01 * k + 0.03 * c + 0.02 * run:.4f}"
                                for c in range(5)])
            k += 1
        rows.append([])
    rows += [["", ""] + names,
             ["arithmetic mean over all machine types, sections, and domains", "", "0.6", "0.5",
              "0.4", "0.3", "0.2"],
             ["harmonic mean over all machine types, sections, and domains", "", "0.5", "0.4",
              "0.3", "0.2", "0.1"],
             [], ["official score", ["0.55", "0.57", "0.62"][run]]]
    return rows


def test_2021_layout(tmp_path):
    for run in range(3):
        write_csv(tmp_path / f"r{run}" / "result.csv", table_2021(run))
    summaries.write_summary([tmp_path / f"r{run}" for run in range(3)], tmp_path / "out")
    summary = read_summary(tmp_path / "out" / "summary.csv")
    assert len(summary) == 2 * 6 * 5 + 2 * 5 + 1       # the key cells are not summarized
    assert {(m, r) for m, r, _ in summary} >= {("fan", "00 source"), ("gearbox", "01 target"),
                                               ("fan", "harmonic mean")}
    mean, std, low, high, n, empty = summary[("gearbox", "01 target", "pAUC")]
    values = [float(table_2021(run)[14][3]) for run in range(3)]
    assert table_2021(0)[14][:2] == ["01", "target"]
    assert (float(mean), float(std), float(low), float(high)) == pytest.approx(
        (np.mean(values), np.std(values, ddof=1), min(values), max(values)), abs=1e-15)
    score = [float(v) for v in summary[("", "official score", "value")][:4]]
    assert score == pytest.approx((0.58, np.std([0.55, 0.57, 0.62], ddof=1), 0.55, 0.62))
    means = safe_io.read_csv(tmp_path / "out" / "summary_mean.csv")
    assert means[6][:2] == ["arithmetic mean", ""]
    assert [float(v) for v in means[6][2:]] == pytest.approx(
        [np.mean([float(table_2021(run)[6][c]) for run in range(3)]) for c in range(2, 7)],
        abs=1e-15)


def table_2020(run):
    rows = []
    for machine, ids in (("ToyCar", ("01", "02")), ("fan", ("00", "02", "04"))):
        rows += [[machine], ["id", "AUC", "pAUC"]]
        rows += [[i, f"{0.7 + 0.05 * run + 0.01 * k:.3f}", f"{0.6 - 0.02 * run:.3f}"]
                 for k, i in enumerate(ids)]
        rows += [["Average", f"{0.7 + 0.05 * run:.3f}", f"{0.6 - 0.02 * run:.3f}"], []]
    return rows


@pytest.mark.slow
def test_2020_layout_has_no_official_score(tmp_path):
    for run in range(3):
        write_csv(tmp_path / f"r{run}" / "result.csv", table_2020(run))
    done = run_summarize(*[tmp_path / f"r{run}" for run in range(3)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = read_summary(tmp_path / "summary" / "summary.csv")
    assert len(summary) == (2 + 1 + 3 + 1) * 2
    assert [float(v) for v in summary[("fan", "04", "AUC")][:4]] == pytest.approx(
        (0.77, np.std([0.72, 0.77, 0.82], ddof=1), 0.72, 0.82))
    assert [float(v) for v in summary[("ToyCar", "Average", "pAUC")][:4]] == pytest.approx(
        (0.58, 0.02, 0.56, 0.6))
    assert not any(row == "official score" for _, row, _ in summary)
    assert "no official score row" in (tmp_path / "summary" / "summary.html").read_text()


@pytest.mark.parametrize("year", sorted(years.YEARS))
def test_every_year_as_results_writes_it(tmp_path, year):
    """The tables results.result_rows writes, each year's layout: every metric is a number
    summarized, every key cell kept."""
    rng = np.random.default_rng(year)
    keys = {2020: [("00",), ("02",)], 2021: [("00", "source"), ("00", "target")]}.get(
        year, [("00",), ("01",)])
    record = years.YEARS[year]
    n_metrics = len(record.metric_columns)
    folders = []
    for run in range(2):
        blocks = [results.Block(m, [results.ResultRow(k, list(rng.uniform(0.3, 0.9,
                                                                          n_metrics)))
                                    for k in keys])
                  for m in ("fan", "valve")]
        folders.append(tmp_path / f"r{run}")
        safe_io.save_csv(folders[-1] / "result.csv", results.result_rows(blocks, record))
    runs = [summaries.read_result(f) for f in folders]
    _, cells = summaries.summarize(runs)
    n_keys = len(record.unit_keys)
    numbers = sum(1 for row in runs[0][1] for i, c in enumerate(row)
                  if is_number(c) and (i >= n_keys or row[0] == "official score"))
    assert len(cells) == numbers
    assert all(c.n == 2 and c.empty == 0 for c in cells)
    assert (summaries.official(cells) is None) == (year == 2020)
    assert {c.column for c in cells} - {"value"} == {c.name for c in record.metric_columns}
    # one run: summary_mean.csv is the run's result.csv, cell for cell
    assert summaries.mean_rows(runs[:1], summaries.summarize(runs[:1])[1]) == runs[0][1]


def test_text_in_a_number_cell_is_a_layout_difference(three_runs):
    rows = table_2022(values_2022(1))
    rows[2][4] = "n/a"
    write_csv(three_runs[1] / "result.csv", rows)
    with pytest.raises(BaselineError, match="row 3"):
        summaries.summarize([summaries.read_result(f) for f in three_runs])
