"""Inputs and set-ups that real users have: odd file names, broken and silent clips, shared and
read-only folders, configuration mistakes, and parallel jobs on one model and result folder.
The numbers refer to README's bad-input table and cluster section."""
import os
import signal
import stat
import subprocess
import sys
import time
import warnings

import librosa
import numpy as np
import pytest
import soundfile

from helpers import (ROOT, copy_machine, finish, run_script, score_names, script_environment,
                     start, write_config)
from dcase_baseline import clips, configuration, filenames, metrics, safe_io, years
from dcase_baseline.errors import BaselineError

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow

TRAIN = "section_00_source_train_normal_0003_speed_normal.wav"
TEST = "section_01_source_test_normal_0002_speed_normal.wav"


# 2
def test_clips_with_an_upper_case_extension_are_read(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    renamed = []
    for folder, name, extension in (("train", TRAIN, ".WAV"), ("test", TEST, ".WAV"),
                                    ("test", TEST.replace("0002", "0003"), ".Wav")):
        path = data / "motor" / folder / name
        renamed.append(path.rename(path.with_suffix(extension)))
    (data / "motor" / "test" / "notes.txt").write_text("recorded on Monday")
    assert renamed[0] in clips.train_files(data / "motor", True, years.YEARS[2022])
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    run = run_script("01_test.py", "-d", cwd=tmp_path)
    names = score_names(tmp_path / "result", "motor", "01")
    assert len(names) == 24 and renamed[1].name in names and renamed[2].name in names
    assert f"ignoring 1 file in {data / 'motor' / 'test'} not named like" in run.stderr
    assert "(e.g. notes.txt)" in run.stderr


# 1
@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_clip_with_non_finite_samples_is_a_bad_clip(dev_run, demo_dev, tmp_path, bad_value):
    data = copy_machine(demo_dev, tmp_path)
    samples = np.full(16000, 0.1, np.float32)
    samples[100] = bad_value
    train_clip, test_clip = data / "motor" / "train" / TRAIN, data / "motor" / "test" / TEST
    for path in (train_clip, test_clip):
        soundfile.write(path, samples, 16000, subtype="FLOAT")
    write_config(tmp_path, dev_directory=str(data))
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].endswith(
        f"audio file {train_clip} holds non-finite samples (NaN or inf); replace or remove it, "
        f"or rerun with --skip-bad-files")
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and f"audio file {test_clip} holds non-finite" in failed.stderr
    run = run_script("01_test.py", "-d", "--skip-bad-files", cwd=tmp_path)
    assert f"not scored: audio file {test_clip} holds non-finite" in run.stderr.splitlines()[-1]
    assert test_clip.name not in score_names(tmp_path / "result", "motor", "01")


# 3
def test_silent_clips_are_used_with_a_warning(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    train_clip, test_clip = data / "motor" / "train" / TRAIN, data / "motor" / "test" / TEST
    soundfile.write(train_clip, np.zeros(16000, np.float32), 16000)
    soundfile.write(test_clip, np.full(20000, 0.25, np.float32), 16000, subtype="FLOAT")
    message = "all samples are equal (digital silence); used as it is"
    write_config(tmp_path, dev_directory=str(data))
    train = run_script("00_train.py", "-d", cwd=tmp_path)
    assert f"WARNING - {train_clip}: {message}" in train.stderr
    assert f"silent: {train_clip}: {message}" in train.stderr.strip().splitlines()[-1]
    test = run_script("01_test.py", "-d", cwd=tmp_path)
    assert f"silent: {test_clip}: {message}" in test.stderr.strip().splitlines()[-1]
    assert test_clip.name in score_names(tmp_path / "result", "motor", "01")
    # silent clips are not cached, so the warning comes again on the next run
    again = run_script("01_test.py", "-d", cwd=tmp_path)
    assert f"silent: {test_clip}: {message}" in again.stderr


# 8 (and README's Output files: the umask's permissions)
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_permissions_of_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        safe_io.save_csv(tmp_path / "scores.csv", [["a.wav", 1.0]])
        with safe_io.atomic_path(tmp_path / "model_fan.keras") as tmp:
            open(tmp, "wb").write(b"model")
    finally:
        os.umask(old)
    for name in ("scores.csv", "model_fan.keras"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode


def test_files_of_a_run_are_readable_by_others_under_umask_022(dev_run):
    umask = os.umask(0o022)
    os.umask(umask)
    if umask != 0o022:
        pytest.skip("the tests run under another umask")
    folder = dev_run[0]
    written = [p for p in [*(folder / "model").rglob("*"), *(folder / "result").rglob("*")]
               if p.is_file()]
    assert len(written) > 10
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_unreadable_model_is_reported_as_a_permission_problem(dev_run, monkeypatch):
    model = dev_run[0] / "model" / "model_motor.keras"

    def refuse(path, *args, **kwargs):
        if str(path) == str(model):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    # as root (CI) no file is unreadable, so the refusal is simulated
    monkeypatch.setattr(safe_io, "open", refuse, raising=False)
    with pytest.raises(BaselineError, match=f"cannot read model {model}: permission denied"):
        safe_io.check_readable(model, "model")


# 7
@pytest.mark.parametrize("script, key", [("00_train.py", "model_directory"),
                                         ("01_test.py", "result_directory")])
def test_unwritable_output_folder_is_reported_before_any_work(dev_run, demo_dev, tmp_path,
                                                              script, key):
    (tmp_path / "a_file").write_text("not a folder")
    folder = tmp_path / "a_file" / "out"
    changes = {key: str(folder)}
    if script == "01_test.py":
        changes["model_directory"] = str(dev_run[0] / "model")
    write_config(tmp_path, dev_directory=str(demo_dev), **changes)
    failed = run_script(script, "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].endswith(
        f"cannot write to {key} {folder}: Not a directory; set {key} in the configuration to a "
        f"folder you can write to")
    assert "[1/2]" not in failed.stderr     # nothing was trained or scored


# 10
def test_duplicated_config_key_is_an_error(tmp_path):
    text = (ROOT / "baseline.yaml").read_text()
    path = tmp_path / "baseline.yaml"
    path.write_text(text.replace("max_fpr: 0.1", "max_fpr: 0.1\nmax_fpr: 0.2"))
    line = text.splitlines().index("max_fpr: 0.1") + 1
    with pytest.raises(BaselineError,
                       match=f"key 'max_fpr' is given twice \\(lines {line} and {line + 1}\\)"):
        configuration.load_config(path)
    path.write_text(text.replace("  epochs: 100", "  epochs: 100\n  epochs: 5"))
    line = text.splitlines().index("  epochs: 100") + 1
    with pytest.raises(BaselineError,
                       match=f"key 'fit.epochs' is given twice \\(lines {line} and {line + 1}\\)"):
        configuration.load_config(path)


# 11
def largest_n_mels_without_empty_filters(sr, n_fft, limit):
    """By trial with librosa itself: the largest n_mels whose filter bank raises no warning."""
    for n_mels in range(limit, 0, -1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
        if not caught:
            return n_mels


def test_n_mels_with_empty_filters_is_rejected(demo_dev, tmp_path):
    largest = largest_n_mels_without_empty_filters(16000, 1024, 500)
    assert 128 <= largest < 500
    write_config(tmp_path, dev_directory=str(demo_dev), **{"feature.n_mels": 500})
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert ("feature.n_mels = 500 with feature.n_fft = 1024 at the clips' sample rate of "
            "16000 Hz") in last
    assert "Empty filters detected" in last
    assert f"the largest n_mels that works is {largest} (or raise feature.n_fft)" in last
    assert not (tmp_path / "model" / "model_motor.keras").exists()


# 6
def test_relative_data_folder_error_says_where_it_was_looked_for(tmp_path):
    config = write_config(tmp_path, dev_directory="data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    failed = run_script("00_train.py", "-d", "-c", config, cwd=elsewhere, check=False)
    assert failed.returncode == 1
    assert (f"dev_directory folder not found: data (that is {elsewhere / 'data'}: relative to "
            f"the current folder {elsewhere}, not to the folder of the configuration file "
            f"{config})") in failed.stderr


# 12 (end to end in test_bad_input.test_section_without_target_domain)
def test_domain_without_clips_leaves_precision_recall_f1_empty():
    row = metrics.unit_metrics(years.SECTION_METRICS, [0, 0, 1], [0.1, 0.2, 0.9], [0, 1, 1],
                               ["source"] * 3, 0.1)
    # source: tp 1, fp 1, fn 0 -> precision 0.5, recall 1, F1 2/3; no target clips at all
    assert row[3:] == [pytest.approx(0.5), None, pytest.approx(1.0), None,
                       pytest.approx(2 / 3), None]
    arithmetic, harmonic = metrics.column_means([row, [0.5] * 9])
    assert arithmetic[4] == 0.5 and harmonic[4] == pytest.approx(0.5)


# 16 (these tests and the cluster recipes: cluster/README.md)
def test_parallel_test_jobs_give_the_sequential_result(dev_run, demo_dev, tmp_path):
    folder = dev_run[0]
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(folder / "model"))
    finish(start("01_test.py", "-d", "-m", "pump", cwd=tmp_path),
           start("01_test.py", "-d", "-m", "motor", cwd=tmp_path))
    result = (tmp_path / "result" / "result.csv").read_bytes()
    assert result == (folder / "result" / "result.csv").read_bytes()
    assert b"official score" in result
    # a later job of one machine type keeps the other's rows
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    assert (tmp_path / "result" / "result.csv").read_bytes() == result


def test_parallel_training_runs_train_each_machine_type_once(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
    outputs = finish(start("00_train.py", "-d", cwd=tmp_path),
                     start("00_train.py", "-d", cwd=tmp_path))
    for machine in ("motor", "pump"):
        assert sum(f"{machine}: model ->" in output for output in outputs) == 1
        assert sum(f"{machine}: being trained by another run" in output
                   or f"{machine}: model exists" in output for output in outputs) == 1
    assert not list((tmp_path / "model").glob(".*"))
    run_script("01_test.py", "-d", cwd=tmp_path)
    assert ((tmp_path / "result" / "result.csv").read_bytes()
            == (dev_run[0] / "result" / "result.csv").read_bytes())


def test_killed_training_leaves_no_lock_that_blocks(demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.epochs": 400})
    process = start("00_train.py", "-d", "-m", "motor", cwd=tmp_path)
    lock = filenames.training_lock_file(tmp_path / "model", "motor")
    deadline = time.time() + 300
    while not lock.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert lock.exists(), "training never started"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert lock.exists()        # left behind, but no process holds it any more
    write_config(tmp_path, dev_directory=str(demo_dev), **{"fit.epochs": 1})
    rerun = run_script("00_train.py", "-d", "-m", "motor", cwd=tmp_path)
    assert "motor: model ->" in rerun.stderr and not lock.exists()


def test_cluster_recipes_run_as_parallel_processes(dev_run, demo_dev, tmp_path):
    """README's xargs recipe and the Slurm array script, each task a local process, run in the
    project folder as README says."""
    env = script_environment(PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    for recipe in ("xargs", "slurm"):
        folder = tmp_path / recipe
        folder.mkdir()
        config = write_config(folder, dev_directory=str(demo_dev), seed=3)
        if recipe == "xargs":
            recipe_lines = [f"ls {demo_dev} | xargs -P 2 -I{{}} python {script} -d -c {config} "
                            f"-m {{}}" for script in ("00_train.py", "01_test.py")]
            processes = [subprocess.Popen(["bash", "-c", " && ".join(recipe_lines)], cwd=ROOT,
                                          env=env)]
        else:
            processes = [subprocess.Popen(
                ["bash", "cluster/slurm_array.sh", "-d", "-c", str(config)], cwd=ROOT,
                env=dict(env, SLURM_ARRAY_TASK_ID=str(task), MACHINES="motor pump"))
                for task in (0, 1)]
        for process in processes:
            assert process.wait(timeout=900) == 0
        assert ((folder / "result" / "result.csv").read_bytes()
                == (dev_run[0] / "result" / "result.csv").read_bytes())
