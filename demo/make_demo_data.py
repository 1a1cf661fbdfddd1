"""Write a small synthetic data set in the layout of a DCASE Task 2 year (2020 to 2026).

Each machine type hums at a section-specific rotation speed (harmonics, slow amplitude wobble,
background noise); the target domain runs faster and noisier. Anomalous clips add one fault:
periodic impacts, a high whine, or an unsteady speed. Usage:

    python demo/make_demo_data.py OUT_DIR [--eval GROUND_TRUTH_DIR] [--seconds S] [--year Y]

Without --eval: OUT_DIR/<machine>/{train,test} with development names. With --eval: evaluation
names in OUT_DIR/<machine>/test (shuffled) and the official evaluator's ground truth files in
GROUND_TRUTH_DIR. The year (default 2022) sets the names, folders and ground truth files:

    2020       units are machine IDs (dev 00, 02; eval 01, 03), no domains:
               train/normal_id_00_00000000.wav, test/anomaly_id_00_00000000.wav,
               eval test/id_01_00000000.wav; ground truth GROUND_TRUTH_DIR/eval_data_list.csv
               (per machine type a line with its name, then rows
               "name in test/,name with its label,label")
    2021       sections (dev 00, 01; eval 03, 04); test clips in source_test/ and target_test/:
               source_test/section_00_source_test_normal_0000.wav, eval
               source_test/section_03_source_test_0000.wav; ground truth
               GROUND_TRUTH_DIR/ground_truth_<m>_section_03_source_test.csv ("name,label")
    2022       sections 00, 01 in test/; eval test/section_00_test_0000.wav
    2023-2026  section 00 only; eval test/section_00_0000.wav. 2024 and 2025: pump's names end
               _noAttribute.wav; 2024: pump's eval clips are numbered from 0001. 2025: a
               supplemental/ folder beside train/. 2026: stereo clips, the left channel the
               machine sound, the right one a farther, noisier copy of it.
    2022-2026  ground truth as the 2022 evaluator's: GROUND_TRUTH_DIR/ground_truth_data/ and
               ground_truth_domain/ground_truth_<m>_section_00_test.csv ("name,0|1")
"""
import argparse
import csv
from pathlib import Path

import joblib
import numpy as np
import soundfile

RATE = 16000
YEARS = range(2020, 2027)
MACHINES = {"motor": 60.0, "pump": 95.0}       # base rotation frequency, Hz
SECTIONS = {"00": 1.0, "01": 1.35}             # speed factor of each section
TARGET_SPEEDUP = 1.15
COUNTS = {"train": {"source": 12, "target": 2},
          "test": {"source": 6, "target": 6}}   # test: this many normal and as many anomalous
COUNTS_2020 = {"train": {"source": 14}, "test": {"source": 6}}     # 2020 has no domains
NO_ATTRIBUTE = {2024: {"pump"}, 2025: {"pump"}}     # machine types whose names end _noAttribute
FIRST_EVAL_NUMBER = {2024: {"pump": 1}}             # eval clips numbered from 0001, not 0000
SUPPLEMENTAL_CLIPS = {2025: 2}                      # clips in <m>/supplemental/
STEREO_YEARS = {2026}


def default_units(year, evaluation):
    """Sections (or 2020 machine IDs) of a year's development or evaluation set, with their
    speed factors; the evaluation units hold the recordings of the development ones."""
    if year == 2020:
        return {"01": 1.0, "03": 1.35} if evaluation else {"00": 1.0, "02": 1.35}
    if year == 2021:
        return {"03": 1.0, "04": 1.35} if evaluation else {"00": 1.0, "01": 1.35}
    if year == 2022:
        return SECTIONS
    return {"00": 1.0}


def clip_place(year, split, unit, domain, label, index, number=None, no_attribute=False):
    """(folder under the machine folder, file name) of one clip.

    unit is the section (2020: the machine ID), number the clip's evaluation number: test
    clips of an evaluation set are renamed to hide label and domain (None: development names).
    """
    attributes = ("noAttribute" if no_attribute
                  else f"speed_{'fast' if domain == 'target' else 'normal'}")
    if year == 2020:
        if number is not None:
            return "test", f"id_{unit}_{number:08d}.wav"
        return split, f"{label}_id_{unit}_{index:08d}.wav"
    if year == 2021:
        folder = "train" if split == "train" else f"{domain}_test"
        if number is not None:
            return folder, f"section_{unit}_{domain}_test_{number:04d}.wav"
        suffix = f"_{attributes}" if split == "train" else ""     # 2021 test names: none
        return folder, f"section_{unit}_{domain}_{split}_{label}_{index:04d}{suffix}.wav"
    if number is not None:
        if year == 2022:
            return "test", f"section_{unit}_test_{number:04d}.wav"
        return "test", f"section_{unit}_{number:04d}.wav"
    return split, f"section_{unit}_{domain}_{split}_{label}_{index:04d}_{attributes}.wav"


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


def write_ground_truth(folder, machine, section, rows):
    """The official evaluator's two files: name,0|1 (anomaly) and name,0|1 (target domain)."""
    for kind, column in (("data", 1), ("domain", 2)):
        path = Path(folder) / f"ground_truth_{kind}" / f"ground_truth_{machine}_section_{section}_test.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(sorted((r[0], r[column]) for r in rows))


def write_ground_truth_2021(folder, machine, section, domain, rows):
    """The 2021 evaluator's file of one section and domain: name,0|1 (anomaly)."""
    path = Path(folder) / f"ground_truth_{machine}_section_{section}_{domain}_test.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(sorted((r[0], r[1]) for r in rows))


def write_eval_data_list(folder, lists):
    """The 2020 eval_data_list.csv: per machine type a line with its name, then rows
    name in test/, name with its label, label (sorted by the first)."""
    path = Path(folder) / "eval_data_list.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for machine, rows in lists:
            writer.writerow([machine])
            writer.writerows(sorted((r[0], r[3], r[1]) for r in rows))


def write_year_ground_truth(year, folder, truths):
    """The ground truth files of the year's official evaluator from
    [(machine, {unit: [(name in test/, 1 if anomalous, 1 if target, name with its label)]})]."""
    if year == 2020:    # one file for every machine type
        write_eval_data_list(folder, [(machine, [r for rows in truth.values() for r in rows])
                                      for machine, truth in truths])
        return
    for machine, truth in truths:
        for unit, rows in truth.items():
            if year == 2021:
                write_ground_truth_2021(folder, machine, *unit, rows)
            else:
                write_ground_truth(folder, machine, unit, rows)


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
    if year not in YEARS:
        raise ValueError(f"year must be one of {YEARS.start}..{YEARS.stop - 1}, got {year}")
    evaluation = ground_truth_dir is not None
    sections = default_units(year, evaluation) if sections is None else sections
    counts = (COUNTS_2020 if year == 2020 else COUNTS) if counts is None else counts
    if year == 2020 and any(set(c) != {"source"} for c in counts.values()):
        raise ValueError("2020 has no domains: counts may only name the 'source' domain")
    rng = np.random.default_rng(seed)
    jobs, truths = [], []
    for m, (machine, base_hz) in enumerate(machines.items()):
        folder = Path(out_dir) / machine
        no_attribute = machine in NO_ATTRIBUTE.get(year, ())
        first_number = FIRST_EVAL_NUMBER.get(year, {}).get(machine, 0)
        for s, split in enumerate(("train", "test")):
            entries = clip_list(rng, split, sections, counts)
            shuffled = rng.permutation(len(entries))    # evaluation names hide the order
            truth, numbers = {}, {}
            for k in shuffled:
                section, domain, label, index, fault = entries[k]
                number = None
                if split == "test" and evaluation:
                    # 2021 numbers the clips of each domain of a section apart
                    key = (section, domain) if year == 2021 else section
                    numbers[key] = numbers.get(key, first_number - 1) + 1
                    number = numbers[key]
                place, name = clip_place(year, split, section, domain, label, index, number,
                                         no_attribute)
                if number is not None:
                    labelled = clip_place(year, split, section, domain, label, number)[1]
                    truth.setdefault(key, []).append(
                        (name, int(label == "anomaly"), int(domain == "target"), labelled))
                jobs.append(joblib.delayed(write_clip)(
                    folder / place / name, [seed, m, s, int(k)], base_hz * sections[section],
                    seconds, domain, fault, vary_length, year in STEREO_YEARS))
            if truth:
                truths.append((machine, truth))
        for index in range(SUPPLEMENTAL_CLIPS.get(year, 0)):     # clean machine sound
            section = next(iter(sections))
            name = (f"section_{section}_machine_source_{index:04d}_"
                    f"{'noAttribute' if no_attribute else 'speed_normal'}.wav")
            jobs.append(joblib.delayed(write_clip)(
                folder / "supplemental" / name, [seed, m, 2, index], base_hz * sections[section],
                seconds, "source", None, vary_length))
    if evaluation:
        write_year_ground_truth(year, ground_truth_dir, truths)
    joblib.Parallel(n_jobs=n_jobs)(jobs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--eval", metavar="GROUND_TRUTH_DIR", dest="ground_truth_dir")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2022, choices=YEARS,
                        help="the DCASE year whose layout and names to write (default 2022)")
    args = parser.parse_args()
    make_dataset(args.out_dir, args.ground_truth_dir, args.seconds, args.seed, n_jobs=-1,
                 year=args.year)
    print(f"demo data -> {args.out_dir}")
