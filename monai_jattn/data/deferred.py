"""A datalist that may be missing while a bundle workflow is built, and is checked when the run starts.

MONAI builds a bundle's components when a workflow is created or its properties are checked
(``create_workflow(...).check_properties()``, ``monai.bundle.load(workflow_type=...)``), on machines
that often have no data. The bundles therefore list their files with `datalist_or_empty`, which
gives an empty datalist where the data cannot be listed, and the first entry of their ``run`` checks
the data with `check_datalist`, which raises the `DatasetError` naming the folder or files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from monai_jattn.data.errors import DatasetError

__all__ = ["datalist_or_empty"]

logger = logging.getLogger("monai_jattn.data")


def datalist_or_empty(list_files: Callable[[], Sequence[dict]]) -> list[dict]:
    """Return ``list_files()`` as a list, or an empty list when it raises `DatasetError`.

    Args:
        list_files: lists the data, e.g. ``functools.partial(drive_datalist, root, "training")``; in a
            bundle config, a ``_target_`` with ``"_mode_": "callable"``.

    Returns:
        the datalist, or ``[]`` when the data is missing or cannot be listed (logged at INFO). Call
        ``check_datalist(datalist or list_files())`` before using the data: it raises the error.

    Examples::

        >>> datalist = datalist_or_empty(functools.partial(drive_datalist, "/no/such/folder"))
        >>> datalist
        []
    """
    try:
        return list(list_files())
    except DatasetError as e:
        logger.info("no datalist yet, the run will check the data: %s", e)
        return []
