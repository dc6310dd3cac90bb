"""Tests of the atomic writers used for every experiment output."""

from __future__ import annotations

import os

import pytest

from monai_jattn.utils import write_atomic, write_json_atomic, write_text_atomic


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
