"""The name of every file the project writes, in one place: models, result files, the
report, checkpoints, locks, the feature cache, downloads and summaries."""
from pathlib import Path

def model_name(machine, sections, year):
    """The name of a machine type's model (and of its files): the machine type's, or for a
    model of some of its sections (clips.model_sections) with them: fan_section_00,
    fan_section_00_01, ToyCar_id_01 (2020)."""
    if sections is None:
        return machine
    return f"{machine}_{year.unit_keys[0]}_{'_'.join(sections)}"


# model_directory; model: the model's name (model_name)
def model_file(model_dir, model):
    return Path(model_dir) / f"model_{model}.keras"


def legacy_model_file(model_dir, model):
    """Where the original baseline saved its model."""
    return Path(model_dir) / f"model_{model}.hdf5"


def existing_model_files(model_dir, model):
    """The model's files that exist: ours first, then the original's."""
    return [p for p in (model_file(model_dir, model), legacy_model_file(model_dir, model))
            if p.exists()]


def score_distr_file(model_dir, model):
    return Path(model_dir) / f"score_distr_{model}.pkl"


def mahalanobis_file(model_dir, model):
    """The covariances of score: mahalanobis, saved with the model."""
    return Path(model_dir) / f"mahalanobis_{model}.npz"


def history_file(model_dir, model):
    """The training loss plot."""
    return Path(model_dir) / f"history_{model}.png"


def checkpoint_file(model_dir, model):
    """The training state of a model being trained (checkpoints.py)."""
    return Path(model_dir) / f".checkpoint_{model}.npz"


def validation_file(model_dir, model):
    """The clips held out for validation by fit.validation: clips, one name a line."""
    return Path(model_dir) / f"validation_{model}.txt"


def training_lock_file(model_dir, model):
    """Held by the run that trains the model."""
    return Path(model_dir) / f".training_{model}.lock"


# result_directory
def anomaly_score_file(result_dir, machine, unit, year):
    """The name the year's official evaluator reads (unit: a TestUnit's name: id_00,
    section_00_source, section_00)."""
    return Path(result_dir) / year.score_file.format(machine=machine, unit=unit)


def decision_result_file(result_dir, machine, unit, year):
    """None where the year's evaluator reads no decisions (2020)."""
    if year.decision_file is None:
        return None
    return Path(result_dir) / year.decision_file.format(machine=machine, unit=unit)


def block_file(result_path, model, dev):
    """The block of result.csv of the units a model scored, from which result.csv is
    assembled."""
    result_path = Path(result_path)
    mode = "dev" if dev else "eval"
    return result_path.with_name(f"{result_path.stem}_{model}_{mode}{result_path.suffix}")


def block_files(result_path, dev):
    """Every model's block of result.csv in the result folder, for one mode:
    {model name: path}."""
    pattern = block_file(result_path, "*", dev)
    head, tail = pattern.name.split("*")
    return {path.name[len(head):len(path.name) - len(tail)]: path
            for path in sorted(pattern.parent.glob(pattern.name))}


def block_record_file(block_path):
    """The record of the run that wrote a block, beside it."""
    return Path(block_path).with_suffix(".json")


def result_lock_file(result_path):
    """Held while result.csv is assembled from the blocks."""
    result_path = Path(result_path)
    return result_path.with_name(f".{result_path.name}.lock")


def plot_file(result_dir, model, dev):
    """A model's figure of its test units."""
    return Path(result_dir) / "plots" / f"{model}{'' if dev else '_eval'}.png"


def facts_file(result_dir, model, dev):
    """A model's facts shown in the report."""
    return plot_file(result_dir, model, dev).with_suffix(".json")


def assembled_result_file(result_path, dev):
    """The result.csv that 01_test.py assembles from the blocks: the configured name
    (result_file) in development mode; in evaluation mode (with ground truth) <name>_eval
    beside it, so that neither run overwrites the other's."""
    result_path = Path(result_path)
    if dev:
        return result_path
    return result_path.with_name(f"{result_path.stem}_eval{result_path.suffix}")


def blocks_base(assembled, dev):
    """The configured result file whose blocks an assembled result file of that mode is made
    of (assembled_result_file's inverse)."""
    assembled = Path(assembled)
    if dev or not assembled.stem.endswith("_eval"):
        return assembled
    return assembled.with_name(f"{assembled.stem[:-len('_eval')]}{assembled.suffix}")


def report_file(result_dir, dev=True):
    """report.html of a development run, report_eval.html of an evaluation run."""
    return Path(result_dir) / ("report.html" if dev else "report_eval.html")


# cache.directory
def cache_file(cache_dir, digest):
    """A clip's cached spectrogram, named by the digest of its key."""
    return Path(cache_dir) / f"{digest}.npy"


def compilation_cache_folder(cache_dir):
    """JAX's persistent compilation cache."""
    return Path(cache_dir).resolve() / "jax"


# download.py, in the data folder
def downloads_folder(data_dir):
    """The archives fetched, kept."""
    return Path(data_dir) / ".downloads"


def unpacked_marker(data_dir, archive_name, md5):
    """Written once an archive is unpacked: its list of files."""
    return downloads_folder(data_dir) / f"{archive_name}.{md5}.unpacked"


def unpacked_markers(data_dir, archive_name):
    """The markers of an archive, any version of it."""
    import glob
    return sorted(downloads_folder(data_dir).glob(f"{glob.escape(archive_name)}.*.unpacked"))


# summarize.py
SUMMARY_FILES = ("summary.csv", "summary_mean.csv", "summary_runs.csv", "summary.html")


def summary_files(out_dir):
    """{name: path} of summarize.py's files."""
    return {name: Path(out_dir) / name for name in SUMMARY_FILES}
