"""years.py: one record per DCASE year, each consistent in itself; a new year is one record
(a fictitious 2027, added here, runs a whole development train and test); the rest of the
code compares no years."""
import dataclasses
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers import ROOT, read_rows, script_environment, write_config
from dcase_baseline import metrics, years
from dcase_baseline.metrics import Metric
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
    last = max(years.YEARS)
    assert years.years_named_like("normal_id_00_00000000.wav") == "DCASE 2020 (year: 2020)"
    assert years.years_named_like("section_00_0001.wav") == (
        f"DCASE 2021-{last} (year: 2021 to {last})")
    assert years.years_named_like("fan.wav") is None
    assert years.known_years() == f"from 2020 to {last}"


@pytest.mark.parametrize("change, message", [
    ({"ground_truth": "one_file"}, "ground_truth 'one_file' is none of"),
    ({"domain_from": "attributes"}, "domain_from 'attributes' is none of"),
    ({"ground_truth_key": "index"}, "ground_truth_key 'index' is none of"),
    ({"metric_columns": (Metric("AUC"), Metric("accuracy"))},
     "Metric(kind='accuracy', domain=None) is no Metric of a kind in"),
    ({"metric_columns": ("AUC",)}, "metric column 'AUC' is no Metric"),
    ({"unit_name": "part_{part}"}, "unit_name 'part_{part}' uses other keys"),
])
def test_an_unknown_choice_is_refused_when_the_record_is_made(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(years.YEARS[2024], year=2027, **change)


def code_files():
    """The project's own code outside the years' records and their published figures: the
    scripts, the library and the demo generator."""
    return [p for p in [*ROOT.glob("*.py"), *(ROOT / "dcase_baseline").glob("*.py"),
                        ROOT / "demo" / "make_demo_data.py"]
            if p.name not in ("years.py", "published.py")]


def test_no_year_is_compared_outside_the_years_module():
    # a year compared with a number or with a list of years: `year == 2021`, `year < 2022`,
    # `year in (2020, 2021)`, `{2020: ...}.get(year)`
    pattern = re.compile(r"year\w*\W*\s*(==|!=|<=|>=|<|>|\bin\b)\s*[\[({]?\s*20[2-9]\d"
                         r"|20[2-9]\d\s*(==|!=|<=|>=|<|>)\s*\w*year"
                         r"|\{\s*20[2-9]\d\s*:")
    found = [f"{p.name}:{i}: {line.strip()}" for p in code_files()
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


# A year that never was: 2024's data, but a new kind of metric registered (the accuracy of the
# decisions over a domain's clips), other metric columns, other file names, no published
# figures. Added as one record before a script starts, as a new year would be added to
# years.py (and its metric to metrics.KINDS).
YEAR_2027 = """
import dataclasses
import numpy as np
from dcase_baseline import metrics, years
from dcase_baseline.metrics import Metric

def accuracy(y_true, y_score, decisions, domains, domain, max_fpr):
    mine = np.asarray(domains) == domain
    if not mine.any():
        return None
    return float(np.mean(np.asarray(decisions)[mine] == np.asarray(y_true)[mine]))

metrics.KINDS["accuracy"] = metrics.Kind(accuracy, True, "no test clips of that domain")
years.YEARS[2027] = dataclasses.replace(
    years.YEARS[2024], year=2027,
    metric_columns=(Metric("AUC", "source"), Metric("AUC", "target"), Metric("pAUC"),
                    Metric("pAUC", "target"), Metric("F1 score"), Metric("accuracy", "target")),
    score_file="score_{machine}_{unit}.csv", decision_file="decision_{unit}_{machine}.csv",
    unit_words=("section", "parts"), published={}, published_means=(), published_source="")
"""
LAUNCHER = """
import runpy, sys
sys.path.insert(0, sys.argv.pop(1))
exec(open(sys.argv.pop(1)).read())
script = sys.argv[0] = sys.argv.pop(1)
runpy.run_path(script, run_name="__main__")
"""


def run_as_2027(tmp_path, script, *args):
    """A script run with the record of 2027 (and its metric) added before it starts."""
    run = subprocess.run([sys.executable, "launch.py", str(ROOT), "year_2027.py",
                          str(ROOT / script), *args], cwd=tmp_path, env=script_environment(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.slow
def test_a_new_year_is_one_record(tmp_path, monkeypatch):
    (tmp_path / "launch.py").write_text(LAUNCHER)
    (tmp_path / "year_2027.py").write_text(YEAR_2027)
    with monkeypatch.context() as patch:        # the demo generator reads the same record
        patch.setitem(years.YEARS, 2027, None)
        patch.setitem(metrics.KINDS, "accuracy", None)
        exec(YEAR_2027, {})
        make_dataset(tmp_path / "data", seconds=1.0, year=2027, machines={"motor": 60.0})
    for seed in (0, 1):
        write_config(tmp_path, dev_directory=str(tmp_path / "data"), year=2027, seed=seed)
        run_as_2027(tmp_path, "00_train.py", "-d", "--run", f"seed{seed}")
        run = run_as_2027(tmp_path, "01_test.py", "-d", "--run", f"seed{seed}")
    result = tmp_path / "result" / "seed1"
    rows = read_rows(result / "result.csv")
    assert rows[:2] == [["motor"], ["section", "AUC (source)", "AUC (target)", "pAUC",
                                    "pAUC (target)", "F1 score", "accuracy (target)"]]
    assert rows[-1][0] == "official score"
    assert "summary (arithmetic means over parts):" in run.stderr
    page = (result / "report.html").read_text()
    assert "No published figures of an autoencoder baseline are known for the 2027 data" in page
    assert "<th>accuracy (target)</th>" in page
    # the year's file names; AUC (source) and the new accuracy recomputed here from its score
    # and decision files: the source normal clips against all the anomalous ones, by their
    # names; the target clips' decisions against their labels
    scores = {name: float(score) for name, score in read_rows(
        result / "score_motor_section_00.csv")}
    decisions = dict(read_rows(result / "decision_section_00_motor.csv"))
    assert sorted(decisions) == sorted(scores)
    chosen = {n: s for n, s in scores.items() if "_source_" in n or "_anomaly_" in n}
    expected = roc_auc_score([int("_anomaly_" in n) for n in chosen], list(chosen.values()))
    assert float(rows[2][1]) == pytest.approx(expected, abs=1e-12)
    target = [n for n in decisions if "_target_" in n]
    assert float(rows[2][6]) == pytest.approx(np.mean(
        [int(decisions[n]) == int("_anomaly_" in n) for n in target]), abs=1e-12)
    assert not list(result.glob("anomaly_score_*"))
    # the two seeds summarized
    summary = run_as_2027(tmp_path, "summarize.py", "result/seed0", "result/seed1", "-o",
                          "summary")
    assert "official score" in summary.stderr
    runs = read_rows(tmp_path / "summary" / "summary_runs.csv")
    assert [row[2] for row in runs[1:]] == ["0", "1"]


def test_a_year_without_a_record_is_refused(tmp_path, monkeypatch):
    from dcase_baseline import configuration
    from dcase_baseline.errors import BaselineError
    with pytest.raises(BaselineError, match="'year' must be a DCASE year from 2020 to 2026"):
        configuration.load_config(write_config(tmp_path, year=2019))
    monkeypatch.setitem(years.YEARS, 2027, dataclasses.replace(years.YEARS[2026], year=2027))
    assert configuration.load_config(write_config(tmp_path, year=2027))[0]["year"] == 2027
    with pytest.raises(BaselineError, match="from 2020 to 2027, got 2028"):
        configuration.load_config(write_config(tmp_path, year=2028))
