"""Metrics of the challenge and the result table: pure functions of labels, scores and
decisions, checked against worked examples in tests/test_metrics.py."""
import sys

import numpy as np

EPS = sys.float_info.epsilon

METRIC_NAMES = ["AUC (source)", "AUC (target)", "pAUC",
                "precision (source)", "precision (target)",
                "recall (source)", "recall (target)",
                "F1 score (source)", "F1 score (target)"]


def metric_names(year=2022):
    """The metric columns of result.csv in a DCASE year's layout."""
    if year == 2020:
        return ["AUC", "pAUC"]
    if year == 2021:
        return ["AUC", "pAUC", "precision", "recall", "F1 score"]
    if year == 2022:
        return METRIC_NAMES
    # from 2023 on, the successor baseline's pAUC of each domain follows the pAUC
    return METRIC_NAMES[:3] + ["pAUC (source)", "pAUC (target)"] + METRIC_NAMES[3:]


def key_names(year=2022):
    """The columns that name a row of result.csv: its unit."""
    return {2020: ["id"], 2021: ["section", "domain"]}.get(year, ["section"])


def score_columns(year=2022):
    """How many leading metric columns are AUCs and pAUCs: those of the official score."""
    return 2 if year in (2020, 2021) else 3


def _check_scores(y_true, y_score):
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_score must be 1-D of one length, got "
                         f"{y_true.shape} and {y_score.shape}")
    if not np.isin(y_true, [0, 1]).all():
        raise ValueError("y_true must hold 0 (normal) and 1 (anomaly) only")
    return y_true, y_score


def domain_auc(y_true, y_score, domains, domain):
    """AUC over the normal clips of one domain plus ALL anomalous clips (of both domains).

    None when that set lacks normal or anomalous clips.
    """
    y_true, y_score = _check_scores(y_true, y_score)
    keep = (np.asarray(domains) == domain) | (y_true == 1)
    return auc(y_true[keep], y_score[keep])


def auc(y_true, y_score, max_fpr=None):
    """sklearn's AUC over all the clips, or with max_fpr its standardized partial AUC up to
    max_fpr (McClish); None without both classes."""
    y_true, y_score = _check_scores(y_true, y_score)
    if len(set(y_true)) < 2:
        return None
    from sklearn.metrics import roc_auc_score   # here: a second of start-up otherwise
    return roc_auc_score(y_true, y_score, max_fpr=max_fpr)


def partial_auc(y_true, y_score, max_fpr):
    """auc up to max_fpr, which must be in (0, 1]."""
    if not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr}")
    return auc(y_true, y_score, max_fpr)


def precision_recall_f1(y_true, y_pred):
    """Precision, recall and F1 of binary decisions, each denominator clipped at eps."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1))
    fp = np.sum((y_true == 0) & (y_pred == 1))
    fn = np.sum((y_true == 1) & (y_pred == 0))
    precision = tp / np.maximum(tp + fp, EPS)
    recall = tp / np.maximum(tp + fn, EPS)
    f1 = 2.0 * precision * recall / np.maximum(precision + recall, EPS)
    return precision, recall, f1


def section_metrics(y_true, y_score, decisions, domains, max_fpr):
    """The nine values of a result.csv row, in METRIC_NAMES order; None where undefined:
    an AUC without normal or anomalous clips of its set, precision, recall and F1 of a domain
    without clips."""
    domains = np.asarray(domains)
    decisions = np.asarray(decisions)
    auc = {d: domain_auc(y_true, y_score, domains, d) for d in ("source", "target")}
    prf = {d: (precision_recall_f1(np.asarray(y_true)[domains == d], decisions[domains == d])
               if np.any(domains == d) else (None, None, None))
           for d in ("source", "target")}
    return [auc["source"], auc["target"], partial_auc(y_true, y_score, max_fpr),
            prf["source"][0], prf["target"][0], prf["source"][1], prf["target"][1],
            prf["source"][2], prf["target"][2]]


def _harmonic_mean(values):
    """scipy's harmonic mean of the values clipped at eps, as the challenge computes it."""
    from scipy.stats import hmean
    return hmean(np.maximum(values, EPS))


def column_means(rows):
    """Arithmetic and harmonic (values clipped at eps) mean of each column, skipping None."""
    arithmetic, harmonic = [], []
    for column in zip(*rows):
        values = np.array([v for v in column if v is not None], dtype=float)
        arithmetic.append(np.mean(values) if len(values) else None)
        harmonic.append(_harmonic_mean(values) if len(values) else None)
    return arithmetic, harmonic


def domain_partial_auc(y_true, y_score, domains, domain, max_fpr):
    """pAUC over one domain's clips only (its normals against its anomalies), as the successor
    baseline reports it from 2023 on; None without both classes in that domain."""
    keep = np.asarray(domains) == domain
    return partial_auc(np.asarray(y_true)[keep], np.asarray(y_score, dtype=float)[keep], max_fpr)


def unit_metrics(y_true, y_score, decisions, domains, max_fpr, year=2022):
    """The metric values of a result.csv row of a DCASE year, in metric_names(year) order.

    2020: AUC and pAUC over all clips of the machine ID. 2021: AUC, pAUC, precision, recall
    and F1 over one section's clips of one domain. 2022: section_metrics. 2023 on: 2022's, with
    each domain's own pAUC after the pAUC.
    """
    if year == 2020:
        return [auc(y_true, y_score), partial_auc(y_true, y_score, max_fpr)]
    if year == 2021:
        return [auc(y_true, y_score), partial_auc(y_true, y_score, max_fpr),
                *precision_recall_f1(y_true, decisions)]
    values = section_metrics(y_true, y_score, decisions, domains, max_fpr)
    if year == 2022:
        return values
    return values[:3] + [domain_partial_auc(y_true, y_score, domains, d, max_fpr)
                         for d in ("source", "target")] + values[3:]


def official_score(rows, year=2022):
    """The challenge's ranking figure: the harmonic mean of every AUC and pAUC value of the
    result rows (2022 on: AUC (source), AUC (target), pAUC; 2021: AUC, pAUC). None for 2020,
    which has no single official score."""
    if year == 2020:
        return None
    values = [v for row in rows for v in row[:score_columns(year)] if v is not None]
    if not values:
        return None
    return _harmonic_mean(values)


def machine_rows(machine, units, year=2022):
    """A machine type's block of result.csv in a year's layout, from [(key cells, values)]."""
    arithmetic, harmonic = column_means([v for _, v in units])
    pad = [""] * (len(key_names(year)) - 1)
    means = ([["Average"] + arithmetic] if year == 2020
             else [["arithmetic mean"] + pad + arithmetic, ["harmonic mean"] + pad + harmonic])
    return ([[machine], key_names(year) + metric_names(year)]
            + [list(keys) + values for keys, values in units] + means)


MEAN_ROWS = ("arithmetic mean", "harmonic mean", "Average")


def parse_machine_rows(rows, year=2022):
    """(machine, [(key cells, values)]) back from machine_rows' cells as CSV gives them: text,
    empty for None."""
    n_keys = len(key_names(year))
    units = [(tuple(row[:n_keys]), [float(v) if v != "" else None for v in row[n_keys:]])
             for row in rows[2:] if row and row[0] not in MEAN_ROWS]
    return rows[0][0], units


def result_rows(blocks, year=2022):
    """Rows of result.csv from [(machine, [(key cells, values)])], in a year's layout: the
    machine types' blocks, then (not in 2020) the means over everything and the official
    score."""
    rows, everything = [], []
    for machine, units in blocks:
        everything += [v for _, v in units]
        rows += machine_rows(machine, units, year) + [[]]
    if year == 2020:
        return rows
    arithmetic, harmonic = column_means(everything)
    pad = [""] * (len(key_names(year)) - 1)
    rows += [[""] * len(key_names(year)) + metric_names(year),
             ["arithmetic mean over all machine types, sections, and domains"] + pad + arithmetic,
             ["harmonic mean over all machine types, sections, and domains"] + pad + harmonic,
             [],
             ["official score", official_score(everything, year)]]
    return rows
