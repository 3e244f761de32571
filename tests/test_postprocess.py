"""Output paths from method cards (fusionbench.postprocess): stretch, 8-bit rounding, JPEG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fusionbench.cards import CardError
from fusionbench.imageio import read_image
from fusionbench.postprocess import (
    PostprocessedFuser,
    apply_steps,
    jpeg_round_trip,
    minmax_stretch,
    parse_steps,
    quantise_uint8,
)
from fusionbench.registry import Registry, method_from_card


def _image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:48, 0:64]
    return np.clip(0.3 + 0.2 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + rng.normal(0, 0.02, xx.shape),
                   0, 1)


def test_minmax_reaches_both_ends_and_keeps_order() -> None:
    x = _image()
    y = minmax_stretch(x)
    assert y.min() == 0.0 and y.max() == 1.0
    np.testing.assert_allclose(y, (x - x.min()) / (x.max() - x.min()))
    const = np.full((4, 4), 0.3)
    np.testing.assert_array_equal(minmax_stretch(const), const)


def test_uint8_rounds_half_up_like_scipy_bytescale() -> None:
    # scipy.misc.bytescale (used by the authors' imsave) adds 0.5 and truncates.
    x = np.array([0.0, 0.5 / 255, 1.49 / 255, 254.5 / 255, 1.0])
    assert (quantise_uint8(x) * 255).round().tolist() == [0, 1, 1, 255, 255]


def test_jpeg_round_trip_equals_pillow_file(tmp_path: Path) -> None:
    x = minmax_stretch(_image(1))
    pixels = np.floor(x * 255 + 0.5).astype(np.uint8)
    path = tmp_path / "f.jpg"
    Image.fromarray(pixels, mode="L").save(path, quality=75)
    from_file = read_image(path).astype(np.float64) / 255.0
    np.testing.assert_array_equal(jpeg_round_trip(x, 75), from_file)
    # quality matters: q95 is closer to the input than q75
    err75 = np.abs(jpeg_round_trip(x, 75) - x).mean()
    err95 = np.abs(jpeg_round_trip(x, 95) - x).mean()
    assert 0 < err95 < err75


def test_parse_steps_order_and_errors() -> None:
    steps = parse_steps(["minmax", "jpeg:75"])
    x = _image(2)
    np.testing.assert_array_equal(apply_steps(steps, x), jpeg_round_trip(minmax_stretch(x), 75))
    assert parse_steps(None) == [] and parse_steps([]) == []
    for bad in (["jpeg:0"], ["jpeg:abc"], ["minmax:3"], "minmax", [1]):
        with pytest.raises(ValueError):
            parse_steps(bad)  # type: ignore[arg-type]


def test_wrapper_delegates_attributes_and_rejects_colour() -> None:
    class Net:
        device = "cpu"

        def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.stack([a, b], axis=-1) if a.shape == (1, 1) else (a + b) / 4

    fuse = PostprocessedFuser(Net(), parse_steps(["minmax"]), "net")
    assert fuse.device == "cpu"
    out = fuse(np.zeros((3, 3)), np.eye(3))
    assert out.max() == 1.0 and out.min() == 0.0
    with pytest.raises(Exception, match="gray"):
        fuse(np.zeros((1, 1)), np.zeros((1, 1)))


def _card(**kw: object) -> dict:
    card = {"name": "x", "kind": "classic", "title": "x", "citation": "", "modalities": ["ir-vi"],
            "entry": "fusionbench.methods.classic.basic:average_fuse"}
    card.update(kw)
    return card


def test_card_postprocess_is_validated_and_applied() -> None:
    with pytest.raises(CardError, match=r"bad\.toml.*unknown post-processing step 'blur'"):
        method_from_card(_card(postprocess=["blur"]), "bad.toml")
    with pytest.raises(CardError, match="published"):
        method_from_card(_card(kind="published", entry=None, outputs={"tno": "fused/x"},
                               postprocess=["minmax"]), "pub.toml")
    plain = method_from_card(_card(), "a.toml").load()
    stretched = method_from_card(_card(postprocess=["minmax", "uint8"]), "b.toml").load()
    a, b = _image(3), _image(4)
    np.testing.assert_array_equal(stretched(a, b), quantise_uint8(minmax_stretch(plain(a, b))))


def test_clfnet_authors_output_variant_is_clfnet_then_stretch_jpeg() -> None:
    reg = Registry.builtin(entry_points=False)
    base, variant = reg.get("clfnet"), reg.get("clfnet-authors-output")
    assert variant.entry == base.entry and variant.kind == "network"
    assert "postprocess" not in base.extra
    ir, vi = _image(5), _image(6)
    raw = base.load(device="cpu")(ir, vi)
    out = variant.load(device="cpu")(ir, vi)
    np.testing.assert_array_equal(out, jpeg_round_trip(minmax_stretch(raw), 75))


def test_doctests() -> None:
    import doctest

    import fusionbench.postprocess as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
