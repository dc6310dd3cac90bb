"""The paper's published results by dataset, for the ablation report (``results.md``) to compare with.

They belong to the reproduction harness, not to the dataset registry: the runtime never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["PaperResults", "PAPER_RESULTS"]


class PaperResults(NamedTuple):
    """The paper's results on one dataset.

    Args:
        table: model name (a key of `monai_jattn.networks.MODEL_VARIANTS`) -> metric -> value.
        note: markdown put before the table in the ablation report: a heading and how the paper's numbers
            compare with ours.
    """

    table: Mapping[str, Mapping[str, float]]
    note: str


PAPER_RESULTS: dict[str, PaperResults] = {
    "drive": PaperResults(
        table={
            name: dict(zip(("recall", "tnr", "dice", "accuracy", "auc"), values))
            for name, values in (
                ("dense_unet", (0.7635, 0.9875, 0.8048, 0.9677, 0.9802)),
                ("sa", (0.7691, 0.9881, 0.8109, 0.9687, 0.9838)),
                ("pwa", (0.8087, 0.9828, 0.8118, 0.9673, 0.9826)),
                ("ja9", (0.7907, 0.9864, 0.8164, 0.9690, 0.9845)),
            )
        },
        note="## The paper's DRIVE results (supplement Table 1; real DRIVE, 60k iterations)\n\n"
        "Compare with the whole-image table: the paper's Recall, TNR and Accuracy fit only a vessel fraction of "
        "about 8.9% of the scored pixels (Acc = TNR - p (TNR - Recall)), as in whole DRIVE test images (8.76% vessel "
        "pixels), not inside their FOV (12.73%).",
    ),
}
"""Registered dataset name -> the paper's results on it. DRIVE: Table 1 of the paper's supplement, DRIVE test
set, 60k iterations (the paper's DenseUNet-JA is JA-9). Its Recall, TNR and Accuracy fit only a vessel fraction
of about 8.9% of the scored pixels (Acc = TNR - p (TNR - Recall)): whole DRIVE test images (8.76% vessel), not
their FOV (12.73%); compare with ``whole_image``. The paper has no table for the other datasets."""
