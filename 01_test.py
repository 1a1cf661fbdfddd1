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

import common as com
from dcase_baseline import (clips, detector, filenames, frame_stacks, mahalanobis, metrics,
                            plots, report, results, run_settings, safe_io, scoring)
from dcase_baseline.errors import BaselineError

# librosa (features), Keras (keras_model) and SciPy take seconds to import: they are imported
# in the functions that use them, after main() has checked the command line and the
# configuration, so that -h and mistakes are answered at once, and while the first machine
# type's features are being computed.


class ModelUnits(NamedTuple):
    """The test units one model scores."""
    name: str               # the model's (filenames.model_name)
    sections: object        # its sections, None: all of the machine type's
    units: list             # TestUnits
    trained: object         # the sections its training record must name (those of train/ it
                            # was made of); None: not checked


def model_units(machine_dir, dev, config, year, sections):
    """The machine type's TestUnits of the sections asked for (-s/--section, None: all), as
    the models that score them take them: ModelUnits, one model per machine type, or one per
    section (model_per: section). A model is named by the sections of train/, as 00_train.py
    names it for the same request."""
    units = clips.units(machine_dir, dev, year)
    word, test_folder = year.unit_keys[0], machine_dir / year.test_folders[0]
    tested = sorted({unit.keys[0] for unit in units})
    absent = [s for s in sections or () if s not in tested]
    if absent:
        raise BaselineError(f"no {word} {', '.join(absent)} in {test_folder}: its {word}s are "
                            f"{', '.join(tested)}; give -s/--section with some of those")
    if config["model_per"] == "machine" and not sections:
        return [ModelUnits(machine_dir.name, None, units, None)]
    trained = clips.trained_sections(machine_dir, dev, year)
    groups = clips.model_sections(trained, sections, config["model_per"],
                                  machine_dir / "train", year)
    untrained = [s for s in sections or tested if s not in trained]
    if untrained:       # model_per: section, without -s: each section needs its own model
        raise BaselineError(
            f"{machine_dir.name}: {word} {', '.join(untrained)} of {test_folder} has no "
            f"training clips in {machine_dir / 'train'} ({word}s {', '.join(trained)}), and "
            f"model_per: section scores each {word} with a model of its own; add its training "
            f"clips, or leave it out with -s/--section")
    wanted = set(sections or tested)
    found = []
    for chosen in groups:
        mine = [unit for unit in units if unit.keys[0] in (chosen or wanted)]
        if mine:
            found.append(ModelUnits(filenames.model_name(machine_dir.name, chosen, year),
                                    chosen, mine, tuple(chosen or trained)))
    return found


def unit_spectrograms(models, config, early=False):
    """The ModelUnits of a machine type, and the log-mel spectrograms of all their clips under
    way."""
    from dcase_baseline import features
    paths = [path for model in models for unit in model.units for path in unit.paths]
    return models, features.ClipSpectrograms(paths, config, early)



def clip_scores(model, log_mels, n_frames, precisions=None):
    """Scores of the clips with a spectrogram (not None), and their indices: the mean squared
    error, or with precisions (score: mahalanobis) the Selective Mahalanobis score."""
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
    for column, value in zip(year.metric_columns, values):
        if value is None:
            messages.append(f"{machine} {unit.name}: {column.name} left empty "
                            f"({metrics.KINDS[column.kind].empty_when})")
            com.log.warning(messages[-1])
    return messages


def without_domain(units, year):
    """A message for each labelled clip whose name says neither source nor target, where the
    year's names carry the domain (2022 on)."""
    messages = []
    if not year.has_domains:
        return messages
    for unit in units:
        if unit.domains is None:
            continue
        for path, label, domain in zip(unit.paths, unit.labels, unit.domains):
            if domain is None:
                messages.append(f"{path}: no source/target in its name; scored and counted in "
                                f"pAUC, {'in both AUCs' if label else 'in neither AUC'} and in "
                                f"no domain's precision, recall and F1")
                com.log.warning(messages[-1])
    return messages


class ModelScores(NamedTuple):
    name: str               # the model's
    threshold: float        # its decision threshold
    seed: object            # the seed it was trained with (where not recorded: this run's)
    rows: list              # ResultRows of the labelled units it scored
    scored: list            # plots.ScoredUnits of those
    notes: list             # for the report: empty cells


class MachineScores(NamedTuple):
    models: list            # ModelScores
    notes: list             # for the report: averaged channels
    problems: dict          # {kind: [message]} of the clips that need a look
    averaged: list          # the clips whose channels were averaged


def check_training(model, loaded, config, year, machine_dir, args):
    """A model made for another request or with other features than this run's stops it: its
    training record names its sections and feature settings."""
    training = loaded.distribution.training
    if training is None:        # the original's files, or an older version's
        return
    command = com.train_command(args, machine_dir.name, model.sections)
    word = year.unit_keys[0]
    if model.trained is not None and tuple(training["sections"]) != model.trained:
        why = "as -s asks" if model.sections else f"those of {machine_dir / 'train'} now"
        raise BaselineError(
            f"{loaded.path} is a model of {word}s {', '.join(training['sections'])}, not of "
            f"{', '.join(model.trained)} ({why}); retrain it with `{command} --force`")
    changed = run_settings.changes({"feature": training["feature"]},
                                   {"feature": config["feature"]})
    if changed:
        raise BaselineError(
            f"{loaded.path} was trained with other features than this configuration's "
            f"({changed}): its scores would be of other inputs; set them back, or retrain it "
            f"with `{command} --force`")


def load_detector(machine_dir, model, config, year, args):
    """A model (detector.Loaded) and its decision threshold."""
    import scipy.stats

    import keras_model
    loaded = detector.load(config["model_directory"], model.name,
                           com.train_command(args, machine_dir.name, model.sections),
                           keras_model.load_model, config["score"])
    check_training(model, loaded, config, year, machine_dir, args)
    shape, loc, scale = loaded.distribution.gamma
    threshold = scipy.stats.gamma.ppf(q=config["decision_threshold"], a=shape, loc=loc,
                                      scale=scale)
    com.log.info("%s: model %s, decision threshold %.6g", model.name, loaded.path, threshold)
    return loaded, threshold


def trained_seed(model, loaded, args, config):
    """The seed a model was trained with, from its training record (where there is none: this
    run's); said where this command's --seed is another."""
    training = loaded.distribution.training
    if training is None:
        return com.seed_of(args, config)
    if args.seed is not None and args.seed != training["seed"]:
        com.log.warning("%s: trained with seed %s; --seed %d does not change its scores, and "
                        "the results name seed %s", model.name, training["seed"], args.seed,
                        training["seed"])
    return training["seed"]


def score_machine(machine_dir, started, config, year, args):
    """Write the score and decision files of every unit; returns MachineScores.

    started: unit_spectrograms' result."""
    machine, result_dir = machine_dir.name, config["result_directory"]
    models, spectrograms = started
    if args.ground_truth:
        models = [model._replace(units=[clips.with_ground_truth(unit, args.ground_truth,
                                                                machine, year)
                                        for unit in model.units]) for model in models]
    detectors = [load_detector(machine_dir, model, config, year, args) for model in models]
    usable = spectrograms.finish(args.skip_bad_files, desc="test clips")
    for message in usable.short:
        com.log.warning("%s; no score", message)
    units = [unit for model in models for unit in model.units]
    problems = {"silent": usable.silent,
                "not scored": usable.bad + [f"{message}; no score" for message in usable.short],
                "no domain": without_domain(units, year)}
    found, offset = [], 0
    for model, (loaded, threshold) in zip(models, detectors):
        found_model, precisions = loaded.model, loaded.precisions
        rows, scored, notes = [], [], []
        for unit in model.units:
            log_mels = usable.log_mels[offset:offset + len(unit.paths)]
            offset += len(unit.paths)
            keep, scores = clip_scores(found_model, log_mels, config["feature"]["n_frames"],
                                       precisions)
            names = [unit.paths[i].name for i in keep]
            decisions = (scores > threshold).astype(int)
            safe_io.save_csv(filenames.anomaly_score_file(result_dir, machine, unit.name, year),
                             [[n, float(s)] for n, s in zip(names, scores)])
            decision_file = filenames.decision_result_file(result_dir, machine, unit.name, year)
            if decision_file:
                safe_io.save_csv(decision_file, [[n, int(d)] for n, d in zip(names, decisions)])
            com.log.info("%s %s: %d clips scored", machine, unit.name, len(keep))
            if unit.labels is None:
                continue
            labels, domains = unit.labels[keep], unit.domains[keep]
            values = metrics.unit_metrics(year.metric_columns, labels, scores, decisions,
                                          domains, config["max_fpr"])
            notes += empty_cells(machine, unit, values, year)
            rows.append(results.ResultRow(unit.keys, values))
            scored.append(plots.ScoredUnit(unit.name, scores, labels, domains))
        found.append(ModelScores(model.name, threshold, trained_seed(model, loaded, args, config),
                                 rows, scored, notes))
    notes = ([f"{len(usable.averaged)} clips of several channels averaged into one "
              f"(feature.channel: mean)"] if usable.averaged else [])
    return MachineScores(found, notes, problems, usable.averaged)


def channel_fact(channel, averaged):
    """feature.channel as the report's facts show it, with the clips whose channels it
    averaged."""
    if channel == "mean" and averaged:
        return f"mean ({len(averaged)} clips of several channels averaged into one)"
    return str(channel)


def save_report_files(machine_dir, model, config, args, facts):
    """A model's figure and facts (ModelScores), from which report.html is built."""
    from dcase_baseline.keras_backend import keras
    machine, result_dir, threshold = machine_dir.name, config["result_directory"], model.threshold
    plots.save_model_plot(filenames.plot_file(result_dir, model.name, args.dev), machine,
                          model.scored, threshold, config["max_fpr"])
    named = {} if model.name == machine else {"model": model.name}
    facts = {"machine type": machine, **named, "project version": com.__version__,
             "Keras": f"{keras.__version__} ({keras.backend.backend()} backend)",
             "seed": model.seed,
             "data folder": str(machine_dir.parent.resolve()),
             "decision threshold": float(threshold),
             "DCASE year": config["year"], "score": config["score"],
             "clips scored per unit": ", ".join(f"{u.name}: {len(u.scores)}"
                                                for u in model.scored),
             **facts, "config": config}
    safe_io.save_json(filenames.facts_file(result_dir, model.name, args.dev), facts)


def main():
    args = com.parse_args("Score the test clips with the trained models.", test_script=True)
    config, year, dirs = com.start_run(args)
    dev = args.dev
    labelled = dev or args.ground_truth
    with_report = labelled and config["report"] and not args.no_report
    com.check_output_folders(config, "result_directory")
    if with_report:
        safe_io.check_writable(filenames.plot_file(config["result_directory"], "-", dev).parent,
                               "result_directory")
    # the first model's files before any clip is listed; by section, the sections tell it
    whole = config["model_per"] == "machine" and not args.section
    first = None if whole else model_units(dirs[0], dev, config, year, args.section)
    detector.files(config["model_directory"], dirs[0].name if whole else first[0].name,
                   com.train_command(args, dirs[0].name, None if whole else first[0].sections))
    # worker processes compute the first machine type's features while Keras is imported
    early = {dirs[0]: unit_spectrograms(
        first or model_units(dirs[0], dev, config, year, args.section), config, early=True)}
    from dcase_baseline import keras_backend
    keras_backend.use_compilation_cache(config)
    result_path = Path(config["result_directory"]) / config["result_file"]
    all_problems, averaged, seeds = [], [], {}
    for i, machine_dir in enumerate(dirs, 1):
        machine = machine_dir.name
        com.log.info("[%d/%d] %s", i, len(dirs), machine)
        start = time.perf_counter()
        started = early.pop(machine_dir, None) or unit_spectrograms(
            model_units(machine_dir, dev, config, year, args.section), config)
        scored = score_machine(machine_dir, started, config, year, args)
        all_problems.append(scored.problems)
        averaged += scored.averaged
        seconds = round(time.perf_counter() - start, 1)
        for k, model in enumerate(scored.models):
            seeds[model.name] = model.seed
            if labelled:
                # the record names the seed the model was trained with
                record = run_settings.run_record(config, dirs[0].parent, args.ground_truth,
                                                 model.seed)
                results.save_block(result_path, model.name,
                                   results.Block(machine, model.rows), dev, record)
            if with_report:
                # the machine type's notes with its first model's facts
                notes = ([m for found in scored.problems.values() for m in found]
                         if k == 0 else []) + model.notes + (scored.notes if k == 0 else [])
                save_report_files(machine_dir, model, config, args, {
                    "feature.channel": channel_fact(config["feature"]["channel"],
                                                    scored.averaged),
                    "seconds to score": seconds,
                    "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "notes": notes})

    if labelled:
        if len(set(seeds.values())) > 1:
            com.log.warning("the models of this run were trained with different seeds (%s): "
                            "result.csv takes the blocks of seed %s, those of the others are "
                            "left out", ", ".join(f"{m} {s}" for m, s in seeds.items()),
                            next(iter(seeds.values())))
        record = run_settings.run_record(config, dirs[0].parent, args.ground_truth,
                                         next(iter(seeds.values())))
        with results.assembly_lock(result_path):
            blocks, left_out, written = results.assemble(result_path, dev, record)
            if with_report:
                page = report.write_report(written, config["model_directory"], blocks, dev, year,
                                           left_out, config["score"])
                com.log.info("report -> %s", page)
        com.log.info("results of %s -> %s", ", ".join(b.machine for b in blocks), written)
        results.log_summary(blocks, year)
    else:
        com.log.info("score and decision files -> %s", config["result_directory"])
    com.log_problems(all_problems)
    com.log_averaged(averaged)


if __name__ == "__main__":
    com.run_main(main)
