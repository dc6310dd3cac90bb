"""run_cli forgives a torchrun process's abort at gloo teardown, and nothing else."""

from __future__ import annotations

import pytest
from bundle_helpers import GLOO_EXIT_ABORT, run_cli


def script(tmp_path, body: str) -> str:
    path = tmp_path / "worker.py"
    path.write_text(f"import os, sys\n{body}\n")
    return str(path)


def test_an_abort_at_exit_after_the_work_is_a_warning(tmp_path):
    abort = f"sys.stderr.write({GLOO_EXIT_ABORT!r} + '\\n')\nsys.stderr.flush()\nos.abort()"
    worker = script(tmp_path, f"print('done')\n{abort}")
    with pytest.warns(UserWarning, match="aborted at exit"):
        result = run_cli(["torch.distributed.run", "--standalone", "--nproc_per_node=1", worker])
    assert result.returncode != 0 and "done" in result.stdout


def test_a_python_error_in_a_process_still_fails(tmp_path):
    worker = script(tmp_path, f"sys.stderr.write({GLOO_EXIT_ABORT!r} + '\\n')\nraise ValueError('broken')")
    with pytest.raises(AssertionError, match="failed"):
        run_cli(["torch.distributed.run", "--standalone", "--nproc_per_node=1", worker])
