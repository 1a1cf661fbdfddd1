"""The DCASE 2022 Task 2 baseline autoencoder (Keras 3, any backend)."""
from dcase_baseline.keras_backend import keras


def get_model(input_dim, lr, jit_compile="auto"):
    """Dense autoencoder input -> 4x128 -> 8 -> 4x128 -> input, compiled with Adam and MSE.

    Every hidden layer is Dense, BatchNormalization, ReLU with Keras defaults; for 640 inputs
    the model has 269,992 parameters. jit_compile (Keras' option) changes speed only.
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
                  jit_compile=jit_compile)
    return model


def load_model(path):
    """A saved model (.keras, or the original's .hdf5) ready for inference."""
    return keras.models.load_model(path, compile=False)
