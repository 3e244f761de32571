"""Property-based: odd images through the loader and the metrics give a documented result
(a finite number, or NaN with a warning) or a clear FusionbenchError, never a bare crash."""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from fusionbench.errors import FusionbenchError
from fusionbench.imageio import read_image
from fusionbench.metrics import profile_metrics, score

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
PROFILES = ("standard", "tang2022", "vifb")

# (PIL mode, numpy dtype, channels, file suffix): every kind of file read_image documents.
KINDS = [
    ("L", np.uint8, 1, ".png"), ("RGB", np.uint8, 3, ".png"), ("RGBA", np.uint8, 4, ".png"),
    ("LA", np.uint8, 2, ".png"), ("P", np.uint8, 1, ".png"), ("RGB", np.uint8, 3, ".jpg"),
    ("I;16", np.uint16, 1, ".png"), ("I;16", np.uint16, 1, ".tif"),
    ("F", np.float32, 1, ".tif"), ("RGB", np.uint8, 3, ".bmp"), ("1", np.uint8, 1, ".png"),
]


@st.composite
def image_files(draw: st.DrawFn, shape: tuple[int, int] | None = None) -> tuple[str, Path]:
    """An image file of a random kind, size and value range; returns (description, path)."""
    mode, dtype, channels, suffix = draw(st.sampled_from(KINDS))
    h, w = shape or (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype is np.float32:
        low, high = draw(st.sampled_from([(0.0, 1.0), (0.0, 255.0), (-50.0, 500.0),
                                          (0.0, 0.0), (1e6, 1e7)]))
        arr = rng.uniform(low, high, (h, w)).astype(np.float32)
        if draw(st.booleans()):
            arr.flat[rng.integers(0, arr.size)] = draw(st.sampled_from([np.nan, np.inf]))
    else:
        top = np.iinfo(dtype).max
        lo = draw(st.integers(0, top))
        hi = draw(st.integers(lo, top))
        shape_nd = (h, w) if channels == 1 else (h, w, channels)
        arr = rng.integers(lo, hi, shape_nd, dtype=np.int64, endpoint=True).astype(dtype)
    if mode == "P":
        img = Image.fromarray(arr, "L").convert("P")
    elif mode == "1":
        img = Image.fromarray(arr, "L").convert("1")
    elif mode == "I;16":
        img = Image.fromarray(arr.astype(np.uint16))
    else:
        img = Image.fromarray(arr, None if mode in ("F",) else mode)
    path = Path(tempfile.mkdtemp(prefix="fb-prop-")) / f"img{suffix}"
    img.save(path)
    return f"{mode}{suffix} {h}x{w}", path


def _check_scores(fused: object, a: object, b: object, profile: str,
                  metrics: tuple[str, ...] | None = None) -> None:
    """Score and check the documented outcomes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = score(fused, a, b, metrics=metrics, profile=profile)
        except FusionbenchError as exc:
            assert str(exc)  # a clear message
            event(f"refused: {type(exc).__name__}")
            return
    event("scored" + (" (some NaN)" if any(math.isnan(v) for v in values.values()) else ""))
    assert values, "no metric returned"
    for name, value in values.items():
        assert isinstance(value, float), (name, value)
        if math.isnan(value):
            assert any(name in str(w.message) for w in caught), f"{name} NaN without warning"
        elif name == "PSNR" and value == math.inf:
            # the only infinite value: PSNR of a fused image identical to both sources (RMSE 0)
            assert values.get("RMSE", 0.0) == 0.0
        else:
            assert math.isfinite(value), (name, value)


@SETTINGS
@given(st.data())
def test_any_file_reads_as_uint8_or_raises_image_error(data: st.DataObject) -> None:
    desc, path = data.draw(image_files())
    try:
        img = read_image(path)
    except FusionbenchError as exc:
        assert str(path) in str(exc), desc
        return
    assert img.dtype == np.uint8 and (img.ndim == 2 or img.shape[2] == 3), desc


@SETTINGS
@given(st.data(), st.integers(1, 40), st.integers(1, 40), st.sampled_from(PROFILES))
def test_files_through_reader_and_metrics(data: st.DataObject, h: int, w: int,
                                          profile: str) -> None:
    images = []
    for _ in range(3):
        same_size = data.draw(st.integers(0, 9)) > 0  # mostly the same size, sometimes not
        _, path = data.draw(image_files((h, w) if same_size else None))
        try:
            images.append(read_image(path))
        except FusionbenchError:
            event("unreadable file")
            return
    _check_scores(*images, profile, profile_metrics(profile))


ARRAYS = st.sampled_from(["uint8", "uint16", "float01", "float255", "float_wild", "int64",
                          "bool", "nan"])


def _array(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if kind == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    if kind == "uint16":
        return rng.integers(0, 65536, shape).astype(np.uint16)
    if kind == "float01":
        return rng.random(shape)
    if kind == "float255":
        return rng.random(shape) * 255.0
    if kind == "float_wild":
        return rng.normal(0, 1e4, shape).astype(np.float32)
    if kind == "int64":
        return rng.integers(-5, 300, shape)
    if kind == "bool":
        return rng.random(shape) > 0.5
    arr = rng.random(shape)
    arr.flat[0] = np.nan
    return arr


@SETTINGS
@given(st.lists(ARRAYS, min_size=3, max_size=3), st.integers(1, 40), st.integers(1, 40),
       st.sampled_from([(), (1,), (3,), (4,)]), st.sampled_from(PROFILES),
       st.integers(0, 2**32 - 1))
def test_arrays_straight_into_metrics(kinds: list[str], h: int, w: int, extra: tuple[int, ...],
                                      profile: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    fused, a, b = (_array(k, (h, w, *extra), rng) for k in kinds)
    _check_scores(fused, a, b, profile, profile_metrics(profile))
