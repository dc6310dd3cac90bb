"""Tests of the atomic writers used for every experiment output."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from monai_jattn.atomic_write import WriteError, write_atomic, write_json_atomic, write_text_atomic


def test_written_files_are_complete_and_get_the_usual_mode(tmp_path):
    path = write_json_atomic(tmp_path / "sub" / "a.json", {"dice": 0.5})
    assert path.read_text() == '{\n  "dice": 0.5\n}\n'
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_text_atomic(tmp_path / "results.md", "old")

    def broken(temp_path):
        with open(temp_path, "w") as handle:
            handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, broken)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.md"]


@pytest.mark.parametrize(
    "error, cause",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the device"),
        (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 723008 vs 722920"), "no space"),
    ],
)
def test_a_failed_write_names_the_file_and_the_cause(tmp_path, monkeypatch, error, cause):
    path = write_text_atomic(tmp_path / "latest.pt", "old")
    if isinstance(error, RuntimeError):  # PyTorch's own words for a full disk: recognised by the free space
        monkeypatch.setattr(shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10**9, 10**9, 0))

    def fail(temp_path):
        temp_path.write_text("half")
        raise error

    with pytest.raises(WriteError, match=f"{path}: could not be written: {cause}"):
        write_atomic(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


@pytest.mark.parametrize("links", [True, False])
def test_without_replace_an_existing_file_is_kept(tmp_path, monkeypatch, links):
    if not links:  # a file system without hard links
        monkeypatch.setattr(os, "link", lambda *args: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    path = write_text_atomic(tmp_path / "a_mask.png", "the user's")
    with pytest.raises(FileExistsError):
        write_atomic(path, lambda temp: temp.write_text("new"), replace=False)
    assert path.read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir()] == ["a_mask.png"]  # no temporary left
    written = write_atomic(tmp_path / "b_mask.png", lambda temp: temp.write_text("new"), replace=False)
    assert written.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["a_mask.png", "b_mask.png"]
