"""Fine-tuning a bundle that ships weights: the README's training command starts from ``models/model.pt``
and never moves or changes it; ``--load_pretrain False`` trains from scratch; the earlier protections hold."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import torch
from bundle_helpers import TINY_NETWORK, configs, load_checkpoint, run_workflow

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample
from monai_jattn.run_folders import RunFolderError

BUNDLES = {
    "drive_jattn_segmentation": (
        lambda out: write_drive_sample(out, num_train=3, num_test=1, seed=0, image_size=(40, 48)),
        {"patch_size": [32, 32], "val_fraction": 0.34},
    ),
    "isic2017_jattn_segmentation": (  # no validation folder: the bundle holds out val_fraction of training
        lambda out: write_isic2017_sample(out, num_train=4, num_val=0, num_test=0, seed=0, image_size=(40, 48)),
        {"train_size": [32, 32]},
    ),
}


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _conv_weights(state):
    return {k: v for k, v in state.items() if k.endswith("weight") and v.ndim == 4}


@pytest.fixture(params=sorted(BUNDLES))
def shipped(request, tmp_path):
    """A copy of the bundle folder with ``models/model.pt`` as a release ships it (a tiny network's weights)."""
    name = request.param
    write_sample, size = BUNDLES[name]
    bundle = tmp_path / name
    shutil.copytree(configs(name).parent, bundle, ignore=shutil.ignore_patterns("models"))
    data = write_sample(tmp_path / "data")
    common = {
        "bundle_root": str(bundle),
        "dataset_dir": str(data),
        "device": "cpu",
        "num_workers": 0,
        "max_iterations": 2,
        "val_interval": 1,
        **TINY_NETWORK,
        **size,
    }
    first = tmp_path / "release"
    run_workflow(
        [bundle / "configs" / "train.json"],
        **common,
        load_pretrain=False,  # nothing shipped yet
        ckpt_dir=str(first),
        output_dir=str(tmp_path / "e0"),
    )
    (bundle / "models").mkdir()
    shutil.copy(first / "model.pt", bundle / "models" / "model.pt")
    return bundle, common, tmp_path


def test_training_starts_from_the_shipped_weights_and_keeps_them(shipped, capsys):
    bundle, common, tmp_path = shipped
    weights = bundle / "models" / "model.pt"
    md5 = _md5(weights)
    capsys.readouterr()
    # a negligible learning rate: what the run ends with is what it started from (the bundle logs to stdout)
    run_workflow([bundle / "configs" / "train.json"], **common, learning_rate=1e-12, output_dir=str(tmp_path / "e1"))
    assert f"starting from the pretrained weights {weights}" in capsys.readouterr().out
    trained = load_checkpoint(bundle / "models" / "trained" / "latest.pt")["network"]
    for name, value in _conv_weights(load_checkpoint(weights)).items():
        torch.testing.assert_close(trained[name], value, rtol=0, atol=1e-9, msg=name)
    assert _md5(weights) == md5 and sorted(p.name for p in (bundle / "models").iterdir()) == ["model.pt", "trained"]

    # a second fresh run keeps the earlier protection of its own checkpoints
    with pytest.raises(RuntimeError) as error:
        run_workflow([bundle / "configs" / "train.json"], **common, output_dir=str(tmp_path / "e2"))
    assert isinstance(error.value.__cause__, RunFolderError)  # MONAI's "Failed to instantiate ...", caused by ours
    assert "already holds checkpoints" in str(error.value.__cause__)

    # from scratch: other weights, the shipped file still untouched, the earlier run moved aside
    run_workflow(
        [bundle / "configs" / "train.json"],
        **common,
        learning_rate=1e-12,
        load_pretrain=False,
        overwrite=True,
        output_dir=str(tmp_path / "e3"),
    )
    scratch = load_checkpoint(bundle / "models" / "trained" / "latest.pt")["network"]
    shipped_convs = _conv_weights(load_checkpoint(weights))
    assert not all(torch.allclose(scratch[k], v, rtol=0, atol=1e-3) for k, v in shipped_convs.items())
    assert _md5(weights) == md5
    assert len(list((bundle / "models" / "trained").glob("replaced-*"))) == 1


def test_other_network_settings_stop_unless_from_scratch_is_fine(shipped, capsys):
    """Issue 28 S6: weights that do not fit the network stop the fine-tune, naming the file and what does not fit;
    --pretrained_optional True trains from scratch with a warning."""
    bundle, common, tmp_path = shipped
    weights = bundle / "models" / "model.pt"
    other = {**common, "network_def#growth_rate": 6}
    with pytest.raises(RuntimeError) as error:
        run_workflow([bundle / "configs" / "train.json"], **other, output_dir=str(tmp_path / "e1"))
    message = str(error.value.__cause__ or error.value)
    assert f"{weights}: its weights do not fit this network" in message and "have other shapes" in message
    assert "--load_pretrain False" in message and not (bundle / "models" / "trained" / "model.pt").exists()
    capsys.readouterr()
    run_workflow(
        [bundle / "configs" / "train.json"], **other, pretrained_optional=True, output_dir=str(tmp_path / "e2")
    )
    out = capsys.readouterr().out
    assert "its weights do not fit this network" in out and "training from scratch" in out
    assert (bundle / "models" / "trained" / "model.pt").is_file()


def test_a_pretrained_path_typo_stops_the_fine_tune(shipped):
    bundle, common, tmp_path = shipped
    typo = bundle / "model" / "model.pt"
    with pytest.raises(RuntimeError) as error:
        run_workflow([bundle / "configs" / "train.json"], **common, pretrained_path=str(typo))
    assert f"{typo}: no pretrained weights there" in str(error.value.__cause__ or error.value)


def test_the_shipped_folder_is_never_a_ckpt_dir(shipped):
    """Issue 28 S7: --ckpt_dir models --overwrite True (as an error message suggested) moved the shipped weights
    aside, trained from scratch, and made the new model what inference uses by default."""
    bundle, common, tmp_path = shipped
    weights = bundle / "models" / "model.pt"
    md5 = _md5(weights)
    for overwrite in (False, True):
        with pytest.raises(RuntimeError) as error:
            run_workflow(
                [bundle / "configs" / "train.json"], **common, ckpt_dir=str(bundle / "models"), overwrite=overwrite
            )
        assert isinstance(error.value.__cause__, RunFolderError)
        assert "is the bundle's models folder" in str(error.value.__cause__)
        assert "models/finetuned" in str(error.value.__cause__)
    assert _md5(weights) == md5 and [p.name for p in (bundle / "models").iterdir()] == ["model.pt"]
