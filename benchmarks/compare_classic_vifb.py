"""Compare fusionbench's classic methods with VIFB's published fused images.

For every VIFB pair the infrared and visible images are reduced to gray with MATLAB ``rgb2gray``
(exact, :func:`fusionbench.colour.rgb2gray_matlab`), fused here on [0, 1] (a = infrared,
b = visible), rounded to uint8, and compared with the gray of VIFB's colour JPEG output:
mean absolute difference (gray levels), PSNR, and the gap in three simple metrics (entropy,
standard deviation, average gradient; simple numpy versions defined below).

Every method is summarised over all 21 pairs and over the 17 pairs whose infrared file has three
channels: for the 4 pairs with a 1-channel infrared JPEG, VIFB's GFF loader (``load_images.m``)
writes the infrared image into the green channel of the visible image and fuses that with an
all-zero image, so VIFB's "GFF" output there is not a fusion of the pair (see README.md).

``--rejpeg-inputs`` re-encodes both inputs as JPEG (quality 75, Pillow) before fusing, as VIFB's
``run_GFF.m`` does (it writes the inputs with MATLAB ``imwrite(..., '.jpg')``, default quality 75).

Usage (from the repository root)::

    python benchmarks/compare_classic_vifb.py [--data ../shared/data] [--methods gff,cbf,mgff]
        [--per-pair] [--rejpeg-inputs]
    python benchmarks/compare_classic_vifb.py --timing   # speed of every classic method, 768x576
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fusionbench.colour import rgb2gray_matlab
from fusionbench.imageio import read_image
from fusionbench.methods.classic.cbf import cbf_fuse
from fusionbench.methods.classic.gff import gff_fuse
from fusionbench.methods.classic.mgff import mgff_fuse

REPO = Path(__file__).resolve().parents[1]
# our name -> (function, VIFB folder under fused/vifb)
METHODS = {"gff": (gff_fuse, "GFF"), "cbf": (cbf_fuse, "CBF"), "mgff": (mgff_fuse, "MGFF")}


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Clip to [0, 1], scale to 0..255 and round half up."""
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def entropy(img: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin gray histogram."""
    p = np.bincount(img.ravel(), minlength=256) / img.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def std(img: np.ndarray) -> float:
    """Population standard deviation of the gray levels."""
    return float(img.astype(np.float64).std())


def avg_gradient(img: np.ndarray) -> float:
    """Mean of sqrt((dx^2 + dy^2) / 2) over forward differences (last row/column dropped)."""
    f = img.astype(np.float64)
    dx = f[:-1, 1:] - f[:-1, :-1]
    dy = f[1:, :-1] - f[:-1, :-1]
    return float(np.sqrt((dx * dx + dy * dy) / 2.0).mean())


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = float(((x.astype(np.float64) - y.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _rejpeg(image: np.ndarray, quality: int = 75) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())))


def load_pair(data: Path, pair: str, rejpeg: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
    """Gray (MATLAB rgb2gray) infrared and visible images of a VIFB pair on [0, 1], and whether
    the infrared file has a single channel."""
    ir_raw = read_image(data / "vifb" / "ir" / f"{pair}.jpg")
    vi_raw = read_image(data / "vifb" / "vi" / f"{pair}.jpg")
    if rejpeg:
        ir_raw, vi_raw = _rejpeg(ir_raw), _rejpeg(vi_raw)
    ir, vi = rgb2gray_matlab(ir_raw), rgb2gray_matlab(vi_raw)
    return ir / 255.0, vi / 255.0, ir_raw.ndim == 2


def compare(data: Path, method: str, pairs: list[str], rejpeg: bool = False) -> list[dict]:
    """Per-pair comparison rows for one method."""
    fuse, folder = METHODS[method]
    rows = []
    for pair in pairs:
        ir, vi, ir_gray = load_pair(data, pair, rejpeg)
        t0 = time.perf_counter()
        ours = to_uint8(fuse(ir, vi))
        seconds = time.perf_counter() - t0
        theirs = rgb2gray_matlab(read_image(data / "fused" / "vifb" / folder / f"{pair}.jpg"))
        diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        rows.append({
            "pair": pair, "ir_gray": ir_gray, "mad": float(diff.mean()),
            "p99": float(np.percentile(diff, 99)),
            "psnr": psnr(ours, theirs),
            "d_en": entropy(ours) - entropy(theirs), "d_sd": std(ours) - std(theirs),
            "d_ag": avg_gradient(ours) - avg_gradient(theirs), "seconds": seconds,
        })
    return rows


def summary_line(method: str, rows: list[dict]) -> str:
    """One markdown table row summarising ``rows``."""
    mad = np.array([r["mad"] for r in rows])
    def m(key: str) -> float:
        return float(np.mean([r[key] for r in rows]))
    return (f"| {method} | {len(rows)} | {mad.mean():.2f} | {np.median(mad):.2f} | {mad.max():.2f} "
            f"({rows[int(mad.argmax())]['pair']}) | {m('psnr'):.1f} | {m('d_en'):+.3f} | "
            f"{m('d_sd'):+.2f} | {m('d_ag'):+.3f} | {m('seconds'):.2f} |")


def timing(repeats: int = 3) -> None:
    """Print the best-of-``repeats`` time of every classic card on a random 768x576 pair."""
    import importlib
    import tomllib

    import fusionbench.methods.classic as pkg

    rng = np.random.default_rng(0)
    a, b = rng.random((576, 768)), rng.random((576, 768))
    for card_path in sorted(Path(pkg.__file__).parent.glob("*.toml")):
        card = tomllib.loads(card_path.read_text())
        module, func_name = card["entry"].split(":")
        func = getattr(importlib.import_module(module), func_name)
        params = card.get("params", {})
        func(a, b, **params)  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            func(a, b, **params)
            best = min(best, time.perf_counter() - t0)
        print(f"{card['name']:10s} {best * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--per-pair", action="store_true", help="also print per-pair rows")
    parser.add_argument("--rejpeg-inputs", action="store_true",
                        help="re-encode the inputs as JPEG quality 75 first, as VIFB's GFF does")
    parser.add_argument("--timing", action="store_true",
                        help="only time every classic method on a random 768x576 pair")
    args = parser.parse_args()
    if args.timing:
        timing()
        return
    pairs = sorted(p.stem for p in (args.data / "vifb" / "ir").glob("*.jpg"))
    if not pairs:
        raise SystemExit(f"no VIFB pairs under {args.data / 'vifb' / 'ir'}")
    print("| method | pairs | MAD mean | MAD median | MAD max (pair) | PSNR mean (dB) | "
          "ΔEN (bits) | ΔSD | ΔAG | s/pair |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    per_pair = {}
    for method in args.methods.split(","):
        if method not in METHODS:
            raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        rows = compare(args.data, method, pairs, args.rejpeg_inputs)
        per_pair[method] = rows
        print(summary_line(method, rows), flush=True)
        colour_ir = [r for r in rows if not r["ir_gray"]]
        print(summary_line(f"{method} (3-channel IR)", colour_ir), flush=True)
    if args.per_pair:
        for method, rows in per_pair.items():
            print(f"\n{method}: pair, MAD, p99 |diff|, PSNR, ΔEN, ΔSD, ΔAG (* = 1-channel IR)")
            for r in rows:
                mark = "*" if r["ir_gray"] else " "
                print(f"  {r['pair']:14s}{mark} {r['mad']:6.2f} {r['p99']:6.1f} {r['psnr']:6.1f} "
                      f"{r['d_en']:+.3f} {r['d_sd']:+.2f} {r['d_ag']:+.3f}")


if __name__ == "__main__":
    main()
