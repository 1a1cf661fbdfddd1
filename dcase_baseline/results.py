"""result.csv: its layout in each year (written and read back here only), the machine types'
blocks it is assembled from, and the closing summary of the console.

01_test.py writes one block per model (result_<model>_<dev|eval>.csv: a machine type's, or a
section's), so that parallel jobs, one machine type or section each, make one result.csv
together. Each block has a record
of the run that made it beside it (.json): the data, model and ground-truth folders and every
setting that changes a figure. result.csv takes only the blocks of the run assembling it;
any other block is left out and named, never averaged in.
"""
import json
import logging
import math
import time
from pathlib import Path
from typing import NamedTuple

from dcase_baseline import clips, filenames, metrics, safe_io, years

log = logging.getLogger("baseline")

OFFICIAL_SCORE = "official score"
OVERALL = "{} mean over all machine types, sections, and domains"


class ResultRow(NamedTuple):
    """A unit's row of result.csv."""
    keys: tuple         # its key cells: ("00",), ("00", "source")
    values: list        # in the year's metric_columns order; None: undefined (an empty cell)


class Block(NamedTuple):
    machine: str
    rows: list          # ResultRows
    models: tuple = ()  # the names of the models that scored them (filenames.model_name)


def ranked(values, year):
    """The values of the year's ranked columns (its AUCs and pAUCs) of a row's values."""
    return [values[year.metric_columns.index(name)] for name in year.ranked_columns]


def _means(rows, year):
    """The mean rows' values of the ResultRows: the year's mean_rows, in order."""
    arithmetic, harmonic = metrics.column_means([row.values for row in rows])
    return [(name, arithmetic if kind == "arithmetic" else harmonic)
            for name, kind in year.mean_rows]


class TableRow(NamedTuple):
    """A row of result.csv and what it is: the one description of its layout, which the file
    and the report are both made from."""
    kind: str           # "title" (a machine type's name), "header", "unit", "mean", "gap",
                        # "official" (the official score)
    cells: list         # as result.csv holds them: texts and numbers, None for an empty cell
    n_keys: int = 0     # the leading key cells of a unit or mean row
    columns: tuple = () # the metric column of each value after them


def _block_table(block, year):
    n_keys, columns = len(year.unit_keys), tuple(year.metric_columns)
    pad = [""] * (n_keys - 1)
    return ([TableRow("title", [block.machine]),
             TableRow("header", list(year.unit_keys) + [c.name for c in columns])]
            + [TableRow("unit", list(row.keys) + row.values, n_keys, columns)
               for row in block.rows]
            + [TableRow("mean", [name] + pad + values, n_keys, columns)
               for name, values in _means(block.rows, year)])


def machine_rows(block, year):
    """A Block as result.csv's cells in the year's layout: its name, the header, a row
    per unit, the mean rows."""
    return [row.cells for row in _block_table(block, year)]


def official_score(rows, year):
    """The official score of ResultRows: the harmonic mean of all their ranked values; None
    where the year has none (2020)."""
    if not year.official_score:
        return None
    return metrics.official_score([ranked(row.values, year) for row in rows])


def table(blocks, year):
    """result.csv of Blocks as TableRows, in a year's layout: the machine types'
    blocks, then (where the year has an official score) the means over everything and the
    official score."""
    rows, everything = [], []
    for block in blocks:
        everything += block.rows
        rows += _block_table(block, year) + [TableRow("gap", [])]
    if not year.official_score:
        return rows
    arithmetic, harmonic = metrics.column_means([row.values for row in everything])
    n_keys, columns = len(year.unit_keys), tuple(year.metric_columns)
    pad = [""] * (n_keys - 1)
    return rows + [TableRow("header", [""] * n_keys + [c.name for c in columns]),
                   TableRow("mean", [OVERALL.format("arithmetic")] + pad + arithmetic, n_keys,
                            columns),
                   TableRow("mean", [OVERALL.format("harmonic")] + pad + harmonic, n_keys,
                            columns),
                   TableRow("gap", []),
                   TableRow("official", [OFFICIAL_SCORE, official_score(everything, year)])]


def result_rows(blocks, year):
    """The cells of result.csv from Blocks (table)."""
    return [row.cells for row in table(blocks, year)]


def _mean_row_names():
    return ({name for year in years.YEARS.values() for name, _ in year.mean_rows}
            | {OVERALL.format(kind) for kind in ("arithmetic", "harmonic")})


def is_mean_row(row):
    """Whether a row of result.csv holds means (of a machine type, or over everything): its
    first cell names one of the mean rows a year writes."""
    return bool(row) and row[0] in _mean_row_names()


def parse_block(rows, year):
    """The Block back from machine_rows' cells as CSV gives them: text, empty for None."""
    n_keys = len(year.unit_keys)
    means = _mean_row_names()
    units = [ResultRow(tuple(row[:n_keys]), [float(v) if v != "" else None for v in row[n_keys:]])
             for row in rows[2:] if row and row[0] not in means]
    return Block(rows[0][0], units)


def number(cell):
    """A cell's value as a float, or None where it is no number (text, empty, nan)."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def is_title(row):
    """A machine type's name alone on its row, opening its block."""
    return len(row) == 1 and row[0] != "" and number(row[0]) is None


class RowLayout(NamedTuple):
    """What a row of a result.csv is, read without knowing its year."""
    kind: str           # "gap" (an empty row), "title" (a machine type's name), "header", "data"
    machine: str        # the machine type of the block, "" outside the blocks
    header: object      # a data row's header row (None: none, as for the official score)
    n_keys: int         # a data row's leading key cells (its unit or row name)
    fixed: tuple        # the cells that are no value (key cells, text); None for a value


def layout(rows):
    """Each row's RowLayout, from the cells of any year's result.csv (as CSV gives them).

    A block runs from a machine type's name to the next empty row; a header row follows the
    name, or starts with an empty cell (the header of the means over all machine types). The
    key cells of a data row are its header's leading key cells (a year's unit_keys, or empty),
    at least the row's first cell; every other cell that is a number, or empty, is a value.
    """
    key_heads = {name for year in years.YEARS.values() for name in year.unit_keys} | {""}
    shapes, machine, header, previous = [], "", None, []
    for row in rows:
        if all(cell == "" for cell in row):
            machine, header = "", None
            shapes.append(RowLayout("gap", machine, None, 0, tuple(row)))
        elif is_title(row):
            machine, header = row[0], None
            shapes.append(RowLayout("title", machine, None, 1, tuple(row)))
        elif (is_title(previous) or row[0] == "") and all(number(c) is None for c in row):
            header = row
            shapes.append(RowLayout("header", machine, None, len(row), tuple(row)))
        else:
            n_keys = 1
            if header is not None:
                while n_keys < len(header) and header[n_keys] in key_heads:
                    n_keys += 1
            fixed = tuple(cell if i < n_keys or (cell != "" and number(cell) is None) else None
                          for i, cell in enumerate(row))
            shapes.append(RowLayout("data", machine, header, n_keys, fixed))
        previous = row
    return shapes


def save_block(result_path, model, block, dev, record):
    """The Block of the units a model scored, in the layout of the record's year, and
    the record of the run beside it."""
    path = filenames.block_file(result_path, model, dev)
    safe_io.save_csv(path, machine_rows(block, years.YEARS[record["year"]]))
    safe_io.save_json(filenames.block_record_file(path),
                      {"run": record, "scored": time.strftime("%Y-%m-%d %H:%M:%S"),
                       "result file": filenames.assembled_result_file(result_path, dev).name})


def _differences(found, record):
    """How a block's record differs from this run's, in words."""
    if found is None:
        return "no record of the run that made it"
    theirs = found.get("run", {})
    keys = [key for key in record if theirs.get(key) != record[key]]
    return "; ".join(f"{key} {theirs.get(key)!r} (this run: {record[key]!r})" for key in keys)


def read_record(block_path):
    """The record beside a block; None where there is none or it cannot be read."""
    try:
        return json.loads(filenames.block_record_file(block_path).read_text())
    except (OSError, ValueError):
        return None


def read_blocks(result_path, dev, record):
    """(Blocks of this run sorted by machine type, [(block file, why it is left out)]).

    A block belongs to this run when its record names the same data, models and settings:
    then the blocks of parallel jobs of one run join (those of one machine type's models, one
    per section or some sections each, into the machine type's block), and a block scored on
    other data or with other settings stays out of result.csv. Of two blocks with a unit in
    common, the one scored later is taken.
    """
    year = years.YEARS[record["year"]]
    found, left_out = [], []
    for model, path in filenames.block_files(result_path, dev).items():
        record_found = read_record(path)
        why = _differences(record_found, record)
        if why:
            scored = (f", scored {record_found['scored']}" if record_found
                      and "scored" in record_found else "")
            left_out.append((path, f"{why}{scored}"))
            log.warning("left out of %s: %s is of another run (%s%s); remove it or use another "
                        "result_directory", Path(result_path).name, path, why, scored)
            continue
        block = parse_block(safe_io.read_csv(path), year)
        found.append((record_found.get("scored", ""), model, path, block))
    merged = {}
    for scored, model, path, block in sorted(found, key=lambda f: f[0], reverse=True):
        taken = merged.setdefault(block.machine, {"rows": {}, "models": []})
        common = [row.keys for row in block.rows if row.keys in taken["rows"]]
        if common:
            why = (f"its units {', '.join(' '.join(k) for k in common)} are in a block scored "
                   f"later")
            left_out.append((path, why))
            log.warning("left out of %s: %s (%s)", Path(result_path).name, path, why)
            continue
        taken["rows"].update((row.keys, row) for row in block.rows)
        taken["models"].append(model)
    blocks = [Block(machine, sorted(taken["rows"].values(),
                                    key=lambda row: clips.unit_order(row.keys, year)),
                    tuple(sorted(taken["models"])))
              for machine, taken in merged.items()]
    return sorted(blocks, key=lambda block: block.machine), left_out


def assembly_lock(result_path):
    """Held while result.csv (and the report made of it) is written from the blocks, so that
    of two runs finishing together the later one reads both blocks."""
    return safe_io.file_lock(filenames.result_lock_file(result_path))


def assemble(result_path, dev, record):
    """Write result.csv (filenames.assembled_result_file) from the blocks of this run in the
    result folder (parallel jobs' included), under assembly_lock; returns (its Blocks,
    [(block file, why)] of the blocks left out, the file written)."""
    blocks, left_out = read_blocks(result_path, dev, record)
    assembled = filenames.assembled_result_file(result_path, dev)
    safe_io.save_csv(assembled, result_rows(blocks, years.YEARS[record["year"]]))
    return blocks, left_out, assembled


def log_summary(blocks, year):
    """One line per machine type: the mean of each ranked column over its units; then the
    official score (where the year has one)."""
    def cell(value):
        return "-" if value is None else f"{value:.4f}"

    names = [column.name for column in year.ranked_columns]
    line = "%-12s %9s" + "".join(f" %{max(8, len(n) + 1)}s" for n in names)
    unit = year.unit_words[1]
    log.info("summary (arithmetic means over %s):", unit)
    log.info(line, "machine", unit, *names)
    for block in blocks:
        means, _ = metrics.column_means([ranked(row.values, year) for row in block.rows])
        log.info(line.replace("%9s", "%9d"), block.machine, len(block.rows), *map(cell, means))
    if year.official_score:
        log.info("official score (harmonic mean of all AUCs and pAUCs): %s",
                 cell(official_score([row for block in blocks for row in block.rows], year)))
