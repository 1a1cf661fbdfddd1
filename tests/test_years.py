"""years.py: one record per DCASE year, each consistent in itself; a new year is one record
(a fictitious 2027, added here, runs a whole development train and test); the rest of the
code compares no years."""
import dataclasses
import re
import subprocess
import sys

import pytest
from sklearn.metrics import roc_auc_score

from conftest import ROOT, read_rows, script_environment, write_config
from dcase_baseline import years
from make_demo_data import make_dataset


@pytest.mark.parametrize("year", sorted(years.YEARS))
def test_each_record_is_consistent(year):
    record = years.YEARS[year]
    assert record.year == year
    assert set(record.ranked_columns) <= set(record.metric_columns)
    # the unit name is made of the unit's key cells, nothing else
    fields = set(re.findall(r"{(\w+)}", record.unit_name))
    assert fields == set(record.unit_keys)
    for name in (record.score_file, record.decision_file):
        assert name is None or set(re.findall(r"{(\w+)}", name)) == {"machine", "unit"}
    assert set(record.zenodo) == {"dev", "eval"} and len(record.zenodo["eval"]) == 2
    for (machine, *keys), values in record.published.items():
        assert len(keys) == len(record.unit_keys) and len(values) == len(record.ranked_columns)
    for machine, kind, label, values in record.published_means:
        assert kind in ("arithmetic", "harmonic") and len(values) == len(record.ranked_columns)
    for score, figures in record.published_eval.items():
        assert score in ("mse", "mahalanobis")
        assert all(len(v) == len(record.ranked_columns) for v in figures.values())
        assert record.published_eval_source
    assert record.channel == "mean" or (type(record.channel) is int and record.channel_note)
    assert record.archive_folders == ("train",) + record.test_folders
    assert record.clip_name.fullmatch(record.example_name.split(" ")[0].replace(
        "<attributes>", "a"))


def test_names_tell_the_years_they_follow():
    assert years.years_named_like("normal_id_00_00000000.wav") == "DCASE 2020 (year: 2020)"
    assert years.years_named_like("section_00_0001.wav") == "DCASE 2021-2026 (year: 2021 to 2026)"
    assert years.years_named_like("fan.wav") is None
    assert years.known_years() == "from 2020 to 2026"


def code_files():
    """The project's own code outside the years module: the scripts and the library."""
    return [p for p in [*ROOT.glob("*.py"), *(ROOT / "dcase_baseline").glob("*.py")]
            if p.name != "years.py"]


def test_no_year_is_compared_outside_the_years_module():
    # a year compared with a number or with a list of years: `year == 2021`, `year < 2022`,
    # `year in (2020, 2021)`, `{2020: ...}.get(year)`
    pattern = re.compile(r"year\w*\W*\s*(==|!=|<=|>=|<|>|\bin\b)\s*[\[({]?\s*20[2-9]\d"
                         r"|20[2-9]\d\s*(==|!=|<=|>=|<|>)\s*\w*year"
                         r"|\{\s*20[2-9]\d\s*:")
    found = [f"{p.name}:{i}: {line.strip()}" for p in code_files()
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


# A year that never was: 2024's data, but other metric columns, other file names, no published
# figures. Added as one record before the scripts start, as a new year would be added to
# years.py.
LAUNCHER = """
import dataclasses, runpy, sys
sys.path.insert(0, sys.argv.pop(1))
from dcase_baseline import years
years.YEARS[2027] = dataclasses.replace(
    years.YEARS[2024], year=2027,
    metric_columns=("AUC (source)", "AUC (target)", "pAUC", "pAUC (target)", "F1 score"),
    score_file="score_{machine}_{unit}.csv", decision_file="decision_{unit}_{machine}.csv",
    unit_words=("section", "parts"), published={}, published_means=(), published_source="")
script = sys.argv[0] = sys.argv.pop(1)
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.slow
def test_a_new_year_is_one_record(tmp_path):
    make_dataset(tmp_path / "data", seconds=1.0, year=2024, machines={"motor": 60.0})
    write_config(tmp_path, dev_directory=str(tmp_path / "data"), year=2027, seed=0)
    (tmp_path / "launch.py").write_text(LAUNCHER)
    for script in ("00_train.py", "01_test.py"):
        run = subprocess.run([sys.executable, "launch.py", str(ROOT), str(ROOT / script), "-d"],
                             cwd=tmp_path, env=script_environment(), capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    result = tmp_path / "result"
    rows = read_rows(result / "result.csv")
    assert rows[:2] == [["motor"], ["section", "AUC (source)", "AUC (target)", "pAUC",
                                    "pAUC (target)", "F1 score"]]
    assert rows[-1][0] == "official score"
    assert "summary (arithmetic means over parts):" in run.stderr
    assert "No published figures of an autoencoder baseline are known for the 2027 data" in (
        result / "report.html").read_text()
    # the year's file names, and AUC (source) recomputed here from its score file: the source
    # normal clips against all the anomalous ones, by their names
    scores = {name: float(score) for name, score in read_rows(
        result / "score_motor_section_00.csv")}
    decisions = read_rows(result / "decision_section_00_motor.csv")
    assert sorted(name for name, _ in decisions) == sorted(scores)
    chosen = {n: s for n, s in scores.items() if "_source_" in n or "_anomaly_" in n}
    expected = roc_auc_score([int("_anomaly_" in n) for n in chosen], list(chosen.values()))
    assert float(rows[2][1]) == pytest.approx(expected, abs=1e-12)
    assert not list(result.glob("anomaly_score_*"))


def test_a_year_without_a_record_is_refused(tmp_path, monkeypatch):
    from dcase_baseline import configuration
    from dcase_baseline.errors import BaselineError
    with pytest.raises(BaselineError, match="'year' must be a DCASE year from 2020 to 2026"):
        configuration.load_config(write_config(tmp_path, year=2019))
    monkeypatch.setitem(years.YEARS, 2027, dataclasses.replace(years.YEARS[2026], year=2027))
    assert configuration.load_config(write_config(tmp_path, year=2027))[0]["year"] == 2027
    with pytest.raises(BaselineError, match="from 2020 to 2027, got 2028"):
        configuration.load_config(write_config(tmp_path, year=2028))
