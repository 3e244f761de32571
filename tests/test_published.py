"""Published baselines: cards, their files under the data root, runs on them, paper lookups.

File counts come from ``../shared/data/README.md`` (sections ``fused/tno``, ``roadscene``,
``medical``, ``multifocus`` and ``vifb``); the paper's numbers from
``../shared/reference/clfnet_paper_scores.csv`` (read in place, never copied).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fusionbench.cards import CardError, read_card
from fusionbench.cli import cli
from fusionbench.data import dataset_cards
from fusionbench.errors import FusionbenchError
from fusionbench.matching import find_fused_file
from fusionbench.paper import (
    PaperScore,
    format_paper_scores,
    paper_methods,
    paper_scores_for,
    paper_scores_path,
)
from fusionbench.registry import Registry, method_from_card
from fusionbench.runner import RunConfig

CARDS_DIR = Path(__file__).resolve().parents[1] / "methods" / "published"
FAST = RunConfig(metrics=("EN", "SD"), profiles=("standard",), workers=1)

VIFB_METHODS = {
    "adf": "ADF", "cbf-vifb": "CBF", "cnn": "CNN", "dlf": "DLF", "fpde": "FPDE", "gfce": "GFCE",
    "gff-vifb": "GFF", "gtf": "GTF", "hmsd-gf": "HMSD_GF", "hybrid-msd": "Hybrid_MSD",
    "ifcnn": "IFCNN", "ifevip": "IFEVIP", "lp-sr": "LP_SR", "latlrr": "LatLRR",
    "mgff-vifb": "MGFF", "msvd": "MSVD", "nsct-sr": "NSCT_SR", "rp-sr": "RP_SR",
    "resnet": "ResNet", "seafusion": "SeAFusion", "swinfusion": "SwinFusion", "tif": "TIF",
    "u2fusion": "U2Fusion", "vsmwls": "VSMWLS", "ydtr": "YDTR",
}
#: (card, outputs key) -> number of files, from ../shared/data/README.md.
EXPECTED_FILES: dict[tuple[str, str], int] = {
    **{(name, "tno"): 42 for name in ("densefuse", "fusiongan", "ifcnn", "piafusion", "pmgi",
                                      "rfn-nest", "sdnet", "seafusion", "u2fusion")},
    ("clfnet-paper", "tno"): 8,
    ("stdfusionnet", "tno"): 5,
    ("stdfusionnet", "roadscene"): 4,
    **{(f"ifcnn-{r}", "medical/ifcnn-md"): 8 for r in ("max", "mean", "sum")},
    **{(name, "multifocus"): 63 for name in ("ifcnn", "pmgi", "u2fusion")},
    **{(name, "vifb"): 21 for name in VIFB_METHODS},
}
#: The paper's baselines with no fused images distributed here.
NO_OUTPUTS = {"ganmcc", "ifsepr"}


def _published() -> list:
    return [m for m in Registry.builtin(entry_points=False) if m.is_published]


def _pair_names(data_root: Path, key: str) -> set[str]:
    name, _, sub = key.partition("/")
    ds = dataset_cards(data_root)[name]
    return {p.name for p in ds.pairs(ds.subset(sub or None))}


# --- cards ---------------------------------------------------------------------------------

def test_every_card_is_complete() -> None:
    paths = sorted(CARDS_DIR.glob("*.toml"))
    assert len(paths) == 38  # 13 TNO/medical/paper cards + 25 VIFB methods (3 shared)
    for path in paths:
        card = read_card(path)
        method = method_from_card(card, path)
        assert method.kind == "published", path
        assert path.stem == method.name, f"{path}: file name differs from name"
        assert method.name == method.name.lower() and " " not in method.name and "_" not in \
            method.name, path
        for field in ("title", "citation", "description"):
            assert str(card.get(field, "")).strip(), f"{path}: empty {field}"
        assert method.modalities, path
        assert method.file_pattern == "{pair}.*", path
        assert method.entry is None, path
        assert method.outputs or method.name in NO_OUTPUTS, path


def test_cards_map_one_name_to_one_folder_per_dataset() -> None:
    found = {(m.name, key): rel for m in _published() for key, rel in m.outputs.items()}
    assert set(found) == set(EXPECTED_FILES)
    assert len(set(found.values())) == len(found)  # no folder claimed twice
    for (name, key), rel in found.items():
        assert rel.startswith(f"fused/{key}/"), (name, key, rel)
    for name, folder in VIFB_METHODS.items():
        assert found[(name, "vifb")] == f"fused/vifb/{folder}"


def test_outputs_keys_name_real_datasets_and_subsets() -> None:
    cards = dataset_cards(None)
    for method in _published():
        for key in method.outputs:
            name, _, sub = key.partition("/")
            assert name in cards, (method.name, key)
            cards[name].subset(sub or None)  # raises for an unknown subset


def test_no_outputs_cards_say_where_to_get_them() -> None:
    reg = Registry.builtin(entry_points=False)
    for name in NO_OUTPUTS:
        method = reg.get(name)
        assert method.outputs == {}
        assert "https://github.com/" in method.description
        assert "fusionbench eval" in method.description


def test_bad_card_errors_name_the_file(tmp_path: Path) -> None:
    bad_kind = tmp_path / "bad-kind.toml"
    bad_kind.write_text('name = "x"\nkind = "publishd"\n')
    with pytest.raises(CardError, match=r"bad-kind\.toml: kind must be one of"):
        method_from_card(read_card(bad_kind), bad_kind)
    no_name = tmp_path / "no-name.toml"
    no_name.write_text('kind = "published"\n[outputs]\ntno = "fused/tno/X"\n')
    with pytest.raises(CardError, match=r"no-name\.toml: missing required field 'name'"):
        method_from_card(read_card(no_name), no_name)
    bad_outputs = tmp_path / "bad-outputs.toml"
    bad_outputs.write_text('name = "x"\nkind = "published"\noutputs = "fused/tno/X"\n')
    with pytest.raises(CardError, match=r"bad-outputs\.toml: \[outputs\] must be a table"):
        method_from_card(read_card(bad_outputs), bad_outputs)
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x\n')
    with pytest.raises(CardError, match=r"broken\.toml: cannot read card"):
        read_card(broken)


# --- files under the data root -------------------------------------------------------------

def test_output_folders_hold_one_file_per_covered_pair(data_root: Path) -> None:
    for (name, key), count in EXPECTED_FILES.items():
        rel = Registry.builtin(entry_points=False).get(name).outputs[key]
        folder = data_root / rel
        assert folder.is_dir(), f"{name}: {folder} missing"
        files = sorted(p for p in folder.iterdir() if p.is_file())
        assert len(files) == count, f"{name} {key}: {len(files)} files, expected {count}"
        pairs = _pair_names(data_root, key)
        strays = [p.name for p in files if p.stem not in pairs]
        assert not strays, f"{name} {key}: files matching no pair: {strays}"


def test_coverage_counts(data_root: Path) -> None:
    reg = Registry.builtin(entry_points=False)

    def covered(name: str, key: str) -> list[str]:
        method = reg.get(name)
        folder = data_root / method.outputs[key]
        return sorted(p for p in _pair_names(data_root, key)
                      if find_fused_file(folder, method.file_pattern, p))

    # data/README.md: CLF-Net's 8 official results; STDFusionNet 05-09 (TNO) and 01-04 (RoadScene)
    assert len(covered("clfnet-paper", "tno")) == 8 and len(_pair_names(data_root, "tno")) == 42
    assert covered("stdfusionnet", "tno") == sorted(
        ["bench", "Kaptein_1123", "Kaptein_1654", "bunker", "Tree_4915"])
    assert covered("stdfusionnet", "roadscene") == [
        "FLIR_04598", "FLIR_06307", "FLIR_06570", "FLIR_08835"]
    assert len(covered("ifcnn", "multifocus")) == 63


def test_methods_listing_shows_pair_coverage(data_root: Path) -> None:
    result = CliRunner().invoke(cli, ["methods", "--data-root", str(data_root)])
    assert result.exit_code == 0, result.output
    lines = {ln.split()[0]: ln for ln in result.output.splitlines() if ln.strip()}
    assert lines["clfnet-paper"].endswith("tno 8/42 pairs")
    assert lines["stdfusionnet"].endswith("tno 5/42 pairs, roadscene 4/221 pairs")
    assert "no outputs distributed" in lines["ganmcc"]


# --- runs on published files ---------------------------------------------------------------

def _mini_root(data_root: Path, tmp_path: Path, pairs: list[str], covered: list[str]) -> Path:
    """A data root with ``pairs`` of TNO and DenseFuse's files for ``covered`` only."""
    root = tmp_path / "data"
    for role in ("ir", "vi"):
        (root / "tno" / role).mkdir(parents=True)
        for pair in pairs:
            shutil.copy(data_root / "tno" / role / f"{pair}.png", root / "tno" / role)
    (root / "fused" / "tno" / "DenseFuse").mkdir(parents=True)
    for pair in covered:
        shutil.copy(data_root / "fused" / "tno" / "DenseFuse" / f"{pair}.png",
                    root / "fused" / "tno" / "DenseFuse")
    return root


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_run_published_records_missing_and_scores_files_as_they_are(
        data_root: Path, reference_dir: Path, tmp_path: Path) -> None:
    root = _mini_root(data_root, tmp_path, ["tno_08", "bench", "wall"], ["tno_08", "bench"])
    fused_dir = root / "fused" / "tno" / "DenseFuse"
    before = _digest(fused_dir)
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, [
        "run", "--method", "densefuse", "--dataset", "tno", "--data-root", str(root),
        "--out", str(out), "--metrics", "EN,SD", "--profile", "tang2022", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "2 of 3 pairs scored" in result.output
    assert "published outputs cover 2 of 3 pairs" in result.output and "wall" in result.output
    assert "mean over 2 scored pairs" in result.output

    run_dir = out / "tno" / "all" / "densefuse"
    pairs = pd.read_csv(run_dir / "pairs.csv", keep_default_na=False).set_index("pair")
    assert pairs.loc["wall", "status"] == "missing" and pairs.loc["wall", "fused_path"] == ""
    assert pairs.loc["bench", "fused_path"] == str(fused_dir / "bench.png")
    scores = pd.read_csv(run_dir / "scores.csv")
    assert set(scores["pair"]) == {"tno_08", "bench"}  # the uncovered pair is not averaged in
    assert not (run_dir / "fused").exists() or not any((run_dir / "fused").iterdir())
    assert _digest(fused_dir) == before  # published files are read, never written

    # Scored as published: equals Tang's MATLAB EN for DenseFuse (tang2022_tno.csv, full
    # double precision; the reference README reports agreement within 5e-12 relative).
    ref = pd.read_csv(reference_dir / "tang2022_tno.csv", dtype={"value": float})
    ref = ref[(ref.method == "DenseFuse") & (ref.metric == "EN")].set_index("pair")["value"]
    ours = scores[scores.metric == "EN"].set_index("pair")["value"]
    for pair in ("tno_08", "bench"):
        assert ours[pair] == pytest.approx(ref[pair], rel=1e-9)


def test_eval_scores_a_copied_folder(data_root: Path, tmp_path: Path) -> None:
    root = _mini_root(data_root, tmp_path, ["tno_08", "bench", "wall"], [])
    fused = tmp_path / "mine"
    fused.mkdir()
    for pair in ("tno_08", "bench"):  # two of DenseFuse's published files
        shutil.copy(data_root / "fused" / "tno" / "DenseFuse" / f"{pair}.png", fused)
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, [
        "eval", "--fused", str(fused), "--dataset", "tno", "--name", "mine", "--data-root",
        str(root), "--out", str(out), "--metrics", "EN,SD", "--profile", "standard",
        "--workers", "1"])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "tno" / "all" / "mine" / "scores.csv")
    assert sorted(set(scores["pair"])) == ["bench", "tno_08"]
    assert set(scores["metric"]) == {"EN", "SD"}
    assert "cover 2 of 3 pairs" in result.output


def test_run_on_uncovered_dataset_is_a_clear_error(data_root: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--method", "clfnet-paper", "--dataset",
                                      "roadscene", "--data-root", str(data_root)])
    assert result.exit_code != 0
    assert "'clfnet-paper' has no published outputs for roadscene" in result.output


# --- the paper's reported scores -----------------------------------------------------------

def test_paper_scores_path_beside_the_data_root(data_root: Path, reference_dir: Path,
                                                tmp_path: Path) -> None:
    assert paper_scores_path(data_root) == (reference_dir / "clfnet_paper_scores.csv").resolve()
    assert paper_scores_path(data_root.parent) == paper_scores_path(data_root)
    (tmp_path / "data" / "tno").mkdir(parents=True)
    assert paper_scores_path(tmp_path / "data") is None


def test_paper_lookups(reference_dir: Path) -> None:
    path = reference_dir / "clfnet_paper_scores.csv"
    dense = paper_scores_for("DenseFuse", path)
    # First and Table IV rows of DenseFuse in clfnet_paper_scores.csv (paper Tables II and IV).
    assert dense[0] == PaperScore("II", "tno", 20, "EN", 6.3989)
    assert PaperScore("IV", "medical", 24, "EN", 3.8466) in dense
    assert len(dense) == 24  # 4 tables x 6 metrics
    assert {r.table for r in paper_scores_for("CLF-Net", path)} == {"II", "III", "IV", "V"}
    assert paper_scores_for("densefuse", path) == dense  # case-insensitive fallback
    assert paper_scores_for("NoSuchNet", path) == []
    line = format_paper_scores(dense)[0]
    assert line.startswith("Table II (TNO, 20 pairs): EN 6.3989  MI 2.1046")


def test_every_paper_method_has_a_card(reference_dir: Path) -> None:
    path = reference_dir / "clfnet_paper_scores.csv"
    named = {m.extra.get("paper_name"): m.name for m in _published()}
    main = [m for m in paper_methods(path)
            if {r.table for r in paper_scores_for(m, path)} & {"II", "III", "IV", "V"}]
    assert len(main) == 10
    for label in main:
        assert label in named, f"no card with paper_name = {label!r}"
        assert paper_scores_for(label, path), label
    assert named["CLF-Net"] == "clfnet-paper"


def test_paper_reader_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("table,dataset,method,metric,value\nII,tno,X,EN,1\n")
    with pytest.raises(FusionbenchError, match=r"bad\.csv: missing column\(s\) n_pairs"):
        paper_scores_for("X", bad)
    junk = tmp_path / "junk.csv"
    junk.write_text("table,dataset,method,n_pairs,metric,value\nII,tno,X,20,EN,abc\n")
    with pytest.raises(FusionbenchError, match=r"junk\.csv: bad row for 'X'"):
        paper_scores_for("X", junk)
    with pytest.raises(FusionbenchError, match="cannot read"):
        paper_scores_for("X", tmp_path / "absent.csv")


def test_methods_show_prints_paper_scores(data_root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["methods", "--data-root", str(data_root), "show", "densefuse"])
    assert result.exit_code == 0, result.output
    assert "Table II (TNO, 20 pairs): EN 6.3989  MI 2.1046  VIF 0.6342" in result.output
    assert "coverage: tno 42/42 pairs" in result.output
    (tmp_path / "data" / "tno").mkdir(parents=True)
    result = runner.invoke(cli, ["methods", "--data-root", str(tmp_path / "data"), "show",
                                 "densefuse"])
    assert result.exit_code == 0, result.output
    assert "reference file not available" in result.output


def test_paper_module_doctest() -> None:
    import doctest

    import fusionbench.paper

    result = doctest.testmod(fusionbench.paper)
    assert result.attempted >= 3 and result.failed == 0
