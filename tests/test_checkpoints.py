"""A training killed mid-way resumes at its last checkpoint and ends with the model, scores
and decisions of an uninterrupted run (--seed, on the CPU)."""
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from helpers import (ROOT, OutputLines, copy_machine, read_rows, run_script,
                     script_environment, write_config)

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow

EPOCHS = 12


def weights(folder):
    import keras_model
    return keras_model.load_model(folder / "model" / "model_motor.keras").get_weights()


def train_killed_after(folder, epoch, env):
    """00_train.py SIGKILLed once the line of that epoch is logged (a checkpoint is saved
    every 2 epochs); returns its output."""
    process = subprocess.Popen([sys.executable, str(ROOT / "00_train.py"), "-d"], cwd=folder,
                               env=script_environment(**env), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = OutputLines(process)
    try:
        assert lines.wait_for(lambda line: f"epoch {epoch}/{EPOCHS}:" in line, 600), \
            "".join(lines.lines)[-3000:]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return "".join(lines.lines)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_killed_training_resumes_to_the_same_model(demo_dev, tmp_path, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    env = {"KERAS_BACKEND": backend}
    data = copy_machine(demo_dev, tmp_path)
    runs = {}
    for name in ("whole", "killed"):
        folder = tmp_path / name
        folder.mkdir()
        write_config(folder, dev_directory=str(data), seed=5, **{
            "fit.epochs": EPOCHS, "fit.verbose": 2, "fit.checkpoint_epochs": 2})
        runs[name] = folder
    run_script("00_train.py", "-d", cwd=runs["whole"], env=env)
    train_killed_after(runs["killed"], 7, env)
    model_dir = runs["killed"] / "model"
    assert (model_dir / ".checkpoint_motor.npz").exists()
    assert not (model_dir / "model_motor.keras").exists()
    resumed = run_script("00_train.py", "-d", cwd=runs["killed"], env=env)
    assert f"resuming at epoch 7 of {EPOCHS} from {model_dir / '.checkpoint_motor.npz'}" in \
        resumed.stderr
    assert "epoch 1/12:" not in resumed.stderr and "epoch 7/12:" in resumed.stderr
    assert not (model_dir / ".checkpoint_motor.npz").exists()     # removed with the model saved
    for mine, theirs in zip(weights(runs["killed"]), weights(runs["whole"])):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)
    for folder in runs.values():
        run_script("01_test.py", "-d", "--no-report", cwd=folder, env=env)
    for section in ("00", "01"):
        for kind in ("anomaly_score", "decision_result"):
            name = f"result/{kind}_motor_section_{section}_test.csv"
            mine, theirs = read_rows(runs["killed"] / name), read_rows(runs["whole"] / name)
            assert [r[0] for r in mine] == [r[0] for r in theirs]
            np.testing.assert_allclose([float(r[1]) for r in mine],
                                       [float(r[1]) for r in theirs], rtol=1e-6)


def test_a_checkpoint_of_other_settings_is_not_resumed(demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    write_config(tmp_path, dev_directory=str(data), seed=5,
                 **{"fit.epochs": EPOCHS, "fit.verbose": 2, "fit.checkpoint_epochs": 2})
    train_killed_after(tmp_path, 3, {})
    checkpoint = tmp_path / "model" / ".checkpoint_motor.npz"
    assert checkpoint.exists()
    kept = tmp_path / "kept.npz"
    shutil.copy(checkpoint, kept)
    write_config(tmp_path, dev_directory=str(data), seed=5,
                 **{"fit.epochs": 4, "fit.verbose": 2, "fit.checkpoint_epochs": 2,
                    "fit.lr": 0.002})
    rerun = run_script("00_train.py", "-d", cwd=tmp_path)
    # each key that differs, with both values (EPOCHS was the checkpoint's fit.epochs)
    assert (f"{checkpoint} was made with other settings (fit.lr 0.001 -> 0.002; fit.epochs "
            f"{EPOCHS} -> 4); training from the first epoch") in rerun.stderr
    assert "epoch 1/4:" in rerun.stderr
    # --force starts afresh even with a checkpoint of the same settings
    shutil.copy(kept, checkpoint)
    write_config(tmp_path, dev_directory=str(data), seed=5,
                 **{"fit.epochs": EPOCHS, "fit.verbose": 2, "fit.checkpoint_epochs": 2})
    forced = run_script("00_train.py", "-d", "--force", cwd=tmp_path)
    assert "resuming" not in forced.stderr and f"epoch 1/{EPOCHS}:" in forced.stderr
