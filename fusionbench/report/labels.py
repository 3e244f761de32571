"""How a run is named and described in the report: display name, incomplete-run flags, weights.

Everything here comes from the run's manifest and its method card (``display_name``; for network
methods the card's ``[weights]`` table: ``sha256`` of the shipped file and ``training``, the
training extent in words), never from a method's name.

>>> run_flags({"interrupted": True}, n_listed=16, n_failed=0, n_missing=0, n_set=42)
('interrupted (16 of 42 pairs)',)
>>> run_flags({}, n_listed=42, n_failed=2, n_missing=1, n_set=42)
('2 failed', 'no output for 1 pair(s)')
>>> short_hash("e482534ae980d6c472cbe0d464193dc35f06c3ba4bd5db89c13385011439377b")
'e482534ae980'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fusionbench.report.load import Run


@dataclass(frozen=True)
class RunLabel:
    """What a table says about one run besides its numbers."""

    method: str
    display: str
    kind: str
    flags: tuple[str, ...]
    synthetic: bool
    weights: str | None

    @property
    def text(self) -> str:
        """``display`` followed by the flags in brackets (``clfnet [interrupted ...]``)."""
        return f"{self.display} [{'; '.join(self.flags)}]" if self.flags else self.display


@lru_cache(maxsize=1)
def _registry() -> Any:
    from fusionbench.errors import FusionbenchError
    from fusionbench.registry import Registry

    try:
        return Registry.builtin()
    except (FusionbenchError, ImportError):  # a broken plugin must not stop a report
        return Registry.builtin(entry_points=False)


def card_of(run: Run) -> Any | None:
    """The run's method card (by the manifest's ``method_name``, else the label before ``@``)."""
    name = run.manifest.get("method_name") or run.method.split("@", 1)[0]
    registry = _registry()
    return registry.get(str(name)) if str(name) in registry else None


def card_named(name: str) -> Any | None:
    """A registry card by name, or ``None``."""
    registry = _registry()
    return registry.get(name) if name in registry else None


def display_name(run: Run) -> str:
    """The card's ``display_name`` (plus the label's ``@variant`` suffix), else the label.

    A run whose label is not its card's name (``eval --name``) keeps its label.
    """
    card = card_of(run)
    if card is None:
        return run.method
    base, _, variant = run.method.partition("@")
    if base.lower() != card.name:
        return run.method
    return f"{card.display_name}@{variant}" if variant else card.display_name


def short_hash(sha: str) -> str:
    """The first 12 hex digits of a sha256."""
    return sha[:12]


def run_flags(manifest: Mapping[str, Any], *, n_listed: int, n_failed: int, n_missing: int,
              n_set: int | None) -> tuple[str, ...]:
    """Labels of an incomplete run: interrupted, failed / missing pairs, pairs never run."""
    flags = []
    if manifest.get("interrupted") is True:
        total = f" of {n_set}" if n_set else ""
        flags.append(f"interrupted ({n_listed}{total} pairs)")
    elif n_set and n_listed < n_set:
        flags.append(f"not run on {n_set - n_listed} of {n_set} pairs")
    if n_failed:
        flags.append(f"{n_failed} failed")
    if n_missing:
        flags.append(f"no output for {n_missing} pair(s)")
    return tuple(flags)


def weights_note(run: Run, card: Any | None) -> str | None:
    """For a network method: the weights file's hash and the card's training extent.

    ``None`` for other kinds. The hash is the manifest's ``weights_sha256``; the card's
    ``weights_sha256`` and ``weights_training`` describe the shipped file, so its training
    extent is stated only when the hashes match (or the run used the default weights and did
    not record a hash).
    """
    kind = run.manifest.get("method_kind") or (card.kind if card is not None else None)
    if kind != "network":
        return None
    extra = card.extra if card is not None else {}
    shipped_sha = str(extra.get("weights_sha256") or "")
    training = str(extra.get("weights_training") or "")
    sha = str(run.manifest.get("weights_sha256") or "")
    weights = run.manifest.get("weights")
    if weights is None:
        weights = (run.manifest.get("options") or {}).get("weights")
    if sha:
        text = f"weights sha256 {short_hash(sha)}"
        if shipped_sha and sha == shipped_sha:
            text += f" (the shipped weights{': ' + training if training else ''})"
        elif shipped_sha:
            text += " (not the shipped weights; training extent unknown)"
        return text
    if weights:
        return f"weights {weights} (hash not recorded; training extent unknown)"
    if shipped_sha:
        return (f"shipped weights, sha256 {short_hash(shipped_sha)} per the card"
                f"{': ' + training if training else ''} (the run recorded no hash)")
    return "weights not recorded by the run"


def run_label(run: Run, n_set: int | None) -> RunLabel:
    """The :class:`RunLabel` of one run in a dataset subset of ``n_set`` pairs."""
    card = card_of(run)
    status = run.pairs["status"]
    kind = str(run.manifest.get("method_kind") or (card.kind if card is not None else ""))
    flags = run_flags(run.manifest, n_listed=len(run.pairs),
                      n_failed=int((status == "failed").sum()),
                      n_missing=int((status == "missing").sum()), n_set=n_set)
    return RunLabel(run.method, display_name(run), kind, flags,
                    bool(run.manifest.get("synthetic_data", False)), weights_note(run, card))
