"""Clip-name parsing and the file lists built from it."""
import pytest

import clips
import common as com


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
    assert clips.parse_clip_name(name) == dict(zip(FIELDS, expected))
    assert clips.parse_clip_name(f"/data/source/target/{name}") == dict(zip(FIELDS, expected))


@pytest.mark.parametrize("name", ["normal_id_00_00000000.wav", "section_0_test_0000.wav",
                                  "section_00_source_train_normal_0000_x.flac", "notes.txt",
                                  "section_00_source_train_normal_.wav"])
def test_names_outside_the_scheme(name):
    assert clips.parse_clip_name(name) is None


def test_ground_truth_key_accepts_both_evaluation_spellings():
    assert clips.ground_truth_key("section_03_test_0007.wav") == "section_03_0007"
    assert clips.ground_truth_key("section_03_0007.wav") == "section_03_0007"


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
    assert [p.name for p in clips.train_files(machine, dev=True)] == [
        "section_00_source_train_normal_0000_.wav", "section_00_source_train_normal_0001_a.wav",
        "section_01_target_train_normal_0000_b.wav"]
    found = clips.sections(machine, dev=True)
    assert [section for section, *_ in found] == ["section_00", "section_01"]
    _, paths, labels, domains = found[0]
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
    assert len(clips.train_files(machine, dev=False)) == 2
    found = clips.sections(machine, dev=False)
    assert [section for section, *_ in found] == ["section_03", "section_04"]
    _, paths, labels, domains = found[0]
    assert [p.name for p in paths] == ["section_03_test_0000.wav", "section_03_test_0001.wav"]
    assert labels is None and domains is None


def test_machine_dirs_sorted_selected_and_checked(tmp_path):
    for name in ["valve", "ToyCar", "fan"]:
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not a machine")
    assert [d.name for d in clips.machine_dirs(tmp_path, "dev_directory")] == ["ToyCar", "fan",
                                                                             "valve"]
    assert [d.name for d in clips.machine_dirs(tmp_path, "dev_directory", ["valve"])] == ["valve"]
    with pytest.raises(com.BaselineError, match="unknown machine type pump.*ToyCar, fan, valve"):
        clips.machine_dirs(tmp_path, "dev_directory", ["pump"])
    with pytest.raises(com.BaselineError, match="dev_directory folder not found"):
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
    with pytest.raises(com.BaselineError, match=message):
        clips.train_files(machine, dev=True)
