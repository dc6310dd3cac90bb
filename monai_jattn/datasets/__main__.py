"""Command line: list the registered datasets, write sample datasets and datalists, check datasets, draw
preprocessing figures. Every command serves every dataset of the registry (`monai_jattn.datasets`).

Examples::

    python -m monai_jattn.datasets list
    python -m monai_jattn.datasets sample drive OUT --train 20 --test 20 --seed 0 [--size H W] [--no-test-labels]
    python -m monai_jattn.datasets sample isic2017 OUT --train N --val N --test N --seed 0 [--size H W]
    python -m monai_jattn.datasets sample chasedb1 OUT --train 2 --test 1 [--size H W]
    python -m monai_jattn.datasets sample msd OUT --train 6 --test 2 --classes 3 --dims 3 [--size X Y Z]
    python -m monai_jattn.datasets datalist <dataset> ROOT OUT.json [--val-fraction 0.2 --seed 0]
    python -m monai_jattn.datasets check <dataset> ROOT
    python -m monai_jattn.datasets figure <dataset> OUT.png [--root ROOT]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from monai_jattn.atomic_write import write_text_atomic
from monai_jattn.data.checks import check_datalist
from monai_jattn.data.errors import DatasetError
from monai_jattn.data.split import split_train_val
from monai_jattn.datasets import DatasetSpec, dataset_names, get_dataset
from monai_jattn.setting_checks import SettingError, check_count, check_positive_int

__all__ = ["dataset_sections", "dataset_table", "write_datalist_json", "main"]

logger = logging.getLogger("monai_jattn.data")


def _absent_split(spec: DatasetSpec, root: str | os.PathLike, split: str) -> str:
    """Why ``split`` is absent under ``root``: the error its datalist gives, naming the missing folder."""
    try:
        spec.datalist(root, split)
    except DatasetError as e:
        return str(e)
    return f"{root}: no {split} folder"


def dataset_sections(
    dataset: str, root: str | os.PathLike, val_fraction: float = 0.0, seed: int = 0
) -> dict[str, list]:
    """All splits of a registered dataset found under ``root``, keyed as in a Decathlon datalist.

    The dataset's ``splits`` in order (DRIVE: ``"training"`` and ``"test"``; ISIC-2017: ``"training"``,
    ``"validation"`` and ``"test"``), and ``"validation"`` split off the training set with
    `split_train_val` when ``val_fraction`` > 0. A split that ``spec.has_split`` does not find is
    logged as a warning; a split that is present but broken, or no split at all, raises `DatasetError`.

    Args:
        dataset: a registered dataset name.
        root: the dataset folder in its official layout.
        val_fraction: the fraction of the training set to hold out as ``"validation"``.
        seed: seed of that split.
    """
    spec = get_dataset(dataset)
    sections, missing = {}, []
    for split in spec.splits:
        if spec.has_split(root, split):
            sections[split] = spec.datalist(root, split)
        else:
            missing.append(_absent_split(spec, root, split))
    if not sections:
        raise DatasetError(f"{root}: no {spec.title} split found:\n  " + "\n  ".join(missing))
    for problem in missing:
        logger.warning("%s split missing: %s", spec.name, problem)
    if val_fraction > 0:
        if "training" not in sections:
            raise DatasetError(f"{root}: no training split to take a validation set from")
        sections["training"], sections["validation"] = split_train_val(sections["training"], val_fraction, seed)
    return sections


def dataset_table() -> str:
    """The registered datasets as a markdown table: name, title, splits, bundle, classes, FOV, 2nd observer,
    description."""
    lines = [
        "| name | title | splits | bundle | classes | FOV | 2nd observer | description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in dataset_names():
        spec = get_dataset(name)
        cells = (
            f"`{spec.name}`",
            spec.title,
            ", ".join(spec.splits),
            f"`{spec.bundle}`" if spec.bundle else "–",
            ", ".join(spec.classes) or "each copy's own",
            "yes" if spec.fov_key else "no",
            "yes" if spec.second_observer else "no",
            spec.description,
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


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


def _add_sample_parser(kinds: argparse._SubParsersAction, spec: DatasetSpec) -> None:
    """``sample <name> OUT`` with the dataset's own `SampleOption` s, then ``--seed`` and ``--size``."""
    sub = kinds.add_parser(spec.name, help=f"a synthetic {spec.title} sample")
    sub.add_argument("out", help="the dataset folder to write")
    for option in spec.sample_options:
        if isinstance(option.default, bool):
            action = "store_false" if option.default else "store_true"
            sub.add_argument(option.flag, dest=option.dest, action=action, help=option.help)
        else:
            sub.add_argument(
                option.flag, dest=option.dest, type=_int_type(check_count), default=option.default, help=option.help
            )
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument(
        "--size",
        type=_int_type(check_positive_int),
        nargs="+",
        metavar="N",
        help="image size, one value per spatial axis (2D images: H W); default: realistic full size",
    )


def _parser() -> argparse.ArgumentParser:
    names = dataset_names()
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.datasets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list the registered datasets")

    sample = commands.add_parser("sample", help="write a synthetic dataset in the official layout")
    sample_kinds = sample.add_subparsers(dest="dataset", required=True)
    for name in names:
        _add_sample_parser(sample_kinds, get_dataset(name))

    datalist = commands.add_parser("datalist", help="write a MONAI Decathlon-style datalist JSON")
    datalist.add_argument("dataset", choices=names)
    datalist.add_argument("root")
    datalist.add_argument("out")
    datalist.add_argument(
        "--val-fraction",
        type=float,
        default=0.0,
        help="split a validation set off training (datasets without an official validation split)",
    )
    datalist.add_argument("--seed", type=int, default=0, help="seed of the validation split")

    check = commands.add_parser("check", help="open every file of a dataset and report all problems")
    check.add_argument("dataset", choices=names)
    check.add_argument("root")

    figure = commands.add_parser("figure", help="draw raw vs preprocessed samples (PNG)")
    figure.add_argument("dataset", choices=[name for name in names if get_dataset(name).figure_panels is not None])
    figure.add_argument("out")
    figure.add_argument("--root", help="a real dataset folder; default: a synthetic sample")
    figure.add_argument("--seed", type=int, default=0)
    return parser


def _counts(sections: dict[str, list]) -> str:
    return ", ".join(f"{k} {len(v)}" for k, v in sections.items())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 with the message on a `DatasetError`)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        print(dataset_table(), end="")
        return 0
    spec = get_dataset(args.dataset)
    if args.command == "datalist" and args.val_fraction and "validation" in spec.splits:
        parser.error(f"--val-fraction is not for {spec.title}: it has an official validation split")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "sample":
            options = {option.dest: getattr(args, option.dest) for option in spec.sample_options}
            size = tuple(args.size) if args.size else None
            out = spec.write_sample(args.out, seed=args.seed, image_size=size, **options)
            counts = ", ".join(
                f"{o.flag.lstrip('-')} {options[o.dest]}" for o in spec.sample_options if type(o.default) is int
            )
            print(f"wrote a {spec.title} sample ({counts}) to {out}")
        elif args.command == "datalist":
            sections = dataset_sections(spec.name, args.root, args.val_fraction, args.seed)
            write_datalist_json(sections, args.out, spec.title)
            print(f"wrote {args.out}: {_counts(sections)}")
        elif args.command == "check":
            sections = dataset_sections(spec.name, args.root)
            (spec.check_files or check_datalist)([entry for entries in sections.values() for entry in entries])
            print(f"{args.root}: all files OK ({_counts(sections)})")
        else:
            from monai_jattn.datasets.figure import plot_preprocessing  # matplotlib only when needed

            print(f"wrote {plot_preprocessing(spec.name, args.out, root=args.root, seed=args.seed)}")
    except (DatasetError, SettingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
