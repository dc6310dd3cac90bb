"""Reference metrics in plain numpy, independent of MONAI, for checking what the package computes."""

from __future__ import annotations

import numpy as np


def confusion_metrics(pred: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Recall, TNR, Dice, Accuracy and Jaccard of a binary prediction against a binary label (one pooled matrix)."""
    pred, label = pred.astype(bool).ravel(), label.astype(bool).ravel()
    tp, tn = np.sum(pred & label), np.sum(~pred & ~label)
    fp, fn = np.sum(pred & ~label), np.sum(~pred & label)
    return {
        "recall": tp / (tp + fn),
        "tnr": tn / (tn + fp),
        "dice": 2 * tp / (2 * tp + fp + fn),
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
        "jaccard": tp / (tp + fp + fn),
    }


def roc_auc(prob: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC of ``prob`` against the binary ``label`` as the Mann-Whitney statistic, ties counted as half."""
    prob, positive = np.ravel(prob), np.ravel(label) > 0
    order = np.argsort(prob, kind="stable")
    _, first, counts = np.unique(prob[order], return_index=True, return_counts=True)
    ranks = np.empty(prob.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)  # 1-based, tied values share their mean rank
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
