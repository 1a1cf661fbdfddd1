"""What a new user hit: runs of other settings in one summary, several seeds, misleading or
vague messages, a split without validation data, data of another year, a score changed over a
kept model, a singular covariance after training, progress in a terminal. The numbers refer to
README's bad-input table."""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pytest
import soundfile

from helpers import (ROOT, copy_machine, run_script, script_environment, short_training_clips,
                     write_config)
from dcase_baseline import clips, results, run_settings, safe_io, summary, years
from dcase_baseline.errors import BaselineError
from make_demo_data import make_dataset

NINE = [0.9, 0.6, 0.7, 0.5, 0.4, 0.3, 0.8, 0.375, 0.5333]


def scored_run(folder, seed, **changes):
    """A result folder as 01_test.py leaves it (a block, its record, result.csv), of a run
    with this seed and settings changed from the defaults ("fit.lr": 0.01)."""
    from dcase_baseline import configuration
    config = json.loads(json.dumps(configuration.DEFAULT_CONFIG))
    for key, value in changes.items():
        section, name = key.split(".")
        config[section][name] = value
    config["model_directory"] = str(folder / "model")
    record = run_settings.run_record(config, "data", None, seed)
    result = folder / "result" / "result.csv"
    block = results.Block("fan", [results.ResultRow(("00",), [v + seed / 100
                                                              for v in NINE])])
    results.save_block(result, "fan", block, True, record)
    results.assemble(result, True, record)
    return result.parent


# 27
def test_a_summary_refuses_runs_of_other_settings(tmp_path, caplog):
    same = [scored_run(tmp_path / f"seed{s}", s) for s in (1, 2)]
    other = scored_run(tmp_path / "lr", 3, **{"fit.lr": 0.01})
    out = tmp_path / "summary"
    summary.write_summary(same, out)               # the seed and model folder may differ
    with pytest.raises(BaselineError) as refused:
        summary.write_summary([*same, other], out)
    message = str(refused.value)
    assert str(same[0] / "result.csv") in message and str(other / "result.csv") in message
    assert "fit.lr 0.001 vs 0.01" in message and "--across 'fit.lr'" in message
    two = scored_run(tmp_path / "two", 4, **{"fit.lr": 0.01, "feature.n_mels": 64})
    with pytest.raises(BaselineError) as refused:       # every setting that differs is named
        summary.write_summary([*same, two], out)
    assert ("are runs of other settings: feature.n_mels 128 vs 64; fit.lr 0.001 vs 0.01; "
            "summarize runs that differ in the seed only, or pass --across 'feature.n_mels' "
            "'fit.lr'") in str(refused.value)
    with pytest.raises(BaselineError, match="no such setting"):
        summary.write_summary([*same, other], out, ["fit.rate"])
    summary.write_summary([*same, other], out, ["fit.lr"])
    runs = safe_io.read_csv(out / "summary_runs.csv")
    assert runs[0] == ["run", "result file", "seed", "fit.lr"]
    assert [row[2:] for row in runs[1:]] == [["1", "0.001"], ["2", "0.001"], ["3", "0.01"]]
    assert "Runs of different settings: fit.lr" in (out / "summary.html").read_text()
    # a result.csv without its records: its settings cannot be compared, and it says so
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(same[0] / "result.csv", lone / "result.csv")
    summary.write_summary([same[1], lone], out)
    assert f"{lone / 'result.csv'}: no record of its run" in caplog.text


# seeds: docs/seeds.md
@pytest.mark.slow
def test_a_run_name_puts_each_seed_in_its_folders(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev))
    for seed in (1, 2):
        for script in ("00_train.py", "01_test.py"):
            run_script(script, "-d", "-m", "motor", "--seed", seed, "--run", f"seed{seed}",
                       cwd=tmp_path)
    for seed in (1, 2):
        assert (tmp_path / "model" / f"seed{seed}" / "model_motor.keras").is_file()
        assert (tmp_path / "result" / f"seed{seed}" / "result.csv").is_file()
    run = subprocess.run([sys.executable, str(ROOT / "summarize.py"), "result/seed1",
                          "result/seed2", "-o", "summary"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seeds = [row[2] for row in safe_io.read_csv(tmp_path / "summary" / "summary_runs.csv")[1:]]
    assert seeds == ["1", "2"]
    bad = run_script("00_train.py", "-d", "--run", "../elsewhere", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "'../elsewhere' is no folder name" in bad.stderr


# a full-size training (XLA) with a seed: no word of Keras' own jit_compile
XLA_LAUNCHER = """
import runpy, sys
sys.path.insert(0, sys.argv.pop(1))
from dcase_baseline import training
training.XLA_MIN_STEPS = 1      # XLA for this short training, as for a full-size one
script = sys.argv[0] = sys.argv.pop(1)
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.slow
def test_no_misleading_jit_compile_warning_with_xla(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), seed=2)
    (tmp_path / "launch.py").write_text(XLA_LAUNCHER)
    run = subprocess.run([sys.executable, "launch.py", str(ROOT), str(ROOT / "00_train.py"),
                          "-d", "-m", "motor"], cwd=tmp_path, env=script_environment(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "support `jit_compile=True`" not in run.stderr and "UserWarning" not in run.stderr
    assert "motor: model ->" in run.stderr


# 20
@pytest.mark.slow
@pytest.mark.parametrize("validation, split, message", [
    ("clips", 0.2, "fit.validation_split = 0.2 holds out 0 of 2 clips for validation "
                   "(fit.validation: clips)"),
    ("clips", 0.9, "fit.validation_split = 0.9 holds out 0 of 2 clips for validation"),
    ("tail", 1e-17, "fit.validation_split = 1e-17 holds out 0 of"),
])
def test_a_split_without_validation_data_stops_before_training(demo_dev, tmp_path, validation,
                                                               split, message):
    data = short_training_clips(demo_dev, tmp_path, 2, 16000)      # two source clips
    if split == 0.9:        # one source and one target clip: each the only one of its group
        train = data / "motor" / "train"
        source = sorted(train.glob("*_source_*"))[1]
        source.rename(source.with_name(source.name.replace("_source_", "_target_")))
    write_config(tmp_path, dev_directory=str(data),
                 **{"fit.validation": validation, "fit.validation_split": split})
    run = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "motor: " + message in last and "raise fit.validation_split" in last
    assert "epoch" not in run.stderr
    if validation == "clips":       # before any feature or Keras work
        assert "training in development mode" not in run.stderr


# 25
@pytest.mark.parametrize("data_year, year, looks_like, because", [
    (2022, 2024, "DCASE 2022 data", "sections 00, 01 (DCASE 2024 has section 00 only)"),
    (2024, 2022, "DCASE 2024 data", "names that withhold their attributes"),
    (2024, 2023, "DCASE 2024 data", "counted from 0001"),
    (2025, 2023, "DCASE 2025 data", "supplemental (DCASE 2025's clean machine"),
])
def test_data_of_another_year_is_named_in_one_warning(tmp_path, caplog, data_year, year,
                                                      looks_like, because):
    make_dataset(tmp_path / "data", ground_truth_dir=tmp_path / "truth", seconds=0.1,
                 year=data_year)
    dirs = clips.machine_dirs(tmp_path / "data", "eval_directory")
    clips.check_layout(dirs, years.YEARS[year])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert because in warnings[0] and looks_like in warnings[0]
    assert f"not DCASE {year}'s (year: {year}); set year in the configuration" in warnings[0]
    caplog.clear()
    clips.check_layout(dirs, years.YEARS[data_year])        # the right year: no word of it
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


# 26
@pytest.mark.slow
def test_a_kept_model_of_another_score_is_said_at_training_time(dev_run, demo_dev, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(dev_run[0] / "model", model)
    before = {p.name: safe_io.file_digest(p) for p in model.iterdir() if p.is_file()}
    write_config(tmp_path, dev_directory=str(demo_dev), score="mahalanobis")
    run = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert (f"motor: the model in {model} was fitted to score: mse" in last
            and "asks for score: mahalanobis" in last
            and "`python 00_train.py -d -m motor --force` retrains it" in last)
    assert {p.name: safe_io.file_digest(p) for p in model.iterdir() if p.is_file()} == before


# 26
@pytest.mark.slow
def test_a_singular_covariance_keeps_the_trained_model(demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    for path in (data / "motor" / "train").glob("*_target_*"):    # digitally silent
        y, rate = soundfile.read(path)
        soundfile.write(path, np.zeros_like(y), rate)
    settings = {"dev_directory": str(data), "seed": 4, "score": "mahalanobis",
                "fit.verbose": 2}
    write_config(tmp_path, **settings)
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    checkpoint = tmp_path / "model" / ".checkpoint_motor.npz"
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert "target covariance of the residual blocks is singular" in last
    assert f"the trained model is kept in {checkpoint}" in last
    assert checkpoint.exists() and not (tmp_path / "model" / "model_motor.keras").exists()
    write_config(tmp_path, **settings, **{"mahalanobis.shrinkage": 0.1})
    rerun = run_script("00_train.py", "-d", cwd=tmp_path)
    assert f"all 2 epochs trained in {checkpoint}: only the score is fitted" in rerun.stderr
    assert "epoch 1/2" not in rerun.stderr and not checkpoint.exists()
    # the same detector as a training with the shrinkage from the start
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    write_config(fresh, **settings, **{"mahalanobis.shrinkage": 0.1})
    run_script("00_train.py", "-d", cwd=fresh)
    kept, direct = (joblib.load(folder / "model" / "score_distr_motor.pkl")["gamma"]
                    for folder in (tmp_path, fresh))
    np.testing.assert_allclose(kept, direct, rtol=1e-9)


# fit.verbose: 1
def run_in_a_terminal(command, cwd, timeout=600):
    """The output of a command run under a pseudo-terminal, as a person sees it come."""
    main, child = pty.openpty()
    process = subprocess.Popen(command, cwd=cwd, env=script_environment(COLUMNS="120"),
                               stdin=child, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(main, 65536)
        except OSError:         # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(main)
    return process.returncode, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_progress_bars_in_a_terminal_and_none_in_a_file(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.verbose": 1, "fit.epochs": 3,
                                                           "cache.enabled": False})
    code, shown = run_in_a_terminal([sys.executable, str(ROOT / "00_train.py"), "-d", "-m",
                                     "motor"], tmp_path)
    assert code == 0, shown[-2000:]
    assert re.search(r"train clips: 100%\|.*\| \d+/\d+ \[", shown)
    # the epochs bar is redrawn in place, with the time left
    epochs = re.findall(r"\repochs: +\d+%\|[^\r\n]*\| (\d)/3 \[\d\d:\d\d<(\d\d:\d\d|\?)", shown)
    assert [n for n, _ in epochs][-1] == "3" and len(epochs) >= 2
    (tmp_path / "model").rename(tmp_path / "terminal_model")
    with open(tmp_path / "out.txt", "w") as out:
        subprocess.run([sys.executable, str(ROOT / "00_train.py"), "-d", "-m", "motor"],
                       cwd=tmp_path, env=script_environment(), stdout=out, stderr=out,
                       timeout=600, check=True)
    text = (tmp_path / "out.txt").read_text()
    assert "\r" not in text and "epochs:" not in text and "motor: model ->" in text
