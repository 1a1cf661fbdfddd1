"""result.csv layout, CSV bytes, atomic writes and configuration checks."""
import csv
import os
import subprocess
import sys

import pytest
import yaml

import common as com
import metrics
import outputs
from conftest import ROOT

HEADER = ["AUC (source)", "AUC (target)", "pAUC", "precision (source)", "precision (target)",
          "recall (source)", "recall (target)", "F1 score (source)", "F1 score (target)"]


def test_result_rows_layout_parsed_back(tmp_path):
    fan = [(("00",), [0.5, 1.0, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
           (("01",), [1.0, None, 0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])]
    valve = [(("00",), [0.25] * 9)]
    path = tmp_path / "result.csv"
    outputs.save_csv(path, metrics.result_rows([("fan", fan), ("valve", valve)]))
    rows = list(csv.reader(path.open(newline="")))
    assert rows[0] == ["fan"] and rows[1] == ["section"] + HEADER
    assert rows[2] == ["00", "0.5", "1.0", "0.25"] + ["0.5"] * 6
    assert rows[3] == ["01", "1.0", "", "0.5", "1.0", "0.0", "1.0", "0.0", "1.0", "0.0"]
    assert rows[4][0] == "arithmetic mean"
    assert [float(v) for v in rows[4][1:4]] == [0.75, 1.0, 0.375]
    assert rows[5][0] == "harmonic mean"
    # 2 / (1/0.5 + 1/1) = 2/3 ; 2 / (4 + 2) = 1/3
    assert float(rows[5][1]) == pytest.approx(2 / 3) and float(rows[5][3]) == pytest.approx(1 / 3)
    assert rows[6] == [] and rows[7] == ["valve"] and rows[9][0] == "00"
    assert rows[12] == [] and rows[13] == [""] + HEADER
    assert rows[14][0] == "arithmetic mean over all machine types, sections, and domains"
    # AUC (source) over all three sections: (0.5 + 1 + 0.25) / 3
    assert float(rows[14][1]) == pytest.approx(1.75 / 3)
    assert rows[15][0] == "harmonic mean over all machine types, sections, and domains"
    assert rows[16] == []
    # AUCs and pAUCs: 0.5 1 .25 | 1 .5 | .25 .25 .25 -> 8 / (2+1+4+1+2+4+4+4)
    assert rows[17][0] == "official score" and float(rows[17][1]) == pytest.approx(8 / 22)
    assert len(rows) == 18
    text = path.read_text()
    assert '\n"arithmetic mean over all machine types, sections, and domains",' in text
    assert "\r" not in text and text.endswith("\n")


def test_score_file_bytes(tmp_path):
    path = tmp_path / "anomaly_score_fan_section_00_test.csv"
    outputs.save_csv(path, [["a.wav", 9.718018345], ["b.wav", 8.0], ["c.wav", 1]])
    assert path.read_bytes() == b"a.wav,9.718018345\nb.wav,8.0\nc.wav,1\n"


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "model_fan.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with outputs.atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]
    with outputs.atomic_path(target) as tmp:
        open(tmp, "w").write("new")
    assert target.read_text() == "new" and sorted(tmp_path.iterdir()) == [target]


def test_project_config_is_the_default():
    config, notes = com.load_config(ROOT / "baseline.yaml")
    assert config == com.DEFAULT_CONFIG and notes == []


def config_with(tmp_path, text_change=None, **changes):
    config = yaml.safe_load((ROOT / "baseline.yaml").read_text())
    for key, value in changes.items():
        parent, *path = key.split(".")
        if path:
            config[parent][path[0]] = value
        else:
            config[parent] = value
    if text_change:
        text_change(config)
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("changes, message", [
    ({"n_mel": 128}, "unknown key 'n_mel'"),
    ({"feature.n_frames": 0}, "'feature.n_frames' must be an integer >= 1, got 0"),
    ({"feature.n_mels": "many"}, "'feature.n_mels' must be an integer >= 1"),
    ({"feature.power": 0}, "'feature.power' must be a number > 0"),
    ({"max_fpr": 1.5}, "'max_fpr' must be a number in \\(0, 1\\]"),
    ({"max_fpr": 0}, "'max_fpr' must be a number in \\(0, 1\\]"),
    ({"decision_threshold": 1.0}, "'decision_threshold' must be a number in \\(0, 1\\)"),
    ({"fit.epochs": 2.5}, "'fit.epochs' must be an integer >= 1"),
    ({"fit.shuffle": "yes"}, "'fit.shuffle' must be true or false"),
    ({"fit.validation_split": 1}, "'fit.validation_split' must be a number in \\[0, 1\\)"),
    ({"dev_directory": 3}, "'dev_directory' must be a text"),
    ({"fit": [1, 2]}, "'fit' must be a mapping"),
    ({"seed": -1}, "'seed' must be empty or an integer >= 0"),
])
def test_config_errors_name_the_key(tmp_path, changes, message):
    path = config_with(tmp_path, **changes)
    with pytest.raises(com.BaselineError, match=message):
        com.load_config(path)


def test_missing_key_takes_the_default_with_a_note(tmp_path):
    path = config_with(tmp_path, text_change=lambda c: (c.pop("max_fpr"), c["fit"].pop("lr")))
    config, notes = com.load_config(path)
    assert config["max_fpr"] == 0.1 and config["fit"]["lr"] == 0.001
    assert len(notes) == 2 and "'max_fpr' is missing" in notes[0] and "fit.lr" in notes[1]


def test_unreadable_config(tmp_path):
    with pytest.raises(com.BaselineError, match="configuration file not found"):
        com.load_config(tmp_path / "nothing.yaml")
    (tmp_path / "bad.yaml").write_text("fit: [unclosed")
    with pytest.raises(com.BaselineError, match="cannot read configuration"):
        com.load_config(tmp_path / "bad.yaml")


def test_importing_common_has_no_side_effects(tmp_path):
    code = ("import logging, common; "
            "assert not logging.getLogger('baseline').handlers; print('clean')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip() == "clean", result.stderr
    assert list(tmp_path.iterdir()) == []
