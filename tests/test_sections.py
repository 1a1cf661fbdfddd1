"""Sections as units of work: -s/--section for both scripts, model_per: section (a model per
section), and the Slurm recipe over (machine type, section) pairs, each against one run."""
import os
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, read_rows, run_script, script_environment, write_config

# the tests here run the scripts in processes of their own
pytestmark = pytest.mark.slow


def outputs_of(folder):
    """{name: bytes} of a result folder's result.csv, score and decision files."""
    result = folder / "result"
    return {p.name: p.read_bytes() for p in sorted(result.glob("*.csv"))
            if p.name == "result.csv" or p.name.startswith(("anomaly_score", "decision_result"))}


def test_a_model_per_section_in_one_run_and_in_a_slurm_array(demo_dev, tmp_path):
    settings = {"dev_directory": str(demo_dev), "seed": 3, "model_per": "section"}
    one = tmp_path / "one"
    one.mkdir()
    write_config(one, **settings)
    for script in ("00_train.py", "01_test.py"):
        run_script(script, "-d", cwd=one)
    models = sorted(p.name for p in (one / "model").glob("model_*.keras"))
    assert models == [f"model_{m}_section_{s}.keras" for m in ("motor", "pump")
                      for s in ("00", "01")]
    # the same, section by section: the Slurm array over (machine type, section), its tasks
    # (00_train.py and 01_test.py with -m and -s each) run at once as local processes
    array = tmp_path / "array"
    array.mkdir()
    config = write_config(array, **settings)
    env = script_environment(PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
                             MACHINES="motor pump", SECTIONS="00 01")
    tasks = [subprocess.Popen(["bash", "cluster/slurm_array_sections.sh", "-c", str(config)],
                              cwd=ROOT, env=dict(env, SLURM_ARRAY_TASK_ID=str(task)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for task in range(4)]
    for task in tasks:
        assert task.wait(timeout=900) == 0, task.stderr.read()[-2000:]
    assert outputs_of(array) == outputs_of(one)
    # the report shows every section's model under its machine type
    page = (one / "result" / "report.html").read_text()
    assert "<h3>motor_section_00</h3>" in page and "plots/pump_section_01.png" in page


def test_some_sections_give_the_figures_of_a_run_on_their_clips_alone(demo_dev, tmp_path):
    some = tmp_path / "some"
    some.mkdir()
    write_config(some, dev_directory=str(demo_dev), seed=5)
    for script in ("00_train.py", "01_test.py"):
        run_script(script, "-d", "-m", "motor", "-s", "0", cwd=some)    # 0: section 00
    assert (some / "model" / "model_motor_section_00.keras").is_file()
    # a data folder of section 00's clips alone, trained and scored as a whole
    data = tmp_path / "data"
    for folder in ("train", "test"):
        (data / "motor" / folder).mkdir(parents=True)
        for clip in (demo_dev / "motor" / folder).glob("section_00_*"):
            shutil.copy(clip, data / "motor" / folder / clip.name)
    alone = tmp_path / "alone"
    alone.mkdir()
    write_config(alone, dev_directory=str(data), seed=5)
    for script in ("00_train.py", "01_test.py"):
        run_script(script, "-d", cwd=alone)
    assert outputs_of(some) == outputs_of(alone)
    rows = read_rows(some / "result" / "result.csv")
    assert [row[0] for row in rows[2:3]] == ["00"] and rows[3][0] == "arithmetic mean"


def test_a_section_the_data_lack_is_an_error_naming_those_there(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev))
    for script in ("00_train.py", "01_test.py"):
        run = run_script(script, "-d", "-s", "00", "07", cwd=tmp_path, check=False)
        assert run.returncode == 1
        last = run.stderr.strip().splitlines()[-1]
        assert "no section 07 in" in last and "its sections are 00, 01" in last
    bad = run_script("00_train.py", "-d", "-s", "x1", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "'x1' is no section number" in bad.stderr
