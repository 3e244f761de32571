"""Hostile folders of fused images (issue 13): case, other naming schemes, numbered layouts.

``eval`` scored 0 of 42 pairs of a folder named in Tang's scheme (``01.png`` ...) with rc 0 and
no hint, and called ``marne_01.png`` "missing" for pair ``Marne_01``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from cli_exit import main_exit_code

from fusionbench.errors import DatasetError, MethodError, NothingToScoreError
from fusionbench.matching import (
    find_fused_file,
    match_fused,
    no_match_hint,
    read_rename,
    suggest,
)
from fusionbench.report.load import load_results

PAIRS = ["2_men_in_front_of_house", "APC_4", "Marne_01", "Road"]


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_file_differing_only_in_case_is_found(tmp_path: Path) -> None:
    _touch(tmp_path, "marne_01.png", "APC_4.png", "notes.txt")
    match = match_fused(tmp_path, PAIRS)
    assert match.found == {"APC_4": tmp_path / "APC_4.png",
                           "Marne_01": tmp_path / "marne_01.png"}
    assert match.case_matched == ("Marne_01",)
    assert match.missing == ("2_men_in_front_of_house", "Road")
    assert "2 of 4 pairs have a fused file" in match.summary()


def test_exact_case_wins_over_a_case_insensitive_match(tmp_path: Path) -> None:
    _touch(tmp_path, "Road.png", "road.jpg")
    assert find_fused_file(tmp_path, "{pair}.*", "Road") == tmp_path / "Road.png"


def test_several_files_for_a_pair_is_an_error_naming_them(tmp_path: Path) -> None:
    _touch(tmp_path, "Road.png", "Road.jpg")
    with pytest.raises(MethodError, match="several files match pair 'Road': Road.jpg, Road.png"):
        find_fused_file(tmp_path, "{pair}.*", "Road")


def test_pattern_is_suggested_for_prefixed_and_suffixed_names(tmp_path: Path) -> None:
    _touch(tmp_path, *(f"fused_{p}_DenseFuse.png" for p in PAIRS), "README.png")
    hint = suggest(tmp_path, PAIRS)
    assert hint is not None and hint.option == "--pattern"
    assert hint.value == "fused_{pair}_DenseFuse.*" and hint.covered == 4
    match = match_fused(tmp_path, PAIRS, hint.value)  # the suggestion does what it says
    assert len(match.found) == 4 and match.unused == (tmp_path / "README.png",)


def _names_csv(path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["tang_id", "scene", "note"])
        for i, pair in enumerate(PAIRS, start=1):
            writer.writerow([f"{i:02d}", pair, "x"])


def test_numbered_layout_gets_a_rename_table_found_beside_the_dataset(tmp_path: Path) -> None:
    fused, dataset = tmp_path / "fused", tmp_path / "tno"
    _touch(fused, "1.png", "2.png", "3.png", "4.png")  # numbers without the leading zero
    dataset.mkdir()
    _names_csv(dataset / "names.csv")
    assert match_fused(fused, PAIRS).found == {}
    hint = suggest(fused, PAIRS, search=[dataset])
    assert hint is not None and (hint.option, hint.value) == ("--rename",
                                                            str(dataset / "names.csv"))
    assert hint.covered == 4
    table = read_rename(dataset / "names.csv", [p.stem for p in fused.iterdir()], PAIRS)
    assert table == {"1": PAIRS[0], "2": PAIRS[1], "3": PAIRS[2], "4": PAIRS[3]}
    assert match_fused(fused, PAIRS, rename=table).found["Road"] == fused / "4.png"


def test_numbered_layout_without_a_table_says_what_to_give(tmp_path: Path) -> None:
    _touch(tmp_path, "01.png", "02.png", "03.png", "04.png")
    text = no_match_hint(tmp_path, PAIRS)
    assert text.startswith(f"no file in {tmp_path} matches a pair with pattern '{{pair}}.*' "
                           "(4 image file(s) there, e.g. 01.png, 02.png, 03.png)")
    assert "try --rename FILE: the files are numbered" in text


def test_rename_table_without_usable_columns_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\nx,y\n")
    with pytest.raises(DatasetError, match="no column holds the fused file names"):
        read_rename(tmp_path / "t.csv", ["01"], PAIRS)


def test_nothing_suggested_when_names_are_unrelated(tmp_path: Path) -> None:
    _touch(tmp_path, "cat.png", "dog.png")
    assert suggest(tmp_path, PAIRS) is None
    assert "try" not in no_match_hint(tmp_path, PAIRS)


def test_tang_numbered_tno_outputs_are_matched_with_names_csv(tmp_path: Path,
                                                              data_root: Path) -> None:
    # DenseFuse's TNO outputs laid out again under Tang's numbers (as published by Tang)
    names = list(csv.DictReader(open(data_root / "tno" / "names.csv", newline="")))
    pairs = sorted(p.stem for p in (data_root / "tno" / "ir").iterdir())
    folder = tmp_path / "DenseFuse_TNO"
    folder.mkdir()
    for row in names:
        (folder / f"{row['tang_id']}.png").symlink_to(
            data_root / "fused" / "tno" / "DenseFuse" / f"{row['scene']}.png")
    hint = suggest(folder, pairs, search=[data_root / "tno"])
    assert hint is not None and hint.option == "--rename" and hint.covered == len(pairs) == 42
    table = read_rename(Path(hint.value), [p.stem for p in folder.iterdir()], pairs)
    match = match_fused(folder, pairs, rename=table)
    assert not match.missing and not match.unused
    for row in names:  # each pair got exactly the file that holds its fused image
        assert match.found[row["scene"]].resolve().stem == row["scene"]


# ------------------------------------------------------------------ through the CLI (`eval`)

def _dataset(folder: Path, pairs: list[str]) -> Path:
    """An ad-hoc dataset folder (ir/, vi/) of small gradient images, one pair per name."""
    from fusionbench.imageio import write_image

    ramp = np.linspace(20, 230, 24 * 32).reshape(24, 32).astype(np.uint8)
    for role, image in (("ir", ramp), ("vi", ramp[::-1])):
        (folder / role).mkdir(parents=True)
        for pair in pairs:
            write_image(folder / role / f"{pair}.png", image)
    return folder


def _fused(folder: Path, names_by_pair: dict[str, str], dataset: Path) -> Path:
    """A folder of fused images: each pair's ir image saved under the given file name."""
    folder.mkdir(parents=True)
    for pair, name in names_by_pair.items():
        (folder / name).write_bytes((dataset / "ir" / f"{pair}.png").read_bytes())
    return folder


def _eval(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main_exit_code(["eval", "--name", "pub", "--metrics", "EN", "--profile",
                           "standard", "--workers", "1", *args])
    return code, capsys.readouterr().err


def test_eval_of_a_numbered_folder_exits_1_and_suggests_the_rename_table(
        tmp_path: Path, data_root: Path, capsys: pytest.CaptureFixture) -> None:
    names = list(csv.DictReader(open(data_root / "tno" / "names.csv", newline="")))
    folder = tmp_path / "tang"
    folder.mkdir()
    for row in names[:3]:  # Tang's layout: 01.png ... for the pairs named in names.csv
        (folder / f"{row['tang_id']}.png").symlink_to(
            data_root / "fused" / "tno" / "DenseFuse" / f"{row['scene']}.png")
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(folder), "--dataset", "tno", "--out", str(out)], capsys)
    assert code == NothingToScoreError("x").exit_code == 1, err
    assert err.startswith(f"error: no file in {folder} matches a pair with pattern '{{pair}}.*'")
    hint = re.search(r"; try --rename '(.+?)' matches 3 of 42 pairs \(maps the numbered", err)
    assert hint, err
    assert Path(hint.group(1)).resolve() == (data_root / "tno" / "names.csv").resolve()
    assert "Traceback" not in err and not out.exists()  # nothing was scored or stored
    # the suggested table, as is (columns tang_id and scene found from their values)
    code, err = _eval(["--fused", str(folder), "--dataset", "tno", "--out", str(out),
                       "--rename", hint.group(1)], capsys)
    assert code == 0, err
    assert "no fused file for 39 pair(s): " in err
    pairs = load_results(out).pairs.set_index("pair")
    assert (pairs["status"] == "ok").sum() == 3
    for row in names[:3]:
        assert pairs.loc[row["scene"], "status"] == "ok"
        assert Path(pairs.loc[row["scene"], "fused_path"]).name == f"{row['tang_id']}.png"


def test_eval_with_rename_scores_each_pair_from_its_file_and_names_the_unmatched(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", PAIRS)
    # three of four pairs published under numbers; Road's number 4 has no file
    fused = _fused(tmp_path / "fused", {PAIRS[0]: "1.png", PAIRS[1]: "2.png",
                                        PAIRS[2]: "3.png"}, dataset)
    table = tmp_path / "rename.csv"
    table.write_text("file,pair\n01,2_men_in_front_of_house\n02,apc_4\n03,Marne_01\n04,Road\n")
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out", str(out),
                       "--rename", str(table)], capsys)
    assert code == 0, err
    assert f"3 of 4 pairs have a fused file in {fused}" in err
    assert "no fused file for 1 pair(s): Road" in err
    pairs = load_results(out).pairs.set_index("pair")
    assert pairs.loc["Road", "status"] == "missing"
    for number, pair in enumerate(PAIRS[:3], start=1):
        assert pairs.loc[pair, "status"] == "ok"
        assert Path(pairs.loc[pair, "fused_path"]).name == f"{number}.png"


def test_eval_rename_applies_with_a_pattern(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", PAIRS[:2])
    fused = _fused(tmp_path / "fused", {PAIRS[0]: "F_7_x.png", PAIRS[1]: "F_8_x.png"}, dataset)
    table = tmp_path / "rename.csv"
    table.write_text(f"file,pair\n7,{PAIRS[0]}\n8,{PAIRS[1]}\n")
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out", str(out),
                       "--rename", str(table), "--pattern", "F_{pair}_x.*"], capsys)
    assert code == 0, err
    pairs = load_results(out).pairs.set_index("pair")
    assert Path(pairs.loc[PAIRS[1], "fused_path"]).name == "F_8_x.png"
    assert set(pairs["status"]) == {"ok"}


def test_eval_finds_a_file_differing_only_in_case(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", ["Marne_01", "Road"])
    fused = _fused(tmp_path / "fused", {"Marne_01": "marne_01.png", "Road": "Road.png"},
                   dataset)
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out", str(out)],
                      capsys)
    assert code == 0, err
    assert "1 matched ignoring case" in err
    pairs = load_results(out).pairs.set_index("pair")
    assert pairs.loc["Marne_01", "status"] == "ok"
    assert Path(pairs.loc["Marne_01", "fused_path"]).name == "marne_01.png"


@pytest.mark.parametrize("text,line,problem", [
    ("file,pair\n1,Road\n2\n", 3, "1 field(s) but the header has 2"),
    ("file,pair\n1,Road\n2,Raod\n", 3, "'Raod' is not a pair of"),
    ("file,pair\n1,Road\n01,APC_4\n", 3, "file '01' is already on line 2"),
    ("file,pair\n1,Road\n\n2,road\n", 4, "pair 'Road' is already on line 2"),
    ("file,pair\n1,Road\n,APC_4\n", 3, "empty 'file' value"),
    ('file,pair\n1,Road\n"2,APC_4\n', 3, "1 field(s) but the header has 2"),
])
def test_bad_rename_table_is_refused_before_any_work_naming_the_line(
        tmp_path: Path, capsys: pytest.CaptureFixture, text: str, line: int,
        problem: str) -> None:
    dataset = _dataset(tmp_path / "ds", PAIRS)
    fused = _fused(tmp_path / "fused", {PAIRS[0]: "1.png", "Road": "2.png"}, dataset)
    table = tmp_path / "rename.csv"
    table.write_text(text)
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out", str(out),
                       "--rename", str(table)], capsys)
    assert code == 1, err
    assert err.startswith(f"error: {table} line {line}: {problem}"), err
    assert "Traceback" not in err and not out.exists()


def test_missing_or_empty_rename_table_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", PAIRS)
    fused = _fused(tmp_path / "fused", {PAIRS[0]: "1.png"}, dataset)
    base = ["--fused", str(fused), "--dataset", str(dataset), "--out", str(tmp_path / "r")]
    code, err = _eval([*base, "--rename", str(tmp_path / "absent.csv")], capsys)
    assert (code, err) == (1, f"error: {tmp_path / 'absent.csv'}: rename table not found\n")
    (tmp_path / "empty.csv").write_text("\n")
    code, err = _eval([*base, "--rename", str(tmp_path / "empty.csv")], capsys)
    assert code == 1 and "the rename table is empty" in err
    (tmp_path / "header.csv").write_text("file,pair\n")
    code, err = _eval([*base, "--rename", str(tmp_path / "header.csv")], capsys)
    assert code == 1 and "the rename table has a header but no lines" in err


def test_eval_help_documents_the_rename_format(capsys: pytest.CaptureFixture) -> None:
    assert main_exit_code(["eval", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--rename" in text and "a column 'file'" in text and "a column 'pair'" in text


def test_eval_names_a_pair_with_several_files_and_fails_it(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", ["APC_4", "Road"])
    fused = _fused(tmp_path / "fused", {"APC_4": "APC_4.png", "Road": "Road.png"}, dataset)
    (fused / "Road.jpg").write_bytes((fused / "Road.png").read_bytes())
    out = tmp_path / "res"
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out", str(out)],
                      capsys)
    assert code == 3, err  # some pairs failed
    assert "several files for pair Road (it fails): Road.jpg, Road.png" in err
    pairs = load_results(out).pairs.set_index("pair")
    assert pairs.loc["APC_4", "status"] == "ok" and pairs.loc["Road", "status"] == "failed"
    assert "several files match pair 'Road'" in pairs.loc["Road", "reason"]


def test_eval_names_the_dataset_files_without_a_partner(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    dataset = _dataset(tmp_path / "ds", ["Road"])
    (dataset / "ir" / "lonely.png").write_bytes((dataset / "ir" / "Road.png").read_bytes())
    fused = _fused(tmp_path / "fused", {"Road": "Road.png"}, dataset)
    code, err = _eval(["--fused", str(fused), "--dataset", str(dataset), "--out",
                       str(tmp_path / "res")], capsys)
    assert code == 0, err
    assert [line for line in err.splitlines() if "skipped file:" in line and "lonely.png" in line]
