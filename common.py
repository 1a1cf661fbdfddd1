"""Shared pieces of the DCASE 2022 Task 2 autoencoder baseline.

File names and lists, configuration, features, scoring, metrics and output writing. Nothing here
runs at import time and nothing here imports Keras: the feature workers start quickly and the
metrics can be used without a deep-learning backend.
"""
import argparse
import contextlib
import copy
import csv
import functools
import hashlib
import json
import logging
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

import joblib
import librosa
import numpy as np
import soundfile
import yaml
from tqdm import tqdm

__version__ = "2.0.0"

log = logging.getLogger("baseline")

EPS = sys.float_info.epsilon

METRIC_NAMES = ["AUC (source)", "AUC (target)", "pAUC",
                "precision (source)", "precision (target)",
                "recall (source)", "recall (target)",
                "F1 score (source)", "F1 score (target)"]


class BaselineError(Exception):
    """A problem with the user's data, configuration or files; the message says what to do."""


class BadClipError(BaselineError):
    """A clip that cannot be decoded."""


def parse_args(description, argv=None, test_script=False):
    """Parse the command line shared by both scripts; exit as the original does without a mode."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-v", "--version", action="store_true", help="show the version")
    parser.add_argument("-d", "--dev", action="store_true", help="development mode (dev_directory)")
    parser.add_argument("-e", "--eval", action="store_true", help="evaluation mode (eval_directory)")
    parser.add_argument("-c", "--config", default="baseline.yaml",
                        help="configuration file (default: baseline.yaml in the current folder)")
    parser.add_argument("-m", "--machine", nargs="+", metavar="NAME",
                        help="only these machine types (default: every machine folder)")
    parser.add_argument("--seed", type=int, help="seed Python, NumPy and Keras (overrides seed:)")
    parser.add_argument("--skip-bad-files", action="store_true",
                        help="log and skip clips that cannot be read instead of stopping")
    if test_script:
        parser.add_argument("--ground-truth", metavar="DIR",
                            help="with -e: the official evaluator's ground truth folder; "
                                 "writes result.csv for the evaluation set")
    else:
        parser.add_argument("--force", action="store_true",
                            help="retrain and overwrite models that already exist")
    args = parser.parse_args(argv)
    if args.version:
        print("===============================")
        print(f"DCASE 2022 task 2 baseline\nversion {__version__}")
        print("===============================\n")
    if args.dev == args.eval:
        if args.version and not args.dev:
            sys.exit(0)
        print("incorrect argument")
        print("please set option argument '--dev' or '--eval'")
        sys.exit(1)
    if test_script and args.ground_truth and not args.eval:
        parser.error("--ground-truth goes with -e/--eval")
    return args


DEFAULT_CONFIG = {
    "dev_directory": "../dev_data",
    "eval_directory": "../eval_data",
    "model_directory": "./model",
    "result_directory": "./result",
    "result_file": "result.csv",
    "max_fpr": 0.1,
    "decision_threshold": 0.9,
    "feature": {"n_mels": 128, "n_frames": 5, "n_hop_frames": 1, "n_fft": 1024,
                "hop_length": 512, "power": 2.0},
    "fit": {"lr": 0.001, "epochs": 100, "batch_size": 512, "shuffle": True,
            "validation_split": 0.1, "verbose": 1},
    "cache": {"enabled": True, "directory": "./cache"},
    "seed": None,
    "log_file": "baseline.log",
}

# key -> (test of the value, what the key expects); keys absent here only need the default's type
CONFIG_RULES = {
    "max_fpr": (lambda v: 0 < v <= 1, "a number in (0, 1]"),
    "decision_threshold": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "feature.n_mels": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_frames": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_hop_frames": (lambda v: v >= 1, "an integer >= 1"),
    "feature.n_fft": (lambda v: v >= 1, "an integer >= 1"),
    "feature.hop_length": (lambda v: v >= 1, "an integer >= 1"),
    "feature.power": (lambda v: v > 0, "a number > 0"),
    "fit.lr": (lambda v: v > 0, "a number > 0"),
    "fit.epochs": (lambda v: v >= 1, "an integer >= 1"),
    "fit.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "fit.validation_split": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "fit.verbose": (lambda v: v in (0, 1, 2), "0, 1 or 2"),
    "seed": (lambda v: v is None or v >= 0, "empty or an integer >= 0"),
}


def _type_ok(value, default):
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    return value is None or (isinstance(value, int) and not isinstance(value, bool))  # seed


def _type_name(default):
    return {bool: "true or false", int: "an integer", float: "a number",
            str: "a text"}.get(type(default), "empty or an integer")


def _merge_config(loaded, defaults, path, prefix, notes):
    merged = {}
    for key in loaded:
        if key not in defaults:
            raise BaselineError(f"{path}: unknown key '{prefix}{key}'; "
                                f"expected keys are {', '.join(prefix + k for k in defaults)}")
    for key, default in defaults.items():
        name = prefix + key
        if key not in loaded:
            notes.append(f"{path}: key '{name}' is missing, using the default {default!r}")
            merged[key] = copy.deepcopy(default)
            continue
        value = loaded[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise BaselineError(f"{path}: key '{name}' must be a mapping of "
                                    f"{', '.join(default)}, got {value!r}")
            merged[key] = _merge_config(value, default, path, name + ".", notes)
            continue
        test, expected = CONFIG_RULES.get(name, (lambda v: True, _type_name(default)))
        if not _type_ok(value, default) or not test(value):
            raise BaselineError(f"{path}: key '{name}' must be {expected}, got {value!r}")
        merged[key] = float(value) if isinstance(default, float) else value
    return merged


def load_config(path):
    """Read and check the YAML configuration; returns (config, notes about missing keys)."""
    try:
        with open(path) as stream:
            loaded = yaml.safe_load(stream)
    except FileNotFoundError:
        raise BaselineError(f"configuration file not found: {path}; run from the folder that "
                            f"holds baseline.yaml or pass -c PATH") from None
    except (OSError, yaml.YAMLError) as error:
        raise BaselineError(f"cannot read configuration {path}: "
                            f"{' '.join(str(error).split())}") from None
    if not isinstance(loaded, dict):
        raise BaselineError(f"{path}: expected a mapping of keys such as dev_directory, "
                            f"feature and fit, got {loaded!r}")
    notes = []
    return _merge_config(loaded, DEFAULT_CONFIG, path, "", notes), notes


def setup_logging(log_file):
    """Log to the console and, as the original does, to a log file."""
    log.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s - %(levelname)s - %(message)s")
    handlers = [logging.StreamHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)


def seed_everything(seed):
    """Seed Python, NumPy and the Keras backend; also makes TensorFlow's CPU ops deterministic."""
    import keras
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_main(main):
    """Run a script's main(); a BaselineError ends it with its one-line message and exit 1.

    SIGTERM is handled like Ctrl-C, so that a killed run removes its temporary files too.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main()
    except BaselineError as error:
        log.error(str(error))
        sys.exit(1)
    except KeyboardInterrupt:
        log.error("interrupted: finished files are kept, rerun to continue")
        sys.exit(130)


CLIP_NAME = re.compile(
    r"section_(?P<section>\d\d)_"
    r"(?:(?P<domain>source|target)_)?"
    r"(?:(?P<split>train|test)_)?"
    r"(?:(?P<label>normal|anomaly)_)?"
    r"(?P<index>\d+)"
    r"(?:_(?P<attributes>.*))?\.wav")


def parse_clip_name(file_name):
    """The fields of a DCASE clip name, or None when the base name does not follow the scheme.

    Development: section_00_source_train_normal_0000_<attributes>.wav (attributes may be empty)
    Evaluation test: section_03_test_0000.wav (the official ground truth omits "test_")
    """
    match = CLIP_NAME.fullmatch(os.path.basename(file_name))
    return match.groupdict() if match else None


def ground_truth_key(file_name):
    """Name under which an evaluation clip is matched with the official ground truth."""
    fields = parse_clip_name(file_name)
    if fields is None:
        return os.path.basename(file_name)
    return f"section_{fields['section']}_{int(fields['index']):04d}"


def machine_dirs(root, mode_name, machines=None):
    """Sorted machine folders under the data root, optionally only the named ones."""
    root = Path(root)
    if not root.is_dir():
        raise BaselineError(f"{mode_name} folder not found: {root}; expected "
                            f"{root}/<machine>/train/*.wav and {root}/<machine>/test/*.wav "
                            f"(set it in the configuration)")
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not dirs:
        raise BaselineError(f"no machine folders in {root}; expected {root}/<machine>/train and "
                            f"{root}/<machine>/test")
    if machines:
        names = [d.name for d in dirs]
        unknown = [m for m in machines if m not in names]
        if unknown:
            raise BaselineError(f"unknown machine type {', '.join(unknown)} in {root}; "
                                f"available: {', '.join(names)}")
        dirs = [d for d in dirs if d.name in machines]
    return dirs


def _clips(folder):
    """(path, fields) of the clips in a folder that follow the naming scheme, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BaselineError(f"folder not found: {folder}; each machine folder needs train/ and "
                            f"test/ with section_XX_*.wav clips")
    clips = []
    for path in sorted(folder.glob("*.wav")):
        fields = parse_clip_name(path.name)
        if fields is None:
            log.warning("ignoring %s: its name does not follow section_XX_..._NNNN_*.wav", path)
        else:
            clips.append((path, fields))
    if not clips:
        raise BaselineError(f"no clips in {folder}: expected files named like "
                            f"section_00_source_train_normal_0000_<attributes>.wav")
    return clips


def train_files(machine_dir, dev):
    """Training clips of a machine, sorted: the normal ones in development mode, all in eval."""
    clips = _clips(Path(machine_dir) / "train")
    files = [path for path, fields in clips if not dev or fields["label"] == "normal"]
    if not files:
        raise BaselineError(f"no normal training clips in {Path(machine_dir) / 'train'}: "
                            f"expected section_XX_<source|target>_train_normal_NNNN_*.wav")
    return files


def section_names(machine_dir):
    """Sorted section names ("section_00", ...) found in a machine's test folder."""
    clips = _clips(Path(machine_dir) / "test")
    return sorted({"section_" + fields["section"] for _, fields in clips})


def test_files(machine_dir, section, dev):
    """Test clips of a section: (paths, labels, domains).

    Development: sorted normals (label 0) then sorted anomalies (label 1), with the domain from
    the name. Evaluation: every clip of the section, sorted, with labels and domains None.
    """
    number = section.split("_", 1)[1]
    clips = [(p, f) for p, f in _clips(Path(machine_dir) / "test") if f["section"] == number]
    if not dev:
        return [p for p, _ in clips], None, None
    normal = [(p, f) for p, f in clips if f["label"] == "normal"]
    anomaly = [(p, f) for p, f in clips if f["label"] == "anomaly"]
    ordered = normal + anomaly
    if not ordered:
        raise BaselineError(f"no labelled clips of {section} in {Path(machine_dir) / 'test'}: "
                            f"expected {section}_<source|target>_test_<normal|anomaly>_NNNN_*.wav")
    labels = np.array([0] * len(normal) + [1] * len(anomaly))
    domains = np.array([f["domain"] for _, f in ordered])
    return [p for p, _ in ordered], labels, domains


def model_file(model_dir, machine):
    return Path(model_dir) / f"model_{machine}.keras"


def legacy_model_file(model_dir, machine):
    """Where the original baseline saved its model."""
    return Path(model_dir) / f"model_{machine}.hdf5"


def score_distr_file(model_dir, machine):
    return Path(model_dir) / f"score_distr_{machine}.pkl"


def history_file(model_dir, machine):
    return Path(model_dir) / f"history_{machine}.png"


def anomaly_score_file(result_dir, machine, section):
    return Path(result_dir) / f"anomaly_score_{machine}_{section}_test.csv"


def decision_result_file(result_dir, machine, section):
    return Path(result_dir) / f"decision_result_{machine}_{section}_test.csv"


def _truncated(sound):
    """Whether libsndfile found less audio data than the WAV header declares."""
    found = re.search(r"^data\s*:\s*(\d+) \(should be (\d+)\)", sound.extra_info, re.M)
    # 0xFFFFFFFF is the size a streaming writer leaves when it cannot seek back
    return bool(found) and int(found[2]) < int(found[1]) < 0xFFFFFFFF


def load_audio(path):
    """Samples (float32, channels averaged) and the file's own sample rate, as librosa.load(
    sr=None, mono=True) gives them; a file that cannot be fully decoded raises BadClipError."""
    advice = "replace or remove it, or rerun with --skip-bad-files"
    try:
        with soundfile.SoundFile(path) as sound:
            truncated = _truncated(sound)
            samples = sound.read(dtype="float32", always_2d=True)
            rate = sound.samplerate
    except Exception as error:  # soundfile raises several types for broken headers
        raise BadClipError(f"cannot read audio file {path}: {' '.join(str(error).split())}; "
                           f"{advice}") from None
    if truncated:
        raise BadClipError(f"audio file {path} is truncated (less data than its header "
                           f"declares); {advice}")
    return librosa.to_mono(samples.T), rate


@functools.lru_cache(maxsize=8)
def _mel_filters(sr, n_fft, n_mels):
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


def log_mel_spectrogram(y, sr, n_mels, n_fft, hop_length, power):
    """Log-mel energies in dB, shape (frames, n_mels), float32, C-contiguous (one row a frame).

    The steps of librosa.feature.melspectrogram (Hann window, centred frames padded with
    zeros, Slaney mel filters) with the filter bank built once per rate instead of per clip.
    """
    spectrum = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** power
    mel = np.einsum("...ft,mf->...mt", spectrum, _mel_filters(sr, n_fft, n_mels), optimize=True)
    return np.ascontiguousarray((20.0 / power * np.log10(np.maximum(mel, EPS))).T)


def stack_frames(log_mel, n_frames):
    """Read-only view (n_vectors, n_frames * n_mels) of overlapping frame stacks, frame-major.

    Vector t is frames t .. t + n_frames - 1 laid end to end; with fewer than n_frames frames
    the result has no rows. No data is copied.
    """
    n_rows, n_mels = log_mel.shape
    n_vectors = max(n_rows - n_frames + 1, 0)
    if n_vectors == 0:
        return np.empty((0, n_mels * n_frames), dtype=log_mel.dtype)
    log_mel = np.ascontiguousarray(log_mel)
    return np.lib.stride_tricks.as_strided(
        log_mel, shape=(n_vectors, n_mels * n_frames),
        strides=(log_mel.strides[0], log_mel.strides[1]), writeable=False)


def file_to_vectors(file_name, n_mels=64, n_frames=5, n_fft=1024, hop_length=512, power=2.0):
    """Feature vectors of one clip, (n_vectors, n_mels * n_frames) float32: the original's call."""
    y, sr = load_audio(file_name)
    log_mel = log_mel_spectrogram(y, sr, n_mels, n_fft, hop_length, power)
    return np.array(stack_frames(log_mel, n_frames))


def _cache_path(cache_dir, path, feature):
    stat = os.stat(path)
    key = json.dumps([2, str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns,
                      feature["n_mels"], feature["n_fft"], feature["hop_length"],
                      float(feature["power"]), librosa.__version__])
    return Path(cache_dir) / (hashlib.sha1(key.encode()).hexdigest() + ".npy")


def _log_mel_job(path, feature, cache_file):
    """Worker: the clip's log-mel spectrogram (stored in the cache when given), or the error text."""
    try:
        y, sr = load_audio(path)
    except BadClipError as error:
        return str(error)
    log_mel = log_mel_spectrogram(y, sr, feature["n_mels"], feature["n_fft"],
                                  feature["hop_length"], feature["power"])
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, log_mel)
    return log_mel


def _read_cache(cache_file):
    """A cached spectrogram, or None when there is none (or it cannot be read)."""
    try:
        return np.load(cache_file)
    except (OSError, ValueError):
        return None


def cache_directory(config):
    """The configured feature cache folder, or None when the cache is off."""
    return config["cache"]["directory"] if config["cache"]["enabled"] else None


# Starting the worker processes takes about 1.8 s on 2 cores, as long as 600 clips of 10 s
# take in one process: a pool pays off from about 1300 clips there.
POOL_MIN_CLIPS = 1000


def clip_log_mels(paths, feature, cache_dir=None, skip_bad_files=False, n_jobs=None,
                  desc="features"):
    """Log-mel spectrograms of many clips, in order, computed on all cores and cached on disk.

    n_jobs worker processes; None: all cores where POOL_MIN_CLIPS or more clips are to be
    computed, else this process. Returns (log_mels, bad): a clip that cannot be read raises
    BadClipError, or with skip_bad_files gets None in log_mels and its message in bad.
    """
    cache_files = [None] * len(paths)
    log_mels = [None] * len(paths)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        for i, path in enumerate(paths):
            with contextlib.suppress(OSError):
                cache_files[i] = _cache_path(cache_dir, path, feature)
                log_mels[i] = _read_cache(cache_files[i])
    todo = [i for i in range(len(paths)) if log_mels[i] is None]
    if n_jobs is None:
        n_jobs = (os.cpu_count() or 1) if len(todo) >= POOL_MIN_CLIPS else 1
    if n_jobs > 1 and todo:
        # The STFT temporaries (a few MB each) would otherwise be mmap-ed and faulted in anew
        # for every clip, which costs the workers as much as the FFT; glibc reads these at start.
        os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(64 << 20))
        os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", str(128 << 20))
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(_log_mel_job)(str(paths[i]), feature, cache_files[i]) for i in todo)
    else:
        results = (_log_mel_job(str(paths[i]), feature, cache_files[i]) for i in todo)
    bad = []
    bar = tqdm(total=len(paths), initial=len(paths) - len(todo), desc=desc, unit="clip",
               disable=None)
    for i, result in zip(todo, results):
        bar.update()
        if isinstance(result, str):
            if not skip_bad_files:
                raise BadClipError(result)
            log.warning("skipping %s", result)
            bad.append(result)
        else:
            log_mels[i] = result
    bar.close()
    return log_mels, bad


def stop_workers():
    """End the idle feature worker processes, which would otherwise hold memory for minutes."""
    from joblib.externals.loky import get_reusable_executor
    get_reusable_executor().shutdown(wait=True)


def aligned_empty(shape, dtype, alignment=64):
    """np.empty starting on an alignment-byte boundary: TensorFlow can then use the buffer
    in place (DLPack) instead of copying it."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(size + alignment, np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start:start + size].view(dtype).reshape(shape)


def frame_index(log_mels, n_frames, n_hop_frames=1, consume=False):
    """All clips' frames in one array and where each clip's vectors start in it.

    Returns (frames (total_frames, n_mels), starts (n_vectors,), clip_of_vector (n_vectors,)),
    keeping every n_hop_frames-th vector of each clip. Vector k is
    frames[starts[k] : starts[k] + n_frames] flattened; no vector crosses a clip boundary.
    With consume, each entry of log_mels is set to None once copied, so that the frames are
    held in memory once rather than twice.
    """
    lengths = np.array([len(m) for m in log_mels])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    frames = aligned_empty((offsets[-1], log_mels[0].shape[1]), np.float32)
    starts, owners = [], []
    for clip, length in enumerate(lengths):
        frames[offsets[clip]:offsets[clip + 1]] = log_mels[clip]
        if consume:
            log_mels[clip] = None
        first = np.arange(0, max(length - n_frames + 1, 0), n_hop_frames)
        starts.append(offsets[clip] + first)
        owners.append(np.full(len(first), clip))
    return frames, np.concatenate(starts).astype(np.int64), np.concatenate(owners)


def gather_vectors(frames, starts, n_frames):
    """Materialise the vectors that start at the given frame rows: (len(starts), n_frames * n_mels)."""
    rows = starts[:, None] + np.arange(n_frames)
    return frames[rows].reshape(len(starts), -1)


def index_scores(model, frames, starts, owners, n_clips, n_frames, batch_vectors=8192):
    """Anomaly score of each clip: mean of (x - model(x))^2 over its vectors and dimensions.

    Vectors of many clips go through the model in one call and the errors are split back per
    clip (owners). Each vector's squared error is summed in float32 (640 terms: relative error
    about 1e-7, five times faster than float64) and the vectors of a clip in float64, so the
    scores equal those of one predict call per clip in float64 to about 1e-7. A clip without
    vectors gets NaN.
    """
    sums = np.zeros(n_clips)
    for begin in range(0, len(starts), batch_vectors):
        x = gather_vectors(frames, starts[begin:begin + batch_vectors], n_frames)
        error = np.asarray(model.predict_on_batch(x)) - x
        sums += np.bincount(owners[begin:begin + batch_vectors],
                            weights=np.einsum("ij,ij->i", error, error), minlength=n_clips)
    counts = np.bincount(owners, minlength=n_clips) * frames.shape[1] * n_frames
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def clip_scores(model, log_mels, n_frames):
    """Anomaly score of each clip from its log-mel spectrogram (see index_scores)."""
    if not log_mels:
        return np.empty(0)
    frames, starts, owners = frame_index(log_mels, n_frames)
    return index_scores(model, frames, starts, owners, len(log_mels), n_frames)


def _check_scores(y_true, y_score):
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_score must be 1-D of one length, got "
                         f"{y_true.shape} and {y_score.shape}")
    if not np.isin(y_true, [0, 1]).all():
        raise ValueError("y_true must hold 0 (normal) and 1 (anomaly) only")
    return y_true, y_score


def domain_auc(y_true, y_score, domains, domain):
    """AUC over the normal clips of one domain plus ALL anomalous clips (of both domains).

    None when that set lacks normal or anomalous clips.
    """
    y_true, y_score = _check_scores(y_true, y_score)
    keep = (np.asarray(domains) == domain) | (y_true == 1)
    if len(set(y_true[keep])) < 2:
        return None
    from sklearn.metrics import roc_auc_score   # here: feature workers start faster without it
    return roc_auc_score(y_true[keep], y_score[keep])


def partial_auc(y_true, y_score, max_fpr):
    """sklearn's standardized partial AUC up to max_fpr (McClish); None without both classes."""
    y_true, y_score = _check_scores(y_true, y_score)
    if not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr}")
    if len(set(y_true)) < 2:
        return None
    from sklearn.metrics import roc_auc_score
    return roc_auc_score(y_true, y_score, max_fpr=max_fpr)


def precision_recall_f1(y_true, y_pred):
    """Precision, recall and F1 of binary decisions, each denominator clipped at eps."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1))
    fp = np.sum((y_true == 0) & (y_pred == 1))
    fn = np.sum((y_true == 1) & (y_pred == 0))
    precision = tp / np.maximum(tp + fp, EPS)
    recall = tp / np.maximum(tp + fn, EPS)
    f1 = 2.0 * precision * recall / np.maximum(precision + recall, EPS)
    return precision, recall, f1


def section_metrics(y_true, y_score, decisions, domains, max_fpr):
    """The nine values of a result.csv row, in METRIC_NAMES order; None where undefined."""
    domains = np.asarray(domains)
    decisions = np.asarray(decisions)
    auc = {d: domain_auc(y_true, y_score, domains, d) for d in ("source", "target")}
    prf = {d: precision_recall_f1(np.asarray(y_true)[domains == d], decisions[domains == d])
           for d in ("source", "target")}
    return [auc["source"], auc["target"], partial_auc(y_true, y_score, max_fpr),
            prf["source"][0], prf["target"][0], prf["source"][1], prf["target"][1],
            prf["source"][2], prf["target"][2]]


def _harmonic_mean(values):
    """scipy's harmonic mean of the values clipped at eps, as the challenge computes it."""
    from scipy.stats import hmean   # here: feature workers start faster without scipy.stats
    return hmean(np.maximum(values, EPS))


def column_means(rows):
    """Arithmetic and harmonic (values clipped at eps) mean of each column, skipping None."""
    arithmetic, harmonic = [], []
    for column in zip(*rows):
        values = np.array([v for v in column if v is not None], dtype=float)
        arithmetic.append(np.mean(values) if len(values) else None)
        harmonic.append(_harmonic_mean(values) if len(values) else None)
    return arithmetic, harmonic


def official_score(rows):
    """The challenge's ranking figure: harmonic mean of all AUC (source), AUC (target) and pAUC."""
    values = [v for row in rows for v in row[:3] if v is not None]
    if not values:
        return None
    return _harmonic_mean(values)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary name beside path; rename it onto path only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                               dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def save_csv(path, rows):
    """Write rows with Python's csv module (comma, '\\n'), atomically; None becomes an empty cell."""
    if Path(path).exists():
        log.info("replacing %s", path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(
                ["" if v is None else v for v in row] for row in rows)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def result_rows(blocks):
    """Rows of result.csv from [(machine, [(section number, nine values), ...]), ...]."""
    rows, everything = [], []
    for machine, sections in blocks:
        values = [v for _, v in sections]
        everything += values
        arithmetic, harmonic = column_means(values)
        rows += [[machine], ["section"] + METRIC_NAMES]
        rows += [[number] + v for number, v in sections]
        rows += [["arithmetic mean"] + arithmetic, ["harmonic mean"] + harmonic, []]
    arithmetic, harmonic = column_means(everything)
    rows += [[""] + METRIC_NAMES,
             ["arithmetic mean over all machine types, sections, and domains"] + arithmetic,
             ["harmonic mean over all machine types, sections, and domains"] + harmonic,
             [],
             ["official score", official_score(everything)]]
    return rows


def read_ground_truth(ground_truth_dir, machine, section):
    """{clip key: (label, domain)} from the official evaluator's two files for a section."""
    found = {}
    for kind in ("data", "domain"):
        path = (Path(ground_truth_dir) / f"ground_truth_{kind}"
                / f"ground_truth_{machine}_{section}_test.csv")
        try:
            found[kind] = {ground_truth_key(name): int(flag) for name, flag in read_csv(path)}
        except FileNotFoundError:
            raise BaselineError(f"ground truth file not found: {path}; expected the official "
                                f"evaluator's ground_truth_data/ and ground_truth_domain/") from None
        except ValueError:
            raise BaselineError(f"{path}: expected rows 'name,0' or 'name,1'") from None
    if found["data"].keys() != found["domain"].keys():
        raise BaselineError(f"ground truth files of {machine} {section} list different clips")
    return {key: (found["data"][key], "target" if found["domain"][key] else "source")
            for key in found["data"]}
