"""The DCASE 2022 Task 2 baseline autoencoder (Keras 3, any backend)."""
import keras


def xla_default():
    """XLA roughly halves step and inference time on CPU with TensorFlow and JAX; torch runs eager."""
    return keras.backend.backend() in ("tensorflow", "jax")


def get_model(input_dim, lr, jit_compile=None, steps_per_execution=1):
    """Dense autoencoder input -> 4x128 -> 8 -> 4x128 -> input, compiled with Adam and MSE.

    Every hidden layer is Dense, BatchNormalization, ReLU with Keras defaults; for 640 inputs
    the model has 269,992 parameters. jit_compile (default: xla_default()) and
    steps_per_execution change speed only.
    """
    x = keras.Input(shape=(input_dim,))
    h = x
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        h = keras.layers.Dense(units)(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Activation("relu")(h)
    y = keras.layers.Dense(input_dim)(h)
    model = keras.Model(inputs=x, outputs=y)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mean_squared_error",
                  jit_compile=xla_default() if jit_compile is None else jit_compile,
                  steps_per_execution=steps_per_execution)
    return model


def load_model(path):
    """A saved model (.keras, or the original's .hdf5) ready for inference."""
    model = keras.models.load_model(path, compile=False)
    model.jit_compile = xla_default()
    return model
