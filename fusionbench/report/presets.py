"""Report presets: small TOML files that lay out a published table (methods in order, metrics,
convention, dataset) and say which of a paper's numbers may be set beside the measured ones.

Packaged presets live in ``fusionbench/report/presets/``; ``--preset`` takes a packaged name or
the path of a TOML file of the same form::

    title = "CLF-Net paper, Table II: TNO"
    dataset = "tno"
    subset = "all"
    profile = "tang2022"
    metrics = ["EN", "MI", "VIF", "SD", "AG", "SF"]
    methods = ["densefuse", "rfn-nest", ...]

    [paper]            # optional: the paper table this preset reproduces
    table = "II"       # its rows in reference/clfnet_paper_scores.csv
    label = "TNO"      # how the paper names its data set
    dataset = "tno"    # the dataset label used in that file
    roles = ["ir", "vi"]
    modality = "infrared / visible"
    n_pairs = 20
    pairs = "the paper's 20 TNO test pairs are not listed ..."

>>> [p.name for p in packaged_presets()]
['clfnet-table2', 'clfnet-table3', 'clfnet-table4', 'clfnet-table5']
>>> load_preset("clfnet-table2").methods[:3]
('densefuse', 'rfn-nest', 'fusiongan')
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fusionbench.errors import UsageError

PRESETS = Path(__file__).resolve().parent / "presets"


@dataclass(frozen=True)
class PaperTableSpec:
    """Which published table a preset reproduces, and what its numbers were measured on."""

    table: str
    label: str
    dataset: str
    roles: tuple[str, ...]
    modality: str
    n_pairs: int
    pairs: str


@dataclass(frozen=True)
class Preset:
    """A report layout: what to show, in which order, under which convention."""

    name: str
    title: str
    dataset: str
    subset: str
    profile: str
    metrics: tuple[str, ...]
    methods: tuple[str, ...]
    paper: PaperTableSpec | None
    path: str


def _strings(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise UsageError(f"preset {path}: {key!r} must be a non-empty list of strings")
    return tuple(value)


def _string(data: dict[str, Any], key: str, path: Path, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise UsageError(f"preset {path}: {key!r} must be a non-empty string")
    return value


def read_preset(path: str | Path) -> Preset:
    """Read and check one preset file (a problem is a :class:`UsageError` naming the file)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"preset {path}: cannot be read ({exc})") from exc
    paper = None
    if "paper" in data:
        spec = data["paper"]
        if not isinstance(spec, dict):
            raise UsageError(f"preset {path}: [paper] must be a table")
        n = spec.get("n_pairs")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise UsageError(f"preset {path}: [paper] n_pairs must be a positive integer")
        paper = PaperTableSpec(_string(spec, "table", path), _string(spec, "label", path),
                               _string(spec, "dataset", path),
                               _strings(spec, "roles", path), _string(spec, "modality", path),
                               n, _string(spec, "pairs", path))
    return Preset(path.stem, _string(data, "title", path), _string(data, "dataset", path),
                  _string(data, "subset", path, "all"), _string(data, "profile", path),
                  _strings(data, "metrics", path), _strings(data, "methods", path), paper,
                  str(path))


@lru_cache(maxsize=1)
def packaged_presets() -> tuple[Preset, ...]:
    """Every preset shipped in ``fusionbench/report/presets`` (sorted by name)."""
    return tuple(read_preset(p) for p in sorted(PRESETS.glob("*.toml")))


def load_preset(name_or_path: str) -> Preset:
    """A packaged preset by name, or a preset file by path."""
    for preset in packaged_presets():
        if preset.name == name_or_path:
            return preset
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return read_preset(path)
    names = ", ".join(p.name for p in packaged_presets())
    raise UsageError(f"--preset {name_or_path!r}: no such preset (packaged: {names}; or give "
                     "the path of a .toml file)")


def paper_label(table: str, dataset: str) -> str:
    """How the paper names the data set of its ``table`` (from the presets), else ``dataset``.

    >>> paper_label("IV", "medical"), paper_label("IX", "tno")
    ('medical MR-T1/MR-T2', 'tno')
    """
    for preset in packaged_presets():
        if preset.paper is not None and (preset.paper.table, preset.paper.dataset) == (
                table, dataset):
            return preset.paper.label
    return dataset
