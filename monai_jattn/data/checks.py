"""An up-front check of every file in a datalist.

`check_datalist` opens each file once, before any training or evaluation starts, so that a missing,
corrupt or mismatched file fails in seconds with a message naming it, not after an hour of training.
`ReadableImages` does the same for inference over a user's folder, leaving out (and finally reporting) the files
that do not read. What a readable 2D file is, binary labels included, is defined in `monai_jattn.data.image_2d`.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.image_2d import _inspect_file

logger = logging.getLogger("monai_jattn.data")

__all__ = ["FileInspector", "ReadableImages", "check_datalist"]

FileInspector = Callable[[str, bool], tuple[tuple[int, ...] | None, str | None]]
"""``inspect(path, binary) -> (size or None, problem or None)``: reads one file completely, as `_inspect_file` does
for 2D images; a size of None is not compared with the entry's other files."""


def _datalist_problems(
    datalist: Sequence[dict],
    image_key: str,
    binary_keys: Sequence[str],
    num_workers: int | None,
    inspect_file: FileInspector | None = None,
) -> tuple[dict[int, list[str]], list[str]]:
    """Open every file of ``datalist`` once (with ``inspect_file``, default `_inspect_file`): the problems of each
    entry (by index), and those of the whole list."""
    entry_problems: dict[int, list[str]] = {}
    jobs: dict[str, bool] = {}
    for index, entry in enumerate(datalist):
        if not isinstance(entry, dict) or image_key not in entry:
            entry_problems[index] = [f"entry {index} ({entry!r}): has no {image_key!r} key"]
            continue
        for key in (image_key, *binary_keys):
            if key in entry:
                jobs[str(entry[key])] = key != image_key
    workers = num_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(zip(jobs, pool.map(inspect_file or _inspect_file, jobs, jobs.values())))
    for index, entry in enumerate(datalist):
        if index in entry_problems:
            continue
        problems = []
        for key in (image_key, *binary_keys):
            path = str(entry[key]) if key in entry else None
            if path is not None and results[path][1]:
                problems.append(f"{path}: {results[path][1]}")
        image_size = results[str(entry[image_key])][0]
        for key in binary_keys:
            size = results[str(entry[key])][0] if key in entry else None
            if image_size and size and size != image_size:
                problems.append(
                    f"{entry[key]}: {key} size {size[0]}x{size[1]} (WxH) differs from its image "
                    f"{entry[image_key]} ({image_size[0]}x{image_size[1]})"
                )
        if problems:
            entry_problems[index] = problems
    ids = Counter(entry["id"] for entry in datalist if isinstance(entry, dict) and "id" in entry)
    duplicates = sorted(i for i, count in ids.items() if count > 1)
    list_problems = []
    if duplicates:
        files = {
            i: [str(e.get(image_key)) for e in datalist if isinstance(e, dict) and e.get("id") == i] for i in duplicates
        }
        list_problems.append(
            f"ids used by more than one entry (outputs would overwrite each other): {duplicates}: "
            + "; ".join(f"{i!r}: {' and '.join(paths)}" for i, paths in files.items())
        )
    return entry_problems, list_problems


def _report(problems: Sequence[str], what: str) -> DatasetError:
    problems = list(dict.fromkeys(problems))  # a file shared by several entries is reported once
    return DatasetError(f"{len(problems)} problem(s) in {what}:\n  " + "\n  ".join(problems))


def check_datalist(
    datalist: Sequence[dict],
    image_key: str = "image",
    binary_keys: Sequence[str] = ("label", "mask"),
    num_workers: int | None = None,
) -> Sequence[dict]:
    """Open every file of ``datalist`` once and report all problems found, by file, in one error.

    Checks, for every entry: the image key is present; each file exists, has a supported type and
    decodes completely (no corrupt or truncated file); images have pixels of a known range (see
    `HIGH_BIT_DEPTH_RANGES`); binary files (labels, field-of-view masks)
    hold at most two grey values, one of them 0; binary files have their image's size; ids, where
    present, are unique. Files are read in parallel threads.

    Args:
        datalist: dicts as returned by `drive_datalist`, `isic2017_datalist` or
            `image_folder_datalist`.
        image_key: the key of the image file in each entry.
        binary_keys: keys of binary files (checked where an entry has them).
        num_workers: threads that read files; default: the number of CPUs, at most 8.

    Returns:
        ``datalist`` itself, unchanged, so that a bundle config can wrap a datalist in the check.

    Raises:
        DatasetError: listing every problem as ``<file>: <problem>``; also for an empty datalist.

    Examples::

        >>> train_files = check_datalist(drive_datalist("/data/DRIVE", "training"))
    """
    if len(datalist) == 0:
        raise DatasetError("the datalist is empty: no images were found")
    entry_problems, list_problems = _datalist_problems(datalist, image_key, binary_keys, num_workers)
    problems = [p for index in sorted(entry_problems) for p in entry_problems[index]] + list_problems
    if problems:
        raise _report(problems, "the datalist")
    return datalist


class ReadableImages:
    """
    The entries of a datalist whose files all read, for inference over a user's folder: one unreadable
    file must not stop the others from being segmented. Every file is checked as by `check_datalist`
    when this is created; each entry with a problem is left out and logged at once, naming the file,
    and `raise_if_unreadable` (called after the readable ones are processed) raises one `DatasetError`
    listing them all, so that the run ends with a non-zero exit status.

    Args:
        datalist: dicts as returned by `image_folder_datalist`.
        image_key: the key of the image file in each entry.
        binary_keys: keys of binary files (checked where an entry has them).
        num_workers: threads that read files; default: the number of CPUs, at most 8.
        inspect_file: ``inspect(path, binary) -> (size or None, problem or None)``, reading one file completely;
            default: the 2D images' check of `check_datalist` (e.g. `monai_jattn.datasets.msd.inspect_nifti` for
            NIfTI volumes).

    Raises:
        DatasetError: at once, when no entry is readable, or the datalist is empty or has duplicate ids.

    Example::

        images = ReadableImages(image_folder_datalist("my_photos"))
        run_inference(images.datalist)
        images.raise_if_unreadable()
    """

    def __init__(
        self,
        datalist: Sequence[dict],
        image_key: str = "image",
        binary_keys: Sequence[str] = ("label", "mask"),
        num_workers: int | None = None,
        inspect_file: FileInspector | None = None,
    ) -> None:
        if len(datalist) == 0:
            raise DatasetError("the datalist is empty: no images were found")
        entry_problems, list_problems = _datalist_problems(datalist, image_key, binary_keys, num_workers, inspect_file)
        if list_problems:
            raise _report(list_problems, "the datalist")
        self.problems = list(dict.fromkeys(p for index in sorted(entry_problems) for p in entry_problems[index]))
        self.datalist = [entry for index, entry in enumerate(datalist) if index not in entry_problems]
        if not self.datalist:
            raise _report(self.problems, "the datalist, and no image is readable")
        for problem in self.problems:
            logger.error("skipping an unreadable file: %s", problem)

    def raise_if_unreadable(self) -> None:
        """Raise one `DatasetError` listing every file left out, if any."""
        if self.problems:
            raise _report(
                self.problems, f"the datalist: these files were skipped, the other {len(self.datalist)} processed"
            )
