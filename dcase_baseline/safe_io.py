"""Writing files safely: atomically, under a lock, as CSV or JSON; checks that a folder can be
written and a file read. Standard library only, so that any module may import it.
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
import tempfile
from pathlib import Path

from dcase_baseline.errors import BaselineError

log = logging.getLogger("baseline")


# errors of the storage or of its permissions rather than of the program, reported in one line
# naming the file, with what to do about each
WRITE_ADVICE = {
    errno.ENOSPC: "free some space or set another folder in the configuration, then rerun",
    errno.EDQUOT: "free some space or set another folder in the configuration, then rerun",
    errno.EROFS: "the file system is mounted read-only: set another folder in the configuration",
    errno.EACCES: "make the folder writable for you or set another folder in the configuration",
    errno.EPERM: "make the folder writable for you or set another folder in the configuration",
    errno.EIO: "the disk failed to write it: check the disk, or set another folder in the "
               "configuration, then rerun",
    errno.EFBIG: "the file system takes no file this large: set another folder in the "
                 "configuration",
}


def write_error(path, error):
    """A BaselineError naming the file, the error in the system's words and what to do."""
    return BaselineError(f"cannot write {path}: {os.strerror(error.errno)} "
                         f"(errno {errno.errorcode[error.errno]}); {WRITE_ADVICE[error.errno]}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary name beside path; rename it onto path only if the block succeeds.

    The temporary file is created as open() creates a file (mode 0666 less the umask), so the
    file in place gets the permissions that writing it directly would have given it. A full
    disk, a quota, an I/O error, a read-only or forbidden folder raises a BaselineError naming
    path, in the words of the error itself.
    """
    path = Path(path)
    tmp = path.parent / f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}"
    made = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        made = True
        yield str(tmp)
        os.replace(tmp, path)
        made = False
    except OSError as error:
        if error.errno in WRITE_ADVICE:
            raise write_error(path, error) from None
        raise
    finally:
        if made:        # the error in flight, not one of removing, is the one to report
            with contextlib.suppress(OSError):
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
    """Whether another process holds file_lock(path) now. Asking needs no write access (a
    model folder may be read-only, or the lock another user's); a lock file that may not even
    be read tells nothing: False."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, PermissionError):
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


def check_writable(folder, key, create=False):
    """Make sure that files can be written in the folder, so that a run learns it before hours
    of work rather than at its first file. A folder that does not exist yet is made with
    create, else only its nearest existing parent is tried, so that a run that stops early
    leaves no empty folder behind."""
    folder = Path(folder)
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise BaselineError(f"cannot write to {key} {folder}: {error.strerror or error}; set "
                            f"{key} in the configuration to a folder you can write to") from None


def check_readable(path, what):
    """A one-line error naming the file when it exists but this user may not read it."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        pass        # the caller says how to create it
    except PermissionError:
        raise BaselineError(f"cannot read {what} {path}: permission denied; ask its owner to "
                            f"make it readable (chmod a+r) or point model_directory to a "
                            f"folder of your own") from None
