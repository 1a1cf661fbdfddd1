"""The console (quick answers, no TensorFlow noise, 4-decimal summaries) and the results report."""
import os
import re
import subprocess
import sys

import matplotlib.image
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from helpers import ROOT, check_report_table, report_parts, run_script, write_config
from dcase_baseline import filenames, plots, report, results, safe_io, years

HEAVY = ("tensorflow", "keras", "librosa", "jax", "sklearn", "matplotlib", "scipy.stats")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (INFO|WARNING|ERROR) - ")


def imported_modules(script, *args, cwd):
    """The modules a script imports for these arguments (python -X importtime), and its run."""
    run = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / script), *args],
                         cwd=cwd, capture_output=True, text=True, timeout=120)
    modules = {line.split("|")[-1].strip() for line in run.stderr.splitlines()
               if line.startswith("import time:")}
    return modules, run


@pytest.mark.slow
@pytest.mark.parametrize("script", ["00_train.py", "01_test.py", "download.py"])
def test_help_version_and_mistakes_import_nothing_heavy(script, tmp_path):
    cases = [["-h"], ["--no-such-option"]]
    if script != "download.py":
        cases += [["-v"], ["-d"]]       # -d: the configuration is missing
    for args in cases:
        modules, run = imported_modules(script, *args, cwd=tmp_path)
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
        assert heavy == [], (args, heavy)
        assert (run.returncode == 0) == (args in (["-h"], ["-v"])), (args, run.stderr[-500:])
    if script != "download.py":
        modules, run = imported_modules(script, "-d", cwd=tmp_path)
        assert "configuration file not found" in run.stderr


@pytest.mark.slow
def test_console_shows_log_lines_only(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    quiet_env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, str(ROOT / "01_test.py"), "-d", "-m", "motor"],
                         cwd=tmp_path, env=quiet_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [line for line in run.stderr.splitlines() if not LOG_LINE.match(line)] == []
    assert "retracing" not in run.stderr
    # the summary rounds to 4 decimals
    assert re.search(r"motor\s+2\s+\d\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}$", run.stderr, re.M)
    assert re.search(r"official score \(harmonic mean of all AUCs and pAUCs\): \d\.\d{4}$",
                     run.stderr, re.M)


@pytest.mark.slow
def test_tensorflow_messages_come_back_when_asked_for(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    run = run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path,
                     env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert [line for line in run.stderr.splitlines() if not LOG_LINE.match(line)] != []


@pytest.mark.slow
def test_training_summary_rounds_to_4_decimals(dev_run):
    train = dev_run[1].stderr
    assert re.search(r"motor\s+\d+\s+\d+\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d$", train, re.M)


@pytest.mark.slow
def test_report_of_a_development_run(dev_run):
    folder = dev_run[0]
    report = folder / "result" / "report.html"
    rows = check_report_table(report, folder / "result" / "result.csv")
    assert rows[-1][0] == "official score" and float(rows[-1][1]) > 0
    _, images = report_parts(report)
    assert sorted(images) == ["../model/history_motor.png", "../model/history_pump.png",
                              "plots/motor.png", "plots/pump.png"]
    for image in images:
        assert (report.parent / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(report.parent / image).ndim == 3
    text = report.read_text()
    assert "unknown" in text                      # motor and pump were never published
    assert "0.6862" in text and "0.4371" in text  # the published harmonic means of 2022
    assert "Keras" in text and "seed" in text and "section_00: 24" in text
    assert "http" not in text.replace("http-equiv", "")   # no external assets


@pytest.mark.slow
def test_report_can_be_turned_off(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"))
    run_script("01_test.py", "-d", "-m", "pump", "--no-report", cwd=tmp_path)
    write_config(tmp_path, dev_directory=str(demo_dev), model_directory=str(dev_run[0] / "model"),
                 report=False)
    run_script("01_test.py", "-d", "-m", "motor", cwd=tmp_path)
    result = tmp_path / "result"
    assert (result / "result.csv").exists()
    assert not (result / "report.html").exists() and not (result / "plots").exists()


# --- the report's pieces on hand-made inputs (item 10 of the issue) ---

NINE = [0.9, 0.6, 0.7, 0.5, 0.4, 0.3, 0.8, 0.375, 0.5333]


def as_blocks(blocks):
    """results.Blocks of [(machine, [(keys, values)])]."""
    return [results.Block(machine, [results.ResultRow(keys, values)
                                    for keys, values in rows])
            for machine, rows in blocks]


def write_report(result_csv, model, blocks, year=2022):
    """report.write_report of a development run's blocks [(machine, [(keys, values)])]."""
    return report.write_report(result_csv, model, as_blocks(blocks), True, years.YEARS[year])


def make_result(folder, blocks, pictures=True, year=2022):
    """A result folder as 01_test.py leaves it: result.csv of these blocks in the year's layout,
    and (pictures) a plot per machine type and its training loss picture; returns (result.csv,
    model folder)."""
    result, model = folder / "result", folder / "model"
    safe_io.save_csv(result / "result.csv", results.result_rows(as_blocks(blocks),
                                                                years.YEARS[year]))
    if pictures:
        for machine, _ in blocks:
            for path in (filenames.plot_file(result, machine, True),
                         filenames.history_file(model, machine)):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"\x89PNG\r\n\x1a\n" + machine.encode())
    return result / "result.csv", model


@pytest.mark.parametrize("machine", ["fan#2", "fan?x", "100%fan", "my fan", "a&b"])
def test_report_links_work_for_any_machine_name(machine, tmp_path):
    from urllib.parse import unquote
    result_csv, model = make_result(tmp_path, [(machine, [(("00",), NINE)])])
    page = write_report(result_csv, model, [(machine, [(("00",), NINE)])])
    _, images = report_parts(page)
    assert len(images) == 2
    for image in images:
        assert not set("#? ") & set(image), image         # quoted
        target = (page.parent / unquote(image)).resolve()
        assert target.exists() and target.read_bytes().endswith(machine.encode()), image
    assert sorted((page.parent / unquote(i)).resolve() for i in images) == sorted(
        [(tmp_path / "result" / "plots" / f"{machine}.png").resolve(),
         (model / f"history_{machine}.png").resolve()])
    check_report_table(page, result_csv)


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_machine_plot_legends_cover_no_data_and_counts_are_whole(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    labels = np.array([0] * 5 + [1] * 3 + [0] * 2 + [1] * 3)
    domains = np.array(["source"] * 8 + ["target"] * 5)
    scores = rng.normal(size=len(labels)) + labels
    sections = [("section_00", scores, labels, domains),
                ("section_01", scores[:8], labels[:8], domains[:8])]    # no target clips
    figure = plots.model_figure("fan#2", sections, 0.8, 0.1)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    axes = figure.axes
    assert len(axes) == 6
    for axis in axes:
        legend = axis.get_legend()
        assert legend is not None
        box = legend.get_window_extent(renderer)
        for other in axes:   # below its own axes: on no axes, and within the figure
            assert not _overlap(box, other.get_window_extent(renderer)), axis.get_title()
        assert box.y0 >= 0 and box.x0 >= 0 and box.x1 <= figure.bbox.x1
    for axis in axes:
        if axis.get_ylabel() == "clips":
            ticks = [t for t in axis.get_yticks() if axis.get_ylim()[0] <= t <= axis.get_ylim()[1]]
            assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    assert sum(axis.get_ylabel() == "clips" for axis in axes) == 4
    plots.save_model_plot(tmp_path / "fan.png", "fan", sections, 0.8, 0.1)
    assert (tmp_path / "fan.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("history", [
    {"loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, 1.9], "seconds": [1.0, 0.5, 0.5]},
    {"loss": [3.0, 2.0, 1.5, 1.2, 1.1], "seconds": [1.0] * 5},
])
def test_loss_plot_counts_epochs_from_1_and_names_the_machine(history, tmp_path):
    figure = plots.loss_figure("fan", history)
    figure.draw(FigureCanvasAgg(figure).get_renderer())
    axis = figure.axes[0]
    assert axis.get_title().startswith("fan: training loss")
    lines = axis.get_lines()
    assert len(lines) == 1 + ("val_loss" in history)
    epochs = list(range(1, len(history["loss"]) + 1))
    for line, key in zip(lines, ["loss", "val_loss"]):
        assert list(line.get_xdata()) == epochs and list(line.get_ydata()) == history[key]
    low, high = axis.get_xlim()
    ticks = [t for t in axis.get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert set(epochs) <= set(ticks) and min(ticks) >= 1
    plots.save_loss_plot(tmp_path / "history_fan.png", "fan", history)
    assert matplotlib.image.imread(tmp_path / "history_fan.png").ndim == 3


def test_published_2022_figures_only_for_the_2022_data(tmp_path):
    blocks = [("fan", [(("00",), NINE)])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False)
    text = write_report(result_csv, model, blocks).read_text()
    assert "0.8488" in text and "0.6862" in text           # 2022 is the default year
    text = write_report(result_csv, model, blocks, 2022).read_text()
    assert "<th>fan</th><th>00</th><td>0.9000</td><td>0.8488</td>" in text
    assert "DCASE 2022 Task 2 autoencoder baseline: development results" in text
    for year in (2023, 2024):
        text = write_report(result_csv, model, blocks, year).read_text()
        assert "0.8488" not in text and "0.6862" not in text


# (machine type, keys, values) of each year's layout; the first machine type's unit is one its
# year's README published, the second's is not: the published figures to 4 places, then not
DEV_ROWS = {
    2020: [("fan", ("00",), [0.61, 0.52]), ("bearing", ("00",), [0.7, 0.55])],
    2021: [("fan", ("00", "source"), [0.61, 0.52, 0.5, 0.4, 0.444]),
           ("pump", ("00", "target"), [0.7, 0.55, 0.0, 0.0, 0.0])],
    2022: [("valve", ("01",), NINE), ("pump", ("00",), NINE)],
    **{year: [("fan", ("00",), NINE[:3] + [0.51, 0.49] + NINE[3:]),
              ("ToyCar", ("00",), NINE[:3] + [0.51, 0.49] + NINE[3:])]
       for year in (2023, 2024, 2025, 2026)},
}
PUBLISHED_SHOWN = {2020: ["0.5396", "0.4924"], 2021: ["0.6738", "0.5732"],
                   2022: ["0.4890", "0.5448", "0.4968"]}


def comparison_rows(page):
    """The rows of the report's comparison table as cell texts."""
    text = page.read_text()
    table = text[text.index("<h2>Against the published"):]
    table = table[table.index("<table"):table.index("</table>")]
    cells = r"<t[hd][^>]*>(.*?)</t[hd]>"
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(cells, row)]
            for row in table.split("<tr")[2:]]


@pytest.mark.parametrize("year", sorted(DEV_ROWS))
def test_each_years_published_figures_beside_this_runs(year, tmp_path):
    blocks = [(machine, [(keys, values)]) for machine, keys, values in DEV_ROWS[year]]
    result_csv, model = make_result(tmp_path, blocks, pictures=False, year=year)
    page = write_report(result_csv, model, blocks, year)
    rows = check_report_table(page, result_csv)
    text = page.read_text()
    columns = years.YEARS[year].ranked_columns
    assert len(columns) == (2 if year < 2022 else 3)
    assert "<th>machine</th>" + "".join(f"<th>{k}</th>" for k in years.YEARS[year].unit_keys) \
        + "".join(f"<th>{c.name}</th><th>published</th>" for c in columns) in text
    shown = comparison_rows(page)
    (first, keys, values), (second, other_keys, _) = DEV_ROWS[year]
    n = 1 + len(keys)
    assert shown[0][:n] == [first, *keys] and shown[0][n::2] == [f"{v:.4f}" for v in
                                                                 values[:len(columns)]]
    assert shown[0][n + 1::2] == PUBLISHED_SHOWN.get(year, ["unknown"] * len(columns))
    other = next(row for row in shown if row[:n] == [second, *other_keys])
    assert other[n + 1::2] == ["unknown"] * len(columns)
    # whose figures they are, in one sentence; none of 2022's in another year
    source = {2020: "y-kawagu/dcase2020_task2_baseline",
              2021: "y-kawagu/dcase2021_task2_baseline_ae",
              2022: "The original's figures on the 2022 development set"}
    assert source.get(year, "nttcslab/dcase2023_task2_baseline_ae") in text
    if year != 2022:
        assert f"DCASE {year} Task 2 autoencoder baseline: development results" in text
        assert not {"0.8488", "0.7193", "0.6862", "21 sections"} & set(re.findall(
            r"0\.\d{4}|21 sections", text))
    if year >= 2023:
        assert "its table could not be read where this project was written" in text
    # the key cells of result.csv are row headers, never formatted as numbers
    table = text[:text.index("</table>")]
    for key in keys:
        assert f"<th>{key}</th>" in table
    assert rows[1] == list(years.YEARS[year].unit_keys) + [
        column.name for column in years.YEARS[year].metric_columns]


def test_the_2020_table_and_its_averages(tmp_path):
    ids = ("00", "02", "04", "06")
    blocks = [("fan", [((i,), [0.6 + k / 100, 0.5]) for k, i in enumerate(ids)]),
              ("slider", [(("00",), [0.9, None])])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False, year=2020)
    page = write_report(result_csv, model, blocks, 2020)
    rows = check_report_table(page, result_csv)
    assert rows[:3] == [["fan"], ["id", "AUC", "pAUC"], ["00", "0.6000", "0.5000"]]
    assert ["Average", "0.6150", "0.5000"] in rows
    text = page.read_text()
    assert "official score" not in text[:text.index("</table>")]
    # the exact published figure in the cell's title
    assert '<td title="0.539607">0.5396</td>' in text
    shown = comparison_rows(page)
    # fan: this run has all four published IDs: its Average beside the published one; slider's
    # Average is not over the same IDs: empty
    assert ["fan Average", "0.6150", "0.6516", "0.5000", "0.5259"] in shown
    assert ["slider Average", "", "0.8499", "", "0.6693"] in shown
    assert "ToyCar Average" not in text                    # only the run's machine types
    assert "An empty cell is undefined for that ID" in text


def test_the_2021_table_keys_and_zeros(tmp_path):
    zero = [0.61, 0.52, 0.0, 0.0, 0.0]
    blocks = [("valve", [(("00", "source"), [0.7, 0.55, 0.5, 0.4, 0.444]),
                         (("00", "target"), zero)])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False, year=2021)
    page = write_report(result_csv, model, blocks, 2021)
    rows = check_report_table(page, result_csv)
    assert rows[1] == ["section", "domain", "AUC", "pAUC", "precision", "recall", "F1 score"]
    assert rows[3][:2] == ["00", "target"] and rows[4][:2] == ["arithmetic mean", ""]
    text = page.read_text()
    table = text[:text.index("</table>")]
    # the key cells, and a mean row's empty second key cell, are headers: not undefined values
    assert "<th>00</th><th>target</th>" in table and "<th>arithmetic mean</th><th></th>" in table
    assert 'class="empty"' not in table and "An empty cell is undefined" not in text
    # the 0 precision, recall and F1 of the target row are explained, found by column name
    zero_cells = re.findall(r'<td class="zero" title="([^"]+)">', table)
    assert len(zero_cells) >= 3 and "no anomalous clips" in zero_cells[0]
    assert "<td>0.6100</td><td>0.5200</td>" in table       # AUC and pAUC are no decision metric
    shown = comparison_rows(page)
    assert shown[1] == ["valve", "00", "target", "0.6100", "0.4716", "0.5200", "0.4853"]
    assert ["arithmetic mean over all machine types, sections and domains of 2021 (published)",
            "", "0.6343", "", "0.5379"] in shown
    # valve's means: this run has 2 of its 6 published units: its means are left empty
    assert ["valve arithmetic mean", "", "0.5409", "", "0.5068"] in shown
    assert "fan arithmetic mean" not in text


def test_zero_precision_recall_f1_are_explained(tmp_path):
    # section 00: target clips all normal, nothing decided anomalous: P/R/F1 (target) are 0;
    # section 01: no target clips: those cells empty
    zero = [0.9, 0.6, 0.7, 0.5, 0.0, 0.3, 0.0, 0.375, 0.0]
    empty = [0.9, None, 0.7, 0.5, None, 0.3, None, 0.375, None]
    blocks = [("fan", [(("00",), zero), (("01",), empty)]), ("pump", [(("00",), NINE)])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False)
    before = result_csv.read_bytes()
    page = write_report(result_csv, model, blocks)
    assert result_csv.read_bytes() == before        # result.csv stays as written
    rows = check_report_table(page, result_csv)
    assert rows[2][:1] + rows[2][5::2] == ["00", "0.0000", "0.0000", "0.0000"]
    text = page.read_text()
    zero_cells = re.findall(r'<td class="zero" title="([^"]+)">([^<]*)</td>', text)
    # 3 in section 00, and per column fan's means (section 01 has none) and the overall
    # harmonic mean
    assert len(zero_cells) == 12 and {value for _, value in zero_cells} == {"0.0000"}
    assert all("no anomalous clips" in title or "see the note" in title
               for title, _ in zero_cells)
    assert "no anomalous clips" in zero_cells[0][0] and "no positive decision" in zero_cells[0][0]
    note = re.search(r'<p class="note"><span class="zero"></span>([^<]+)</p>', text)
    assert note and "no anomalous clips" in note[1] and "decided no clip anomalous" in note[1]
    assert 'class="empty"' in text and "An empty cell is undefined" in text
    # a 0 AUC is not a decision metric: no explanation for it, nor a note when no cell is 0
    blocks = [("fan", [(("00",), [0.0] + NINE[1:])])]
    result_csv, model = make_result(tmp_path / "plain", blocks, pictures=False)
    text = write_report(result_csv, model, blocks).read_text()
    assert "<td>0.0000</td>" in text
    assert 'class="zero"' not in text and 'class="note"' not in text


@pytest.mark.slow
def test_each_machine_types_notes_are_its_own(dev_run, demo_dev, tmp_path):
    # motor: a test clip too short to score; pump: a silent test clip
    import json
    import shutil

    import numpy as np
    import soundfile
    data = tmp_path / "data"
    for machine in ("motor", "pump"):
        shutil.copytree(demo_dev / machine, data / machine)
    short = data / "motor" / "test" / "section_00_source_test_normal_0001_speed_normal.wav"
    soundfile.write(short, np.random.default_rng(0).normal(0, 0.1, 800), 16000)
    silent = data / "pump" / "test" / "section_01_target_test_normal_0002_speed_normal.wav"
    soundfile.write(silent, np.zeros(16000, np.float32), 16000)
    write_config(tmp_path, dev_directory=str(data), model_directory=str(dev_run[0] / "model"))
    run_script("01_test.py", "-d", cwd=tmp_path)
    notes = {machine: json.loads((tmp_path / f"result/plots/{machine}.json").read_text())["notes"]
             for machine in ("motor", "pump")}
    assert [n for n in notes["motor"] if str(data) in n] == [
        f"{short}: 2 frames, shorter than n_frames=5; no score"]
    assert [n for n in notes["pump"] if str(data) in n] == [
        f"{silent}: all samples are equal (digital silence); used as it is"]
    page = (tmp_path / "result/report.html").read_text()
    assert page.index(str(short)) < page.index("<h2>pump</h2>") < page.index(str(silent))


@pytest.mark.parametrize("score, shown", [("mse", ["0.7912", "0.4796", "0.4942"]),
                                          ("mahalanobis", ["0.7544", "0.4240", "0.5084"])])
def test_published_evaluation_figures_of_the_run_score(tmp_path, score, shown):
    # 2024's evaluator README: 3DPrinter, AUC (source), AUC (target), pAUC of each score
    values = [0.7, 0.6, 0.55, 0.5, 0.6] + NINE[3:]
    blocks = [("3DPrinter", [(("00",), values)]), ("fan", [(("00",), values)])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False, year=2024)
    page = report.write_report(result_csv, model, as_blocks(blocks), False, years.YEARS[2024],
                               score=score)
    text = page.read_text()
    assert f"Against the published 2024 baseline (evaluation set, score: {score})" in text
    rows = comparison_rows(page)
    assert rows[0] == ["3DPrinter", "00", "0.7000", shown[0], "0.6000", shown[1], "0.5500",
                       shown[2]]
    assert rows[1][3::2] == ["unknown"] * 3                 # fan is no 2024 evaluation type
    means = next(row for row in rows if row[0].startswith("harmonic mean over the machine"))
    assert means[2] == {"mse": "0.7151", "mahalanobis": "0.6718"}[score]
    dev = write_report(result_csv, model, blocks, 2024).read_text()       # development data
    assert "0.7912" not in dev and "could not be read" in dev


def test_an_evaluation_run_is_not_set_beside_development_figures(tmp_path):
    # 2022 published the development set's figures only: fan 00 AUC (source) 0.8488
    blocks = [("fan", [(("00",), NINE)])]
    result_csv, model = make_result(tmp_path, blocks, pictures=False, year=2022)
    page = report.write_report(result_csv, model, as_blocks(blocks), False, years.YEARS[2022])
    text = page.read_text()
    assert page.name == "report_eval.html"
    assert "DCASE 2022 Task 2 autoencoder baseline: evaluation results" in text
    assert "0.8488" not in text and "No evaluation-set figures of the 2022" in text
