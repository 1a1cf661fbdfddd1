"""The results report: a figure per machine type (ROC curves and score histograms per section)
and result/report.html, one self-contained page rebuilt from the files in the result folder."""
import html
import json
import os
from pathlib import Path

import numpy as np

import common as com
import metrics

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


def save_machine_plot(path, machine, sections, threshold, max_fpr):
    """Per section: ROC curves of source and target (AUC in the legend, the pAUC range shaded)
    and histograms of the normal and anomalous clips' scores per domain with the threshold.

    sections: [(section, scores, labels, domains)] of the scored clips.
    """
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve

    figure = Figure(figsize=(13, 3.4 * len(sections)), layout="constrained")
    axes = figure.subplots(len(sections), 3, squeeze=False)
    for row, (section, scores, labels, domains) in zip(axes, sections):
        roc = row[0]
        roc.axvspan(0, max_fpr, color="0.9", label=f"pAUC range (FPR <= {max_fpr:g})")
        for domain, colour in (("source", "tab:blue"), ("target", "tab:orange")):
            keep = (domains == domain) | (labels == 1)
            auc = metrics.domain_auc(labels, scores, domains, domain)
            if auc is not None:
                fpr, tpr, _ = roc_curve(labels[keep], scores[keep])
                roc.plot(fpr, tpr, color=colour, label=f"{domain}: AUC {auc:.4f}")
        roc.plot([0, 1], [0, 1], color="0.6", linestyle=":")
        roc.set(title=f"{machine} {section}: ROC", xlabel="false positive rate",
                ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
        roc.legend(loc="lower right", fontsize="small")
        bins = np.histogram_bin_edges(np.append(scores, threshold), bins=30)
        for axis, domain in zip(row[1:], ("source", "target")):
            for label, name, colour in ((0, "normal", "tab:green"), (1, "anomaly", "tab:red")):
                chosen = scores[(domains == domain) & (labels == label)]
                axis.hist(chosen, bins=bins, alpha=0.6, color=colour,
                          label=f"{name} ({len(chosen)})")
            axis.axvline(threshold, color="black", linestyle="--",
                         label=f"threshold {threshold:.4g}")
            axis.set(title=f"{section} {domain}: anomaly scores", xlabel="score",
                     ylabel="clips")
            axis.legend(fontsize="small")
    with com.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=80)


def cell(value):
    """A result.csv cell as the report shows it: a number rounded to 4 decimals, or empty."""
    return "" if value == "" else f"{float(value):.4f}"


def _table(rows):
    """result.csv as an HTML table, numbers rounded."""
    out = ['<table class="result">']
    for row in rows:
        if not row:
            out.append('<tr class="gap"><td colspan="10"></td></tr>')
            continue
        if len(row) == 1 or row[0] in ("section", "") or row[0] == "official score":
            head = row[:1] + [cell(v) if row[0] == "official score" else v for v in row[1:]]
            out.append("<tr class=\"head\">" + "".join(f"<th>{html.escape(v)}</th>"
                                                       for v in head) + "</tr>")
            continue
        cells = [f"<th>{html.escape(row[0])}</th>"]
        cells += ['<td class="empty" title="undefined: see the notes"></td>' if v == ""
                  else f"<td>{cell(v)}</td>" for v in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out + ["</table>"])


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
tr.head th{background:#f3f3f3}tr.gap td{border:none;height:.8em}.unknown{color:#999}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}"""


def write_report(result_path, model_dir, blocks, dev):
    """result/report.html from result.csv, the plots, the models' loss curves and each machine
    type's facts in the result folder; only relative links to files that exist."""
    result_dir = Path(result_path).parent
    rows = com.read_csv(result_path)
    parts = [f"<h1>DCASE 2022 Task 2 autoencoder baseline: {'development' if dev else 'evaluation'}"
             f" results</h1>", f"<h2>{html.escape(Path(result_path).name)}</h2>", _table(rows),
             "<h2>Against the published 2022 baseline</h2>",
             "<p>The original's figures on the 2022 development set, where it published them; "
             "runs differ by a few points, as the original sets no seed.</p>",
             _published(blocks)]
    for machine, _ in blocks:
        parts.append(f"<h2>{html.escape(machine)}</h2>")
        for image, caption in ((plot_file(result_dir, machine, dev), "scores"),
                               (Path(model_dir) / f"history_{machine}.png", "training loss")):
            if image.exists():
                link = Path(os.path.relpath(image, result_dir)).as_posix()
                parts.append(f'<p>{caption}:<br><img src="{html.escape(link)}" '
                             f'alt="{html.escape(machine)} {caption}"></p>')
        facts = facts_file(result_dir, machine, dev)
        if facts.exists():
            parts.append(_facts(json.loads(facts.read_text())))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Results</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    path = result_dir / "report.html"
    with com.atomic_path(path) as tmp:
        Path(tmp).write_text(page)
    return path
