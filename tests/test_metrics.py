"""Metrics against hand-worked examples (the expected numbers are worked out in the comments)."""
import numpy as np
import pytest

from dcase_baseline import metrics, years
from dcase_baseline.metrics import Metric

# Section of 6 clips: source normals 0.1, 0.4; target normals 0.35, 0.8;
# one source anomaly 0.5 and one target anomaly 0.3.
Y_TRUE = [0, 0, 0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8, 0.5, 0.3]
DOMAINS = ["source", "source", "target", "target", "source", "target"]


def test_auc_source_uses_all_anomalies():
    # source normals {0.1, 0.4} against anomalies {0.5, 0.3}: 0.5 beats both, 0.3 beats 0.1
    # only -> 3 of 4 pairs ranked right
    assert metrics.domain_auc(Y_TRUE, SCORES, DOMAINS, "source") == pytest.approx(0.75)
    # a plain source-only AUC would see the source anomaly 0.5 alone: 2 of 2 pairs -> 1.0
    source_only = [0, 1, 4]
    assert metrics.domain_auc(np.array(Y_TRUE)[source_only], np.array(SCORES)[source_only],
                              ["source"] * 3, "source") == pytest.approx(1.0)


def test_auc_target():
    # target normals {0.35, 0.8} against {0.5, 0.3}: only 0.5 > 0.35 -> 1 of 4
    assert metrics.domain_auc(Y_TRUE, SCORES, DOMAINS, "target") == pytest.approx(0.25)


def test_auc_ties_count_half():
    # normal 0.5 against anomalies 0.5 (tie: 1/2) and 0.7 (1) -> 1.5 / 2
    assert metrics.domain_auc([0, 1, 1], [0.5, 0.5, 0.7], ["source"] * 3,
                              "source") == pytest.approx(0.75)


def test_partial_auc_is_mcclish_standardized():
    y_true = [0, 0, 0, 0, 1, 1]
    scores = [0.1, 0.2, 0.3, 0.9, 0.5, 0.8]
    # ROC: (0, 0) -> (0.25, 0) at 0.9 -> (0.25, 1) at 0.5 -> (0.5, 1) at 0.3 ...
    # max_fpr 0.5: area 0.25 * 0 + 0.25 * 1 = 0.25; min 0.5 * 0.5^2 = 0.125, max 0.5
    # standardized 0.5 * (1 + (0.25 - 0.125) / (0.5 - 0.125)) = 2/3
    assert metrics.partial_auc(y_true, scores, 0.5) == pytest.approx(2 / 3)
    # max_fpr 0.1: area 0; 0.5 * (1 + (0 - 0.005) / (0.1 - 0.005)) = 0.5 * (1 - 1/19)
    assert metrics.partial_auc(y_true, scores, 0.1) == pytest.approx(0.5 * (1 - 1 / 19))
    # max_fpr 1 is the plain AUC: anomalies 0.5 beat 3 of 4 normals, 0.8 beats 3 -> 6/8
    assert metrics.partial_auc(y_true, scores, 1.0) == pytest.approx(0.75)


def test_precision_recall_f1():
    # tp 2 (indices 2, 3), fp 1 (index 0), fn 1 (index 4)
    precision, recall, f1 = metrics.precision_recall_f1([0, 0, 1, 1, 1], [1, 0, 1, 1, 0])
    assert (precision, recall, f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # nothing predicted anomalous: every denominator is clipped at eps, all three are 0
    assert metrics.precision_recall_f1([0, 1], [0, 0]) == pytest.approx((0.0, 0.0, 0.0))
    # tp 1, fp 3, fn 0: precision 1/4, recall 1 -> F1 = 2 * 0.25 / 1.25 = 0.4
    assert metrics.precision_recall_f1([0, 0, 0, 1], [1, 1, 1, 1]) == pytest.approx(
        (0.25, 1.0, 0.4))
    # tp 1, fp 0, fn 3: precision 1, recall 1/4
    assert metrics.precision_recall_f1([1, 1, 1, 1], [1, 0, 0, 0]) == pytest.approx(
        (1.0, 0.25, 0.4))


def test_section_metrics_row():
    decisions = [0, 1, 1, 1, 1, 0]
    row = metrics.unit_metrics(years.SECTION_METRICS, Y_TRUE, SCORES, decisions, DOMAINS,
                               max_fpr=0.1)
    # source clips: normals -> 0, 1; anomaly -> 1: tp 1, fp 1, fn 0 -> P 0.5, R 1, F1 2/3
    # target clips: normals -> 1, 1; anomaly -> 0: tp 0, fp 2, fn 1 -> P 0, R 0, F1 0
    assert row[0] == pytest.approx(0.75) and row[1] == pytest.approx(0.25)
    assert row[3:] == pytest.approx([0.5, 0.0, 1.0, 0.0, 2 / 3, 0.0])


def test_section_without_target_normals_leaves_auc_target_empty():
    row = metrics.unit_metrics(years.SECTION_METRICS, [0, 0, 1], [0.1, 0.2, 0.9], [0, 0, 1],
                               ["source"] * 3, 0.1)
    assert row[0] == pytest.approx(1.0) and row[1] is None and row[2] == pytest.approx(1.0)


def test_means_skip_empty_cells():
    arithmetic, harmonic = metrics.column_means([[0.5, None], [1.0, 0.2], [None, None]])
    assert arithmetic == pytest.approx([0.75, 0.2])
    # harmonic mean of 0.5 and 1.0: 2 / (2 + 1) = 2/3
    assert harmonic == pytest.approx([2 / 3, 0.2])
    assert metrics.column_means([[None]]) == ([None], [None])


def test_harmonic_mean_clips_zero_at_eps():
    _, harmonic = metrics.column_means([[0.0], [1.0]])
    # 2 / (1/eps + 1) is about 2 * eps
    assert 0 < harmonic[0] < 1e-15


def test_columns_of_the_other_years():
    decisions = [0, 1, 1, 1, 1, 0]
    # 2020 and 2021: over all six clips. Normals {0.1, 0.4, 0.35, 0.8} against anomalies
    # {0.5, 0.3}: 0.5 beats 3, 0.3 beats 1 -> AUC 4/8. Decisions: tp 1 (index 4), fp 3
    # (1, 2, 3), fn 1 (5) -> precision 1/4, recall 1/2, F1 2 * 1/8 / (3/4) = 1/3
    row = metrics.unit_metrics([Metric(k) for k in ("AUC", "precision", "recall", "F1 score")],
                               Y_TRUE, SCORES, decisions, DOMAINS, 0.1)
    assert row == pytest.approx([0.5, 0.25, 0.5, 1 / 3])
    # 2023 on, pAUC (source) over the source clips only: normals {0.1, 0.4}, anomaly 0.5
    # ranked above both -> a perfect partial AUC, 1; target: normals {0.35, 0.8}, anomaly 0.3
    # below both: FPR reaches 1 before any TPR, so no area in FPR <= 0.1: 0.5 * (1 - 1/19)
    row = metrics.unit_metrics([Metric("pAUC", "source"), Metric("pAUC", "target")], Y_TRUE,
                               SCORES, decisions, DOMAINS, 0.1)
    assert row == pytest.approx([1.0, 0.5 * (1 - 1 / 19)])
    with pytest.raises(ValueError, match="unknown metric kinds"):
        metrics.unit_metrics([Metric("AUC mixed")], Y_TRUE, SCORES, decisions, DOMAINS, 0.1)
    assert Metric("F1 score", "target").name == "F1 score (target)"


def test_official_score_is_harmonic_mean_of_the_values_given():
    # values 0.5, 1, 0.25, 1, 0.5: 5 / (2 + 1 + 4 + 1 + 2) = 0.5
    assert metrics.official_score([[0.5, 1.0, 0.25], [1.0, None, 0.5]]) == pytest.approx(0.5)
    assert metrics.official_score([[None]]) is None


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="one length"):
        metrics.domain_auc([0, 1], [0.1], ["source", "source"], "source")
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1"):
        metrics.partial_auc([0, 2], [0.1, 0.2], 0.1)
    with pytest.raises(ValueError, match="max_fpr"):
        metrics.partial_auc([0, 1], [0.1, 0.2], 1.5)
