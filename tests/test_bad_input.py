"""Each row of README's bad-input table, run as a user would run the scripts."""
import re
import shutil
import sys

import numpy as np
import pytest
import soundfile

from helpers import (check_report_table, copy_machine, read_rows, run_script, score_names,
                     write_config)

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow

SHORT = np.zeros(800, dtype=np.float32)     # 2 frames at hop 512: fewer than n_frames = 5


# 1, 4
def test_bad_training_clips(demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    broken = data / "motor" / "train" / "section_00_source_train_normal_0003_speed_normal.wav"
    broken.write_bytes(broken.read_bytes()[:2000])
    short = data / "motor" / "train" / "section_01_source_train_normal_0099_speed_normal.wav"
    soundfile.write(short, SHORT, 16000)
    write_config(tmp_path, dev_directory=str(data))
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert f"audio file {broken} is truncated" in failed.stderr
    assert not (tmp_path / "model").exists() or not any((tmp_path / "model").iterdir())
    skipped = run_script("00_train.py", "-d", "--skip-bad-files", cwd=tmp_path)
    assert f"skipping {short}: 2 frames, shorter than n_frames=5" in skipped.stderr
    assert f"skipped: audio file {broken} is truncated" in skipped.stderr.splitlines()[-1]
    assert (tmp_path / "model" / "model_motor.keras").exists()


# 1, 4
def test_bad_test_clips(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    test = data / "motor" / "test"
    broken = test / "section_01_source_test_normal_0002_speed_normal.wav"
    broken.write_text("this is not audio")
    short = test / "section_00_target_test_anomaly_0000_speed_fast.wav"
    soundfile.write(short, SHORT, 16000)
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert f"cannot read audio file {broken}" in failed.stderr
    result = tmp_path / "result"
    assert not (result / "anomaly_score_motor_section_01_test.csv").exists()
    assert not (result / "decision_result_motor_section_01_test.csv").exists()
    assert not list(result.glob(".*"))
    run = run_script("01_test.py", "-d", "--skip-bad-files", cwd=tmp_path)
    last = run.stderr.splitlines()[-2:]
    assert any(f"not scored: {short}: 2 frames" in line for line in last)
    assert any(f"not scored: cannot read audio file {broken}" in line for line in last)
    for section, missing in (("00", short), ("01", broken)):
        names = score_names(result, "motor", section)
        assert len(names) == 23 and missing.name not in names
        decisions = read_rows(result / f"decision_result_motor_section_{section}_test.csv")
        assert [r[0] for r in decisions] == names


# 8
def test_missing_or_unreadable_model_files(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev))
    failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert (f"model file not found: {tmp_path / 'model' / 'model_motor.keras'}; create it with "
            f"`python 00_train.py -d -m motor`") in failed.stderr
    (tmp_path / "model").mkdir()
    shutil.copy(dev_run[0] / "model" / "model_motor.keras", tmp_path / "model")
    failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert f"score distribution not found: {tmp_path / 'model' / 'score_distr_motor.pkl'}" in failed.stderr
    (tmp_path / "model" / "score_distr_motor.pkl").write_text("garbage")
    failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "cannot read score distribution" in failed.stderr
    (tmp_path / "model" / "model_motor.keras").write_text("garbage")
    failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "cannot load model" in failed.stderr
    assert "--force" in failed.stderr
    # the cause is kept: the exception's type and its message, not the type alone
    assert re.search(r"cannot load model \S+ \(\w+: [^)]{10,}", failed.stderr), failed.stderr


# 6, 9
def test_layout_and_config_errors_exit_with_one_line(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(tmp_path / "nowhere"))
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].endswith(
        f"dev_directory folder not found: {tmp_path / 'nowhere'}; expected "
        f"{tmp_path / 'nowhere'}/<machine>/train/*.wav and {tmp_path / 'nowhere'}/<machine>/test/*.wav "
        f"(set it in the configuration)")
    data = tmp_path / "data"
    shutil.copytree(demo_dev / "pump" / "train", data / "pump" / "train")
    write_config(tmp_path, dev_directory=str(data))
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "model file not found" in failed.stderr
    # a run that stops leaves no folder it would have written into
    assert not (tmp_path / "result").exists() and not (tmp_path / "cache").exists()
    (tmp_path / "baseline.yaml").write_text(
        (tmp_path / "baseline.yaml").read_text().replace("max_fpr: 0.1", "max_fpr: 2"))
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert "key 'max_fpr' must be a number in (0, 1], got 2" in failed.stderr


# 6
def test_missing_test_folder(dev_run, demo_dev, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dev / "pump" / "train", data / "pump" / "train")
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert f"folder not found: {data / 'pump' / 'test'}" in failed.stderr


# 12
def test_section_without_target_domain(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    for clip in (data / "motor" / "test").glob("section_00_target_*.wav"):
        clip.unlink()
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    run = run_script("01_test.py", "-d", cwd=tmp_path)
    assert "motor section_00: AUC (target) left empty" in run.stderr
    assert ("motor section_00: precision (target) left empty (no test clips of that domain)"
            in run.stderr)
    result = read_rows(tmp_path / "result" / "result.csv")
    assert result[2][0] == "00" and result[2][2] == "" and result[2][1] != ""
    assert result[3][0] == "01" and result[3][2] != ""
    # no target clips at all: precision, recall and F1 (target) are empty too
    target = [result[1].index(f"{name} (target)") for name in ("precision", "recall", "F1 score")]
    assert [result[2][i] for i in target] == ["", "", ""]
    assert all(result[3][i] != "" for i in target)
    # the machine's means of the target columns are those of section 01 alone
    for column in [2] + target:
        assert result[4][column] == result[3][column]
        assert float(result[5][column]) == pytest.approx(max(float(result[3][column]),
                                                             sys.float_info.epsilon))
    assert result[-1][0] == "official score" and float(result[-1][1]) > 0
    # the report shows the same table, the empty cells empty
    result_dir = tmp_path / "result"
    shown = check_report_table(result_dir / "report.html", result_dir / "result.csv")
    assert shown[2][0] == "00" and [shown[2][i] for i in [2] + target] == ["", "", "", ""]
