"""Hostile output folders for ``train`` (issue 13): a read-only ``--out`` ends in one line
naming the folder with exit 6 (the code of every "cannot write here"), not a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cli_exit import main_exit_code
from unwritable import refuse_writes_under

from fusionbench.errors import EXIT_OUTPUT

pytest.importorskip("torch")

@pytest.mark.parametrize("exists", [False, True])
def test_read_only_train_folder_is_one_line_exit_6(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture,
                                                   exists: bool) -> None:
    import numpy as np

    from fusionbench.imageio import write_image

    pairs = tmp_path / "pairs"  # two small pairs, so that only the output folder is wrong
    rng = np.random.default_rng(0)
    for role in ("ir", "vi"):
        (pairs / role).mkdir(parents=True)
        for k in range(2):
            write_image(pairs / role / f"p{k}.png",
                        rng.integers(0, 255, (160, 160)).astype(np.uint8))
    out = tmp_path / "run"
    if exists:
        out.mkdir()
    refuse_writes_under(monkeypatch, out, errno.EROFS)
    code = main_exit_code(["train", "--dataset", str(pairs), "--out", str(out), "--device",
                           "cpu", "--max-steps", "1", "--threads", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    folder = out if exists else tmp_path
    assert err.startswith(f"error: cannot write in {folder}: the file system is read-only")
