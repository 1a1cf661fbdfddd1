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

from helpers import ROOT, write_config

# the tests here run the scripts in processes of their own (or wait on those of a fixture)
pytestmark = pytest.mark.slow

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
    """Records 6355122 (dev), 6462969 and 6586456 (eval) with small zips in the DCASE layout,
    or the records that publish() puts in their place.

    files: archive name -> bytes; records: record -> the names of its archives (other records
    are not found, 404); broken: archive name -> "corrupt" (other bytes than its checksum),
    "cut" (the connection closes half-way), or "500"; record_error answers every record request
    with HTTP 500."""

    def __init__(self):
        self.files = {f"dev_{m}.zip": dev_archive(m) for m in MACHINES}
        self.files["dev_fan.zip"] = dev_archive("fan", prefix="dev_data/")  # extra leading folder
        for m in MACHINES:
            self.files[f"eval_data_{m}_train.zip"] = zip_bytes(
                {f"{m}/train/section_03_source_train_normal_0000_a.wav": "eval train"})
            self.files[f"eval_data_{m}_test.zip"] = zip_bytes(
                {f"{m}/test/section_03_test_0000.wav": "eval test"})
        self.records = {"6355122": [n for n in self.files if n.startswith("dev_")],
                        "6462969": [n for n in self.files if n.endswith("_train.zip")],
                        "6586456": [n for n in self.files if n.endswith("_test.zip")]}
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
                if record not in server.records:
                    return self.send_error(404)
                files = [{"key": name, "size": len(server.files[name]),
                          "checksum": "md5:" + hashlib.md5(server.files[name]).hexdigest(),
                          "links": {"self": f"{server.url}/files/{name}"}}
                         for name in server.records[record]]
                body = json.dumps({"id": record, "files": files}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, records):
        """Serve these records instead: {record: {archive name: bytes}}."""
        self.records = {record: list(files) for record, files in records.items()}
        self.files = {name: data for files in records.values() for name, data in files.items()}

    def downloads(self):
        return [r for r in self.requests if r.startswith("/files/")]

    def record_requests(self):
        return [r.rsplit("/", 1)[1] for r in self.requests if r.startswith("/api/records/")]


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
    from dcase_baseline import clips
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


# Every year's records in that year's naming: year -> mode -> record -> archive name ->
# (folder above the machine folder in the archive, machine folder, its files). Some archives
# carry an extra leading folder; 2020 and 2021 name the additional training archives both ways
# (eval_data_train_<m>.zip and eval_data_<m>_train.zip); re-issues (_r2) sit beside the archive
# they replace, which holds an extra file (old.wav) that must not be unpacked.
YEARS = {
    2020: {"dev": {"3678171": {
        "dev_data_fan.zip": ("", "fan", ["train/normal_id_00_00000000.wav",
                                         "test/normal_id_00_00000000.wav",
                                         "test/anomaly_id_00_00000000.wav"]),
        "dev_data_ToyCar.zip": ("dev_data/", "ToyCar", ["train/normal_id_01_00000000.wav",
                                                        "test/anomaly_id_01_00000000.wav"])}},
        "eval": {"3727685": {
            "eval_data_train_fan.zip": ("", "fan", ["train/normal_id_01_00000000.wav"]),
            "eval_data_ToyCar_train.zip": ("eval_data/", "ToyCar",
                                           ["train/normal_id_05_00000000.wav"])},
            "3841772": {
            "eval_data_test_fan.zip": ("", "fan", ["test/id_01_00000000.wav"]),
            "eval_data_ToyCar_test.zip": ("", "ToyCar", ["test/id_05_00000000.wav"])}}},
    2021: {"dev": {"4562016": {
        "dev_data_gearbox.zip": ("", "gearbox", [
            "train/section_00_source_train_normal_0000_volt_1.0.wav",
            "train/section_00_target_train_normal_0000_volt_2.0.wav",
            "source_test/section_00_source_test_normal_0000.wav",
            "source_test/section_00_source_test_anomaly_0000.wav",
            "target_test/section_00_target_test_normal_0000.wav",
            "target_test/section_00_target_test_anomaly_0000.wav"]),
        "dev_data_ToyTrain.zip": ("dev_data/", "ToyTrain", [
            "train/section_01_source_train_normal_0000_car_A1.wav",
            "source_test/section_01_source_test_normal_0000.wav",
            "target_test/section_01_target_test_anomaly_0000.wav"])}},
        "eval": {"4660992": {
            "eval_data_train_gearbox.zip": ("", "gearbox", [
                "train/section_03_source_train_normal_0000_volt_1.0.wav"]),
            "eval_data_ToyTrain_train.zip": ("", "ToyTrain", [
                "train/section_03_target_train_normal_0000_car_B2.wav"])},
            "4884786": {
            "eval_data_test_gearbox.zip": ("eval_data/", "gearbox", [
                "source_test/section_03_source_test_0000.wav",
                "target_test/section_03_target_test_0000.wav"]),
            "eval_data_ToyTrain_test.zip": ("", "ToyTrain", [
                "source_test/section_03_source_test_0000.wav",
                "target_test/section_03_target_test_0000.wav"])}}},
    2022: {"dev": {"6355122": {
        "dev_bearing.zip": ("dev_data/", "bearing", [
            "attributes_00.csv", "train/section_00_source_train_normal_0000_vel_6.wav",
            "test/section_00_target_test_anomaly_0000_vel_8.wav"])}},
        "eval": {"6462969": {"eval_data_bearing_train.zip": ("", "bearing", [
            "train/section_03_source_train_normal_0000_vel_6.wav"])},
            "6586456": {"eval_data_bearing_test.zip": ("", "bearing", [
                "test/section_03_0000.wav"])}}},
    2023: {"dev": {"7882613": {
        "dev_slider.zip": ("dev_data/", "slider", [
            "train/section_00_source_train_normal_0000_vel_1000.wav",
            "test/section_00_source_test_anomaly_0000_vel_1000.wav"])}},
        "eval": {"7830345": {"eval_data_bandsaw_train.zip": ("", "bandsaw", [
            "train/section_00_source_train_normal_0000_vel_6.wav"])},
            "7860847": {"eval_data_bandsaw_test.zip": ("", "bandsaw", [
                "test/section_00_0000.wav"])}}},
    2024: {"dev": {"10902294": {
        "dev_gearbox.zip": ("", "gearbox", [
            "train/section_00_source_train_normal_0000_noAttribute.wav",
            "test/section_00_target_test_normal_0000_noAttribute.wav"])}},
        "eval": {"11259435": {
            "eval_data_3DPrinter_train_r2.zip": ("", "3DPrinter", [
                "train/section_00_source_train_normal_0000_attr.wav"]),
            "eval_data_3DPrinter_train.zip": ("", "3DPrinter", [
                "train/section_00_source_train_normal_0000_attr.wav", "train/old.wav"]),
            "eval_data_RoboticArm_train.zip": ("eval_data/", "RoboticArm", [
                "train/section_00_source_train_normal_0000_weight15.wav", "train/old.wav"]),
            "eval_data_RoboticArm_train_r2.zip": ("eval_data/", "RoboticArm", [
                "train/section_00_source_train_normal_0000_weight15.wav"]),
            "eval_data_AirCompressor_train.zip": ("", "AirCompressor", [
                "train/section_00_source_train_normal_0000_noAttribute.wav"])},
            "11363076": {
            "eval_data_3DPrinter_test.zip": ("", "3DPrinter", ["test/section_00_0001.wav"]),
            "eval_data_RoboticArm_test.zip": ("", "RoboticArm", ["test/section_00_0000.wav"]),
            "eval_data_AirCompressor_test.zip": ("", "AirCompressor", [
                "test/section_00_0001.wav"])}}},
    2025: {"dev": {"15097779": {
        "dev_ToyCar.zip": ("", "ToyCar", [
            "train/section_00_source_train_normal_0000_car_A1_spd_28V_mic_1_noAttribute.wav",
            "test/section_00_source_test_normal_0000_noAttribute.wav"])}},
        "eval": {"15392814": {"eval_data_AutoTrash_train.zip": ("eval_data/", "AutoTrash", [
            "train/section_00_source_train_normal_0000_noAttribute.wav",
            "supplemental/section_00_machine_0000_.wav"])},
            "15519362": {"eval_data_AutoTrash_test.zip": ("", "AutoTrash", [
                "test/section_00_0000.wav"])}}},
    2026: {"dev": {"19336329": {
        "dev_ToyCar.zip": ("", "ToyCar", [
            "train/section_00_source_train_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav",
            "test/section_00_source_test_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav",
            "test/old.wav"]),
        "dev_ToyCar_r2.zip": ("", "ToyCar", [
            "train/section_00_source_train_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav",
            "test/section_00_source_test_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav"]),
        "dev_fanEmu.zip": ("dev_data/", "fanEmu", [
            "train/section_00_source_train_normal_0000_noise_1.wav"])}},
        "eval": {"20151556": {"eval_data_Sander_train.zip": ("", "Sander", [
            "train/section_00_source_train_normal_0000_noise_1.wav"])},
            "20437238": {"eval_data_Sander_test.zip": ("", "Sander", [
                "test/section_00_0000.wav"])}}},
}
REPLACED = {2024: {"eval_data_3DPrinter_train.zip", "eval_data_RoboticArm_train.zip"},
            2026: {"dev_ToyCar.zip"}}
SETS = {"dev": "development set", "eval": "additional training and evaluation test data"}


def year_archive(name, prefix, machine, files):
    """An archive whose clips say which archive they came from."""
    return zip_bytes({f"{prefix}{machine}/{file}": f"{name}: {file}" for file in files})


def publish_year(server, year):
    server.publish({record: {name: year_archive(name, *spec) for name, spec in archives_.items()}
                    for mode in ("dev", "eval") for record, archives_ in YEARS[year][mode].items()})
    server.records[next(iter(YEARS[year]["eval"]))].append("eval_data_list.csv")  # no archive
    server.files["eval_data_list.csv"] = b"not an archive\n"


def expected_files(year, mode):
    """{file in the data folder: the archive it comes from} of a year's mode."""
    return {f"{machine}/{file}": name
            for archives_ in YEARS[year][mode].values()
            for name, (_, machine, files) in archives_.items() if name not in REPLACED.get(year, ())
            for file in files}


@pytest.mark.parametrize("year", sorted(YEARS))
def test_every_year_in_the_layout_its_runs_read(tmp_path, server, year):
    publish_year(server, year)
    records = {mode: list(YEARS[year][mode]) for mode in ("dev", "eval")}
    for mode in ("dev", "eval"):
        server.requests.clear()
        run = download(tmp_path, server, mode, "--list", "--year", str(year))
        assert run.returncode == 0, run.stderr
        lines = run.stdout.strip().splitlines()
        assert lines[0] == f"DCASE {year}, {SETS[mode]}: records {', '.join(records[mode])}"
        assert server.downloads() == [] and server.record_requests() == records[mode]
        assert len({line.index(" MB ") for line in lines[1:]}) == 1      # one column of sizes
    for mode in ("dev", "eval"):
        server.requests.clear()
        run = download(tmp_path, server, mode, "--year", str(year))
        assert run.returncode == 0, run.stderr
        assert (f"DCASE {year}, {SETS[mode]}: records {', '.join(records[mode])} -> "
                f"{tmp_path / f'{mode}_data'}") in run.stderr
        assert server.record_requests() == records[mode]
        expected = expected_files(year, mode)
        fetched = sorted(set(expected.values()))
        assert sorted(server.downloads()) == [f"/files/{name}" for name in fetched]
        root = tmp_path / f"{mode}_data"
        assert clip_files(root) == sorted(expected)
        for file, name in expected.items():
            assert (root / file).read_text() == f"{name}: {file.split('/', 1)[1]}"
    if year == 2021:      # two test folders, kept as they are
        assert not (tmp_path / "dev_data/gearbox/test").exists()
        assert (tmp_path / "dev_data/gearbox/source_test").is_dir()
        assert (tmp_path / "eval_data/ToyTrain/target_test").is_dir()


def test_reissue_is_fetched_instead_of_the_archive_it_replaces(tmp_path, server):
    publish_year(server, 2026)
    run = download(tmp_path, server, "dev", "--list", "--year", "2026")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[1:]] == [
        "dev_ToyCar_r2.zip", "dev_ToyCar.zip", "dev_fanEmu.zip", "total"]
    assert lines[2].endswith("MB  replaced by dev_ToyCar_r2.zip; not fetched")
    assert "to fetch: 2 of 2 archives" in lines[-1]
    run = download(tmp_path, server, "dev", "--year", "2026", "-m", "ToyCar")   # _r2 stripped
    assert run.returncode == 0, run.stderr
    assert "[1/1] dev_ToyCar_r2.zip: re-issued, replaces dev_ToyCar.zip (not fetched)" \
        in run.stderr
    assert server.downloads() == ["/files/dev_ToyCar_r2.zip"]
    assert not (tmp_path / "dev_data/ToyCar/test/old.wav").exists()


def test_reissue_over_files_of_the_archive_it_replaces(tmp_path, server):
    publish_year(server, 2026)
    server.records["19336329"].remove("dev_ToyCar_r2.zip")      # before the re-issue
    assert download(tmp_path, server, "dev", "--year", "2026").returncode == 0
    root = tmp_path / "dev_data"
    clip = (root / "ToyCar/train"
            / "section_00_source_train_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav")
    assert clip.read_text().startswith("dev_ToyCar.zip: ")
    server.records["19336329"].append("dev_ToyCar_r2.zip")      # the re-issue appears
    lines = download(tmp_path, server, "dev", "--year", "2026", "--list").stdout.splitlines()
    assert lines[2].endswith(f"replaced by dev_ToyCar_r2.zip; not fetched; {root / 'ToyCar'} "
                             f"holds files unpacked from it: delete it and run again to have "
                             f"the files of dev_ToyCar_r2.zip only")
    run = download(tmp_path, server, "dev", "--year", "2026")
    assert run.returncode == 0, run.stderr
    warning = (f"dev_ToyCar_r2.zip: {root / 'ToyCar'} holds files unpacked from dev_ToyCar.zip, "
               f"which dev_ToyCar_r2.zip replaces; they are kept as they are")
    assert warning in run.stderr and " - WARNING - " in run.stderr
    assert clip.read_text().startswith("dev_ToyCar.zip: ")        # nothing overwritten
    run = download(tmp_path, server, "dev", "--year", "2026")       # said again while so
    assert warning in run.stderr and "already fetched and unpacked" in run.stderr
    import shutil
    shutil.rmtree(root / "ToyCar")                                  # as the warning says
    run = download(tmp_path, server, "dev", "--year", "2026")
    assert run.returncode == 0, run.stderr
    assert "restored 2 missing files of dev_ToyCar_r2.zip" in run.stderr
    assert "WARNING" not in run.stderr
    assert clip.read_text().startswith("dev_ToyCar_r2.zip: ")
    assert not (root / "ToyCar/test/old.wav").exists()
    run = download(tmp_path, server, "dev", "--year", "2026")
    assert "WARNING" not in run.stderr and run.stderr.count("already fetched and unpacked") == 2
    lines = download(tmp_path, server, "dev", "--year", "2026", "--list").stdout.splitlines()
    assert lines[2].endswith("replaced by dev_ToyCar_r2.zip; not fetched")


def config_without_year(tmp_path):
    config = write_config(tmp_path, dev_directory=str(tmp_path / "dev_data"),
                          eval_directory=str(tmp_path / "eval_data"))
    import yaml
    values = yaml.safe_load(config.read_text())
    values.pop("year", None)
    config.write_text(yaml.safe_dump(values))
    return config


def test_default_year_is_2022_with_todays_output(tmp_path, server):
    config = config_without_year(tmp_path)
    run = subprocess.run([sys.executable, str(ROOT / "download.py"), "dev", "--list", "-c",
                          str(config), "--server", server.url], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert server.record_requests() == ["6355122"]
    assert run.stdout.splitlines()[0].startswith("dev_fan.zip ")    # no year line: as before
    named = download(tmp_path, server, "dev", "--list", "--year", "2022")
    assert named.stdout.splitlines() == [
        "DCASE 2022, development set: records 6355122"] + run.stdout.splitlines()
    run = download(tmp_path, server, "dev", "--year", "2019")
    assert run.returncode == 2 and "--year: invalid choice: 2019" in run.stderr


def test_year_of_the_configuration(tmp_path, server):
    publish_year(server, 2024)
    config = write_config(tmp_path, dev_directory=str(tmp_path / "dev_data"),
                          eval_directory=str(tmp_path / "eval_data"), year=2024)
    run = subprocess.run([sys.executable, str(ROOT / "download.py"), "eval", "--list", "-c",
                          str(config), "--server", server.url], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "DCASE 2024, additional training and evaluation test data: records 11259435, 11363076")
    assert server.record_requests() == ["11259435", "11363076"]
