"""The bundles' configs, built from one shared recipe and each bundle's own parts.

What every bundle shares (speed settings, run folders, lock, resume, fine-tuning, trainer, evaluator, handlers,
final validation, the multi-GPU overlays) is written once, in ``bundles/common/``; a bundle's ``source/`` holds
only what differs (data, preprocessing and augmentation, network input/output, loss, metrics) and its
``metadata.json``. Each ``configs/<name>.json`` is the two merged with MONAI's config rules (a key ``a#b`` sets
``b`` inside ``a``, ``+a`` extends ``a``), so a bundle folder is complete, as the model zoo ships it, and runs
with ``python -m monai.bundle run --config_file configs/train.json``::

    bundles/common/train.json + bundles/<bundle>/source/train.json -> bundles/<bundle>/configs/train.json

The built ``configs/`` are not committed: ``build`` writes them (the set-up scripts and the tests run it), and
``export`` copies a bundle folder, configs built, to share it or submit it to the model zoo::

    python -m monai_jattn.bundles build [BUNDLE ...] [--check]
    python -m monai_jattn.bundles export BUNDLE OUT_DIR

A built file that was edited by hand is never overwritten: ``build`` stops and says to move the change into
``source/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser
from monai.bundle.reference_resolver import ReferenceResolver
from monai.bundle.utils import MERGE_KEY, merge_kv

from monai_jattn.utils import write_json_atomic, write_text_atomic

__all__ = [
    "BUNDLES_ENV",
    "BundleConfigError",
    "bundles_root",
    "bundle_names",
    "merge_config",
    "reading_order",
    "format_config",
    "built_configs",
    "build_bundle",
    "export_bundle",
    "main",
]

BUNDLES_ENV = "MONAI_JATTN_BUNDLES"
"""The environment variable naming the folder that holds the bundles (e.g. ``drive_jattn_segmentation/``)."""
COMMON = "common"
SOURCE = "source"
CONFIGS = "configs"
STAMP = ".built.json"  # in configs/: the hash of each file as built, to tell a hand edit from a stale build
SHIPPED = ("LICENSE", "large_files.yml", "docs", "models/model.pt")  # what a shared bundle folder holds besides configs
LINE_WIDTH = 120
_LEADING = ("schema", "version", "changelog")
_STEPS = ("initialize", "run", "finalize")

logger = logging.getLogger(__name__)


class BundleConfigError(ValueError):
    """A bundle's config sources cannot be built, or its built configs are stale or were edited by hand."""


def bundles_root() -> Path:
    """The folder that holds the bundles: ``$MONAI_JATTN_BUNDLES`` if set, else the ``bundles/`` folder of the
    source checkout the package runs from.

    Raises:
        FileNotFoundError: when the variable names no folder, or the package is not run from a source
            checkout (e.g. an installed wheel) and the variable is not set; the message says what to do.
    """
    configured = os.environ.get(BUNDLES_ENV)
    if configured:
        if not Path(configured).is_dir():
            raise FileNotFoundError(f"{BUNDLES_ENV}={configured}: not a folder; it must hold the bundle folders.")
        return Path(configured).resolve()
    checkout = Path(__file__).resolve().parents[1]  # monai_jattn/bundles.py -> the checkout
    if (checkout / "bundles").is_dir() and (checkout / "setup.cfg").is_file():
        return checkout / "bundles"
    raise FileNotFoundError(
        f"no bundles folder found: the package does not run from a source checkout ({checkout}); pass --bundle_dir "
        f"(the bundle folder; --bundles_root to python -m monai_jattn.bundles) or set {BUNDLES_ENV} to the folder "
        "that holds the bundles."
    )


def bundle_names(root: str | os.PathLike) -> list[str]:
    """The bundles under ``root`` that are built from sources: the folders with a ``source/`` folder."""
    return sorted(p.name for p in Path(root).iterdir() if (p / SOURCE).is_dir())


def _load(path: Path) -> dict:
    """A config file, read by MONAI's reader; the error names the file when it is unreadable or not an object."""
    try:
        config = ConfigParser.load_config_file(path)
        if isinstance(config, dict):
            return config
        problem = f"a config must be a JSON object, found {type(config).__name__}"
    except (OSError, ValueError) as e:  # JSON errors and undecodable bytes are ValueErrors
        problem = f"not a readable JSON config ({e})"
    raise BundleConfigError(f"{path}: {problem}.")


def merge_config(shared: dict, own: dict, own_name: str = "the bundle's source") -> dict:
    """``own`` laid over ``shared`` by the rules of MONAI's ``ConfigParser.load_config_files``.

    A key ``a#b#c`` whose first part ``a`` is a top-level id of ``shared`` sets ``c`` inside it; ``+a`` extends
    the list or dict ``a``; any other key is set (or replaced) at the top level. So an overlay (e.g.
    ``evaluate.json``, whose ``validate#runner`` is meant for ``train.json``) keeps its flat keys for MONAI to
    apply when it is given after ``train.json``.

    Args:
        shared: the shared recipe's config.
        own: the bundle's own parts.
        own_name: the file ``own`` comes from, for errors.

    Raises:
        BundleConfigError: a key that repeats the shared value (the source should not say it again), or a key
            whose path does not exist in the shared config.
    """
    parser = ConfigParser(config=deepcopy(shared))
    for key, value in own.items():
        extend = key.startswith(MERGE_KEY)
        id = key[len(MERGE_KEY) :] if extend else key
        nested = key not in shared and ReferenceResolver.split_id(id)[0] in shared
        repeated = shared[key] == value if key in shared else nested and id in parser and parser[id] == value
        if repeated and not extend:
            raise BundleConfigError(f"{own_name}: '{key}' repeats the shared recipe's value; delete it there.")
        if not nested:  # a top-level id, or an overlay's key (validate#runner) for MONAI to apply to train.json
            parser.config[key] = deepcopy(value)
            continue
        try:
            merge_kv(parser, key, deepcopy(value))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise BundleConfigError(f"{own_name}: '{key}' does not fit the shared recipe ({e!r}).") from e
    return parser.get()


def reading_order(config: dict) -> dict:
    """``config`` with its top-level ids in the order a reader expects, whatever file set them: the metadata's
    ``schema``, ``version`` and ``changelog`` first, then settings and components, then sections (``train``,
    ``validate``), then the workflow's steps (``initialize``, ``run``, ``finalize``). Ids of one kind keep their
    order, so an overlay's keys apply as written."""

    def rank(key: str) -> int:
        if key in _LEADING:
            return 0
        if key.lstrip(MERGE_KEY) in _STEPS:
            return 3
        value = config[key]
        return 2 if isinstance(value, dict) and "_target_" not in value else 1

    return {key: config[key] for key in sorted(config, key=rank)}


def format_config(config: Any, indent: int = 0, prefix: str = "") -> str:
    """JSON text of ``config``, 4-space indented, an object or list on one line where it fits in 120 columns."""
    one_line = json.dumps(config)
    if not isinstance(config, (dict, list)) or not config or indent + len(prefix) + len(one_line) < LINE_WIDTH:
        return one_line
    pad = " " * (indent + 4)
    if isinstance(config, dict):
        items = []
        for key, value in config.items():
            head = f"{json.dumps(key)}: "
            items.append(pad + head + format_config(value, indent + 4, head))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + format_config(value, indent + 4) for value in config]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def built_configs(bundle_dir: str | os.PathLike, common_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """The text of each file of a bundle's ``configs/``, built from its sources: for each file of ``source/`` and
    of the shared ``common/`` (``<bundle_dir>/../common`` unless given), a JSON config is the two merged with
    `merge_config`; a file in only one of them, or another kind of file (``logging.conf``), is taken as it is (the
    bundle's own first).

    Raises:
        BundleConfigError: the bundle has no ``source/``, or a source cannot be read or merged.
    """
    bundle_dir = Path(bundle_dir)
    source = bundle_dir / SOURCE
    common = Path(common_dir) if common_dir is not None else bundle_dir.parent / COMMON
    if not source.is_dir():
        raise BundleConfigError(f"{bundle_dir}: no {SOURCE}/ folder, so no configs to build.")
    names = sorted({p.name for folder in (source, common) if folder.is_dir() for p in folder.iterdir() if p.is_file()})
    texts = {}
    for name in names:
        if not name.endswith(".json"):
            texts[name] = (source / name if (source / name).is_file() else common / name).read_text()
            continue
        shared = _load(common / name) if (common / name).is_file() else {}
        own = _load(source / name) if (source / name).is_file() else {}
        texts[name] = format_config(reading_order(merge_config(shared, own, str(source / name)))) + "\n"
    return texts


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build_bundle(bundle_dir: str | os.PathLike, check: bool = False) -> list[str]:
    """Write a bundle's ``configs/`` from its sources (see `built_configs`), each file only when it changed.

    Args:
        bundle_dir: the bundle folder (with ``source/``; the shared recipe is ``../common``).
        check: write nothing; raise when a built file is missing or differs from what its sources give.

    Returns:
        the names of the files written (or, with ``check``, that would be written: none, else it raises).

    Raises:
        BundleConfigError: with ``check``, the stale or missing files; without it, a built file that was edited
            by hand since it was built (it is kept: move the change into ``source/``), or a source that cannot be
            built.
    """
    configs = Path(bundle_dir) / CONFIGS
    stamp_path = configs / STAMP
    try:
        stamps = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
    except (OSError, ValueError):  # a damaged stamp: every built file that differs counts as edited by hand
        stamps = {}
    changed = []
    for name, text in built_configs(bundle_dir).items():
        path = configs / name
        current = path.read_text() if path.is_file() else None
        if current == text:
            continue
        if current is not None and _digest(current) != stamps.get(name):
            raise BundleConfigError(
                f"{path}: edited by hand since it was built from {Path(bundle_dir) / SOURCE / name} and "
                f"bundles/{COMMON}/{name}; move the change into {SOURCE}/{name} (or delete {path}) and build again: "
                f"python -m monai_jattn.bundles build."
            )
        changed.append(name)
        if not check:
            write_text_atomic(path, text)
            stamps[name] = _digest(text)
    if check and changed:
        raise BundleConfigError(
            f"{configs}: {', '.join(changed)} missing or stale (the sources changed since the last build); "
            "run: python -m monai_jattn.bundles build."
        )
    if changed:
        write_json_atomic(stamp_path, stamps)
    return changed


def export_bundle(bundle_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir/<bundle>``, the bundle as the model zoo holds it, whose inference runs without this package:
    `monai_jattn.bundle_export.export_bundle` (see there)."""
    from monai_jattn.bundle_export import export_bundle as export

    return export(bundle_dir, out_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``build [BUNDLE ...] [--check]`` and ``export BUNDLE OUT_DIR`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.bundles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundles_root", help=f"folder of the bundles (default: ${BUNDLES_ENV} or the checkout's)")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write each bundle's configs/ from common/ and its source/")
    build.add_argument("bundles", nargs="*", help="bundle folder names (default: all)")
    build.add_argument("--check", action="store_true", help="write nothing; fail when a built config is stale")
    export = commands.add_parser("export", help="copy a bundle, configs built, as the model zoo ships it")
    export.add_argument("bundle", help="bundle folder name, e.g. drive_jattn_segmentation")
    export.add_argument("out_dir", help="where to write OUT_DIR/<bundle>")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        root = Path(args.bundles_root) if args.bundles_root else bundles_root()
        names = [args.bundle] if args.command == "export" else args.bundles or bundle_names(root)
        unknown = [name for name in names if not (root / name / SOURCE).is_dir()]
        if unknown:
            known = ", ".join(bundle_names(root))
            raise BundleConfigError(f"{root}: no bundle {', '.join(unknown)}; its bundles: {known}.")
        if args.command == "export":
            logger.info("wrote %s", export_bundle(root / args.bundle, args.out_dir))
            return 0
        for name in names:
            changed = build_bundle(root / name, check=args.check)
            logger.info("%s: %s", name, f"built {', '.join(changed)}" if changed else "current")
    except (BundleConfigError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
