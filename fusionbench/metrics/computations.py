"""How a profile computes a metric from a :class:`~fusionbench.metrics.context.Context`: small
frozen records naming a formula of the functional core, the images it reads and the
convention's options. Two profiles that declare the same computation share its value when
scored together (records compare equal), and a profile file reads as a specification.

>>> import numpy as np
>>> from fusionbench.metrics import similarity as R
>>> On(R.mse, "unit") == On(R.mse, "unit"), On(R.mse, "unit") == On(R.mse, "255")
(True, False)
>>> from fusionbench.metrics._inputs import prepare_image
>>> from fusionbench.metrics.context import Context
>>> x = prepare_image(np.array([[0, 255], [255, 0]], np.uint8), "x")
>>> On(R.mse, "unit")(Context(x, x, prepare_image(255 - x.u8(), "b"), "uint8"))
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics import visual_fidelity as V
from fusionbench.metrics.context import Context


def options(**kwargs: Any) -> tuple[tuple[str, Any], ...]:
    """Keyword options as the hashable tuple the records keep.

    >>> options(peak=None, error="mse")
    (('error', 'mse'), ('peak', None))
    """
    return tuple(sorted(kwargs.items()))


@dataclass(frozen=True)
class On:
    """``formula(*images, **options)`` with the gray images of ``roles`` (in that order; a
    convention that passes its arguments in another order says so here) read as ``read``
    (a scale of :meth:`Context.read`)."""

    formula: Callable[..., float]
    read: str
    roles: str = "FAB"
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, c: Context) -> float:
        return self.formula(*c.triple(self.read, self.roles), **dict(self.kwargs))


def on(formula: Callable[..., float], read: str, roles: str = "FAB", **kwargs: Any) -> On:
    """:class:`On` with keyword options.

    >>> on(S.sf_tang, "pixels", "F", per="pixel").kwargs
    (('per', 'pixel'),)
    """
    return On(formula, read, roles, options(**kwargs))


@dataclass(frozen=True)
class Psnr:
    """:func:`~fusionbench.metrics.similarity.psnr` of the images read as ``read``, from the
    value of its error computation (``On(PSNR_ERRORS[error], read)``): a profile that reports
    that error (MSE, VIFB's RMSE) computes it once for both metrics.

    >>> Psnr("unit").error_computation() == on(R.mse, "unit")
    True
    """

    read: str
    peak: float | None = 255.0
    error: str = "mse"

    def error_computation(self) -> On:
        return on(R.PSNR_ERRORS[self.error], self.read)

    def __call__(self, c: Context) -> float:
        err, _ = c.value(self.error_computation())
        return R.psnr_from_error(err, c.read("F", self.read), peak=self.peak)


@dataclass(frozen=True)
class Scd:
    """:func:`~fusionbench.metrics.similarity.scd` of the images read as ``read``, the
    sources' centred images kept on them (shared with CC, a
    ``PerImage(R.cc_from_centred, R.centred, read)``)."""

    read: str

    def __call__(self, c: Context) -> float:
        return R.scd_from_centred(*c.triple(self.read), c.per_image(R.centred, "A", self.read),
                                  c.per_image(R.centred, "B", self.read))


@dataclass(frozen=True)
class PerImage:
    """``combine(*(per_image(image) for image in roles))``: a formula split into a step on each
    image alone (kept on the image: computed once for every metric, profile and fused image
    that meets it) and a step combining the three (e.g. Qabf: Sobel edges, then preservation).
    """

    combine: Callable[..., float]
    per_image: Callable[[np.ndarray], Any]
    read: str
    roles: str = "FAB"

    def __call__(self, c: Context) -> float:
        return self.combine(*(c.per_image(self.per_image, r, self.read) for r in self.roles))


@dataclass(frozen=True)
class Entropy:
    """EN: entropy of the 256-bin histogram of F's gray levels."""

    unit: str = "bits"

    def __call__(self, c: Context) -> float:
        return c.entropy("F", self.unit)


@dataclass(frozen=True)
class MutualInformation:
    """MI(A, F) + MI(B, F) = sum over the sources of H(S) + H(F) - H(S, F) in ``unit``;
    ``tang_quirk``: levels 254 and 255 share a joint bin; ``normalised``: every image min-max
    normalised to rounded 0..255 first (VIFB)."""

    unit: str = "bits"
    tang_quirk: bool = False
    normalised: bool = False

    def __call__(self, c: Context) -> float:
        h_f = c.entropy("F", self.unit, self.normalised)
        return sum(c.entropy(r, self.unit, self.normalised) + h_f
                   - c.joint_entropy(r, self.unit, self.tang_quirk, self.normalised)
                   for r in ("A", "B"))


@dataclass(frozen=True)
class StandardDeviation:
    """SD of F's gray image: population SD, or with ``tang2022_uint8`` Tang's saturating
    uint8 arithmetic (:func:`~fusionbench.metrics.spatial.sd_tang2022`)."""

    tang2022_uint8: bool = False

    def __call__(self, c: Context) -> float:
        if self.tang2022_uint8:
            return S.sd_tang2022(c.u8("F"))
        return S.sd_population(c.pixels("F"))


@dataclass(frozen=True)
class Vif:
    """vifp_mscale(A, F) + vifp_mscale(B, F); ``saturate_first_scale``: Tang 2022's uint8
    products at scale 1."""

    saturate_first_scale: bool = False

    def __call__(self, c: Context) -> float:
        images, shared = c.vif_inputs()
        vif_a, vif_b = V.vifp_pair(*images, saturate_first_scale=self.saturate_first_scale,
                                   cache=shared)
        return vif_a + vif_b


@dataclass(frozen=True)
class Viff:
    """Han et al. 2013 VIFF from the shared multi-scale statistics (Octave's rounding)."""

    def __call__(self, c: Context) -> float:
        images, shared = c.vif_inputs()
        return V.viff_from_stats(V.vif_statistics(*images, octave_rounding=True, cache=shared))


@dataclass(frozen=True)
class MefSsim:
    """MEF-SSIM of F against the source sequence [A, B] on 0..255 (``mef_ssim.m``)."""

    def __call__(self, c: Context) -> float:
        f, a, b = c.triple("255")
        return ST.mef_ssim((a, b), f)


@dataclass(frozen=True)
class MefMsSsim:
    """3-scale MEF-SSIM (``analysis_ms_ssim.m``), its first scale shared with :class:`MefSsim`."""

    def __call__(self, c: Context) -> float:
        f, a, b = c.triple("255")
        return ST.mef_ms_ssim((a, b), f, first_scale=c.value(MefSsim())[0])
