"""common.py: the configuration's checks, and no side effects at import."""
import os
import subprocess
import sys

import pytest
import yaml

import common as com
from conftest import ROOT
from dcase_baseline.errors import BaselineError

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
    with pytest.raises(BaselineError, match=message):
        com.load_config(path)


def test_missing_key_takes_the_default_with_a_note(tmp_path):
    path = config_with(tmp_path, text_change=lambda c: (c.pop("max_fpr"), c["fit"].pop("lr")))
    config, notes = com.load_config(path)
    assert config["max_fpr"] == 0.1 and config["fit"]["lr"] == 0.001
    assert len(notes) == 2 and "'max_fpr' is missing" in notes[0] and "fit.lr" in notes[1]


def test_unreadable_config(tmp_path):
    with pytest.raises(BaselineError, match="configuration file not found"):
        com.load_config(tmp_path / "nothing.yaml")
    (tmp_path / "bad.yaml").write_text("fit: [unclosed")
    with pytest.raises(BaselineError, match="cannot read configuration"):
        com.load_config(tmp_path / "bad.yaml")


def test_importing_common_has_no_side_effects(tmp_path):
    code = ("import logging, common; "
            "assert not logging.getLogger('baseline').handlers; print('clean')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip() == "clean", result.stderr
    assert list(tmp_path.iterdir()) == []
