"""evaluate.py: any system's score files scored by the year's rules. On 01_test.py's own files
it writes 01_test.py's result.csv byte for byte; foreign files (other delimiters, headers, paths,
line ends, rows in any order, decisions for some units only) give the figures computed here with
scikit-learn; bad files stop it with one line naming the file and the row, writing nothing."""
import csv
import shutil
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from dcase_baseline import evaluation
from helpers import ROOT, read_rows, run_script, script_environment, write_config

SECTIONS = ("00", "01")
MACHINES = ("motor", "pump")


def evaluate(*args, cwd, check=True):
    run = subprocess.run([sys.executable, str(ROOT / "evaluate.py"), *map(str, args)], cwd=cwd,
                         env=script_environment(), capture_output=True, text=True, timeout=600)
    if check:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


def last_line(run):
    return run.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_01_tests_own_files_give_its_result_csv_byte_for_byte(dev_run, demo_dev, tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev))
    run = evaluate(dev_run[0] / "result", "-d", "-o", tmp_path / "out", cwd=tmp_path)
    assert (tmp_path / "out" / "result.csv").read_bytes() == (
        dev_run[0] / "result" / "result.csv").read_bytes()
    assert "official score (harmonic mean of all AUCs and pAUCs)" in run.stderr
    heading = f"DCASE 2022 Task 2 scores of {dev_run[0] / 'result'}: development results"
    assert heading in (tmp_path / "out" / "report.html").read_text()
    assert (tmp_path / "out" / "plots" / "motor.png").is_file()


def foreign_scores(demo_dev, folder, seed, decisions_of=SECTIONS):
    """Score files of a system that is not this one: random scores in the formats other
    systems write (tab separated with a header, whole paths, Windows line ends, exponents,
    rows shuffled), decision files for some sections only. Returns {(machine, section):
    {clip name: (score, decision or None)}}."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for machine in MACHINES:
        for section in SECTIONS:
            names = sorted(p.name for p in (demo_dev / machine / "test").glob(
                f"section_{section}_*.wav"))
            rng.shuffle(names)
            scores = rng.normal(size=len(names)) * 10.0 ** rng.integers(-3, 4)
            decisions = (scores > np.median(scores)).astype(int)
            lines = ["file\tscore"] + [f"/somewhere/{machine}/test/{n}\t{s:.17e}"
                                       for n, s in zip(names, scores)]
            (folder / f"anomaly_score_{machine}_section_{section}_test.csv").write_bytes(
                "\r\n".join(lines).encode() + b"\r\n")
            if section in decisions_of:
                with open(folder / f"decision_result_{machine}_section_{section}_test.csv",
                          "w", newline="") as f:
                    csv.writer(f).writerows(zip(names, decisions))
            written[(machine, section)] = {
                n: (s, int(d) if section in decisions_of else None)
                for n, s, d in zip(names, scores, decisions)}
    return written


def expected_row(clips_of):
    """AUC (source), AUC (target), pAUC and the decisions' figures per domain, from the names
    and sklearn, as the 2022 rules define them."""
    names = list(clips_of)
    y = np.array([int("_anomaly_" in n) for n in names])
    score = np.array([clips_of[n][0] for n in names])
    domain = np.array(["target" if "_target_" in n else "source" for n in names])
    row = []
    for d in ("source", "target"):
        keep = (domain == d) | (y == 1)
        row.append(roc_auc_score(y[keep], score[keep]))
    row.append(roc_auc_score(y, score, max_fpr=0.1))
    if clips_of[names[0]][1] is None:
        return row + [None] * 6
    decision = np.array([clips_of[n][1] for n in names])
    figures = {}
    for d in ("source", "target"):
        mine = domain == d
        tp = np.sum((y[mine] == 1) & (decision[mine] == 1))
        fp = np.sum((y[mine] == 0) & (decision[mine] == 1))
        fn = np.sum((y[mine] == 1) & (decision[mine] == 0))
        eps = sys.float_info.epsilon
        precision, recall = tp / max(tp + fp, eps), tp / max(tp + fn, eps)
        figures[d] = (precision, recall, 2 * precision * recall / max(precision + recall, eps))
    return row + [figures[d][i] for i in range(3) for d in ("source", "target")]


@pytest.mark.slow
def test_a_foreign_systems_files_as_other_systems_write_them(demo_dev, tmp_path):
    scores = tmp_path / "scores"
    written = foreign_scores(demo_dev, scores, seed=1, decisions_of=("00",))
    write_config(tmp_path, dev_directory=str(demo_dev))
    run = evaluate(scores, "-d", "--seed", 1, cwd=tmp_path)
    lacking = [line for line in run.stderr.splitlines() if "no decision files for" in line]
    assert len(lacking) == 1 and "motor section_01, pump section_01" in lacking[0]
    rows = read_rows(scores / "result.csv")
    for machine in MACHINES:
        block = rows[rows.index([machine]) + 2:]
        for section in SECTIONS:
            found = next(r for r in block if r[0] == section)
            expected = expected_row(written[(machine, section)])
            for cell, value in zip(found[1:], expected):
                if value is None:
                    assert cell == ""
                else:
                    assert float(cell) == pytest.approx(value, abs=1e-12)


@pytest.mark.slow
def test_several_seeds_of_a_foreign_system_and_01_test_side_by_side(dev_run, demo_dev,
                                                                    tmp_path):
    write_config(tmp_path, dev_directory=str(demo_dev))
    for seed in (1, 2):
        foreign_scores(demo_dev, tmp_path / f"seed{seed}", seed)
        evaluate(tmp_path / f"seed{seed}", "-d", "--seed", seed, cwd=tmp_path)
    summarize = [sys.executable, str(ROOT / "summarize.py")]
    run = subprocess.run(summarize + ["seed1", "seed2", "-o", "summary"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [r[2] for r in read_rows(tmp_path / "summary" / "summary_runs.csv")[1:]] == ["1", "2"]
    # 01_test.py's run and the foreign system's: named by the setting they differ in
    refused = subprocess.run(summarize + [str(dev_run[0] / "result"), "seed1", "-o", "both"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "--across 'system'" in refused.stderr
    both = subprocess.run(summarize + [str(dev_run[0] / "result"), "seed1", "-o", "both",
                                       "--across", "system"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert both.returncode == 0, both.stderr


@pytest.mark.parametrize("text, message", [
    ("a.wav,0.5\r\nb.wav,1e-3\r\n", None),
    ("file,score\na.wav,0.5\nb.wav,.001\n", None),
    ("C:\\data\\test\\a.wav\t0.5\n/x/b.wav\t1E-3\n", None),
    ("a.wav,0.5\nb.wav,high\n", "row 2: the score of b.wav is 'high', not a finite number"),
    ("a.wav,0.5\nb.wav,nan\n", "row 2: the score of b.wav is 'nan', not a finite number"),
    ("a.wav,inf\nb.wav,1\n", "row 1: the score of a.wav is 'inf', not a finite number"),
    ("a.wav,0.5\na.wav,0.7\n", "row 2: a.wav is listed twice (rows 1 and 2)"),
    ("a.wav\n", "row 1: expected a clip name and a score"),
    ("file,score\nx.wav,bad\n", "row 2: the score of x.wav is 'bad', not a finite number"),
])
def test_score_files_as_other_systems_write_them(tmp_path, text, message):
    path = tmp_path / "anomaly_score_fan_section_00_test.csv"
    path.write_bytes(text.encode())
    if message is None:
        assert evaluation.read_values(path, "score") == {"a.wav": 0.5, "b.wav": 0.001}
    else:
        with pytest.raises(evaluation.BaselineError) as error:
            evaluation.read_values(path, "score")
        assert str(error.value) == f"{path}, {message}" or str(error.value).startswith(
            f"{path}, {message}")


def test_a_decision_is_0_or_1(tmp_path):
    path = tmp_path / "decision_result_fan_section_00_test.csv"
    path.write_text("a.wav,1\nb.wav,0.0\nc.wav,2\n")
    with pytest.raises(evaluation.BaselineError, match=r"row 3: the decision of c.wav is '2'; "
                                                       r"a decision is 1 \(anomalous\) or 0"):
        evaluation.read_values(path, "decision")


@pytest.mark.slow
@pytest.mark.parametrize("spoil, message", [
    ("drop", "its clips are not those of motor section_00; missing: "),
    ("extra", "not in the data: section_00_source_test_normal_9999.wav (1)"),
    ("name 2021", "named as the DCASE 2021 evaluator reads score files, not as DCASE 2022's"),
    ("machine", "no machine type fan in the data (motor, pump)"),
    ("section", "the data of motor have no 05"),
    ("missing", "anomaly_score_pump_section_01_test.csv not found: the scores of pump "
                "section_01"),
])
def test_bad_files_stop_with_one_line_and_write_nothing(demo_dev, tmp_path, spoil, message):
    scores = tmp_path / "scores"
    foreign_scores(demo_dev, scores, seed=3)
    first = scores / "anomaly_score_motor_section_00_test.csv"
    lines = first.read_bytes().split(b"\r\n")
    if spoil == "drop":
        first.write_bytes(b"\r\n".join(lines[:-2]) + b"\r\n")
    elif spoil == "extra":
        first.write_bytes(first.read_bytes() + b"section_00_source_test_normal_9999.wav\t1\r\n")
    elif spoil == "name 2021":
        shutil.copy(first, scores / "anomaly_score_motor_section_00_source_test.csv")
    elif spoil == "machine":
        shutil.copy(first, scores / "anomaly_score_fan_section_00_test.csv")
    elif spoil == "section":
        shutil.copy(first, scores / "anomaly_score_motor_section_05_test.csv")
    else:
        (scores / "anomaly_score_pump_section_01_test.csv").unlink()
    before = sorted(p.name for p in scores.iterdir())
    write_config(tmp_path, dev_directory=str(demo_dev))
    failed = evaluate(scores, "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert message in last_line(failed)
    assert sorted(p.name for p in scores.iterdir()) == before


@pytest.mark.slow
def test_evaluation_mode_joins_the_ground_truth_by_name(dev_run, demo_eval, tmp_path):
    data, truth = demo_eval
    write_config(tmp_path, eval_directory=str(data), model_directory=str(dev_run[0] / "model"))
    run_script("01_test.py", "-e", "--ground-truth", truth, cwd=tmp_path)
    result = tmp_path / "result"
    evaluate(result, "-e", "--ground-truth", truth, "-o", tmp_path / "out", cwd=tmp_path)
    assert (tmp_path / "out" / "result_eval.csv").read_bytes() == (
        result / "result_eval.csv").read_bytes()
    missing = evaluate(result, "-e", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "-e needs --ground-truth DIR" in missing.stderr
