"""fusionbench.heap: freed full-size arrays stay in the heap (counted in page faults, not time)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fusionbench import heap

_FAULTS = """
import resource, sys
import numpy as np
from fusionbench.heap import keep_freed_heap
applied = keep_freed_heap()
for _ in range(3):
    np.ones(768 * 576)  # warm: the first maps fault in any case
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    maps = [np.ones(768 * 576) for _ in range(6)]  # six 3.5 MB maps alive at once, then freed
    del maps
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(applied, after - before)
"""


def _faults(env_value: str | None) -> tuple[bool, int]:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env[heap.OPT_OUT_ENV] = env_value
    out = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not (sys.platform.startswith("linux") and heap.glibc() is not None),
                    reason="glibc's mallopt only")
def test_kept_heap_stops_the_page_faults_of_repeated_full_size_maps() -> None:
    applied, kept = _faults(None)
    default_applied, default = _faults("default")
    assert applied and not default_applied
    # 40 x 6 maps of 864 pages each: ~207k page faults when glibc trims the heap each time
    assert default > 50_000
    assert kept < default / 20


def test_opt_out_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(heap.OPT_OUT_ENV, "default")
    assert heap.keep_freed_heap() is False
