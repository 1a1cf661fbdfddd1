"""The DCASE data layout: clip names, the machine folders and the clip lists of each run, and
the official evaluators' ground truth, by the rules of the year's record (years.py).

A machine type's test clips form units (TestUnit), each scored on its own: the machine ID in
2020, a section and domain (folders source_test/ and target_test/) in 2021, a section from
2022 on.
"""
import logging
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dcase_baseline import clip_names, years
from dcase_baseline import ground_truth as ground_truth_files
from dcase_baseline.errors import BaselineError

log = logging.getLogger("baseline")


def _resolved(root, config_path):
    """How a relative data root was read: against the current folder, which may not be the
    folder of the configuration file."""
    if root.is_absolute():
        return ""
    note = f" (that is {os.path.abspath(root)}: relative to the current folder {os.getcwd()}"
    if config_path and os.path.dirname(os.path.abspath(config_path)) != os.getcwd():
        note += f", not to the folder of the configuration file {config_path}"
    return note + ")"


def machine_dirs(root, mode_name, machines=None, config_path=None):
    """Sorted machine folders under the data root, optionally only the named ones."""
    root = Path(root)
    if not root.is_dir():
        raise BaselineError(f"{mode_name} folder not found: {root}{_resolved(root, config_path)}; "
                            f"expected {root}/<machine>/train/*.wav and "
                            f"{root}/<machine>/test/*.wav (set it in the configuration)")
    # hidden folders (.downloads of download.py, ...) hold no machine type
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise BaselineError(f"no machine folders in {root}; expected {root}/<machine>/train and "
                            f"{root}/<machine>/test")
    if machines:
        names = [d.name for d in dirs]
        unknown = [m for m in machines if m not in names]
        if unknown:
            raise BaselineError(f"unknown machine type {', '.join(unknown)} in {root}; "
                                f"available: {', '.join(names)}")
        dirs = [d for d in dirs if d.name in machines]
    return dirs


def check_layout(machine_dirs, year):
    """Refuse machine folders laid out as another year's (2021 keeps its test clips in
    source_test/ and target_test/); say once that folders such as 2025's supplemental/ are not
    used, and warn once where the data look like another year's (year_hints)."""
    own = set(year.test_folders)
    known = {name for record in years.YEARS.values() for name in record.test_folders}
    for machine_dir in machine_dirs:
        has = {name for name in known if (machine_dir / name).is_dir()}
        if not has or has & own:
            continue
        theirs = [y for y, record in sorted(years.YEARS.items())
                  if has & set(record.test_folders)]
        if len(theirs) == 1:
            raise BaselineError(f"{machine_dir} has {' and '.join(sorted(has))}/ as DCASE "
                                f"{theirs[0]} does, and no {'/ or '.join(year.test_folders)}/; "
                                f"set year: {theirs[0]} in the configuration")
        raise BaselineError(f"{machine_dir} has {' and '.join(sorted(has))}/ but no "
                            f"{'/ or '.join(year.test_folders)}/ as DCASE {year.year} has; set "
                            f"year in the configuration to the data set's year")
    for name, holds in year.extra_folders.items():
        found = [d / name for d in machine_dirs if (d / name).is_dir()]
        if found:
            log.info("%s (%s) %s not used by this baseline", ", ".join(map(str, found)), holds,
                     "is" if len(found) == 1 else "are")
    hints = year_hints(machine_dirs, year)
    if hints:
        reasons = "; ".join(reason for reason, _ in hints)
        candidates = set.intersection(*(set(found) for _, found in hints)) or set(hints[0][1])
        log.warning("%s: %s: these look like DCASE %s data, not DCASE %d's (year: %d); set year "
                    "in the configuration to the data set's year", machine_dirs[0].parent,
                    reasons, years.in_words(candidates), year.year, year.year)


def _names(folder):
    return sorted(p.name for p in folder.iterdir() if not p.is_dir()) if folder.is_dir() else []


def year_hints(machine_dirs, year):
    """What in the machine folders points to another year than the configured one, from the
    years' records: [(reason in words, the years it points to)]. Sections the year has not,
    names ending _noAttribute, evaluation clips counted from another number, folders only
    another year's data have."""
    others = [r for r in years.YEARS.values() if r.clip_name == year.clip_name
              and r.test_folders == year.test_folders and r is not year]
    sections, hidden, first = set(), None, {}
    for machine_dir in machine_dirs:
        for folder in ("train",) + year.test_folders:
            for name in _names(machine_dir / folder):
                fields = clip_names.parse(name, year)
                if fields is None:
                    continue
                sections.add(fields.get("section"))
                if fields.get("attributes") == "noAttribute" and hidden is None:
                    hidden = f"{machine_dir.name}/{folder}/{name}"
                if folder != "train" and fields["label"] is None:
                    unit = year.unit_keys[0]
                    key = (machine_dir.name, f"{unit} {fields[unit]}")
                    first[key] = min(first.get(key, int(fields["index"])), int(fields["index"]))
    hints = []
    if year.sections is not None and not sections <= set(year.sections):
        found = [r.year for r in others if r.sections and sections <= set(r.sections)]
        if found:
            has = (f"section {year.sections[0]} only" if len(year.sections) == 1
                   else f"sections {', '.join(year.sections)}")
            hints.append((f"sections {', '.join(sorted(sections))} (DCASE {year.year} has "
                          f"{has})", found))
    if hidden and not year.hidden_attributes:
        found = [r.year for r in others if r.hidden_attributes]
        hints.append((f"names that withhold their attributes, as {hidden}", found))
    counted = {key: index for key, index in first.items() if index not in year.first_indices}
    if counted:
        (machine, unit), index = next(iter(sorted(counted.items())))
        found = [r.year for r in others if index in r.first_indices]
        hints.append((f"the evaluation clips of {machine} {unit} counted from {index:04d}",
                      found))
    for record in others:
        for name, holds in record.extra_folders.items():
            there = [d for d in machine_dirs if (d / name).is_dir()]
            if there and name not in year.extra_folders:
                hints.append((f"{there[0] / name} ({holds}, not used by this baseline)",
                              [r.year for r in others if name in r.extra_folders]))
    return [hint for hint in hints if hint[1]]


def _clips(folder, year):
    """(path, fields) of the clips in a folder that follow the year's naming scheme, sorted by
    name; the other files are named in one warning (a folder without any such clip is an
    error, which says whose names they are)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BaselineError(f"folder not found: {folder}; each machine folder needs "
                            f"{' and '.join(f'{name}/' for name in ('train',) + year.test_folders)}"
                            f" with .wav clips named like {year.example_name} (year: {year.year})")
    clips, ignored = [], []
    for path in sorted(p for p in folder.iterdir() if not p.is_dir()):
        fields = clip_names.parse(path.name, year)
        if fields is None:
            ignored.append(path)
        else:
            clips.append((path, fields))
    other = next(filter(None, (years.years_named_like(p.name) for p in ignored)), None)
    looks = f"; they look like {other} names" if other else ""
    if not clips:
        raise BaselineError(f"no clips in {folder}: expected files named like "
                            f"{year.example_name} (DCASE {year.year}){looks}; set year in "
                            f"the configuration to the data set's year")
    if ignored:
        log.warning("ignoring %d file%s in %s not named like %s (e.g. %s)%s", len(ignored),
                    "" if len(ignored) == 1 else "s", folder, year.example_name,
                    ignored[0].name, looks)
    return clips


def _trains_on(fields, dev):
    """Whether a clip of train/ (its name's fields) is trained on: the normal ones in
    development mode, all in evaluation mode."""
    return not dev or fields["label"] == "normal"


def train_files(machine_dir, dev, year):
    """Training clips of a machine, sorted: the normal ones in development mode, all in eval."""
    clips = _clips(Path(machine_dir) / "train", year)
    files = [path for path, fields in clips if _trains_on(fields, dev)]
    if not files:
        raise BaselineError(f"no normal training clips in {Path(machine_dir) / 'train'}: "
                            f"expected names like {year.example_name}")
    return files


def trained_sections(machine_dir, dev, year):
    """The sections (2020: machine IDs) of the clips that train_files gives, from the names in
    train/ alone and without a word of the other files there (00_train.py says them): what
    01_test.py names a model by, as 00_train.py does."""
    folder = Path(machine_dir) / "train"
    fields = [clip_names.parse(name, year) for name in _names(folder)]
    found = sorted({f[year.unit_keys[0]] for f in fields if f and _trains_on(f, dev)})
    if not found:
        raise BaselineError(f"no {'normal ' if dev else ''}training clips in {folder}: the "
                            f"models of -s/--section and of model_per: section are named by "
                            f"their sections there (expected names like {year.example_name})")
    return found


def training_domain(path, year):
    """A training clip's domain as the successor baseline takes it: target where the name says
    so, else source (2020 has no domains)."""
    fields = clip_names.parse(path, year) or {}
    return "target" if fields.get("domain") == "target" else "source"


def training_group(path, year):
    """A training clip's section (2020: machine ID) and domain, for fit.validation: clips."""
    return section_of(path, year), training_domain(path, year)


def section_of(path, year):
    """A clip's section (2020: its machine ID): the first key of the year's units."""
    fields = clip_names.parse(path, year) or {}
    return fields.get(year.unit_keys[0])


def sections_of(paths, year):
    """The sections (2020: machine IDs) of the clips, sorted."""
    return sorted({section_of(p, year) for p in paths} - {None})


def in_sections(paths, sections, year):
    """The clips of those sections, in their order."""
    return [p for p in paths if section_of(p, year) in sections]


def model_sections(found, wanted, model_per, where, year):
    """The sections of each model of a machine type: [None] (one model of all its sections,
    named by the machine type), [("00", "01")] (one model of some), [("00",), ("01",)] (one
    per section, model_per: section). found: the machine type's sections; wanted: those of
    -s/--section (None: all), each of which must be among found."""
    missing = [s for s in wanted or () if s not in found]
    word = year.unit_keys[0]
    if missing:
        raise BaselineError(f"no {word} {', '.join(missing)} in {where}: its {word}s are "
                            f"{', '.join(found) or 'none'}; give -s/--section with some of "
                            f"those")
    chosen = sorted(set(wanted)) if wanted else list(found)
    if model_per == "section":
        return [(s,) for s in chosen]
    return [None] if chosen == list(found) else [tuple(chosen)]


def unit_order(keys, year):
    """Where a unit of these key cells comes in a machine type's block: as units() lists them,
    test folder by test folder (2021: source_test/, then target_test/), sorted in each."""
    domain = dict(zip(year.unit_keys, keys)).get("domain")
    folders = [clip_names.domain({}, name, year) for name in year.test_folders]
    return (folders.index(domain) if domain in folders else 0, tuple(keys))


class TestUnit(NamedTuple):
    """The test clips of a machine type scored together: one score file, one result row."""
    __test__ = False    # not a test class for pytest
    name: str           # as in the score file names: id_00, section_00_source, section_00
    keys: tuple         # its key cells in result.csv: ("00",), ("00", "source")
    paths: list
    labels: object      # development: 0 (normal) or 1 (anomaly) per clip; evaluation: None
    domains: object     # source, target or None per clip (None: evaluation)


def _folder_units(folder, year):
    """{key cells: [(path, fields)]} of the clips in a test folder, in unit order; a clip's
    domain where the folder tells it (2021, as its baseline reads it) is in its fields."""
    units = {}
    for path, fields in _clips(folder, year):
        fields = dict(fields, domain=clip_names.domain(fields, folder.name, year))
        keys = tuple(fields[key] for key in year.unit_keys)
        units.setdefault(keys, []).append((path, fields))
    return dict(sorted(units.items()))


def _unit_name(keys, year):
    return year.unit_name.format(**dict(zip(year.unit_keys, keys)))


def units(machine_dir, dev, year):
    """The TestUnits of a machine type, in the year's order.

    Development: per unit, sorted normals (label 0) then sorted anomalies (label 1), with the
    domain from the name (2021: the folder; 2020: None). Evaluation: every clip of the unit,
    sorted, with labels and domains None.
    """
    found = []
    for name in year.test_folders:
        folder = Path(machine_dir) / name
        for keys, own in _folder_units(folder, year).items():
            unit = _unit_name(keys, year)
            if not dev:
                found.append(TestUnit(unit, keys, [p for p, _ in own], None, None))
                continue
            ordered = ([(p, f) for p, f in own if f["label"] == "normal"]
                       + [(p, f) for p, f in own if f["label"] == "anomaly"])
            if not ordered:
                raise BaselineError(f"no labelled clips of {unit} in {folder}: expected names "
                                    f"with _normal_ or _anomaly_")
            labels = np.array([int(f["label"] == "anomaly") for _, f in ordered])
            domains = np.array([f.get("domain") for _, f in ordered])
            found.append(TestUnit(unit, keys, [p for p, _ in ordered], labels, domains))
    return found


def with_ground_truth(unit, ground_truth, machine, year):
    """The TestUnit of evaluation clips with their labels and domains from the official ground
    truth."""
    truth = ground_truth_files.read(ground_truth, machine, unit, year)
    keys = [clip_names.ground_truth_key(p, year) for p in unit.paths]
    missing = sorted(set(truth) - set(keys))
    extra = sorted(set(keys) - set(truth))
    if missing or extra:
        raise BaselineError(
            f"{machine} {unit.name}: test clips and ground truth differ; missing from the test "
            f"folder: {', '.join(missing) or 'none'}; not in the ground truth: "
            f"{', '.join(extra) or 'none'}")
    return unit._replace(labels=np.array([truth[k][0] for k in keys]),
                         domains=np.array([truth[k][1] for k in keys]))
