"""resolve_speed_settings: what each setting becomes on a device, and that every fallback is logged."""

from __future__ import annotations

import logging

import pytest
import torch

from monai_jattn.setting_checks import SettingError
from monai_jattn.speed import resolve_speed_settings


def test_cpu_defaults_are_plain_float32():
    settings = resolve_speed_settings("cpu")
    assert settings == {
        "amp": False,
        "amp_kwargs": {},
        "cpu_autocast": False,
        "compile": False,
        "compile_kwargs": {},
        "memory_format": torch.contiguous_format,
    }
    assert resolve_speed_settings("cpu", channels_last=True)["memory_format"] is torch.channels_last


def test_cpu_amp_is_bfloat16_autocast_in_the_inferer(caplog):
    settings = resolve_speed_settings("cpu", amp=True)
    assert settings["cpu_autocast"] and not settings["amp"] and settings["amp_kwargs"] == {}
    with caplog.at_level(logging.WARNING, logger="monai_jattn.speed"):
        assert resolve_speed_settings("cpu", amp=True, amp_dtype="float16")["cpu_autocast"]
    assert "autocast runs in bfloat16 there" in caplog.text


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"device": "meta", "amp": True}, "amp=True is ignored on meta"),
        ({"device": "cpu", "cuda_graph": True}, "cuda_graph=True is ignored on cpu"),
    ],
)
def test_settings_the_device_cannot_honour_are_logged(setting, message, caplog):
    with caplog.at_level(logging.WARNING, logger="monai_jattn.speed"):
        settings = resolve_speed_settings(**setting)
    assert message in caplog.text
    assert not settings["amp"] and not settings["cpu_autocast"] and settings["compile_kwargs"] == {}


def test_compile_without_a_compiler_falls_back_with_a_log(monkeypatch, caplog):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="monai_jattn.speed"):
        settings = resolve_speed_settings("cpu", compile=True)
    assert not settings["compile"] and "no C/C++ compiler" in caplog.text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="amp_dtype"):
        resolve_speed_settings("cpu", amp_dtype="float8")
    if not torch.cuda.is_available():
        with pytest.raises(SettingError, match="no usable CUDA GPU"):
            resolve_speed_settings("cuda:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_settings():
    settings = resolve_speed_settings("cuda:0", amp=True, amp_dtype="bfloat16", tf32=True)
    assert settings["amp"] and settings["amp_kwargs"] == {"dtype": torch.bfloat16}
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark


def test_autocast_inferer_runs_reduced_precision_and_returns_float32():
    from monai_jattn.inferers import AutocastInferer

    seen = []
    network = torch.nn.Conv2d(1, 2, 3)
    network.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    out = AutocastInferer("cpu", torch.bfloat16)(torch.rand(1, 1, 8, 8), network)
    assert seen == [torch.bfloat16] and out.dtype == torch.float32
    assert AutocastInferer(enabled=False)(torch.rand(1, 1, 8, 8), network).dtype == torch.float32
    assert seen[-1] == torch.float32
