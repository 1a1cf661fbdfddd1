"""End to end: both scripts as a user runs them, on generated data and on the real clips."""
import shutil
import signal
import subprocess
import sys

import joblib
import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from helpers import (OutputLines, read_rows, run_script, score_names, script_environment,
                     shared_path, start, write_config)

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow


def result_sections(path):
    """{(machine, section number): [nine cells]} from result.csv."""
    found, machine = {}, None
    for row in read_rows(path):
        if len(row) == 1 and row[0] not in ("",):
            machine = row[0]
        elif len(row) == 10 and row[0] not in ("section", ""):
            if row[0].isdigit():
                found[(machine, row[0])] = row[1:]
    return found


def gamma_fit(model_dir, machine):
    """The (shape, loc, scale) of a score_distr file: the three numbers alone (the original's
    files) or under "gamma" with the digest of the model they belong to."""
    found = joblib.load(model_dir / f"score_distr_{machine}.pkl")
    return list(found["gamma"] if isinstance(found, dict) else found)


def recompute(result_dir, model_dir, machine, section, max_fpr=0.1, threshold_q=0.9):
    """The section's AUCs, pAUC and per-domain decisions from the score and decision files,
    with labels and domains read from the file names: an independent check of result.csv."""
    scores = read_rows(result_dir / f"anomaly_score_{machine}_section_{section}_test.csv")
    decisions = read_rows(result_dir / f"decision_result_{machine}_section_{section}_test.csv")
    assert [r[0] for r in scores] == [r[0] for r in decisions]
    names = [r[0] for r in scores]
    score = np.array([float(r[1]) for r in scores])
    decided = np.array([int(r[1]) for r in decisions])
    gamma = gamma_fit(model_dir, machine)
    threshold = scipy.stats.gamma.ppf(threshold_q, *gamma)
    assert (decided == (score > threshold)).all()
    anomaly = np.array(["_anomaly_" in n for n in names])
    target = np.array(["_target_" in n for n in names])
    values = {}
    for domain, mine in (("source", ~target), ("target", target)):
        keep = mine | anomaly
        values[f"AUC ({domain})"] = (roc_auc_score(anomaly[keep], score[keep])
                                     if (mine & ~anomaly).any() else None)
        tp = np.sum(decided[mine] & anomaly[mine])
        values[f"precision ({domain})"] = (tp / max(np.sum(decided[mine]), sys.float_info.epsilon)
                                           if mine.any() else None)   # no clips of the domain
        values[f"recall ({domain})"] = (tp / max(np.sum(anomaly[mine]), sys.float_info.epsilon)
                                        if mine.any() else None)
    values["pAUC"] = roc_auc_score(anomaly, score, max_fpr=max_fpr)
    return values


def check_result_csv(result_dir, model_dir, machines):
    rows = read_rows(result_dir / "result.csv")
    header = rows[1]
    sections = result_sections(result_dir / "result.csv")
    assert {m for m, _ in sections} == set(machines)
    for (machine, section), cells in sections.items():
        expected = recompute(result_dir, model_dir, machine, section)
        for name, value in expected.items():
            cell = cells[header.index(name) - 1]
            if value is None:
                assert cell == ""
            else:
                assert float(cell) == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert rows[-1][0] == "official score" and 0 < float(rows[-1][1]) <= 1
    return sections


def test_dev_run_writes_every_file_and_a_consistent_result(dev_run):
    folder, train, test = dev_run
    for machine in ("motor", "pump"):
        for name in (f"model_{machine}.keras", f"score_distr_{machine}.pkl",
                     f"history_{machine}.png"):
            assert (folder / "model" / name).stat().st_size > 0
        assert len(gamma_fit(folder / "model", machine)) == 3
        for section in ("00", "01"):
            names = score_names(folder / "result", machine, section)
            assert len(names) == 24
            assert names == (sorted(n for n in names if "_normal_" in n)
                             + sorted(n for n in names if "_anomaly_" in n))
    check_result_csv(folder / "result", folder / "model", ["motor", "pump"])
    assert "official score" in test.stderr and "summary" in train.stderr
    assert (folder / "baseline.log").read_text().count("official score") == 1
    assert not list(folder.rglob("*.tmp*"))


def test_existing_models_are_kept(dev_run, tmp_path):
    folder, _, _ = dev_run
    model = folder / "model" / "model_motor.keras"
    before = model.stat().st_mtime_ns
    rerun = run_script("00_train.py", "-d", "-m", "motor", cwd=folder)
    assert "model exists" in rerun.stderr and model.stat().st_mtime_ns == before


def test_same_seed_gives_identical_scores_without_cache(dev_run, demo_dev, tmp_path):
    folder, _, _ = dev_run
    write_config(tmp_path, dev_directory=str(demo_dev), **{"cache.enabled": False})
    run_script("00_train.py", "-d", "--seed", "3", "-m", "pump", cwd=tmp_path)
    run_script("01_test.py", "-d", "-m", "pump", cwd=tmp_path)
    for section in ("00", "01"):
        name = f"anomaly_score_pump_section_{section}_test.csv"
        assert (tmp_path / "result" / name).read_bytes() == (folder / "result" / name).read_bytes()
    assert not (tmp_path / "cache").exists()


def test_eval_mode_with_and_without_ground_truth(dev_run, demo_dev, demo_eval, tmp_path):
    data, truth = demo_eval
    write_config(tmp_path, eval_directory=str(data), seed=3)
    run_script("00_train.py", "-e", cwd=tmp_path)
    run_script("01_test.py", "-e", cwd=tmp_path)
    written = sorted(p.name for p in (tmp_path / "result").iterdir())
    assert written == sorted(f"{kind}_{m}_section_{s}_test.csv"
                             for kind in ("anomaly_score", "decision_result")
                             for m in ("motor", "pump") for s in ("00", "01"))
    for machine in ("motor", "pump"):
        for section in ("00", "01"):
            listed = score_names(tmp_path / "result", machine, section)
            assert listed == sorted(p.name for p in (data / machine / "test").glob(
                f"section_{section}_*.wav"))
    run_script("01_test.py", "-e", "--ground-truth", truth, cwd=tmp_path)
    # the evaluation copy holds the same clips under other names: same metrics as development
    dev_folder = dev_run[0]
    assert result_sections(tmp_path / "result" / "result_eval.csv") == result_sections(
        dev_folder / "result" / "result.csv")
    # a development run in the same result folder keeps apart from it
    evaluation = (tmp_path / "result" / "result_eval.csv").read_bytes()
    assert (tmp_path / "result" / "report_eval.html").is_file()
    assert not (tmp_path / "result" / "result.csv").exists()
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_folder / "model"),
                 seed=3)
    run_script("01_test.py", "-d", cwd=tmp_path)
    assert (tmp_path / "result" / "result.csv").read_bytes() == (
        dev_folder / "result" / "result.csv").read_bytes()
    assert (tmp_path / "result" / "result_eval.csv").read_bytes() == evaluation
    assert (tmp_path / "result" / "report.html").is_file()


def test_ground_truth_must_list_the_same_clips(dev_run, demo_eval, tmp_path):
    data, truth = demo_eval
    shutil.copytree(truth, tmp_path / "truth")
    for kind in ("data", "domain"):
        path = tmp_path / "truth" / f"ground_truth_{kind}" / "ground_truth_motor_section_00_test.csv"
        rows = read_rows(path)
        rows[0][0] = "section_00_test_0999.wav"
        path.write_text("".join(f"{a},{b}\n" for a, b in rows))
    write_config(tmp_path, eval_directory=str(data), model_directory=str(dev_run[0] / "model"))
    result = run_script("01_test.py", "-e", "-m", "motor", "--ground-truth", tmp_path / "truth",
                        cwd=tmp_path, check=False)
    assert result.returncode != 0
    assert "section_00_0999" in result.stderr and "section_00_0000" in result.stderr


def test_no_mode_and_version(tmp_path):
    result = run_script("01_test.py", cwd=tmp_path, check=False)
    assert result.returncode != 0
    assert "incorrect argument" in result.stdout
    assert "please set option argument '--dev' or '--eval'" in result.stdout
    version = run_script("00_train.py", "-v", cwd=tmp_path)
    assert "DCASE 2022 task 2 baseline" in version.stdout


def test_jax_backend_end_to_end(demo_dev, tmp_path):
    pytest.importorskip("jax")
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.epochs": 1})
    env = {"KERAS_BACKEND": "jax"}
    train = run_script("00_train.py", "-d", "-m", "motor", cwd=tmp_path, env=env)
    assert "jax backend" in train.stderr
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, env=env)
    check_result_csv(tmp_path / "result", tmp_path / "model", ["motor"])


def test_interrupted_training_keeps_complete_files_and_resumes(demo_dev, tmp_path):
    # verbose 2 logs each epoch: the signal goes after the second machine type's first epoch,
    # with 399 more to go
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.epochs": 400, "fit.verbose": 2})
    process = start("00_train.py", "-d", cwd=tmp_path)
    output = OutputLines(process)
    try:
        started = output.wait_for(lambda line: line.rstrip().endswith("[2/2] pump"), timeout=900)
        assert started, "the second machine type never started:\n" + "".join(output.lines)[-3000:]
        assert (tmp_path / "model" / "model_motor.keras").exists(), "the first one never finished"
        epoch = output.wait_for(lambda line: "epoch 1/400:" in line, timeout=300)
        assert epoch, "the second machine type never trained:\n" + "".join(output.lines)[-3000:]
        process.send_signal(signal.SIGTERM)
        text = output.text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0 and "interrupted" in text
    assert "pump: model ->" not in text and "epoch 400/400" not in text.split("[2/2] pump")[1]
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "history_motor.png", "model_motor.keras", "score_distr_motor.pkl"]
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.epochs": 1})
    rerun = run_script("00_train.py", "-d", cwd=tmp_path)
    assert "motor: model exists" in rerun.stderr
    assert (tmp_path / "model" / "model_pump.keras").exists()


def test_real_clips_dev_and_eval_with_ground_truth(tmp_path):
    dev = shared_path("data", "real_dev_data")
    evaluation = shared_path("data", "real_eval_data")
    truth = shared_path("data", "real_eval_ground_truth")
    (tmp_path / "dev").mkdir()
    (tmp_path / "eval").mkdir()
    write_config(tmp_path / "dev", dev_directory=str(dev), seed=5)
    write_config(tmp_path / "eval", eval_directory=str(evaluation), seed=5)
    run_script("00_train.py", "-d", cwd=tmp_path / "dev")
    test = run_script("01_test.py", "-d", cwd=tmp_path / "dev")
    sections = check_result_csv(tmp_path / "dev" / "result", tmp_path / "dev" / "model",
                                ["fan", "slider", "valve"])
    # slider and fan come from data sets without a target domain
    assert sections[("fan", "00")][1] == "" and sections[("slider", "00")][1] == ""
    assert sections[("valve", "00")][1] != ""
    assert "AUC (target) left empty" in test.stderr
    for machine in ("fan", "slider", "valve"):
        assert (tmp_path / "dev" / "model" / f"history_{machine}.png").exists()
    run_script("00_train.py", "-e", cwd=tmp_path / "eval")
    run_script("01_test.py", "-e", "--ground-truth", truth, cwd=tmp_path / "eval")
    assert result_sections(tmp_path / "eval" / "result" / "result_eval.csv") == sections


def test_scores_of_a_model_trained_by_the_original(tmp_path):
    original = shared_path("reference", "original")
    valve = shared_path("data", "real_dev_data", "valve")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "valve").symlink_to(valve)
    for name in ("original", "ours"):
        (tmp_path / name).mkdir()
    config = (original / "baseline.yaml").read_text()
    config = (config.replace("../dev_data", str(tmp_path / "data"))
              .replace("epochs: 100", "epochs: 1").replace("verbose: 1", "verbose: 0"))
    (tmp_path / "original" / "baseline.yaml").write_text(config)
    for script in ("00_train.py", "01_test.py"):
        subprocess.run([sys.executable, str(original / script), "-d"], cwd=tmp_path / "original",
                       env=script_environment(), check=True, capture_output=True, timeout=900)
    write_config(tmp_path / "ours", dev_directory=str(tmp_path / "data"),
                 model_directory=str(tmp_path / "original" / "model"))
    run_script("01_test.py", "-d", cwd=tmp_path / "ours")
    theirs, ours = tmp_path / "original" / "result", tmp_path / "ours" / "result"
    name = "anomaly_score_valve_section_00_test.csv"
    their_scores, our_scores = read_rows(theirs / name), read_rows(ours / name)
    assert [r[0] for r in our_scores] == [r[0] for r in their_scores]
    a = np.array([float(r[1]) for r in their_scores])
    b = np.array([float(r[1]) for r in our_scores])
    assert np.max(np.abs(a - b) / np.abs(a)) <= 1e-5
    name = "decision_result_valve_section_00_test.csv"
    assert (ours / name).read_text() == (theirs / name).read_text()
    their_rows, our_rows = read_rows(theirs / "result.csv"), read_rows(ours / "result.csv")
    assert our_rows[:len(their_rows)] == their_rows
