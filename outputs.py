"""The files the scripts write: their names, and writing them safely (atomically, under a lock,
as CSV). Standard library only, so that any module may import it.
"""
import contextlib
import csv
import errno
import fcntl
import hashlib
import json
import logging
import os
import secrets
from pathlib import Path

from errors import BaselineError

log = logging.getLogger("baseline")


def model_file(model_dir, machine):
    return Path(model_dir) / f"model_{machine}.keras"


def legacy_model_file(model_dir, machine):
    """Where the original baseline saved its model."""
    return Path(model_dir) / f"model_{machine}.hdf5"


def existing_model_files(model_dir, machine):
    """The machine type's model files that exist: ours first, then the original's."""
    return [p for p in (model_file(model_dir, machine), legacy_model_file(model_dir, machine))
            if p.exists()]


def score_distr_file(model_dir, machine):
    return Path(model_dir) / f"score_distr_{machine}.pkl"


def history_file(model_dir, machine):
    return Path(model_dir) / f"history_{machine}.png"


def checkpoint_file(model_dir, machine):
    """The training state of a machine type being trained (checkpoints.py)."""
    return Path(model_dir) / f".checkpoint_{machine}.npz"


def validation_file(model_dir, machine):
    """The clips held out for validation by fit.validation: clips, one name a line."""
    return Path(model_dir) / f"validation_{machine}.txt"


def training_lock_file(model_dir, machine):
    """Held by the run that trains the machine type."""
    return Path(model_dir) / f".training_{machine}.lock"


def machine_result_file(result_path, machine, dev):
    """One machine type's block of result.csv, from which result.csv is assembled."""
    result_path = Path(result_path)
    mode = "dev" if dev else "eval"
    return result_path.with_name(f"{result_path.stem}_{machine}_{mode}{result_path.suffix}")


def machine_result_files(result_path, dev):
    """Every machine type's block of result.csv in the result folder, for one mode."""
    pattern = machine_result_file(result_path, "*", dev)
    return sorted(pattern.parent.glob(pattern.name))


def anomaly_score_file(result_dir, machine, unit, year=2022):
    """The name each year's official evaluator reads (unit: id_00, section_00_source,
    section_00)."""
    suffix = "" if year == 2020 else "_test"
    return Path(result_dir) / f"anomaly_score_{machine}_{unit}{suffix}.csv"


def decision_result_file(result_dir, machine, unit, year=2022):
    """None for 2020, whose evaluator reads no decisions."""
    if year == 2020:
        return None
    return Path(result_dir) / f"decision_result_{machine}_{unit}_test.csv"


# errors of the storage rather than of the program: reported in one line naming the file
STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}


def write_error(path, error):
    """A BaselineError naming the file and the meaning of the error's number."""
    return BaselineError(f"cannot write {path}: {os.strerror(error.errno)} "
                         f"(errno {errno.errorcode[error.errno]}); "
                         f"free some space or set another folder in the configuration, "
                         f"then rerun")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary name beside path; rename it onto path only if the block succeeds.

    The temporary file is created as open() creates a file (mode 0666 less the umask), so the
    file in place gets the permissions that writing it directly would have given it. A full
    disk, a quota or an I/O error while writing raises a BaselineError naming path.
    """
    path = Path(path)
    tmp = path.parent / f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield str(tmp)
        os.replace(tmp, path)
    except OSError as error:
        if error.errno in STORAGE_ERRORS:
            raise write_error(path, error) from None
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


@contextlib.contextmanager
def file_lock(path, wait=True):
    """Hold an exclusive lock on path (created if needed) for the block; yields True.

    With wait False and another process holding the lock, yields False at once, holding
    nothing. The operating system releases the lock when its process dies, even by SIGKILL;
    the file is removed when the block ends.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        # the previous holder may have removed the file meanwhile: then lock the new one
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)
    try:
        yield True
    finally:
        os.remove(path)     # before the lock goes, so that a waiting process sees it gone
        os.close(fd)


def is_locked(path):
    """Whether another process holds file_lock(path) now."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def file_digest(path, algorithm="sha256"):
    """The hex digest of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def save_json(path, data):
    """data as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1))


# Clip names that are not valid UTF-8 are read and written back as their own bytes.
def read_csv(path):
    with open(path, newline="", errors="surrogateescape") as f:
        return list(csv.reader(f))


def save_csv(path, rows):
    """Write rows with Python's csv module (comma, '\\n'), atomically; None becomes an empty cell."""
    if Path(path).exists():
        log.info("replacing %s", path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", errors="surrogateescape") as f:
            csv.writer(f, lineterminator="\n").writerows(
                ["" if v is None else v for v in row] for row in rows)
