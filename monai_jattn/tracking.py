"""A check of the MLflow store that ``--tracking mlflow`` writes to, so that an unwritable one stops the run at its
start with the setting named (``tracking_uri``), not with MLflow's ``unable to open database file``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from monai_jattn.atomic_write import WriteError, describe_write_error

__all__ = ["check_tracking_uri", "tracking_store_folder"]


def tracking_store_folder(tracking_uri: str | None) -> Path | None:
    """The local folder an MLflow ``tracking_uri`` writes to: the folder of a ``sqlite:///<path>`` database, or a
    ``file://`` / plain-path store itself; None for a server (``http://...``, ``databricks``, ...) or no URI."""
    if not tracking_uri:
        return None
    uri = str(tracking_uri)
    if uri.startswith("sqlite:///"):
        return Path(unquote(uri[len("sqlite:///") :])).parent
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    if "://" not in uri and ":" not in uri.split("/")[0]:
        return Path(uri)
    return None


def check_tracking_uri(tracking_uri: str | None, output_dir: str | os.PathLike | None = None) -> None:
    """Raise `WriteError` naming ``tracking_uri`` (and ``output_dir`` where the store lies inside it) when the
    MLflow store of ``tracking_uri`` cannot be written: the deepest existing folder on its path must take a file.
    Nothing is created (a temporary probe file is removed at once); a server URI is not checked.

    Args:
        tracking_uri: the bundle's ``tracking_uri`` (MONAI's default: ``sqlite:///<output_dir>/mlruns.db``).
        output_dir: the bundle's ``output_dir``, for the message.

    Raises:
        WriteError: the store's folder cannot be created or written, with the cause in words.
    """
    folder = tracking_store_folder(tracking_uri)
    if folder is None:
        return
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(existing))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        cause = describe_write_error(e, existing if existing.is_dir() else existing.parent)
        inside = output_dir is not None and Path(output_dir).resolve() in (folder.resolve(), *folder.resolve().parents)
        where = (
            f"output_dir {output_dir}, which holds the MLflow store of tracking_uri {tracking_uri}"
            if inside
            else (f"tracking_uri {tracking_uri}: its MLflow store {folder}")
        )
        raise WriteError(
            f"{where}: cannot write there ({existing}: {cause}); choose a writable --output_dir, or set --tracking_uri "
            "to a writable place, e.g. sqlite:///<writable folder>/mlruns.db"
        ) from None
