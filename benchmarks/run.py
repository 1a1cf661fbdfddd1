"""Speed and memory of the baseline, measured against the plain Keras way and the original.

    python -m benchmarks.run            # the 2022 shape: 3000 training clips of 10 s, 600 test
    python -m benchmarks.run --small    # 300 training clips, a quick look
    python -m benchmarks.run --gpu      # 100 epochs of the 2022 shape under JAX on a GPU

Generates the data once (under --work, default benchmarks/work), then times feature extraction
(one process, all cores, cache cold and warm), training steps (ours against a plain
model.fit(x, x, batch_size=512) of the same model), scoring (many clips per call against one
predict call per clip), and both scripts end to end as whole processes with their peak memory,
next to the original baseline (../shared/reference/original) on a 300-clip machine type,
and how long the first epoch of a JAX run takes when an earlier run filled the compilation
cache. Prints one table and writes it as JSON (--out).

--gpu needs NumPy, JAX and Keras only (benchmarks/jax_epochs.py): it runs on a bare GPU
machine, and on a machine without a GPU says so and exits.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = ROOT.parent / "shared" / "reference" / "original"

from dcase_baseline import configuration
from dcase_baseline import frame_stacks

SECTIONS = {"00": 1.0, "01": 1.2, "02": 1.4}
SHAPES = {   # clips per section: train source/target normals; test normals = anomalies per domain
    "2022": {"train": {"source": 990, "target": 10}, "test": {"source": 50, "target": 50}},
    "300": {"train": {"source": 95, "target": 5}, "test": {"source": 10, "target": 10}},
}
# the features of baseline.yaml as a run takes them (the channel resolved for its year)
FEATURE = configuration.effective(ROOT / "baseline.yaml").config["feature"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")


def dataset(work, shape):
    """The generated machine type 'bench' of one shape, made once and reused."""
    from demo import make_demo_data
    folder = work / f"data_{shape}"
    if not (folder / "complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating the {shape}-clip data set in {folder} ...", flush=True)
        make_demo_data.make_dataset(folder, seconds=10.0, machines={"bench": 60.0},
                                    sections=SECTIONS, counts=SHAPES[shape], n_jobs=-1,
                                    vary_length=False)
        (folder / "complete").write_text("")
    return folder


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def run_measured(command, cwd, log_name):
    """Wall time, peak RSS of the whole process tree (bytes) and exit status of a command."""
    import psutil
    with open(Path(cwd) / log_name, "w") as log:
        start = time.perf_counter()
        process = psutil.Popen(command, cwd=cwd, env=ENV, stdout=log, stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            try:
                tree = [process] + process.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)
        return time.perf_counter() - start, peak, process.returncode


def write_config(folder, data, epochs, original=False):
    config = yaml.safe_load((ROOT / "baseline.yaml").read_text())
    config.update(dev_directory=str(data), model_directory="./model",
                  result_directory="./result")
    config["fit"].update(epochs=epochs, verbose=0)
    if original:
        config = {k: v for k, v in config.items() if k not in ("cache", "seed", "log_file")}
    else:
        config["cache"]["directory"] = "./cache"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "baseline.yaml").write_text(yaml.safe_dump(config))


def read_clips(data):
    """Read every clip once, so that each run finds them in the page cache, not on disk."""
    for path in Path(data).rglob("*.wav"):
        path.read_bytes()


def end_to_end(work, data, name, scripts, epochs=1, original=False):
    """Both scripts of one implementation in a fresh folder (fresh cache): seconds and peak RSS."""
    read_clips(data)
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    write_config(folder, data, epochs, original)
    figures = {}
    for script in ("00_train.py", "01_test.py"):
        wall, peak, code = run_measured([sys.executable, str(scripts / script), "-d"], folder,
                                        f"{script}.log")
        if code != 0:
            raise SystemExit(f"{scripts / script} failed, see {folder / (script + '.log')}")
        figures[script] = {"seconds": wall, "peak_rss_gb": peak / 1e9}
    return figures


def total_seconds(figures):
    return sum(script["seconds"] for script in figures.values())


def feature_figures(train_files, work):
    """Log-mel extraction of the training clips: one process, all cores, the cache cold and warm."""
    from dcase_baseline import features
    for path in train_files:          # every variant then reads the clips from the page cache
        Path(path).read_bytes()
    cores = os.cpu_count()
    started, _ = timed(features.clip_log_mels, train_files[:64], FEATURE, workers=cores,
                       desc="pool start")
    pooled, pooled_mels = timed(features.clip_log_mels, train_files, FEATURE, workers=cores,
                                desc="all cores")
    single, single_mels = timed(features.clip_log_mels, train_files, FEATURE, workers=0,
                                desc="one process")
    shutil.rmtree(work / "feature_cache", ignore_errors=True)
    cold, _ = timed(features.clip_log_mels, train_files, FEATURE, work / "feature_cache",
                    desc="cache cold")
    warm, (log_mels, _, _) = timed(features.clip_log_mels, train_files, FEATURE,
                                   work / "feature_cache", desc="cache warm")
    difference = max(float(np.abs(a - b).max())
                     for a, b in zip(single_mels.log_mels, pooled_mels.log_mels))
    return {"clips": len(train_files), "one_process_s": single, "all_cores_s": pooled,
            "pool_start_and_64_clips_s": started, "speedup": single / pooled,
            "cache_cold_s": cold, "cache_warm_s": warm,
            "max_abs_difference_db": difference}, log_mels


def step_times(log_mels):
    """ms per training step (validation pass included) of a plain fit and of training.fit,
    on all training vectors."""
    import keras_model
    from dcase_baseline import training
    from dcase_baseline.keras_backend import keras
    stacks = frame_stacks.frame_index(log_mels, FEATURE["n_frames"])
    epochs = 3
    fit_config = dict(configuration.DEFAULT_CONFIG["fit"], epochs=epochs, verbose=0)
    n_steps = int(np.ceil(np.floor(len(stacks.starts) * 0.9) / 512))

    class EpochTimes(keras.callbacks.Callback):
        seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    x = stacks.vectors(stacks.starts)
    plain_model = keras_model.get_model(x.shape[1], 0.001, jit_compile="auto")
    plain_model.fit(x, x, batch_size=512, epochs=epochs, shuffle=True, validation_split=0.1,
                    verbose=0, callbacks=[EpochTimes()])
    del x, plain_model
    # epoch 1 includes compilation
    plain = 1000 * min(EpochTimes.seconds[1:]) / n_steps
    # as 00_train.py trains for the default 100 epochs of this data
    xla = training.use_xla(len(stacks.starts), dict(fit_config, epochs=100))
    model = keras_model.get_model(stacks.dim, 0.001, jit_compile=xla)
    seconds = training.fit(model, stacks, fit_config, np.random.default_rng(0), xla)["seconds"]
    ours = 1000 * min(seconds[1:]) / n_steps
    return {"vectors": len(stacks.starts), "steps_per_epoch": n_steps, "plain_fit_ms": plain,
            "ours_ms": ours, "ratio": ours / plain, "backend": keras.backend.backend()}, model


def scoring_figures(model, log_mels, per_clip_sample):
    """All clips scored by scoring.clip_scores against one model.predict call per clip (the
    original's way), each timed after one warm-up call (the tracing of the model's function is
    paid once per run), the faster of two runs each."""
    from dcase_baseline import scoring
    def batched_scores(log_mels):
        return scoring.clip_scores(model, frame_stacks.frame_index(log_mels, FEATURE["n_frames"]))

    def clip_vectors(log_mel):
        stacks = frame_stacks.frame_index([log_mel], FEATURE["n_frames"])
        return stacks.vectors(stacks.starts)

    batched_scores(log_mels[:1])
    batched, scores = min((timed(batched_scores, log_mels) for _ in range(2)),
                          key=lambda run: run[0])
    sample = log_mels[:per_clip_sample]
    model.predict(clip_vectors(sample[0]), verbose=0)

    def one_call_per_clip():
        return np.array([np.mean(np.square(
            np.array(clip_vectors(m), dtype=np.float64)
            - model.predict(clip_vectors(m), verbose=0))) for m in sample])

    seconds, reference = min((timed(one_call_per_clip) for _ in range(2)), key=lambda run: run[0])
    per_clip_total = seconds / len(sample) * len(log_mels)
    return {"clips": len(log_mels), "batched_s": batched,
            "one_call_per_clip_s_extrapolated": per_clip_total,
            "speedup": per_clip_total / batched,
            "max_relative_difference": float(np.max(np.abs(scores[:len(sample)] - reference)
                                                    / np.abs(reference)))}


def jax_runs(work, clips, epochs, *options, runs=2):
    """benchmarks/jax_epochs.py run after run in fresh processes sharing a new compilation
    cache: the first pays the compilation, the later ones find it in the cache."""
    cache = work / "jax_compilation_cache"
    shutil.rmtree(cache, ignore_errors=True)
    figures = []
    for _ in range(runs):
        run = subprocess.run([sys.executable, "-m", "benchmarks.jax_epochs",
                              "--clips", str(clips), "--epochs", str(epochs), "--cache",
                              str(cache), *options], env=dict(ENV, KERAS_BACKEND="jax"),
                             cwd=ROOT, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"jax_epochs.py failed:\n{run.stderr[-3000:]}")
        figures.append(json.loads(run.stdout.strip().splitlines()[-1]))
    return figures


def gpu_line(args):
    """The 100-epoch line on a GPU under JAX, merged into --out; 'not measured' without one."""
    import jax
    if not any(d.platform == "gpu" for d in jax.devices()):
        print(f"GPU: not measured (JAX sees {', '.join(d.platform for d in jax.devices())} "
              f"only)")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    cold, warm = jax_runs(args.work, 3000, 100, "--validation-share")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["gpu"] = {"cold_cache": cold, "warm_cache": warm}
    args.out.write_text(json.dumps(results, indent=2))
    for name, run in (("compilation cache empty", cold), ("compilation cache filled", warm)):
        print(f"{run['device']}, {name}: 100 epochs {run['fit_s']:.1f} s (first epoch "
              f"{run['first_epoch_s']:.1f} s, then {run['epoch_s']:.3f} s per epoch, of which "
              f"validation {run['epoch_s'] - run['epoch_without_validation_s']:.3f} s); "
              f"scoring {run['clips']} clips {run['scoring_s']:.2f} s")
    print(f"figures -> {args.out}")


def table(results):
    f, s, sc = results["features"], results["training_step"], results["scoring"]
    e2e, e2e_big = results["end_to_end_300"], results.get("end_to_end_big")
    rows = [
        ("features, one process", f"{f['one_process_s']:.1f} s", f"{f['clips']} clips", ""),
        ("features, all cores", f"{f['all_cores_s']:.1f} s", f"{f['speedup']:.2f}x one process",
         ok(f["speedup"] >= 1.7, ">= 1.7x")),
        ("features, cache cold / warm", f"{f['cache_cold_s']:.1f} / {f['cache_warm_s']:.1f} s",
         f"max diff {f['max_abs_difference_db']:.1e} dB", ok(f["max_abs_difference_db"] <= 1e-4,
                                                             "<= 1e-4 dB")),
        ("training step, plain fit", f"{s['plain_fit_ms']:.1f} ms", f"{s['backend']} backend", ""),
        ("training step, ours", f"{s['ours_ms']:.1f} ms", f"{s['ratio']:.2f}x plain fit",
         ok(s["ratio"] <= 0.6, "<= 0.6x")),
        (f"scoring {sc['clips']} clips, batched", f"{sc['batched_s']:.1f} s",
         f"{sc['speedup']:.0f}x one call per clip", ok(sc["speedup"] >= 45, ">= 45x")),
        ("scoring, one call per clip", f"{sc['one_call_per_clip_s_extrapolated']:.0f} s",
         f"max rel diff {sc['max_relative_difference']:.1e}",
         ok(sc["max_relative_difference"] <= 1e-5, "<= 1e-5")),
    ]
    if results["shape"] == "2022":
        rows.append(("scoring 3000 clips of 10 s", f"{sc['batched_s']:.1f} s", "",
                     ok(sc["batched_s"] <= 8, "<= 8 s")))
    if e2e_big:
        train, test = e2e_big["00_train.py"], e2e_big["01_test.py"]
        rows += [("00_train.py -d, 3000 clips, 1 epoch", f"{train['seconds']:.0f} s",
                  f"peak RSS {train['peak_rss_gb']:.2f} GB", ok(train["peak_rss_gb"] <= 2,
                                                                "<= 2 GB")),
                 ("01_test.py -d, 600 clips", f"{test['seconds']:.0f} s",
                  f"peak RSS {test['peak_rss_gb']:.2f} GB", "")]
    ours = total_seconds(e2e["ours"])
    line = ("end to end, 300 clips, 1 epoch", f"{ours:.0f} s")
    if "original" in e2e:
        theirs = total_seconds(e2e["original"])
        peak = max(v["peak_rss_gb"] for v in e2e["original"].values())
        rows.append(line + (f"original {theirs:.0f} s ({ours / theirs:.3f}x), best of 3",
                            ok(ours / theirs <= 0.30, "<= 0.30x")))
        rows.append(("  peak RSS ours / original",
                     f"{max(v['peak_rss_gb'] for v in e2e['ours'].values()):.2f} GB",
                     f"{peak:.2f} GB", ""))
    else:
        rows.append(line + ("original not run", "not measured"))
    if "jax_compile" in results:
        cold, warm = results["jax_compile"]
        rows.append((f"JAX on {cold['device'].split(':')[0].upper()}, {cold['vectors'] // 1000}k "
                     f"vectors: first epoch / epoch", f"{cold['first_epoch_over_epoch']:.2f}x",
                     f"{warm['first_epoch_over_epoch']:.2f}x with the compilation cache filled",
                     ok(warm["first_epoch_over_epoch"] <= 1.5, "<= 1.5x")))
    gpu = results.get("gpu")
    if gpu:
        run = gpu["cold_cache"]
        rows.append((f"GPU ({run['device']}): 100 epochs, JAX", f"{run['fit_s']:.0f} s",
                     f"first epoch {run['first_epoch_s']:.1f} s, epoch {run['epoch_s']:.2f} s",
                     ok(run["fit_s"] <= 30 and run["compile_s"] <= 5, "<= 30 s, compile <= 5 s")))
    else:
        rows.append(("GPU: 100 epochs, 927k x 640, JAX", "not measured",
                     "no GPU lent to this run", "<= 30 s, compile <= 5 s"))
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(r, width)) + " |"
                     for r in [("phase", "time", "comparison", "goal")] + rows)


def ok(met, goal):
    return f"{goal}: {'met' if met else 'NOT met'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="300 training clips instead of 3000")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--skip-original", action="store_true",
                        help="do not run the original baseline")
    parser.add_argument("--gpu", action="store_true",
                        help="only the 100-epoch JAX line, on a GPU (needs no librosa or "
                             "TensorFlow)")
    args = parser.parse_args()
    if args.gpu:
        return gpu_line(args)
    import psutil

    from dcase_baseline import clips, years
    args.work.mkdir(parents=True, exist_ok=True)
    shape = "300" if args.small else "2022"
    data = dataset(args.work, shape)
    small = dataset(args.work, "300")
    train_files = clips.train_files(data / "bench", True, years.YEARS[years.DEFAULT_YEAR])

    results = {"shape": shape, "machine": f"{platform.processor() or platform.machine()}, "
               f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
               "python": platform.python_version()}
    # the whole-process runs first, while this process is still small
    if not args.small:
        print("end to end, 3000 clips ...", flush=True)
        results["end_to_end_big"] = end_to_end(args.work, data, "e2e_ours_big", ROOT)
    # alternately, three times each, keeping each one's fastest run: this VM's timings vary by
    # 10-40 %
    runs = {"ours": [], "original": []}
    for attempt in range(3):
        print(f"end to end, 300 clips, run {attempt + 1} of 3 ...", flush=True)
        runs["ours"].append(end_to_end(args.work, small, "e2e_ours_300", ROOT))
        if not args.skip_original and ORIGINAL.exists():
            runs["original"].append(end_to_end(args.work, small, "e2e_original_300", ORIGINAL,
                                               original=True))
    results["end_to_end_300"] = {name: min(figures, key=total_seconds)
                                 for name, figures in runs.items() if figures}
    print("JAX, compilation cache ...", flush=True)
    results["jax_compile"] = jax_runs(args.work, len(train_files), 3)
    print("features ...", flush=True)
    results["features"], log_mels = feature_figures(train_files, args.work)
    print("training steps ...", flush=True)
    results["training_step"], model = step_times(log_mels)
    print("scoring ...", flush=True)
    import keras_model
    model.save(args.work / "scoring_model.keras")    # scored as 01_test.py loads it
    results["scoring"] = scoring_figures(keras_model.load_model(args.work / "scoring_model.keras"),
                                         log_mels, per_clip_sample=60)
    import keras
    results["keras"] = f"{keras.__version__} ({keras.backend.backend()} backend)"
    if args.out.exists():       # a GPU line measured elsewhere stays
        results.setdefault("gpu", json.loads(args.out.read_text()).get("gpu"))
    text = table(results)
    results["table"] = text
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\n{results['machine']}, Python {results['python']}, Keras {results['keras']}\n")
    print(text)
    print(f"\nfigures -> {args.out}")


if __name__ == "__main__":
    main()
