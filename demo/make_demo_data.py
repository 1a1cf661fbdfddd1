"""Write a small synthetic data set in the layout of a DCASE Task 2 year (2020 to 2026).

Each machine type hums at a section-specific rotation speed (harmonics, slow amplitude wobble,
background noise); the target domain runs faster and noisier. Anomalous clips add one fault:
periodic impacts, a high whine, or an unsteady speed. Usage:

    python demo/make_demo_data.py OUT_DIR [--eval GROUND_TRUTH_DIR] [--seconds S] [--year Y]

Without --eval: OUT_DIR/<machine>/{train,test} with development names. With --eval: evaluation
names in OUT_DIR/<machine>/test (shuffled) and the official evaluator's ground truth files in
GROUND_TRUTH_DIR. The year (default 2022) sets the names, folders, units and ground truth
files, all taken from its record in dcase_baseline/years.py (name_formats, test_folders,
demo_units, ground_truth), so that a year added there is written here too. What the years
differ in, as written:

    2020       units are machine IDs (dev 00, 02; eval 01, 03), no domains; ground truth
               GROUND_TRUTH_DIR/eval_data_list.csv
    2021       sections (dev 00, 01; eval 03, 04); test clips in source_test/ and target_test/;
               ground truth a file per section and domain
    2022       sections 00, 01 in test/; eval test/section_00_test_0000.wav
    2023-2026  section 00 only; eval test/section_00_0000.wav. Years whose names may withhold
               their attributes (2024, 2025): pump's names end _noAttribute.wav; whose
               evaluation clips may count from 0001 (2024): pump's do. Years with a
               supplemental/ folder (2025): clean machine clips there. A year whose baseline
               takes one channel (2026): stereo clips, the left channel the machine sound, the
               right one a farther, noisier copy of it.
    2022-2026  ground truth as the 2022 evaluator's: ground_truth_data/ and
               ground_truth_domain/ground_truth_<m>_section_00_test.csv ("name,0|1")
"""
import argparse
import sys
from pathlib import Path

import joblib
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))     # run from a plain clone
from dcase_baseline import clip_names, ground_truth, years  # noqa: E402

RATE = 16000
MACHINES = {"motor": 60.0, "pump": 95.0}       # base rotation frequency, Hz
SECTIONS = {"00": 1.0, "01": 1.35}             # speed factor of each section
SPEEDS = (1.0, 1.35)                           # of a year's demo units, in order
TARGET_SPEEDUP = 1.15
COUNTS = {"train": {"source": 12, "target": 2},
          "test": {"source": 6, "target": 6}}   # test: this many normal and as many anomalous
COUNTS_WITHOUT_DOMAINS = {"train": {"source": 14}, "test": {"source": 6}}
WITHHELD = "pump"           # of a year whose names may withhold their attributes
COUNTED_FROM_ONE = "pump"   # of a year whose evaluation clips may count from 0001
SUPPLEMENTAL_CLIPS = 2      # in <m>/supplemental/, where the year's data have that folder


def default_units(year, evaluation):
    """Sections (or 2020 machine IDs) of a year's development or evaluation set, with their
    speed factors; the evaluation units hold the recordings of the development ones."""
    return dict(zip(years.YEARS[year].demo_units[evaluation], SPEEDS))


def clip_place(year, split, unit, domain, label, index, number=None, no_attribute=False):
    """(folder under the machine folder, file name) of one clip, by the year's record.

    unit is the section (2020: the machine ID), number the clip's evaluation number: test
    clips of an evaluation set are renamed to hide label and domain (None: development names).
    """
    record = years.YEARS[year]
    attributes = ("noAttribute" if no_attribute
                  else f"speed_{'fast' if domain == 'target' else 'normal'}")
    folder = split
    if split == "test":     # the test folder of the clip's domain, where folders tell it
        folders = {clip_names.domain({}, name, record): name for name in record.test_folders}
        folder = folders.get(domain, record.test_folders[0])
    if number is not None:
        return folder, clip_names.name(record, "eval", unit=unit, domain=domain, number=number)
    return folder, clip_names.name(record, split, unit=unit, domain=domain, label=label,
                                   index=index, attributes=attributes)


def machine_sound(rng, base_hz, seconds, domain, fault=None):
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = base_hz * (TARGET_SPEEDUP if domain == "target" else 1.0) * rng.uniform(0.98, 1.02)
    if fault == "unsteady":
        f0 = f0 * (1 + 0.08 * np.sin(2 * np.pi * 1.5 * t))
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(f0, t.shape)) / RATE
    y = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 8))
    y = y * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(3, 6) * t))
    y = y + rng.normal(0, 0.3 if domain == "target" else 0.2, t.shape)
    if fault == "impacts":
        for start in np.arange(rng.uniform(0, 0.2), seconds - 0.05, 0.25):
            n = int(0.02 * RATE)
            i = int(start * RATE)
            y[i:i + n] += rng.normal(0, 3.0, n) * np.exp(-np.arange(n) / (0.004 * RATE))
    elif fault == "whine":
        y = y + 0.8 * np.sin(2 * np.pi * rng.uniform(3000, 5000) * t)
    return (0.1 * y / np.max(np.abs(y))).astype(np.float32)


def far_copy(rng, y):
    """The same sound at a farther microphone: later, weaker and with more noise around it."""
    delayed = np.concatenate([np.zeros(int(0.003 * RATE), np.float32), y])[:len(y)]
    return (0.5 * delayed + rng.normal(0, 0.01, len(y))).astype(np.float32)


def clip_list(rng, split, sections, counts):
    """(section, domain, label, index, fault) of every clip of one split, in a fixed order."""
    entries = []
    for section in sections:
        for domain, count in counts[split].items():
            for label in ["normal"] + (["anomaly"] if split == "test" else []):
                for index in range(count):
                    fault = (rng.choice(["impacts", "whine", "unsteady"])
                             if label == "anomaly" else None)
                    entries.append((section, domain, label, index, fault))
    return entries


def write_clip(path, seed, base_hz, seconds, domain, fault, vary_length, stereo=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if vary_length:
        seconds = seconds * rng.uniform(0.9, 1.1)
    y = machine_sound(rng, base_hz, seconds, domain, fault)
    if stereo:                  # left: the near microphone, as the 2026 baseline reads it
        y = np.stack([y, far_copy(rng, y)], axis=1)
    soundfile.write(path, y, RATE, subtype="PCM_16")


def make_dataset(out_dir, ground_truth_dir=None, seconds=3.0, seed=0, machines=MACHINES,
                 sections=None, counts=None, n_jobs=1, vary_length=True, year=2022):
    """Write the data set; with ground_truth_dir, test clips get evaluation names.

    sections: {section (2020: machine ID): speed factor}; default: the year's (see
    default_units). counts: clips per split and domain (2020: the "source" domain only).
    With vary_length, clips last 0.9 to 1.1 times `seconds`, so that the scripts see clips of
    different lengths as in real data sets.
    Each clip's sound depends only on the seed and its place in the list, not on its name, so
    the development and evaluation layouts of one seed hold the same recordings.
    """
    if year not in years.YEARS:
        raise ValueError(f"year must be one of {sorted(years.YEARS)}, got {year}")
    record = years.YEARS[year]
    evaluation = ground_truth_dir is not None
    sections = default_units(year, evaluation) if sections is None else sections
    counts = (COUNTS if record.has_domains else COUNTS_WITHOUT_DOMAINS) if counts is None \
        else counts
    if not record.has_domains and any(set(c) != {"source"} for c in counts.values()):
        raise ValueError(f"{year} has no domains: counts may only name the 'source' domain")
    rng = np.random.default_rng(seed)
    jobs, truths = [], []
    for m, (machine, base_hz) in enumerate(machines.items()):
        folder = Path(out_dir) / machine
        no_attribute = record.hidden_attributes and machine == WITHHELD
        first_number = 1 if 1 in record.first_indices and machine == COUNTED_FROM_ONE else 0
        for s, split in enumerate(("train", "test")):
            entries = clip_list(rng, split, sections, counts)
            shuffled = rng.permutation(len(entries))    # evaluation names hide the order
            truth, numbers = {}, {}
            for k in shuffled:
                section, domain, label, index, fault = entries[k]
                number = None
                if split == "test" and evaluation:
                    # numbered per unit: 2021 numbers the clips of each domain apart
                    unit = record.unit_name.format(**dict(zip(record.unit_keys,
                                                              (section, domain))))
                    numbers[unit] = numbers.get(unit, first_number - 1) + 1
                    number = numbers[unit]
                place, name = clip_place(year, split, section, domain, label, index, number,
                                         no_attribute)
                if number is not None:
                    labelled = clip_place(year, split, section, domain, label, number)[1]
                    truth.setdefault(unit, []).append(
                        (name, int(label == "anomaly"), int(domain == "target"), labelled))
                jobs.append(joblib.delayed(write_clip)(
                    folder / place / name, [seed, m, s, int(k)], base_hz * sections[section],
                    seconds, domain, fault, vary_length, record.channel != "mean"))
            if truth:
                truths.append((machine, truth))
        extra = SUPPLEMENTAL_CLIPS if "supplemental" in record.extra_folders else 0
        for index in range(extra):     # clean machine sound
            section = next(iter(sections))
            name = (f"section_{section}_machine_source_{index:04d}_"
                    f"{'noAttribute' if no_attribute else 'speed_normal'}.wav")
            jobs.append(joblib.delayed(write_clip)(
                folder / "supplemental" / name, [seed, m, 2, index], base_hz * sections[section],
                seconds, "source", None, vary_length))
    if evaluation:
        ground_truth.write(ground_truth_dir, truths, record)
    joblib.Parallel(n_jobs=n_jobs)(jobs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--eval", metavar="GROUND_TRUTH_DIR", dest="ground_truth_dir")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=years.DEFAULT_YEAR,
                        choices=sorted(years.YEARS),
                        help="the DCASE year whose layout and names to write (default "
                             f"{years.DEFAULT_YEAR})")
    args = parser.parse_args()
    make_dataset(args.out_dir, args.ground_truth_dir, args.seconds, args.seed, n_jobs=-1,
                 year=args.year)
    print(f"demo data -> {args.out_dir}")
