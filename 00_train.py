"""Train one autoencoder per machine type (or per section): python 00_train.py -d | -e.

For each machine folder: log-mel frame stacks of every training clip, Keras fit with the
configured epochs, batch size, shuffling and validation split, then a gamma distribution fitted
to the training clips' anomaly scores (the decision threshold of 01_test.py).
"""
import time
from typing import NamedTuple

import numpy as np

import common as com
from dcase_baseline import (checkpoints, clips, detector, filenames, frame_stacks, mahalanobis,
                            plots, run_settings, safe_io, scoring, validation)
from dcase_baseline.errors import BaselineError

# librosa (features), Keras (training, keras_model) and SciPy take seconds to import: they are
# imported in the functions that use them, after main() has checked the command line and the
# configuration, so that -h and mistakes are answered at once, and while the first machine
# type's features are being computed.


class Job(NamedTuple):
    """One model to train: of a machine type, or of some of its sections."""
    machine_dir: object
    name: str               # the model's (filenames.model_name): its files are named so
    sections: object        # its sections; None: all of the machine type's
    paths: object           # its training clips; None: all of the machine type's, not read yet


def jobs(dirs, dev, config, year, sections):
    """A Job per model to train: one per machine type, of the sections asked for (-s/--section,
    None: all), or one per section (model_per: section)."""
    found = []
    for machine_dir in dirs:
        if config["model_per"] == "machine" and not sections:
            found.append(Job(machine_dir, machine_dir.name, None, None))
            continue
        paths = clips.train_files(machine_dir, dev, year)
        for chosen in clips.model_sections(clips.sections_of(paths, year), sections,
                                           config["model_per"], machine_dir / "train", year):
            found.append(Job(machine_dir, filenames.model_name(machine_dir.name, chosen, year),
                             chosen,
                             paths if chosen is None else clips.in_sections(paths, chosen, year)))
    return found


def training_clips(job, dev, year):
    return job.paths if job.paths is not None else clips.train_files(job.machine_dir, dev, year)


def training_spectrograms(job, dev, config, year, early=False):
    from dcase_baseline import features
    return features.ClipSpectrograms(training_clips(job, dev, year), config, early)


def train_model(job, spectrograms, config, year, args, seed):
    """Train, fit the score distribution and save the files of one model; returns its line of
    the closing summary."""
    import scipy.stats

    import keras_model
    from dcase_baseline import training
    from dcase_baseline.keras_backend import keras
    machine_dir, name = job.machine_dir, job.name
    model_dir, feature = config["model_directory"], config["feature"]
    rng = np.random.default_rng(seed)
    com.log.info("%s: %d training clips", name, len(spectrograms.paths))
    found = spectrograms.finish(args.skip_bad_files, desc="train clips")
    for message in found.short:
        com.log.warning("skipping %s", message)
    kept = [path for path, m in zip(spectrograms.paths, found.log_mels) if m is not None]
    log_mels = [m for m in found.log_mels if m is not None]
    skipped = len(found.log_mels) - len(log_mels)
    # held by log_mels alone from here, so that frame_index frees each as it copies it: the
    # spectrograms and the frames are never in memory together
    found.log_mels.clear()
    domains = [clips.training_domain(path, year) for path in kept]
    check_clip_count(name, len(log_mels), f"usable training clips in {machine_dir / 'train'} "
                     f"({skipped} skipped)")
    stacks = frame_stacks.frame_index(log_mels, feature["n_frames"], feature["n_hop_frames"],
                                      consume=True)
    com.log.info("%s: %d vectors of %d values", name, len(stacks.starts), stacks.dim)
    if config["fit"]["validation"] == "tail":
        n_train = validation.n_training_vectors(len(stacks.starts),
                                                config["fit"]["validation_split"])
        check_split(name, n_train, len(stacks.starts), "vectors", config["fit"])
    if config["score"] == "mahalanobis":
        mahalanobis.check_blocks(name, stacks, domains, config["mahalanobis"]["shrinkage"])

    held_out = (validation_clips(name, kept, config, year, seed)
                if config["fit"]["validation"] == "clips" else None)
    xla = training.use_xla(len(stacks.starts), config["fit"])
    model = keras_model.get_model(stacks.dim, config["fit"]["lr"], jit_compile=xla)
    checkpoint = checkpoints.for_model(model_dir, name, spectrograms.paths, config, seed)
    if args.force:
        checkpoint.remove()
    history = training.fit(model, stacks, config["fit"], rng, xla, held_out, checkpoint)

    # the original fits the gamma to the training vectors as given to fit (n_hop_frames applied)
    if config["score"] == "mahalanobis":
        # the covariances may prove singular: the trained model stays in the checkpoint, so
        # that a rerun with mahalanobis.shrinkage fits the score only
        checkpoint.save(model, rng, config["fit"]["epochs"], history)
        try:
            scores, covariances = mahalanobis.fit(name, model, stacks, domains,
                                                  config["mahalanobis"]["shrinkage"])
        except BaselineError as error:
            raise BaselineError(f"{error}; the trained model is kept in {checkpoint.path}: "
                                f"the rerun fits only the covariances and the "
                                f"threshold") from None
    else:
        scores, covariances = scoring.clip_scores(model, stacks), None
    gamma = scipy.stats.gamma.fit(scores)
    plots.save_loss_plot(filenames.history_file(model_dir, name), name, history)
    # what 01_test.py checks and names: the model's sections, seed and settings
    training = {"sections": clips.sections_of(spectrograms.paths, year), "seed": seed,
                "feature": feature, "fit": run_settings.fit_settings(config["fit"]),
                "year": config["year"]}
    detector.save(model_dir, name, model, gamma, config["score"], covariances, training)
    checkpoint.remove()
    keras.backend.clear_session()
    return {"model": name, "clips": stacks.n_clips, "vectors": len(stacks.starts),
            "loss": history["loss"][-1], "val_loss": history.get("val_loss", [None])[-1],
            "problems": {"silent": found.silent, "skipped": found.bad},
            "averaged": found.averaged}


# the gamma fit of the decision threshold needs two scores at least
MIN_TRAINING_CLIPS = 2


def check_clip_count(name, n_clips, what):
    if n_clips < MIN_TRAINING_CLIPS:
        raise BaselineError(
            f"{name}: {n_clips} {what}; the gamma fit of the decision threshold needs at "
            f"least {MIN_TRAINING_CLIPS}: add training clips of {name}, or leave it out "
            f"with -m")


def check_split(name, n_train, n, what, fit_config):
    """A validation split that leaves nothing to train on, or nothing to validate on where
    fit.validation_split asks for validation, stops the run before training."""
    split = fit_config["validation_split"]
    if n_train == 0:
        raise BaselineError(
            f"{name}: fit.validation_split = {split} leaves 0 of {n} {what} for training; "
            f"lower fit.validation_split in the configuration")
    if split > 0 and n_train == n:
        raise BaselineError(
            f"{name}: fit.validation_split = {split} holds out 0 of {n} {what} for "
            f"validation (fit.validation: {fit_config['validation']}); raise "
            f"fit.validation_split, or set it to 0 to train without validation")


def check_existing_score(model_dir, name, score, force_command):
    """A model kept (not retrained) whose threshold was fitted to another score than the
    configured one stops the run before any training."""
    distr = filenames.score_distr_file(model_dir, name)
    try:
        fitted_to = detector.read_score_distribution(distr).score
    except Exception:       # missing or unreadable: 01_test.py says so, naming the file
        return
    if fitted_to != score:
        raise BaselineError(
            f"{name}: the model in {model_dir} was fitted to score: {fitted_to} (its "
            f"threshold in {distr}), the configuration asks for score: {score}; "
            f"`{force_command}` retrains it, or set score: {fitted_to} or another "
            f"model_directory")


def validation_clips(name, paths, config, year, seed):
    """fit.validation: clips: the clips held out, drawn with the seed, logged and listed in
    model/validation_<model>.txt; returns their indices in paths."""
    groups = [clips.training_group(p, year) for p in paths]
    # a generator of its own: the same seed draws the same clips whatever the training draws
    held_out = validation.validation_clips(groups, config["fit"]["validation_split"],
                                           np.random.default_rng(seed))
    check_split(name, len(paths) - len(held_out), len(paths), "clips", config["fit"])
    path = filenames.validation_file(config["model_directory"], name)
    with safe_io.atomic_path(path) as tmp:
        with open(tmp, "w", errors="surrogateescape") as f:
            f.writelines(f"{paths[i].name}\n" for i in held_out)
    com.log.info("%s: %d of %d clips held out for validation (fit.validation: clips) -> %s",
                 name, len(held_out), len(paths), path)
    return held_out


def log_summary(summary):
    # the first column as wide as the longest model name (fan_section_00_01_02, ...)
    width = max([12] + [len(r["model"]) for r in summary])
    com.log.info("summary:")
    com.log.info("%-*s %6s %9s %9s %9s %7s", width, "machine", "clips", "vectors", "loss",
                 "val_loss", "seconds")
    for r in summary:
        val_loss = "-" if r["val_loss"] is None else f"{r['val_loss']:.4f}"
        com.log.info("%-*s %6d %9d %9.4f %9s %7.1f", width, r["model"], r["clips"],
                     r["vectors"], r["loss"], val_loss, r["seconds"])


def main():
    args = com.parse_args("Train one autoencoder per machine type.")
    config, year, dirs = com.start_run(args)
    seed, model_dir = com.seed_of(args, config), config["model_directory"]
    com.check_output_folders(config, "model_directory")
    every = jobs(dirs, args.dev, config, year, args.section)
    todo = [job._replace(paths=training_clips(job, args.dev, year)) for job in every
            if args.force or not filenames.existing_model_files(model_dir, job.name)]
    for job in todo:     # before hours of training of the others
        paths = job.paths
        check_clip_count(job.name, len(paths), f"training clips in {job.machine_dir / 'train'}")
        if config["fit"]["validation"] == "clips":
            groups = [clips.training_group(p, year) for p in paths]
            held_out = validation.n_validation_clips(groups, config["fit"]["validation_split"])
            check_split(job.name, len(paths) - held_out, len(paths), "clips", config["fit"])
    training_now = {job.name for job in todo}
    for job in every:
        if job.name not in training_now:
            check_existing_score(model_dir, job.name, config["score"], com.train_command(
                args, job.machine_dir.name, job.sections) + " --force")
    # worker processes compute the first model's features while Keras is imported
    early = ({todo[0].name: training_spectrograms(todo[0], args.dev, config, year, early=True)}
             if todo else {})
    from dcase_baseline import keras_backend, training
    keras_backend.import_tensorflow()
    keras_backend.use_compilation_cache(config)
    keras = keras_backend.keras
    com.log.info("training in %s mode on %s (Keras %s, %s backend)",
                 "development" if args.dev else "evaluation", dirs[0].parent, keras.__version__,
                 keras.backend.backend())
    summary, todo = [], {job.name: job for job in todo}
    for i, job in enumerate(every, 1):
        name = job.name
        # a run on another node or in another shell may be training this model
        with safe_io.file_lock(filenames.training_lock_file(model_dir, name),
                               wait=False) as mine:
            if not mine:
                com.log.info("[%d/%d] %s: being trained by another run, skipping", i,
                             len(every), name)
                continue
            existing = filenames.existing_model_files(model_dir, name)
            if existing and not args.force:
                com.log.info("[%d/%d] %s: model exists (%s), skipping; --force retrains it",
                             i, len(every), name, existing[0])
                continue
            com.log.info("[%d/%d] %s", i, len(every), name)
            # seeded per model, so that training one machine type alone (-m) gives the same
            # model
            if seed is not None:
                training.seed_everything(seed)
            start = time.perf_counter()
            job = todo.get(name, job)
            spectrograms = (early.pop(name, None)
                            or training_spectrograms(job, args.dev, config, year))
            result = train_model(job, spectrograms, config, year, args, seed)
            result["seconds"] = time.perf_counter() - start
            summary.append(result)
            com.log.info("%s: model -> %s", name, filenames.model_file(model_dir, name))
    log_summary(summary)
    com.log_problems([r["problems"] for r in summary])
    com.log_averaged([path for r in summary for path in r["averaged"]])


if __name__ == "__main__":
    com.run_main(main)
