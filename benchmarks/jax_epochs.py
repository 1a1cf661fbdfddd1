"""training.fit under JAX on synthetic frames shaped like one 2022 machine type, timed
by phase: the GPU line of the benchmark, and the compilation cache's effect on any machine.

    python -m benchmarks.jax_epochs [--clips 3000] [--epochs 100] [--cache DIR] [--validation-share]

Needs NumPy, JAX and Keras only (no librosa, no TensorFlow), so that it runs on a bare GPU
machine. Prints one JSON object: the device, the first epoch (compilation included), an
ordinary epoch with and without its validation pass, the whole fit, and the scoring of every
clip.
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

from dcase_baseline import frame_stacks
import keras_model
import numpy as np
from dcase_baseline import scoring

FRAMES_PER_CLIP = 313       # a 10 s clip at 16 kHz, hop 512
N_MELS, N_FRAMES = 128, 5


def fit_once(stacks, epochs, validation_split):
    """(history of training.fit, the trained model)."""
    from dcase_baseline import training
    fit_config = {"epochs": epochs, "batch_size": 512, "shuffle": True,
                  "validation_split": validation_split, "verbose": 0}
    model = keras_model.get_model(stacks.dim, 0.001)
    return training.fit(model, stacks, fit_config, np.random.default_rng(0), xla=True), model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--cache", type=Path, help="JAX's persistent compilation cache folder")
    parser.add_argument("--validation-share", action="store_true",
                        help="also time epochs without validation (a second, short fit)")
    args = parser.parse_args()
    import jax
    import keras
    if args.cache:
        jax.config.update("jax_compilation_cache_dir", str(args.cache.resolve()))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    rng = np.random.default_rng(0)
    log_mels = [rng.normal(-40, 10, (FRAMES_PER_CLIP, N_MELS)).astype(np.float32)
                for _ in range(args.clips)]
    stacks = frame_stacks.frame_index(log_mels, N_FRAMES, consume=True)
    start = time.perf_counter()
    history, model = fit_once(stacks, args.epochs, 0.1)
    total = time.perf_counter() - start
    seconds = history["seconds"]
    ordinary = statistics.median(seconds[1:]) if len(seconds) > 1 else None
    without_validation = fit_once(stacks, 3, 0.0)[0]["seconds"] if args.validation_share else None
    scoring.clip_scores(model, stacks)          # compiles the model's call for both batch shapes
    start = time.perf_counter()
    scoring.clip_scores(model, stacks)
    scored = time.perf_counter() - start
    device = jax.devices()[0]
    print(json.dumps({
        "device": f"{device.platform}: {getattr(device, 'device_kind', device)}",
        "jax": jax.__version__, "keras": keras.__version__,
        "clips": args.clips, "vectors": len(stacks.starts), "epochs": args.epochs,
        "fit_s": total, "first_epoch_s": seconds[0], "epoch_s": ordinary,
        "compile_s": seconds[0] - ordinary if ordinary else None,
        "first_epoch_over_epoch": seconds[0] / ordinary if ordinary else None,
        "epoch_without_validation_s": (statistics.median(without_validation[1:])
                                       if without_validation else None),
        "scoring_s": scored}))


if __name__ == "__main__":
    main()
