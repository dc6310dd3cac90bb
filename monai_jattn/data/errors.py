"""The package's error for bad data."""

from __future__ import annotations

__all__ = ["DatasetError"]


class DatasetError(ValueError):
    """Bad, missing or inconsistent data. The message names every file concerned and its problem."""
