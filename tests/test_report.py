"""The console (quick answers, no TensorFlow noise, 4-decimal summaries) and the results report."""
import os
import re
import subprocess
import sys

import matplotlib.image
import pytest

from conftest import ROOT, check_report_table, report_parts, run_script, write_config

HEAVY = ("tensorflow", "keras", "librosa", "jax", "sklearn", "matplotlib", "scipy.stats")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (INFO|WARNING|ERROR) - ")


def imported_modules(script, *args, cwd):
    """The modules a script imports for these arguments (python -X importtime), and its run."""
    run = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / script), *args],
                         cwd=cwd, capture_output=True, text=True, timeout=120)
    modules = {line.split("|")[-1].strip() for line in run.stderr.splitlines()
               if line.startswith("import time:")}
    return modules, run


@pytest.mark.parametrize("script", ["00_train.py", "01_test.py", "download.py"])
def test_help_version_and_mistakes_import_nothing_heavy(script, tmp_path):
    cases = [["-h"], ["--no-such-option"]]
    if script != "download.py":
        cases += [["-v"], ["-d"]]       # -d: the configuration is missing
    for args in cases:
        modules, run = imported_modules(script, *args, cwd=tmp_path)
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
        assert heavy == [], (args, heavy)
        assert (run.returncode == 0) == (args in (["-h"], ["-v"])), (args, run.stderr[-500:])
    if script != "download.py":
        modules, run = imported_modules(script, "-d", cwd=tmp_path)
        assert "configuration file not found" in run.stderr


def test_console_shows_log_lines_only(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    quiet_env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, str(ROOT / "01_test.py"), "-d", "-m", "motor"],
                         cwd=tmp_path, env=quiet_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [line for line in run.stderr.splitlines() if not LOG_LINE.match(line)] == []
    assert "retracing" not in run.stderr
    # the summary rounds to 4 decimals
    assert re.search(r"motor\s+2\s+\d\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}$", run.stderr, re.M)
    assert re.search(r"official score \(harmonic mean of all AUCs and pAUCs\): \d\.\d{4}$",
                     run.stderr, re.M)


def test_tensorflow_messages_come_back_when_asked_for(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    run = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path,
                     env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert [line for line in run.stderr.splitlines() if not LOG_LINE.match(line)] != []


def test_training_summary_rounds_to_4_decimals(dev_run):
    train = dev_run[1].stderr
    assert re.search(r"motor\s+\d+\s+\d+\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d$", train, re.M)


def test_report_of_a_development_run(dev_run):
    folder = dev_run[0]
    report = folder / "result" / "report.html"
    rows = check_report_table(report, folder / "result" / "result.csv")
    assert rows[-1][0] == "official score" and float(rows[-1][1]) > 0
    _, images = report_parts(report)
    assert sorted(images) == ["../model/history_motor.png", "../model/history_pump.png",
                              "plots/motor.png", "plots/pump.png"]
    for image in images:
        assert (report.parent / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(report.parent / image).ndim == 3
    text = report.read_text()
    assert "unknown" in text                      # motor and pump were never published
    assert "0.6862" in text and "0.4371" in text  # the published harmonic means of 2022
    assert "Keras" in text and "seed" in text and "section_00: 24" in text
    assert "http" not in text.replace("http-equiv", "")   # no external assets


def test_report_can_be_turned_off(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    run_script("01_test.py", "-d", "-m", "pump", "--no-report", cwd=tmp_path)
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"),
                 report=False)
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    result = tmp_path / "result"
    assert (result / "result.csv").exists()
    assert not (result / "report.html").exists() and not (result / "plots").exists()
