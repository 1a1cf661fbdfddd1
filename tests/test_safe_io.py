"""safe_io.py: CSV bytes and atomic writes."""
import pytest

from dcase_baseline import safe_io


def test_score_file_bytes(tmp_path):
    path = tmp_path / "anomaly_score_fan_section_00_test.csv"
    safe_io.save_csv(path, [["a.wav", 9.718018345], ["b.wav", 8.0], ["c.wav", 1], ["d.wav", None]])
    assert path.read_bytes() == b"a.wav,9.718018345\nb.wav,8.0\nc.wav,1\nd.wav,\n"


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "model_fan.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with safe_io.atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]
    with safe_io.atomic_path(target) as tmp:
        open(tmp, "w").write("new")
    assert target.read_text() == "new" and sorted(tmp_path.iterdir()) == [target]


def test_a_lock_held_is_seen_and_removed_when_released(tmp_path):
    lock = tmp_path / ".training_fan.lock"
    with safe_io.file_lock(lock) as mine:
        assert mine and safe_io.is_locked(lock)
        with safe_io.file_lock(lock, wait=False) as second:
            assert second is False
    assert not lock.exists() and not safe_io.is_locked(lock)


def hold_lock(path):
    """A lock held as another process holds it while it trains: an open file description with
    an exclusive flock (read-only: the folder may be mounted read-only since)."""
    import fcntl
    import os
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_lock_is_read_without_write_access(tmp_path, monkeypatch):
    # a read-only mount or another user's 0644 lock: opening it for writing fails
    import errno
    import os
    lock = tmp_path / ".training_fan.lock"
    lock.write_text("")
    real_open = os.open

    def read_only(path, flags, *args):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    fd = hold_lock(lock)
    monkeypatch.setattr(os, "open", read_only)
    try:
        assert safe_io.is_locked(lock)
    finally:
        os.close(fd)
    assert not safe_io.is_locked(lock)
    # a lock that may not even be read tells nothing
    monkeypatch.setattr(os, "open", lambda *a: (_ for _ in ()).throw(PermissionError(13, "no")))
    assert not safe_io.is_locked(lock)


@pytest.mark.parametrize("code, advice", [
    ("EROFS", "mounted read-only"), ("EACCES", "make the folder writable"),
    ("ENOSPC", "free some space")])
def test_a_failed_write_keeps_its_own_words(tmp_path, monkeypatch, code, advice):
    # the temporary file cannot even be made: the error is that one, not one of removing it
    import errno
    import os
    number = getattr(errno, code)

    def refused(path, flags, *args):
        raise OSError(number, os.strerror(number), str(path))

    monkeypatch.setattr(os, "open", refused)
    monkeypatch.setattr(os, "remove", lambda path: refused(path, 0))
    target = tmp_path / "plots" / "fan.png"
    with pytest.raises(safe_io.BaselineError) as error:
        with safe_io.atomic_path(target):
            pass
    assert str(error.value).startswith(f"cannot write {target}: {os.strerror(number)} "
                                       f"(errno {code}); ")
    assert advice in str(error.value)


def test_checking_a_folder_creates_nothing(tmp_path):
    folder = tmp_path / "model" / "run1"
    safe_io.check_writable(folder, "model_directory")
    assert not (tmp_path / "model").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(safe_io.BaselineError, match="cannot write to model_directory"):
        safe_io.check_writable(tmp_path / "file" / "model", "model_directory")
    safe_io.check_writable(folder, "log_file", create=True)
    assert folder.is_dir()
