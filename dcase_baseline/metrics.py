"""Metrics of the challenge: pure functions of labels, scores and decisions, checked against
worked examples in tests/test_metrics.py. A unit's metrics are computed by their column names
(years.Year.metric_columns)."""
import sys

import numpy as np

EPS = sys.float_info.epsilon
DOMAINS = ("source", "target")


def _check_scores(y_true, y_score):
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_score must be 1-D of one length, got "
                         f"{y_true.shape} and {y_score.shape}")
    if not np.isin(y_true, [0, 1]).all():
        raise ValueError("y_true must hold 0 (normal) and 1 (anomaly) only")
    return y_true, y_score


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


def domain_auc(y_true, y_score, domains, domain):
    """AUC over the normal clips of one domain plus ALL anomalous clips (of both domains).

    None when that set lacks normal or anomalous clips.
    """
    y_true, y_score = _check_scores(y_true, y_score)
    keep = (np.asarray(domains) == domain) | (y_true == 1)
    return auc(y_true[keep], y_score[keep])


def domain_partial_auc(y_true, y_score, domains, domain, max_fpr):
    """pAUC over one domain's clips only (its normals against its anomalies), as the successor
    baseline reports it from 2023 on; None without both classes in that domain."""
    keep = np.asarray(domains) == domain
    return partial_auc(np.asarray(y_true)[keep], np.asarray(y_score, dtype=float)[keep], max_fpr)


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


def domain_precision_recall_f1(y_true, decisions, domains, domain):
    """precision_recall_f1 over one domain's clips; (None, None, None) without any."""
    mine = np.asarray(domains) == domain
    if not np.any(mine):
        return None, None, None
    return precision_recall_f1(np.asarray(y_true)[mine], np.asarray(decisions)[mine])


DECISION_METRICS = ("precision", "recall", "F1 score")


def _column_values(y_true, y_score, decisions, domains, max_fpr):
    """{column name: a function computing its value}: AUC, pAUC, precision, recall and F1 score
    over all the clips; "AUC (<domain>)" over the domain's normal clips and all anomalous ones;
    "pAUC (<domain>)", "precision (<domain>)", ... over the domain's clips."""
    columns = {"AUC": lambda: auc(y_true, y_score),
               "pAUC": lambda: partial_auc(y_true, y_score, max_fpr)}
    columns.update({name: (lambda i=i: precision_recall_f1(y_true, decisions)[i])
                    for i, name in enumerate(DECISION_METRICS)})
    for d in DOMAINS:
        columns[f"AUC ({d})"] = lambda d=d: domain_auc(y_true, y_score, domains, d)
        columns[f"pAUC ({d})"] = lambda d=d: domain_partial_auc(y_true, y_score, domains, d,
                                                                max_fpr)
        columns.update({f"{name} ({d})": (lambda i=i, d=d: domain_precision_recall_f1(
            y_true, decisions, domains, d)[i]) for i, name in enumerate(DECISION_METRICS)})
    return columns


def unit_metrics(columns, y_true, y_score, decisions, domains, max_fpr):
    """The values of the named metric columns over a unit's clips, in that order; None where
    undefined: an AUC without normal or anomalous clips of its set, precision, recall and F1
    of a domain without clips."""
    values = _column_values(y_true, y_score, decisions, domains, max_fpr)
    unknown = [name for name in columns if name not in values]
    if unknown:
        raise ValueError(f"unknown metric columns {unknown}; known: {list(values)}")
    return [values[name]() for name in columns]


def harmonic_mean(values):
    """scipy's harmonic mean of the values clipped at eps, as the challenge computes it."""
    from scipy.stats import hmean
    return hmean(np.maximum(values, EPS))


def column_means(rows):
    """Arithmetic and harmonic (values clipped at eps) mean of each column, skipping None."""
    arithmetic, harmonic = [], []
    for column in zip(*rows):
        values = np.array([v for v in column if v is not None], dtype=float)
        arithmetic.append(np.mean(values) if len(values) else None)
        harmonic.append(harmonic_mean(values) if len(values) else None)
    return arithmetic, harmonic


def official_score(rows):
    """The challenge's ranking figure: the harmonic mean (clipped at eps) of every value of the
    rows, which hold the AUC and pAUC columns of the result rows; None where all are None."""
    values = [v for row in rows for v in row if v is not None]
    if not values:
        return None
    return harmonic_mean(values)
