"""The model a test run uses is the one training made for the same request (both scripts name
it by the sections of train/; its training record names its sections, seed and features), and
every command the scripts advise keeps the run's -c, --run and --seed."""
import json
import re
import shlex
import sys

import pytest

import common as com
from helpers import ROOT, run_script, write_config
from make_demo_data import make_dataset

MOTOR = {"motor": 60.0}


def model_line(stderr):
    """The model 01_test.py scored with, from its log."""
    return re.findall(r"(motor\S*): model (\S+), decision threshold", stderr)


def advised(stderr, script="00_train.py"):
    """The command in backquotes of the last line, as an argument list to run."""
    command = re.search(r"`(python [^`]*)`", stderr.strip().splitlines()[-1]).group(1)
    words = shlex.split(command)
    assert words[:2] == ["python", script]
    return words[2:]


@pytest.mark.slow
def test_train_and_test_take_the_model_of_the_same_request(tmp_path):
    data = tmp_path / "data"
    make_dataset(data, seconds=0.5, machines=MOTOR,
                 sections={"00": 1.0, "01": 1.35, "02": 1.2})
    for path in (data / "motor" / "test").glob("section_02_*"):     # train/ 00-02, test/ 00-01
        path.unlink()
    write_config(tmp_path, dev_directory=str(data), seed=1)
    trained = run_script("00_train.py", "-d", "-s", "00", "01", cwd=tmp_path)
    # the training summary's columns line up under a long model name
    lines = [line.split(" - INFO - ")[-1] for line in trained.stderr.splitlines()]
    header = lines[lines.index("summary:") + 1]
    row = lines[lines.index("summary:") + 2]
    assert row.startswith("motor_section_00_01 ") and len(row) == len(header)
    assert header.index("clips") + 5 == len(row.split()[0]) + 1 + 6
    run_script("00_train.py", "-d", cwd=tmp_path)
    models = tmp_path / "model"
    assert (models / "model_motor_section_00_01.keras").is_file()
    assert (models / "model_motor.keras").is_file()
    tested = run_script("01_test.py", "-d", "-s", "00", "01", cwd=tmp_path)
    assert model_line(tested.stderr) == [("motor_section_00_01",
                                          str(models / "model_motor_section_00_01.keras"))]
    # train/ now holds the sections of test/: -s 00 01 asks for the machine type's model,
    # whose record says it was made of 00-02; the advice is a command that mends it
    for path in (data / "motor" / "train").glob("section_02_*"):
        path.unlink()
    refused = run_script("01_test.py", "-d", "-s", "00", "01", cwd=tmp_path, check=False)
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert (f"{models / 'model_motor.keras'} is a model of sections 00, 01, 02, not of 00, 01 "
            f"(those of {data / 'motor' / 'train'} now); retrain it with `python 00_train.py -d "
            f"-m motor --force`" in last)
    run_script("00_train.py", *advised(refused.stderr), cwd=tmp_path)
    tested = run_script("01_test.py", "-d", "-s", "00", "01", cwd=tmp_path)
    assert model_line(tested.stderr) == [("motor", str(models / "model_motor.keras"))]


@pytest.mark.slow
def test_a_section_only_in_test_is_no_loop(tmp_path):
    # train/ 00-01, test/ 00-02: the model of -s 00 01 is the machine type's, in both scripts
    data = tmp_path / "data"
    make_dataset(data, seconds=0.5, machines=MOTOR,
                 sections={"00": 1.0, "01": 1.35, "02": 1.2})
    for path in (data / "motor" / "train").glob("section_02_*"):
        path.unlink()
    write_config(tmp_path, dev_directory=str(data), model_per="section")
    refused = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert refused.returncode == 1
    assert ("motor: section 02 of " in refused.stderr and "has no training clips in "
            in refused.stderr and "leave it out with -s/--section" in refused.stderr)
    missing = run_script("01_test.py", "-d", "-s", "00", cwd=tmp_path, check=False)
    run_script("00_train.py", *advised(missing.stderr), cwd=tmp_path)
    write_config(tmp_path, dev_directory=str(data))
    missing = run_script("01_test.py", "-d", "-s", "00", "01", cwd=tmp_path, check=False)
    assert "create it with `python 00_train.py -d -m motor`" in missing.stderr
    run_script("00_train.py", *advised(missing.stderr), cwd=tmp_path)
    tested = run_script("01_test.py", "-d", "-s", "00", "01", cwd=tmp_path)
    assert model_line(tested.stderr) == [("motor", str(tmp_path / "model/model_motor.keras"))]


def test_advice_keeps_the_configuration_run_and_seed():
    args = com.parse_args("train", ["-d", "-c", "my folder/my.yaml", "--run", "seed1",
                                    "--seed", "3", "-m", "motor"])
    assert com.train_command(args, "motor", ("00", "01")) == (
        "python 00_train.py -d -c 'my folder/my.yaml' -m motor -s 00 01 --run seed1 --seed 3")
    args = com.parse_args("test", ["-e"], test_script=True)
    assert com.train_command(args, "fan") == "python 00_train.py -e -m fan"


@pytest.mark.slow
def test_the_record_names_the_seed_of_the_training(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), seed=0)
    run_script("00_train.py", "-d", "-m", "motor", "--seed", "2", "--run", "s2", cwd=tmp_path)
    run_script("01_test.py", "-d", "-m", "motor", "--run", "s2", cwd=tmp_path)
    result = tmp_path / "result" / "s2"
    assert json.loads((result / "result_motor_dev.json").read_text())["run"]["seed"] == 2
    assert json.loads((result / "plots" / "motor.json").read_text())["seed"] == 2
    tested = run_script("01_test.py", "-d", "-m", "motor", "--run", "s2", "--seed", "5",
                        cwd=tmp_path)
    assert ("motor: trained with seed 2; --seed 5 does not change its scores, and the results "
            "name seed 2") in tested.stderr
    assert json.loads((result / "result_motor_dev.json").read_text())["run"]["seed"] == 2
    summary = run_script_summarize(tmp_path, result)
    assert summary == ["2"]


def run_script_summarize(cwd, *folders):
    import subprocess
    run = subprocess.run([sys.executable, str(ROOT / "summarize.py"), *map(str, folders), "-o",
                          str(cwd / "summary")], cwd=cwd, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    from dcase_baseline import safe_io
    return [row[2] for row in safe_io.read_csv(cwd / "summary" / "summary_runs.csv")[1:]]
