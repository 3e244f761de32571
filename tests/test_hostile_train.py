"""Hostile output folders and weights for ``train`` and ``run`` (issue 13): a read-only
``--out`` ends in one line naming the folder with exit 6 (the code of every "cannot write
here"), a text file as ``--weights`` in one line naming it; never a traceback."""

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


def test_text_file_as_run_weights_is_one_line_naming_it(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    # issue 13: a text file given as --weights said only "cannot read ...: 101"
    notes = tmp_path / "notes.txt"
    notes.write_text("trained for 3 epochs\nloss 0.31\n")
    code = main_exit_code(["run", "--method", "clfnet", "--dataset", "sample", "--subset",
                           "ir-vi", "--weights", str(notes), "--device", "cpu", "--out",
                           str(tmp_path / "res"), "--metrics", "EN", "--profile", "standard"])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [f"error: {notes}: not a PyTorch weights file (it starts with text: "
                     "'trained for 3 epochs'); save weights with "
                     "torch.save(model.state_dict(), path)"], err
    assert "Traceback" not in err
