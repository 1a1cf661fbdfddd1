"""The results report: a figure per machine type (ROC curves and score histograms per section)
and result/report.html, one self-contained page rebuilt from the files in the result folder."""
import html
import json
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

import common as com
import metrics
import outputs

# The original baseline's published development-set figures (its README): AUC (source),
# AUC (target), pAUC per section, and the means over all 21 sections of 2022.
PUBLISHED = {
    ("fan", "00"): (0.8488, 0.4542, 0.6136), ("fan", "01"): (0.7150, 0.4600, 0.5089),
    ("fan", "02"): (0.8042, 0.6477, 0.6131),
    ("valve", "00"): (0.5432, 0.5116, 0.5231), ("valve", "01"): (0.4890, 0.5448, 0.4968),
    ("valve", "02"): (0.5298, 0.4432, 0.4973),
}
PUBLISHED_MEANS = {"arithmetic": (0.7193, 0.4836, 0.5420), "harmonic": (0.6862, 0.4371, 0.5385)}


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
        roc = row[0]
        roc.axvspan(0, max_fpr, color="0.9", label=f"pAUC range (FPR <= {max_fpr:g})")
        for domain, colour in (("source", "tab:blue"), ("target", "tab:orange")):
            keep = (domains == domain) | (labels == 1)
            auc = metrics.domain_auc(labels, scores, domains, domain)
            if auc is not None:
                fpr, tpr, _ = roc_curve(labels[keep], scores[keep])
                roc.plot(fpr, tpr, color=colour, label=f"{domain}: AUC {auc:.4f}")
        roc.plot([0, 1], [0, 1], color="0.6", linestyle=":", label="chance")
        roc.set(title=f"{machine} {section}: ROC", xlabel="false positive rate",
                ylabel="true positive rate", xlim=(-0.01, 1.01), ylim=(-0.01, 1.02))
        roc.legend(**below)
        bins = np.histogram_bin_edges(np.append(scores, threshold), bins=20)
        for axis, domain in zip(row[1:], ("source", "target")):
            # side by side in each bin: no bar hides another
            chosen = [scores[(domains == domain) & (labels == label)] for label in (0, 1)]
            axis.hist(chosen, bins=bins, color=["tab:green", "tab:red"], alpha=0.8,
                      label=[f"{name} ({len(c)} clips)"
                             for name, c in zip(("normal", "anomaly"), chosen)])
            axis.axvline(threshold, color="black", linestyle="--",
                         label=f"threshold {threshold:.4g}")
            axis.set(title=f"{machine} {section} {domain}: anomaly scores", xlabel="score",
                     ylabel="clips")
            axis.set_ylim(0, max(1, axis.get_ylim()[1]))
            _integer_ticks(axis.yaxis)
            if not sum(map(len, chosen)):
                axis.text(0.5, 0.5, f"no {domain} clips", transform=axis.transAxes,
                          ha="center", va="center", color="0.4")
            axis.legend(**below)
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


def _is_decision_metric(name):
    return name.startswith(DECISION_METRICS)


def _table(rows):
    """result.csv as an HTML table, numbers rounded; a precision, recall or F1 cell that shows 0
    says why in its title and in a note under the table, as does an empty one."""
    out, names, zeros, empties = ['<table class="result">'], [], False, False
    for row in rows:
        if not row:
            out.append('<tr class="gap"><td colspan="10"></td></tr>')
            continue
        if len(row) == 1 or row[0] in ("section", "") or row[0] == "official score":
            head = row[:1] + [cell(v) if row[0] == "official score" else v for v in row[1:]]
            if row[0] in ("section", ""):
                names = row
            out.append("<tr class=\"head\">" + "".join(f"<th>{html.escape(v)}</th>"
                                                       for v in head) + "</tr>")
            continue
        cells = [f"<th>{html.escape(row[0])}</th>"]
        kind = "mean" if "mean" in row[0] else "section"
        for name, value in zip(names[1:] + [""] * len(row), row[1:]):
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
    return "\n".join(out + ([ZERO_NOTE] if zeros else []) + ([EMPTY_NOTE] if empties else []))


def _published(blocks):
    """Our AUC (source), AUC (target), pAUC per section beside the original's published ones."""
    out = ['<table class="result"><tr class="head"><th>machine</th><th>section</th>'
           '<th>AUC (source)</th><th>published</th><th>AUC (target)</th><th>published</th>'
           '<th>pAUC</th><th>published</th></tr>']
    for machine, sections in blocks:
        for number, values in sections:
            known = PUBLISHED.get((machine, number))
            cells = [f"<th>{html.escape(machine)}</th><th>{number}</th>"]
            for i in range(3):
                ours = "" if values[i] is None else f"{values[i]:.4f}"
                theirs = f"{known[i]:.4f}" if known else '<span class="unknown">unknown</span>'
                cells.append(f"<td>{ours}</td><td>{theirs}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
    for kind, values in PUBLISHED_MEANS.items():
        out.append(f'<tr><th colspan="2">{kind} mean, all 21 sections of 2022 (published)</th>'
                   + "".join(f"<td></td><td>{v:.4f}</td>" for v in values) + "</tr>")
    return "\n".join(out + ["</table>"])


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

PUBLISHED_YEAR = 2022


def image_link(image, result_dir):
    """The src of an image in report.html: its path relative to the result folder, URL-quoted
    (a machine type named with #, ?, % or a space would break it otherwise), HTML-escaped."""
    return html.escape(quote(Path(os.path.relpath(image, result_dir)).as_posix()))


def _comparison(blocks, year):
    """Our figures beside the published ones of the original baseline: those are of the 2022
    development set, so they compare with a run on the 2022 data only."""
    if year == PUBLISHED_YEAR:
        return ["<h2>Against the published 2022 baseline</h2>",
                "<p>The original's figures on the 2022 development set, where it published them;"
                " runs differ by a few points, as the original sets no seed.</p>",
                _published(blocks)]
    return ["<h2>Against the published baseline</h2>",
            f"<p>No published figures of this baseline are known for the {year:d} data: the "
            f"original published its figures on the {PUBLISHED_YEAR} development set only, and "
            f"machine types of the same name in other years are other data.</p>"]


def _left_out(left_out):
    """The result blocks found in the result folder but not taken into result.csv."""
    if not left_out:
        return []
    items = "".join(f"<li>{html.escape(Path(path).name)}: {html.escape(why)}</li>"
                    for path, why in left_out)
    return [f'<p class="left-out">Left out of the table above, as they are of another run '
            f"(other data, models or settings):</p><ul>{items}</ul>"]


def write_report(result_path, model_dir, blocks, dev, year=PUBLISHED_YEAR, left_out=()):
    """result/report.html from result.csv, the plots, the models' loss curves and each machine
    type's facts in the result folder; only relative links to files that exist.

    year: the data set's year; the published figures (of 2022) are shown for 2022 only.
    left_out: [(block file, why)] of the blocks in the folder that result.csv does not take."""
    result_dir = Path(result_path).parent
    rows = outputs.read_csv(result_path)
    parts = [f"<h1>DCASE 2022 Task 2 autoencoder baseline: {'development' if dev else 'evaluation'}"
             f" results</h1>", f"<h2>{html.escape(Path(result_path).name)}</h2>", _table(rows),
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
