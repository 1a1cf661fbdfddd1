"""Several runs' result.csv summarized (summarize.py): per cell, and for the official score,
the mean, sample standard deviation, minimum and maximum over the runs, after checking that the
runs differ in the seed only (or in the settings named). The files written and their columns
are described in summarize.py's help (docs/seeds.md).
"""
import contextlib
import html
import json
import logging
import statistics
from pathlib import Path
from typing import NamedTuple

from dcase_baseline import configuration, filenames, results, run_settings, safe_io
from dcase_baseline.errors import BaselineError, describe

log = logging.getLogger("baseline")

NO_HEADER = "value"
SUMMARY_HEADER = ["machine", "row", "column", "mean", "std", "min", "max", "n", "empty"]


def result_in(folder):
    """The result CSV a result folder holds: the one its blocks' records name (any
    result_file, of a development or an evaluation run), else the default one's name."""
    named = set()
    for record_file in Path(folder).glob("*.json"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            named.add(json.loads(record_file.read_text()).get("result file"))
    found = sorted(name for name in named if name and (folder / name).is_file())
    if len(found) > 1:
        raise BaselineError(f"{folder} holds the results of several runs ({', '.join(found)}); "
                            f"give the result file to summarize")
    return folder / found[0] if found else folder / configuration.DEFAULT_CONFIG["result_file"]


def read_result(path):
    """The rows of a run's result CSV: path is the file or the result folder holding it."""
    path = Path(path)
    file = result_in(path) if path.is_dir() else path
    if not file.is_file():
        where = (f"no {file.name} in {path}" if path.is_dir()
                 else f"{path} does not exist")
        raise BaselineError(f"{where}; give the result folder of a run that 01_test.py scored "
                            f"(-d, or -e with --ground-truth) or its result CSV file")
    try:
        rows = safe_io.read_csv(file)
    except (OSError, UnicodeError) as error:
        raise BaselineError(f"cannot read {file}: {describe(error)}") from None
    if not any(any(cell != "" for cell in row) for row in rows):
        raise BaselineError(f"{file} is empty; rerun 01_test.py for that run")
    return file, rows


def check_same_layout(runs):
    """Raise a one-line error naming the first run whose layout differs from the first run's,
    and the first row where it does; returns the shared shape."""
    first_file, first_rows = runs[0]
    reference = results.layout(first_rows)
    for file, rows in runs[1:]:
        other = results.layout(rows)
        for i in range(max(len(reference), len(other))):
            mine = reference[i] if i < len(reference) else None
            theirs = other[i] if i < len(other) else None
            same = (mine is not None and theirs is not None
                    and (mine.kind, mine.n_keys, mine.fixed)
                    == (theirs.kind, theirs.n_keys, theirs.fixed))
            if not same:
                def show(rows_):
                    return (",".join(rows_[i]) if i < len(rows_) else "(no such row)")[:120]
                raise BaselineError(
                    f"{first_file} and {file} differ in layout from row {i + 1} on: "
                    f"{show(first_rows)!r} vs {show(rows)!r}; summarize runs of the same "
                    f"year, machine types and mode only")
    return reference


def stats(values):
    """(mean, std, min, max, n) of the numbers; std None with fewer than two.

    The statistics module computes the mean and the sample standard deviation exactly and
    rounds once (numpy.mean and numpy.std(ddof=1) agree to the last digit or two): runs with
    the same value give that value and a standard deviation of 0.0, never a mean outside
    [min, max].
    """
    std = statistics.stdev(values) if len(values) > 1 else None
    return statistics.mean(values), std, min(values), max(values), len(values)


class Cell(NamedTuple):
    """A value cell of result.csv summarized over the runs."""
    i: int                  # its row in result.csv
    j: int                  # its column
    machine: str            # the machine type's block; "" for the rows after the blocks
    row_name: str           # the row's key cells: "00", "00 source", "official score"
    column: str             # the header above it, or NO_HEADER
    mean: object            # mean, sample std, min and max over the runs; None where the cell
    std: object             # is empty in any run (std also with one run)
    low: object
    high: object
    n: int                  # runs with a number in the cell
    empty: int              # runs in which it is empty


def summarize(runs):
    """The summary of [(file, rows)] of the same layout: (its layout, a Cell per value
    cell)."""
    layout = check_same_layout(runs)
    cells = []
    for i, (kind, machine, header, n_keys, fixed) in enumerate(layout):
        if kind != "data":
            continue
        for j, cell in enumerate(fixed):
            if cell is not None:
                continue
            values = [results.number(rows[i][j]) for _, rows in runs]
            found = [v for v in values if v is not None]
            empty = len(values) - len(found)
            mean, std, low, high, n = stats(found) if found and not empty else (
                None, None, None, None, len(found))
            name = header[j] if header is not None and j < len(header) else NO_HEADER
            row_name = " ".join(c for c in fixed[:n_keys] if c)
            cells.append(Cell(i, j, machine, row_name, name, mean, std, low, high, n, empty))
    return layout, cells


def official(cells):
    """The official score's summary cell, or None where the layout has none (2020)."""
    return next((c for c in cells if c.row_name == results.OFFICIAL_SCORE), None)


def run_records(file, rows):
    """The records of the runs ("run" of each block's .json) that made this result.csv: of the
    blocks beside it (result_<model>_<dev|eval>.csv, one per machine type or section) whose
    rows of units are rows of result.csv, with their record beside them; empty where none is
    (a result.csv copied without them)."""
    found, there = [], {tuple(row) for row in rows}
    for dev in (True, False):
        for path in filenames.block_files(filenames.blocks_base(file, dev),
                                          dev).values():
            try:
                block = safe_io.read_csv(path)
            except (OSError, UnicodeError):
                continue
            units = [row for row in block[2:] if row and not results.is_mean_row(row)]
            if not block or tuple(block[0]) not in there or not units \
                    or not all(tuple(row) in there for row in block[1:2] + units):
                continue
            record = results.read_record(path)
            if isinstance(record, dict) and isinstance(record.get("run"), dict) \
                    and "seed" in record["run"]:
                found.append(record["run"])
    return found


# what may differ between the runs of one summary: the seed, and so the model folder
NOT_COMPARED = ("seed", "model folder")


def settings_of(records):
    """A run's settings (its first record's), without those that may differ; None without a
    record."""
    if not records:
        return None
    return {k: v for k, v in records[0].items() if k not in NOT_COMPARED}


def check_settings(runs, settings, across):
    """Refuse runs whose settings differ in more than the seed and the settings named in
    across (dotted keys: fit.lr, data folder, ...); returns each run's values of those, as
    text."""
    known = {key for found in settings if found for key in run_settings.flat(found)}
    unknown = [key for key in across if key not in known]
    if unknown and known:
        raise BaselineError(f"--across {', '.join(unknown)}: no such setting in the runs' "
                            f"records; the settings are {', '.join(sorted(known))}")
    reference = next(((file, found) for (file, _), found in zip(runs, settings) if found), None)
    for (file, _), found in zip(runs, settings):
        if found is None:
            log.warning("%s: no record of its run beside it (result_<machine>_<dev|eval>.json):"
                        " its settings are not compared with the other runs'", file)
            continue
        differ = [(key, theirs, ours) for key, theirs, ours
                  in run_settings.differences(reference[1], found) if key not in across]
        if differ:
            raise BaselineError(
                f"{reference[0]} and {file} are runs of other settings: "
                f"{'; '.join(f'{key} {theirs!r} vs {ours!r}' for key, theirs, ours in differ)}"
                f"; summarize runs that differ in the seed only, or pass --across "
                f"{' '.join(repr(key) for key, _, _ in differ)} to summarize them anyway")
    return [[repr(run_settings.flat(found).get(key)) if found else "unknown" for key in across]
            for found in settings]


def seed_text(seeds):
    if not seeds:
        return "unknown (no record beside result.csv)"
    distinct = list(dict.fromkeys(seeds))
    words = ["none (not seeded)" if s is None else str(s) for s in distinct]
    return words[0] if len(words) == 1 else "differs by machine type: " + ", ".join(words)


def runs_text(n):
    return f"{n} run" if n == 1 else f"{n} runs"


def fmt(value):
    return "" if value is None else repr(value)


def summary_rows(cells):
    return [SUMMARY_HEADER] + [[c.machine, c.row_name, c.column,
                                *map(fmt, (c.mean, c.std, c.low, c.high)), c.n, c.empty]
                               for c in cells]


def mean_rows(runs, cells):
    """result.csv's layout with each value cell replaced by its mean (empty where undefined)."""
    rows = [list(row) for row in runs[0][1]]
    for c in cells:
        rows[c.i][c.j] = fmt(c.mean)
    return rows


STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px}
td{text-align:right;font-variant-numeric:tabular-nums}td.empty{background:#eee}
td.key{text-align:left}th{background:#f3f3f3}p.note{font-size:90%;color:#444;max-width:60em}
span.range{color:#666;font-size:85%}.big{font-size:130%}"""


def _value_html(cell, n_runs):
    if cell.mean is None:
        why = f"empty in {cell.empty} of {runs_text(n_runs)}"
        return f'<td class="empty" title="{html.escape(why)}">&ndash; ({html.escape(why)})</td>'
    spread = f" &plusmn; {cell.std:.4f}" if cell.std is not None else ""
    return (f'<td title="min {cell.low:.6f}, max {cell.high:.6f}, n {cell.n}">'
            f'{cell.mean:.4f}{spread}<br>'
            f'<span class="range">[{cell.low:.4f}, {cell.high:.4f}]</span></td>')


def page(runs, layout, cells, seeds, across=(), values=()):
    """summary.html: the official score, a table per block, the runs (with their values of
    the settings across names, in which they differ)."""
    n_runs = len(runs)
    at = {(c.i, c.j): c for c in cells}
    heading = f"Summary of {runs_text(n_runs)}"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{heading}</title>"
             f"<style>{STYLE}</style></head><body>\n<h1>{heading}</h1>\n"]
    if across:
        parts.append(f"<p class='big'>Runs of different settings: "
                     f"{html.escape(', '.join(across))} (each run's values under Runs); the "
                     f"spread below is not the seed's alone.</p>\n")
    score = official(cells)
    if score is None:
        parts.append("<p>These results have no official score row (the 2020 layout has "
                     "none).</p>\n")
    elif score.mean is None:
        parts.append(f"<p class='big'>Official score: undefined (empty in {score.empty} of "
                     f"{runs_text(n_runs)})</p>\n")
    else:
        std = "" if score.std is None else f" &plusmn; {score.std:.4f}"
        parts.append(f"<p class='big'>Official score: <b>{score.mean:.4f}</b>{std} "
                     f"[min {score.low:.4f}, max {score.high:.4f}] over "
                     f"{runs_text(n_runs)}</p>\n")
    parts.append("<p class='note'>Each cell: the mean &plusmn; the sample standard deviation "
                 "(n &minus; 1 in the denominator; none with one run) over the runs, and "
                 "[minimum, maximum] below it. A cell empty (undefined) in any run stays "
                 "empty; it says in how many runs it was. summary.csv holds the same figures "
                 "to full precision.</p>\n")
    table, title, overall = [], None, 0

    def close():
        nonlocal overall
        if table:
            if title is not None:
                parts.append(f"<h2>{html.escape(title)}</h2>\n")
            elif not overall:
                parts.append("<h2>All machine types</h2>\n")
            overall += title is None
            parts.append("<table>\n" + "\n".join(table) + "\n</table>\n")
            table.clear()

    for i, (kind, machine, header, n_keys, fixed) in enumerate(layout):
        if kind == "gap":
            close()
            title = None
        elif kind == "title":
            close()
            title = fixed[0]
        elif kind == "header":
            table.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in fixed) + "</tr>")
        else:
            table.append("<tr>" + "".join(
                _value_html(at[(i, j)], n_runs) if cell is None
                else f'<td class="key">{html.escape(cell)}</td>'
                for j, cell in enumerate(fixed)) + "</tr>")
    close()
    parts.append("<h2>Runs</h2>\n<table>\n<tr><th>run</th><th>result file</th><th>seed</th>"
                 + "".join(f"<th>{html.escape(key)}</th>" for key in across) + "</tr>\n")
    for k, ((file, _), seed, mine) in enumerate(zip(runs, seeds, values or [[]] * n_runs), 1):
        parts.append(f"<tr><td>{k}</td><td class='key'>{html.escape(str(file))}</td>"
                     f"<td class='key'>{html.escape(seed)}</td>"
                     + "".join(f"<td class='key'>{html.escape(v)}</td>" for v in mine)
                     + "</tr>\n")
    parts.append("</table>\n</body></html>\n")
    return "".join(parts)


def write_summary(paths, out_dir, across=()):
    """Read the runs, check that they differ in the seed only (and the settings across names),
    write the summary files; returns (the summary cells, written files)."""
    runs, seen = [], {}
    for path in paths:
        file, rows = read_result(path)
        key = file.resolve()
        if key in seen:
            raise BaselineError(f"{file} is given twice ({seen[key]} and {path}); give each "
                                f"run once")
        seen[key] = path
        runs.append((file, rows))
    layout, cells = summarize(runs)
    records = [run_records(file, rows) for file, rows in runs]
    values = check_settings(runs, [settings_of(found) for found in records], across)
    found_seeds = [[record["seed"] for record in found] for found in records]
    seeds = [seed_text(found) for found in found_seeds]
    by_seed = {}
    for (file, _), found in zip(runs, found_seeds):
        if len(set(found)) == 1 and found[0] is not None:
            by_seed.setdefault(found[0], []).append(str(file))
    for seed, files in by_seed.items():
        if len(files) > 1:
            log.warning("%s have the same seed %s: their figures are not independent "
                        "draws (if data and settings are the same, they may be identical)",
                        " and ".join(files), seed)
    files = filenames.summary_files(out_dir)
    safe_io.save_csv(files["summary.csv"], summary_rows(cells))
    safe_io.save_csv(files["summary_mean.csv"], mean_rows(runs, cells))
    safe_io.save_csv(files["summary_runs.csv"], [["run", "result file", "seed", *across]] + [
        [k, str(file), seed, *mine]
        for k, ((file, _), seed, mine) in enumerate(zip(runs, seeds, values), 1)])
    with safe_io.atomic_path(files["summary.html"]) as tmp:
        Path(tmp).write_text(page(runs, layout, cells, seeds, across, values), encoding="utf-8",
                             errors="surrogateescape")
    return cells, list(files.values())
