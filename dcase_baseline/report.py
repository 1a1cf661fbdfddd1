"""result/report.html: one self-contained page of a run's results (the table of result.csv,
the figures of plots.py, the models' facts, the published figures of the year's baseline)."""
import html
import json
import os
from pathlib import Path
from urllib.parse import quote

from dcase_baseline import filenames, metrics, results, safe_io


def unit_key(keys):
    """A row's key cells as Year.published keys them: a tuple (a plain string is one cell),
    numbers written with two digits (the 2020 and 2021 READMEs write the ID or section as 0, 1,
    ...)."""
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    return tuple(f"{int(k):02d}" if str(k).isdigit() else str(k) for k in keys)


def cell(value):
    """A result.csv value as the report shows it: rounded to 4 decimals, or empty (None)."""
    return "" if value is None else f"{float(value):.4f}"


ZERO_TITLE = {
    "section": "0 by the task's formula: precision, recall and F1 of a domain are 0 without true "
               "positives: when it has no anomalous clips, when the detector made no positive "
               "decision, or when it decided none of the anomalous clips anomalous",
    "mean": "0 (or about 0) because of sections whose value is 0: see the note under the table",
}
ZERO_NOTE = ("<p class=\"note\"><span class=\"zero\"></span> Precision, recall and F1 score "
             "of a domain are 0 by the task's formula (tp / (tp + fp), tp / (tp + fn), each "
             "denominator clipped at machine epsilon) when it has no true positives: when the "
             "domain has no anomalous clips, when the detector decided no clip anomalous, or "
             "none of the anomalous ones. A 0 there says nothing about how the scores rank the "
             "clips, which the AUCs and pAUC judge; a harmonic mean over sections with such a 0 "
             "is about 0 as well (values clipped at epsilon).</p>")


def _empty_note(year):
    """Why a cell of the year's result.csv can be empty."""
    domain_columns = any(column.domain for column in year.metric_columns)
    why = ("an AUC needs normal and anomalous clips of its set, precision, recall and F1 need "
           "test clips of that domain" if domain_columns
           else "an AUC and a pAUC need normal and anomalous clips of it")
    return (f"<p class=\"note\"><span class=\"empty-key\"></span> An empty cell is undefined "
            f"for that {year.unit_words[0]}: {why} (the machine type's notes below say "
            f"which).</p>")


def _is_decision_metric(column):
    return metrics.KINDS[column.kind].of_decisions


def _table(rows, year):
    """result.csv (results.TableRows) as an HTML table, numbers rounded; the key cells of a row
    (its section, ID or section and domain, or a mean's name) as row headers; a precision,
    recall or F1 cell that shows 0 says why in its title and in a note under the table, as does
    an empty one."""
    out, zeros, empties = ['<table class="result">'], False, False
    width = max((len(row.cells) for row in rows), default=10)
    for row in rows:
        if row.kind == "gap":
            out.append(f'<tr class="gap"><td colspan="{width}"></td></tr>')
            continue
        if row.kind not in ("unit", "mean"):
            head = row.cells[:1] + [cell(v) if row.kind == "official" else v
                                    for v in row.cells[1:]]
            out.append("<tr class=\"head\">" + "".join(f"<th>{html.escape(v)}</th>"
                                                       for v in head) + "</tr>")
            continue
        cells = [f"<th>{html.escape(v)}</th>" for v in row.cells[:row.n_keys]]
        kind = "mean" if row.kind == "mean" else "section"
        for column, value in zip(row.columns, row.cells[row.n_keys:]):
            if value is None:
                empties = True
                cells.append('<td class="empty" title="undefined: see the notes"></td>')
            elif _is_decision_metric(column) and float(cell(value)) == 0:
                zeros = True
                cells.append(f'<td class="zero" title="{html.escape(ZERO_TITLE[kind])}">'
                             f"{cell(value)}</td>")
            else:
                cells.append(f"<td>{cell(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out + ([ZERO_NOTE] if zeros else [])
                     + ([_empty_note(year)] if empties else []))


def _published_cell(value):
    """A published figure to 4 decimals, as this run's are shown; the figure as published in
    the title where it has more digits."""
    shown = f"{value:.4f}"
    if len(repr(value).split(".")[-1]) > 4:
        return f'<td title="{value!r}">{shown}</td>'
    return f"<td>{shown}</td>"


def _our_mean(rows, known_keys, kind, year):
    """This run's mean of a machine type's ranked values over its units, where they are
    exactly the units whose figures were published (else empty cells)."""
    if not rows or {unit_key(row.keys) for row in rows} != known_keys:
        return [None] * len(year.ranked_columns)
    arithmetic, harmonic = metrics.column_means([results.ranked(row.values, year)
                                                 for row in rows])
    return arithmetic if kind == "arithmetic" else harmonic


UNKNOWN = '<td><span class="unknown">unknown</span></td>'
MEAN_NOTE = ("<p class=\"note\">A machine type's mean: the published one, and beside it this "
             "run's over the same units, where this run has exactly the units of the published "
             "one.</p>")


def _published(blocks, year, known, means):
    """Our ranked figures per unit beside the published ones (known: {(machine type, key
    cells...): values}, means: as Year.published_means); "unknown" where that year's baseline
    published none for the machine type and unit."""
    columns, key_names = year.ranked_columns, year.unit_keys
    span = 1 + len(key_names)
    out = ['<table class="result"><tr class="head"><th>machine</th>'
           + "".join(f"<th>{html.escape(name)}</th>" for name in key_names)
           + "".join(f"<th>{html.escape(column.name)}</th><th>published</th>"
                     for column in columns)
           + "</tr>"]
    machine_means = False
    for block in blocks:
        for row in block.rows:
            theirs = known.get((block.machine, *unit_key(row.keys)))
            cells = [f"<th>{html.escape(block.machine)}</th>"
                     + "".join(f"<th>{html.escape(str(k))}</th>" for k in row.keys)]
            for i, value in enumerate(results.ranked(row.values, year)):
                ours = "" if value is None else f"{value:.4f}"
                cells.append(f"<td>{ours}</td>" + (_published_cell(theirs[i]) if theirs
                                                   else UNKNOWN))
            out.append("<tr>" + "".join(cells) + "</tr>")
        published_keys = {key[1:] for key in known if key[0] == block.machine}
        for _, kind, label, values in (m for m in means if m[0] == block.machine):
            machine_means = True
            ours = _our_mean(block.rows, published_keys, kind, year)
            out.append(f'<tr><th colspan="{span}">{html.escape(label)}</th>'
                       + "".join(f"<td>{'' if o is None else f'{o:.4f}'}</td>"
                                 + _published_cell(v) for o, v in zip(ours, values)) + "</tr>")
    for machine, kind, label, values in means:
        if machine is None:
            out.append(f'<tr><th colspan="{span}">{html.escape(label)} (published)</th>'
                       + "".join(f"<td></td>{_published_cell(v)}" for v in values) + "</tr>")
    return "\n".join(out + ["</table>"] + ([MEAN_NOTE] if machine_means else []))


def _facts(facts):
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in facts.items() if k not in ("notes", "config"))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in facts.get("notes", []))
    config = html.escape(json.dumps(facts.get("config", {}), indent=1))
    return (f'<table class="facts">{rows}</table>'
            + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "<p>Notes: none.</p>")
            + f"<details><summary>configuration</summary><pre>{config}</pre></details>")


STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px}
td{text-align:right;font-variant-numeric:tabular-nums}td.empty{background:#eee}
td.zero{color:#777}.zero::after{content:"\\2020";color:#777;margin-left:1px}
.empty-key{display:inline-block;width:1.4em;height:.9em;background:#eee;border:1px solid #ccc}
p.note{font-size:90%;color:#444;max-width:60em;margin:.3em 0}
tr.head th{background:#f3f3f3}tr.gap td{border:none;height:.8em}.unknown{color:#999}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}"""

def image_link(image, result_dir):
    """The src of an image in report.html: its path relative to the result folder, URL-quoted
    (a machine type named with #, ?, % or a space would break it otherwise), HTML-escaped."""
    return html.escape(quote(Path(os.path.relpath(image, result_dir)).as_posix()))


# the successor's names of the scores
SCORE_WORDS = {"mse": "MSE", "mahalanobis": "MAHALA (score: mahalanobis)"}


def _comparison(blocks, year, dev, score):
    """Our figures beside those the year's autoencoder baseline published: for its
    development set, or for its evaluation set with the same score; per machine type and unit,
    "unknown" where it published none."""
    if not dev and score in year.published_eval:
        source = year.published_eval_source.format(score=SCORE_WORDS[score])
        return [f"<h2>Against the published {year.year:d} baseline (evaluation set, score: "
                f"{html.escape(score)})</h2>",
                f"<p>{html.escape(source, quote=False)}</p>",
                _published(blocks, year, year.published_eval[score],
                           year.published_eval_means.get(score, ()))]
    if not dev:
        return ["<h2>Against the published baseline</h2>",
                f"<p>No evaluation-set figures of the {year.year:d} autoencoder baseline with "
                f"score: {html.escape(score)} are known here; its published development-set "
                f"figures are of other clips, so they are not set beside these.</p>"]
    if not year.published_source:
        return ["<h2>Against the published baseline</h2>",
                f"<p>No published figures of an autoencoder baseline are known for the "
                f"{year.year:d} data.</p>"]
    return [f"<h2>Against the published {year.year:d} baseline</h2>",
            f"<p>{html.escape(year.published_source, quote=False)}</p>",
            _published(blocks, year, year.published, year.published_means)]


def _left_out(left_out):
    """The result blocks found in the result folder but not taken into result.csv."""
    if not left_out:
        return []
    items = "".join(f"<li>{html.escape(Path(path).name)}: {html.escape(why)}</li>"
                    for path, why in left_out)
    return [f'<p class="left-out">Left out of the table above, as they are of another run '
            f"(other data, models or settings):</p><ul>{items}</ul>"]


def write_report(result_path, model_dir, blocks, dev, year, left_out=(), score="mse",
                 system="autoencoder baseline"):
    """result/report.html of the result.csv at result_path, written of blocks (its
    Blocks, results.assemble's), with the plots, the models' loss curves and each
    model's facts in the result folder; only relative links to files that exist.

    year: the data set's Year: result.csv's layout, and whose published figures are shown.
    left_out: [(block file, why)] of the blocks in the folder that result.csv does not take.
    score: the run's (which published evaluation figures are its). system: whose results
    they are, in the heading."""
    result_dir = Path(result_path).parent
    parts = [f"<h1>DCASE {year.year:d} Task 2 {html.escape(system)}: "
             f"{'development' if dev else 'evaluation'} results</h1>",
             f"<h2>{html.escape(Path(result_path).name)}</h2>",
             _table(results.table(blocks, year), year),
             *_left_out(left_out), *_comparison(blocks, year, dev, score)]
    for block in blocks:
        parts.append(f"<h2>{html.escape(block.machine)}</h2>")
        models = block.models or (block.machine,)
        for model in models:
            if models != (block.machine,):      # a model per section, or of some sections
                parts.append(f"<h3>{html.escape(model)}</h3>")
            for image, caption in ((filenames.plot_file(result_dir, model, dev), "scores"),
                                   (filenames.history_file(model_dir, model), "training loss")):
                if image.exists():
                    parts.append(f'<p>{caption}:<br><img src="{image_link(image, result_dir)}" '
                                 f'alt="{html.escape(model)} {caption}"></p>')
            facts = filenames.facts_file(result_dir, model, dev)
            if facts.exists():
                parts.append(_facts(json.loads(facts.read_text())))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Results</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    path = filenames.report_file(result_dir, dev)
    with safe_io.atomic_path(path) as tmp:
        # a clip name that is not valid UTF-8 is shown with its odd bytes as \x escapes
        Path(tmp).write_text(page, errors="backslashreplace")
    return path
