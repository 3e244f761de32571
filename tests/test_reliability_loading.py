"""Loading weights and published outputs never executes code carried by a data file."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from fusionbench.errors import FusionbenchError, ImageError
from fusionbench.imageio import read_image

REPO = Path(__file__).resolve().parents[1]


class _Payload:
    """Unpickling this object calls ``open(marker, "w")``: a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_weights_file_is_refused_without_running_it(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    fuser = pytest.importorskip("fusionbench.methods.clfnet.fuser")
    marker = tmp_path / "code-ran"
    weights = tmp_path / "evil.pt"
    torch.save({"net": {"conv.weight": _Payload(marker)}}, weights)
    with pytest.raises(FusionbenchError,
                       match="evil.pt: refused: the file holds objects other than tensors"):
        fuser.load_generator(weights)
    assert not marker.exists()
    # the payload is real: a plain pickle load of the same file would have run it
    torch.load(weights, weights_only=False)["net"]["conv.weight"].close()
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_plain_pickle_named_pt_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    fuser = pytest.importorskip("fusionbench.methods.clfnet.fuser")
    marker = tmp_path / "code-ran"
    weights = tmp_path / "evil.pt"
    weights.write_bytes(pickle.dumps({"net": _Payload(marker)}))
    with pytest.raises(FusionbenchError):
        fuser.load_generator(weights)
    assert not marker.exists()


def test_postscript_disguised_as_png_is_not_decoded(tmp_path: Path) -> None:
    # Pillow chooses its decoder from the content; EPS would be handed to Ghostscript.
    path = tmp_path / "fused.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n")
    with pytest.raises(ImageError, match="fused.png: cannot decode"):
        read_image(path)


def _unsafe_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
        name = f"{owner}.{node.func.attr}"
        kwargs = {k.arg: k.value for k in node.keywords}
        if name == "torch.load":
            flag = kwargs.get("weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append(f"line {node.lineno}: torch.load without weights_only=True")
        elif name in ("pickle.load", "pickle.loads", "marshal.loads", "yaml.load",
                      "dill.load", "joblib.load"):
            found.append(f"line {node.lineno}: {name}")
        elif name == "np.load":
            flag = kwargs.get("allow_pickle")
            if isinstance(flag, ast.Constant) and flag.value is True:
                found.append(f"line {node.lineno}: np.load(allow_pickle=True)")
    return found


def test_no_code_executing_loader_in_the_sources() -> None:
    problems = []
    for folder in ("fusionbench", "methods"):
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            problems += [f"{path.relative_to(REPO)} {p}" for p in _unsafe_calls(tree)]
    assert problems == []


def test_the_source_scan_recognises_unsafe_calls() -> None:
    code = ("torch.load(p)\ntorch.load(p, weights_only=False)\npickle.load(f)\n"
            "np.load(p, allow_pickle=True)\ntorch.load(p, weights_only=True)\n")
    assert len(_unsafe_calls(ast.parse(code))) == 4
