"""Score the test clips: python 01_test.py -d (development) | -e (evaluation).

For each machine type and section: the anomaly score of every test clip and its decision
against the gamma threshold fitted by 00_train.py, written as CSV files; in development mode
(or in evaluation mode with --ground-truth) also AUC, pAUC, precision, recall and F1 per
section in result.csv.
"""
import json
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

import clips
import common as com
import frame_stacks
import metrics
import outputs
import report
import results

# Keras (TensorFlow), librosa and SciPy take seconds to import: they are imported after main()
# has checked the command line and the configuration, so that -h and mistakes are answered at
# once, and while the first machine type's features are being computed.


def detector_files(model_dir, machine, train_command):
    """The machine's model file (ours, or the original's) and its score distribution file; a
    clear error when the model is missing or either file may not be read."""
    existing = outputs.existing_model_files(model_dir, machine)
    if not existing:
        raise com.BaselineError(f"model file not found: {outputs.model_file(model_dir, machine)}; "
                                f"create it with `{train_command}`")
    distr = outputs.score_distr_file(model_dir, machine)
    com.check_readable(existing[0], "model")
    com.check_readable(distr, "score distribution")
    return existing[0], distr


def load_detector(model_dir, machine, train_command):
    """The machine's model and its score distribution's gamma parameters; a clear error when
    either is missing, or when the distribution belongs to another model (a training of the
    machine type that replaces them may be running)."""
    import keras_model
    import scoring
    path, distr = detector_files(model_dir, machine, train_command)
    lock = outputs.training_lock_file(model_dir, machine)
    training_now = outputs.is_locked(lock)
    if training_now:
        com.log.warning("%s: another process is training this machine type (it holds %s); "
                        "scoring with the model in place now", machine, lock)
    digest = outputs.file_digest(path)
    try:
        model = keras_model.load_model(path)
    except Exception as error:
        raise com.BaselineError(f"cannot load model {path} ({com.describe(error)}); "
                                f"recreate it with `{train_command} --force`") from None
    try:
        gamma, model_digest = scoring.read_score_distribution(distr)
    except FileNotFoundError:
        raise com.BaselineError(f"score distribution not found: {distr}; "
                                f"create it with `{train_command} --force`") from None
    except Exception as error:
        raise com.BaselineError(f"cannot read score distribution {distr} "
                                f"({com.describe(error)}); recreate it with "
                                f"`{train_command} --force`") from None
    # the model file's digest before and after loading it: the model loaded is the one hashed
    if model_digest and not model_digest == digest == outputs.file_digest(path):
        advice = (f"a training of {machine} is running (it holds {lock}): rerun when it has "
                  f"finished" if training_now or outputs.is_locked(lock)
                  else f"retrain it with `{train_command} --force`")
        raise com.BaselineError(f"score distribution {distr} belongs to another model than "
                                f"{path}; {advice}")
    return model, path, gamma


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


def test_spectrograms(machine_dir, dev, config, early=False):
    """The machine type's test sections (as clips.sections gives them), and the log-mel
    spectrograms of all their clips under way."""
    import features
    found = clips.sections(machine_dir, dev)
    paths = [path for _, section_paths, _, _ in found for path in section_paths]
    return found, features.ClipSpectrograms(paths, config, early)


def clip_scores(model, log_mels, n_frames):
    """Scores of the clips with a spectrogram (not None), and their indices."""
    import scoring
    keep = np.array([i for i, m in enumerate(log_mels) if m is not None], dtype=int)
    if not len(keep):
        return keep, np.empty(0)
    return keep, scoring.clip_scores(model, frame_stacks.frame_index(
        [log_mels[i] for i in keep], n_frames))


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


def without_domain(sections):
    """A message for each labelled clip whose name says neither source nor target."""
    messages = []
    for _, paths, labels, domains in sections:
        if domains is None:
            continue
        for path, label, domain in zip(paths, labels, domains):
            if domain is None:
                messages.append(f"{path}: no source/target in its name; scored and counted in "
                                f"pAUC, {'in both AUCs' if label else 'in neither AUC'} and in "
                                f"no domain's precision, recall and F1")
                com.log.warning(messages[-1])
    return messages


class MachineScores(NamedTuple):
    rows: list              # [(section number, metric values)] of the labelled sections
    threshold: float        # the decision threshold
    sections: list          # [(section, scores, labels, domains)] of the labelled sections
    notes: list             # for the report: empty cells, averaged channels
    problems: dict          # {kind: [message]} of the clips that need a look
    averaged: list          # the clips whose channels were averaged


def score_machine(machine_dir, started, config, args, train_command):
    """Write the score and decision files of every section; returns MachineScores.

    started: test_spectrograms' result."""
    import scipy.stats
    machine, result_dir = machine_dir.name, config["result_directory"]
    found, spectrograms = started
    if args.ground_truth:
        found = [(section, paths, *labels_from_ground_truth(paths, args.ground_truth, machine,
                                                              section))
                 for section, paths, _, _ in found]
    model, path, gamma = load_detector(config["model_directory"], machine, train_command)
    shape, loc, scale = gamma
    threshold = scipy.stats.gamma.ppf(q=config["decision_threshold"], a=shape, loc=loc,
                                      scale=scale)
    com.log.info("%s: model %s, decision threshold %.6g", machine, path, threshold)
    usable = spectrograms.finish(args.skip_bad_files, desc="test clips")
    for message in usable.short:
        com.log.warning("%s; no score", message)
    problems = {"silent": usable.silent,
                "not scored": usable.bad + [f"{message}; no score" for message in usable.short],
                "no domain": without_domain(found)}
    rows, scored, notes, offset = [], [], [], 0
    for section, paths, labels, domains in found:
        log_mels, offset = usable.log_mels[offset:offset + len(paths)], offset + len(paths)
        keep, scores = clip_scores(model, log_mels, config["feature"]["n_frames"])
        names = [paths[i].name for i in keep]
        decisions = (scores > threshold).astype(int)
        outputs.save_csv(outputs.anomaly_score_file(result_dir, machine, section),
                         [[n, float(s)] for n, s in zip(names, scores)])
        outputs.save_csv(outputs.decision_result_file(result_dir, machine, section),
                         [[n, int(d)] for n, d in zip(names, decisions)])
        com.log.info("%s %s: %d clips scored", machine, section, len(keep))
        if labels is None:
            continue
        values = metrics.section_metrics(labels[keep], scores, decisions, domains[keep],
                                         config["max_fpr"])
        notes += empty_cells(machine, section, values)
        rows.append((section.split("_", 1)[1], values))
        scored.append((section, scores, labels[keep], domains[keep]))
    if usable.averaged:
        notes.append(f"{len(usable.averaged)} clips of several channels averaged into one "
                     f"(feature.channel: mean)")
    return MachineScores(rows, threshold, scored, notes, problems, usable.averaged)


def save_report_files(machine_dir, config, args, threshold, scored, facts):
    """The machine type's figure and facts, from which report.html is built."""
    import keras
    machine, result_dir = machine_dir.name, config["result_directory"]
    report.save_machine_plot(report.plot_file(result_dir, machine, args.dev), machine, scored,
                             threshold, config["max_fpr"])
    facts = {"machine type": machine, "project version": com.__version__,
             "Keras": f"{keras.__version__} ({keras.backend.backend()} backend)",
             "seed": com.seed_of(args, config),
             "data folder": str(machine_dir.parent.resolve()),
             "decision threshold": float(threshold),
             "clips scored per section": ", ".join(f"{s}: {len(c)}" for s, c, *_ in scored),
             **facts, "config": config}
    with outputs.atomic_path(report.facts_file(result_dir, machine, args.dev)) as tmp:
        Path(tmp).write_text(json.dumps(facts, indent=1))


def assemble_result(result_path, config, dev, record, with_report):
    """Write result.csv, and report.html, from the blocks of this run in the result folder
    (parallel jobs' included); returns result.csv's blocks."""
    # under the lock, so that of two runs finishing together the later one reads both blocks
    with outputs.file_lock(result_path.with_name(f".{result_path.name}.lock")):
        blocks, left_out = results.read_blocks(result_path, dev, record)
        outputs.save_csv(result_path, metrics.result_rows(blocks))
        if with_report:
            page = report.write_report(result_path, config["model_directory"], blocks, dev,
                                       left_out=left_out)
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
    detector_files(config["model_directory"], dirs[0].name,
                   train_command.replace("<machine>", dirs[0].name))
    # worker processes compute the first machine type's features while Keras is imported
    early = {dirs[0]: test_spectrograms(dirs[0], dev, config, early=True)}
    com.import_keras()
    com.use_compilation_cache(config)
    result_path = Path(config["result_directory"]) / config["result_file"]
    labelled = dev or args.ground_truth
    with_report = labelled and config["report"] and not args.no_report
    record = results.run_record(config, dirs[0].parent, args.ground_truth,
                                com.seed_of(args, config))
    all_problems, averaged = [], []
    for i, machine_dir in enumerate(dirs, 1):
        machine = machine_dir.name
        com.log.info("[%d/%d] %s", i, len(dirs), machine)
        start = time.perf_counter()
        started = early.pop(machine_dir, None) or test_spectrograms(machine_dir, dev, config)
        scored = score_machine(machine_dir, started, config, args,
                               train_command.replace("<machine>", machine))
        all_problems.append(scored.problems)
        averaged += scored.averaged
        if labelled:
            results.save_block(result_path, machine, dev, scored.rows, record)
        if with_report:
            save_report_files(machine_dir, config, args, scored.threshold, scored.sections, {
                "seconds to score": round(time.perf_counter() - start, 1),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                "notes": [m for found in scored.problems.values() for m in found] + scored.notes})

    if labelled:
        blocks = assemble_result(result_path, config, dev, record, with_report)
        com.log.info("results of %s -> %s", ", ".join(m for m, _ in blocks), result_path)
        log_summary(blocks)
    else:
        com.log.info("score and decision files -> %s", config["result_directory"])
    com.log_problems(all_problems)
    com.log_averaged(averaged)


if __name__ == "__main__":
    com.run_main(main)
