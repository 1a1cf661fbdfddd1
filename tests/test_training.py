"""training.fit is training.reference_fit (Keras' fit(x, x, ...) on the stacked vectors)
without the stacked copy."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT
from dcase_baseline import frame_stacks
import keras_model
from dcase_baseline import training


@pytest.fixture(autouse=True)
def float64_keras():
    """Float64 models: in float32, the gradients of the Dense biases ahead of BatchNormalization
    are rounding noise that Adam turns into lr-sized steps, so two correct runs that differ only
    in the order of additions drift apart by 1e-5."""
    import keras
    keras.config.set_floatx("float64")
    # layers take the global dtype policy, which an earlier float32 model may have fixed
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")


def small_data(seed=0):
    rng = np.random.default_rng(seed)
    clips = [rng.normal(size=(n, 16)) for n in (40, 33, 51)]
    stacks = frame_stacks.frame_index(clips, n_frames=3)
    return stacks, stacks.vectors(stacks.starts)


def fit_config(shuffle):
    return {"epochs": 3, "batch_size": 32, "shuffle": shuffle, "validation_split": 0.1,
            "verbose": 0}


def assert_same_training(ours, plain, history, expected):
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-9)
    np.testing.assert_allclose(history["val_loss"], expected["val_loss"], rtol=1e-9)
    for mine, theirs in zip(ours.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-9)


def twin_models():
    """Two baseline networks with the same initial weights."""
    plain = keras_model.get_model(48, 0.001, jit_compile=False)
    ours = keras_model.get_model(48, 0.001, jit_compile=False)
    ours.set_weights(plain.get_weights())
    return plain, ours


def batch_by_batch_on_tensorflow(monkeypatch):
    """The other backends' epoch (one train_on_batch per batch) in place of the compiled one."""
    monkeypatch.setattr(training, "tensorflow_epoch", training.batch_by_batch_epoch)


@pytest.mark.parametrize("xla, epoch", [(False, "compiled"), (True, "compiled"),
                                        (False, "batch by batch")])
@pytest.mark.slow
def test_same_batches_weights_and_losses_as_a_plain_fit(xla, epoch, monkeypatch):
    if epoch == "batch by batch":
        batch_by_batch_on_tensorflow(monkeypatch)
    stacks, _ = small_data()
    plain, ours = twin_models()
    expected = training.reference_fit(plain, stacks, fit_config(False))
    history = training.fit(ours, stacks, fit_config(False), np.random.default_rng(0), xla)
    # 118 vectors: the first floor(118 * 0.9) = 106 train in 3 full batches and one of 10,
    # the last 12 validate
    assert_same_training(ours, plain, history, expected)


def noise_free_model():
    """Dense without bias ahead of BatchNormalization: no parameter whose gradient is rounding
    noise, so that fits on two backends can be compared closely."""
    import keras
    x = keras.Input(shape=(48,))
    h = keras.layers.Dense(16, use_bias=False)(x)
    h = keras.layers.Activation("relu")(keras.layers.BatchNormalization()(h))
    model = keras.Model(x, keras.layers.Dense(48)(h))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="mean_squared_error")
    return model


JAX_FIT = """
import keras, numpy as np
keras.config.set_floatx("float64")
import test_training
from dcase_baseline import training
stacks, x = test_training.small_data()
model = test_training.noise_free_model()
start = np.load("start.npz")
model.set_weights([start[f"arr_{i}"] for i in range(len(start.files))])
history = training.fit(model, stacks, test_training.fit_config(False),
                      np.random.default_rng(0), True)
np.savez("end.npz", loss=history["loss"], val_loss=history["val_loss"], *model.get_weights())
"""


@pytest.mark.slow
def test_jax_backend_same_as_a_plain_tensorflow_fit(tmp_path):
    pytest.importorskip("jax")
    stacks, _ = small_data()
    plain = noise_free_model()
    np.savez(tmp_path / "start.npz", *plain.get_weights())
    expected = training.reference_fit(plain, stacks, fit_config(False))
    (tmp_path / "fit.py").write_text(JAX_FIT)
    # this file's functions and the project's modules, as pytest finds them
    path = os.pathsep.join([str(Path(__file__).parent), str(ROOT), str(ROOT / "demo")])
    result = subprocess.run([sys.executable, "fit.py"], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(os.environ, KERAS_BACKEND="jax",
                                                JAX_ENABLE_X64="1", PYTHONPATH=path))
    assert result.returncode == 0, result.stderr[-3000:]
    end = np.load(tmp_path / "end.npz")
    # XLA under JAX computes this float64 fit to about 1e-6 of TensorFlow's, without drift
    np.testing.assert_allclose(end["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(end["val_loss"], expected["val_loss"], rtol=1e-5)
    for i, theirs in enumerate(plain.get_weights()):
        np.testing.assert_allclose(end[f"arr_{i}"], theirs, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_each_epoch_trains_on_a_fresh_permutation():
    stacks, _ = small_data(1)
    plain, ours = twin_models()
    history = training.fit(ours, stacks, fit_config(True), np.random.default_rng(7))
    expected = training.reference_fit(plain, stacks, fit_config(True), np.random.default_rng(7))
    assert_same_training(ours, plain, history, expected)


@pytest.mark.slow
def test_reference_fit_replays_the_permutations_it_is_given():
    # the oracle itself: one fit call per epoch on rng's permutation of the first 106 vectors,
    # the last 12 validating, written out here with Keras' fit
    stacks, x = small_data(1)
    plain, replayed = twin_models()
    draws = np.random.default_rng(7)
    train, validation = x[:106], x[106:]
    expected = {"loss": [], "val_loss": []}
    for _ in range(3):
        order = draws.permutation(106)
        epoch = plain.fit(train[order], train[order], batch_size=32, epochs=1, shuffle=False,
                          validation_data=(validation, validation), verbose=0).history
        for key in expected:
            expected[key] += epoch[key]
    history = training.reference_fit(replayed, stacks, fit_config(True),
                                     np.random.default_rng(7))
    assert_same_training(replayed, plain, history, expected)


def test_batches_split_off_the_smaller_last_batch():
    full, last = training.batches(np.arange(70), 32)
    assert full.tolist() == [list(range(32)), list(range(32, 64))]
    assert last.tolist() == list(range(64, 70))
    full, last = training.batches(np.arange(64), 32)
    assert full.shape == (2, 32) and len(last) == 0
