"""configuration.py: the keys, their rules and defaults, reading the file, the effective
configuration."""
import pytest
import yaml

from helpers import ROOT
from dcase_baseline import configuration
from dcase_baseline.errors import BaselineError

def test_project_config_is_the_default():
    config, notes = configuration.load_config(ROOT / "baseline.yaml")
    # baseline.yaml names the 2022 baseline's channel handling; left out, it follows the year
    assert config["feature"].pop("channel") == "mean" and notes == []
    assert configuration.DEFAULT_CONFIG["feature"]["channel"] is None
    assert config == {**configuration.DEFAULT_CONFIG, "feature": {
        k: v for k, v in configuration.DEFAULT_CONFIG["feature"].items() if k != "channel"}}


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
    ({"feature.win_length": 2048}, "feature.win_length = 2048 is longer than feature.n_fft = "
                                   "1024; set it to at most n_fft"),
    ({"feature.fmin": 500, "feature.fmax": 400}, "feature.fmin = 500 Hz is not below "
                                                 "feature.fmax = 400 Hz"),
    ({"feature.fmax": "high"}, "'feature.fmax' must be a frequency in Hz > 0, or empty"),
    ({"feature.fmin": -1}, "'feature.fmin' must be a frequency in Hz >= 0"),
    ({"feature.win_length": 0.5}, "'feature.win_length' must be a window length in samples"),
    ({"model_per": "clip"}, "'model_per' must be machine \\(one model per machine type\\) or "
                            "section"),
])
def test_config_errors_name_the_key(tmp_path, changes, message):
    path = config_with(tmp_path, **changes)
    with pytest.raises(BaselineError, match=message):
        configuration.load_config(path)


def test_missing_key_takes_the_default_with_a_note(tmp_path):
    path = config_with(tmp_path, text_change=lambda c: (c.pop("max_fpr"), c["fit"].pop("lr")))
    config, notes = configuration.load_config(path)
    assert config["max_fpr"] == 0.1 and config["fit"]["lr"] == 0.001
    assert len(notes) == 2 and "'max_fpr' is missing" in notes[0] and "fit.lr" in notes[1]


def test_unreadable_config(tmp_path):
    with pytest.raises(BaselineError, match="configuration file not found"):
        configuration.load_config(tmp_path / "nothing.yaml")
    (tmp_path / "bad.yaml").write_text("fit: [unclosed")
    with pytest.raises(BaselineError, match="cannot read configuration"):
        configuration.load_config(tmp_path / "bad.yaml")


def test_an_empty_log_file_means_none(tmp_path):
    config, _ = configuration.load_config(config_with(tmp_path, log_file=None))
    assert config["log_file"] is None
    with pytest.raises(BaselineError, match="'log_file' must be a file name, or empty for none"):
        configuration.load_config(config_with(tmp_path, log_file=3))


def test_the_effective_configuration_is_the_scripts(tmp_path):
    # what download.py and the tests read is what the scripts run with: the year's channel,
    # the folders of --run
    path = config_with(tmp_path, year=2026, text_change=lambda c: c["feature"].pop("channel"))
    run = configuration.effective(path, "seed1")
    assert run.config["feature"]["channel"] == 0 and run.year.year == 2026
    assert run.config["model_directory"] == "./model/seed1"
    assert run.config["result_directory"] == "./result/seed1"
    assert run.said[0] == "run seed1: models in ./model/seed1, results in ./result/seed1"
