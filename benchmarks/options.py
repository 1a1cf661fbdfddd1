"""The cost of the successor's options on a machine type shaped like one of 2022 (3000 clips of
313 frames, synthetic log-mels): a checkpoint of the training state against an epoch, and
score: mahalanobis against score: mse for 3000 clips.

    python -m benchmarks.options [--clips 3000] [--epochs 3]

Needs NumPy and Keras (any backend); prints a table.
"""
import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from dcase_baseline import checkpoints
from dcase_baseline import frame_stacks
import keras_model
from dcase_baseline import mahalanobis
from dcase_baseline import scoring
from dcase_baseline import training

FRAMES_PER_CLIP, N_MELS, N_FRAMES = 313, 128, 5


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    import keras
    rng = np.random.default_rng(0)
    log_mels = [rng.normal(-40, 10, (FRAMES_PER_CLIP, N_MELS)).astype(np.float32)
                for _ in range(args.clips)]
    stacks = frame_stacks.frame_index(log_mels, N_FRAMES, consume=True)
    fit_config = {"epochs": args.epochs, "batch_size": 512, "shuffle": True,
                  "validation_split": 0.1, "verbose": 0}
    # as 00_train.py trains this shape for the default 100 epochs
    xla = training.use_xla(len(stacks.starts), dict(fit_config, epochs=100))
    model = keras_model.get_model(stacks.dim, 0.001, jit_compile=xla)
    history = training.fit(model, stacks, fit_config, np.random.default_rng(0), xla)
    epoch = min(history["seconds"][1:])
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = checkpoints.Checkpoint(Path(folder) / "checkpoint.npz",
                                            {"fit": fit_config}, 1)
        saves = [timed(checkpoint.save, model, rng, 1, history)[0] for _ in range(5)]
    save = min(saves)
    domains = ["target" if i % 100 == 0 else "source" for i in range(stacks.n_clips)]
    warm_up = frame_stacks.frame_index([np.zeros((FRAMES_PER_CLIP, N_MELS), np.float32)],
                                       N_FRAMES)
    scoring.clip_scores(model, warm_up)         # traces the model's call once
    mse, _ = timed(scoring.clip_scores, model, stacks)
    statistics, (means, scatter) = timed(mahalanobis.clip_mean_residuals, model, stacks,
                                         domains)
    inverse, precision = timed(lambda: mahalanobis.precisions(
        mahalanobis.covariances(scatter), "bench", {d: s[2] for d, s in scatter.items()}))
    test, _ = timed(lambda: mahalanobis.scores(mahalanobis.clip_mean_residuals(
        model, stacks)[0], precision))
    rows = [
        ("training epoch", f"{epoch:.1f} s", f"{len(stacks.starts)} vectors", ""),
        ("checkpoint of the training state", f"{1000 * save:.0f} ms",
         f"{100 * save / (10 * epoch):.2f} % of 10 epochs (fit.checkpoint_epochs: 10)",
         f"< 5 %: {'met' if save < 0.05 * 10 * epoch else 'NOT met'}"),
        (f"score: mse, {stacks.n_clips} clips", f"{mse:.1f} s", "", ""),
        (f"score: mahalanobis, training pass, {stacks.n_clips} clips", f"{statistics:.1f} s",
         "mean residuals and both domains' covariances", ""),
        ("score: mahalanobis, covariances inverted", f"{1000 * inverse:.0f} ms", "", ""),
        (f"score: mahalanobis, {stacks.n_clips} test clips", f"{test:.1f} s",
         f"{test / mse:.2f}x score: mse", ""),
    ]
    width = [max(len(r[i]) for r in rows + [("phase", "time", "comparison", "goal")])
             for i in range(4)]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"Keras {keras.__version__} ({keras.backend.backend()} backend)\n")
    header = ("phase", "time", "comparison", "goal")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(header, width)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in width) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, width)) + " |")


if __name__ == "__main__":
    main()
