"""prepare_training / prepare_evaluation / RunLock: no run destroys an earlier one's results unless asked."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from monai_jattn.atomic_write import WriteError
from monai_jattn.run_folders import RunFolderError, check_writable, prepare_evaluation, prepare_training
from monai_jattn.run_lock import RunLock, RunLockError


@pytest.fixture
def earlier_run(tmp_path):
    """A ckpt_dir with an earlier run's checkpoints, and a temporary file of an interrupted save."""
    ckpt = tmp_path / "models"
    ckpt.mkdir()
    (ckpt / "model.pt").write_bytes(b"best model")
    (ckpt / "latest.pt").write_bytes(b"latest state")
    (ckpt / ".latest.pt.abc123.pt").write_bytes(b"half")
    return ckpt


def test_fresh_run_into_a_folder_with_checkpoints_stops_and_names_them(earlier_run, tmp_path):
    with pytest.raises(RunFolderError) as info:
        prepare_training(earlier_run, tmp_path / "eval")
    message = str(info.value)
    assert f"ckpt_dir {earlier_run}" in message and "latest.pt, model.pt" in message
    assert "--resume True" in message and "--overwrite True" in message
    assert (earlier_run / "model.pt").read_bytes() == b"best model"  # nothing lost
    assert (earlier_run / "latest.pt").read_bytes() == b"latest state"
    assert not (earlier_run / "run.lock").exists()  # the refused run released its lock


def test_overwrite_moves_the_old_checkpoints_aside(earlier_run, tmp_path):
    lock = prepare_training(earlier_run, tmp_path / "eval", overwrite="True")
    try:
        (moved,) = earlier_run.glob("replaced-*")
        assert (moved / "model.pt").read_bytes() == b"best model"
        assert (moved / "latest.pt").read_bytes() == b"latest state"
        assert sorted(p.name for p in earlier_run.iterdir()) == sorted([moved.name, "run.lock"])  # temp file gone
        assert json.loads((earlier_run / "run.lock").read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert not (earlier_run / "run.lock").exists()


def test_resume_keeps_the_checkpoints_and_removes_leftover_temporary_files(earlier_run, tmp_path):
    with prepare_training(earlier_run, tmp_path / "eval", resume=True):
        assert sorted(p.name for p in earlier_run.iterdir()) == ["latest.pt", "model.pt", "run.lock"]


def test_resume_without_a_checkpoint_and_contradictory_flags(tmp_path):
    with pytest.raises(RunFolderError, match=f"resume is True but {tmp_path / 'models' / 'latest.pt'} does not exist"):
        prepare_training(tmp_path / "models", tmp_path / "eval", resume=True)
    with pytest.raises(RunFolderError, match="resume and overwrite are both True"):
        prepare_training(tmp_path / "models", tmp_path / "eval", resume=True, overwrite=True)


def test_a_second_run_on_the_same_ckpt_dir_is_refused_with_the_holders_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "models").mkdir()
        RunLock(tmp_path / "models").path.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename}))
        in_use = f"ckpt_dir {tmp_path / 'models'} is in use by another run \\(PID {holder.pid}"
        with pytest.raises(RunLockError, match=in_use):
            prepare_training(tmp_path / "models", tmp_path / "eval")
    finally:
        holder.kill()
        holder.wait()
    with prepare_training(tmp_path / "models", tmp_path / "eval"):  # the holder is gone: its lock is stale
        assert json.loads((tmp_path / "models" / "run.lock").read_text())["pid"] == os.getpid()


def test_lock_of_a_crashed_run_is_recognised_as_stale(tmp_path, caplog):
    killed = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = RunLock(tmp_path, "ckpt_dir")
    lock.path.write_text(json.dumps({"pid": int(killed.stdout), "host": os.uname().nodename}))
    with lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert "stale lock" in caplog.text and not lock.path.exists()


def test_unwritable_folder_is_found_at_the_start_with_the_setting_named(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    read_only_message = "cannot write there: the file system is read-only"
    with pytest.raises(WriteError, match=f"ckpt_dir {tmp_path / 'models'}: {read_only_message}"):
        prepare_training(tmp_path / "models", tmp_path / "eval")
    with pytest.raises(WriteError, match=f"output_dir {tmp_path}: {read_only_message}"):
        check_writable(tmp_path, "output_dir")


def test_evaluation_starts_with_a_clean_predictions_folder(tmp_path):
    (tmp_path / "predictions").mkdir()
    (tmp_path / "predictions" / "old_mask.png").write_bytes(b"old")
    (tmp_path / "metrics_summary.json").write_text("{}")
    (tmp_path / "training_curve.json").write_text("{}")  # not an evaluation output: stays
    prepare_evaluation(tmp_path)
    (moved,) = tmp_path.glob("replaced-*")
    assert (moved / "predictions" / "old_mask.png").read_bytes() == b"old"
    assert (moved / "metrics_summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([moved.name, "training_curve.json"])


def test_lock_works_on_a_file_system_without_hard_links(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with RunLock(tmp_path, "ckpt_dir") as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
        with pytest.raises(RunLockError, match=f"PID {os.getpid()}"):
            RunLock(tmp_path, "ckpt_dir").acquire()  # a second run (here: the same process) is refused
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_fresh_run_keeps_an_earlier_runs_training_curve_in_a_shared_output_dir(tmp_path):
    output_dir = tmp_path / "eval"
    output_dir.mkdir()
    (output_dir / "training_curve.json").write_text('{"earlier": true}')
    (output_dir / "training_curve.png").write_bytes(b"earlier png")
    with prepare_training(tmp_path / "models_a", output_dir, resume=False):
        (moved,) = output_dir.glob("replaced-*")
        assert (moved / "training_curve.json").read_text() == '{"earlier": true}'
        assert (moved / "training_curve.png").read_bytes() == b"earlier png"
        assert not (output_dir / "training_curve.json").exists()
    (output_dir / "training_curve.json").write_text('{"second": true}')
    (tmp_path / "models_a" / "latest.pt").write_bytes(b"state")
    with prepare_training(tmp_path / "models_a", output_dir, resume=True):  # a resumed run continues its curve
        assert (output_dir / "training_curve.json").read_text() == '{"second": true}'
        assert len(list(output_dir.glob("replaced-*"))) == 1


def test_inference_outputs_never_land_among_the_inputs(tmp_path):
    from monai_jattn.run_folders import check_inference_folders

    images = tmp_path / "images"
    images.mkdir()
    (images / "a_mask.png").write_bytes(b"the user's own label")
    for output_dir in (images, images / "predictions", tmp_path / "images" / "." / "sub" / ".."):
        with pytest.raises(RunFolderError, match="choose an --output_dir outside the dataset_dir") as error:
            check_inference_folders(images, output_dir)
        assert str(images) in str(error.value)
    assert (images / "a_mask.png").read_bytes() == b"the user's own label"
    assert not (images / "predictions").exists()
    assert check_inference_folders(images, tmp_path / "out").is_dir()  # beside the images: fine
    assert check_inference_folders(images / "sub", tmp_path / "images_out").is_dir()


def test_lock_of_a_reused_pid_is_stale_and_another_hosts_lock_is_respected(tmp_path):
    """The lock records the holder's start time: a live process of the same PID but another start time is not
    the holder (the PID was reused). A lock from another host cannot be checked here, so it is respected."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = RunLock(tmp_path, "ckpt_dir")
        host = os.uname().nodename
        started = (Path(f"/proc/{holder.pid}/stat").read_text().rsplit(")", 1)[1].split())[19]
        lock.path.write_text(json.dumps({"pid": holder.pid, "host": host, "start": started}))
        with pytest.raises(RunLockError, match=f"PID {holder.pid} on {host}"):
            lock.acquire()
        lock.path.write_text(json.dumps({"pid": holder.pid, "host": host, "start": str(int(started) - 1)}))
        with lock:  # the same PID, started at another time: a reused PID, the lock is stale
            assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    finally:
        holder.kill()
        holder.wait()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.path.write_text(json.dumps({"pid": int(dead.stdout), "host": "another-host", "start": "1"}))
    with pytest.raises(RunLockError, match=f"PID {int(dead.stdout)} on another-host"):
        lock.acquire()
    assert json.loads(lock.path.read_text())["host"] == "another-host"  # left for its holder


def test_inference_refuses_a_folder_that_holds_anything_and_names_an_entry(tmp_path):
    from monai_jattn.run_folders import INFERENCE_CLAIM, claim_inference_folder

    out = tmp_path / "out"
    out.mkdir()
    (out / "x_mask.png").write_bytes(b"the user's own mask")
    (out / ".notes").write_text("hidden, but the user's")
    with pytest.raises(RunFolderError) as error:
        claim_inference_folder(out, tmp_path / "images")
    assert f"output_dir {out} is not empty: it holds 2 entries (e.g. '.notes')" in str(error.value)
    assert "give a new or empty --output_dir" in str(error.value)
    assert sorted(p.name for p in out.iterdir()) == [".notes", "x_mask.png"]  # no claim left behind
    assert (out / "x_mask.png").read_bytes() == b"the user's own mask"

    fresh = claim_inference_folder(tmp_path / "new" / "out")  # created, with parents
    assert [p.name for p in fresh.iterdir()] == [INFERENCE_CLAIM]
    with pytest.raises(RunFolderError, match="another inference run uses this folder"):
        claim_inference_folder(fresh)  # the claim stays: the folder is used
    empty = tmp_path / "empty"
    empty.mkdir()
    assert claim_inference_folder(empty) == empty


def test_only_one_of_two_runs_started_at_once_claims_a_folder(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from monai_jattn.run_folders import claim_inference_folder

    def claim(_):
        try:
            claim_inference_folder(tmp_path / "out")
            return "claimed"
        except RunFolderError:
            return "refused"

    for attempt in range(5):
        (tmp_path / "out").mkdir(exist_ok=True)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = sorted(pool.map(claim, range(4)))
        assert results == ["claimed"] + ["refused"] * 3
        for path in (tmp_path / "out").iterdir():
            path.unlink()


def test_a_file_arriving_between_the_check_and_the_claim_makes_the_run_refuse_and_remove_its_claim(
    tmp_path, monkeypatch
):
    from monai_jattn import run_folders

    out = tmp_path / "out"

    def check_then_another_writes(folder):
        (folder / "a_mask.png").write_bytes(b"another run's")

    monkeypatch.setattr(run_folders, "_refuse_if_used", check_then_another_writes)
    with pytest.raises(RunFolderError, match="it holds 1 entry \\(e.g. 'a_mask.png'\\)"):
        run_folders.claim_inference_folder(out)
    assert [p.name for p in out.iterdir()] == ["a_mask.png"]


def test_what_experiment_tracking_writes_before_the_run_does_not_make_the_folder_used(tmp_path):
    from monai_jattn.run_folders import claim_inference_folder

    out = tmp_path / "out"
    (out / "mlruns").mkdir(parents=True)
    (out / "mlruns.db").write_bytes(b"sqlite")
    (out / "config_20261205_221224.json").write_text("{}")  # MONAI's executed config, written when built
    claim_inference_folder(out)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("{}")  # a file of the user's: refused
    with pytest.raises(RunFolderError, match="it holds 1 entry \\(e.g. 'config.json'\\)"):
        claim_inference_folder(mine)
