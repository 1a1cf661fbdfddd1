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

import metrics
import outputs

log = logging.getLogger("baseline")


def run_record(config, data_dir, ground_truth, seed):
    """What makes two runs' figures comparable: the same data, models and settings."""
    return {"data folder": str(Path(data_dir).resolve()),
            "model folder": str(Path(config["model_directory"]).resolve()),
            "ground truth": str(Path(ground_truth).resolve()) if ground_truth else None,
            "feature": config["feature"],
            "fit": {k: v for k, v in config["fit"].items() if k != "verbose"},
            "seed": seed, "max_fpr": config["max_fpr"],
            "decision_threshold": config["decision_threshold"]}


def record_file(block_path):
    return Path(block_path).with_suffix(".json")


def save_block(result_path, machine, dev, sections, record):
    """A machine type's block of result.csv, and the record of the run beside it."""
    path = outputs.machine_result_file(result_path, machine, dev)
    outputs.save_csv(path, metrics.machine_rows(machine, sections))
    with outputs.atomic_path(record_file(path)) as tmp:
        Path(tmp).write_text(json.dumps({"run": record, "scored": time.strftime(
            "%Y-%m-%d %H:%M:%S")}, indent=1))


def _differences(found, record):
    """How a block's record differs from this run's, in words."""
    if found is None:
        return "no record of the run that made it"
    theirs = found.get("run", {})
    keys = [key for key in record if theirs.get(key) != record[key]]
    return "; ".join(f"{key} {theirs.get(key)!r} (this run: {record[key]!r})" for key in keys)


def _read_record(path):
    try:
        return json.loads(record_file(path).read_text())
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
        found = _read_record(path)
        why = _differences(found, record)
        if why:
            scored = f", scored {found['scored']}" if found and "scored" in found else ""
            left_out.append((path, f"{why}{scored}"))
            log.warning("left out of %s: %s is of another run (%s%s); remove it or use another "
                        "result_directory", Path(result_path).name, path, why, scored)
            continue
        blocks.append(metrics.parse_machine_rows(outputs.read_csv(path)))
    return sorted(blocks, key=lambda block: block[0]), left_out
