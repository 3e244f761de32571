"""Validating metric inputs and reducing them to the gray images each convention scores.

Accepted: ``uint8`` arrays as :func:`fusionbench.imageio.read_image` returns them ((H, W) or
(H, W, 3)), other integer arrays on 0..255, and float arrays on [0, 1] or [0, 255]:

* a float image whose finite values all lie in [0, 1] is taken as [0, 1] and scaled by 255
  (with a warning when it holds only the values 0 and 1, which fits both readings);
* values outside [0, 255] are clipped, with a warning saying so;
* NaN / inf make the image unusable: the metrics that read it return NaN (the engine warns).

Gray conversion follows each profile's reference code: MATLAB ``rgb2gray`` on the 8-bit image
(:func:`fusionbench.colour.rgb2gray_matlab`), or OpenCV's float ``cvtColor(BGR2GRAY)`` then
numpy's rounding (:func:`rgb2gray_opencv`, CDDFuse's ``image_read_cv2(path, 'GRAY')``).

>>> import numpy as np
>>> img = prepare_image(np.array([[0.0, 0.5], [1.0, 0.25]]), "fused")
>>> img.values.max(), img.integral
(np.float64(255.0), False)
"""

from __future__ import annotations

import warnings

import numpy as np

from fusionbench.colour import MATLAB_GRAY_WEIGHTS, rgb2gray_matlab
from fusionbench.errors import MetricError

#: OpenCV's float32 gray weights (``R2YF``, ``G2YF``, ``B2YF``).
_CV_R, _CV_G, _CV_B = (np.float32(w) for w in (0.299, 0.587, 0.114))


def rgb2gray_opencv(image: np.ndarray) -> np.ndarray:
    """CDDFuse's gray reading of a uint8 image: ``cv2.imread(path).astype('float32')`` (a gray
    file becomes three equal channels), ``cv2.cvtColor(img, COLOR_BGR2GRAY)`` and
    ``np.round`` (half to even), as uint8.

    OpenCV 4.5's vectorised float path computes ``fma(R, 0.299f, fma(G, 0.587f, B * 0.114f))``
    in float32; that order decides the pixels whose gray value is within float32 rounding of
    x.5 (with the plain order one pixel of ``lytro_03`` differs). Each fused multiply-add is
    done here in float64 and rounded to float32 (the product of two float32 is exact in float64).
    A gray image is returned unchanged (those steps give back every 8-bit value exactly).

    >>> rgb2gray_opencv(np.array([[[255, 0, 0], [10, 20, 30]]], np.uint8)).tolist()
    [[76, 18]]
    """
    if image.ndim == 2:
        return image
    rgb = image[..., :3].astype(np.float32)
    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    inner = (g * np.float64(_CV_G) + (rgb[..., 2] * _CV_B).astype(np.float64)).astype(np.float32)
    y = (r * np.float64(_CV_R) + inner.astype(np.float64)).astype(np.float32)
    return np.clip(np.round(y), 0, 255).astype(np.uint8)


#: Gray conversions by name (the ``gray`` field of a profile).
GRAY_CONVERSIONS = {"matlab": rgb2gray_matlab, "opencv": rgb2gray_opencv}


class PreparedImage:
    """One input image on 0..255, with what the engine needs to know about it.

    ``values`` is float64 (H, W) or (H, W, 3), non-finite entries set to 0; for a uint8 input it
    is formed only when first asked for (the 8-bit metrics never need it). ``integral``: every
    value is an integer (so it is exactly an 8-bit image); ``finite``: False when the input held
    NaN or inf.

    >>> img = PreparedImage("f", np.array([[1, 2]], np.uint8), True, True)
    >>> img.shape2d, img.values.dtype.name, img.is_constant()
    ((1, 2), 'float64', False)
    """

    def __init__(self, name: str, values: np.ndarray, integral: bool, finite: bool) -> None:
        self.name = name
        self.integral = integral
        self.finite = finite
        self._u8 = values if values.dtype == np.uint8 else None
        self._values = None if self._u8 is not None else values
        self._gray_u8: dict[str, np.ndarray] = {}
        self._views: dict[object, PreparedImage] = {}
        #: Intermediates of this image alone (gray images, histograms, edge maps ...), kept by
        #: :class:`~fusionbench.metrics.context.Context` so that every metric, profile and
        #: fused image scored against this image reuses them.
        self.derived: dict = {}

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            assert self._u8 is not None
            self._values = self._u8.astype(np.float64)
        return self._values

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._u8 if self._u8 is not None else self.values).shape

    @property
    def shape2d(self) -> tuple[int, int]:
        return self.shape[0], self.shape[1]

    def is_constant(self) -> bool:
        """Whether every value is the same."""
        v = self._u8 if self._u8 is not None else self.values
        return bool(v.max() == v.min())

    def channel(self, k: int) -> PreparedImage:
        """Channel ``k`` of a colour image as a gray image (a gray image is returned as is).

        >>> img = PreparedImage("f", np.arange(12, dtype=np.uint8).reshape(2, 2, 3), True, True)
        >>> img.channel(1).u8().tolist(), img.channel(1).channel(2).shape
        ([[1, 4], [7, 10]], (2, 2))
        """
        if len(self.shape) == 2:
            return self
        if k not in self._views:
            values = self._u8 if self._u8 is not None else self.values
            self._views[k] = PreparedImage(self.name, values[..., k], self.integral, self.finite)
        return self._views[k]

    def side_by_side(self) -> PreparedImage:
        """The 8-bit channels of a colour image next to each other, one M x 3N image (what
        MATLAB's ``[M, N] = size(img)`` sees of an M x N x 3 image).

        >>> img = PreparedImage("f", np.arange(12, dtype=np.uint8).reshape(2, 2, 3), True, True)
        >>> img.side_by_side().u8().tolist()
        [[0, 3, 1, 4, 2, 5], [6, 9, 7, 10, 8, 11]]
        """
        if "side_by_side" not in self._views:
            rgb = self.u8()
            wide = np.concatenate([rgb[..., k] for k in range(3)], axis=1)
            self._views["side_by_side"] = PreparedImage(self.name, wide, True, self.finite)
        return self._views["side_by_side"]

    def u8(self) -> np.ndarray:
        """The image as MATLAB ``uint8()`` would store it (round half away, clip), channels kept."""
        if self._u8 is not None:
            return self._u8
        if self.integral:
            return self.values.astype(np.uint8)
        return np.clip(np.floor(self.values + 0.5), 0, 255).astype(np.uint8)

    def gray_u8(self, conversion: str = "matlab") -> np.ndarray:
        """Gray 8-bit image of :meth:`u8` by ``conversion`` (a key of :data:`GRAY_CONVERSIONS`;
        MATLAB ``rgb2gray`` by default), cached."""
        if conversion not in self._gray_u8:
            self._gray_u8[conversion] = GRAY_CONVERSIONS[conversion](self.u8())
        return self._gray_u8[conversion]

    def gray_float(self) -> np.ndarray:
        """Gray float64 image on 0..255: exactly :meth:`gray_u8` for 8-bit input, else the
        ``rgb2gray`` weights applied in float without rounding."""
        if self.integral:
            return self.gray_u8().astype(np.float64)
        if self.values.ndim == 2:
            return self.values
        w_r, w_g, w_b = MATLAB_GRAY_WEIGHTS
        v = self.values
        return w_r * v[..., 0] + w_g * v[..., 1] + w_b * v[..., 2]


def prepare_image(image: np.ndarray, name: str) -> PreparedImage:
    """Check one input array and bring it to float64 on 0..255 (see the module docstring)."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise MetricError(f"{name}: expected a (H, W) or (H, W, 3) image, got shape {arr.shape}")
    if arr.ndim == 3:
        arr = arr[..., :3]
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise MetricError(f"{name}: empty image of shape {arr.shape}")
    if arr.dtype == np.uint8:
        return PreparedImage(name, arr, True, True)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise MetricError(f"{name}: unsupported image dtype {arr.dtype}")
    values = arr.astype(np.float64)
    finite_mask = np.isfinite(values)
    finite = bool(finite_mask.all())
    if not finite:
        values = np.where(finite_mask, values, 0.0)
    lo, hi = float(values.min()), float(values.max())
    if np.issubdtype(arr.dtype, np.floating) and hi <= 1.0 and lo >= 0.0:
        if np.all((values == 0) | (values == 1)):
            warnings.warn(f"{name}: float image holds only 0 and 1; assumed range [0, 1] "
                          "(pass a uint8 array if it is a 0..255 image)",
                          stacklevel=3)
        values = values * 255.0
    elif lo < 0.0 or hi > 255.0:
        warnings.warn(f"{name}: values span [{lo:g}, {hi:g}], outside [0, 255]; assumed a "
                      "0..255 image and clipped", stacklevel=3)
        values = np.clip(values, 0.0, 255.0)
    integral = bool(np.all(values == np.floor(values)))
    return PreparedImage(name, values, integral, finite)


def check_sizes(fused: PreparedImage, *sources: PreparedImage) -> None:
    """Raise :class:`MetricError` naming both shapes when a source differs in size from F."""
    for src in sources:
        if src.shape2d != fused.shape2d:
            raise MetricError(f"size mismatch: fused image {fused.name} has shape "
                              f"{fused.shape} but source {src.name} has shape {src.shape}")
