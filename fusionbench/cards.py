"""Reading the small TOML cards that describe methods and datasets.

A card that cannot be parsed is an error naming the file, never silently skipped.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.toml"
>>> _ = p.write_text('name = "x"')
>>> read_card(p)["name"]
'x'
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fusionbench.errors import FusionbenchError


class CardError(FusionbenchError):
    """A card file is malformed."""


def read_card(path: Path) -> dict[str, Any]:
    """Parse one TOML card, raising :class:`CardError` that names the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CardError(f"{path}: cannot read card ({exc})") from exc


def require(card: dict[str, Any], key: str, kind: type, path: Path) -> Any:
    """Return ``card[key]`` checked to be of ``kind``; a clear error otherwise."""
    if key not in card:
        raise CardError(f"{path}: missing required field {key!r}")
    value = card[key]
    if not isinstance(value, kind):
        raise CardError(f"{path}: field {key!r} must be {kind.__name__}, got {value!r}")
    return value


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A " Did you mean ...?" suffix for an unknown name (empty when nothing is close).

    >>> did_you_mean("densfuse", ["densefuse", "ifcnn"])
    " Did you mean 'densefuse'?"
    """
    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
