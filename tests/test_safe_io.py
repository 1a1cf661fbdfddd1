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
