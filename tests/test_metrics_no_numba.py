"""numba is optional: with numba made unimportable (in a fresh interpreter), every metric of
every profile still computes, with one notice, and gives the numbers numba gives."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from fusionbench.metrics import score

PROFILES = ("tang2022", "tang2023", "cddfuse", "standard", "han_viff")

_SCRIPT = """
import json, sys
sys.modules["numba"] = None  # `import numba` now raises ImportError
import numpy as np
from fusionbench.metrics import score
from fusionbench.metrics._compiled import vif_kernels, pixel_kernels
images = np.load(sys.argv[1])
out = {p: score(images["f"], images["a"], images["b"], profile=p, metrics=["all"])
       for p in sys.argv[2:]}
out["modules"] = [vif_kernels().__name__, pixel_kernels().__name__]
print(json.dumps(out))
"""


def _triple() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A small 8-bit triple with textured, flat and black regions (VIFF's Octave-order paths,
    the vifp rules and FMI's special windows all run)."""
    rng = np.random.default_rng(21)
    a, b = rng.integers(0, 256, (2, 50, 54)).astype(np.uint8)
    a[:20, :24] = 0
    b[25:, 30:] = 90
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    f[:12, :12] = a[:12, :12]
    return f, a, b


def test_without_numba_every_metric_gives_the_same_numbers(tmp_path) -> None:
    f, a, b = _triple()
    np.savez(tmp_path / "triple.npz", f=f, a=a, b=b)
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "triple.npz"),
                           *PROFILES], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    fallback = json.loads(done.stdout)
    assert fallback.pop("modules") == ["fusionbench.metrics._vif_numpy",
                                       "fusionbench.metrics._pixel_numpy"]
    notices = [line for line in done.stderr.splitlines() if "numba unavailable" in line]
    assert len(notices) == 1, done.stderr
    compared = 0
    for profile in PROFILES:
        want = score(f, a, b, profile=profile, metrics=["all"])
        assert set(fallback[profile]) == set(want)
        for metric, value in want.items():
            got = fallback[profile][metric]
            if math.isnan(value):
                assert math.isnan(got), (profile, metric)
            else:
                assert got == pytest.approx(value, rel=1e-11, abs=1e-13), (profile, metric)
            compared += 1
    assert compared >= 17 * 2 + 12 + 7
