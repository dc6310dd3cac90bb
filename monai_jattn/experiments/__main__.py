"""Command line of the experiments: ``python -m monai_jattn.experiments ablation|report|attention-maps ...``.

Examples::

    # all twelve models, three seeds, the paper's DRIVE budget (on a GPU)
    python -m monai_jattn.experiments ablation --dataset drive --dataset_dir /data/DRIVE \\
        --output_dir outputs/ablation_drive --max_iterations 60000 --seeds 0,1,2

    # a small CPU run on sample data, three models, a shrunken network
    python -m monai_jattn.datasets sample drive data/drive_sample --train 4 --test 2 --size 64 64
    python -m monai_jattn.experiments ablation --dataset drive --dataset_dir data/drive_sample \\
        --output_dir outputs/ablation_small --models dense_unet,pwa,ja9 --max_iterations 20 \\
        --seeds 0,1 --override num_workers=0 --override 'patch_size=[32, 32]' \\
        --network_overrides '{"growth_rate": 8}'

    # redraw the tables and figures from the finished runs
    python -m monai_jattn.experiments report --dataset drive --dataset_dir data/drive_sample \\
        --output_dir outputs/ablation_small

    # the PWA map and the SA weights of three pixels of a trained DenseUNet-JA, over a DRIVE image
    python -m monai_jattn.experiments attention-maps \\
        --checkpoint outputs/ablation_small/runs/ja9_seed0/models/model.pt \\
        --image data/drive_sample/test/images/01_test.tif --out attention.png --points 280,290 150,200 400,420 \\
        --network_overrides '{"growth_rate": 8}'
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from monai_jattn.bundles import BUNDLES_ENV
from monai_jattn.experiments.ablation import collect_results, run_ablation
from monai_jattn.experiments.ablation_report import write_report
from monai_jattn.experiments.arguments import parse_network_overrides, parse_override, parse_point, parse_seeds
from monai_jattn.experiments.attention_maps import draw_attention_maps
from monai_jattn.experiments.bundle_runs import bundle_datasets, find_bundle
from monai_jattn.experiments.time_to_quality import RECIPES, parse_recipe
from monai_jattn.networks.names import MODEL_VARIANTS

__all__ = ["main"]


def _recipe(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        return parse_recipe(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.experiments", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dataset", required=True, choices=bundle_datasets(), help="a registered dataset with a bundle"
    )
    common.add_argument("--dataset_dir", required=True, help="dataset in its official layout (real or sample)")
    common.add_argument("--output_dir", required=True, help="holds runs/, results.csv/.md and the figures")
    common.add_argument("--num_figure_images", type=int, default=3, help="test images in the segmentation grid")
    common.add_argument(
        "--data_label",
        default="",
        help='names the data in the report and figure titles, e.g. "synthetic DRIVE sample" (default: the dataset '
        "name)",
    )

    ablation = commands.add_parser("ablation", parents=[common], help="train and evaluate the models, then report")
    ablation.add_argument(
        "--models",
        nargs="+",
        default=None,
        help=f"comma- or space-separated, from {','.join(MODEL_VARIANTS)}; default the paper's twelve (all but "
        "basic_unet)",
    )
    ablation.add_argument("--max_iterations", type=int, required=True, help="training iterations of every run")
    ablation.add_argument("--seeds", type=parse_seeds, default=[0], help="comma-separated, e.g. 0,1,2 (default 0)")
    ablation.add_argument(
        "--val_interval",
        type=int,
        help="iterations between validations, a divisor of --max_iterations (default: the largest one up to the "
        "bundle's)",
    )
    ablation.add_argument("--batch_size", type=int, help="training batch size (default: the bundle's, 4)")
    ablation.add_argument("--device", help="e.g. cpu or cuda:0 (default: the bundle's choice)")
    ablation.add_argument(
        "--bundle_dir",
        help=f"the bundle folder (default: the dataset's bundle under ${BUNDLES_ENV} or the checkout's bundles/)",
    )
    ablation.add_argument(
        "--network_overrides",
        type=parse_network_overrides,
        default={},
        help="JSON DenseUNet arguments, e.g. '{\"growth_rate\": 8}' (not for basic_unet, which replaces the network)",
    )
    ablation.add_argument(
        "--override", type=parse_override, action="append", default=[], metavar="KEY=VALUE", help="any bundle config id"
    )
    ablation.add_argument(
        "--recipe",
        type=_recipe,
        default=("paper", RECIPES["paper"]),
        help="the training recipe: 'paper' (train.json, the default), 'fast' (train.json then train_fast.json), or "
        "name=train.json,overlay.json (configs under the bundle's configs/)",
    )

    commands.add_parser("report", parents=[common], help="rewrite the tables and figures from the finished runs")

    maps = commands.add_parser(
        "attention-maps", help="draw a trained network's PWA map and the SA weights of chosen pixels over an image"
    )
    maps.add_argument("--checkpoint", required=True, help="the bundle's models/model.pt (or latest.pt)")
    maps.add_argument("--image", required=True, help="an image file, e.g. DRIVE/test/images/01_test.tif")
    maps.add_argument("--out", default="attention_maps.png", help="the PNG to write (default attention_maps.png)")
    maps.add_argument(
        "--points",
        type=parse_point,
        nargs="+",
        default=None,
        help="query pixels x,y (column,row); default three spread ones",
    )
    maps.add_argument(
        "--window",
        type=int,
        nargs=2,
        metavar=("WIDTH", "HEIGHT"),
        help="run on a window around the points (e.g. 128 128, the bundle's inference window) instead of the whole "
        "image",
    )
    maps.add_argument(
        "--bundle_dir",
        help=f"the bundle folder (default: the DRIVE bundle under ${BUNDLES_ENV} or the checkout's bundles/)",
    )
    maps.add_argument(
        "--network_overrides",
        type=parse_network_overrides,
        default={},
        help="JSON DenseUNet arguments the checkpoint was trained with",
    )
    maps.add_argument(
        "--override", type=parse_override, action="append", default=[], metavar="KEY=VALUE", help="any bundle config id"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    command = shlex.join(["python", "-m", "monai_jattn.experiments", *(sys.argv[1:] if argv is None else argv)])
    if args.command == "report":
        write_report(
            collect_results(args.output_dir),
            args.output_dir,
            args.dataset,
            args.dataset_dir,
            args.num_figure_images,
            data_label=args.data_label,
        )
        return
    overrides = {f"network_def#{key}": value for key, value in args.network_overrides.items()}
    if args.command == "attention-maps":
        overrides.update(dict(args.override))
        bundle = find_bundle("drive", args.bundle_dir)
        draw_attention_maps(args.checkpoint, args.image, args.out, bundle, args.points, overrides, args.window)
        return
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    overrides.update(dict(args.override))
    run_ablation(
        args.dataset,
        args.dataset_dir,
        args.output_dir,
        models=args.models,
        seeds=args.seeds,
        max_iterations=args.max_iterations,
        val_interval=args.val_interval,
        overrides=overrides,
        device=args.device,
        bundle_dir=args.bundle_dir,
        num_figure_images=args.num_figure_images,
        command=command,
        data_label=args.data_label,
        train_configs=args.recipe[1],
    )


if __name__ == "__main__":
    main()
