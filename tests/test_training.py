"""00_train.py's fit is Keras' fit(x, x, ...) on the stacked vectors, without the stacked copy."""
import importlib

import numpy as np

import common as com
import keras_model

train_script = importlib.import_module("00_train")


def test_same_batches_weights_and_losses_as_a_plain_fit():
    rng = np.random.default_rng(0)
    clips = [rng.normal(size=(n, 16)).astype(np.float32) for n in (40, 33, 51)]
    frames, starts, _ = com.frame_index(clips, n_frames=3)
    x = com.gather_vectors(frames, starts, 3)
    config = {"feature": {"n_frames": 3},
              "fit": {"epochs": 3, "batch_size": 32, "shuffle": False, "validation_split": 0.1,
                      "verbose": 0}}
    plain = keras_model.get_model(48, 0.01, jit_compile=False)
    ours = keras_model.get_model(48, 0.01, jit_compile=False)
    ours.set_weights(plain.get_weights())
    expected = plain.fit(x, x, batch_size=32, epochs=3, shuffle=False, validation_split=0.1,
                         verbose=0).history
    history = train_script.fit(ours, frames, starts, config, rng)
    # 118 vectors: the first floor(118 * 0.9) = 106 train in 4 batches, the last 12 validate
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], expected["val_loss"], rtol=1e-5)
    for mine, theirs in zip(ours.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


def test_shuffled_epochs_visit_every_training_vector_once():
    starts = np.arange(100)
    batches = train_script.FrameStackBatches(np.zeros((104, 2), np.float32), starts, 5, 32,
                                             True, np.random.default_rng(1))
    for _ in range(2):
        seen = np.concatenate([batches.order[i * 32:(i + 1) * 32] for i in range(len(batches))])
        assert len(batches) == 4 and sorted(seen) == list(range(100))
        first = batches.order.copy()
        batches.on_epoch_end()
        assert not np.array_equal(first, batches.order)
