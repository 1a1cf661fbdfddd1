"""What the tests share besides fixtures (conftest.py): the project's paths, configurations,
running the scripts as a user does, reading their files."""
import csv
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def shared_path(*parts):
    """A path under ../shared, or skip the test when users cloned the project without it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


def write_config(folder, **changes):
    """baseline.yaml of the project with some keys changed (nested ones as 'fit.epochs')."""
    config = yaml.safe_load((ROOT / "baseline.yaml").read_text())
    config.update({"model_directory": str(folder / "model"),
                   "result_directory": str(folder / "result"),
                   "log_file": str(folder / "baseline.log"),
                   "cache": {"enabled": True, "directory": str(folder / "cache")}})
    config["fit"].update(epochs=2, verbose=0)
    for key, value in changes.items():
        parent = config
        *path, last = key.split(".")
        for part in path:
            parent = parent[part]
        parent[last] = value
    path = folder / "baseline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def script_environment(**changes):
    """The environment the scripts run in: this one, TensorFlow quiet, output unbuffered."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **changes}


def run_script(script, *args, cwd, env=None, check=True):
    """Run 00_train.py or 01_test.py as a user would; returns the CompletedProcess."""
    result = subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd,
                            env=script_environment(**(env or {})), capture_output=True,
                            text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{script} {args} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def start(script, *args, cwd, env=None):
    """Start 00_train.py or 01_test.py in the background, stderr and stdout together in one
    pipe; finish() waits for it."""
    return subprocess.Popen([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd,
                            env=script_environment(**(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(*processes):
    """The output of each started process once it has ended, which it must have done
    successfully."""
    texts = [p.communicate(timeout=900)[0] for p in processes]
    for process, text in zip(processes, texts):
        assert process.returncode == 0, text[-3000:]
    return texts


class OutputLines:
    """The output of a started process, read line by line on a thread, so that a test can wait
    for a line with a timeout (a plain readline could block for ever)."""

    def __init__(self, process):
        self.process = process
        self.lines = []
        self._queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, wanted, timeout):
        """The next line for which wanted(line) is true; None when the output ends first or no
        such line comes within timeout seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self._queue.put(None)       # the end stays visible to later calls
                return None
            self.lines.append(line)
            if wanted(line):
                return line
        return None

    def text(self, timeout=120):
        """All the output, once the process has ended."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        self.wait_for(lambda line: False, timeout=timeout)      # the lines not yet read
        return "".join(self.lines)


def copy_machine(demo_dev, tmp_path, machine="motor"):
    """A data folder in tmp_path with a copy of one machine type of the demo set, to spoil."""
    data = tmp_path / "data"
    shutil.copytree(demo_dev / machine, data / machine)
    return data


def short_training_clips(demo_dev, tmp_path, n_clips, n_samples):
    """copy_machine with only the first n_clips training clips of motor, each cut to its
    first n_samples samples."""
    import soundfile
    data = copy_machine(demo_dev, tmp_path)
    for path in sorted((data / "motor" / "train").glob("*.wav"))[n_clips:]:
        path.unlink()
    for path in (data / "motor" / "train").glob("*.wav"):
        y, rate = soundfile.read(path)
        soundfile.write(path, y[:n_samples], rate)
    return data


def read_rows(path):
    """The rows of a CSV file (a result, score or ground truth file) as lists of cells."""
    with open(path, newline="") as f:
        return list(csv.reader(f))


def score_names(result_dir, machine, section):
    """The clip names of an anomaly score file, in its order."""
    return [row[0] for row in read_rows(
        Path(result_dir) / f"anomaly_score_{machine}_section_{section}_test.csv")]


def report_parts(path):
    """(table rows as lists of cell texts, image sources) of a report.html; parsing it also
    checks that it is well-formed enough for Python's HTML parser."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.images, self.table, self.cell = [], [], 0, None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.table += 1
            elif tag == "tr" and self.table == 1:
                self.rows.append([])
            elif tag in ("td", "th") and self.table == 1:
                self.cell = ""
            elif tag == "img":
                self.images.append(dict(attrs)["src"])

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(self.cell)
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Parser()
    parser.feed(Path(path).read_text())
    parser.close()
    return parser.rows, parser.images


def check_report_table(report_path, result_csv):
    """Every row of the report's first table is result.csv's row, numbers rounded to 4 places,
    empty cells empty."""
    rows, _ = report_parts(report_path)
    expected = read_rows(result_csv)
    shown = [row for row in rows if row != [""]]
    assert len(shown) == len([r for r in expected if r])
    for mine, theirs in zip(shown, [r for r in expected if r]):
        assert len(mine) == len(theirs) and mine[0] == theirs[0]
        for text, cell in zip(mine[1:], theirs[1:]):
            try:
                value = float(cell)
            except ValueError:
                assert text == cell          # a header
                continue
            assert float(text) == round(value, 4) and len(text.split(".")[1]) == 4
        if "" in theirs[1:]:
            assert [t for t, c in zip(mine, theirs) if c == ""] == [""] * theirs.count("")
    return rows
