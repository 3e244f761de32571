"""The method registry: built-in cards under ``methods/`` plus third-party entry points.

A method card (TOML) has ``name``, ``kind`` (``network``, ``classic`` or ``published``),
``title``, ``citation``, ``modalities``, optionally ``display_name`` (the short name tables show,
e.g. ``RFN-Nest``; default: ``name``), and either

* ``entry = "module:callable"`` — a fusion callable ``fuse(a, b) -> image`` (``classic``) or a
  class whose instances are such callables (``network``), or
* ``[outputs]`` — where published fused images live per dataset (``tno = "fused/tno/X"``, or
  ``"medical/ct-mri" = ...`` for a subset), relative to the data root, with ``file_pattern``
  (default ``"{pair}.*"``) naming one pair's file.

Third-party packages register a method through the entry-point group
``fusionbench.methods``; the entry point must load to a :class:`Method` or to a card ``dict``.

Method names are normalised the same way for built-in cards and plugins: surrounding spaces
removed, lower case (``MyUpper`` is listed, run and stored as ``myupper``), and they must be
plain names (:func:`fusionbench.options.name_problem`). A plugin that cannot be imported, is
not a valid card, or whose name is already taken (by a built-in method or an earlier plugin)
is skipped with one :class:`~fusionbench.errors.PluginWarning` naming its distribution; every
other method keeps working.

>>> reg = Registry.builtin()
>>> reg.get("average").kind
'classic'
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionbench.cards import CardError, did_you_mean, read_card, require
from fusionbench.errors import MethodError, PluginWarning
from fusionbench.options import name_problem
from fusionbench.postprocess import PostprocessedFuser, parse_steps

METHOD_KINDS = ("network", "classic", "published")
ENTRY_POINT_GROUP = "fusionbench.methods"


def _methods_dir() -> Path:
    import fusionbench.methods as pkg

    return Path(pkg.__file__).resolve().parent


@dataclass(frozen=True)
class Method:
    """One fusion method as described by its card."""

    name: str
    kind: str
    title: str
    citation: str
    modalities: tuple[str, ...]
    entry: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    file_pattern: str = "{pair}.*"
    #: value of ``{pair}`` in a file name -> pair name (``eval --rename``; empty: the pair name)
    file_rename: dict[str, str] = field(default_factory=dict)
    description: str = ""
    paper_scores: dict[str, Any] = field(default_factory=dict)
    card_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    display_name: str = ""

    @property
    def is_published(self) -> bool:
        """True for methods known only by their published outputs."""
        return self.kind == "published"

    def outputs_for(self, dataset: str, subset: str | None) -> str | None:
        """Relative folder of this method's published outputs for a dataset/subset."""
        if subset and f"{dataset}/{subset}" in self.outputs:
            return self.outputs[f"{dataset}/{subset}"]
        return self.outputs.get(dataset) if not subset or subset == "all" else None

    def load(self, **options: Any) -> Callable[..., Any]:
        """Import the fusion callable (instantiating it with ``options`` for networks)."""
        if self.entry is None:
            raise MethodError(f"method {self.name!r} has no code: it is known only by its "
                              "published outputs")
        module_name, _, attr = self.entry.partition(":")
        try:
            target = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise MethodError(
                f"method {self.name!r}: cannot import {self.entry!r} ({exc})") from exc
        if self.kind == "network":
            return self._with_postprocess(
                target(**{k: v for k, v in options.items() if v is not None}))
        params = dict(self.params)
        if not params:
            return self._with_postprocess(target)

        def fuse_with_params(a: Any, b: Any) -> Any:
            return target(a, b, **params)

        return self._with_postprocess(fuse_with_params)

    def _with_postprocess(self, fuse: Callable[..., Any]) -> Callable[..., Any]:
        """``fuse`` followed by the card's ``postprocess`` steps (see fusionbench.postprocess)."""
        specs = self.extra.get("postprocess")
        if not specs:
            return fuse
        return PostprocessedFuser(fuse, parse_steps(specs), self.name)


def normalise_name(name: str, source: str | Path) -> str:
    """The registry key of a method name: stripped, lower case, and a plain name.

    >>> normalise_name(" MyUpper ", "card.toml")
    'myupper'
    """
    problem = name_problem(name)
    if problem is not None:
        raise CardError(f"{source}: method name {name!r} is not a plain name: {problem}")
    return name.strip().lower()


def method_from_card(card: dict[str, Any], path: Path | str) -> Method:
    """Validate a card dict and build a :class:`Method` (errors name the card)."""
    path = Path(path)
    title_default = require(card, "name", str, path)
    name = normalise_name(title_default, path)
    kind = require(card, "kind", str, path)
    if kind not in METHOD_KINDS:
        raise CardError(f"{path}: kind must be one of {METHOD_KINDS}, got {kind!r}")
    entry = card.get("entry")
    outputs = card.get("outputs", {})
    if kind == "published" and not isinstance(outputs, dict):
        raise CardError(f"{path}: [outputs] must be a table of dataset = folder")
    if kind != "published" and not isinstance(entry, str):
        raise CardError(f"{path}: a {kind} method needs entry = 'module:callable'")
    if isinstance(entry, str) and ":" not in entry:
        raise CardError(f"{path}: entry must look like 'module:callable', got {entry!r}")
    if "postprocess" in card:
        if kind == "published":
            raise CardError(f"{path}: postprocess applies to computed outputs, not to a "
                            "published method's files")
        try:
            parse_steps(card["postprocess"])
        except ValueError as exc:
            raise CardError(f"{path}: {exc}") from exc
    known = {"name", "kind", "title", "citation", "modalities", "entry", "params", "outputs",
             "file_pattern", "description", "paper_scores", "display_name"}
    return Method(
        name=name,
        kind=kind,
        title=str(card.get("title", title_default)),
        citation=str(card.get("citation", "")),
        modalities=tuple(card.get("modalities", ())),
        entry=entry,
        params=dict(card.get("params", {})),
        outputs={str(k): str(v) for k, v in outputs.items()},
        file_pattern=str(card.get("file_pattern", "{pair}.*")),
        description=str(card.get("description", "")).strip(),
        paper_scores=dict(card.get("paper_scores", {})),
        card_path=str(path),
        extra={k: v for k, v in card.items() if k not in known},
        display_name=str(card.get("display_name") or name),
    )


_REPORTED: set[str] = set()


def _warn_once(message: str) -> None:
    """Emit a :class:`PluginWarning` once per process (the registry is built many times)."""
    if message not in _REPORTED:
        _REPORTED.add(message)
        warnings.warn(message, PluginWarning, stacklevel=3)


def _origin(ep: importlib.metadata.EntryPoint) -> str:
    """``entry point 'x' = 'mod:obj' of distribution 'pkg 1.0'`` for messages."""
    dist = getattr(ep, "dist", None)
    owner = (f"distribution '{dist.metadata['Name']} {dist.version}'" if dist is not None
             else "an unknown distribution")
    return f"entry point {ep.name!r} = {ep.value!r} of {owner}"


def _plugin_method(ep: importlib.metadata.EntryPoint) -> Method | None:
    """The method an entry point provides, or ``None`` after one warning saying why not."""
    origin = _origin(ep)
    try:
        loaded = ep.load()
    except Exception as exc:  # any error of third-party code: skip it, keep the others
        _warn_once(f"plugin skipped: {origin} cannot be imported ({type(exc).__name__}: "
                   f"{exc}); the other methods work. Fix or uninstall that distribution.")
        return None
    try:
        if isinstance(loaded, Method):
            return dataclasses.replace(loaded, name=normalise_name(loaded.name, origin),
                                       card_path=loaded.card_path or origin)
        if isinstance(loaded, dict):
            return method_from_card(dict(loaded), origin)
        raise CardError(f"{origin}: loads to {type(loaded).__name__}, expected a "
                        "fusionbench.registry.Method or a card dict")
    except CardError as exc:
        _warn_once(f"plugin skipped: {exc}")
        return None


def _builtin_card_paths(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.toml")):
        if "weights" not in path.parts:
            yield path


class Registry:
    """All known methods by name."""

    def __init__(self, methods: dict[str, Method]) -> None:
        self._methods = methods

    @classmethod
    def builtin(cls, *, entry_points: bool = True) -> Registry:
        """Discover the cards shipped in ``methods/`` (and entry points unless disabled)."""
        methods: dict[str, Method] = {}
        for path in _builtin_card_paths(_methods_dir()):
            method = method_from_card(read_card(path), path)
            if method.name in methods:
                raise CardError(f"{path}: method name {method.name!r} already used by "
                                f"{methods[method.name].card_path}")
            methods[method.name] = method
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                method = _plugin_method(ep)
                if method is None:
                    continue
                if method.name in methods:
                    _warn_once(f"plugin method {method.name!r} ({_origin(ep)}) is ignored: the "
                               f"name is already used by {methods[method.name].card_path}; "
                               "rename it in that package's card")
                    continue
                methods[method.name] = method
        return cls(methods)

    def names(self) -> list[str]:
        """Method names, sorted."""
        return sorted(self._methods)

    def __iter__(self) -> Iterator[Method]:
        return iter(self._methods[n] for n in self.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._methods

    def get(self, name: str) -> Method:
        """The method called ``name`` (case-insensitive), or a "did you mean" error."""
        key = name.lower()
        if key in self._methods:
            return self._methods[key]
        raise MethodError(f"unknown method {name!r}.{did_you_mean(name, self._methods)} "
                          "(`fusionbench methods` lists them)")

    def add(self, method: Method) -> None:
        """Register a method at run time (e.g. a folder scored by ``fusionbench eval``)."""
        name = normalise_name(method.name, method.card_path or "method")
        self._methods[name] = dataclasses.replace(method, name=name)
