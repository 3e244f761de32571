"""``load_results`` reads every run of a store in one bulk read (integer codes, numpy
filtering and sorting): its tables equal the per-run reads the exports use
(:func:`fusionbench.store.tables.score_rows` / ``pair_rows``), row for row and in order."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fusionbench.report.load import load_results
from fusionbench.store import PairRecord, Store
from fusionbench.store.tables import current_versions, pair_rows, score_rows


def _scores(pair: int, names: list[tuple[str, str]], version: dict[str, str],
            run: int, offset: float = 0.0) -> list[dict]:
    rows = []
    for k, (profile, metric) in enumerate(names):
        value = math.nan if (pair + k) % 7 == 0 else offset + pair + k / 10 + run / 100
        rows.append({"metric": metric, "convention": profile, "value": value,
                     "version": version[profile],
                     "reason": "source a is constant (0/0)" if math.isnan(value) else ""})
    return rows


def test_bulk_read_equals_the_per_run_read(tmp_path: Path) -> None:
    current = current_versions()
    stale = {p: v + "-old" for p, v in current.items()}
    everything = [("standard", "EN"), ("standard", "SD"), ("tang2022", "EN"),
                  ("tang2022", "VIF"), ("standard", "MI")]
    with Store.create(tmp_path) as store:
        for r, (dataset, method) in enumerate([("d2", "zeta"), ("d1", "alpha"), ("d1", "b@x"),
                                               ("d1", "empty")]):
            run = store.run_id(dataset, "all", method, create=True)
            shown = everything[r % 2::1 + r % 2]  # runs show different metric sets
            store.add_run_metrics(run, shown)
            if method == "empty":
                continue
            for i in (3, 1, 10, 2):  # pairs stored out of order; "p10" sorts before "p2"
                images = {"a": f"a{i}", "b": f"b{i}", "f": f"f{r}-{i}"}
                if i == 2 and r == 1:
                    store.save_pair(run, PairRecord(f"p{i}", "failed", reason="oom"))
                    continue
                # every metric stored (also those the run does not show), some at an old version
                rows = _scores(i, everything, current, r)
                if i == 1:
                    rows += _scores(i, everything, stale, r, offset=1000.0)
                store.save_pair(run, PairRecord(f"p{i}", "ok", scores=rows, images=images,
                                                warnings=["fused is constant"] if i == 3 else []))
    results = load_results(tmp_path)
    with Store.open(tmp_path) as store:
        runs = store.runs()
        assert [(r.dataset, r.subset, r.method) for r in results.runs] == \
            [(r.dataset, r.subset, r.method) for r in runs]
        assert sum(len(r.scores) for r in results.runs) > 20
        for loaded, row in zip(results.runs, runs, strict=True):
            expected = pd.DataFrame(score_rows(store, row),
                                    columns=list(loaded.scores.columns))
            expected["value"] = expected["value"].astype(float)
            pd.testing.assert_frame_equal(loaded.scores, expected, check_dtype=False)
            assert loaded.scores["value"].dtype == float
            pairs = pd.DataFrame(pair_rows(store, row), columns=list(loaded.pairs.columns))
            pd.testing.assert_frame_equal(loaded.pairs, pairs, check_dtype=False)
    nan = results.scores[results.scores["value"].isna()]
    assert len(nan) and set(nan["reason"]) == {"source a is constant (0/0)"}
    assert results.scores["value"].max() < 1000  # no score of a stale version shown
