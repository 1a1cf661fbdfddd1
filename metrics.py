"""Metrics of the challenge and the result table: pure functions of labels, scores and
decisions, checked against worked examples in tests/test_metrics.py."""
import sys

import numpy as np

EPS = sys.float_info.epsilon

METRIC_NAMES = ["AUC (source)", "AUC (target)", "pAUC",
                "precision (source)", "precision (target)",
                "recall (source)", "recall (target)",
                "F1 score (source)", "F1 score (target)"]


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
    if len(set(y_true[keep])) < 2:
        return None
    from sklearn.metrics import roc_auc_score   # here: a second of start-up otherwise
    return roc_auc_score(y_true[keep], y_score[keep])


def partial_auc(y_true, y_score, max_fpr):
    """sklearn's standardized partial AUC up to max_fpr (McClish); None without both classes."""
    y_true, y_score = _check_scores(y_true, y_score)
    if not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr}")
    if len(set(y_true)) < 2:
        return None
    from sklearn.metrics import roc_auc_score
    return roc_auc_score(y_true, y_score, max_fpr=max_fpr)


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


def official_score(rows):
    """The challenge's ranking figure: harmonic mean of all AUC (source), AUC (target) and pAUC."""
    values = [v for row in rows for v in row[:3] if v is not None]
    if not values:
        return None
    return _harmonic_mean(values)


def machine_rows(machine, sections):
    """A machine type's block of result.csv from [(section number, nine values), ...]."""
    arithmetic, harmonic = column_means([v for _, v in sections])
    return ([[machine], ["section"] + METRIC_NAMES] + [[number] + v for number, v in sections]
            + [["arithmetic mean"] + arithmetic, ["harmonic mean"] + harmonic])


def parse_machine_rows(rows):
    """(machine, [(section number, nine values), ...]) back from machine_rows' cells as CSV
    gives them: text, empty for None."""
    sections = [(row[0], [float(v) if v != "" else None for v in row[1:]])
                for row in rows[2:] if row[0] not in ("arithmetic mean", "harmonic mean")]
    return rows[0][0], sections


def result_rows(blocks):
    """Rows of result.csv from [(machine, [(section number, nine values), ...]), ...]."""
    rows, everything = [], []
    for machine, sections in blocks:
        everything += [v for _, v in sections]
        rows += machine_rows(machine, sections) + [[]]
    arithmetic, harmonic = column_means(everything)
    rows += [[""] + METRIC_NAMES,
             ["arithmetic mean over all machine types, sections, and domains"] + arithmetic,
             ["harmonic mean over all machine types, sections, and domains"] + harmonic,
             [],
             ["official score", official_score(everything)]]
    return rows
