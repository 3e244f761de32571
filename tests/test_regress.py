"""`fusionbench regress`: comparison rules, files, and proof that the check bites."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fusionbench.runner
from fusionbench.cli import cli
from fusionbench.data import resolve_dataset
from fusionbench.registry import Method, Registry
from fusionbench.regress import (
    COLUMNS,
    EXIT_REGRESSION,
    RegressionError,
    Tolerance,
    Tolerances,
    compare,
    format_comparison,
    load_slice,
    load_tolerances,
    read_reference,
    sliced_dataset,
    updated_reference,
    write_reference,
)
from fusionbench.runner import RunConfig, run_method

REF_DIR = Path(__file__).resolve().parents[1] / "reports" / "reference"
FAST = RunConfig(metrics=("EN", "SD", "CE"), profiles=("standard",), workers=1)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(pair: str, metric: str, value: float, method: str = "avg") -> tuple:
    return (method, "tno", "all", pair, metric, "standard", value)


# ----------------------------------------------------------------- comparison rules

def test_direction_decides_worse_or_better() -> None:
    ref = _frame([_row("p1", "EN", 7.0), _row("p2", "EN", 7.0), _row("p1", "CE", 1.0),
                  _row("p2", "CE", 1.0)])
    new = _frame([_row("p1", "EN", 6.9), _row("p2", "EN", 7.1), _row("p1", "CE", 1.1),
                  _row("p2", "CE", 0.9)])
    rows = compare(ref, new, Tolerances()).rows.set_index(["pair", "metric"])["status"]
    # EN: higher is better; CE: lower is better (fusionbench.metrics.catalog)
    assert rows[("p1", "EN")] == "worse" and rows[("p2", "EN")] == "better"
    assert rows[("p1", "CE")] == "worse" and rows[("p2", "CE")] == "better"


def test_nan_missing_new_and_tolerance() -> None:
    ref = _frame([_row("p1", "EN", 7.0), _row("p2", "EN", math.nan), _row("p3", "EN", math.nan),
                  _row("p4", "EN", 7.0), _row("p5", "SD", 50.0)])
    new = _frame([_row("p1", "EN", 7.0 * (1 - 5e-7)), _row("p2", "EN", math.nan),
                  _row("p3", "EN", 7.0), _row("p5", "SD", math.nan), _row("p6", "EN", 1.0)])
    comp = compare(ref, new, Tolerances(default=Tolerance(1e-6, 0.0, "test")))
    status = comp.rows.set_index("pair")["status"].to_dict()
    assert status == {"p1": "same", "p2": "same", "p3": "changed", "p4": "missing",
                      "p5": "changed", "p6": "new"}
    assert comp.failed() and comp.count("new") == 1


def test_better_passes_unless_strict() -> None:
    ref = _frame([_row("p1", "EN", 7.0)])
    comp = compare(ref, _frame([_row("p1", "EN", 7.5)]), Tolerances())
    assert not comp.failed() and comp.failed(strict=True)
    assert "regress: OK" in format_comparison(comp)


def test_widest_applicable_tolerance_wins() -> None:
    tols = Tolerances(default=Tolerance(1e-6, 0, "d"), metrics={"VIF": Tolerance(1e-4, 0, "m")},
                      methods={"net": Tolerance(1e-3, 0, "n")})
    assert tols.rule("avg", "EN") == (1e-6, 0)
    assert tols.rule("avg", "VIF") == (1e-4, 0)
    assert tols.rule("net", "VIF") == (1e-3, 0)
    tols.override = Tolerance(0.5, 0, "cli")
    assert tols.rule("net", "VIF") == (0.5, 0)


def test_excluded_data_is_not_checked() -> None:
    ref = _frame([_row("p1", "EN", 7.0)])
    comp = compare(ref, _frame([]), Tolerances(), exclude=[("tno", "all")])
    assert not comp.failed() and comp.not_checked == 1


# ----------------------------------------------------------------- files

def test_reference_round_trip_keeps_full_precision(tmp_path: Path) -> None:
    value = 0.1 + 0.2  # 0.30000000000000004: lost by any fixed-digit format
    df = _frame([_row("p1", "EN", value), _row("p2", "EN", math.nan)])
    path = tmp_path / "ref.csv"
    write_reference(path, df)
    back = read_reference(path)
    assert back.loc[back.pair == "p1", "value"].item() == value
    assert math.isnan(back.loc[back.pair == "p2", "value"].item())
    assert "0.30000000000000004" in path.read_text()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporary file


@pytest.mark.parametrize(("text", "message"), [
    ("method,dataset\n", "missing column"),
    (",".join(COLUMNS) + "\navg,tno,all,p,EN,standard,abc\n", "non-numeric"),
    (",".join(COLUMNS) + "\navg,tno,all,p,EN,standard,1\navg,tno,all,p,EN,standard,2\n",
     "duplicated"),
])
def test_bad_reference_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ref.csv"
    path.write_text(text)
    with pytest.raises(RegressionError, match=message):
        read_reference(path)


def test_tolerance_without_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tolerances.toml"
    path.write_text("[metrics.EN]\nrtol = 1e-3\n")
    with pytest.raises(RegressionError, match="needs a reason"):
        load_tolerances(path)


def test_update_keeps_reference_rows_of_other_runs() -> None:
    ref = _frame([_row("p1", "EN", 1.0, "a"), _row("p1", "EN", 2.0, "b")])
    new = updated_reference(ref, _frame([_row("p1", "EN", 3.0, "a")]))
    assert sorted(map(tuple, new[["method", "value"]].to_numpy().tolist())) == [("a", 3.0),
                                                                               ("b", 2.0)]


# ----------------------------------------------------------------- the committed files

def test_committed_tolerances_can_catch_a_one_percent_move() -> None:
    tols = load_tolerances(REF_DIR / "tolerances.toml")
    rules = [tols.default, *tols.metrics.values(), *tols.methods.values()]
    assert all(r.rtol < 1e-2 and r.reason for r in rules)


def test_committed_reference_covers_methods_profiles_and_slice() -> None:
    ref = read_reference(REF_DIR / "scores.csv")
    spec = load_slice(REF_DIR / "slice.toml")
    classic = {m.name for m in Registry.builtin() if m.kind == "classic"}
    assert classic <= set(ref["method"])
    assert set(spec.profiles) == set(ref["convention"]) == {"standard", "tang2022"}
    runs = {f"{d}/{s}" if s != "all" else d for d, s in
            ref[["dataset", "subset"]].drop_duplicates().to_numpy().tolist()}
    assert runs == set(spec.datasets)
    weights = REF_DIR.parents[1] / "methods" / "clfnet" / "weights" / "clfnet_tno-train.pt"
    if weights.is_file():
        assert "clfnet" in set(ref["method"])


def test_slice_pairs_exist(data_root: Path) -> None:
    spec = load_slice(REF_DIR / "slice.toml")
    for key, pairs in spec.datasets.items():
        name, _, sub = key.partition("/")
        ds = resolve_dataset(name, data_root)
        subset = ds.subset(sub or None)
        got = [p.name for p in sliced_dataset(ds, pairs).pairs(subset)]
        assert got == (list(pairs) if pairs else [p.name for p in ds.pairs(subset)])


# ----------------------------------------------------------------- the check bites

def _run_sample(out: Path, method: Method | None = None) -> None:
    ds = resolve_dataset("sample")
    run_method(method or Registry.builtin().get("average"), ds, ds.subset("ir-vi"), out, FAST)


def _regress(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["regress", *args])
    error = "" if result.exception is None else str(result.exception)
    return result.exit_code, result.output + error


def test_regress_passes_on_identical_rerun(tmp_path: Path) -> None:
    _run_sample(tmp_path / "a")
    ref = tmp_path / "ref.csv"
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "a"), "--update")
    assert code == 0 and ref.is_file()
    _run_sample(tmp_path / "b")
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "b"))
    assert code == 0, out
    assert "12 reference values checked: 12 within tolerance" in out  # 4 pairs x 3 metrics


def test_metric_nudged_by_one_percent_fails_naming_metric_and_pairs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run_sample(tmp_path / "a")
    ref = tmp_path / "ref.csv"
    assert _regress("--reference", str(ref), "--results", str(tmp_path / "a"), "--update")[0] == 0
    real_score = fusionbench.runner._score  # the runner's one call into the metrics engine

    def nudged(*args, **kwargs):
        rows, key, notes = real_score(*args, **kwargs)
        return [{**r, "value": r["value"] * 0.99} if r["metric"] == "EN" else r
                for r in rows], key, notes

    monkeypatch.setattr(fusionbench.runner, "_score", nudged)
    _run_sample(tmp_path / "b")
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "b"),
                         "--tolerances", str(REF_DIR / "tolerances.toml"))  # the committed ones
    assert code == EXIT_REGRESSION
    assert "EN (standard) worse for average on sample/ir-vi: scene_01, scene_02, scene_03, " \
           "scene_04" in out
    assert "-1%" in out and "SD" not in out.split("[FAIL]")[1]


def _brighter_average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.clip((a + b) / 2 + 0.03, 0, 1)


def test_perturbed_method_output_fails(tmp_path: Path) -> None:
    _run_sample(tmp_path / "a")
    ref = tmp_path / "ref.csv"
    assert _regress("--reference", str(ref), "--results", str(tmp_path / "a"), "--update")[0] == 0
    perturbed = Method(name="average", kind="classic", title="t", citation="", modalities=(),
                       entry=f"{__name__}:_brighter_average")
    _run_sample(tmp_path / "b", perturbed)
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "b"))
    assert code == EXIT_REGRESSION and "[FAIL]" in out
    assert "for average on sample/ir-vi: scene_0" in out


def test_failed_pair_is_missing_with_its_reason(tmp_path: Path) -> None:
    _run_sample(tmp_path / "a")
    ref = tmp_path / "ref.csv"
    assert _regress("--reference", str(ref), "--results", str(tmp_path / "a"), "--update")[0] == 0
    broken = Method(name="average", kind="classic", title="t", citation="", modalities=(),
                    entry=f"{__name__}:_nan_on_small")
    _run_sample(tmp_path / "b", broken)
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "b"))
    assert code == EXIT_REGRESSION
    assert "MISSING" in out and "scene_02" in out and "NaN/inf" in out


def _nan_on_small(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = (a + b) / 2
    if a.shape == (144, 192):  # scene_02 of the sample
        out[0, 0] = np.nan
    return out


def test_sweep_runs_a_slice_then_compares(tmp_path: Path) -> None:
    slice_toml = tmp_path / "slice.toml"
    slice_toml.write_text('methods = ["average"]\nprofiles = ["tang2022"]\n'
                          '[datasets]\n"sample/ir-vi" = ["scene_03", "scene_01"]\n')
    ref = tmp_path / "ref.csv"
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "a"),
                         "--sweep", str(slice_toml), "--update", "--jobs", "1")
    assert code == 0, out
    assert set(read_reference(ref)["pair"]) == {"scene_01", "scene_03"}
    code, out = _regress("--reference", str(ref), "--results", str(tmp_path / "b"),
                         "--sweep", str(slice_toml), "--jobs", "1")
    assert code == 0 and "regress: OK" in out


def test_no_results_is_a_clear_error(tmp_path: Path) -> None:
    code, out = _regress("--reference", str(tmp_path / "r.csv"), "--results", str(tmp_path))
    assert code == 1 and "no runs found" in out
