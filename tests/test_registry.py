"""The method registry: cards, did-you-mean, entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionbench.cards import CardError
from fusionbench.errors import MethodError
from fusionbench.registry import Method, Registry, method_from_card


def test_builtin_methods_include_classic_baselines() -> None:
    reg = Registry.builtin()
    for name in ("average", "maximum"):
        assert reg.get(name).kind == "classic"
    for method in reg:
        assert method.kind in ("network", "classic", "published")
        assert method.title and method.card_path


def test_unknown_method_suggests_close_names() -> None:
    with pytest.raises(MethodError, match="Did you mean 'average'"):
        Registry.builtin().get("averag")


@pytest.mark.parametrize("card, match", [
    ({"kind": "classic", "entry": "m:f"}, "missing required field 'name'"),
    ({"name": "x", "kind": "magic", "entry": "m:f"}, "kind must be one of"),
    ({"name": "x", "kind": "classic"}, "needs entry"),
    ({"name": "x", "kind": "classic", "entry": "nocolon"}, "module:callable"),
])
def test_bad_cards_name_the_file(card: dict, match: str) -> None:
    with pytest.raises(CardError, match=match) as info:
        method_from_card(card, Path("methods/x.toml"))
    assert "methods/x.toml" in str(info.value)


def test_classic_entry_loads_with_params() -> None:
    method = Method(name="scaled", kind="classic", title="t", citation="", modalities=(),
                    entry="numpy:multiply", params={})
    assert method.load()(2, 3) == 6


def test_published_has_no_code() -> None:
    method = Method(name="p", kind="published", title="t", citation="", modalities=(),
                    outputs={"tno": "fused/tno/P"})
    assert method.outputs_for("tno", "all") == "fused/tno/P"
    assert method.outputs_for("roadscene", "all") is None
    with pytest.raises(MethodError, match="published outputs"):
        method.load()
