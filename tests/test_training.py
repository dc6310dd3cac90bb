"""resolve_speed_settings: what each setting becomes on a device, and that every fallback is logged."""

from __future__ import annotations

import logging

import pytest
import torch

from monai_jattn.training import resolve_speed_settings


def test_cpu_defaults_are_plain_float32():
    settings = resolve_speed_settings("cpu")
    assert settings == {
        "amp": False,
        "amp_kwargs": {},
        "compile": False,
        "compile_kwargs": {},
        "memory_format": torch.contiguous_format,
    }
    assert resolve_speed_settings("cpu", channels_last=True)["memory_format"] is torch.channels_last


@pytest.mark.parametrize(
    "setting, message",
    [({"amp": True}, "amp=True is ignored on cpu"), ({"cuda_graph": True}, "cuda_graph=True is ignored on cpu")],
)
def test_settings_the_cpu_cannot_honour_are_logged(setting, message, caplog):
    with caplog.at_level(logging.WARNING, logger="monai_jattn.training"):
        settings = resolve_speed_settings("cpu", **setting)
    assert message in caplog.text
    assert not settings["amp"] and settings["compile_kwargs"] == {}


def test_compile_without_a_compiler_falls_back_with_a_log(monkeypatch, caplog):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="monai_jattn.training"):
        settings = resolve_speed_settings("cpu", compile=True)
    assert not settings["compile"] and "no C/C++ compiler" in caplog.text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="amp_dtype"):
        resolve_speed_settings("cpu", amp_dtype="float8")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA device"):
            resolve_speed_settings("cuda:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_settings():
    settings = resolve_speed_settings("cuda:0", amp=True, amp_dtype="bfloat16", tf32=True)
    assert settings["amp"] and settings["amp_kwargs"] == {"dtype": torch.bfloat16}
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark
