"""What a clip's name tells, by the rules of a year's record (years.Year): its fields, its
domain, the key under which the official ground truth names it, and the names the year gives
its clips. The ways a record may choose are registries here (DOMAIN_SOURCES, GROUND_TRUTH_KEYS),
so that years.py checks a record's choices when it is made. No import of years.py.
"""
import os


def parse(file_name, year):
    """The fields of a clip name (section or id, domain, split, label, index, attributes), or
    None when the base name does not follow the year's scheme (years.Year.clip_name)."""
    match = year.clip_name.fullmatch(os.path.basename(file_name))
    return match.groupdict() if match else None


# Where a test clip's domain comes from (Year.domain_from): (the clip's fields, the name of its
# test folder) -> "source", "target" or None.
DOMAIN_SOURCES = {
    "name": lambda fields, folder: fields.get("domain"),
    # 2021: source_test/ and target_test/, as its baseline reads them
    "folder": lambda fields, folder: folder.split("_")[0],
    None: lambda fields, folder: None,          # 2020: no domains
}


def domain(fields, folder, year):
    """A test clip's domain, as the year takes it (DOMAIN_SOURCES)."""
    return DOMAIN_SOURCES[year.domain_from](fields, folder)


def _section_index(file_name, year):
    fields = parse(file_name, year)
    if fields is None:
        return os.path.basename(file_name)
    return f"section_{fields['section']}_{int(fields['index']):04d}"


# How the official ground truth names an evaluation clip (Year.ground_truth_key)
GROUND_TRUTH_KEYS = {
    "name": lambda file_name, year: os.path.basename(file_name),
    # 2022 on: section and index (the ground truth files omit "test_")
    "section_index": _section_index,
}


def ground_truth_key(file_name, year):
    """The name under which an evaluation clip is matched with the official ground truth."""
    return GROUND_TRUTH_KEYS[year.ground_truth_key](file_name, year)


def name(year, kind, **fields):
    """A clip's file name in the year's scheme (Year.name_formats): kind "train" or "test"
    (development names, with section or id, domain, label, index, attributes) or "eval" (an
    evaluation test clip: unit, domain, number)."""
    return year.name_formats[kind].format(**fields)
