"""Hostile folders of fused images (issue 13): case, other naming schemes, numbered layouts.

``eval`` scored 0 of 42 pairs of a folder named in Tang's scheme (``01.png`` ...) with rc 0 and
no hint, and called ``marne_01.png`` "missing" for pair ``Marne_01``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fusionbench.errors import DatasetError, MethodError
from fusionbench.matching import (
    find_fused_file,
    match_fused,
    no_match_hint,
    read_rename,
    suggest,
)

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
