"""common.py: the scripts' start-up, and no side effects at import."""
import os
import subprocess
import sys

import pytest
import yaml

import common as com
from helpers import ROOT

def test_importing_common_has_no_side_effects(tmp_path):
    code = ("import logging, common; "
            "assert not logging.getLogger('baseline').handlers; print('clean')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip() == "clean", result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("year, channel, said", [(2026, None, True), (2026, "mean", False),
                                                 (2024, None, False), (2026, 1, False)])
def test_a_channel_left_out_follows_the_year(tmp_path, caplog, year, channel, said):
    import logging
    for machine in ("fan",):
        (tmp_path / "data" / machine / "test").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "baseline.yaml").read_text())
    config.update(year=year, dev_directory=str(tmp_path / "data"), log_file="")
    if channel is None:
        del config["feature"]["channel"]
    else:
        config["feature"]["channel"] = channel
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    caplog.set_level(logging.INFO, logger="baseline")
    found, _, _ = com.start_run(com.parse_args("", ["-d", "-c", str(path)]))
    expected = (0 if year == 2026 else "mean") if channel is None else channel
    assert found["feature"]["channel"] == expected
    message = "feature.channel is not set: channel 0 of each clip (the left one, the near"
    assert (message in caplog.text) == said and "is missing" not in caplog.text
