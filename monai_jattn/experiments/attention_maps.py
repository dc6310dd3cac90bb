"""Attention made visible: the point-wise attention (PWA) map and the self-attention (SA) weights of chosen
pixels of a trained network, drawn over the image (the paper's claim: PWA localises, SA gathers context
from far away).

The network and the preprocessing come from the DRIVE bundle (``train.json``'s ``network_def`` and
``inference.json``'s ``preprocessing``, with the same overrides as the bundle's command line); forward
pre-hooks capture what the first `PointWiseAttention` and `SelfAttention` of the network receive during
one forward pass over the whole image; `PointWiseAttention.attention_map` and
`SelfAttention.attention_weights` turn those inputs into maps, which are brought back to the image size
(bilinear for the PWA map, nearest for the SA weights so that each attended feature cell stays visible).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from matplotlib.figure import Figure
from monai.bundle import ConfigParser

from monai_jattn.atomic_write import save_figure_atomic
from monai_jattn.experiments.figures import load_picture
from monai_jattn.networks.blocks.pointwise_attention import PointWiseAttention
from monai_jattn.networks.blocks.self_attention import SelfAttention

__all__ = [
    "AttentionMaps",
    "attention_maps",
    "default_points",
    "draw_attention_maps",
    "load_bundle_network",
    "plot_attention_maps",
    "window_origin",
]


@dataclass
class AttentionMaps:
    """What `attention_maps` returns, every map at the image size in MONAI's (width, height) layout.

    Attributes:
        points: the query pixels, ``(x, y)`` each.
        pwa: the PWA map, values in (0, 1), or None if the network has no PWA.
        sa: the SA weights of each point (mean over heads), ``(Q, W, H)``, each summing to 1 over the
            feature cells before upsampling, or None if the network has no SA.
        feature_size: the spatial size ``(w, h)`` of the features the attention works on.
    """

    points: list[tuple[int, int]]
    pwa: np.ndarray | None
    sa: np.ndarray | None
    feature_size: tuple[int, ...]


def _first(network: nn.Module, kind: type) -> nn.Module | None:
    return next((module for module in network.modules() if isinstance(module, kind)), None)


def attention_maps(network: nn.Module, image: torch.Tensor, points: Sequence[Sequence[int]]) -> AttentionMaps:
    """Run ``network`` once on ``image`` and compute its PWA map and the SA weights of ``points``.

    Args:
        network: a network with a `PointWiseAttention` and/or a `SelfAttention` module (the first of
            each is used, e.g. the bottleneck joint attention of `DenseUNet`), in eval mode.
        image: the preprocessed input ``(C, W, H)`` (one image, no batch dimension).
        points: query pixels ``(x, y)`` of the image (column, row).

    Raises:
        ValueError: when the network has neither attention module, or a point lies outside the image.
    """
    pwa, sa = _first(network, PointWiseAttention), _first(network, SelfAttention)
    if pwa is None and sa is None:
        raise ValueError("the network has no PointWiseAttention or SelfAttention module to draw.")
    size = tuple(image.shape[1:])
    points = [(int(x), int(y)) for x, y in points]
    outside = [p for p in points if not (0 <= p[0] < size[0] and 0 <= p[1] < size[1])]
    if outside:
        raise ValueError(f"points {outside} lie outside the image of size (x, y) {size}.")
    inputs: dict[str, torch.Tensor] = {}
    hooks = [
        module.register_forward_pre_hook(lambda _, args, name=name: inputs.setdefault(name, args[0].detach()))
        for name, module in (("pwa", pwa), ("sa", sa))
        if module is not None
    ]
    try:
        with torch.no_grad():
            network(image[None])
    finally:
        for hook in hooks:
            hook.remove()
    feature_size = tuple((inputs.get("sa") if "sa" in inputs else inputs["pwa"]).shape[2:])
    # DenseUNet pads the input at the end to a multiple of its size divisor (a power of 2, less than one
    # cell): one feature cell covers `stride` pixels, the power of 2 at or above image size / feature size
    stride = [2 ** math.ceil(math.log2(s / f)) for s, f in zip(size, feature_size)]
    padded = [f * k for f, k in zip(feature_size, stride)]

    def to_image(maps: torch.Tensor, mode: str) -> np.ndarray:
        up = F.interpolate(
            maps.float(), size=padded, mode=mode, **({"align_corners": False} if mode != "nearest" else {})
        )
        return up[..., : size[0], : size[1]].cpu().numpy()

    pwa_map = None
    if pwa is not None and "pwa" in inputs:
        with torch.no_grad():
            pwa_map = to_image(pwa.attention_map(inputs["pwa"]).float(), "bilinear")[0, 0]
    sa_maps = None
    if sa is not None and "sa" in inputs:
        cells = [(x // stride[0], y // stride[1]) for x, y in points]
        weights = sa.attention_weights(inputs["sa"], cells).mean(dim=1)  # (1, Q, w, h), mean over heads
        sa_maps = to_image(weights, "nearest")[0]
    return AttentionMaps(points, pwa_map, sa_maps, feature_size)


def default_points(size: Sequence[int]) -> list[tuple[int, int]]:
    """Three query pixels spread over an image of size ``(x, y)``: centre, upper left, lower right."""
    return [(int(size[0] * fx), int(size[1] * fy)) for fx, fy in ((0.5, 0.5), (0.3, 0.3), (0.72, 0.68))]


def plot_attention_maps(picture: np.ndarray, maps: AttentionMaps, path: str | os.PathLike, title: str = "") -> None:
    """Draw the image with the query points, the PWA map over it, and one panel of SA weights per point
    (each with its own colour scale from its lowest to its highest value; the SA titles give the weight
    of an even spread over the feature cells).

    Args:
        picture: the image for display, ``(H, W[, 3])`` (e.g. from `load_picture`).
        maps: from `attention_maps`.
        path: the PNG to write (atomically).
        title: the figure title.
    """
    panels: list[tuple[str, np.ndarray | None, int | None]] = [("image and query points", None, None)]
    if maps.pwa is not None:
        panels.append(("PWA map", maps.pwa.T, None))
    if maps.sa is not None:
        uniform = 1.0 / float(np.prod(maps.feature_size))
        panels += [
            (f"SA weights of point {i + 1} (even: {uniform:.2g})", maps.sa[i].T, i) for i in range(len(maps.points))
        ]
    grey = picture if picture.ndim == 2 else picture.mean(axis=-1)
    grey = grey / max(float(grey.max()), 1e-8)
    figure = Figure(figsize=(3.0 * len(panels), 3.4))
    axes = figure.subplots(1, len(panels), squeeze=False)
    colours = matplotlib.colormaps["tab10"].colors
    for axis, (label, values, point) in zip(axes[0], panels):
        if values is None:
            axis.imshow(picture / (255.0 if picture.max() > 1 else 1.0) if picture.ndim == 3 else grey, cmap="gray")
        else:
            axis.imshow(grey, cmap="gray")
            low, high = float(values.min()), float(values.max())
            shown = axis.imshow(values, cmap="inferno", alpha=0.6, vmin=low, vmax=high if high > low else low + 1e-6)
            figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.02).ax.tick_params(labelsize=6)
        for i, (x, y) in enumerate(maps.points):
            if point is None or point == i:
                axis.plot(x, y, marker="+", markersize=10, markeredgewidth=2, color=colours[i % len(colours)])
                if point is None:
                    axis.annotate(
                        str(i + 1), (x, y), xytext=(4, 4), textcoords="offset points", color="white", fontsize=8
                    )
        axis.set_title(label, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=100)


def load_bundle_network(
    checkpoint: str | os.PathLike, bundle_dir: str | os.PathLike, overrides: Mapping[str, Any] | None = None
) -> tuple[nn.Module, Any]:
    """The bundle's network (``network_def`` of ``train.json``) with the weights of ``checkpoint``, in eval
    mode on CPU, and the bundle's inference preprocessing (``preprocessing`` of ``inference.json``).

    Args:
        checkpoint: the bundle's ``models/model.pt`` (a state dict) or ``latest.pt`` (its ``network``).
        bundle_dir: the bundle folder.
        overrides: bundle config overrides, e.g. ``{"network_def#growth_rate": 8}``, as the checkpoint
            was trained with.

    Raises:
        FileNotFoundError: a missing checkpoint.
        RuntimeError: naming the checkpoint, when its weights do not fit the network.
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: checkpoint not found.")
    configs = Path(bundle_dir) / "configs"
    parser = ConfigParser()
    parser.read_config([str(configs / "train.json"), str(configs / "inference.json")])
    parser.update({"bundle_root": str(bundle_dir), **dict(overrides or {})})
    network = parser.get_parsed_content("network_def")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state = state.get("network", state.get("model", state)) if isinstance(state, dict) else state
    try:
        network.load_state_dict(state)
    except RuntimeError as error:
        raise RuntimeError(
            f"{checkpoint}: the weights do not fit the bundle's network_def; pass the overrides it was trained with "
            f"(--network_overrides / --override). {error}"
        ) from error
    return network.eval(), parser.get_parsed_content("preprocessing")


def window_origin(size: Sequence[int], window: Sequence[int], points: Sequence[Sequence[int]]) -> tuple[int, int]:
    """The ``(x, y)`` corner of a ``window`` (width, height) centred on the mean of ``points``, moved inside
    an image of size ``(x, y)``.

    Raises:
        ValueError: when the window is larger than the image or a point falls outside it.
    """
    if any(w > s or w < 1 for w, s in zip(window, size)):
        raise ValueError(f"window {list(window)} must fit the image of size (x, y) {list(size)}.")
    centre = np.mean(np.asarray(points, dtype=float).reshape(-1, 2), axis=0)
    origin = tuple(int(min(max(round(c - w / 2), 0), s - w)) for c, w, s in zip(centre, window, size))
    outside = [tuple(p) for p in points if not all(o <= v < o + w for v, o, w in zip(p, origin, window))]
    if outside:
        raise ValueError(
            f"points {outside} do not fit one window {list(window)} (placed at {origin}); choose closer points."
        )
    return origin[0], origin[1]


def draw_attention_maps(
    checkpoint: str | os.PathLike,
    image: str | os.PathLike,
    out: str | os.PathLike,
    bundle_dir: str | os.PathLike,
    points: Sequence[Sequence[int]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    window: Sequence[int] | None = None,
) -> AttentionMaps:
    """Load the network, preprocess ``image`` as the bundle's inference does, and write the PNG ``out``.

    Args:
        checkpoint: see `load_bundle_network`.
        image: the image file (e.g. a DRIVE ``.tif``).
        out: the PNG to write.
        bundle_dir: the bundle folder.
        points: query pixels ``(x, y)`` of the image; default `default_points` (of the window, if given).
        overrides: see `load_bundle_network`.
        window: ``(width, height)`` of a window around the points that the network sees instead of the
            whole image, e.g. the bundle's 128 x 128 inference window (`SlidingWindowInferer`), over
            which its SA then attends; the maps and the picture are then of that window, with
            ``points`` in window coordinates. None: the whole image in one pass.
    """
    network, preprocessing = load_bundle_network(checkpoint, bundle_dir, overrides)
    data = preprocessing({"image": str(image)})
    tensor = torch.as_tensor(data["image"]).float()
    picture = load_picture(image)
    size = tuple(tensor.shape[1:])
    if window is None:
        chosen = default_points(size) if points is None else points
        where = "one pass, whole image"
    else:
        if points is None:
            centred = (int(size[0] // 2), int(size[1] // 2))
            x0, y0 = window_origin(size, window, [centred])
            points = [(x0 + x, y0 + y) for x, y in default_points(window)]
        x0, y0 = window_origin(size, window, points)
        tensor = tensor[:, x0 : x0 + window[0], y0 : y0 + window[1]]
        picture = picture[y0 : y0 + window[1], x0 : x0 + window[0]]
        chosen = [(x - x0, y - y0) for x, y in points]
        where = f"window x {x0}-{x0 + window[0] - 1}, y {y0}-{y0 + window[1] - 1}"
    maps = attention_maps(network, tensor, chosen)
    title = f"{Path(image).name}: attention on {'x'.join(map(str, maps.feature_size))} features ({where})"
    plot_attention_maps(picture, maps, out, title)
    return maps
