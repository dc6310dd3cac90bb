"""The bundles' configs, built from one shared recipe and each bundle's own parts, and a bundle as it is shared.

What every bundle shares (speed settings, run folders, lock, resume, fine-tuning, trainer, evaluator, handlers,
final validation, the multi-GPU overlays) is written once, in ``bundles/common/``; a bundle's ``source/`` holds
only what differs (data, preprocessing and augmentation, network input/output, loss, metrics) and its
``metadata.json``. ``build`` (`monai_jattn.bundle_build`) writes each ``configs/<name>.json`` from the two, so a
bundle folder is complete, as the model zoo ships it, and runs with ``python -m monai.bundle run --config_file
configs/train.json``::

    bundles/common/train.json + bundles/<bundle>/source/train.json -> bundles/<bundle>/configs/train.json

The built ``configs/`` are committed, as generated files: a clone runs without building; after editing a source,
``build`` rewrites them, and ``build --check`` (run by the test command) fails when one is stale. ``export`` copies
a bundle folder, configs built, to share it or submit it to the model zoo::

    python -m monai_jattn.bundles build [BUNDLE ...] [--check] [--force]
    python -m monai_jattn.bundles export BUNDLE OUT_DIR

A built file that was edited by hand is never overwritten without ``--force``: ``build`` stops and says to move
the change into ``source/``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monai_jattn.bundle_build import (
    COMMON,
    CONFIGS,
    SOURCE,
    BundleConfigError,
    build_bundle,
    built_configs,
    bundle_names,
    format_config,
    merge_config,
    reading_order,
)

__all__ = [  # the build's names stay importable from here
    "COMMON",
    "SOURCE",
    "CONFIGS",
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

logger = logging.getLogger(__name__)


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


def export_bundle(bundle_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir/<bundle>``, the bundle as the model zoo holds it, whose inference runs without this package:
    `monai_jattn.bundle_export.export_bundle` (see there)."""
    from monai_jattn.bundle_export import export_bundle as export

    return export(bundle_dir, out_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``build [BUNDLE ...] [--check] [--force]`` and ``export BUNDLE OUT_DIR`` (see the module
    docstring)."""
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.bundles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundles_root", help=f"folder of the bundles (default: ${BUNDLES_ENV} or the checkout's)")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write each bundle's configs/ from common/ and its source/")
    build.add_argument("bundles", nargs="*", help="bundle folder names (default: all)")
    build.add_argument("--check", action="store_true", help="write nothing; fail when a built config is stale")
    build.add_argument("--force", action="store_true", help="also overwrite built configs edited by hand")
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
        failed = 0
        for name in names:  # every bundle is built or checked, and every failure reported
            try:
                changed = build_bundle(root / name, check=args.check, force=args.force)
                logger.info("%s: %s", name, f"built {', '.join(changed)}" if changed else "current")
            except BundleConfigError as e:
                print(f"error: {e}", file=sys.stderr)
                failed = 1
        return failed
    except (BundleConfigError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
