"""Everything that differs between the DCASE Task 2 years, one record per year.

The rest of the code asks the configured year's record (YEARS[config["year"]]) and never
compares years: a new year is one more record here. Plain data only; what a field means is
said in Year's comments.
"""
import re
import string
from dataclasses import dataclass, field

from dcase_baseline import clip_names, ground_truth, metrics, published
from dcase_baseline.metrics import Metric

DEFAULT_YEAR = 2022      # the data set of the baseline rebuilt here

# 2021 on: section_00_source_train_normal_0000_<attributes>.wav (attributes may be empty),
# evaluation test section_03_test_0000.wav or section_03_0000.wav (2024: "test_" may be
# missing from development names too). The extension may be written in any case (.WAV), as a
# case-insensitive file system reads it.
SECTION_NAME = re.compile(
    r"section_(?P<section>\d\d)_"
    r"(?:(?P<domain>source|target)_)?"
    r"(?:(?P<split>train|test)_)?"
    r"(?:(?P<label>normal|anomaly)_)?"
    r"(?P<index>\d+)"
    r"(?:_(?P<attributes>.*))?\.(?i:wav)")
# 2020: normal_id_00_00000000.wav, anomaly_id_00_..., evaluation id_01_00000000.wav
ID_NAME = re.compile(r"(?:(?P<label>normal|anomaly)_)?id_(?P<id>\d\d)_(?P<index>\d+)\.(?i:wav)")

# the 2022 metric columns of a section: each AUC over that domain's normal clips and all
# anomalous clips, the pAUC over the section, precision, recall and F1 over the domain's clips
SECTION_METRICS = (Metric("AUC", "source"), Metric("AUC", "target"), Metric("pAUC"),
                   Metric("precision", "source"), Metric("precision", "target"),
                   Metric("recall", "source"), Metric("recall", "target"),
                   Metric("F1 score", "source"), Metric("F1 score", "target"))
# from 2023 on, the successor baseline's pAUC of each domain (over that domain's clips) follows
SUCCESSOR_METRICS = (SECTION_METRICS[:3] + (Metric("pAUC", "source"), Metric("pAUC", "target"))
                     + SECTION_METRICS[3:])
BOTH_MEANS = (("arithmetic mean", "arithmetic"), ("harmonic mean", "harmonic"))


def _zenodo(dev, train, test, old_names=False):
    """mode -> ((Zenodo record, patterns of its archives' names (group: machine)), ...). 2020
    and 2021 (old_names) name the archives dev_data_<m>.zip and eval_data_train_<m>.zip; the
    sources disagree on the latter, so eval_data_<m>_train.zip is taken too."""
    if old_names:
        return {"dev": ((dev, (r"dev_data_(?P<machine>.+)\.zip",)),),
                "eval": ((train, (r"eval_data_train_(?P<machine>.+)\.zip",
                                  r"eval_data_(?P<machine>.+)_train\.zip")),
                         (test, (r"eval_data_test_(?P<machine>.+)\.zip",
                                 r"eval_data_(?P<machine>.+)_test\.zip")))}
    return {"dev": ((dev, (r"dev_(?P<machine>.+)\.zip",)),),
            "eval": ((train, (r"eval_data_(?P<machine>.+)_train\.zip",)),
                     (test, (r"eval_data_(?P<machine>.+)_test\.zip",)))}


def _keyed(table):
    """{(machine type, key cell, ...): values} of {machine type: {key or (keys...): values}}."""
    return {(machine, *(key if isinstance(key, tuple) else (key,))): values
            for machine, units in table.items() for key, values in units.items()}


def _fields(text):
    """The fields a format string names."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@dataclass(frozen=True)
class Year:
    year: int
    # the clip names: a pattern with the groups section or id, domain, label, index; a name
    # for messages, and which folders hold a machine type's test clips
    clip_name: re.Pattern
    example_name: str
    test_folders: tuple
    # the unit a score file and a result.csv row are made for: its key columns in result.csv,
    # its name in file names (a format of those keys), what the units are called
    unit_keys: tuple
    unit_name: str
    unit_words: tuple           # (one, several): ("section", "sections")
    # where a test clip's domain comes from (clip_names.DOMAIN_SOURCES): "name", "folder"
    # (its test folder), None (none)
    domain_from: object
    # the metric columns of a unit's row (metrics.Metric records, of kinds in metrics.KINDS),
    # the AUC and pAUC columns of them (the official score's, and those the summaries show),
    # whether result.csv ends with the means over everything and the official score, and
    # the mean rows of a machine type's block: (row name, "arithmetic" or "harmonic")
    metric_columns: tuple
    ranked_columns: tuple
    official_score: bool
    mean_rows: tuple
    # the score and decision file names the year's official evaluator reads (None: none)
    score_file: str
    decision_file: object
    # the evaluator's ground truth (ground_truth.FORMATS): "eval_data_list" (one file),
    # "unit_files" (a file per section and domain) or "data_and_domain" (ground_truth_data/,
    # ground_truth_domain/); clips matched (clip_names.GROUND_TRUTH_KEYS) by their "name", or
    # by "section_index" (the 2022 files omit "test_")
    ground_truth: str
    ground_truth_key: str
    # the names of its clips, formats of unit, domain, label, index, attributes (development:
    # "train", "test") or of unit, domain, number ("eval": an evaluation test clip)
    name_formats: dict
    # download.py: mode -> ((record, archive name patterns), ...); a re-issue <name>_r2.zip
    # replaces <name>.zip wherever a record lists both
    zenodo: dict
    # the published development-set figures of the year's autoencoder baseline: per
    # (machine type, key cells...) the ranked_columns' values; the published means as
    # (machine type or None for all, "arithmetic" or "harmonic", row name, values); whose
    # figures they are, in a sentence
    published: dict = field(default_factory=dict)
    published_means: tuple = ()
    published_source: str = ""
    # the same of its evaluation set, per score ("mse", "mahalanobis"): {score: {(machine
    # type, section): values}}, {score: means}, and whose they are
    published_eval: dict = field(default_factory=dict)
    published_eval_means: dict = field(default_factory=dict)
    published_eval_source: str = ""
    # what tells the year's data from another year's (clips.year_hints): the section numbers
    # of its development and evaluation sets (None: machine IDs), whether some names withhold
    # their attributes (..._noAttribute.wav), the numbers a section's evaluation clips may
    # start from, the folders beside train/ that only its data have ({name: what they hold};
    # this baseline does not use them)
    sections: object = None
    hidden_attributes: bool = False
    first_indices: tuple = (0,)
    extra_folders: dict = field(default_factory=dict)
    # the channel the year's baseline takes where feature.channel is not set: "mean" (the
    # channels averaged, as the 2022 baseline's librosa.load does) or an index, and its words
    channel: object = "mean"
    channel_note: str = ""
    # the units of the demo data (demo/make_demo_data.py) of its development and evaluation
    # sets
    demo_units: tuple = (("00", "01"), ("00", "01"))

    def __post_init__(self):
        """Every choice of the record is checked when it is made: a tag names an entry of its
        registry, a column a known kind of metric, a format the keys it may use."""
        def check(ok, what):
            if not ok:
                raise ValueError(f"DCASE {self.year}'s record: {what}")
        check(self.domain_from in clip_names.DOMAIN_SOURCES,
              f"domain_from {self.domain_from!r} is none of {list(clip_names.DOMAIN_SOURCES)}")
        check(self.ground_truth in ground_truth.FORMATS,
              f"ground_truth {self.ground_truth!r} is none of {list(ground_truth.FORMATS)}")
        check(self.ground_truth_key in clip_names.GROUND_TRUTH_KEYS,
              f"ground_truth_key {self.ground_truth_key!r} is none of "
              f"{list(clip_names.GROUND_TRUTH_KEYS)}")
        for column in self.metric_columns:
            check(isinstance(column, Metric) and column.kind in metrics.KINDS
                  and column.domain in (None,) + metrics.DOMAINS,
                  f"metric column {column!r} is no Metric of a kind in {list(metrics.KINDS)} "
                  f"and a domain of {(None,) + metrics.DOMAINS}")
        check(set(self.ranked_columns) <= set(self.metric_columns),
              "ranked_columns are not all metric_columns")
        check(all(kind in ("arithmetic", "harmonic") for _, kind in self.mean_rows),
              "a mean row is neither arithmetic nor harmonic")
        check(set(_fields(self.unit_name)) <= set(self.unit_keys),
              f"unit_name {self.unit_name!r} uses other keys than {self.unit_keys}")
        check(set(self.name_formats) == {"train", "test", "eval"},
              "name_formats are not of train, test and eval")
        check(self.channel == "mean" or type(self.channel) is int, "channel")

    @property
    def has_domains(self):
        """Whether its test clips have a source or target domain."""
        return self.domain_from is not None

    @property
    def archive_folders(self):
        """The folders below a machine folder that mark it in an archive."""
        return ("train",) + self.test_folders


SECTION_CLIP = "section_{{unit}}_{{domain}}_{split}_{{label}}_{{index:04d}}_{{attributes}}.wav"
_SECTIONS = dict(
    clip_name=SECTION_NAME, example_name="section_00_source_train_normal_0000_<attributes>.wav",
    test_folders=("test",), unit_keys=("section",), unit_name="section_{section}",
    unit_words=("section", "sections"), domain_from="name", metric_columns=SECTION_METRICS,
    ranked_columns=SECTION_METRICS[:3], official_score=True, mean_rows=BOTH_MEANS,
    score_file="anomaly_score_{machine}_{unit}_test.csv",
    decision_file="decision_result_{machine}_{unit}_test.csv",
    ground_truth="data_and_domain", ground_truth_key="section_index",
    name_formats={"train": SECTION_CLIP.format(split="train"),
                  "test": SECTION_CLIP.format(split="test"),
                  "eval": "section_{unit}_test_{number:04d}.wav"})
_SUCCESSOR_EVAL_NAME = "section_{unit}_{number:04d}.wav"
# 2021 and 2022: development sections 00-02, evaluation 03-05; 2023 on: section 00 only
SIX_SECTIONS = ("00", "01", "02", "03", "04", "05")
_SUCCESSOR = dict(_SECTIONS, metric_columns=SUCCESSOR_METRICS, sections=("00",),
                  name_formats=dict(_SECTIONS["name_formats"], eval=_SUCCESSOR_EVAL_NAME),
                  demo_units=(("00",), ("00",)))


def _successor(year, dev, train, test, **differences):
    return Year(year=year, zenodo=_zenodo(dev, train, test),
                published_source=published.SUCCESSOR_SOURCE.format(
                    year=year, paper=published.PAPERS[year]),
                **dict(_SUCCESSOR, **differences))


YEARS = {
    2020: Year(
        year=2020, clip_name=ID_NAME,
        example_name="normal_id_00_00000000.wav (evaluation: id_01_00000000.wav)",
        test_folders=("test",), unit_keys=("id",), unit_name="id_{id}",
        unit_words=("ID", "IDs"), domain_from=None,
        metric_columns=(Metric("AUC"), Metric("pAUC")),
        ranked_columns=(Metric("AUC"), Metric("pAUC")), official_score=False,
        mean_rows=(("Average", "arithmetic"),),
        score_file="anomaly_score_{machine}_{unit}.csv", decision_file=None,
        ground_truth="eval_data_list", ground_truth_key="name",
        name_formats={"train": "{label}_id_{unit}_{index:08d}.wav",
                      "test": "{label}_id_{unit}_{index:08d}.wav",
                      "eval": "id_{unit}_{number:08d}.wav"},
        demo_units=(("00", "02"), ("01", "03")),
        zenodo=_zenodo("3678171", "3727685", "3841772", old_names=True),
        published=_keyed(published.PUBLISHED_2020),
        published_means=tuple((machine, "arithmetic", f"{machine} Average", values)
                              for machine, values in published.AVERAGE_2020.items()),
        published_source=(
            "The figures the 2020 autoencoder baseline's README "
            "(y-kawagu/dcase2020_task2_baseline) publishes for the 2020 development set: AUC "
            "and pAUC per machine ID of all six machine types; \u201cunknown\u201d where it "
            "published none.")),
    2021: Year(
        year=2021, clip_name=SECTION_NAME,
        example_name="section_00_source_train_normal_0000_<attributes>.wav",
        test_folders=("source_test", "target_test"), unit_keys=("section", "domain"),
        unit_name="section_{section}_{domain}", unit_words=("section and domain", "units"),
        domain_from="folder",
        metric_columns=tuple(Metric(kind) for kind in ("AUC", "pAUC", "precision", "recall",
                                                       "F1 score")),
        ranked_columns=(Metric("AUC"), Metric("pAUC")), official_score=True,
        mean_rows=BOTH_MEANS,
        score_file="anomaly_score_{machine}_{unit}_test.csv",
        decision_file="decision_result_{machine}_{unit}_test.csv",
        ground_truth="unit_files", ground_truth_key="name",
        # its test names have no attributes
        name_formats={"train": SECTION_CLIP.format(split="train"),
                      "test": "section_{unit}_{domain}_test_{label}_{index:04d}.wav",
                      "eval": "section_{unit}_{domain}_test_{number:04d}.wav"},
        demo_units=(("00", "01"), ("03", "04")),
        zenodo=_zenodo("4562016", "4660992", "4884786", old_names=True),
        sections=SIX_SECTIONS, published=_keyed(published.PUBLISHED_2021),
        published_means=(
            ("fan", "arithmetic", "fan arithmetic mean", (0.64025, 0.533684211)),
            ("fan", "harmonic", "fan harmonic mean", (0.631866714, 0.531826049)),
            ("valve", "arithmetic", "valve arithmetic mean", (0.540866667, 0.506754386)),
            ("valve", "harmonic", "valve harmonic mean", (0.537267925, 0.505885378)),
            (None, "arithmetic", "arithmetic mean over all machine types, sections and domains "
             "of 2021", (0.634334516, 0.537946639)),
            (None, "harmonic", "harmonic mean over all machine types, sections and domains of "
             "2021", (0.620051253, 0.534340265))),
        published_source=(
            "The figures the 2021 autoencoder baseline's README "
            "(y-kawagu/dcase2021_task2_baseline_ae) publishes for the 2021 development set: AUC "
            "and pAUC per section and domain of fan and valve (it leaves out the other machine "
            "types), and the means over all of them; \u201cunknown\u201d elsewhere.")),
    2022: Year(
        year=2022, zenodo=_zenodo("6355122", "6462969", "6586456"), sections=SIX_SECTIONS,
        published=_keyed(published.PUBLISHED_2022),
        published_means=(
            (None, "arithmetic", "arithmetic mean, all 21 sections of 2022",
             (0.7193, 0.4836, 0.5420)),
            (None, "harmonic", "harmonic mean, all 21 sections of 2022",
             (0.6862, 0.4371, 0.5385))),
        published_source=("The original's figures on the 2022 development set, where it "
                          "published them; runs differ by a few points, as the original sets "
                          "no seed."),
        **_SECTIONS),
    2023: _successor(2023, "7882613", "7830345", "7860847",
                     **published.eval_figures(published.EVAL_2023),
                     published_eval_source=published.EVAL_SOURCE.format(year=2023,
                                                                        variant="{score}")),
    # 2024: gearbox, slider, ToyTrain (dev) and four evaluation types withhold their
    # attributes; the evaluation clips of 3DPrinter, AirCompressor, Scanner count from 0001
    2024: _successor(2024, "10902294", "11259435", "11363076", hidden_attributes=True,
                     first_indices=(0, 1), **published.eval_figures(published.EVAL_2024),
                     published_eval_source=published.EVAL_SOURCE.format(year=2024,
                                                                        variant="{score}")),
    # 2025: bearing, slider, ToyTrain and four evaluation types withhold their attributes;
    # the additional training data have supplemental/ (clean machine or noise clips)
    2025: _successor(2025, "15097779", "15392814", "15519362", hidden_attributes=True,
                     extra_folders={"supplemental": "DCASE 2025's clean machine and noise "
                                                    "clips"}),
    # 2026: stereo clips, the near microphone left; the successor's loader takes channel 0
    # (datasets/loader_common.py: `return y[0], sr`)
    2026: _successor(2026, "19336329", "20151556", "20437238", channel=0,
                     channel_note="the left one, the near microphone"),
}


def known_years():
    """The years of YEARS, in words, for a message: "from 2020 to 2026"."""
    return f"from {min(YEARS)} to {max(YEARS)}"


def in_words(numbers):
    """Years in words: "2022", "2024-2025", "2021, 2023"."""
    numbers = sorted(numbers)
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 1:
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


def years_named_like(file_name):
    """Which years' scheme a clip name follows, in words (for a message), or None:
    "DCASE 2020 (year: 2020)", "DCASE 2021-2026 (year: 2021 to 2026)"."""
    found = [y for y, record in sorted(YEARS.items()) if record.clip_name.fullmatch(file_name)]
    if not found:
        return None
    first, last = found[0], found[-1]
    if first == last:
        return f"DCASE {first} (year: {first})"
    return f"DCASE {first}-{last} (year: {first} to {last})"
