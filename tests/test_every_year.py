"""Every DCASE year's layout, file names and result.csv (one year of each layout end to end).

The generator (demo/make_demo_data.py) writes each year's names and ground truth files; both
scripts then run on them with `year:` set, and every figure of result.csv is recomputed here
from the score and decision files with the year's own rules, written out below from the years'
official evaluators -- never with the project's metrics.py:

    2020  per machine ID: AUC and pAUC over all its clips; an "Average" row (arithmetic mean)
          per machine type; no official score; no decision files.
    2021  per section and domain: AUC, pAUC, precision, recall and F1 over that domain's clips;
          arithmetic and harmonic means per machine type and over everything; official score:
          the harmonic mean of every AUC and pAUC.
    2023+ per section: AUC (source|target) = that domain's normal clips and all anomalies; pAUC
          over the section; pAUC (source|target) over that domain's clips only; precision,
          recall and F1 per domain; official score: the harmonic mean of every AUC (source),
          AUC (target) and pAUC.

Ground truth as the evaluators read it: 2020 eval_data_list.csv rows are "name in test/,
name with its label,label" (as in the official file: nttcslab/dcase2023_task2_baseline_ae's
rename tool copies test/<first column> to test_rename/<second column>); 2021 one file
"name,label" per section and domain; 2022+ ground_truth_data/ and ground_truth_domain/.

The end-to-end tests (test_end_to_end_*) train once per year (two machine types, 1 s clips,
2 epochs) and share the models between the development and the evaluation runs; skip them with
-k "not end_to_end".
"""
import hashlib
import re
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.stats
import soundfile
import yaml
from sklearn.metrics import roc_auc_score

from helpers import ROOT, read_rows, run_script
from dcase_baseline import years
from make_demo_data import make_dataset

EPS = sys.float_info.epsilon
MAX_FPR = 0.1                   # baseline.yaml's max_fpr and decision_threshold
DECISION_QUANTILE = 0.9
MACHINES = {"motor": 60.0, "pump": 95.0}
DOMAINS = ("source", "target")

# (development units, evaluation units) the generator writes by default for each year
UNITS = {2020: (["00", "02"], ["01", "03"]), 2021: (["00", "01"], ["03", "04"]),
         2022: (["00", "01"], ["00", "01"]), 2023: (["00"], ["00"]), 2024: (["00"], ["00"]),
         2025: (["00"], ["00"]), 2026: (["00"], ["00"])}

METRICS_2023 = ["AUC (source)", "AUC (target)", "pAUC", "pAUC (source)", "pAUC (target)",
                "precision (source)", "precision (target)", "recall (source)",
                "recall (target)", "F1 score (source)", "F1 score (target)"]
METRICS_2021 = ["AUC", "pAUC", "precision", "recall", "F1 score"]
OVERALL = "{} mean over all machine types, sections, and domains"


# --- the clips: labels and domains from development names or from the ground truth ---------

def dev_fields(year, name, folder=None):
    """(unit, label 0|1, domain or None) of a development test clip, from its name alone
    (2021: the unit is section and domain; with its folder, that it is the domain's)."""
    if year == 2020:
        found = re.fullmatch(r"(normal|anomaly)_id_(\d\d)_\d{8}\.wav", name)
        return found[2], int(found[1] == "anomaly"), None
    found = re.fullmatch(r"section_(\d\d)_(source|target)_test_(normal|anomaly)_\d{4}(_.+)?\.wav",
                         name)
    assert found, name
    if year == 2021:
        assert found[4] is None and folder in (None, f"{found[2]}_test"), (folder, name)
        return (found[1], found[2]), int(found[3] == "anomaly"), found[2]
    return found[1], int(found[3] == "anomaly"), found[2]


def dev_labels(year):
    """For recompute: the function from a development clip name to (label, domain)."""
    return lambda machine: lambda name: dev_fields(year, name)[1:]


def read_truth(year, truth, machine):
    """{name in test/: (label 0|1, domain or None)} of a machine type from the year's ground
    truth files, read here without the project's code."""
    found = {}
    if year == 2020:
        current = None
        for row in read_rows(truth / "eval_data_list.csv"):
            if len(row) == 1:
                current = row[0]
            elif current == machine:
                name, labelled, label = row
                assert labelled == f"{'anomaly' if label == '1' else 'normal'}_{name}"
                found[name] = (int(label), None)
        return found
    if year == 2021:
        for path in truth.glob(f"ground_truth_{machine}_section_*_test.csv"):
            domain = re.fullmatch(rf"ground_truth_{machine}_section_\d\d_(source|target)_test\.csv",
                                  path.name)[1]
            found.update({name: (int(label), domain) for name, label in read_rows(path)})
        return found
    for path in (truth / "ground_truth_data").glob(f"ground_truth_{machine}_section_*_test.csv"):
        labels = dict(read_rows(path))
        domains = dict(read_rows(truth / "ground_truth_domain" / path.name))
        assert labels.keys() == domains.keys()
        found.update({name: (int(labels[name]), ("source", "target")[int(domains[name])])
                      for name in labels})
    return found


def clip_folders(year):
    return ["source_test", "target_test"] if year == 2021 else ["test"]


def eval_unit(year, name):
    """The unit of an evaluation test clip's name (2021: section and domain)."""
    if year == 2020:
        return re.fullmatch(r"id_(\d\d)_\d{8}\.wav", name)[1]
    if year == 2021:
        found = re.fullmatch(r"section_(\d\d)_(source|target)_test_\d{4}\.wav", name)
        return found[1], found[2]
    if year == 2022:
        return re.fullmatch(r"section_(\d\d)_test_\d{4}\.wav", name)[1]
    return re.fullmatch(r"section_(\d\d)_\d{4}\.wav", name)[1]


# --- the file names each year's evaluator reads ------------------------------------------

def unit_keys(year, units):
    """The units of the score files in the year's order (2021: every source section, then
    every target section)."""
    if year == 2021:
        return [(u, d) for d in DOMAINS for u in sorted(units)]
    return sorted(units)


def score_file(year, machine, unit, kind="anomaly_score"):
    if year == 2020:
        return f"{kind}_{machine}_id_{unit}.csv"
    if year == 2021:
        return f"{kind}_{machine}_section_{unit[0]}_{unit[1]}_test.csv"
    return f"{kind}_{machine}_section_{unit}_test.csv"


def expected_file_names(year, units):
    kinds = ["anomaly_score"] + ([] if year == 2020 else ["decision_result"])
    return sorted(score_file(year, m, u, kind) for kind in kinds for m in MACHINES
                  for u in unit_keys(year, units))


def check_file_names(year, result_dir, units):
    written = sorted(p.name for p in result_dir.iterdir()
                     if p.name.startswith(("anomaly_score", "decision_result")))
    assert written == expected_file_names(year, units)
    if year == 2020:
        assert not [p for p in result_dir.rglob("*") if "decision" in p.name]


# --- the metrics, from the year's rules --------------------------------------------------

def gamma_fit(model_dir, machine):
    found = joblib.load(model_dir / f"score_distr_{machine}.pkl")
    return list(found["gamma"] if isinstance(found, dict) else found)


def read_unit(year, result_dir, model_dir, machine, unit, clip_fields):
    """(names, scores, labels, domains, decisions) of one score file, labels and domains from
    clip_fields(name); decisions None for 2020, else checked against the gamma threshold."""
    rows = read_rows(result_dir / score_file(year, machine, unit))
    names = [r[0] for r in rows]
    assert len(set(names)) == len(names) and all(len(r) == 2 for r in rows)
    scores = np.array([float(r[1]) for r in rows])
    labels = np.array([clip_fields(n)[0] for n in names])
    domains = np.array([clip_fields(n)[1] for n in names])
    decisions = None
    if year != 2020:
        decided = read_rows(result_dir / score_file(year, machine, unit, "decision_result"))
        assert [r[0] for r in decided] == names
        assert {r[1] for r in decided} <= {"0", "1"}
        decisions = np.array([int(r[1]) for r in decided])
        threshold = scipy.stats.gamma.ppf(DECISION_QUANTILE, *gamma_fit(model_dir, machine))
        assert (decisions == (scores > threshold)).all()
    return names, scores, labels, domains, decisions


def prf(labels, decisions):
    tp = np.sum((labels == 1) & (decisions == 1))
    fp = np.sum((labels == 0) & (decisions == 1))
    fn = np.sum((labels == 1) & (decisions == 0))
    precision = tp / max(tp + fp, EPS)
    recall = tp / max(tp + fn, EPS)
    return precision, recall, 2 * precision * recall / max(precision + recall, EPS)


def unit_values(year, scores, labels, domains, decisions):
    """The figures of one result.csv row, in the year's column order."""
    if year == 2020:
        return [roc_auc_score(labels, scores), roc_auc_score(labels, scores, max_fpr=MAX_FPR)]
    if year == 2021:
        return [roc_auc_score(labels, scores), roc_auc_score(labels, scores, max_fpr=MAX_FPR),
                *prf(labels, decisions)]
    values = {"pAUC": roc_auc_score(labels, scores, max_fpr=MAX_FPR)}
    for d in DOMAINS:
        mine = domains == d
        keep = (mine & (labels == 0)) | (labels == 1)
        values[f"AUC ({d})"] = roc_auc_score(labels[keep], scores[keep])
        values[f"pAUC ({d})"] = roc_auc_score(labels[mine], scores[mine], max_fpr=MAX_FPR)
        (values[f"precision ({d})"], values[f"recall ({d})"],
         values[f"F1 score ({d})"]) = prf(labels[mine], decisions[mine])
    return [values[name] for name in METRICS_2023]


def hmean(values):
    return scipy.stats.hmean(np.maximum(np.asarray(values, dtype=float), EPS))


def expected_result(year, blocks):
    """The rows result.csv must hold from [(machine, [(unit, row values)])]: text cells as
    text, figures as floats (2022, checked by test_pipeline.py, is not written out here)."""
    assert year != 2022
    rows, everything = [], []
    for machine, units in blocks:
        values = [v for _, v in units]
        everything += values
        if year == 2020:
            rows += [[machine], ["id", "AUC", "pAUC"]] + [[u] + v for u, v in units]
            rows += [["Average"] + list(np.mean(values, axis=0)), []]
        elif year == 2021:
            rows += [[machine], ["section", "domain"] + METRICS_2021]
            rows += [[u[0], u[1]] + v for u, v in units]
            rows += [["arithmetic mean", ""] + list(np.mean(values, axis=0)),
                     ["harmonic mean", ""] + [hmean(c) for c in zip(*values)], []]
        else:
            rows += [[machine], ["section"] + METRICS_2023] + [[u] + v for u, v in units]
            rows += [["arithmetic mean"] + list(np.mean(values, axis=0)),
                     ["harmonic mean"] + [hmean(c) for c in zip(*values)], []]
    if year == 2021:
        rows += [["", ""] + METRICS_2021,
                 [OVERALL.format("arithmetic"), ""] + list(np.mean(everything, axis=0)),
                 [OVERALL.format("harmonic"), ""] + [hmean(c) for c in zip(*everything)], [],
                 ["official score", hmean([v for row in everything for v in row[:2]])]]
    elif year >= 2023:
        rows += [[""] + METRICS_2023,
                 [OVERALL.format("arithmetic")] + list(np.mean(everything, axis=0)),
                 [OVERALL.format("harmonic")] + [hmean(c) for c in zip(*everything)], [],
                 ["official score", hmean([v for row in everything for v in row[:3]])]]
    return rows


def check_result_csv(path, expected):
    found = read_rows(path)
    assert [len(r) for r in found] == [len(r) for r in expected], (found, expected)
    for mine, theirs in zip(found, expected):
        for cell, value in zip(mine, theirs):
            if isinstance(value, str):
                assert cell == value, (mine, theirs)
            else:
                assert float(cell) == pytest.approx(float(value), rel=1e-12, abs=1e-15), (
                    mine, theirs)


def recompute(year, result_dir, model_dir, units, clip_fields):
    """[(machine, [(unit, row values)])] from the score and decision files; clip_fields(machine)
    gives the function from a clip name to (label, domain)."""
    blocks = []
    for machine in MACHINES:
        rows = []
        for unit in unit_keys(year, units):
            _, scores, labels, domains, decisions = read_unit(
                year, result_dir, model_dir, machine, unit, clip_fields(machine))
            if year == 2021:
                assert set(domains) == {unit[1]}
            rows.append((unit, unit_values(year, scores, labels, domains, decisions)))
        blocks.append((machine, rows))
    return blocks


# --- the runs ----------------------------------------------------------------------------

# clips per unit (test: this many normal and as many anomalous ones per domain)
RUN_COUNTS = {2020: {"train": {"source": 8}, "test": {"source": 4}},
              2021: {"train": {"source": 6, "target": 2}, "test": {"source": 3, "target": 3}}}
RUN_COUNTS_LATER = {"train": {"source": 10, "target": 2}, "test": {"source": 4, "target": 4}}


def data_options(year):
    """Two machine types, 1 s clips, a handful of clips per unit."""
    return dict(seconds=1.0, machines=MACHINES, counts=RUN_COUNTS.get(year, RUN_COUNTS_LATER),
                seed=7, year=year)


def year_config(folder, year, **changes):
    """The year's baseline configuration as its organisers ran it (configs/<year>.yaml; the
    default year's: baseline.yaml), but for the folders and 2 epochs: the end-to-end runs
    here run each year's own configuration. Returns its path."""
    source = ROOT / ("baseline.yaml" if year == years.DEFAULT_YEAR else f"configs/{year}.yaml")
    config = yaml.safe_load(source.read_text())
    config.update(model_directory=str(folder / "model"), result_directory=str(folder / "result"),
                  log_file="", cache={"enabled": True, "directory": str(folder / "cache")})
    config.update(changes)
    config["fit"].update(epochs=2, verbose=0)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_year(script, *args, cwd):
    """A script run with the year's configuration; no key of it may be missing."""
    run = run_script(script, *args, "-c", cwd / "config.yaml", cwd=cwd)
    assert "is missing" not in run.stderr
    return run


def ground_truth_argument(year, truth):
    return truth / "eval_data_list.csv" if year == 2020 else truth


def layouts():
    """One year of each layout the records describe (names, folders, numbering, ground truth,
    metric columns, channel), the latest, but the default year's, which the rest of the tests
    run: a year added with a layout of its own is run end to end here without a word in this
    file (and fails below until its rules are written out here)."""
    found = {}
    for year, record in sorted(years.YEARS.items()):
        found[(record.clip_name.pattern, record.test_folders, record.ground_truth,
               record.metric_columns, record.channel, record.name_formats["eval"],
               record.first_indices)] = year
    return sorted(set(found.values()) - {years.DEFAULT_YEAR})


def test_every_years_rules_are_written_out_here():
    # the oracle of this file knows each year's units, names and rules; a year of the records
    # it does not know is a failure, never a year left out
    assert sorted(UNITS) == sorted(years.YEARS)


@pytest.fixture(scope="module", params=layouts())
def year(request):
    return request.param


@pytest.fixture(scope="module")
def year_dev_run(year, tmp_path_factory):
    """The year's generated development set trained and tested once."""
    root = tmp_path_factory.mktemp(f"year_{year}")
    make_dataset(root / "dev_data", **data_options(year))
    folder = root / "dev"
    folder.mkdir()
    year_config(folder, year, dev_directory=str(root / "dev_data"))
    run_year("00_train.py", "-d", cwd=folder)
    test = run_year("01_test.py", "-d", cwd=folder)
    # 2026's stereo clips: its configuration takes their near channel, as the successor
    assert "several channels" not in test.stderr
    return root, folder


@pytest.fixture(scope="module")
def year_eval_run(year, year_dev_run):
    """The evaluation layout of the same recordings, scored with the development models (one
    training per year) and the year's ground truth."""
    root, dev_folder = year_dev_run
    make_dataset(root / "eval_data", ground_truth_dir=root / "truth", **data_options(year))
    folder = root / "eval"
    folder.mkdir()
    year_config(folder, year, eval_directory=str(root / "eval_data"),
                model_directory=str(dev_folder / "model"))
    train = run_year("00_train.py", "-e", cwd=folder)
    run_year("01_test.py", "-e", "--ground-truth", ground_truth_argument(year, root / "truth"),
             cwd=folder)
    return root, folder, train


@pytest.mark.slow
def test_end_to_end_dev(year, year_dev_run):
    root, folder = year_dev_run
    units = UNITS[year][0]
    check_file_names(year, folder / "result", units)
    for machine in MACHINES:
        # each unit's score file lists that unit's clips, each once
        on_disk = [(p.name, f) for f in clip_folders(year)
                   for p in (root / "dev_data" / machine / f).iterdir()]
        for unit in unit_keys(year, units):
            listed = [r[0] for r in read_rows(folder / "result" / score_file(year, machine, unit))]
            assert sorted(listed) == sorted(n for n, f in on_disk
                                            if dev_fields(year, n, f)[0] == unit)
    blocks = recompute(year, folder / "result", folder / "model", units, dev_labels(year))
    check_result_csv(folder / "result" / "result.csv", expected_result(year, blocks))


@pytest.mark.slow
def test_end_to_end_eval(year, year_eval_run, year_dev_run):
    root, folder, train = year_eval_run
    units = UNITS[year][1]
    assert "model exists" in train.stderr
    check_file_names(year, folder / "result", units)
    truth = {m: read_truth(year, root / "truth", m) for m in MACHINES}
    for machine in MACHINES:
        written = []
        for unit in unit_keys(year, units):
            names = [r[0] for r in read_rows(folder / "result" / score_file(year, machine, unit))]
            assert {eval_unit(year, n) for n in names} == {unit}
            written += names
        # the score files hold the evaluation names as in test/, each once
        on_disk = [p.name for f in clip_folders(year)
                   for p in (root / "eval_data" / machine / f).iterdir()]
        assert sorted(written) == sorted(on_disk) == sorted(truth[machine])
    if year == 2024:    # pump: numbered from 0001, as some 2024 evaluation sets
        numbers = sorted(int(n[-8:-4]) for n in truth["pump"])
        assert numbers[0] == 1 and numbers == list(range(1, len(numbers) + 1))
        assert min(int(n[-8:-4]) for n in truth["motor"]) == 0

    model_dir = year_dev_run[1] / "model"
    blocks = recompute(year, folder / "result", model_dir, units,
                       lambda machine: truth[machine].__getitem__)
    check_result_csv(folder / "result" / "result_eval.csv", expected_result(year, blocks))
    # the same recordings under evaluation names: the development figures, unit by unit
    dev_blocks = recompute(year, year_dev_run[1] / "result", model_dir, UNITS[year][0],
                           dev_labels(year))
    for (machine, rows), (dev_machine, dev_rows) in zip(blocks, dev_blocks):
        assert machine == dev_machine and len(rows) == len(dev_rows)
        for (_, values), (_, dev_values) in zip(rows, dev_rows):
            assert values == pytest.approx(dev_values, rel=1e-9)


# --- the generator: each year's exact layout (fast, no training) -------------------------

def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def small_options(year):
    counts = ({"train": {"source": 3}, "test": {"source": 2}} if year == 2020
              else {"train": {"source": 2, "target": 1}, "test": {"source": 2, "target": 2}})
    return dict(seconds=0.2, machines=MACHINES, counts=counts, vary_length=False, year=year)


def expected_dev_names(year, machine):
    """{folder: sorted file names} of a machine type of the small development set."""
    attributes = (lambda d: "noAttribute") if (year in (2024, 2025) and machine == "pump") else (
        lambda d: "speed_fast" if d == "target" else "speed_normal")
    units = UNITS[year][0]
    labels = ("normal", "anomaly")
    if year == 2020:
        return {"train": sorted(f"normal_id_{u}_{i:08d}.wav" for u in units for i in range(3)),
                "test": sorted(f"{lab}_id_{u}_{i:08d}.wav" for u in units for lab in labels
                               for i in range(2))}
    train = sorted(f"section_{u}_{d}_train_normal_{i:04d}_{attributes(d)}.wav"
                   for u in units for d, n in (("source", 2), ("target", 1)) for i in range(n))
    if year == 2021:
        return {"train": train, **{f"{d}_test": sorted(
            f"section_{u}_{d}_test_{lab}_{i:04d}.wav" for u in units for lab in labels
            for i in range(2)) for d in DOMAINS}}
    found = {"train": train, "test": sorted(
        f"section_{u}_{d}_test_{lab}_{i:04d}_{attributes(d)}.wav" for u in units
        for d in DOMAINS for lab in labels for i in range(2))}
    if year == 2025:
        found["supplemental"] = [f"section_00_machine_source_{i:04d}_{attributes('source')}.wav"
                                 for i in range(2)]
    return found


def expected_eval_test_names(year, machine):
    """{folder: sorted names} of the evaluation test clips of a machine type."""
    units = UNITS[year][1]
    if year == 2020:
        return {"test": sorted(f"id_{u}_{n:08d}.wav" for u in units for n in range(4))}
    if year == 2021:
        return {f"{d}_test": sorted(f"section_{u}_{d}_test_{n:04d}.wav" for u in units
                                    for n in range(4)) for d in DOMAINS}
    first = 1 if (year == 2024 and machine == "pump") else 0
    pattern = "section_{}_test_{:04d}.wav" if year == 2022 else "section_{}_{:04d}.wav"
    return {"test": sorted(pattern.format(u, n) for u in units
                           for n in range(first, first + 8))}


def listing(machine_dir):
    return {d.name: sorted(p.name for p in d.iterdir()) for d in machine_dir.iterdir()}


@pytest.mark.parametrize("year", sorted(years.YEARS))
def test_generator_writes_each_years_layout(year, tmp_path):
    make_dataset(tmp_path / "dev", **small_options(year))
    make_dataset(tmp_path / "eval", ground_truth_dir=tmp_path / "truth", **small_options(year))
    assert sorted(p.name for p in (tmp_path / "dev").iterdir()) == sorted(MACHINES)
    for machine in MACHINES:
        dev = listing(tmp_path / "dev" / machine)
        assert dev == expected_dev_names(year, machine)
        evaluation = listing(tmp_path / "eval" / machine)
        # the evaluation set's training clips: development names with the evaluation units
        renamed = {u: v for u, v in zip(*UNITS[year])}
        pattern = re.compile(r"(normal_id_|section_)(\d\d)")
        assert evaluation["train"] == sorted(
            pattern.sub(lambda f: f[1] + renamed[f[2]], n, count=1) for n in dev["train"])
        assert {f: evaluation[f] for f in clip_folders(year)} == expected_eval_test_names(
            year, machine)
        assert evaluation.get("supplemental") == dev.get("supplemental")
        # one channel, but 2026's two: left the machine, right a farther, noisier copy
        for path in (tmp_path / "dev" / machine).rglob("*.wav"):
            assert soundfile.info(path).channels == (2 if year == 2026 else 1)
            assert soundfile.info(path).samplerate == 16000

        # the ground truth gives each evaluation clip the label and domain of the development
        # clip holding the same recording
        dev_clips = {digest(p): dev_fields(year, p.name, p.parent.name)[1:]
                     for f in clip_folders(year)
                     for p in (tmp_path / "dev" / machine / f).iterdir()}
        truth = read_truth(year, tmp_path / "truth", machine)
        eval_clips = {p.name: digest(p) for f in clip_folders(year)
                      for p in (tmp_path / "eval" / machine / f).iterdir()}
        assert sorted(truth) == sorted(eval_clips)
        for name, key in eval_clips.items():
            assert truth[name] == dev_clips[key], name
        if year == 2021:
            for name, (_, domain) in truth.items():
                assert f"_{domain}_test_" in name
    if year == 2020:        # the 2020 eval_data_list.csv: a machine type's name, then its rows
        rows = read_rows(tmp_path / "truth" / "eval_data_list.csv")
        assert [r for r in rows if len(r) == 1] == [[m] for m in MACHINES]
        assert all(len(r) in (1, 3) for r in rows)
        assert sorted(p.name for p in (tmp_path / "truth").iterdir()) == ["eval_data_list.csv"]
    elif year == 2021:
        assert sorted(p.name for p in (tmp_path / "truth").iterdir()) == sorted(
            f"ground_truth_{m}_section_{u}_{d}_test.csv" for m in MACHINES
            for u in UNITS[2021][1] for d in DOMAINS)
    else:
        for kind in ("data", "domain"):
            assert sorted(p.name for p in (tmp_path / "truth" / f"ground_truth_{kind}").iterdir()) \
                == sorted(f"ground_truth_{m}_section_{u}_test.csv" for m in MACHINES
                          for u in UNITS[year][1])


@pytest.mark.slow
def test_generator_year_on_the_command_line(tmp_path):
    import subprocess
    subprocess.run([sys.executable, str(ROOT / "demo" / "make_demo_data.py"), str(tmp_path / "d"),
                    "--year", "2021", "--seconds", "0.2", "--eval", str(tmp_path / "t")],
                   check=True, capture_output=True)
    assert sorted(p.name for p in (tmp_path / "d" / "motor").iterdir()) == [
        "source_test", "target_test", "train"]
    assert (tmp_path / "t" / "ground_truth_motor_section_03_source_test.csv").is_file()


def test_2022_is_the_default_year(tmp_path):
    make_dataset(tmp_path / "default", seconds=0.2, machines={"motor": 60.0})
    make_dataset(tmp_path / "2022", seconds=0.2, machines={"motor": 60.0}, year=2022)
    def wavs(folder):
        return {str(p.relative_to(folder)): digest(p) for p in folder.rglob("*.wav")}

    default = wavs(tmp_path / "default")
    assert default == wavs(tmp_path / "2022")
    assert "test/section_01_target_test_anomaly_0005_speed_fast.wav" in {
        p.split("/", 1)[1] for p in default}


def test_channel_0_of_a_2026_stereo_clip_is_its_left_channel(tmp_path):
    from dcase_baseline import features
    make_dataset(tmp_path / "data", seconds=0.5, machines={"motor": 60.0}, year=2026,
                 counts={"train": {"source": 1}, "test": {"source": 1, "target": 1}})
    stereo = tmp_path / "data" / "motor" / "test" / \
        "section_00_target_test_anomaly_0000_speed_fast.wav"
    samples, rate = soundfile.read(stereo, dtype="int16")
    assert samples.shape[1] == 2 and not np.array_equal(samples[:, 0], samples[:, 1])
    mono = tmp_path / "left.wav"
    soundfile.write(mono, samples[:, 0], rate, subtype="PCM_16")
    feature = yaml.safe_load((ROOT / "baseline.yaml").read_text())["feature"]
    left = features.clip_log_mels([stereo], {**feature, "channel": 0}).log_mels[0]
    for channel in (0, "mean"):     # a mono file: its one channel either way
        assert np.array_equal(left, features.clip_log_mels(
            [mono], {**feature, "channel": channel}).log_mels[0])
    # and the other choices differ: the test does tell the channels apart
    for channel in (1, "mean"):
        other = features.clip_log_mels([stereo], {**feature, "channel": channel}).log_mels[0]
        assert other.shape == left.shape and not np.allclose(other, left)


@pytest.mark.slow
@pytest.mark.parametrize("year", [y for y in sorted(years.YEARS)
                                  if y != years.DEFAULT_YEAR and y not in layouts()])
def test_each_years_configuration_runs_its_demo_data(year, tmp_path):
    """configs/<year>.yaml as it is, but for the folders and 2 epochs, on the year's demo data
    (the years run end to end above run theirs there)."""
    make_dataset(tmp_path / "data", seconds=1.0, year=year, machines={"motor": 60.0})
    year_config(tmp_path, year, dev_directory=str(tmp_path / "data"))
    for script in ("00_train.py", "01_test.py"):
        run = run_year(script, "-d", cwd=tmp_path)
    rows = read_rows(tmp_path / "result" / "result.csv")
    keys = {2020: ["id"], 2021: ["section", "domain"]}.get(year, ["section"])
    metrics = {2020: ["AUC", "pAUC"], 2021: METRICS_2021}.get(year, METRICS_2023)
    assert rows[:2] == [["motor"], keys + metrics]
    # 2026's stereo clips: the configuration takes their near channel, as the successor
    assert "several channels" not in run.stderr
