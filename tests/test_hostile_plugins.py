"""Hostile plugins (issue 13): names normalised like built-ins, collisions and import failures
reported once as a warning naming the distribution, the rest of the registry working.

Each test installs a fake distribution (a ``*.dist-info`` folder with ``entry_points.txt``)
on ``sys.path`` under ``tmp_path``; ``importlib.metadata`` finds it like an installed package.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from cli_exit import main_exit_code

from fusionbench import registry as registry_module
from fusionbench.cards import CardError
from fusionbench.errors import PluginWarning
from fusionbench.registry import Registry, method_from_card

MODULE = '''
import numpy as np

def fuse(a, b):
    return np.maximum(a, b)

upper = {"name": "MyUpper", "kind": "classic", "title": "Upper-case plugin",
         "citation": "", "modalities": ["ir-vi"], "entry": "hostile_plugin:fuse"}
average = {"name": "average", "kind": "classic", "title": "impostor", "citation": "",
           "modalities": ["ir-vi"], "entry": "hostile_plugin:fuse"}
escape = {"name": "../evil", "kind": "classic", "entry": "hostile_plugin:fuse"}
not_a_card = 42
'''


def _install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: dict[str, str]) -> None:
    site = tmp_path / "site"
    info = site / "hostile_plugins-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hostile-plugins\n"
                                   "Version: 1.2\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[fusionbench.methods]\n{lines}")
    (site / "hostile_plugin.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "hostile_plugin", raising=False)
    monkeypatch.setattr(registry_module, "_REPORTED", set())


def _build() -> tuple[Registry, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = Registry.builtin()
    return reg, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def test_mixed_case_plugin_is_listed_and_runs_under_its_normalised_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path, monkeypatch, {"upper": "hostile_plugin:upper"})
    reg, caught = _build()
    assert caught == []
    assert "myupper" in reg.names() and reg.get("MyUpper").name == "myupper"
    assert reg.get("myupper").title == "Upper-case plugin"
    code = main_exit_code(["run", "--method", "MyUpper", "--dataset", "sample", "--subset", "ir-vi",
                  "--out", str(tmp_path / "out"), "--workers", "1", "--metrics", "EN",
                  "--profile", "standard"])
    assert code == 0
    assert (tmp_path / "out" / "sample" / "ir-vi" / "myupper").is_dir()


def test_plugin_named_like_a_builtin_is_reported_not_silently_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path, monkeypatch, {"average": "hostile_plugin:average"})
    reg, caught = _build()
    assert reg.get("average").title == "Pixel-wise average"  # the built-in stays
    assert len(caught) == 1
    assert "'average'" in caught[0] and "hostile-plugins 1.2" in caught[0]
    assert "already used by" in caught[0] and "average.toml" in caught[0]


@pytest.mark.parametrize("value,words", [
    ("no_such_module_xyz:card", "cannot be imported (ModuleNotFoundError"),
    ("hostile_plugin:missing_attr", "cannot be imported (AttributeError"),
    ("hostile_plugin:not_a_card", "loads to int"),
    ("hostile_plugin:escape", "not a plain name"),
])
def test_broken_plugin_is_one_warning_and_the_rest_keeps_working(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, words: str) -> None:
    _install(tmp_path, monkeypatch, {"broken": value, "upper": "hostile_plugin:upper"})
    reg, caught = _build()
    assert len(caught) == 1 and words in caught[0], caught
    assert "hostile-plugins 1.2" in caught[0] and "'broken'" in caught[0]
    assert "average" in reg.names() and "myupper" in reg.names()
    _, again = _build()
    assert again == []  # reported once per process, not on every registry build


def test_methods_command_survives_a_broken_plugin_and_prints_one_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    _install(tmp_path, monkeypatch, {"broken": "no_such_module_xyz:card"})
    assert main_exit_code(["methods"]) == 0
    out, err = capsys.readouterr()
    assert "average" in out and "Traceback" not in err
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "hostile-plugins 1.2" in warned[0]


def test_builtin_cards_are_normalised_too() -> None:
    method = method_from_card({"name": " Mixed ", "kind": "classic", "entry": "m:f"}, "x.toml")
    assert method.name == "mixed" and method.title == " Mixed "
    with pytest.raises(CardError, match="not a plain name"):
        method_from_card({"name": "a/b", "kind": "classic", "entry": "m:f"}, "x.toml")


