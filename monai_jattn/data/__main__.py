"""Command line: write sample datasets, write datalists, check datasets, draw preprocessing figures.

Examples::

    python -m monai_jattn.data sample drive OUT --train 20 --test 20 --seed 0 [--size H W] [--no-test-labels]
    python -m monai_jattn.data sample isic2017 OUT --train N --val N --test N --seed 0 [--size H W]
    python -m monai_jattn.data datalist drive ROOT OUT.json [--val-fraction 0.2 --seed 0]
    python -m monai_jattn.data datalist isic2017 ROOT OUT.json
    python -m monai_jattn.data check drive|isic2017 ROOT
    python -m monai_jattn.data figure drive|isic2017 OUT.png [--root ROOT]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from monai_jattn.data.checks import DatasetError, check_datalist
from monai_jattn.data.drive import DRIVE_SPLITS, drive_datalist, find_drive_dir
from monai_jattn.utils import write_text_atomic
from monai_jattn.data.isic2017 import ISIC2017_FOLDERS, isic2017_datalist
from monai_jattn.data.sample_drive import write_drive_sample
from monai_jattn.data.sample_isic2017 import write_isic2017_sample
from monai_jattn.data.split import split_train_val
from monai_jattn.settings import SettingError, check_count, check_positive_int

__all__ = ["dataset_sections", "write_datalist_json", "main"]

logger = logging.getLogger("monai_jattn.data")


def dataset_sections(
    dataset: str, root: str | os.PathLike, val_fraction: float = 0.0, seed: int = 0
) -> dict[str, list]:
    """All splits of a dataset found under ``root``, keyed as in a Decathlon datalist.

    DRIVE gives ``"training"`` and ``"test"`` (and ``"validation"``, split off the training set
    with `split_train_val`, when ``val_fraction`` > 0); ISIC-2017 gives ``"training"``,
    ``"validation"`` and ``"test"``. A split whose folder is absent is logged as a warning; a
    split that is present but broken, or no split at all, raises `DatasetError`.
    """
    if dataset not in ("drive", "isic2017"):
        raise ValueError(f"dataset must be 'drive' or 'isic2017', got {dataset!r}")
    sections, missing = {}, []
    for split in DRIVE_SPLITS if dataset == "drive" else tuple(ISIC2017_FOLDERS):
        if dataset == "drive":
            try:
                find_drive_dir(root, split)
            except DatasetError as e:
                missing.append(str(e))
                continue
            sections[split] = drive_datalist(root, split)
        elif (Path(root) / ISIC2017_FOLDERS[split][0]).is_dir():
            sections[split] = isic2017_datalist(root, split)
        else:
            missing.append(f"{Path(root) / ISIC2017_FOLDERS[split][0]}: does not exist")
    if not sections:
        raise DatasetError(f"{root}: no {dataset} split found:\n  " + "\n  ".join(missing))
    for problem in missing:
        logger.warning("%s split missing: %s", dataset, problem)
    if val_fraction > 0:
        if "training" not in sections:
            raise DatasetError(f"{root}: no training split to take a validation set from")
        sections["training"], sections["validation"] = split_train_val(sections["training"], val_fraction, seed)
    return sections


def write_datalist_json(sections: dict[str, list], out_path: str | os.PathLike, name: str) -> Path:
    """Write a MONAI Decathlon-style datalist JSON, with paths relative to its own folder.

    `monai.data.load_decathlon_datalist(out_path, data_list_key=...)` reads it back to absolute paths.
    """
    out_path = Path(out_path)
    base = out_path.resolve().parent

    def relative(entry: dict) -> dict:
        return {k: os.path.relpath(Path(v).resolve(), base) if k != "id" else v for k, v in entry.items()}

    content = {"name": name, "numTraining": len(sections.get("training", []))}
    content.update({section: [relative(entry) for entry in entries] for section, entries in sections.items()})
    return write_text_atomic(out_path, json.dumps(content, indent=2) + "\n")


def _int_type(check: Callable[[int, str], int]) -> Callable[[str], int]:
    """An argparse type: an integer that ``check`` (e.g. `check_count`) accepts, else argparse's error naming
    the option."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        try:
            return check(value, "the value")
        except SettingError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write a synthetic dataset in the official layout")
    sample_kinds = sample.add_subparsers(dest="dataset", required=True)
    for kind in ("drive", "isic2017"):
        sub = sample_kinds.add_parser(kind)
        sub.add_argument("out", help="the dataset folder to write")
        sub.add_argument("--train", type=_int_type(check_count), default=20)
        if kind == "isic2017":
            sub.add_argument("--val", type=_int_type(check_count), default=5)
        else:
            sub.add_argument(
                "--no-test-labels", action="store_true", help="omit test/1st_manual, like current downloads"
            )
        sub.add_argument("--test", type=_int_type(check_count), default=20 if kind == "drive" else 10)
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument(
            "--size",
            type=_int_type(check_positive_int),
            nargs=2,
            metavar=("H", "W"),
            help="image size; default: realistic full size",
        )

    datalist = commands.add_parser("datalist", help="write a MONAI Decathlon-style datalist JSON")
    datalist.add_argument("dataset", choices=("drive", "isic2017"))
    datalist.add_argument("root")
    datalist.add_argument("out")
    datalist.add_argument("--val-fraction", type=float, default=0.0, help="DRIVE: split a validation set off training")
    datalist.add_argument("--seed", type=int, default=0, help="seed of the validation split")

    check = commands.add_parser("check", help="open every file of a dataset and report all problems")
    check.add_argument("dataset", choices=("drive", "isic2017"))
    check.add_argument("root")

    figure = commands.add_parser("figure", help="draw raw vs preprocessed samples (PNG)")
    figure.add_argument("dataset", choices=("drive", "isic2017"))
    figure.add_argument("out")
    figure.add_argument("--root", help="a real dataset folder; default: a synthetic sample")
    figure.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 with the message on a `DatasetError`)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "datalist" and args.dataset == "isic2017" and args.val_fraction:
        parser.error("--val-fraction is for DRIVE only: ISIC-2017 has an official validation split")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    size = tuple(args.size) if getattr(args, "size", None) else None
    try:
        if args.command == "sample" and args.dataset == "drive":
            out = write_drive_sample(args.out, args.train, args.test, args.seed, size, not args.no_test_labels)
            print(f"wrote a DRIVE sample ({args.train} training, {args.test} test images) to {out}")
        elif args.command == "sample":
            out = write_isic2017_sample(args.out, args.train, args.val, args.test, args.seed, size)
            print(
                f"wrote an ISIC-2017 sample ({args.train} training, {args.val} validation, {args.test} test) to {out}"
            )
        elif args.command == "datalist":
            sections = dataset_sections(args.dataset, args.root, args.val_fraction, args.seed)
            write_datalist_json(sections, args.out, {"drive": "DRIVE", "isic2017": "ISIC-2017"}[args.dataset])
            print(f"wrote {args.out}: " + ", ".join(f"{k} {len(v)}" for k, v in sections.items()))
        elif args.command == "check":
            sections = dataset_sections(args.dataset, args.root)
            check_datalist([entry for entries in sections.values() for entry in entries])
            print(f"{args.root}: all files OK (" + ", ".join(f"{k} {len(v)}" for k, v in sections.items()) + ")")
        else:
            from monai_jattn.data.figure import plot_preprocessing  # matplotlib only when needed

            print(f"wrote {plot_preprocessing(args.dataset, args.out, root=args.root, seed=args.seed)}")
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
