"""What the engine hands a metric: the prepared images of one (F, A, B) triple and a cache of
the intermediates its metrics share (gray images, histograms, VIF statistics, values).

A profile's metric is a function of a :class:`Context` (:mod:`fusionbench.metrics.computations`
builds them from the formulas); the engine (:mod:`fusionbench.metrics.engine`) makes one
context per triple, or per colour channel for a profile that scores channels.

>>> import numpy as np
>>> from fusionbench.metrics._inputs import prepare_image
>>> x = prepare_image(np.array([[0, 255], [255, 0]], np.uint8), "f")
>>> c = Context(x, x, x, "uint8")
>>> c.entropy("F"), c.unit("A").tolist()
(1.0, [[0.0, 1.0], [1.0, 0.0]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fusionbench.metrics import histogram as H
from fusionbench.metrics._inputs import PreparedImage
from fusionbench.metrics._undefined import collecting


class Context:
    """Prepared images of one (F, A, B) triple and the intermediates shared between metrics.

    ``mode`` is ``"uint8"`` (score the 8-bit images, as code reading files from disk does) or
    ``"float"`` (score float gray images; 8-bit only where a histogram needs it); ``gray`` the
    gray conversion (a key of ``_inputs.GRAY_CONVERSIONS``).

    ``shared``: a dict given to the contexts of several profiles scoring the same triple
    (:func:`fusionbench.metrics.engine.score_many`). Intermediates go there under a key naming
    what they depend on, so a profile reuses what another one computed: the gray images,
    histograms and VIF maps are the same in both modes when all inputs hold integers, and a
    computation shared by two profiles (e.g. EN) is evaluated once. ``view`` tells apart the
    contexts of one triple that see other images (one colour channel, channels side by side).
    """

    def __init__(self, fused: PreparedImage, a: PreparedImage | None,
                 b: PreparedImage | None, mode: str, shared: dict | None = None,
                 gray: str = "matlab", view: str = "") -> None:
        self.images = {"F": fused, "A": a, "B": b}
        self.mode = mode
        self.gray = gray
        self._cache: dict[Any, Any] = {} if shared is None else shared
        # 8-bit inputs give the same gray images (and everything built on them) in both modes
        exact = all(img is None or img.integral for img in self.images.values())
        self._key = ("8bit" if exact else mode, gray, view)

    def _cached(self, key: Any, make: Callable[[], Any]) -> Any:
        key = (self._key, *key)
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _of_image(self, role: str, key: Any, make: Callable[[], Any]) -> Any:
        """An intermediate of ``role``'s image alone: kept on the image, so that contexts of
        other triples with the same image (:func:`~fusionbench.metrics.engine.score_batch`)
        reuse it."""
        img = self.images[role]
        assert img is not None
        key = (self._key[:2], *key)
        if key not in img.derived:
            img.derived[key] = make()
        return img.derived[key]

    def per_image(self, fn: Callable[[np.ndarray], Any], role: str, scale: str = "255") -> Any:
        """``fn`` of ``role``'s gray image at ``scale`` (:meth:`read`), computed once per image.
        """
        return self._of_image(role, ("per_image", fn, scale), lambda: fn(self.read(role, scale)))

    def value(self, fn: Callable[[Context], float]) -> tuple[float, tuple[str, ...]]:
        """``fn(self)`` and the reasons its formulas gave for a NaN
        (:func:`~fusionbench.metrics._undefined.undefined`), evaluated once per computation for
        all contexts sharing a cache (computations that compare equal are the same)."""
        def make() -> tuple[float, tuple[str, ...]]:
            with collecting() as reasons:
                value = float(fn(self))
            return value, tuple(reasons)
        return self._cached(("value", fn), make)

    def u8(self, role: str) -> np.ndarray:
        """Gray uint8 image of ``role`` (``"F"``, ``"A"`` or ``"B"``)."""
        def make() -> np.ndarray:
            img = self.images[role]
            assert img is not None
            if self.mode == "uint8" or self._key[0] == "8bit":
                return img.gray_u8(self.gray)
            return np.clip(np.floor(self.flt(role) + 0.5), 0, 255).astype(np.uint8)
        return self._of_image(role, ("u8", role), make)

    def flt(self, role: str) -> np.ndarray:
        """Gray float64 image of ``role`` on 0..255."""
        def make() -> np.ndarray:
            img = self.images[role]
            assert img is not None
            if self.mode == "uint8":
                return self.u8(role).astype(np.float64)
            return img.gray_float()
        return self._of_image(role, ("flt", role), make)

    def levels(self, role: str, normalised: bool = False) -> np.ndarray:
        """The uint8 gray levels histograms count: :meth:`u8`, or with ``normalised`` the
        min-max normalised, rounded image (:func:`~fusionbench.metrics.histogram.minmax_levels`
        of :meth:`flt`)."""
        if not normalised:
            return self.u8(role)
        return self._of_image(role, ("minmax", role),
                            lambda: H.minmax_levels(self.flt(role)).astype(np.uint8))

    def hist(self, role: str, normalised: bool = False) -> np.ndarray:
        """256-bin histogram of :meth:`levels`."""
        return self._of_image(role, ("hist", role, normalised),
                            lambda: H.histogram_u8(self.levels(role, normalised)))

    def entropy(self, role: str, unit: str = "bits", normalised: bool = False) -> float:
        """Entropy of :meth:`hist`."""
        return self._of_image(role, ("entropy", role, unit, normalised), lambda: H.entropy_u8(
            self.levels(role, normalised), unit=unit, hist=self.hist(role, normalised)))

    def joint_entropy(self, role: str, unit: str, tang_quirk: bool,
                      normalised: bool = False) -> float:
        """Entropy of the joint histogram of ``role`` and F (see
        :func:`~fusionbench.metrics.histogram.joint_histogram_u8`); the quirk histogram is
        derived from the plain one."""
        def make() -> float:
            joint = self._cached(("joint", role, normalised), lambda: H.joint_histogram_u8(
                self.levels(role, normalised), self.levels("F", normalised)))
            if tang_quirk:
                joint = H.merge_254_255(joint)
            return H.entropy_of_counts(joint, self.u8("F").size, unit)
        return self._cached(("joint_entropy", role, unit, tang_quirk, normalised), make)

    def pixels(self, role: str) -> np.ndarray:
        """The gray image of ``role`` as the compiled kernels read it: :meth:`u8` where that
        holds the exact values (no float copy is made), else :meth:`flt`."""
        return self.u8(role) if self.mode == "uint8" or self._key[0] == "8bit" else self.flt(role)

    def unit(self, role: str) -> np.ndarray:
        """:meth:`flt` on [0, 1] (MATLAB ``im2double`` of the 8-bit image)."""
        return self._of_image(role, ("unit", role), lambda: self.flt(role) / 255.0)

    def read(self, role: str, scale: str) -> np.ndarray:
        """``role``'s gray image on ``"unit"`` [0, 1] (:meth:`unit`), ``"255"`` float 0..255
        (:meth:`flt`), ``"u8"`` (:meth:`u8`) or ``"pixels"`` (:meth:`pixels`)."""
        readers = {"unit": self.unit, "255": self.flt, "u8": self.u8, "pixels": self.pixels}
        return readers[scale](role)

    def triple(self, scale: str, roles: str = "FAB") -> tuple[np.ndarray, ...]:
        """The images of ``roles`` (default F, A, B) at ``scale`` (see :meth:`read`)."""
        return tuple(self.read(role, scale) for role in roles)

    def vif_inputs(self) -> tuple[tuple[np.ndarray, ...], dict]:
        """(A, B, F) for the VIF kernels, and the cache that VIF's variants and VIFF share
        (down-sampled images, per-scale sums and terms)."""
        images = (self.pixels("A"), self.pixels("B"), self.pixels("F"))
        return images, self._cached(("vif_maps",), dict)
