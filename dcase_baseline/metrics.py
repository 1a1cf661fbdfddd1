"""Metrics of the challenge: pure functions of labels, scores and decisions, checked against
worked examples in tests/test_metrics.py. A unit's metric columns (years.Year.metric_columns) are
Metric records, each of a kind in the KINDS registry."""
import sys
from typing import Callable, NamedTuple

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


class Kind(NamedTuple):
    """A kind of metric a result.csv column holds (KINDS)."""
    compute: Callable       # (y_true, y_score, decisions, domains, domain or None, max_fpr) ->
                            # the value over the unit's clips (domain None) or a domain's; None
                            # where undefined
    of_decisions: bool      # of the decisions (precision, ...), not of the scores' ranking
    empty_when: str         # why a value of this kind can be undefined, in words


class Metric(NamedTuple):
    """A metric column of result.csv: a kind (KINDS) over a unit's clips or a domain's."""
    kind: str
    domain: object = None   # None: all the unit's clips; "source" or "target"

    @property
    def name(self):
        """Its column name: "pAUC", "AUC (source)", "F1 score (target)"."""
        return self.kind if self.domain is None else f"{self.kind} ({self.domain})"


def _decision_metric(index):
    def compute(y_true, y_score, decisions, domains, domain, max_fpr):
        if domain is None:
            return precision_recall_f1(y_true, decisions)[index]
        return domain_precision_recall_f1(y_true, decisions, domains, domain)[index]
    return compute


RANKING_EMPTY = "needs normal and anomalous clips of that set"
DECISION_EMPTY = "no test clips of that domain"

# The kinds of metric a year's record may name (years.Year.metric_columns checks its columns
# against this registry): AUC over all the unit's clips, or over a domain's normal clips and ALL
# the anomalous ones; pAUC over all the clips or (from 2023 on) over a domain's clips only;
# precision, recall and F1 over all the clips or a domain's.
KINDS = {
    "AUC": Kind(lambda y, s, d, domains, domain, max_fpr: (
        auc(y, s) if domain is None else domain_auc(y, s, domains, domain)), False,
        RANKING_EMPTY),
    "pAUC": Kind(lambda y, s, d, domains, domain, max_fpr: (
        partial_auc(y, s, max_fpr) if domain is None
        else domain_partial_auc(y, s, domains, domain, max_fpr)), False, RANKING_EMPTY),
    "precision": Kind(_decision_metric(0), True, DECISION_EMPTY),
    "recall": Kind(_decision_metric(1), True, DECISION_EMPTY),
    "F1 score": Kind(_decision_metric(2), True, DECISION_EMPTY),
}


def unit_metrics(columns, y_true, y_score, decisions, domains, max_fpr):
    """The values of the metric columns (Metrics) over a unit's clips, in that order; None
    where undefined: an AUC without normal or anomalous clips of its set, precision, recall and
    F1 of a domain without clips."""
    unknown = [column for column in columns if column.kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown metric kinds {[c.kind for c in unknown]}; known: "
                         f"{list(KINDS)}")
    return [KINDS[column.kind].compute(y_true, y_score, decisions, domains, column.domain,
                                       max_fpr) for column in columns]


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
