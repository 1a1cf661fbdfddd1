"""download.py against a local server with Zenodo's records API (127.0.0.1, started here)."""
import hashlib
import http.server
import io
import json
import subprocess
import sys
import threading
import zipfile

import pytest

from conftest import ROOT, write_config

MACHINES = ("fan", "valve")


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def dev_archive(machine, prefix=""):
    return zip_bytes({
        f"{prefix}{machine}/train/section_00_source_train_normal_0000_a.wav": f"{machine} train",
        f"{prefix}{machine}/test/section_00_source_test_normal_0000_a.wav": f"{machine} test",
        f"{prefix}{machine}/attributes_00.csv": "file_name,d1p\n"})


class Server:
    """Records 6355122 (dev), 6462969 and 6586456 (eval) with small zips in the DCASE layout.

    files: archive name -> bytes; broken: archive name -> "corrupt" (other bytes than its
    checksum), "cut" (the connection closes half-way), or "500"; record_error answers every
    record request with HTTP 500."""

    def __init__(self):
        self.files = {f"dev_{m}.zip": dev_archive(m) for m in MACHINES}
        self.files["dev_fan.zip"] = dev_archive("fan", prefix="dev_data/")  # extra leading folder
        for m in MACHINES:
            self.files[f"eval_data_{m}_train.zip"] = zip_bytes(
                {f"{m}/train/section_03_source_train_normal_0000_a.wav": "eval train"})
            self.files[f"eval_data_{m}_test.zip"] = zip_bytes(
                {f"{m}/test/section_03_test_0000.wav": "eval test"})
        self.broken, self.record_error, self.requests = {}, False, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if self.path.startswith("/api/records/"):
                    return self.record(self.path.rsplit("/", 1)[1])
                name = self.path.rsplit("/", 1)[1]
                data, broken = server.files[name], server.broken.get(name)
                if broken == "500":
                    return self.send_error(500)
                if broken == "corrupt":
                    data = data[:-1] + bytes([data[-1] ^ 1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2] if broken == "cut" else data)

            def record(self, record):
                if server.record_error:
                    return self.send_error(500)
                pattern = {"6355122": "dev_", "6462969": "_train.zip",
                           "6586456": "_test.zip"}[record]
                files = [{"key": name, "size": len(data),
                          "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                          "links": {"self": f"{server.url}/files/{name}"}}
                         for name, data in server.files.items() if pattern in name]
                body = json.dumps({"id": record, "files": files}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def downloads(self):
        return [r for r in self.requests if r.startswith("/files/")]


@pytest.fixture
def server():
    running = Server()
    yield running
    running.httpd.shutdown()


def error_line(run):
    return next(line for line in run.stderr.splitlines() if " - ERROR - " in line)


def download(tmp_path, server, *args):
    config = write_config(tmp_path, dev_directory=str(tmp_path / "dev_data"),
                          eval_directory=str(tmp_path / "eval_data"))
    return subprocess.run([sys.executable, str(ROOT / "download.py"), *args, "-c", str(config),
                           "--server", server.url], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def clip_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and ".downloads" not in p.parts)


def test_dev_and_eval_in_the_layout_the_scripts_read(tmp_path, server):
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0, run.stderr
    assert clip_files(tmp_path / "dev_data") == [
        "fan/attributes_00.csv", "fan/test/section_00_source_test_normal_0000_a.wav",
        "fan/train/section_00_source_train_normal_0000_a.wav",
        "valve/attributes_00.csv", "valve/test/section_00_source_test_normal_0000_a.wav",
        "valve/train/section_00_source_train_normal_0000_a.wav"]
    assert (tmp_path / "dev_data/fan/train/section_00_source_train_normal_0000_a.wav"
            ).read_text() == "fan train"
    run = download(tmp_path, server, "eval", "-m", "valve")
    assert run.returncode == 0, run.stderr
    assert clip_files(tmp_path / "eval_data") == [
        "valve/test/section_03_test_0000.wav",
        "valve/train/section_03_source_train_normal_0000_a.wav"]
    # the scripts' own file lists find the clips
    sys.path.insert(0, str(ROOT))
    import clips
    assert [d.name for d in clips.machine_dirs(tmp_path / "dev_data", "dev_directory")] == [
        "fan", "valve"]


def test_list_prints_sizes_and_fetches_nothing(tmp_path, server):
    run = download(tmp_path, server, "eval", "--list")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [
        "eval_data_fan_train.zip", "eval_data_valve_train.zip", "eval_data_fan_test.zip",
        "eval_data_valve_test.zip", "total"]
    size = len(server.files["eval_data_fan_train.zip"]) / 1e6
    assert f"{size:.1f} MB" in lines[0] and lines[0].endswith("fan  to fetch")
    assert "to fetch: 4 of 4 archives" in lines[-1]
    assert server.downloads() == [] and not (tmp_path / "eval_data").exists()


def test_rerun_fetches_nothing_and_keeps_existing_clips(tmp_path, server):
    assert download(tmp_path, server, "dev").returncode == 0
    clip = tmp_path / "dev_data/valve/train/section_00_source_train_normal_0000_a.wav"
    clip.write_text("the user's own copy")
    fetched = len(server.downloads())
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0 and "already fetched and unpacked" in run.stderr
    assert len(server.downloads()) == fetched == 2
    # an archive fetched again (marker gone) is not downloaded anew and overwrites nothing
    for marker in (tmp_path / "dev_data" / ".downloads").glob("*.unpacked"):
        marker.unlink()
    assert download(tmp_path, server, "dev").returncode == 0
    assert len(server.downloads()) == fetched
    assert clip.read_text() == "the user's own copy"


@pytest.mark.parametrize("fault, message", [
    ("corrupt", "MD5 checksum"), ("cut", "cannot download"), ("500", "cannot download")])
def test_broken_transfer_is_an_error_and_unpacks_nothing(tmp_path, server, fault, message):
    server.broken["dev_valve.zip"] = fault
    run = download(tmp_path, server, "dev")
    assert run.returncode == 1
    last = error_line(run)
    assert message in last and "dev_valve.zip" in last
    if fault == "corrupt":
        data = server.files["dev_valve.zip"]
        served = hashlib.md5(data[:-1] + bytes([data[-1] ^ 1])).hexdigest()
        assert (f"MD5 checksum {served} does not match the record's "
                f"{hashlib.md5(data).hexdigest()}") in last
    assert not (tmp_path / "dev_data" / "valve").exists()
    assert [p.name for p in (tmp_path / "dev_data" / ".downloads").iterdir()
            if "valve" in p.name] == []
    # fixed on the server: the rerun completes
    server.broken.clear()
    assert download(tmp_path, server, "dev").returncode == 0
    assert (tmp_path / "dev_data/valve/test/section_00_source_test_normal_0000_a.wav").exists()


def test_server_error_on_the_record(tmp_path, server):
    server.record_error = True
    run = download(tmp_path, server, "dev")
    assert run.returncode == 1
    last = error_line(run)
    assert "cannot fetch the file list of record 6355122" in last and "500" in last


def test_archive_writing_outside_the_target_is_refused(tmp_path, server):
    server.files["dev_valve.zip"] = zip_bytes({"../valve/train/x.wav": "escape",
                                               "valve/train/y.wav": "fine"})
    run = download(tmp_path, server, "dev", "-m", "valve")
    assert run.returncode == 1
    assert "would write outside the target folder (../valve/train/x.wav)" in run.stderr
    assert not (tmp_path / "valve").exists() and not (tmp_path / "dev_data" / "valve").exists()


def test_unknown_machine_type(tmp_path, server):
    run = download(tmp_path, server, "dev", "-m", "pump")
    assert run.returncode == 1 and "unknown machine type pump" in run.stderr


def test_rerun_restores_deleted_files_from_the_kept_archive(tmp_path, server):
    assert download(tmp_path, server, "dev").returncode == 0
    root = tmp_path / "dev_data"
    original = {name: (root / name).read_bytes() for name in clip_files(root)}
    fetched = len(server.downloads())
    # the user deletes a machine folder, a single clip, and changes another clip
    import shutil
    shutil.rmtree(root / "fan")
    (root / "valve/test/section_00_source_test_normal_0000_a.wav").unlink()
    changed = root / "valve/train/section_00_source_train_normal_0000_a.wav"
    changed.write_bytes(b"the user's own copy")
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0, run.stderr
    assert "already fetched and unpacked" not in run.stderr
    assert "restored 3 missing files of dev_fan.zip in " in run.stderr
    assert "restored 1 missing file of dev_valve.zip in " in run.stderr
    assert "; 2 files already there left as they are" in run.stderr
    assert len(server.downloads()) == fetched           # from .downloads, nothing fetched
    assert clip_files(root) == sorted(original)
    for name, data in original.items():
        if root / name != changed:
            assert (root / name).read_bytes() == data, name
    assert changed.read_bytes() == b"the user's own copy"
    assert not [p for p in root.iterdir() if p.name.startswith(".unpack-")]
    # everything is there now: the next run restores nothing
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0 and run.stderr.count("already fetched and unpacked") == 2
    assert "restored" not in run.stderr


def test_rerun_without_the_kept_archive_fetches_it_again_only_where_files_are_missing(
        tmp_path, server):
    assert download(tmp_path, server, "dev").returncode == 0
    root = tmp_path / "dev_data"
    for name in ("dev_fan.zip", "dev_valve.zip"):       # the user frees the disk space
        (root / ".downloads" / name).unlink()
    run = download(tmp_path, server, "dev")             # all files there: nothing fetched
    assert run.returncode == 0 and run.stderr.count("already fetched and unpacked") == 2
    assert len(server.downloads()) == 2
    clip = root / "fan/test/section_00_source_test_normal_0000_a.wav"
    clip.unlink()
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0, run.stderr
    assert (f"dev_fan.zip: 1 file missing in {root / 'fan'} and the archive is no longer in "
            f"{root / '.downloads'}; fetching it again") in run.stderr
    assert "restored 1 missing file of dev_fan.zip" in run.stderr
    assert server.downloads()[2:] == ["/files/dev_fan.zip"]
    assert clip.read_text() == "fan test"


def test_archive_found_in_downloads_is_verified_not_shown_as_a_download(tmp_path, server):
    run = download(tmp_path, server, "dev", "-m", "valve")
    assert run.returncode == 0 and "/s]" in run.stderr   # a real download has its progress bar
    for marker in (tmp_path / "dev_data" / ".downloads").glob("*.unpacked"):
        marker.unlink()
    run = download(tmp_path, server, "dev", "-m", "valve")
    assert run.returncode == 0, run.stderr
    assert (f"dev_valve.zip: found in {tmp_path / 'dev_data' / '.downloads'}, MD5 verified; "
            f"not downloaded") in run.stderr
    assert "/s]" not in run.stderr and "B/s" not in run.stderr and "%|" not in run.stderr
    assert "dev_valve.zip: all 3 files already in" in run.stderr
    assert len(server.downloads()) == 1
    # a kept archive that no longer matches its checksum is downloaded anew
    kept = tmp_path / "dev_data/.downloads/dev_valve.zip"
    kept.write_bytes(b"x" * len(server.files["dev_valve.zip"]))
    (tmp_path / "dev_data/valve/attributes_00.csv").unlink()
    run = download(tmp_path, server, "dev", "-m", "valve")
    assert run.returncode == 0, run.stderr
    assert f"{kept}: MD5 checksum" in run.stderr and "downloading it anew" in run.stderr
    assert kept.read_bytes() == server.files["dev_valve.zip"]
    assert (tmp_path / "dev_data/valve/attributes_00.csv").read_text() == "file_name,d1p\n"


def test_list_says_when_nothing_needs_fetching(tmp_path, server):
    assert download(tmp_path, server, "dev").returncode == 0
    root = tmp_path / "dev_data"
    run = download(tmp_path, server, "dev", "--list")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["dev_fan.zip", "dev_valve.zip"]
    assert all(line.endswith("present") for line in lines[:2])
    assert f"-> {root / 'fan'}  present" in lines[0]
    total = sum(len(server.files[f"dev_{m}.zip"]) for m in MACHINES) / 1e6
    assert lines[2] == f"nothing needs fetching: all 2 archives are in {root} ({total:.1f} MB)"
    # a deleted clip is restored from .downloads: still nothing to fetch, but said
    (root / "valve/test/section_00_source_test_normal_0000_a.wav").unlink()
    lines = download(tmp_path, server, "dev", "--list").stdout.strip().splitlines()
    assert lines[1].endswith("1 file missing, to restore from .downloads")
    assert lines[2].startswith("nothing needs fetching") and lines[2].endswith(
        "; 1 archive to unpack or restore from .downloads, run without --list")
    # without the kept archive it must be fetched again
    (root / ".downloads/dev_valve.zip").unlink()
    lines = download(tmp_path, server, "dev", "--list").stdout.strip().splitlines()
    assert lines[1].endswith("1 file missing, to fetch again")
    size = len(server.files["dev_valve.zip"]) / 1e6
    assert lines[2].split()[0] == "total"
    assert f"{size:.1f} MB  to fetch: 1 of 2 archives" in lines[2]
    assert len(server.downloads()) == 2
    assert not (root / "valve/test/section_00_source_test_normal_0000_a.wav").exists()


def test_marker_of_an_older_download_py_without_a_list_of_files(tmp_path, server):
    assert download(tmp_path, server, "dev").returncode == 0
    root = tmp_path / "dev_data"
    for marker in (root / ".downloads").glob("*.unpacked"):
        marker.write_text("")                       # as download.py wrote them before
    clip = root / "fan/train/section_00_source_train_normal_0000_a.wav"
    clip.unlink()
    run = download(tmp_path, server, "dev")         # the list comes from the kept archive
    assert run.returncode == 0, run.stderr
    assert "restored 1 missing file of dev_fan.zip" in run.stderr
    assert "dev_valve.zip: already fetched and unpacked, all 3 files present" in run.stderr
    assert clip.read_text() == "fan train" and len(server.downloads()) == 2
    assert all(json.loads(m.read_text())["files"]
               for m in (root / ".downloads").glob("*.unpacked"))
    # an older marker and no archive: the files cannot be checked, so it is fetched again
    (root / ".downloads/dev_valve.zip.{}.unpacked".format(
        hashlib.md5(server.files["dev_valve.zip"]).hexdigest())).write_text("")
    (root / ".downloads/dev_valve.zip").unlink()
    run = download(tmp_path, server, "dev")
    assert run.returncode == 0, run.stderr
    assert "dev_valve.zip: its list of files is unknown (unpacked by an older download.py)" \
        in run.stderr and server.downloads()[2:] == ["/files/dev_valve.zip"]
    assert "dev_valve.zip: all 3 files already in" in run.stderr
