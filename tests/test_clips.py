"""clips.py: clip-name parsing and the file lists and test units built from it."""
import pytest

from dcase_baseline import clip_names, clips, years
from dcase_baseline.errors import BaselineError

Y2020, Y2021, Y2022 = (years.YEARS[y] for y in (2020, 2021, 2022))

FIELDS = ("section", "domain", "split", "label", "index", "attributes")


@pytest.mark.parametrize("name, expected", [
    ("section_00_source_train_normal_0000_m-n_W.wav",
     ("00", "source", "train", "normal", "0000", "m-n_W")),
    ("section_02_target_test_anomaly_0049_vel_21_loc_A.wav",
     ("02", "target", "test", "anomaly", "0049", "vel_21_loc_A")),
    ("section_01_source_test_normal_0007_.wav", ("01", "source", "test", "normal", "0007", "")),
    ("section_00_source_train_normal_0001_noAttribute.wav",
     ("00", "source", "train", "normal", "0001", "noAttribute")),
    ("section_00_target_train_normal_0003_a-b.c_d.wav",
     ("00", "target", "train", "normal", "0003", "a-b.c_d")),
    ("section_03_test_0199.wav", ("03", None, "test", None, "0199", None)),
    ("section_03_0199.wav", ("03", None, None, None, "0199", None)),
])
def test_parse_clip_name(name, expected):
    fields = dict(zip(FIELDS, expected))
    assert clip_names.parse(name, Y2022) == fields
    assert clip_names.parse(f"/data/source/target/{name}", Y2022) == fields


@pytest.mark.parametrize("name", ["normal_id_00_00000000.wav", "section_0_test_0000.wav",
                                  "section_00_source_train_normal_0000_x.flac", "notes.txt",
                                  "section_00_source_train_normal_.wav"])
def test_names_outside_the_scheme(name):
    assert clip_names.parse(name, Y2022) is None


def test_ground_truth_key_accepts_both_evaluation_spellings():
    assert clip_names.ground_truth_key("section_03_test_0007.wav", Y2022) == "section_03_0007"
    assert clip_names.ground_truth_key("section_03_0007.wav", Y2022) == "section_03_0007"


def touch(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_development_file_lists(tmp_path):
    machine = tmp_path / "source"          # a folder named like a domain must not matter
    touch(machine / "train", ["section_01_target_train_normal_0000_b.wav",
                              "section_00_source_train_normal_0001_a.wav",
                              "section_00_source_train_normal_0000_.wav",
                              "readme.wav"])
    touch(machine / "test", ["section_01_target_test_anomaly_0000_x-y_z.wav",
                             "section_00_target_test_normal_0000_k.wav",
                             "section_00_source_test_anomaly_0000_k.wav",
                             "section_00_source_test_normal_0001_k.wav",
                             "section_00_source_test_normal_0000_k.wav"])
    assert [p.name for p in clips.train_files(machine, True, Y2022)] == [
        "section_00_source_train_normal_0000_.wav", "section_00_source_train_normal_0001_a.wav",
        "section_01_target_train_normal_0000_b.wav"]
    found = clips.units(machine, True, Y2022)
    assert [(unit.name, unit.keys) for unit in found] == [("section_00", ("00",)),
                                                          ("section_01", ("01",))]
    _, _, paths, labels, domains = found[0]
    assert [p.name for p in paths] == ["section_00_source_test_normal_0000_k.wav",
                                       "section_00_source_test_normal_0001_k.wav",
                                       "section_00_target_test_normal_0000_k.wav",
                                       "section_00_source_test_anomaly_0000_k.wav"]
    assert labels.tolist() == [0, 0, 0, 1]
    assert domains.tolist() == ["source", "source", "target", "source"]


def test_evaluation_file_lists(tmp_path):
    machine = tmp_path / "fan"
    touch(machine / "train", ["section_03_source_train_normal_0000_a.wav",
                              "section_03_target_train_normal_0000_a.wav"])
    touch(machine / "test", ["section_04_test_0000.wav", "section_03_test_0001.wav",
                             "section_03_test_0000.wav"])
    assert len(clips.train_files(machine, False, Y2022)) == 2
    found = clips.units(machine, False, Y2022)
    assert [unit.name for unit in found] == ["section_03", "section_04"]
    _, _, paths, labels, domains = found[0]
    assert [p.name for p in paths] == ["section_03_test_0000.wav", "section_03_test_0001.wav"]
    assert labels is None and domains is None


def test_machine_dirs_sorted_selected_and_checked(tmp_path):
    for name in ["valve", "ToyCar", "fan"]:
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not a machine")
    assert [d.name for d in clips.machine_dirs(tmp_path, "dev_directory")] == ["ToyCar", "fan",
                                                                               "valve"]
    assert [d.name for d in clips.machine_dirs(tmp_path, "dev_directory", ["valve"])] == ["valve"]
    with pytest.raises(BaselineError, match="unknown machine type pump.*ToyCar, fan, valve"):
        clips.machine_dirs(tmp_path, "dev_directory", ["pump"])
    with pytest.raises(BaselineError, match="dev_directory folder not found"):
        clips.machine_dirs(tmp_path / "missing", "dev_directory")


@pytest.mark.parametrize("layout, message", [
    ({}, "folder not found: .*train"),
    ({"train": []}, "no clips in .*train"),
    ({"train": ["clip.wav"]}, "no clips in .*train"),
    ({"train": ["section_00_source_train_anomaly_0000_a.wav"]}, "no normal training clips"),
])
def test_training_layout_errors_name_the_folder(tmp_path, layout, message):
    machine = tmp_path / "valve"
    machine.mkdir()
    for folder, names in layout.items():
        touch(machine / folder, names)
    with pytest.raises(BaselineError, match=message):
        clips.train_files(machine, True, Y2022)


def test_2020_names_and_machine_ids(tmp_path):
    assert clip_names.parse("anomaly_id_02_00000013.wav", Y2020) == {
        "label": "anomaly", "id": "02", "index": "00000013"}
    assert clip_names.parse("id_05_00000000.wav", Y2020)["label"] is None
    assert clip_names.parse("section_00_source_test_normal_0000_a.wav", Y2020) is None
    machine = tmp_path / "ToyCar"
    touch(machine / "train", ["normal_id_01_00000001.wav", "normal_id_01_00000000.wav"])
    touch(machine / "test", ["anomaly_id_02_00000000.wav", "normal_id_02_00000000.wav",
                             "normal_id_01_00000000.wav", "anomaly_id_01_00000000.wav"])
    assert [p.name for p in clips.train_files(machine, True, Y2020)] == [
        "normal_id_01_00000000.wav", "normal_id_01_00000001.wav"]
    found = clips.units(machine, True, Y2020)
    assert [(u.name, u.keys, [p.name for p in u.paths], u.labels.tolist()) for u in found] == [
        ("id_01", ("01",), ["normal_id_01_00000000.wav", "anomaly_id_01_00000000.wav"], [0, 1]),
        ("id_02", ("02",), ["normal_id_02_00000000.wav", "anomaly_id_02_00000000.wav"], [0, 1])]


def test_2021_units_are_sections_of_each_domain_folder(tmp_path):
    machine = tmp_path / "gearbox"
    touch(machine / "source_test", ["section_01_source_test_normal_0000.wav",
                                    "section_00_source_test_anomaly_0000.wav",
                                    "section_00_source_test_normal_0000.wav"])
    touch(machine / "target_test", ["section_00_target_test_normal_0000.wav",
                                    "section_00_target_test_anomaly_0000.wav"])
    found = clips.units(machine, True, Y2021)
    assert [(unit.name, unit.keys) for unit in found] == [
        ("section_00_source", ("00", "source")), ("section_01_source", ("01", "source")),
        ("section_00_target", ("00", "target"))]
    assert found[0].domains.tolist() == ["source", "source"]
    assert found[2].domains.tolist() == ["target", "target"]
    assert [p.name for p in found[2].paths] == ["section_00_target_test_normal_0000.wav",
                                                "section_00_target_test_anomaly_0000.wav"]


def test_names_of_another_year_are_said_once(tmp_path, caplog):
    from make_demo_data import make_dataset
    make_dataset(tmp_path / "data", seconds=0.1, year=2020)
    with pytest.raises(BaselineError) as error:
        clips.train_files(tmp_path / "data" / "motor", True, Y2022)
    assert ("they look like DCASE 2020 (year: 2020) names; set year in the configuration"
            in str(error.value))
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    # a folder of both: the others in one warning
    train = tmp_path / "data" / "motor" / "train"
    (train / "section_00_source_train_normal_0000_a.wav").write_bytes(b"")
    assert len(clips.train_files(tmp_path / "data" / "motor", True, Y2022)) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith(f"ignoring 28 files in {train} ")
