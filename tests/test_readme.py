"""README.md against the project: its size, and the demo excerpts against what the demo prints.

The two excerpts are the fenced blocks right after the comments `<!-- demo-console ...` and
`<!-- demo-result ...` in README.md. A line `...` in an excerpt stands for any number of lines;
the lines between two `...` must appear in the demo's output in that order, one after another.
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

README = ROOT / "README.md"
LIMIT = 16_000
# "2026-12-01 12:43:10,846 - INFO - " in front of every log line
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - [A-Z]+ - ")
NUMBER = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def excerpt(name):
    """Lines of the fenced block that follows `<!-- name` in README.md."""
    match = re.search(rf"^<!-- {name}\b.*?-->\n```[^\n]*\n(.*?)^```", README.read_text(),
                      re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no fenced block after <!-- {name} ... -->"
    return match.group(1).splitlines()


def chunks(lines):
    """The runs of lines between `...` lines."""
    runs = [[]]
    for line in lines:
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    return [run for run in runs if run]


def assert_in_order(expected, actual, normalize=lambda line: line):
    """Each run of `expected` appears in `actual` as consecutive lines, the runs in order."""
    actual = [normalize(line) for line in actual]
    position = 0
    for run in chunks(expected):
        run = [normalize(line) for line in run]
        for start in range(position, len(actual) - len(run) + 1):
            if actual[start:start + len(run)] == run:
                position = start + len(run)
                break
        else:
            shown = "\n".join(actual)
            raise AssertionError("README.md's demo excerpt is out of date: these lines\n"
                                 + "\n".join(run) + f"\nare not in the demo's output:\n{shown}")


def rounded_csv(text):
    """result.csv with every number that has a decimal point or exponent to 4 decimals
    (section names such as 00 stay as they are)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow([f"{float(cell):.4f}" if NUMBER.fullmatch(cell)
                         and re.search(r"[.eE]", cell) else cell for cell in row])
    return out.getvalue().splitlines()


def test_readme_is_under_the_size_limit():
    assert len(README.read_text()) < LIMIT


def test_quick_start_commands():
    text = README.read_text()
    assert "pip install -r requirements.txt && bash demo/run.sh\n" in text
    assert ("pip install -r requirements-dev.txt && python -m pytest -q -n 2 --dist loadfile "
            "tests\n") in text


def test_bad_input_rows_cited_by_the_tests_exist():
    section = README.read_text().split("## When the input is wrong", 1)[1].split("\n## ", 1)[0]
    rows = [int(n) for n in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)]
    assert rows == list(range(1, len(rows) + 1)), "the rows are numbered 1, 2, 3, ..."
    for name in ("test_edges.py", "test_bad_input.py", "test_new_user.py"):
        for line in (ROOT / "tests" / name).read_text().splitlines():
            cited = re.match(r"# (\d+(?:, \d+)*)\b", line)
            if cited:
                for number in cited.group(1).split(", "):
                    assert 1 <= int(number) <= len(rows), f"{name}: {line!r}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`bash demo/run.sh` run in a copy of the project (its top-level files, the library and
    demo/), so the demo_work folder of the checkout is left alone. Returns (console lines,
    result.csv text)."""
    project = tmp_path_factory.mktemp("demo") / "project"
    project.mkdir()
    for path in ROOT.iterdir():
        if path.is_file():
            shutil.copy2(path, project / path.name)
    for folder in ("dcase_baseline", "demo"):
        shutil.copytree(ROOT / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run(["bash", "demo/run.sh"], cwd=project, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]
    console = [LOG_PREFIX.sub("", line) for line in run.stdout.splitlines()]
    return console, (project / "demo_work" / "result" / "result.csv").read_text()


DECIMAL = re.compile(r"\b\d+\.\d+\b")


def masked(line):
    """A line with each decimal figure replaced by #: what the demo prints on any machine."""
    return DECIMAL.sub("#", " ".join(line.split()))


def accepted_band():
    """The official scores README says the demo prints on machines of this project's kind."""
    found = re.search(r"tests/test_readme\.py [^.]* accepts (\d\.\d+) to (\d\.\d+)",
                      " ".join(README.read_text().split()))
    assert found, "README.md says which official scores of the demo the test accepts"
    return float(found[1]), float(found[2])


def check_figures(lines):
    """Every figure of the demo is a metric in [0, 1]; its official score lies in the band
    README states."""
    low, high = accepted_band()
    for line in lines:
        for figure in DECIMAL.findall(line):
            assert 0 <= float(figure) <= 1, line
        if line.startswith("official score"):
            assert low <= float(DECIMAL.findall(line)[-1]) <= high, line


# The demo's figures hang on the last bits of the arithmetic (README says why and by how much):
# its lines are compared with README's with the figures masked, and the figures are checked
# against README's band.
@pytest.mark.slow
def test_readme_shows_what_the_demo_prints(demo):
    console, _ = demo
    expected = excerpt("demo-console")
    assert any(line.startswith("official score") for line in expected)
    assert_in_order(expected, console, normalize=masked)
    summary = console.index("summary (arithmetic means over sections):")
    check_figures(console[summary:summary + 5])


@pytest.mark.slow
def test_readme_shows_the_demo_result_csv_to_4_decimals(demo):
    _, result = demo
    expected = excerpt("demo-result")
    assert any(line.startswith("official score,") for line in expected)
    assert_in_order(expected, rounded_csv(result), normalize=masked)
    check_figures(rounded_csv(result))
    check_figures(expected)
