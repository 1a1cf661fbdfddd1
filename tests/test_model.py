"""The network: parameter count, layer widths, saving and loading."""
import numpy as np
import pytest

import keras_model


def test_parameter_count_and_layers():
    model = keras_model.get_model(640, 0.001)
    assert model.count_params() == 269_992
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 267_928
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense == [128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
    norms = [layer for layer in model.layers if layer.__class__.__name__ == "BatchNormalization"]
    assert len(norms) == 9 and all(n.momentum == 0.99 and n.epsilon == 1e-3 for n in norms)
    assert model.loss == "mean_squared_error"
    assert float(model.optimizer.learning_rate) == np.float32(0.001)


@pytest.mark.slow
def test_saved_model_predicts_the_same(tmp_path):
    model = keras_model.get_model(40, 0.01)
    x = np.random.default_rng(0).normal(size=(64, 40)).astype(np.float32)
    model.fit(x, x, epochs=1, batch_size=16, verbose=0)
    for name in ("model.keras", "model.hdf5"):
        model.save(tmp_path / name)
        loaded = keras_model.load_model(tmp_path / name)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-5)
