"""Generate the embedded synthetic ``sample`` dataset (deterministic).

The images are made here, not captured: infrared-like frames with hot targets on a cool,
weakly textured ground, visible-like frames of the same scene with strong texture and faint
targets, and multi-focus pairs made by blurring complementary regions of pictures that
scikit-image ships. Run ``python -m fusionbench.sample`` to rewrite them; a test checks the
committed files equal what this module generates.

>>> ir, vi = make_ir_vi_pair(0, (40, 48))
>>> ir.shape, vi.shape, ir.dtype.name
((40, 48), (40, 48), 'uint8')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

#: (height, width, colour visible?) of each infrared-visible pair.
IR_VI_SPECS: tuple[tuple[int, int, bool], ...] = (
    (128, 160, False), (144, 192, False), (101, 150, False), (128, 128, True),
)
#: (skimage.data image, top, left, size) of each multi-focus pair.
MULTIFOCUS_SPECS: tuple[tuple[str, int, int, int], ...] = (
    ("astronaut", 20, 120, 160), ("coffee", 100, 180, 144), ("chelsea", 40, 100, 136),
)


def _texture(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return (field - field.mean()) / (field.std() + 1e-12)


def _targets(rng: np.random.Generator, shape: tuple[int, int], count: int) -> np.ndarray:
    """A soft mask (0..1) of upright, person- or vehicle-like blobs."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros(shape)
    for _ in range(count):
        cy, cx = rng.uniform(0.3, 0.8) * h, rng.uniform(0.1, 0.9) * w
        ry, rx = rng.uniform(0.06, 0.14) * h, rng.uniform(0.02, 0.08) * w
        mask = np.maximum(mask, ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0)
    return ndimage.gaussian_filter(mask.astype(float), 1.0)


def make_ir_vi_pair(index: int, shape: tuple[int, int], colour: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One infrared-like / visible-like pair (uint8; the visible one RGB when ``colour``)."""
    rng = np.random.default_rng(1000 + index)
    h, w = shape
    targets = _targets(rng, shape, count=3)
    horizon = np.linspace(0.0, 1.0, h)[:, None] * np.ones((1, w))
    ir = 55 + 25 * horizon + 6 * _texture(rng, shape, 3.0) + 160 * targets
    structure = (_texture(rng, shape, 6.0) > 0.4).astype(float)
    vi = (120 + 50 * (1 - horizon) + 25 * _texture(rng, shape, 1.0) + 45 * structure
          - 20 * targets)
    ir_u8 = np.clip(np.rint(ir), 0, 255).astype(np.uint8)
    vi_gray = np.clip(vi, 0, 255)
    if not colour:
        return ir_u8, np.rint(vi_gray).astype(np.uint8)
    tint = np.stack([vi_gray * 0.85 + 20, vi_gray, vi_gray * 0.7 + 10 * horizon], axis=-1)
    return ir_u8, np.clip(np.rint(tint), 0, 255).astype(np.uint8)


def make_multifocus_pair(name: str, top: int, left: int, size: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Two colour images, each sharp where the other is blurred (complementary halves)."""
    import skimage.data

    image = getattr(skimage.data, name)()[top:top + size, left:left + size].astype(float)
    blurred = np.stack([ndimage.gaussian_filter(image[..., c], 2.5) for c in range(3)], -1)
    yy, xx = np.mgrid[0:size, 0:size]
    near = (((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size / 3) ** 2)[..., None]
    a = np.where(near, image, blurred)
    b = np.where(near, blurred, image)
    return (np.clip(np.rint(a), 0, 255).astype(np.uint8),
            np.clip(np.rint(b), 0, 255).astype(np.uint8))


def generate() -> dict[str, np.ndarray]:
    """All sample images, keyed by their path relative to ``datasets/sample``."""
    out: dict[str, np.ndarray] = {}
    for i, (h, w, colour) in enumerate(IR_VI_SPECS):
        ir, vi = make_ir_vi_pair(i, (h, w), colour)
        out[f"ir-vi/ir/scene_{i + 1:02d}.png"] = ir
        out[f"ir-vi/vi/scene_{i + 1:02d}.png"] = vi
    for i, spec in enumerate(MULTIFOCUS_SPECS):
        a, b = make_multifocus_pair(*spec)
        out[f"multifocus/a/focus_{i + 1:02d}.png"] = a
        out[f"multifocus/b/focus_{i + 1:02d}.png"] = b
    return out


def sample_dir() -> Path:
    """Where the embedded sample dataset lives."""
    import fusionbench.datasets as pkg

    return Path(pkg.__file__).resolve().parent / "sample"


def main() -> None:
    """Write the sample images into the package."""
    from fusionbench.imageio import write_image

    for rel, image in generate().items():
        write_image(sample_dir() / rel, image)
    print(f"wrote {sample_dir()}")


if __name__ == "__main__":
    main()
