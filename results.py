"""result.csv, assembled from the machine types' blocks in the result folder.

01_test.py writes one block per machine type (result_<machine>_<dev|eval>.csv), so that
parallel jobs, one machine type each, make one result.csv together. Each block has a record
of the run that made it beside it (.json): the data, model and ground-truth folders and every
setting that changes a figure. result.csv takes only the blocks of the run assembling it;
any other block is left out and named, never averaged in.
"""
import json
import logging
import time
from pathlib import Path

import common as com
import metrics
import outputs

log = logging.getLogger("baseline")


def run_record(config, data_dir, ground_truth, seed):
    """What makes two runs' figures comparable: the same data, models and settings."""
    return {"data folder": str(Path(data_dir).resolve()),
            "model folder": str(Path(config["model_directory"]).resolve()),
            "ground truth": str(Path(ground_truth).resolve()) if ground_truth else None,
            "feature": config["feature"],
            "fit": com.fit_settings(config["fit"]),
            "seed": seed, "max_fpr": config["max_fpr"],
            "decision_threshold": config["decision_threshold"], "year": config["year"],
            "score": config["score"], "mahalanobis": config["mahalanobis"]}


def record_file(block_path):
    return Path(block_path).with_suffix(".json")


def save_block(result_path, machine, dev, units, record):
    """A machine type's block of result.csv in the layout of the record's year, and the record
    of the run beside it."""
    path = outputs.machine_result_file(result_path, machine, dev)
    outputs.save_csv(path, metrics.machine_rows(machine, units, record["year"]))
    outputs.save_json(record_file(path),
                      {"run": record, "scored": time.strftime("%Y-%m-%d %H:%M:%S")})


def _differences(found, record):
    """How a block's record differs from this run's, in words."""
    if found is None:
        return "no record of the run that made it"
    theirs = found.get("run", {})
    keys = [key for key in record if theirs.get(key) != record[key]]
    return "; ".join(f"{key} {theirs.get(key)!r} (this run: {record[key]!r})" for key in keys)


def read_record(block_path):
    """The record beside a block; None where there is none or it cannot be read."""
    try:
        return json.loads(record_file(block_path).read_text())
    except (OSError, ValueError):
        return None


def read_blocks(result_path, dev, record):
    """(blocks of this run sorted by machine type, [(block file, why it is left out)]).

    A block belongs to this run when its record names the same data, models and settings:
    then the blocks of parallel jobs of one run join, and a block scored on other data or with
    other settings stays out of result.csv.
    """
    blocks, left_out = [], []
    for path in outputs.machine_result_files(result_path, dev):
        found = read_record(path)
        why = _differences(found, record)
        if why:
            scored = f", scored {found['scored']}" if found and "scored" in found else ""
            left_out.append((path, f"{why}{scored}"))
            log.warning("left out of %s: %s is of another run (%s%s); remove it or use another "
                        "result_directory", Path(result_path).name, path, why, scored)
            continue
        blocks.append(metrics.parse_machine_rows(outputs.read_csv(path), record["year"]))
    return sorted(blocks, key=lambda block: block[0]), left_out


def assemble(result_path, dev, record, model_dir=None):
    """Write result.csv from the blocks of this run in the result folder (parallel jobs'
    included), and report.html where model_dir (of the loss plots) is given; returns
    result.csv's blocks."""
    import report
    # under the lock, so that of two runs finishing together the later one reads both blocks
    with outputs.file_lock(result_path.with_name(f".{result_path.name}.lock")):
        blocks, left_out = read_blocks(result_path, dev, record)
        year = record["year"]
        outputs.save_csv(result_path, metrics.result_rows(blocks, year))
        if model_dir is not None:
            page = report.write_report(result_path, model_dir, blocks, dev, year, left_out)
            log.info("report -> %s", page)
    return blocks


def log_summary(blocks, year=2022):
    """One line per machine type: the mean of each AUC and pAUC column over its units; then
    the official score (none in 2020)."""
    def cell(value):
        return "-" if value is None else f"{value:.4f}"

    names = metrics.metric_names(year)[:metrics.score_columns(year)]
    line = "%-12s %9s" + "".join(f" %{max(8, len(n) + 1)}s" for n in names)
    unit = {2020: "IDs", 2021: "units"}.get(year, "sections")
    log.info("summary (arithmetic means over %s):", unit)
    log.info(line, "machine", unit, *names)
    for machine, units in blocks:
        means, _ = metrics.column_means([values for _, values in units])
        log.info(line.replace("%9s", "%9d"), machine, len(units), *map(cell, means[:len(names)]))
    score = metrics.official_score([values for _, units in blocks for _, values in units], year)
    if year != 2020:
        log.info("official score (harmonic mean of all AUCs and pAUCs): %s", cell(score))
