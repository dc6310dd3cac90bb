"""PerImageROCAUCMetric and PooledROCAUCMetric against a rank-based numpy AUC."""

import numpy as np
import pytest
import torch
from metrics_reference import roc_auc
from monai.metrics import compute_roc_auc

from monai_jattn.handlers import PerImageROCAUCMetric, PooledROCAUCMetric
from monai_jattn.metrics import pixel_roc_auc


def images(seed=0):
    rng = np.random.default_rng(seed)
    labels = [(rng.random((1, 9, 7 + i)) < 0.4).astype(np.float32) for i in range(3)]
    probs = [np.round(np.clip(0.3 * lab + 0.7 * rng.random(lab.shape), 0, 1), 2).astype(np.float32) for lab in labels]
    return probs, labels  # rounded: ties happen, as with real probability maps


def test_per_image_values_and_mean_skip_single_class_images():
    probs, labels = images()
    metric = PerImageROCAUCMetric()
    metric([torch.as_tensor(p) for p in probs], [torch.as_tensor(lab) for lab in labels])
    with pytest.warns(UserWarning, match="can not be all"):
        metric([torch.rand(1, 4, 4)], [torch.zeros(1, 4, 4)])  # no foreground: AUC undefined
    values = metric.get_buffer()[:, 0].numpy()
    expected = [roc_auc(p.ravel(), lab.ravel()) for p, lab in zip(probs, labels)]
    np.testing.assert_allclose(values[:3], expected, atol=1e-6)
    assert np.isnan(values[3])
    assert metric.aggregate().item() == pytest.approx(np.mean(expected), abs=1e-6)


def test_pooled_over_all_pixels_and_reset():
    probs, labels = images()
    metric = PooledROCAUCMetric()
    for p, lab in zip(probs, labels):
        metric([torch.as_tensor(p)], [torch.as_tensor(lab)])
    expected = roc_auc(np.concatenate([p.ravel() for p in probs]), np.concatenate([lab.ravel() for lab in labels]))
    assert metric.aggregate().item() == pytest.approx(expected, abs=1e-6)
    assert metric.get_buffer().shape == (3, 1)  # each image's own AUC, for per-image reports
    metric.reset()
    with pytest.raises(ValueError, match="no data"):
        metric.aggregate()


def test_pixel_roc_auc_equals_monai_and_the_rank_statistic_with_ties():
    rng = np.random.default_rng(1)
    for size in (2, 17, 1000):
        label = (rng.random(size) < 0.3).astype(np.float32)
        label[:2] = [0, 1]  # both classes
        prob = np.round(rng.random(size), 1).astype(np.float32)  # many ties
        value = pixel_roc_auc(torch.as_tensor(prob), torch.as_tensor(label))
        assert value == pytest.approx(compute_roc_auc(torch.as_tensor(prob), torch.as_tensor(label)), abs=1e-12)
        assert value == pytest.approx(roc_auc(prob, label), abs=1e-12)
    with pytest.warns(UserWarning, match="must be 0 or 1"):
        assert np.isnan(pixel_roc_auc(torch.rand(5), torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0])))


def test_auc_of_a_full_size_photograph_counts_every_pixel():
    # more than 2**24 background pixels, as in a 4439x6688 dermoscopy photograph: MONAI's compute_roc_auc
    # stops counting them there (its running sums become float32 under NumPy 2) and gave 0.00095 here
    negatives, positives = 2**24 + 2**20, 1000
    prob = torch.zeros(negatives + positives)
    prob[negatives:] = 1.0
    label = (prob > 0).float()
    assert pixel_roc_auc(prob, label) == 1.0
    prob[negatives - positives : negatives] = 1.0  # as many background pixels tie with the lesion
    expected = 1 - positives * positives / 2 / (positives * negatives)
    metric = PerImageROCAUCMetric()
    metric([prob.reshape(1, 1, -1)], [label.reshape(1, 1, -1)])
    assert metric.aggregate().item() == pytest.approx(expected, abs=1e-7)
