"""A reference ROC AUC for the handler tests, in plain numpy (the Mann-Whitney statistic)."""

import numpy as np


def numpy_auc(prob: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC of ``prob`` against the binary ``label``, ties counted as half (average ranks)."""
    prob, positive = np.ravel(prob), np.ravel(label) > 0
    order = np.argsort(prob, kind="stable")
    _, first, counts = np.unique(prob[order], return_index=True, return_counts=True)
    ranks = np.empty(prob.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)  # 1-based, tied values share their mean rank
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
