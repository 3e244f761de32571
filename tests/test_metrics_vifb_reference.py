"""Calibration of the ``vifb`` convention against values computed by the original MATLAB code.

* ``reference/vifb.csv``: VIFB's own per-image values (xingchenzhang/VIFB@22b2ea9,
  ``output/evaluation_metrics_single``), 15 methods x 21 pairs x 13 metrics, written with 5
  significant digits. Every row must match after rounding to 5 significant digits, i.e.
  |value - ref| <= half a unit of the reference's 5th significant digit.
* ``reference/octave.csv``, convention ``vifb``: VIFB's EN, MI, SD, SF, AG run under GNU Octave on
  12 gray (``rgb2gray``) triples, full double precision.

Images are read once each; all fused images of a pair are scored together
(:func:`score_batch`), which gives the same numbers as :func:`score` one by one
(``tests/test_metrics_engine.py``).
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path

import pytest

from fusionbench.colour import rgb2gray_matlab
from fusionbench.imageio import read_image
from fusionbench.metrics import PROFILES, score, score_batch, score_many

VIFB_METRICS = PROFILES["vifb"].metrics


def score_vifb(fused, a, b, names):
    return score(fused, a, b, metrics=names, profile="vifb")

pytestmark = [pytest.mark.data, pytest.mark.slow]

N_METHODS, N_PAIRS = 15, 21


def _half_unit_of_5th_digit(ref: float) -> float:
    """Half a unit in the 5th significant digit of ``ref``, plus a tiny float slack."""
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(ref))) - 4) * (1 + 1e-9)


@pytest.fixture(scope="module")
def vifb_rows(reference_dir: Path, data_root: Path) -> dict[str, list[tuple]]:
    """metric -> [(method, pair, reference text, our value)] for every row of vifb.csv."""
    by_pair: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    with open(reference_dir / "vifb.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            assert row["convention"] == "vifb"
            by_pair[row["pair"]][row["method"]][row["metric"]] = row["value"]
    names = list(VIFB_METRICS)
    out: dict[str, list[tuple]] = defaultdict(list)
    for pair, methods in sorted(by_pair.items()):
        a = read_image(data_root / "vifb" / "ir" / f"{pair}.jpg")
        b = read_image(data_root / "vifb" / "vi" / f"{pair}.jpg")
        order = sorted(methods)
        fused = [read_image(data_root / "fused" / "vifb" / m / f"{pair}.jpg") for m in order]
        batch = score_batch(fused, a, b, profiles=["vifb"], metrics=names)
        for method, scores in zip(order, [s["vifb"] for s in batch], strict=True):
            for name, ref in methods[method].items():
                out[name].append((method, pair, ref, scores[name]))
    return out


@pytest.mark.parametrize("metric", list(VIFB_METRICS))
def test_every_vifb_row_matches_to_5_significant_digits(vifb_rows, metric):
    rows = vifb_rows[metric]
    assert len(rows) == N_METHODS * N_PAIRS
    bad = [
        f"{method}/{pair}: ours {value:.8g}, VIFB {ref}"
        for method, pair, ref, value in rows
        if not abs(value - float(ref)) <= _half_unit_of_5th_digit(float(ref))
    ]
    assert not bad, f"{len(bad)} of {len(rows)} {metric} rows differ: " + "; ".join(bad[:10])


def test_scoring_beside_other_profiles_gives_the_same_numbers(vifb_rows, data_root):
    # score_many shares intermediates between profiles; standard scores the same 13 metrics on
    # the gray images while vifb scores the colour channels, so nothing may leak between them.
    pair, method = "carShadow", "GTF"
    both = score_many(
        read_image(data_root / "fused" / "vifb" / method / f"{pair}.jpg"),
        read_image(data_root / "vifb" / "ir" / f"{pair}.jpg"),
        read_image(data_root / "vifb" / "vi" / f"{pair}.jpg"),
        profiles=["standard", "vifb"], metrics=list(VIFB_METRICS),
    )
    for name in VIFB_METRICS:
        batch = [v for m, p, _, v in vifb_rows[name] if (m, p) == (method, pair)]
        assert batch == [both["vifb"][name]], name


def test_octave_vifb_rows_on_gray_images(reference_dir, data_root):
    # Full-precision values of VIFB's own code under Octave; MI differs from ours by up to
    # ~3e-12 relative (order of summing 65536 joint-histogram terms), the rest by <= 2e-15.
    files = re.compile(r"A=(\S+) B=(\S+) F=(\S+);")
    checked = 0
    with open(reference_dir / "octave.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["convention"] != "vifb":
                continue
            a, b, f = (
                rgb2gray_matlab(read_image(data_root / p)).astype(float)
                for p in files.search(row["source"]).groups()
            )
            value = score_vifb(f, a, b, [row["metric"]])[row["metric"]]
            ref = float(row["value"])
            assert value == pytest.approx(ref, rel=1e-10), (row["pair"], row["metric"])
            checked += 1
    assert checked == 60
