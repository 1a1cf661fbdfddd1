"""Score the test clips: python 01_test.py -d (development) | -e (evaluation).

For each machine type and section: the anomaly score of every test clip and its decision
against the gamma threshold fitted by 00_train.py, written as CSV files; in development mode
(or in evaluation mode with --ground-truth) also AUC, pAUC, precision, recall and F1 per
section in result.csv.
"""
import json
import time
from pathlib import Path

import numpy as np

import clips
import common as com
import frame_stacks
import metrics
import report

# Keras (TensorFlow), librosa and SciPy take seconds to import: the functions import them
# where they need them, after main() has checked the command line and the configuration.


def detector_files(model_dir, machine, train_command):
    """The machine's model file (ours, or the original's) and its score distribution file; a
    clear error when the model is missing or either file may not be read."""
    candidates = [com.model_file(model_dir, machine), com.legacy_model_file(model_dir, machine)]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise com.BaselineError(f"model file not found: {candidates[0]}; "
                                f"create it with `{train_command}`")
    distr = com.score_distr_file(model_dir, machine)
    com.check_readable(path, "model")
    com.check_readable(distr, "score distribution")
    return path, distr


def load_detector(model_dir, machine, train_command):
    """The machine's model and its decision threshold; a clear error when either is missing."""
    import joblib

    import keras_model
    path, distr = detector_files(model_dir, machine, train_command)
    try:
        model = keras_model.load_model(path)
    except Exception as error:
        raise com.BaselineError(f"cannot load model {path} ({type(error).__name__}); "
                                f"recreate it with `{train_command} --force`") from None
    try:
        shape, loc, scale = joblib.load(distr)
    except FileNotFoundError:
        raise com.BaselineError(f"score distribution not found: {distr}; "
                                f"create it with `{train_command} --force`") from None
    except Exception as error:
        raise com.BaselineError(f"cannot read score distribution {distr} "
                                f"({type(error).__name__}); recreate it with "
                                f"`{train_command} --force`") from None
    return model, path, (shape, loc, scale)


def labels_from_ground_truth(paths, ground_truth_dir, machine, section):
    """Labels and domains of evaluation clips from the official ground truth files."""
    truth = clips.read_ground_truth(ground_truth_dir, machine, section)
    keys = [clips.ground_truth_key(p) for p in paths]
    missing = sorted(set(truth) - set(keys))
    extra = sorted(set(keys) - set(truth))
    if missing or extra:
        raise com.BaselineError(
            f"{machine} {section}: test clips and ground truth differ; missing from the test "
            f"folder: {', '.join(missing) or 'none'}; not in the ground truth: "
            f"{', '.join(extra) or 'none'}")
    return (np.array([truth[k][0] for k in keys]), np.array([truth[k][1] for k in keys]))


def start_test_features(machine_dir, dev, config, early=False):
    """The machine type's test sections (as clips.sections gives them), and the log-mel
    spectrograms of all their clips under way."""
    import features
    found = clips.sections(machine_dir, dev)
    paths = [path for _, section_paths, _, _ in found for path in section_paths]
    return found, features.start_log_mels(paths, config["feature"],
                                          features.cache_directory(config),
                                          features.early_workers(len(paths)) if early else None)


def score_clips(model, paths, log_mels, n_frames, problems):
    """Scores of the clips that have at least one frame stack, and their indices in paths;
    the clips without a score are added to problems."""
    import features
    import scoring
    short = features.too_short(paths, log_mels, n_frames)
    for message in short.values():
        com.log.warning("%s; no score", message)
    problems["not scored"] += [f"{message}; no score" for message in short.values()]
    keep = [i for i, m in enumerate(log_mels) if m is not None and i not in short]
    if not keep:
        return np.array(keep, dtype=int), np.empty(0)
    stacks = frame_stacks.frame_index([log_mels[i] for i in keep], n_frames)
    return np.array(keep, dtype=int), scoring.clip_scores(model, stacks)


def empty_cells(machine, section, values):
    """A warning for each metric left empty, with the reason; returns them."""
    messages = []
    for name, value in zip(metrics.METRIC_NAMES, values):
        if value is None:
            reason = ("needs normal and anomalous clips of that set" if name.startswith(
                ("AUC", "pAUC")) else "no test clips of that domain")
            messages.append(f"{machine} {section}: {name} left empty ({reason})")
            com.log.warning(messages[-1])
    return messages


def score_machine(machine_dir, dev, config, args, train_command, problems, started=None):
    """Write the score and decision files of every section. Returns the sections' metric rows
    and, for the report, the decision threshold, the scored clips of each labelled section
    [(section, scores, labels, domains)] and the notes on empty cells.

    started: start_test_features' result, where main() started it early."""
    import scipy.stats

    import features
    machine, result_dir = machine_dir.name, config["result_directory"]
    found, started = started or start_test_features(machine_dir, dev, config)
    if args.ground_truth:
        found = [(section, paths, *labels_from_ground_truth(paths, args.ground_truth, machine,
                                                              section))
                 for section, paths, _, _ in found]
    model, path, gamma = load_detector(config["model_directory"], machine, train_command)
    shape, loc, scale = gamma
    threshold = scipy.stats.gamma.ppf(q=config["decision_threshold"], a=shape, loc=loc,
                                      scale=scale)
    com.log.info("%s: model %s, decision threshold %.6g", machine, path, threshold)
    log_mels, bad, silent = features.finish_log_mels(started, args.skip_bad_files,
                                                     desc="test clips")
    features.stop_workers(started)
    problems["silent"] += silent
    problems["not scored"] += bad
    rows, scored, notes, offset = [], [], [], 0
    for section, paths, labels, domains in found:
        section_log_mels, offset = log_mels[offset:offset + len(paths)], offset + len(paths)
        keep, scores = score_clips(model, paths, section_log_mels, config["feature"]["n_frames"],
                                   problems)
        names = [paths[i].name for i in keep]
        decisions = (scores > threshold).astype(int)
        com.save_csv(com.anomaly_score_file(result_dir, machine, section),
                     [[n, float(s)] for n, s in zip(names, scores)])
        com.save_csv(com.decision_result_file(result_dir, machine, section),
                     [[n, int(d)] for n, d in zip(names, decisions)])
        com.log.info("%s %s: %d clips scored", machine, section, len(keep))
        if labels is None:
            continue
        values = metrics.section_metrics(labels[keep], scores, decisions, domains[keep],
                                         config["max_fpr"])
        notes += empty_cells(machine, section, values)
        rows.append((section.split("_", 1)[1], values))
        scored.append((section, scores, labels[keep], domains[keep]))
    return rows, threshold, scored, notes


def save_report_files(machine_dir, config, args, threshold, scored, facts):
    """The machine type's figure and facts, from which report.html is built."""
    import keras
    machine, result_dir = machine_dir.name, config["result_directory"]
    report.save_machine_plot(report.plot_file(result_dir, machine, args.dev), machine, scored,
                             threshold, config["max_fpr"])
    facts = {"machine type": machine, "project version": com.__version__,
             "Keras": f"{keras.__version__} ({keras.backend.backend()} backend)",
             "seed": args.seed if args.seed is not None else config["seed"],
             "data folder": str(machine_dir.parent.resolve()),
             "decision threshold": float(threshold),
             "clips scored per section": ", ".join(f"{s}: {len(c)}" for s, c, *_ in scored),
             **facts, "config": config}
    with com.atomic_path(report.facts_file(result_dir, machine, args.dev)) as tmp:
        Path(tmp).write_text(json.dumps(facts, indent=1))


def assemble_result(result_path, config, dev, with_report):
    """Write result.csv, and report.html, from every machine type's files in the result folder
    (this run's and those of other runs, parallel ones included); returns result.csv's blocks."""
    # under the lock, so that of two runs finishing together the later one reads both blocks
    with com.file_lock(result_path.with_name(f".{result_path.name}.lock")):
        blocks = [metrics.parse_machine_rows(com.read_csv(path))
                  for path in com.machine_result_files(result_path, dev)]
        blocks.sort(key=lambda block: block[0])
        com.save_csv(result_path, metrics.result_rows(blocks))
        if with_report:
            page = report.write_report(result_path, config["model_directory"], blocks, dev)
            com.log.info("report -> %s", page)
    return blocks


def log_summary(blocks):
    """One line per machine type: mean AUC (source), AUC (target) and pAUC over its sections."""
    def cell(value):
        return "-" if value is None else f"{value:.4f}"

    com.log.info("summary (arithmetic means over sections):")
    com.log.info("%-12s %9s %13s %13s %8s", "machine", "sections", "AUC (source)",
                 "AUC (target)", "pAUC")
    for machine, sections in blocks:
        means, _ = metrics.column_means([values for _, values in sections])
        com.log.info("%-12s %9d %13s %13s %8s", machine, len(sections), *map(cell, means[:3]))
    score = metrics.official_score([values for _, sections in blocks for _, values in sections])
    com.log.info("official score (harmonic mean of all AUCs and pAUCs): %s", cell(score))


def main():
    args = com.parse_args("Score the test clips with the trained models.", test_script=True)
    config, dirs = com.start_run(args)
    dev = args.dev
    com.check_output_folders(config, "result_directory")
    train_command = f"python 00_train.py {'-d' if dev else '-e'} -m <machine>"
    # worker processes compute the first machine type's features while Keras is imported
    detector_files(config["model_directory"], dirs[0].name,
                   train_command.replace("<machine>", dirs[0].name))
    early = start_test_features(dirs[0], dev, config, early=True)
    com.import_keras()
    com.use_compilation_cache(config)
    result_path = Path(config["result_directory"]) / config["result_file"]
    labelled = dev or args.ground_truth
    with_report = labelled and config["report"] and not args.no_report
    problems = {"silent": [], "not scored": []}
    for i, machine_dir in enumerate(dirs, 1):
        machine = machine_dir.name
        com.log.info("[%d/%d] %s", i, len(dirs), machine)
        start, before = time.perf_counter(), sum(map(len, problems.values()))
        rows, threshold, scored, notes = score_machine(
            machine_dir, dev, config, args, train_command.replace("<machine>", machine), problems,
            early if i == 1 else None)
        if labelled:
            com.save_csv(com.machine_result_file(result_path, machine, dev),
                         metrics.machine_rows(machine, rows))
        if with_report:
            mine = [m for messages in problems.values() for m in messages][before:]
            save_report_files(machine_dir, config, args, threshold, scored, {
                "seconds to score": round(time.perf_counter() - start, 1),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "notes": mine + notes})

    if labelled:
        blocks = assemble_result(result_path, config, dev, with_report)
        com.log.info("results of %s -> %s", ", ".join(m for m, _ in blocks), result_path)
        log_summary(blocks)
    else:
        com.log.info("score and decision files -> %s", config["result_directory"])
    for kind, messages in problems.items():
        for message in messages:
            com.log.warning("%s: %s", kind, message)


if __name__ == "__main__":
    com.run_main(main)
