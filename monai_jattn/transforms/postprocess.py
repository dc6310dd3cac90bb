"""Post-processing of segmentation predictions: turn the network output into a foreground probability and a
label map, keep the pixels inside a field of view for scoring, and write a prediction as probability, mask and
overlay PNGs."""

from __future__ import annotations

import io
import os
from collections.abc import Hashable, Mapping
from pathlib import Path

import numpy as np
import torch
from monai.config import KeysCollection
from monai.config.type_definitions import NdarrayOrTensor
from monai.data import PILWriter
from monai.data.meta_obj import get_track_meta
from monai.data.meta_tensor import MetaTensor
from monai.transforms import LabelToContour, MapTransform, Transform
from monai.visualize import blend_images

from monai_jattn.atomic_write import WriteError, write_atomic
from monai_jattn.data.sources import batch_files
from monai_jattn.transforms.load_2d import LoadImage2Dd

__all__ = ["ForegroundProbabilityd", "MaskedPixelsd", "SaveSegmentationPNGd"]


class ForegroundProbabilityd(MapTransform):
    """
    Turn an N-class network output into a foreground probability and an argmax label map, with fewer
    full-size copies than MONAI's chain

    ``Activationsd(softmax=True) -> CopyItemsd(names="prob") -> Lambdad("prob", lambda x: x[1:]) ->
    AsDiscreted(argmax=True)``

    and the same results. For each ``keys`` item of shape ``(C, *spatial)``, ``C >= 2``:

    - ``data[prob_key]`` becomes the probabilities of channels ``1..C-1``, shape ``(C - 1, *spatial)``, in the
      dtype of the probabilities (a tensor of its own: it does not keep the C-channel softmax alive as the
      chain's slice does);
    - ``data[key]`` becomes the argmax over the channels, shape ``(1, *spatial)``, float32 (first channel on
      ties, NaN counted as the largest value, as ``torch.argmax``), as ``AsDiscreted(argmax=True)`` gives.

    The softmax is computed once, the label map is built from it one channel at a time (no int64 argmax
    tensor), and the foreground channels are copied out before the C-channel probabilities are dropped.
    Both outputs carry the input's metadata (affine, ``filename_or_obj``, applied operations) as
    `MetaTensor`, or are plain tensors when MONAI does not track metadata; the input tensor is not modified.
    Unlike the chain, ``prob`` does not get the ``Lambdad`` record in its applied operations.

    Args:
        keys: keys of the network outputs to replace with their label maps, ``"pred"`` by default.
        prob_key: key to write the foreground probabilities to. With several ``keys`` the last one's are kept.
        softmax: apply a softmax over the channel dim first (the input holds logits); ``False`` when the input
            already holds probabilities (e.g. after ``Activationsd`` and ``Invertd``).
        allow_missing_keys: don't raise if a ``keys`` item is missing.

    Raises:
        ValueError: if an item has fewer than 2 channels (a single-channel sigmoid output is not supported)
            or no channel dim.

    Example::

        out = ForegroundProbabilityd(keys="pred", prob_key="prob")({"pred": torch.randn(2, 64, 64)})
        out["prob"].shape, out["pred"].shape  # (1, 64, 64), (1, 64, 64); pred holds 0.0 / 1.0
    """

    def __init__(
        self,
        keys: KeysCollection = "pred",
        prob_key: str = "prob",
        softmax: bool = True,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.prob_key = prob_key
        self.softmax = softmax

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            item = d[key]
            plain = _plain(item)
            if plain.ndim < 2 or plain.shape[0] < 2:
                raise ValueError(
                    f"{_source(d)}: '{key}' has shape {tuple(plain.shape)}; ForegroundProbabilityd needs a "
                    "(C, *spatial) network output with C >= 2 channels (background first). A single-channel "
                    "sigmoid output is not supported: use Activationsd(sigmoid=True) and AsDiscreted(threshold=0.5)."
                )
            probs = torch.softmax(plain, dim=0) if self.softmax else plain
            label = _argmax_channels(probs)
            foreground = probs[1:].clone()  # its own storage, so that the C-channel probabilities can go
            del probs
            d[self.prob_key] = _with_meta(foreground, item)
            d[key] = _with_meta(label, item)
        return d


class MaskedPixelsd(MapTransform):
    """
    Keep only the pixels inside a mask (e.g. DRIVE's field of view): each ``keys`` item of shape
    ``(C, *spatial)`` becomes ``(C, N)``, the N pixels where ``data[mask_key] > 0``, in the same order
    for every key. MONAI's metrics take the result as a one-dimensional image, so
    ``ConfusionMatrixMetric`` and ``ROCAUCMetric`` then count exactly the pixels inside the mask.
    With ``output_postfix`` the selected pixels go to new keys (``"pred"`` -> ``"pred_fov"``) and
    the whole images stay, so that one evaluation can score both (whole image and inside the mask).

    Args:
        keys: keys of the items to select pixels from, e.g. ``["pred", "prob", "label"]``.
        mask_key: key of the ``(1, *spatial)`` mask.
        output_postfix: if given, write each result to ``key + output_postfix`` instead of replacing ``key``.
        allow_missing_keys: don't raise if a ``keys`` item is missing (the mask is always required).

    Example::

        MaskedPixelsd(keys=["pred", "label"], mask_key="mask")(
            {"pred": torch.ones(1, 4, 4), "label": torch.zeros(1, 4, 4), "mask": torch.eye(4)[None]}
        )["pred"].shape  # (1, 4)
    """

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str = "mask",
        output_postfix: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if output_postfix == "":
            raise ValueError("output_postfix must be None (replace the items) or a non-empty text such as '_fov'.")
        self.mask_key = mask_key
        self.output_postfix = output_postfix

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        if self.mask_key not in d:
            raise KeyError(f"{_source(d)}: no '{self.mask_key}' mask to select pixels with.")
        mask = _plain(d[self.mask_key])
        if mask.shape[0] != 1:
            raise ValueError(
                f"{_source(d)}: mask '{self.mask_key}' must have one channel, got shape {tuple(mask.shape)}."
            )
        inside = mask[0] > 0
        for key in self.key_iterator(d):
            item = _plain(d[key])
            if item.shape[1:] != inside.shape:
                raise ValueError(
                    f"{_source(d)}: '{key}' has spatial shape {tuple(item.shape[1:])} but mask '{self.mask_key}' has "
                    f"{tuple(inside.shape)}."
                )
            d[key if self.output_postfix is None else f"{key}{self.output_postfix}"] = item[:, inside.to(item.device)]
        return d


class SaveSegmentationPNGd(Transform):
    """
    Write one image's prediction to ``output_dir`` as three PNGs at the size of the prediction
    (which should be the original image size):

    - ``<id>_prob.png``: the foreground probability ``data[prob_key]`` as uint8 0..255 (rounded);
    - ``<id>_mask.png``: the binary prediction ``data[pred_key]`` as 0/255;
    - ``<id>_overlay.png``: the original image (read again from the file named in
      ``data[image_key].meta["filename_or_obj"]``) with the predicted mask blended in
      (``overlay="fill"``) or its outline (``overlay="contour"``).

    The id may hold sub-folders (``sub/eye`` -> ``output_dir/sub/eye_mask.png``, ...), as
    `monai_jattn.datasets.image_folder_datalist` gives them, but never lead out of ``output_dir``.
    If ``fov_key`` is given and the data has that mask, probability and mask are set to 0 outside it
    (data without the key is written as it is). Every file is written atomically, and never over an existing
    file (`monai_jattn.atomic_write.WriteError` naming both). The data is returned unchanged.

    Args:
        output_dir: folder for the PNGs (created if needed).
        prob_key: key of the ``(1, *spatial)`` foreground probability in [0, 1].
        pred_key: key of the ``(1, *spatial)`` binary prediction.
        image_key: key of the input image, a `MetaTensor` whose metadata names its file.
        id_key: key of the image identifier used in the file names.
        fov_key: key of an optional field-of-view mask.
        overlay: ``"fill"`` to tint the predicted pixels, ``"contour"`` to draw the mask's outline.
        alpha: opacity of the overlay colour.
        cmap: matplotlib colour map; the overlay colour is its top colour.
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        prob_key: str = "prob",
        pred_key: str = "pred",
        image_key: str = "image",
        id_key: str = "id",
        fov_key: str | None = None,
        overlay: str = "fill",
        alpha: float = 0.6,
        cmap: str = "winter",
    ) -> None:
        if overlay not in ("fill", "contour"):
            raise ValueError(f"overlay must be 'fill' or 'contour', got {overlay!r}.")
        self.output_dir = os.fspath(output_dir)
        self.prob_key = prob_key
        self.pred_key = pred_key
        self.image_key = image_key
        self.id_key = id_key
        self.fov_key = fov_key
        self.overlay = overlay
        self.alpha = alpha
        self.cmap = cmap
        self._loader = LoadImage2Dd(image_key)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> Mapping[Hashable, torch.Tensor]:
        for key in (self.prob_key, self.pred_key, self.id_key, self.image_key):
            if key not in data:
                raise KeyError(f"{_source(data)}: no '{key}' item to write the prediction PNGs from.")
        prob = _plain(data[self.prob_key]).detach().float().cpu()
        pred = (_plain(data[self.pred_key]).detach().cpu() > 0).float()
        if self.fov_key is not None and self.fov_key in data:
            fov = (_plain(data[self.fov_key]).detach().cpu() > 0).float()
            prob, pred = prob * fov, pred * fov
        image = data[self.image_key]
        if not isinstance(image, MetaTensor) or "filename_or_obj" not in image.meta:
            raise ValueError(f"'{self.image_key}' does not name the file it was loaded from; cannot draw the overlay.")
        source = str(image.meta["filename_or_obj"])
        original = self._loader.load(source)  # 0-255 at any bit depth, as the network saw it
        if tuple(original.shape[1:]) != tuple(pred.shape[1:]) or prob.shape != pred.shape:
            raise ValueError(
                f"{source}: prediction shapes {tuple(prob.shape)} / {tuple(pred.shape)} do not match the original "
                f"image ({tuple(original.shape[1:])}); invert spatial transforms before saving."
            )
        outline = LabelToContour()(pred) if self.overlay == "contour" else pred
        stem = self._output_stem(str(data[self.id_key]), source)
        for suffix, array in (("prob", prob), ("mask", pred)):
            _write_png(_to_uint8(array), f"{stem}_{suffix}.png", source)
        del prob, pred
        _write_png(self._overlay(original, outline), f"{stem}_overlay.png", source)
        return data

    def _output_stem(self, image_id: str, source: str) -> str:
        """``output_dir/<id>``, refusing an id that would lead out of ``output_dir`` (absolute, or with ``..``)."""
        parts = image_id.replace("\\", "/").split("/")
        if not image_id or os.path.isabs(image_id) or any(part in ("", ".", "..") for part in parts):
            raise ValueError(
                f"{source}: its id {image_id!r} is not a file name or a relative path inside output_dir; the "
                "prediction PNGs are written to output_dir/<id>_mask.png, ..."
            )
        return os.path.join(self.output_dir, *parts)

    def _overlay(self, original: torch.Tensor, outline: torch.Tensor) -> np.ndarray:
        """MONAI's ``blend_images`` of ``original`` (0-255) and ``outline``, strip by strip along the first
        spatial axis into one uint8 array: the float copies ``blend_images`` makes are one strip large, not one
        image (an 8000 x 8000 photograph would need several GB at once)."""
        overlay = np.empty(tuple(original.shape), dtype=np.uint8)
        for start in range(0, original.shape[1], _STRIP):
            rows = slice(start, start + _STRIP)
            strip = blend_images(
                original[:, rows] / 255.0,
                outline[:, rows],
                self.alpha,
                self.cmap,
                rescale_arrays=False,
                transparent_background=True,
            )
            overlay[:, rows] = _to_uint8(strip)
        return overlay


_STRIP = 512
"""Rows of an overlay blended at once."""


def _to_uint8(array: torch.Tensor | np.ndarray) -> np.ndarray:
    """An array in [0, 1] as uint8 0..255 (rounded), computed in float32."""
    pixels = np.asarray(array, dtype=np.float32)
    return np.rint(np.clip(pixels, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)


def _argmax_channels(probs: torch.Tensor) -> torch.Tensor:
    """``torch.argmax(probs, dim=0, keepdim=True)`` as float32, built one channel at a time so that only
    one-byte masks (and, from 3 channels on, one channel of running maxima) are allocated next to the result:
    the first channel wins ties and a NaN counts as the largest value, as in ``torch.argmax``."""
    label = torch.zeros((1, *probs.shape[1:]), dtype=torch.float32, device=probs.device)
    best = probs[0]
    for channel in range(1, probs.shape[0]):
        # larger, or NaN where the best so far is not: `not (p <= best)` is true for a NaN p, `best == best` false
        # for a NaN best (the first NaN stays)
        take = torch.le(probs[channel], best).logical_not_().logical_and_(best == best)
        label[0].masked_fill_(take, channel)
        if channel + 1 < probs.shape[0]:
            best = torch.where(take, probs[channel], best)
    return label


def _with_meta(result: torch.Tensor, source: NdarrayOrTensor) -> torch.Tensor:
    """``result`` as MONAI's post transforms return it: a `MetaTensor` with a copy of ``source``'s metadata
    when MONAI tracks metadata (a plain tensor otherwise)."""
    if not get_track_meta():
        return result
    out = MetaTensor(result)
    if isinstance(source, MetaTensor):
        out.copy_meta_from(source)
    return out


def _plain(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """The data as a plain tensor (MetaTensor metadata dropped)."""
    return x.as_tensor() if isinstance(x, MetaTensor) else torch.as_tensor(x)


def _source(data: Mapping) -> str:
    """The file an item was loaded from, for messages and for reading the original image."""
    return next(iter(batch_files(data)), "<unknown file>")


def _write_png(pixels: np.ndarray, path: str, source: str) -> None:
    """Write a channel-first uint8 array (MONAI's PIL orientation) as an 8-bit PNG, atomically and never over an
    existing file: 1 channel gives a grey PNG, 3 an RGB one, at any size (``PILWriter.set_data_array`` would
    squeeze a 1-pixel side). ``source``, the image the prediction belongs to, is named if ``path`` exists with
    other content; a file of the same bytes is left as it is (in a multi-GPU evaluation of fewer images than
    processes, MONAI's ``DistributedSampler`` gives two processes the same image)."""
    pixels = pixels[0] if pixels.shape[0] == 1 else np.moveaxis(pixels, 0, -1)
    png = PILWriter.create_backend_obj(pixels, dtype=np.uint8, scale=None, reverse_indexing=True)
    encoded = io.BytesIO()
    png.save(encoded, format="PNG")
    try:
        write_atomic(path, lambda tmp: tmp.write_bytes(encoded.getvalue()), replace=False)
    except FileExistsError:
        if _same_bytes(path, encoded.getvalue()):
            return
        raise WriteError(
            f"{path}: exists already and is not replaced (the prediction of {source}); predictions are written "
            "only where no file is: write into a new or empty output folder"
        ) from None


def _same_bytes(path: str, content: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``content``."""
    try:
        return os.path.getsize(path) == len(content) and Path(path).read_bytes() == content
    except OSError:
        return False
