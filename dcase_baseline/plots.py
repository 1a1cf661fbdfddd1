"""The figures: a model's ROC curves and score histograms per test unit (01_test.py) and its
training loss curves (00_train.py), each saved as a PNG."""
from typing import NamedTuple

import numpy as np

from dcase_baseline import metrics, safe_io


class ScoredUnit(NamedTuple):
    """A unit's scored clips, as plotted."""
    name: str
    scores: np.ndarray
    labels: np.ndarray
    domains: np.ndarray


def _integer_ticks(axis):
    """Whole numbers only on a count axis (or an epoch axis)."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def save_model_plot(path, machine, units, threshold, max_fpr):
    """model_figure as a PNG."""
    figure = model_figure(machine, units, threshold, max_fpr)
    with safe_io.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)


def model_figure(machine, units, threshold, max_fpr):
    """Of a model's test units (ScoredUnits), per unit: ROC curves of source and target (AUC
    in the legend, the pAUC range shaded) and histograms of the normal and anomalous clips'
    scores per domain with the threshold (None: none drawn). Legends sit below their axes,
    where they cover no data; the clip counts have whole ticks."""
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve

    figure = Figure(figsize=(13, 4.3 * len(units)), layout="constrained")
    axes = figure.subplots(len(units), 3, squeeze=False)
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.17), "ncols": 2,
             "frameon": False}
    for row, (unit, scores, labels, domains) in zip(axes, units):
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
        roc.set(title=f"{machine} {unit}: ROC", xlabel="false positive rate",
                ylabel="true positive rate", xlim=(-0.01, 1.01), ylim=(-0.01, 1.02))
        roc.legend(**below)
        shown = scores if threshold is None else np.append(scores, threshold)
        bins = np.histogram_bin_edges(shown, bins=20)
        for axis, group in zip(row[1:], groups):
            mine = domains == group if len(groups) == 2 else np.ones(len(scores), bool)
            # side by side in each bin: no bar hides another
            chosen = [scores[mine & (labels == label)] for label in (0, 1)]
            axis.hist(chosen, bins=bins, color=["tab:green", "tab:red"], alpha=0.8,
                      label=[f"{name} ({len(c)} clips)"
                             for name, c in zip(("normal", "anomaly"), chosen)])
            if threshold is not None:       # none known of another system's scores
                axis.axvline(threshold, color="black", linestyle="--",
                             label=f"threshold {threshold:.4g}")
            axis.set(title=f"{machine} {unit} {group}: anomaly scores", xlabel="score",
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
    with safe_io.atomic_path(path) as tmp:
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
