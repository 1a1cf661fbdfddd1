"""Write a small synthetic data set in the DCASE 2022 Task 2 layout.

Each machine type hums at a section-specific rotation speed (harmonics, slow amplitude wobble,
background noise); the target domain runs faster and noisier. Anomalous clips add one fault:
periodic impacts, a high whine, or an unsteady speed. Usage:

    python demo/make_demo_data.py OUT_DIR [--eval GROUND_TRUTH_DIR] [--seconds S]

Without --eval: OUT_DIR/<machine>/{train,test} with development names. With --eval: evaluation
names in OUT_DIR/<machine>/test (section_SS_test_NNNN.wav, shuffled) and the official
evaluator's ground truth files in GROUND_TRUTH_DIR.
"""
import argparse
import csv
from pathlib import Path

import joblib
import numpy as np
import soundfile

RATE = 16000
MACHINES = {"motor": 60.0, "pump": 95.0}       # base rotation frequency, Hz
SECTIONS = {"00": 1.0, "01": 1.35}             # speed factor of each section
TARGET_SPEEDUP = 1.15
COUNTS = {"train": {"source": 12, "target": 2},
          "test": {"source": 6, "target": 6}}   # test: this many normal and as many anomalous


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


def write_clip(path, seed, base_hz, seconds, domain, fault, vary_length):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if vary_length:
        seconds = seconds * rng.uniform(0.9, 1.1)
    y = machine_sound(rng, base_hz, seconds, domain, fault)
    soundfile.write(path, y, RATE, subtype="PCM_16")


def write_ground_truth(folder, machine, section, rows):
    """The official evaluator's two files: name,0|1 (anomaly) and name,0|1 (target domain)."""
    for kind, column in (("data", 1), ("domain", 2)):
        path = Path(folder) / f"ground_truth_{kind}" / f"ground_truth_{machine}_section_{section}_test.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(sorted((r[0], r[column]) for r in rows))


def make_dataset(out_dir, ground_truth_dir=None, seconds=3.0, seed=0, machines=MACHINES,
                 sections=SECTIONS, counts=COUNTS, n_jobs=1, vary_length=True):
    """Write the data set; with ground_truth_dir, test clips get evaluation names.

    With vary_length, clips last 0.9 to 1.1 times `seconds`, so that the scripts see clips of
    different lengths as in real data sets.
    Each clip's sound depends only on the seed and its place in the list, not on its name, so
    the development and evaluation layouts of one seed hold the same recordings.
    """
    rng = np.random.default_rng(seed)
    jobs = []
    for m, (machine, base_hz) in enumerate(machines.items()):
        folder = Path(out_dir) / machine
        for s, split in enumerate(("train", "test")):
            entries = clip_list(rng, split, sections, counts)
            shuffled = rng.permutation(len(entries))    # evaluation names hide the order
            truth, numbers = {}, {}
            for k in shuffled:
                section, domain, label, index, fault = entries[k]
                attributes = f"speed_{'fast' if domain == 'target' else 'normal'}"
                name = f"section_{section}_{domain}_{split}_{label}_{index:04d}_{attributes}.wav"
                if split == "test" and ground_truth_dir is not None:
                    numbers[section] = numbers.get(section, -1) + 1
                    name = f"section_{section}_test_{numbers[section]:04d}.wav"
                    truth.setdefault(section, []).append(
                        (name, int(label == "anomaly"), int(domain == "target")))
                jobs.append(joblib.delayed(write_clip)(
                    folder / split / name, [seed, m, s, int(k)], base_hz * sections[section],
                    seconds, domain, fault, vary_length))
            for section, rows in truth.items():
                write_ground_truth(ground_truth_dir, machine, section, rows)
    joblib.Parallel(n_jobs=n_jobs)(jobs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--eval", metavar="GROUND_TRUTH_DIR", dest="ground_truth_dir")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    make_dataset(args.out_dir, args.ground_truth_dir, args.seconds, args.seed, n_jobs=-1)
    print(f"demo data -> {args.out_dir}")
