"""No silently wrong figure: stale result blocks, a model paired with another model's threshold,
averaged channels, clips without a domain, and the inputs that used to end in a traceback.
The numbers refer to README's bad-input table."""
import contextlib
import errno
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from helpers import (copy_machine, read_rows, run_script, short_training_clips,
                     write_config)
from dcase_baseline import filenames, plots, safe_io
from dcase_baseline.errors import BaselineError

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow

TEST_CLIP = "section_00_source_test_normal_0001_speed_normal.wav"


def copy_models(dev_run, tmp_path):
    shutil.copytree(dev_run[0] / "model", tmp_path / "model")


def last_line(run):
    return run.stderr.strip().splitlines()[-1]


# 17
def test_result_csv_holds_only_this_runs_blocks(dev_run, demo_dev, tmp_path):
    copy_models(dev_run, tmp_path)
    first = write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
    run_script("01_test.py", "-d", "-c", first, "--no-report", cwd=tmp_path)
    assert {p.name for p in filenames.block_files(tmp_path / "result/result.csv",
                                                  True).values()} \
        == {"result_motor_dev.csv", "result_pump_dev.csv"}
    # another data set: motor only, some of its test clips gone, so that its figures differ
    other = copy_machine(demo_dev, tmp_path / "other")
    for path in sorted((other / "motor" / "test").glob("*_anomaly_*"))[::2]:
        path.unlink()
    second = tmp_path / "second.yaml"
    second.write_text(first.read_text().replace(str(demo_dev), str(other)))
    run = run_script("01_test.py", "-d", "-c", second, cwd=tmp_path)
    stale = tmp_path / "result" / "result_pump_dev.csv"
    assert f"left out of result.csv: {stale} is of another run (data folder" in run.stderr
    # the same data scored alone, in a fresh result folder
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copytree(tmp_path / "model", alone / "model")
    write_config(alone, dev_directory=str(other), seed=3)
    run_script("01_test.py", "-d", cwd=alone)
    assert (tmp_path / "result/result.csv").read_bytes() == \
        (alone / "result/result.csv").read_bytes()
    assert [row[0] for row in read_rows(tmp_path / "result/result.csv") if len(row) == 1] \
        == ["motor"]
    page = (tmp_path / "result/report.html").read_text()
    assert "Left out of the table above" in page and "<li>result_pump_dev.csv: data folder" in page


# 17
def test_a_block_without_a_record_is_left_out(dev_run, demo_dev, tmp_path):
    result = tmp_path / "result"
    shutil.copytree(dev_run[0] / "result", result)
    (result / "result_pump_dev.json").unlink()
    copy_models(dev_run, tmp_path)
    write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
    run = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    assert f"{result / 'result_pump_dev.csv'} is of another run (no record" in run.stderr
    assert [row[0] for row in read_rows(result / "result.csv") if len(row) == 1] == ["motor"]


# 18
def test_a_threshold_of_another_model_is_refused(dev_run, demo_dev, tmp_path):
    copy_models(dev_run, tmp_path)
    model = tmp_path / "model"
    # pump's distribution in motor's place: the state a retraining leaves for a moment, when
    # the new distribution is written and the old model is still in place
    shutil.copy(model / "score_distr_pump.pkl", model / "score_distr_motor.pkl")
    write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
    failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert last_line(failed).endswith(
        f"score distribution {model / 'score_distr_motor.pkl'} belongs to another model than "
        f"{model / 'model_motor.keras'}; retrain it with `python 00_train.py -d -m motor "
        f"--force`")
    # the same while a training of motor holds its lock: the message says to wait for it
    with safe_io.file_lock(filenames.training_lock_file(model, "motor"), wait=False) as mine:
        assert mine
        failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
    assert "another process is training this model" in failed.stderr
    assert last_line(failed).endswith("a training of motor is running (it holds "
                                      f"{model / '.training_motor.lock'}): rerun when it has "
                                      f"finished")


# 18
def test_original_score_distribution_is_still_read(dev_run, demo_dev, tmp_path):
    import joblib

    from dcase_baseline import detector
    copy_models(dev_run, tmp_path)
    distr = tmp_path / "model" / "score_distr_motor.pkl"
    gamma, *_ = detector.read_score_distribution(distr)
    joblib.dump(list(gamma), distr)          # the original's three numbers, no model digest
    write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    assert read_rows(tmp_path / "result/result_motor_dev.csv") == \
        read_rows(dev_run[0] / "result/result_motor_dev.csv")


def stereo_copy(demo_dev, tmp_path):
    """motor with every clip made stereo: left the clip, right the clip reversed in time."""
    data = copy_machine(demo_dev, tmp_path)
    for path in (data / "motor").glob("*/*.wav"):
        y, rate = soundfile.read(path)
        soundfile.write(path, np.stack([y, y[::-1]], axis=1), rate)
    return data


# 5
def test_averaged_channels_are_counted_once_per_run(demo_dev, tmp_path):
    data = stereo_copy(demo_dev, tmp_path)
    n_train = len(list((data / "motor" / "train").glob("*.wav")))
    write_config(tmp_path, dev_directory=str(data), seed=1)
    train = run_script("00_train.py", "-d", cwd=tmp_path)
    assert train.stderr.count("have several channels") == 1
    assert f"{n_train} clips have several channels" in train.stderr
    assert "set feature.channel to a channel index" in train.stderr
    test = run_script("01_test.py", "-d", cwd=tmp_path)
    assert test.stderr.count("have several channels") == 1
    notes = json.loads((tmp_path / "result/plots/motor.json").read_text())["notes"]
    assert any("clips of several channels averaged into one" in n for n in notes)
    # the report's facts name the setting, with the clips it averaged
    n_test = len(list((data / "motor" / "test").glob("*.wav")))
    assert (f"<tr><th>feature.channel</th><td>mean ({n_test} clips of several channels "
            f"averaged into one)</td></tr>") in (tmp_path / "result/report.html").read_text()


def test_one_channel_gives_the_features_of_that_channel_alone(demo_dev, tmp_path):
    from dcase_baseline import features
    data = stereo_copy(demo_dev, tmp_path)
    stereo = sorted((data / "motor" / "test").glob("*.wav"))[0]
    y, rate = soundfile.read(stereo, dtype="float32")
    feature = {"n_mels": 128, "n_frames": 5, "n_hop_frames": 1, "n_fft": 1024,
               "hop_length": 512, "power": 2.0}
    for channel in (0, 1):
        mono = tmp_path / f"channel_{channel}.wav"
        soundfile.write(mono, y[:, channel], rate, subtype="FLOAT")
        chosen = features.clip_log_mels([stereo], dict(feature, channel=channel)).log_mels[0]
        alone = features.clip_log_mels([mono], dict(feature, channel="mean")).log_mels[0]
        np.testing.assert_array_equal(chosen, alone)
    with pytest.raises(BaselineError, match=r"has 2 channel\(s\), so no channel 2"):
        features.clip_log_mels([stereo], dict(feature, channel=2))


# 19
def test_clips_without_a_domain_are_named_and_noted(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    test_dir = data / "motor" / "test"
    (test_dir / TEST_CLIP).rename(test_dir / "section_00_test_normal_0050.wav")
    copy_models(dev_run, tmp_path)
    write_config(tmp_path, dev_directory=str(data), seed=3)
    run = run_script("01_test.py", "-d", cwd=tmp_path)
    message = (f"{test_dir / 'section_00_test_normal_0050.wav'}: no source/target in its name; "
               f"scored and counted in pAUC, in neither AUC")
    assert message in run.stderr
    notes = json.loads((tmp_path / "result/plots/motor.json").read_text())["notes"]
    assert any(n.startswith(message) for n in notes)


# 20
def test_too_few_training_clips_stop_before_any_training(demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    shutil.copytree(demo_dev / "pump", data / "pump")
    for path in sorted((data / "pump" / "train").glob("*.wav"))[1:]:
        path.unlink()
    write_config(tmp_path, dev_directory=str(data))
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert last_line(failed).endswith(
        f"pump: 1 training clips in {data / 'pump' / 'train'}; the gamma fit of the decision "
        f"threshold needs at least 2: add training clips of pump, or leave it out with -m")
    assert not (tmp_path / "model" / "model_motor.keras").exists()      # motor comes first


# 20
def test_validation_split_leaving_no_training_vector_is_an_error(demo_dev, tmp_path):
    data = short_training_clips(demo_dev, tmp_path, 2, 512 * 5)    # 6 frames: 2 vectors a clip
    write_config(tmp_path, dev_directory=str(data), **{"fit.validation_split": 0.8})
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert last_line(failed).endswith(
        "motor: fit.validation_split = 0.8 leaves 0 of 4 vectors for training; lower "
        "fit.validation_split in the configuration")


# 21
def test_clip_names_that_are_not_utf8(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    test_dir = os.fsencode(data / "motor" / "test")
    odd = os.path.join(test_dir, os.fsencode(TEST_CLIP).replace(b".wav", b"_\xff\xfe.wav"))
    os.rename(os.path.join(test_dir, os.fsencode(TEST_CLIP)), odd)
    broken = os.path.join(test_dir, b"section_00_source_test_normal_0002_speed_\xe9.wav")
    os.rename(os.path.join(test_dir, b"section_00_source_test_normal_0002_speed_normal.wav"),
              broken)
    with open(broken, "r+b") as f:
        f.truncate(2000)
    copy_models(dev_run, tmp_path)
    write_config(tmp_path, dev_directory=str(data), seed=3)
    run = run_script("01_test.py", "-d", "--skip-bad-files", cwd=tmp_path)
    assert "Traceback" not in run.stderr and "Logging error" not in run.stderr
    scores = (tmp_path / "result/anomaly_score_motor_section_00_test.csv").read_bytes()
    assert os.path.basename(odd) + b"," in scores
    assert os.path.basename(broken) not in scores
    assert b"truncated" in (tmp_path / "baseline.log").read_bytes()
    assert (tmp_path / "result/report.html").exists()


@contextlib.contextmanager
def small_tmpfs(folder, size, options=""):
    """A tmpfs of that size mounted on folder, or None where this process may not mount."""
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs",
                              str(folder)], capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


# 22
def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(dev_run, demo_dev, tmp_path):
    copy_models(dev_run, tmp_path)
    result = tmp_path / "result"
    with small_tmpfs(result, "24k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (the simulated test below still runs)")
        write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
        failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
        assert failed.returncode == 1
        assert "Traceback" not in failed.stderr
        assert "No space left on device (errno ENOSPC)" in last_line(failed)
        assert f"cannot write {result}" in last_line(failed)
        left = [p.name for p in result.rglob("*") if p.is_file()]
        assert not [name for name in left if ".tmp" in name]
        for name in left:
            if name.endswith(".csv"):
                rows = read_rows(result / name)
                assert rows and all(rows[-1])    # complete: no cut-off last row


# 7
@pytest.mark.slow
def test_a_read_only_plots_folder_stops_the_run_before_any_clip(dev_run, demo_dev, tmp_path):
    copy_models(dev_run, tmp_path)
    plots = tmp_path / "result" / "plots"
    with small_tmpfs(plots, "1m", ",ro") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here")
        write_config(tmp_path, dev_directory=str(demo_dev), seed=3)
        failed = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path, check=False)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert (f"cannot write to result_directory {plots}: Read-only file system"
                in last_line(failed))
        assert not list((tmp_path / "result").glob("*.csv"))


# 22
def test_a_failed_write_names_the_file_and_the_errno(tmp_path):
    target = tmp_path / "plots" / "motor.png"
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        with pytest.raises(BaselineError) as raised:
            with safe_io.atomic_path(target) as tmp:
                open(tmp, "wb").write(b"half")
                raise OSError(number, os.strerror(number))
        assert str(raised.value).startswith(
            f"cannot write {target}: {os.strerror(number)} (errno {errno.errorcode[number]})")
        assert list(target.parent.iterdir()) == []
    # a figure: matplotlib's own OSError comes out the same way
    history = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}
    real_open = open

    def full_disk_open(file, mode="r", *args, **kwargs):
        if "w" in mode and str(file).startswith(str(target.parent)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(file, mode, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.open", full_disk_open)
        with pytest.raises(BaselineError, match="No space left on device"):
            plots.save_loss_plot(target, "motor", history)
    assert list(target.parent.iterdir()) == []


# 23
def test_log_file_folder_is_created_or_refused_before_any_work(dev_run, demo_dev, tmp_path):
    copy_models(dev_run, tmp_path)
    write_config(tmp_path, dev_directory=str(demo_dev), seed=3,
                 log_file=str(tmp_path / "logs" / "new" / "test.log"))
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    assert "motor section_00: 24 clips scored" in (tmp_path / "logs/new/test.log").read_text()
    (tmp_path / "blocked").write_text("a file where the log folder would be")
    for script in ("00_train.py", "01_test.py"):
        write_config(tmp_path, dev_directory=str(demo_dev),
                     log_file=str(tmp_path / "blocked" / "test.log"))
        failed = run_script(script, "-d", cwd=tmp_path, check=False)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert last_line(failed).startswith(f"cannot write to log_file {tmp_path / 'blocked'}")


# 24
def test_no_foreign_messages_on_the_console(dev_run, demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    short = data / "motor" / "test" / TEST_CLIP
    y, rate = soundfile.read(short)
    soundfile.write(short, y[:600], rate)           # shorter than n_fft
    copy_models(dev_run, tmp_path)
    write_config(tmp_path, dev_directory=str(data), seed=3)
    run = run_script("01_test.py", "-d", cwd=tmp_path, env={"KERAS_BACKEND": "jax"})
    assert f"{short}: 2 frames, shorter than n_frames=5; no score" in run.stderr
    lines = run.stderr.strip().splitlines()
    # every line is one of ours (a log line, or a continuation of a progress bar)
    assert all(" - INFO - " in line or " - WARNING - " in line for line in lines), lines
    assert "UserWarning" not in run.stderr
