"""A lock file that keeps two runs from writing to the same folder at once, and that a crashed run does not leave
blocking: it holds the holder's PID, and a lock whose process is gone is recognised as stale and taken over."""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
from pathlib import Path

__all__ = ["RunLock", "RunLockError", "release_locks"]

logger = logging.getLogger(__name__)

_HELD: list[RunLock] = []  # the locks this process holds, for `release_locks`


class RunLockError(RuntimeError):
    """The folder is locked by another run that is still alive. The message names the folder and the PID."""


class RunLock:
    """
    An exclusive lock on a folder: the file ``folder/lock_name``, created complete in one step (a hard
    link), holding the holder's PID, host and process start time as JSON. `acquire` refuses a lock held by a live
    process; a lock
    left by a process that no longer exists (killed, crashed) is logged and taken over. The lock is released
    by `release`, on leaving a ``with`` block, or at interpreter exit.

    Args:
        folder: the folder to lock (created if needed).
        what: what the folder is, for messages, e.g. ``"ckpt_dir"``.
        lock_name: the name of the lock file.

    Example::

        with RunLock("models", "ckpt_dir"):
            ...  # train, writing to models/
    """

    def __init__(self, folder: str | os.PathLike, what: str = "folder", lock_name: str = "run.lock") -> None:
        self.path = Path(folder) / lock_name
        self.what = what
        self.held = False

    def acquire(self) -> RunLock:
        """Take the lock, or raise `RunLockError` naming the folder and the live holder's PID."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "start": _start_time(os.getpid())}
        for _ in range(3):  # a stale lock is removed and the creation retried
            if self._create(json.dumps(me)):
                self.held = True
                _HELD.append(self)
                atexit.register(self.release)
                return self
            holder = self._holder()
            if holder is not None and _alive(holder):
                raise RunLockError(
                    f"{self.what} {self.path.parent} is in use by another run (PID {holder.get('pid')} on "
                    f"{holder.get('host')}, lock file {self.path}); wait for it to end, stop it, or choose "
                    f"another {self.what}"
                )
            logger.warning(
                "%s: removing a stale lock of a run that no longer exists (%s)", self.path, holder or "unreadable"
            )
            self.path.unlink(missing_ok=True)
        raise RunLockError(f"{self.path}: could not take the lock of {self.what} {self.path.parent}")

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if self.held:
            self.held = False
            self.path.unlink(missing_ok=True)
            _HELD.remove(self)
            atexit.unregister(self.release)

    def __enter__(self) -> RunLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _create(self, content: str) -> bool:
        """Create the lock file with ``content`` in one step (a hard link of a complete temporary file), so that
        no other process ever reads it half-written; False when it exists."""
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temp.write_text(content)
        try:
            os.link(temp, self.path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive creation, then the content
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(handle, "w") as f:
                f.write(content)
        finally:
            temp.unlink()
        return True

    def _holder(self) -> dict | None:
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # removed meanwhile, or not a lock file of this class
        return holder if isinstance(holder, dict) else None


def release_locks() -> None:
    """Release every lock this process holds (a bundle's ``finalize`` calls it after a run)."""
    for lock in list(_HELD):
        lock.release()


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux ``/proc``), which tells a reused PID from the lock's holder."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(holder: dict) -> bool:
    """Whether the process described by a lock file still runs (a lock of another host counts as alive)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    started = _start_time(pid)
    return holder.get("start") is None or started is None or started == holder.get("start")
