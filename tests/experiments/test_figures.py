"""The ablation's Dice bar chart (`monai_jattn.experiments.figures.plot_dice_bars`): bars at the mean over seeds,
error bars and each seed's own score."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from monai_jattn.experiments import figures


def _drawn(monkeypatch, rows, tmp_path):
    """The figure `plot_dice_bars` saves for ``rows``, and the PNG it wrote."""
    saved = []
    real = figures.save_figure_atomic
    monkeypatch.setattr(
        figures, "save_figure_atomic", lambda fig, path, **kw: saved.append(fig) or real(fig, path, **kw)
    )
    figures.plot_dice_bars(rows, tmp_path / "bars.png", title="t")
    assert (tmp_path / "bars.png").stat().st_size > 0
    return saved[0]


def test_bars_show_the_mean_and_a_dot_for_each_seed(monkeypatch, tmp_path):
    rows = [
        {"model": "dense_unet", "seed": 0, "dice": 0.70},
        {"model": "dense_unet", "seed": 1, "dice": 0.80},
        {"model": "ja9", "seed": 0, "dice": 0.78},
        {"model": "ja9", "seed": 1, "dice": 0.76},
    ]
    axis = _drawn(monkeypatch, rows, tmp_path).axes[0]
    assert [bar.get_height() for bar in axis.patches] == pytest.approx([0.75, 0.77])
    dots = [c for c in axis.collections if isinstance(c, PathCollection)]
    assert len(dots) == 1
    np.testing.assert_allclose(dots[0].get_offsets(), [[0.2, 0.70], [0.2, 0.80], [1.2, 0.78], [1.2, 0.76]])
    low, high = axis.get_ylim()
    assert low < 0.70 and high > 0.80  # every seed is inside the plot, not only the means


def test_one_seed_per_model_draws_bars_without_dots(monkeypatch, tmp_path):
    rows = [{"model": "dense_unet", "seed": 0, "dice": 0.70}, {"model": "ja9", "seed": 0, "dice": 0.78}]
    axis = _drawn(monkeypatch, rows, tmp_path).axes[0]
    assert [bar.get_height() for bar in axis.patches] == pytest.approx([0.70, 0.78])
    assert not [c for c in axis.collections if isinstance(c, PathCollection)]
