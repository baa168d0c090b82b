"""The preprocessing layers TF.js 4.22 registers: Rescaling, CenterCrop, Resizing,
CategoryEncoding, RandomWidth (tfjs-layers layers/preprocessing; its RandomHeight source
is not built into the 4.22 bundle, so TF.js cannot load that class and neither does pyweb).

Each does what TF.js's does at predict time, quirks included:

- Resizing passes ``alignCorners = !crop_to_aspect_ratio`` to tf.image's resize (so by
  default corners are aligned, unlike Keras) and never crops.
- CenterCrop crops with ``cropAndResize(method="nearest")`` on float32 box corners, so
  rows and columns are picked by rounding ``(size - 1) / size * (offset + i * n / (n - 1))``;
  a 1-column horizontal margin counts as 1 even when it would round down to 0; a target
  larger than the input in either direction resizes the whole image bilinearly instead.
- RandomWidth draws a random factor even in predict, so its output cannot be
  reproduced: it loads and saves, and raises UnsupportedLayerError when run.

Resizing follows tfjs-backend-cpu ResizeBilinear / ResizeNearestNeighbor: source
coordinates and interpolation in float64, rounded to float32 once, so it is exact.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import Layer, positive_int, unsupported_value

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "RandomWidth",
    "Rescaling",
    "Resizing",
    "resize_bilinear",
    "resize_nearest",
]

INTERPOLATIONS = ("bilinear", "nearest")


def _js_round(x: np.ndarray) -> np.ndarray:
    """JS ``Math.round``: halves go up."""
    low = np.floor(x)
    return low + (x - low >= 0.5)


def _ratio(old: int, new: int, align_corners: bool) -> float:
    if align_corners and new > 1:
        return (old - 1) / (new - 1)
    return old / new


def resize_nearest(x: np.ndarray, size: tuple[int, int], align_corners: bool = False) -> np.ndarray:
    """tf.image.resizeNearestNeighbor on ``[batch, rows, cols, channels]`` (no half-pixel centers)."""
    index = []
    for old, new in zip(x.shape[1:3], size):
        frac = _ratio(old, new, align_corners) * np.arange(new, dtype=np.float64)
        pick = _js_round(frac) if align_corners else np.floor(frac)
        index.append(np.minimum(old - 1, pick).astype(np.intp))
    return x[:, index[0]][:, :, index[1]]


def _bilinear_axis(old: int, new: int, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frac = _ratio(old, new, align_corners) * np.arange(new, dtype=np.float64)
    low = np.maximum(0, np.floor(frac))
    return low.astype(np.intp), np.minimum(old - 1, np.ceil(frac)).astype(np.intp), frac - low


def resize_bilinear(x: np.ndarray, size: tuple[int, int], align_corners: bool = False) -> np.ndarray:
    """tf.image.resizeBilinear on ``[batch, rows, cols, channels]``: float64 arithmetic, one rounding."""
    x64 = np.asarray(x, np.float32).astype(np.float64)
    r_lo, r_hi, r_frac = _bilinear_axis(x.shape[1], size[0], align_corners)
    c_lo, c_hi, c_frac = _bilinear_axis(x.shape[2], size[1], align_corners)
    c_frac = c_frac[:, None]

    def across(rows: np.ndarray) -> np.ndarray:
        left, right = rows[:, :, c_lo], rows[:, :, c_hi]
        return left + (right - left) * c_frac

    top, bottom = across(x64[:, r_lo]), across(x64[:, r_hi])
    return (top + (bottom - top) * r_frac[:, None, None]).astype(np.float32)


def _image_shape(layer: Layer, input_shape: Any, height: int | None, width: int | None) -> tuple[Any, ...]:
    if len(input_shape) < 3:
        raise ValueError(
            f"{layer.name}: {layer.class_name} needs images [batch, rows, cols, channels], got {list(input_shape)}"
        )
    shape = list(input_shape)
    shape[-3], shape[-2] = height, width
    return tuple(shape)


def _check_images(layer: Layer, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.ndim != 4:
        raise ValueError(f"{layer.name}: {layer.class_name} needs 4-D images, got shape {list(x.shape)}")
    return x


class Rescaling(Layer):
    """``x * scale + offset``, each step rounded to float32 (e.g. ``scale=1/255``)."""

    class_name = "Rescaling"
    config_keys = ("scale", "offset")

    def __init__(self, scale: float, offset: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset or 0  # TF.js: `args.offset ? args.offset : 0`

    def call(self, inputs: np.ndarray) -> np.ndarray:
        scaled = np.asarray(inputs, np.float32) * np.asarray(self.scale, np.float32)
        return scaled + np.asarray(self.offset, np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "offset": self.offset}


class Resizing(Layer):
    """Resize images to ``height`` x ``width`` (``"bilinear"`` or ``"nearest"``).

    As TF.js 4.22: corners are aligned unless ``crop_to_aspect_ratio`` is true, which
    only turns the alignment off (nothing is cropped).
    """

    class_name = "Resizing"
    config_keys = ("height", "width", "interpolation", "crop_to_aspect_ratio")
    keras_defaults: ClassVar[dict[str, Any]] = {"pad_to_aspect_ratio": False}

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str | None = None,
        crop_to_aspect_ratio: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.height = positive_int(height, self.class_name, "height")
        self.width = positive_int(width, self.class_name, "width")
        interpolation = interpolation or "bilinear"
        if interpolation not in INTERPOLATIONS:
            raise unsupported_value(self.class_name, "interpolation", interpolation)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _image_shape(self, input_shape, self.height, self.width)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        resize = resize_bilinear if self.interpolation == "bilinear" else resize_nearest
        return resize(_check_images(self, inputs), (self.height, self.width), not self.crop_to_aspect_ratio)

    def layer_config(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
        }


def _crop_positions(size: int, target: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """cropAndResize ``nearest`` source indices along one axis for the box [start, start + target] / size."""
    lo, hi = float(np.float32(start / size)), float(np.float32((start + target) / size))  # boxes are float32
    if target > 1:
        frac = lo * (size - 1) + np.arange(target) * ((hi - lo) * (size - 1) / (target - 1))
    else:
        frac = np.array([0.5 * (lo + hi) * (size - 1)])
    inside = (frac >= 0) & (frac <= size - 1)
    return np.where(inside, _js_round(frac), 0).astype(np.intp), inside


class CenterCrop(Layer):
    """Cut the central ``height`` x ``width`` out of images, as TF.js 4.22 does (see the module notes)."""

    class_name = "CenterCrop"
    config_keys = ("height", "width")

    def __init__(self, height: int, width: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = positive_int(height, self.class_name, "height")
        self.width = positive_int(width, self.class_name, "width")

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _image_shape(self, input_shape, self.height, self.width)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = _check_images(self, inputs)
        rows, cols = x.shape[1:3]
        top = (rows - self.height) // 2 if rows != self.height else 0
        left = (cols - self.width) // 2 if cols != self.width else 0
        if cols != self.width and left == 0:
            left = 1
        if top < 0 or left < 0:
            return resize_bilinear(x, (self.height, self.width))
        r, r_in = _crop_positions(rows, self.height, top)
        c, c_in = _crop_positions(cols, self.width, left)
        out = x[:, r][:, :, c]
        return np.where((r_in[:, None] & c_in[None, :])[None, :, :, None], out, np.float32(0))

    def layer_config(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width}


#: TF.js output_mode values (in Keras spelling) pyweb runs; ``int`` and ``tf_idf`` it refuses.
ENCODINGS = ("multi_hot", "one_hot", "count")


class CategoryEncoding(Layer):
    """Integer category ids → ``num_tokens``-wide vectors: ``multi_hot`` (default), ``one_hot`` or ``count``.

    Inputs are truncated to integers as TF.js casts them; an id outside
    ``[0, num_tokens)`` raises ValueError. ``one_hot`` needs ``[batch, 1]`` (or ``[batch]``) input.
    """

    class_name = "CategoryEncoding"
    config_keys = ("num_tokens", "output_mode")
    keras_defaults: ClassVar[dict[str, Any]] = {"sparse": False}

    def __init__(self, num_tokens: int, output_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_tokens = positive_int(num_tokens, self.class_name, "num_tokens")
        output_mode = output_mode or "multi_hot"
        if output_mode not in ENCODINGS:
            raise unsupported_value(self.class_name, "output_mode", output_mode)
        self.output_mode = output_mode

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = list(input_shape)
        if self.output_mode == "one_hot" and shape[-1] != 1:
            return (*shape, self.num_tokens)
        shape[-1] = self.num_tokens
        return tuple(shape)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        ids = np.trunc(np.asarray(inputs, np.float32)).astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
            raise ValueError(
                f"{self.name}: category ids must be in [0, {self.num_tokens}), got {ids.min()}..{ids.max()}"
            )
        if ids.ndim == 0 or (self.output_mode == "one_hot" and ids.shape[-1] != 1):
            ids = ids[..., None]
        if ids.ndim > 2:
            raise ValueError(f"{self.name}: {self.output_mode} output would have rank {ids.ndim} (TF.js allows 2)")
        if ids.ndim == 1:  # TF.js's denseBincount counts a 1-D input as one sample
            counts = np.bincount(ids, minlength=self.num_tokens).astype(np.float32)
            return np.minimum(counts, 1) if self.output_mode != "count" else counts
        counts = np.zeros((ids.shape[0], self.num_tokens), np.float32)
        np.add.at(counts, (np.arange(ids.shape[0])[:, None], ids), 1)
        return np.minimum(counts, 1) if self.output_mode != "count" else counts

    def layer_config(self) -> dict[str, Any]:
        return {"num_tokens": self.num_tokens, "output_mode": self.output_mode}


class RandomWidth(Layer):
    """Keras's random horizontal stretch, kept for loading and saving.

    TF.js 4.22 resizes by a random factor in predict too (not only in training), so
    pyweb raises UnsupportedLayerError (option ``factor``) when asked to run it.
    """

    class_name = "RandomWidth"
    config_keys = ("factor", "interpolation", "seed")

    def __init__(
        self, factor: float | list[float], interpolation: str = "bilinear", seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        bounds = factor if isinstance(factor, (list, tuple)) else [-factor, factor]
        if (
            (isinstance(factor, (list, tuple)) and len(factor) != 2)
            or (not isinstance(factor, (list, tuple)) and not factor > 0)
            or min(bounds) < -1
            or bounds[1] < bounds[0]
        ):
            raise ValueError(
                f"{self.class_name} factor must be a positive number or [lower, upper] above -1, not {factor!r:.40}"
            )
        if interpolation not in INTERPOLATIONS:
            raise unsupported_value(self.class_name, "interpolation", interpolation)
        self.factor, self.interpolation, self._seed = factor, interpolation, seed

    def call(self, inputs: np.ndarray) -> np.ndarray:
        raise unsupported_value(self.class_name, "factor", self.factor)

    def layer_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "interpolation": self.interpolation, "seed": self._seed}

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _image_shape(self, input_shape, input_shape[-3], None)
