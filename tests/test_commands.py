"""The command functions called directly (issue 11: commands return data and raise errors, the
click layer prints): what each returns, the events ``run``/``eval`` report in order, and that
none of them prints."""

from __future__ import annotations

import doctest
import importlib
import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from fusionbench.commands import (
    FusedMatched,
    MethodsSkipped,
    PairingChecked,
    RunDone,
    RunSkipped,
    check_dataset,
    eval_command,
    list_datasets,
    list_methods,
    list_metrics,
    run_command,
    show_method,
)
from fusionbench.errors import FusionbenchError, MethodError, NothingToScoreError, UsageError
from fusionbench.imageio import write_image
from fusionbench.registry import Method, Registry

RAMP = np.linspace(20, 230, 24 * 32).reshape(24, 32).astype(np.uint8)
#: what every run here scores: three metrics of one convention, in this process
SCORING = {"metrics": "EN,SD,VIF", "profiles": ("standard",), "workers": 1}


def _images(folder: Path, names: list[str], image: np.ndarray = RAMP) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_image(folder / name, image)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """An ad-hoc dataset: pairs p1, p2, p3 (p3's infrared source constant, so its VIF is NaN)
    and one file without a partner in each role folder."""
    root = tmp_path / "ds"
    _images(root / "ir", ["p1.png", "p2.png", "lonely_ir.png"])
    _images(root / "ir", ["p3.png"], np.full((24, 32), 7, np.uint8))
    _images(root / "vi", ["p1.png", "p2.png", "p3.png", "lonely_vi.png"])
    return root


def _run(dataset: Path, out: Path, **kwargs):
    return run_command("average", str(dataset), None, out, None, None, None,
                       SCORING["metrics"], SCORING["profiles"], SCORING["workers"], **kwargs)


def test_run_returns_the_counts_the_scores_and_the_pairing_in_order(
        dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    seen = []
    result = _run(dataset, tmp_path / "res", on_event=seen.append)
    assert seen == result.events  # each event was handed on, in the order returned
    assert [type(e) for e in result.events] == [PairingChecked, RunDone]
    left_out = result.events[0].report.unpaired
    assert sorted(path.name for path, _ in left_out) == ["lonely_ir.png", "lonely_vi.png"]
    (done,) = result.runs
    assert sorted(done.summary.ok) == ["p1", "p2", "p3"] and done.summary.n_pairs == 3
    assert done.summary.failed == {} and done.summary.skipped == 0 and not result.any_failed
    assert done.summary.paths.method == "average" and done.profiles == ("standard",)
    assert len(done.scores) == 9  # 3 pairs x 3 metrics, the NaN kept as a row
    vif = done.scores.set_index(["pair", "metric"]).loc[("p3", "VIF")]
    assert math.isnan(vif["value"]) and "constant" in vif["reason"]
    assert capsys.readouterr() == ("", "")  # the command itself prints nothing


def test_a_rerun_counts_what_was_done_and_force_says_what_it_dropped(
        dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    _run(dataset, out)
    again = _run(dataset, out).runs[0].summary
    assert again.skipped == 3 and again.dropped is None and again.changed == []
    write_image(dataset / "vi" / "p1.png", 255 - RAMP)
    changed = _run(dataset, out).runs[0].summary
    assert changed.changed == ["p1"] and changed.skipped == 2
    forced = _run(dataset, out, force=True).runs[0].summary
    assert forced.dropped == (3, 9) and forced.skipped == 0 and len(forced.ok) == 3


def test_progress_is_asked_for_once_per_run_with_the_pair_count(
        dataset: Path, tmp_path: Path) -> None:
    bars: list[tuple[str, int, list[int]]] = []

    @contextmanager
    def progress(label: str, total: int):
        advances: list[int] = []
        bars.append((label, total, advances))
        yield advances.append

    _run(dataset, tmp_path / "res", progress=progress)
    ((label, total, advances),) = bars
    assert label.startswith("average on ds-") and total == 3 and sum(advances) == 3


def test_a_dataset_without_pairs_reports_its_files_then_raises(
        tmp_path: Path) -> None:
    _images(tmp_path / "broken" / "ir", ["a.png"])
    _images(tmp_path / "broken" / "vi", ["b.png"])
    seen = []
    with pytest.raises(NothingToScoreError, match="no pairs in"):
        _run(tmp_path / "broken", tmp_path / "res", on_event=seen.append)
    assert [type(e) for e in seen] == [PairingChecked] and len(seen[0].report.unpaired) == 2
    assert not (tmp_path / "res").exists()


def test_several_methods_skip_a_published_one_without_outputs_one_alone_is_an_error(
        tmp_path: Path) -> None:
    args = ("sample", "ir-vi", tmp_path / "res", None, None, None, "EN", ("standard",), 1)
    result = run_command("average,clfnet-paper", *args)
    assert [type(e) for e in result.events] == [PairingChecked, RunDone, RunSkipped]
    assert result.events[2] == RunSkipped("clfnet-paper", "sample", "ir-vi")
    with pytest.raises(MethodError, match="no published outputs for sample/ir-vi"):
        run_command("clfnet-paper", *args)


def test_method_all_reports_the_methods_it_leaves_out(
        dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Registry.builtin(entry_points=False)
    small = Registry({"average": real.get("average"),
                      "elsewhere": Method(name="elsewhere", kind="published", title="x",
                                          citation="", modalities=(),
                                          outputs={"tno": "fused/tno/x"})})
    monkeypatch.setattr(Registry, "builtin", classmethod(lambda cls, **kw: small))
    result = run_command("all", str(dataset), None, tmp_path / "res", None, None, None,
                         "EN", ("standard",), 1)
    skipped = result.events[0]
    assert isinstance(skipped, MethodsSkipped) and skipped.methods == ("elsewhere",)
    assert [r.summary.paths.method for r in result.runs] == ["average"]


def test_bad_options_raise_a_usage_error_before_any_work(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="FOO"):
        run_command("average", str(dataset), None, tmp_path / "res", None, None, None,
                    "EN,FOO", ("standard",), 1)
    with pytest.raises(UsageError):
        run_command("average", str(dataset), None, tmp_path / "res", None, None, None,
                    "EN", ("standard",), 0)
    assert not (tmp_path / "res").exists()


def test_eval_reports_the_match_and_a_failed_pair(dataset: Path, tmp_path: Path) -> None:
    fused = tmp_path / "fused"
    _images(fused, ["p1.png", "p2.png", "p2.jpg", "zzz.png"])  # p2 twice, p3 absent
    result = eval_command(fused, str(dataset), "mine", None, "{pair}.*", tmp_path / "res",
                          None, **SCORING)
    assert [type(e) for e in result.events] == [PairingChecked, FusedMatched, RunDone]
    match = result.events[1].match
    assert match.missing == ("p3",) and set(match.ambiguous) == {"p2"}
    assert [p.name for p in match.unused] == ["zzz.png"]
    summary = result.runs[0].summary
    assert summary.ok == ["p1"] and list(summary.failed) == ["p2"]
    assert "several files" in summary.failed["p2"] and summary.missing == ["p3"]
    assert result.any_failed


def test_eval_of_a_clean_folder_reports_no_match_event(dataset: Path, tmp_path: Path) -> None:
    fused = tmp_path / "fused"
    _images(fused, ["p1.png", "p2.png", "p3.png"])
    result = eval_command(fused, str(dataset), "mine", None, "{pair}.*", tmp_path / "res",
                          None, **SCORING)
    assert [type(e) for e in result.events] == [PairingChecked, RunDone]
    assert len(result.runs[0].summary.ok) == 3 and not result.any_failed


def test_eval_without_a_match_suggests_a_pattern_and_stores_nothing(
        dataset: Path, tmp_path: Path) -> None:
    fused = tmp_path / "fused"
    _images(fused, ["x_p1.png", "x_p2.png"])
    with pytest.raises(NothingToScoreError, match=r"--pattern 'x_\{pair\}\.\*'"):
        eval_command(fused, str(dataset), "mine", None, "{pair}.*", tmp_path / "res", None,
                     **SCORING)
    with pytest.raises(FusionbenchError, match="folder of fused images not found"):
        eval_command(tmp_path / "nowhere", str(dataset), "mine", None, "{pair}.*",
                     tmp_path / "res", None, **SCORING)
    assert not (tmp_path / "res").exists()


def test_check_dataset_returns_each_subsets_pairs_and_problems(dataset: Path) -> None:
    (check,) = check_dataset(str(dataset), None, None)
    assert check.n_pairs == 3 and not check.absent
    assert sorted(Path(p.split(":")[0]).name for p in check.problems) == [
        "lonely_ir.png", "lonely_vi.png"]
    sample = check_dataset("sample", None, None)
    assert [(c.subset, c.n_pairs, c.problems) for c in sample] == [
        ("ir-vi", 4, ()), ("multifocus", 3, ())]


def test_listings_return_the_registry_the_cards_and_the_profiles() -> None:
    methods = {line.name: line for line in list_methods(None)}
    assert list(methods) == Registry.builtin().names()
    assert methods["average"].kind == "classic"
    assert methods["average"].coverage == "any dataset (ir-vi, medical, multifocus)"
    card = show_method("average", None)
    assert card.method.name == "average" and card.paper is None
    with pytest.raises(MethodError, match="unknown method"):
        show_method("no-such-method", None)
    datasets = {line.dataset.name: line for line in list_datasets(None).datasets}
    assert datasets["sample"].present == ("ir-vi", "multifocus")
    listing = list_metrics()
    assert listing.default_profiles == ("standard", "tang2022")
    assert {"standard", "tang2022", "vifb"} <= set(listing.profiles)
    names = {m.name for m in listing.metrics}
    assert all(set(p.metrics) <= names for p in listing.profiles.values())


def test_a_card_with_a_paper_name_carries_the_papers_rows(data_root: Path) -> None:
    card = show_method("clfnet", data_root)
    assert card.paper is not None and card.paper.paper_name == "CLF-Net"
    assert card.paper.path is not None and card.paper.path.is_file()
    assert {row.metric for row in card.paper.rows} >= {"EN", "MI", "VIF", "SD", "AG", "SF"}


@pytest.mark.parametrize("name", ["fusionbench.commands", "fusionbench.presenting"])
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0, result


def test_verify_says_which_problems_its_fix_put_right(dataset: Path, tmp_path: Path) -> None:
    from fusionbench.store.verify import verify

    out = tmp_path / "res"
    paths = _run(dataset, out).runs[0].summary.paths
    paths.scores_csv.write_text(paths.scores_csv.read_text() + "edited\n")
    (found,) = verify(out)
    assert found.path == paths.scores_csv and not found.fixed
    (rewritten,) = verify(out, fix=True)
    assert rewritten.path == paths.scores_csv and rewritten.fixed
    assert verify(out) == []
