"""Audio and features: clips to log-mel spectrograms, on all cores and cached on disk.

Nothing here imports Keras, so that the feature workers start quickly. The frames of many clips
and their frame-stack vectors are in frame_stacks.py.
"""
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import librosa
import numpy as np
import soundfile

from dcase_baseline import filenames, progress
from dcase_baseline.errors import BaselineError
from dcase_baseline.safe_io import atomic_path

log = logging.getLogger("baseline")

EPS = sys.float_info.epsilon

# Bump when a change of the code below changes the spectrograms it computes: the cache then
# misses instead of serving the old ones.
FEATURE_CODE_VERSION = 4


class BadClipError(BaselineError):
    """A clip that cannot be decoded."""


def _truncated(sound):
    """Whether libsndfile found less audio data than the WAV header declares."""
    found = re.search(r"^data\s*:\s*(\d+) \(should be (\d+)\)", sound.extra_info, re.M)
    # 0xFFFFFFFF is the size a streaming writer leaves when it cannot seek back
    return bool(found) and int(found[2]) < int(found[1]) < 0xFFFFFFFF


def load_audio(path, channel="mean"):
    """Samples (float32) and the file's own sample rate: the channels averaged, as
    librosa.load(sr=None, mono=True) gives them, or one channel (an index, 0 = the first). A
    file that cannot be fully decoded raises BadClipError; one without that channel, a
    BaselineError."""
    advice = "replace or remove it, or rerun with --skip-bad-files"
    try:
        # as bytes: a name that is not valid UTF-8 then opens as it is
        with soundfile.SoundFile(os.fsencode(path)) as sound:
            truncated = _truncated(sound)
            samples = sound.read(dtype="float32", always_2d=True)
            rate = sound.samplerate
    except Exception as error:  # soundfile raises several types for broken headers
        # its words name the file by the bytes it was opened with: b'...'
        words = " ".join(str(error).replace(repr(os.fsencode(path)), "it").split())
        raise BadClipError(f"cannot read audio file {path}: {words}; {advice}") from None
    if truncated:
        raise BadClipError(f"audio file {path} is truncated (less data than its header "
                           f"declares); {advice}")
    if not np.isfinite(samples).all():
        raise BadClipError(f"audio file {path} holds non-finite samples (NaN or inf); {advice}")
    if channel == "mean":
        return librosa.to_mono(samples.T), rate
    if channel >= samples.shape[1]:
        raise BaselineError(f"{path} has {samples.shape[1]} channel(s), so no channel {channel} "
                            f"(feature.channel counts from 0); set feature.channel to mean or "
                            f"to an index below {samples.shape[1]}")
    return np.ascontiguousarray(samples[:, channel]), rate


def multichannel_clips(paths):
    """The clips of more than one channel (from their headers; unreadable ones are left to the
    feature computation to report)."""
    found = []
    for path in paths:
        with contextlib.suppress(Exception):
            with soundfile.SoundFile(os.fsencode(path)) as sound:
                if sound.channels > 1:
                    found.append(path)
    return found


def _librosa_mel(sr, n_fft, n_mels, fmin, fmax):
    """librosa's mel filter bank; a setting librosa warns about (empty filters) raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


@functools.lru_cache(maxsize=8)
def _mel_filters(sr, n_fft, n_mels, fmin=0.0, fmax=None):
    if fmin >= sr / 2:
        raise BaselineError(
            f"feature.fmin = {fmin:g} Hz is not below half the clips' sample rate of {sr} Hz "
            f"({sr / 2:g} Hz, the highest frequency they hold): the mel band would be empty; "
            f"lower feature.fmin in the configuration")
    if fmax is not None and fmax > sr / 2:
        raise BaselineError(
            f"feature.fmax = {fmax:g} Hz is above half the clips' sample rate of {sr} Hz "
            f"({sr / 2:g} Hz, the highest frequency they hold); lower feature.fmax in the "
            f"configuration or leave it empty (half the rate)")
    try:
        return _librosa_mel(sr, n_fft, n_mels, fmin, fmax)
    except UserWarning as warning:
        largest = next((n for n in range(n_mels - 1, 0, -1)
                        if _mel_works(sr, n_fft, n, fmin, fmax)), None)
        advice = (f"the largest n_mels that works is {largest}" if largest
                  else "no n_mels works")
        band = "" if (fmin, fmax) == (0.0, None) else f" (from {fmin:g} to {fmax or sr / 2:g} Hz)"
        raise BaselineError(
            f"feature.n_mels = {n_mels} with feature.n_fft = {n_fft} at the clips' sample rate "
            f"of {sr} Hz{band} makes librosa warn: {' '.join(str(warning).split())}; {advice} "
            f"(or raise feature.n_fft); change it in the configuration") from None


def _mel_works(sr, n_fft, n_mels, fmin, fmax):
    try:
        _librosa_mel(sr, n_fft, n_mels, fmin, fmax)
        return True
    except UserWarning:
        return False


def log_mel_spectrogram(y, sr, n_mels, n_fft, hop_length, power, fmin=0.0, fmax=None,
                        win_length=None):
    """Log-mel energies in dB, shape (frames, n_mels), float32, C-contiguous (one row a frame).

    The steps of librosa.feature.melspectrogram with these arguments (Hann window of
    win_length samples, None: n_fft; centred frames padded with zeros; Slaney mel filters from
    fmin to fmax, None: half the rate) with the filter bank built once per rate instead of per
    clip.
    """
    with warnings.catch_warnings():
        # a clip shorter than n_fft: too_short names it, and librosa's words would only repeat it
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        spectrum = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length,
                                       win_length=win_length)) ** power
    mel = np.einsum("...ft,mf->...mt", spectrum, _mel_filters(sr, n_fft, n_mels, fmin, fmax),
                    optimize=True)
    return np.ascontiguousarray((20.0 / power * np.log10(np.maximum(mel, EPS))).T)


def _cache_path(cache_dir, path, feature):
    """The cache entry of a clip: keyed by the clip file's identity, every feature setting and
    the versions of the code that computes the spectrogram."""
    stat = os.stat(path)
    key = json.dumps([FEATURE_CODE_VERSION, librosa.__version__, str(Path(path).resolve()),
                      stat.st_size, stat.st_mtime_ns, feature], sort_keys=True)
    return filenames.cache_file(cache_dir, hashlib.sha1(key.encode()).hexdigest())


def _log_mel_job(path, feature, cache_file):
    """Worker: the clip's log-mel spectrogram and whether it is digital silence (all samples
    equal), or the error text. The spectrogram goes into the cache (when given) unless the clip
    is silent: a silent clip is then decoded, and reported, on every run."""
    try:
        y, sr = load_audio(path, feature.get("channel", "mean"))
    except BadClipError as error:
        return str(error)
    log_mel = log_mel_spectrogram(y, sr, feature["n_mels"], feature["n_fft"],
                                  feature["hop_length"], feature["power"],
                                  feature.get("fmin", 0.0), feature.get("fmax"),
                                  feature.get("win_length"))
    silent = len(y) > 0 and bool(np.all(y == y[0]))
    if cache_file is not None and not silent:
        with atomic_path(cache_file) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, log_mel)
    return log_mel, silent


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
# take in one process: from 1000 clips on, a pool gains more than its start costs.
POOL_MIN_CLIPS = 1000
# Clips per job sent to a worker process: few enough to keep the memory in transit small.
CHUNK_CLIPS = 64


def early_workers(n_clips):
    """Worker processes for the first machine type's features while the scripts import Keras
    (seconds, on one core): the other cores, or all of them for many clips, which take longer
    than the import."""
    cores = os.cpu_count() or 1
    return cores if n_clips >= POOL_MIN_CLIPS else max(1, cores - 1)


class ClipFeatures(NamedTuple):
    log_mels: list          # a spectrogram per clip, None for a skipped clip
    bad: list               # messages of the clips skipped as unreadable
    silent: list            # messages of the clips of digital silence (they are used)


class PendingLogMels(NamedTuple):
    paths: list
    log_mels: list          # the cached ones so far, None for the others
    todo: list              # indices of the clips being computed, in order
    results: object         # an iterator over their _log_mel_job results
    executor: object        # the worker processes computing them, or None


def start_log_mels(paths, feature, cache_dir=None, workers=None):
    """Read the cached spectrograms of the clips and start computing the others: in that many
    worker processes, which then work while this process goes on, or (workers 0) in this
    process when finish_log_mels asks for them. workers None: all cores where POOL_MIN_CLIPS or
    more clips are to be computed, else this process."""
    cache_files = [None] * len(paths)
    log_mels = [None] * len(paths)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        for i, path in enumerate(paths):
            with contextlib.suppress(OSError):
                cache_files[i] = _cache_path(cache_dir, path, feature)
                log_mels[i] = _read_cache(cache_files[i])
    todo = [i for i in range(len(paths)) if log_mels[i] is None]
    jobs = [(str(paths[i]), feature, cache_files[i]) for i in todo]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(todo) >= POOL_MIN_CLIPS else 0
    if workers and todo:
        return PendingLogMels(list(paths), log_mels, todo, *_in_worker_processes(jobs, workers))
    results = (_log_mel_job(*job) for job in jobs)     # computed in finish_log_mels
    return PendingLogMels(list(paths), log_mels, todo, results, None)


def _in_worker_processes(jobs, workers):
    """An iterator over the jobs' results, in order, which worker processes start computing
    now, a few chunks of clips per worker; and the pool of those processes."""
    from joblib.externals.loky import get_reusable_executor
    # The STFT temporaries (a few MB each) would otherwise be mmap-ed and faulted in anew for
    # every clip, which costs the workers as much as the FFT; glibc reads these at start.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(64 << 20))
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", str(128 << 20))
    executor = get_reusable_executor(max_workers=workers)
    size = min(CHUNK_CLIPS, -(-len(jobs) // (4 * workers)))
    chunks = [executor.submit(_log_mel_jobs, jobs[i:i + size])
              for i in range(0, len(jobs), size)]

    def results():
        while chunks:       # a consumed chunk is let go: its spectrograms are held once
            yield from chunks.pop(0).result()
    return results(), executor


def _log_mel_jobs(jobs):
    with _one_blas_thread():
        return [_log_mel_job(*job) for job in jobs]


def _one_blas_thread():
    """A context of one BLAS thread, for the spectrograms here and in the worker processes:
    they are then the same to the last bit whichever process computes them, and so are the
    models trained on them."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def finish_log_mels(pending, skip_bad_files=False, desc="features"):
    """The spectrograms of start_log_mels' clips, in order, as ClipFeatures: a clip that cannot
    be read raises BadClipError, or with skip_bad_files gets None and its message in bad; a clip
    of digital silence is used as it is, with a warning, and listed in silent."""
    paths, cached, todo, results, _ = pending
    # the caller holds the spectrograms from now on, once: frame_stacks.frame_index(consume)
    # can then free each as it copies it
    log_mels = list(cached)
    cached.clear()
    bad, silent = [], []
    bar = progress.bar(total=len(paths), initial=len(paths) - len(todo), desc=desc, unit="clip")
    with _one_blas_thread():        # for the clips computed here, in this process
        for i, result in zip(todo, results):
            bar.update()
            if isinstance(result, str):
                if not skip_bad_files:
                    raise BadClipError(result)
                log.warning("skipping %s", result)
                bad.append(result)
                continue
            log_mels[i], is_silent = result
            if is_silent:
                message = f"{paths[i]}: all samples are equal (digital silence); used as it is"
                log.warning(message)
                silent.append(message)
    bar.close()
    return ClipFeatures(log_mels, bad, silent)


def stop_workers(pending):
    """End start_log_mels' worker processes, which would otherwise hold their memory for a
    while after their last clip."""
    if pending.executor is not None:
        pending.executor.shutdown(wait=True)


def clip_log_mels(paths, feature, cache_dir=None, skip_bad_files=False, workers=None,
                  desc="features"):
    """Log-mel spectrograms of many clips, in order, computed on all cores and cached on disk:
    start_log_mels, then finish_log_mels."""
    return finish_log_mels(start_log_mels(paths, feature, cache_dir, workers), skip_bad_files,
                           desc)


def too_short(paths, log_mels, n_frames):
    """The clips with fewer frames than one frame stack needs: {index: message naming the clip}.

    Clips without a spectrogram (None: skipped as unreadable) are not listed.
    """
    return {i: f"{path}: {len(log_mel)} frames, shorter than n_frames={n_frames}"
            for i, (path, log_mel) in enumerate(zip(paths, log_mels))
            if log_mel is not None and len(log_mel) < n_frames}


class UsableLogMels(NamedTuple):
    log_mels: list          # a spectrogram per clip; None for a clip skipped or too short
    bad: list               # messages of the clips skipped as unreadable
    silent: list            # messages of the clips of digital silence (they are used)
    short: list             # messages of the clips too short for one frame stack
    averaged: list          # the clips of several channels that were averaged into one


class ClipSpectrograms:
    """The log-mel spectrograms of one machine type's clips as a script uses them: computed
    from the moment the object is made (in worker processes where that pays, so that the first
    machine type's are under way while the script imports Keras), collected by finish()."""

    def __init__(self, paths, config, early=False):
        self.paths = list(paths)
        self.n_frames = config["feature"]["n_frames"]
        self.channel = config["feature"]["channel"]
        workers = early_workers(len(self.paths)) if early else None
        self._pending = start_log_mels(self.paths, config["feature"], cache_directory(config),
                                       workers)

    def finish(self, skip_bad_files, desc):
        """UsableLogMels of the clips, in order; the worker processes are ended."""
        try:
            # the headers are read while the workers compute
            averaged = multichannel_clips(self.paths) if self.channel == "mean" else []
            log_mels, bad, silent = finish_log_mels(self._pending, skip_bad_files, desc)
        finally:
            stop_workers(self._pending)
        short = too_short(self.paths, log_mels, self.n_frames)
        for i in short:
            log_mels[i] = None
        return UsableLogMels(log_mels, bad, silent, list(short.values()), averaged)
