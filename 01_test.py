"""Score the test clips: python 01_test.py -d (development) | -e (evaluation).

For each machine type and section: the anomaly score of every test clip and its decision
against the gamma threshold fitted by 00_train.py, written as CSV files; in development mode
(or in evaluation mode with --ground-truth) also AUC, pAUC, precision, recall and F1 per
section in result.csv.
"""
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

import clips
import common as com
import detector
import frame_stacks
import metrics
import outputs
import report
import results

# Keras (TensorFlow), librosa and SciPy take seconds to import: they are imported after main()
# has checked the command line and the configuration, so that -h and mistakes are answered at
# once, and while the first machine type's features are being computed.


def test_spectrograms(machine_dir, dev, config, early=False):
    """The machine type's test units (as clips.units gives them), and the log-mel spectrograms
    of all their clips under way."""
    import features
    found = clips.units(machine_dir, dev, config["year"])
    paths = [path for _, unit_paths, _, _ in found for path in unit_paths]
    return found, features.ClipSpectrograms(paths, config, early)


def clip_scores(model, log_mels, n_frames, precisions=None):
    """Scores of the clips with a spectrogram (not None), and their indices: the mean squared
    error, or with precisions (score: mahalanobis) the Selective Mahalanobis score."""
    import mahalanobis
    import scoring
    keep = np.array([i for i, m in enumerate(log_mels) if m is not None], dtype=int)
    if not len(keep):
        return keep, np.empty(0)
    stacks = frame_stacks.frame_index([log_mels[i] for i in keep], n_frames)
    if precisions is None:
        return keep, scoring.clip_scores(model, stacks)
    return keep, mahalanobis.scores(mahalanobis.clip_mean_residuals(model, stacks)[0],
                                    precisions)


def empty_cells(machine, unit, values, year):
    """A warning for each metric left empty, with the reason; returns them."""
    messages = []
    for name, value in zip(metrics.metric_names(year), values):
        if value is None:
            reason = ("needs normal and anomalous clips of that set" if name.startswith(
                ("AUC", "pAUC")) else "no test clips of that domain")
            messages.append(f"{machine} {unit}: {name} left empty ({reason})")
            com.log.warning(messages[-1])
    return messages


def without_domain(units, year):
    """A message for each labelled clip whose name says neither source nor target (2022 on:
    earlier years have no domains in the names)."""
    messages = []
    for _, paths, labels, domains in units:
        if domains is None or year < 2022:
            continue
        for path, label, domain in zip(paths, labels, domains):
            if domain is None:
                messages.append(f"{path}: no source/target in its name; scored and counted in "
                                f"pAUC, {'in both AUCs' if label else 'in neither AUC'} and in "
                                f"no domain's precision, recall and F1")
                com.log.warning(messages[-1])
    return messages


class MachineScores(NamedTuple):
    rows: list              # [(key cells, metric values)] of the labelled units
    threshold: float        # the decision threshold
    units: list             # [(unit, scores, labels, domains)] of the labelled units
    notes: list             # for the report: empty cells, averaged channels
    problems: dict          # {kind: [message]} of the clips that need a look
    averaged: list          # the clips whose channels were averaged


def score_machine(machine_dir, started, config, args, train_command):
    """Write the score and decision files of every unit; returns MachineScores.

    started: test_spectrograms' result."""
    import scipy.stats
    machine, result_dir, year = machine_dir.name, config["result_directory"], config["year"]
    found, spectrograms = started
    if args.ground_truth:
        found = [(unit, paths, *clips.ground_truth_labels(paths, args.ground_truth, machine,
                                                          unit, year))
                 for unit, paths, _, _ in found]
    model, path, gamma, precisions = detector.load(config["model_directory"], machine,
                                                   train_command, config["score"])
    shape, loc, scale = gamma
    threshold = scipy.stats.gamma.ppf(q=config["decision_threshold"], a=shape, loc=loc,
                                      scale=scale)
    com.log.info("%s: model %s, decision threshold %.6g", machine, path, threshold)
    usable = spectrograms.finish(args.skip_bad_files, desc="test clips")
    for message in usable.short:
        com.log.warning("%s; no score", message)
    problems = {"silent": usable.silent,
                "not scored": usable.bad + [f"{message}; no score" for message in usable.short],
                "no domain": without_domain(found, year)}
    rows, scored, notes, offset = [], [], [], 0
    for unit, paths, labels, domains in found:
        log_mels, offset = usable.log_mels[offset:offset + len(paths)], offset + len(paths)
        keep, scores = clip_scores(model, log_mels, config["feature"]["n_frames"], precisions)
        names = [paths[i].name for i in keep]
        decisions = (scores > threshold).astype(int)
        outputs.save_csv(outputs.anomaly_score_file(result_dir, machine, unit, year),
                         [[n, float(s)] for n, s in zip(names, scores)])
        decision_file = outputs.decision_result_file(result_dir, machine, unit, year)
        if decision_file:
            outputs.save_csv(decision_file, [[n, int(d)] for n, d in zip(names, decisions)])
        com.log.info("%s %s: %d clips scored", machine, unit, len(keep))
        if labels is None:
            continue
        values = metrics.unit_metrics(labels[keep], scores, decisions, domains[keep],
                                      config["max_fpr"], year)
        notes += empty_cells(machine, unit, values, year)
        rows.append((clips.unit_keys(unit), values))
        scored.append((unit, scores, labels[keep], domains[keep]))
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
             "DCASE year": config["year"], "score": config["score"],
             "clips scored per unit": ", ".join(f"{u}: {len(c)}" for u, c, *_ in scored),
             **facts, "config": config}
    outputs.save_json(report.facts_file(result_dir, machine, args.dev), facts)


def main():
    args = com.parse_args("Score the test clips with the trained models.", test_script=True)
    config, dirs = com.start_run(args)
    dev = args.dev
    com.check_output_folders(config, "result_directory")
    train_command = f"python 00_train.py {'-d' if dev else '-e'} -m <machine>"
    detector.files(config["model_directory"], dirs[0].name,
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
            save_report_files(machine_dir, config, args, scored.threshold, scored.units, {
                "seconds to score": round(time.perf_counter() - start, 1),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                "notes": [m for found in scored.problems.values() for m in found] + scored.notes})

    if labelled:
        blocks = results.assemble(result_path, dev, record,
                                  config["model_directory"] if with_report else None)
        com.log.info("results of %s -> %s", ", ".join(m for m, _ in blocks), result_path)
        results.log_summary(blocks, config["year"])
    else:
        com.log.info("score and decision files -> %s", config["result_directory"])
    com.log_problems(all_problems)
    com.log_averaged(averaged)


if __name__ == "__main__":
    com.run_main(main)
