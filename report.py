"""The results report: a figure per machine type (ROC curves and score histograms per section)
and result/report.html, one self-contained page rebuilt from the files in the result folder."""
import html
import json
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

import metrics
import outputs

# Each year's autoencoder baseline's published development-set figures, copied from its README,
# as plain data: PUBLISHED[year][(machine type, key cells of the result.csv row...)] holds the
# values of the columns compared (compared_columns(year)) in that order. Key cells as this
# project writes them: a 2020 machine ID or a section "00" (two digits), a 2021 domain
# "source" or "target".
#
# 2020: y-kawagu/dcase2020_task2_baseline, README.md at ebfcc2ae886511d074a4e746890c3ef877800de0
#   ("7. Check results", result.csv): AUC and pAUC per machine type and ID (the README writes
#   the ID as 1, 2, ...), all six machine types, and each machine type's "Average".
_2020 = {
    "ToyCar": {"01": (0.828474, 0.678514), "02": (0.866307, 0.762236),
               "03": (0.639396, 0.546659), "04": (0.869477, 0.701461)},
    "ToyConveyor": {"01": (0.793497, 0.650428), "02": (0.64243, 0.564437),
                    "03": (0.744579, 0.60488)},
    "fan": {"00": (0.539607, 0.492435), "02": (0.721866, 0.554171),
            "04": (0.622098, 0.527072), "06": (0.72277, 0.529961)},
    "pump": {"00": (0.670769, 0.57269), "02": (0.609369, 0.58037),
             "04": (0.8886, 0.676842), "06": (0.734902, 0.570175)},
    "slider": {"00": (0.963315, 0.818451), "02": (0.78809, 0.628819),
               "04": (0.946011, 0.739503), "06": (0.702247, 0.490242)},
    "valve": {"00": (0.687311, 0.51349), "02": (0.674083, 0.512281),
              "04": (0.744, 0.515351), "06": (0.552833, 0.482895)},
}
_2020_AVERAGE = {"ToyCar": (0.800914, 0.672218), "ToyConveyor": (0.726835, 0.606582),
                 "fan": (0.651585, 0.52591), "pump": (0.72591, 0.600019),
                 "slider": (0.849916, 0.669254), "valve": (0.664557, 0.506004)}
# 2021: y-kawagu/dcase2021_task2_baseline_ae, README.md at
#   7d7f5cce4c3b635a12dcb6fcf401eaca983afd27 ("7. Check results", result.csv): AUC and pAUC
#   (precision, recall and F1 are published too, not compared here) per section and domain of
#   fan and valve only (the README elides the other five machine types with "..."), their
#   means, and the means over all machine types, sections and domains.
_2021 = {
    "fan": {("00", "source"): (0.6738, 0.573157895), ("01", "source"): (0.6786, 0.505263158),
            ("02", "source"): (0.6542, 0.532631579), ("00", "target"): (0.6955, 0.548421053),
            ("01", "target"): (0.4953, 0.483157895), ("02", "target"): (0.6441, 0.559473684)},
    "valve": {("00", "source"): (0.5026, 0.506842105), ("01", "source"): (0.5404, 0.494210526),
              ("02", "source"): (0.596, 0.516315789), ("00", "target"): (0.4716, 0.485263158),
              ("01", "target"): (0.5857, 0.548421053), ("02", "target"): (0.5489, 0.489473684)},
}
# 2022: Kota-Dohi/dcase2022_task2_baseline_ae, README.md (its result.csv example, seen at
#   098cb01f4b2654a5255dab3c4a163bd11549509b): AUC (source), AUC (target), pAUC per section of
#   fan and valve, and the means over all 21 sections of 2022.
_2022 = {
    "fan": {"00": (0.8488, 0.4542, 0.6136), "01": (0.7150, 0.4600, 0.5089),
            "02": (0.8042, 0.6477, 0.6131)},
    "valve": {"00": (0.5432, 0.5116, 0.5231), "01": (0.4890, 0.5448, 0.4968),
              "02": (0.5298, 0.4432, 0.4973)},
}
# 2023-2026: nttcslab/dcase2023_task2_baseline_ae, the one baseline of these years, publishes no
#   figure of a named machine type in its README.md (read at 725b304f91d1 (2023), ce6566afdbae
#   (2024), 07f91500b7b2 (2025) and 36845a1a6a0d (2026)) nor in README_legacy.md (04417eb46f81,
#   9f98db61882f): its result.csv example (section 00, AUC (source) 0.88, ...) names no machine
#   type. Their PUBLISHED entries are empty: every published cell of those years is unknown.


def _keyed(table):
    return {(machine, *(key if isinstance(key, tuple) else (key,))): values
            for machine, units in table.items() for key, values in units.items()}


PUBLISHED = {2020: _keyed(_2020), 2021: _keyed(_2021), 2022: _keyed(_2022),
             2023: {}, 2024: {}, 2025: {}, 2026: {}}
# The published means: [(machine type, or None for all of the year's, "arithmetic" or
# "harmonic", the row's name, values)], from the same README lines as above.
PUBLISHED_MEANS = {
    2020: [(machine, "arithmetic", f"{machine} Average", values)
           for machine, values in _2020_AVERAGE.items()],
    2021: [("fan", "arithmetic", "fan arithmetic mean", (0.64025, 0.533684211)),
           ("fan", "harmonic", "fan harmonic mean", (0.631866714, 0.531826049)),
           ("valve", "arithmetic", "valve arithmetic mean", (0.540866667, 0.506754386)),
           ("valve", "harmonic", "valve harmonic mean", (0.537267925, 0.505885378)),
           (None, "arithmetic", "arithmetic mean over all machine types, sections and domains "
            "of 2021", (0.634334516, 0.537946639)),
           (None, "harmonic", "harmonic mean over all machine types, sections and domains of "
            "2021", (0.620051253, 0.534340265))],
    2022: [(None, "arithmetic", "arithmetic mean, all 21 sections of 2022",
            (0.7193, 0.4836, 0.5420)),
           (None, "harmonic", "harmonic mean, all 21 sections of 2022", (0.6862, 0.4371, 0.5385))],
}
# The sentence under the heading: whose figures these are.
PUBLISHED_SOURCE = {
    2020: "The figures the 2020 autoencoder baseline's README "
          "(y-kawagu/dcase2020_task2_baseline) publishes for the 2020 development set: AUC and "
          "pAUC per machine ID of all six machine types; \u201cunknown\u201d where it published "
          "none.",
    2021: "The figures the 2021 autoencoder baseline's README "
          "(y-kawagu/dcase2021_task2_baseline_ae) publishes for the 2021 development set: AUC "
          "and pAUC per section and domain of fan and valve (it leaves out the other machine "
          "types), and the means over all of them; \u201cunknown\u201d elsewhere.",
    2022: "The original's figures on the 2022 development set, where it published them; runs "
          "differ by a few points, as the original sets no seed.",
}
SUCCESSOR_SOURCE = ("The {year} autoencoder baseline's README "
                    "(nttcslab/dcase2023_task2_baseline_ae) publishes no figure of a named "
                    "machine type of the {year} development set, so every published figure here "
                    "is unknown.")


def compared_columns(year):
    """The result.csv columns set beside the published ones: AUC and pAUC (2020, 2021), AUC
    (source), AUC (target) and pAUC (2022 on), the first ones of a row's values."""
    return metrics.metric_names(year)[:metrics.score_columns(year)]


def unit_key(keys):
    """A row's key cells as PUBLISHED keys them: a tuple (a plain string is one cell), numbers
    written with two digits (the 2020 and 2021 READMEs write the ID or section as 0, 1, ...)."""
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    return tuple(f"{int(k):02d}" if str(k).isdigit() else str(k) for k in keys)


def plot_file(result_dir, machine, dev):
    return Path(result_dir) / "plots" / f"{machine}{'' if dev else '_eval'}.png"


def facts_file(result_dir, machine, dev):
    return plot_file(result_dir, machine, dev).with_suffix(".json")


def _integer_ticks(axis):
    """Whole numbers only on a count axis (or an epoch axis)."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def save_machine_plot(path, machine, sections, threshold, max_fpr):
    """machine_figure as a PNG."""
    figure = machine_figure(machine, sections, threshold, max_fpr)
    with outputs.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)


def machine_figure(machine, sections, threshold, max_fpr):
    """Per section: ROC curves of source and target (AUC in the legend, the pAUC range shaded)
    and histograms of the normal and anomalous clips' scores per domain with the threshold.
    Legends sit below their axes, where they cover no data; the clip counts have whole ticks.

    sections: [(section, scores, labels, domains)] of the scored clips.
    """
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve

    figure = Figure(figsize=(13, 4.3 * len(sections)), layout="constrained")
    axes = figure.subplots(len(sections), 3, squeeze=False)
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.17), "ncols": 2,
             "frameon": False}
    for row, (section, scores, labels, domains) in zip(axes, sections):
        # DCASE 2020 has no domains: one curve and one histogram of all the clips
        groups = (("source", "target") if any(d in ("source", "target") for d in domains)
                  else ("all clips",))
        roc = row[0]
        roc.axvspan(0, max_fpr, color="0.9", label=f"pAUC range (FPR <= {max_fpr:g})")
        for group, colour in zip(groups, ("tab:blue", "tab:orange")):
            mine = domains == group if len(groups) == 2 else np.ones(len(scores), bool)
            keep = mine | (labels == 1)
            auc = (metrics.domain_auc(labels, scores, domains, group) if len(groups) == 2
                   else metrics.auc(labels, scores))
            if auc is not None:
                fpr, tpr, _ = roc_curve(labels[keep], scores[keep])
                roc.plot(fpr, tpr, color=colour, label=f"{group}: AUC {auc:.4f}")
        roc.plot([0, 1], [0, 1], color="0.6", linestyle=":", label="chance")
        roc.set(title=f"{machine} {section}: ROC", xlabel="false positive rate",
                ylabel="true positive rate", xlim=(-0.01, 1.01), ylim=(-0.01, 1.02))
        roc.legend(**below)
        bins = np.histogram_bin_edges(np.append(scores, threshold), bins=20)
        for axis, group in zip(row[1:], groups):
            mine = domains == group if len(groups) == 2 else np.ones(len(scores), bool)
            # side by side in each bin: no bar hides another
            chosen = [scores[mine & (labels == label)] for label in (0, 1)]
            axis.hist(chosen, bins=bins, color=["tab:green", "tab:red"], alpha=0.8,
                      label=[f"{name} ({len(c)} clips)"
                             for name, c in zip(("normal", "anomaly"), chosen)])
            axis.axvline(threshold, color="black", linestyle="--",
                         label=f"threshold {threshold:.4g}")
            axis.set(title=f"{machine} {section} {group}: anomaly scores", xlabel="score",
                     ylabel="clips")
            axis.set_ylim(0, max(1, axis.get_ylim()[1]))
            _integer_ticks(axis.yaxis)
            if not sum(map(len, chosen)):
                axis.text(0.5, 0.5, f"no {group} clips", transform=axis.transAxes,
                          ha="center", va="center", color="0.4")
            axis.legend(**below)
        if len(groups) == 1:
            row[2].set_visible(False)
    return figure


def save_loss_plot(path, machine, history):
    """loss_figure as a PNG (called by 00_train.py)."""
    figure = loss_figure(machine, history)
    with outputs.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def loss_figure(machine, history):
    """The training (and validation) loss per epoch, epochs counted 1..N as the log counts
    them.

    history: {"loss": [...], "val_loss": [...] (optional), "seconds": [...]}, one per epoch.
    """
    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 5), layout="constrained")
    axis = figure.subplots()
    epochs = np.arange(1, len(history["loss"]) + 1)
    marker = "o" if len(epochs) <= 30 else None
    axis.plot(epochs, history["loss"], marker=marker, markersize=3, label="training")
    validation = [np.nan if v is None else v for v in history.get("val_loss") or []]
    if validation:
        axis.plot(np.arange(1, len(validation) + 1), validation, marker=marker, markersize=3,
                  label="validation")
    axis.set(title=f"{machine}: training loss", xlabel="epoch", ylabel="loss")
    axis.set_xlim(0.5, max(len(epochs), 1) + 0.5)
    _integer_ticks(axis.xaxis)
    axis.grid(alpha=0.3)
    axis.legend(loc="best")
    return figure


def cell(value):
    """A result.csv cell as the report shows it: a number rounded to 4 decimals, or empty."""
    return "" if value == "" else f"{float(value):.4f}"


DECISION_METRICS = ("precision", "recall", "F1 score")
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
EMPTY_NOTE = ("<p class=\"note\"><span class=\"empty-key\"></span> An empty cell is undefined "
              "for that section: an AUC needs normal and anomalous clips of its set, precision, "
              "recall and F1 need test clips of that domain (the machine type's notes below "
              "say which).</p>")
# the years whose rows are not sections of both domains
EMPTY_NOTES = {
    2020: ("<p class=\"note\"><span class=\"empty-key\"></span> An empty cell is undefined "
           "for that ID: an AUC and a pAUC need normal and anomalous clips of it (the machine "
           "type's notes below say which).</p>"),
    2021: ("<p class=\"note\"><span class=\"empty-key\"></span> An empty cell is undefined "
           "for that section and domain: an AUC and a pAUC need normal and anomalous clips of "
           "it (the machine type's notes below say which).</p>"),
}
# The first cell of a result.csv header row; its leading cells of these names are the key
# columns: those that name a row (a section, a 2020 ID, a 2021 section and domain).
HEADS = ("section", "id", "")
KEY_HEADS = HEADS + ("domain",)


def _is_decision_metric(name):
    return name.startswith(DECISION_METRICS)


def _key_count(head):
    """How many leading cells of the rows under a header row are key cells."""
    count = 0
    for name in head:
        if name not in KEY_HEADS:
            break
        count += 1
    return max(count, 1)


def _table(rows, year=None):
    """result.csv as an HTML table, numbers rounded; the key cells of a row (its section, ID or
    section and domain, or a mean's name) as row headers; a precision, recall or F1 cell that
    shows 0 says why in its title and in a note under the table, as does an empty one."""
    out, names, keys, zeros, empties = ['<table class="result">'], [], 1, False, False
    width = max((len(row) for row in rows), default=10)
    for row in rows:
        if not row:
            out.append(f'<tr class="gap"><td colspan="{width}"></td></tr>')
            continue
        if len(row) == 1 or row[0] in HEADS or row[0] == "official score":
            head = row[:1] + [cell(v) if row[0] == "official score" else v for v in row[1:]]
            if len(row) > 1 and row[0] in HEADS:
                names, keys = row, _key_count(row)
            out.append("<tr class=\"head\">" + "".join(f"<th>{html.escape(v)}</th>"
                                                       for v in head) + "</tr>")
            continue
        cells = [f"<th>{html.escape(v)}</th>" for v in row[:keys]]
        kind = "mean" if row[0] in metrics.MEAN_ROWS or "mean" in row[0] else "section"
        for name, value in zip(names[keys:] + [""] * len(row), row[keys:]):
            if value == "":
                empties = True
                cells.append('<td class="empty" title="undefined: see the notes"></td>')
            elif _is_decision_metric(name) and float(cell(value)) == 0:
                zeros = True
                cells.append(f'<td class="zero" title="{html.escape(ZERO_TITLE[kind])}">'
                             f"{cell(value)}</td>")
            else:
                cells.append(f"<td>{cell(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out + ([ZERO_NOTE] if zeros else [])
                     + ([EMPTY_NOTES.get(year, EMPTY_NOTE)] if empties else []))


def _published_cell(value):
    """A published figure to 4 decimals, as this run's are shown; the figure as published in
    the title where it has more digits."""
    shown = f"{value:.4f}"
    if len(repr(value).split(".")[-1]) > 4:
        return f'<td title="{value!r}">{shown}</td>'
    return f"<td>{shown}</td>"


def _our_mean(units, known_keys, kind, columns):
    """This run's mean of a machine type's compared values over its units, where they are
    exactly the units whose figures were published (else empty cells)."""
    if not units or {unit_key(keys) for keys, _ in units} != known_keys:
        return [None] * columns
    arithmetic, harmonic = metrics.column_means([values[:columns] for _, values in units])
    return arithmetic if kind == "arithmetic" else harmonic


UNKNOWN = '<td><span class="unknown">unknown</span></td>'
MEAN_NOTE = ("<p class=\"note\">A machine type's mean: the published one, and beside it this "
             "run's over the same units, where this run has exactly the units of the published "
             "one.</p>")


def _published(blocks, year):
    """Our compared figures per unit beside the year's published ones; "unknown" where that
    year's baseline published none for the machine type and unit."""
    columns, key_names = compared_columns(year), metrics.key_names(year)
    known, means = PUBLISHED.get(year, {}), PUBLISHED_MEANS.get(year, [])
    span = 1 + len(key_names)
    out = ['<table class="result"><tr class="head"><th>machine</th>'
           + "".join(f"<th>{html.escape(name)}</th>" for name in key_names)
           + "".join(f"<th>{html.escape(name)}</th><th>published</th>" for name in columns)
           + "</tr>"]
    machine_means = False
    for machine, units in blocks:
        for keys, values in units:
            keys = (keys,) if isinstance(keys, str) else tuple(keys)
            theirs = known.get((machine, *unit_key(keys)))
            cells = [f"<th>{html.escape(machine)}</th>"
                     + "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)]
            for i in range(len(columns)):
                ours = "" if values[i] is None else f"{values[i]:.4f}"
                cells.append(f"<td>{ours}</td>" + (_published_cell(theirs[i]) if theirs
                                                   else UNKNOWN))
            out.append("<tr>" + "".join(cells) + "</tr>")
        published_keys = {key[1:] for key in known if key[0] == machine}
        for _, kind, label, values in (m for m in means if m[0] == machine):
            machine_means = True
            ours = _our_mean(units, published_keys, kind, len(columns))
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

DEFAULT_YEAR = 2022   # the data of the baseline rebuilt here


def image_link(image, result_dir):
    """The src of an image in report.html: its path relative to the result folder, URL-quoted
    (a machine type named with #, ?, % or a space would break it otherwise), HTML-escaped."""
    return html.escape(quote(Path(os.path.relpath(image, result_dir)).as_posix()))


def _comparison(blocks, year):
    """Our figures beside those the year's autoencoder baseline published for its development
    set: per machine type and unit, "unknown" where it published none."""
    if year in PUBLISHED_SOURCE:
        sentence = PUBLISHED_SOURCE[year]
    elif year in PUBLISHED:
        sentence = SUCCESSOR_SOURCE.format(year=year)
    else:
        return ["<h2>Against the published baseline</h2>",
                f"<p>No published figures of an autoencoder baseline are known for the {year:d} "
                f"data.</p>"]
    return [f"<h2>Against the published {year:d} baseline</h2>",
            f"<p>{html.escape(sentence, quote=False)}</p>", _published(blocks, year)]


def _left_out(left_out):
    """The result blocks found in the result folder but not taken into result.csv."""
    if not left_out:
        return []
    items = "".join(f"<li>{html.escape(Path(path).name)}: {html.escape(why)}</li>"
                    for path, why in left_out)
    return [f'<p class="left-out">Left out of the table above, as they are of another run '
            f"(other data, models or settings):</p><ul>{items}</ul>"]


def write_report(result_path, model_dir, blocks, dev, year=DEFAULT_YEAR, left_out=()):
    """result/report.html from result.csv, the plots, the models' loss curves and each machine
    type's facts in the result folder; only relative links to files that exist.

    year: the data set's year: result.csv's layout, and whose published figures are shown.
    left_out: [(block file, why)] of the blocks in the folder that result.csv does not take."""
    result_dir = Path(result_path).parent
    rows = outputs.read_csv(result_path)
    data = "" if int(year) == DEFAULT_YEAR else f" on the {int(year):d} data"
    parts = [f"<h1>DCASE 2022 Task 2 autoencoder baseline{data}: "
             f"{'development' if dev else 'evaluation'} results</h1>",
             f"<h2>{html.escape(Path(result_path).name)}</h2>", _table(rows, int(year)),
             *_left_out(left_out), *_comparison(blocks, int(year))]
    for machine, _ in blocks:
        parts.append(f"<h2>{html.escape(machine)}</h2>")
        for image, caption in ((plot_file(result_dir, machine, dev), "scores"),
                               (outputs.history_file(model_dir, machine), "training loss")):
            if image.exists():
                parts.append(f'<p>{caption}:<br><img src="{image_link(image, result_dir)}" '
                             f'alt="{html.escape(machine)} {caption}"></p>')
        facts = facts_file(result_dir, machine, dev)
        if facts.exists():
            parts.append(_facts(json.loads(facts.read_text())))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Results</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    path = result_dir / "report.html"
    with outputs.atomic_path(path) as tmp:
        # a clip name that is not valid UTF-8 is shown with its odd bytes as \x escapes
        Path(tmp).write_text(page, errors="backslashreplace")
    return path
