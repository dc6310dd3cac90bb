"""PerImageROCAUCMetric and PooledROCAUCMetric against a rank-based numpy AUC."""

import numpy as np
import pytest
import torch
from metrics_reference import roc_auc

from monai_jattn.handlers import PerImageROCAUCMetric, PooledROCAUCMetric


def images(seed=0):
    rng = np.random.default_rng(seed)
    labels = [(rng.random((1, 9, 7 + i)) < 0.4).astype(np.float32) for i in range(3)]
    probs = [np.round(np.clip(0.3 * l + 0.7 * rng.random(l.shape), 0, 1), 2).astype(np.float32) for l in labels]
    return probs, labels  # rounded: ties happen, as with real probability maps


def test_per_image_values_and_mean_skip_single_class_images():
    probs, labels = images()
    metric = PerImageROCAUCMetric()
    metric([torch.as_tensor(p) for p in probs], [torch.as_tensor(l) for l in labels])
    with pytest.warns(UserWarning, match="can not be all"):
        metric([torch.rand(1, 4, 4)], [torch.zeros(1, 4, 4)])  # no foreground: AUC undefined
    values = metric.get_buffer()[:, 0].numpy()
    expected = [roc_auc(p.ravel(), l.ravel()) for p, l in zip(probs, labels)]
    np.testing.assert_allclose(values[:3], expected, atol=1e-6)
    assert np.isnan(values[3])
    assert metric.aggregate().item() == pytest.approx(np.mean(expected), abs=1e-6)


def test_pooled_over_all_pixels_and_reset():
    probs, labels = images()
    metric = PooledROCAUCMetric()
    for p, l in zip(probs, labels):
        metric([torch.as_tensor(p)], [torch.as_tensor(l)])
    expected = roc_auc(np.concatenate([p.ravel() for p in probs]), np.concatenate([l.ravel() for l in labels]))
    assert metric.aggregate().item() == pytest.approx(expected, abs=1e-6)
    assert metric.get_buffer().shape == (3, 1)  # each image's own AUC, for per-image reports
    metric.reset()
    with pytest.raises(ValueError, match="no data"):
        metric.aggregate()
