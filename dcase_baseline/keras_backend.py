"""Keras, imported once and quietly: every module that needs Keras takes it from here
(`from dcase_baseline.keras_backend import keras`), so that whichever imports it first, Keras
comes without TensorFlow's C++ start-up messages (cuInit failures on machines without a GPU,
CPU features, oneDNN) and without its "retracing" warnings, unless the user set
TF_CPP_MIN_LOG_LEVEL below 3 to see them.

Importing this module takes seconds: the scripts import it (or training.py, which imports it)
only after checking the command line and the configuration, so that -h and mistakes are
answered at once, and while the first machine type's features are being computed.
"""
import contextlib
import importlib.util
import logging
import os
import sys
import warnings

from dcase_baseline import filenames


@contextlib.contextmanager
def _stderr_silenced():
    """Send what C++ code writes to the standard error into /dev/null for the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _quiet():
    """The context of a quiet import; absl prints some messages before it reads
    TF_CPP_MIN_LOG_LEVEL."""
    quiet = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3") == "3"
    return _stderr_silenced() if quiet else contextlib.nullcontext()


with _quiet():
    import keras
logging.getLogger("tensorflow").setLevel(logging.ERROR)
# Keras' compile(jit_compile=True) says "Model doesn't support `jit_compile=True`" where it
# turns XLA off for its own predict (TensorFlow's op determinism, which a seed sets, rules XLA
# out in recent versions); the training epochs are compiled with XLA apart from that
# (training.tensorflow_epoch), so the warning would mislead.
warnings.filterwarnings("ignore", message="Model doesn't support `jit_compile=True`",
                        category=UserWarning)


def import_tensorflow():
    """Import TensorFlow, where installed, as quietly, under another backend too: Keras
    imports it there to seed and to save a model, and its messages would then come through."""
    if importlib.util.find_spec("tensorflow"):
        with _quiet():
            import tensorflow  # noqa: F401
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def use_compilation_cache(config):
    """Under JAX, keep compiled programs in the feature cache folder (when the cache is on), so
    that a rerun on the same shapes loads them instead of compiling again."""
    if keras.backend.backend() == "jax" and config["cache"]["enabled"]:
        import jax
        folder = filenames.compilation_cache_folder(config["cache"]["directory"])
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
