"""Matching fused image files to pair names, and suggesting the option that makes them match.

A folder of fused images is matched to a dataset's pairs by a file-name ``pattern`` (a glob in
which ``{pair}`` stands for the pair name, default ``{pair}.*``) and optionally a ``rename``
table (file stem -> pair name, for numbered layouts such as Tang's ``01.png`` .. ``42.png``).
The rule, in order, for each pair:

1. the files whose name matches the pattern exactly;
2. if none, the files that match it ignoring case (``marne_01.png`` for pair ``Marne_01``);
3. several files for one pair is an error (never silently the first).

When nothing (or little) matches, :func:`suggest` looks at the file names and proposes a
``--pattern`` (files named ``fused_<pair>_x.png``) or a ``--rename`` table (numbered files, with
a CSV found beside the dataset that maps the numbers to pair names).

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> for name in ("F_APC_4_dense.png", "F_Road_dense.png"):
...     _ = (folder / name).write_bytes(b"")
>>> match_fused(folder, ["APC_4", "Road"]).found
{}
>>> suggest(folder, ["APC_4", "Road"]).message()
"--pattern 'F_{pair}_dense.*' matches 2 of 2 pairs"
"""

from __future__ import annotations

import csv
import glob
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from fusionbench.errors import DatasetError, MethodError
from fusionbench.imageio import is_image_file

DEFAULT_PATTERN = "{pair}.*"


@dataclass(frozen=True)
class FusedMatch:
    """The outcome of matching a folder of fused images to pair names."""

    folder: Path
    pattern: str
    found: dict[str, Path]
    missing: tuple[str, ...]
    ambiguous: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    case_matched: tuple[str, ...] = ()
    unused: tuple[Path, ...] = ()

    def summary(self) -> str:
        """``"40 of 42 pairs have a fused file in DIR (pattern '{pair}.*'); ..."``."""
        total = len(self.found) + len(self.missing) + len(self.ambiguous)
        text = (f"{len(self.found)} of {total} pairs have a fused file in {self.folder} "
                f"(pattern {self.pattern!r})")
        if self.case_matched:
            text += f"; {len(self.case_matched)} matched ignoring case"
        if self.unused:
            text += f"; {len(self.unused)} image file(s) match no pair"
        return text


def _listing(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder of fused images not found")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and is_image_file(p) and not p.name.startswith("."))


def _files_for(name_glob: str, files: Sequence[Path]) -> tuple[list[Path], bool]:
    """Files whose name matches ``name_glob``: exact case first, else ignoring case."""
    exact = [p for p in files if fnmatchcase(p.name, name_glob)]
    if exact:
        return exact, False
    folded = name_glob.casefold()
    return [p for p in files if fnmatchcase(p.name.casefold(), folded)], True


def _stems_for(pair: str, rename: Mapping[str, str] | None) -> list[str]:
    if rename is None:
        return [pair]
    return sorted(stem for stem, target in rename.items() if target == pair)


def match_fused(folder: Path, pairs: Iterable[str], pattern: str = DEFAULT_PATTERN,
                rename: Mapping[str, str] | None = None) -> FusedMatch:
    """Match the image files of ``folder`` to ``pairs`` (the module's rule).

    ``rename`` maps the value ``{pair}`` takes in file names to pair names (see
    :func:`read_rename`).
    """
    folder = Path(folder)
    files = _listing(folder)
    found: dict[str, Path] = {}
    ambiguous: dict[str, tuple[Path, ...]] = {}
    missing: list[str] = []
    case_matched: list[str] = []
    for pair in pairs:
        hits: list[Path] = []
        by_case = False
        for stem in _stems_for(pair, rename):
            more, folded = _files_for(pattern.format(pair=glob.escape(stem)), files)
            hits += more
            by_case |= folded and bool(more)
        hits = sorted(set(hits))
        if len(hits) == 1:
            found[pair] = hits[0]
            if by_case:
                case_matched.append(pair)
        elif hits:
            ambiguous[pair] = tuple(hits)
        else:
            missing.append(pair)
    used = set(found.values()) | {p for ps in ambiguous.values() for p in ps}
    return FusedMatch(folder=folder, pattern=pattern, found=found, missing=tuple(missing),
                      ambiguous=ambiguous, case_matched=tuple(case_matched),
                      unused=tuple(p for p in files if p not in used))


def find_fused_file(folder: Path, pattern: str, pair: str,
                    rename: Mapping[str, str] | None = None) -> Path | None:
    """The fused file of one pair (the module's rule), ``None`` when there is none.

    Raises :class:`MethodError` naming the files when several match.
    """
    match = match_fused(folder, [pair], pattern, rename)
    if pair in match.ambiguous:
        raise MethodError(f"{folder}: several files match pair {pair!r}: "
                          f"{', '.join(p.name for p in match.ambiguous[pair])}")
    return match.found.get(pair)


# ------------------------------------------------------------------ rename tables (CSV)

def _key(value: str) -> str:
    """Numbers compare as numbers (``"01"`` = ``"1"``), names ignoring case."""
    value = value.strip()
    return str(int(value)) if value.isdigit() else value.casefold()


def _best_columns(rows: list[dict[str, str]], stems: Iterable[str],
                  pairs: Iterable[str]) -> tuple[str, str, int] | None:
    """The (file column, pair column, rows usable) that best maps ``stems`` to ``pairs``."""
    stem_keys = {_key(s) for s in stems}
    pair_keys = {_key(p) for p in pairs}
    columns = list(rows[0]) if rows else []
    best = None
    for src in columns:
        for dst in columns:
            if src == dst:
                continue
            n = sum(1 for r in rows if _key(r.get(src) or "") in stem_keys
                    and _key(r.get(dst) or "") in pair_keys)
            if n and (best is None or n > best[2]):
                best = (src, dst, n)
    return best


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read rename table ({exc})") from exc


def read_rename(path: Path, stems: Iterable[str], pairs: Sequence[str]) -> dict[str, str]:
    """A rename table from a CSV with a header: file stem -> pair name.

    The two columns used are found from the data: the one whose values are the fused files'
    stems (numbers compare as numbers, ``01`` = ``1``) and the one whose values are the pair
    names (e.g. ``tang_id`` and ``scene`` of the TNO ``names.csv``). The keys returned are the
    actual file stems and the values the actual pair names.
    """
    stems = list(stems)
    rows = _read_rows(Path(path))
    best = _best_columns(rows, stems, pairs)
    if best is None:
        raise DatasetError(f"{path}: no column holds the fused file names and no other "
                           "column the pair names; a rename table needs both (with a header)")
    src, dst, _ = best
    by_stem = {_key(s): s for s in stems}
    by_pair = {_key(p): p for p in pairs}
    table: dict[str, str] = {}
    for row in rows:
        stem, pair = by_stem.get(_key(row.get(src) or "")), by_pair.get(_key(row.get(dst) or ""))
        if stem is not None and pair is not None:
            table[stem] = pair
    return table


# ------------------------------------------------------------------ suggestions

@dataclass(frozen=True)
class Suggestion:
    """An option that makes (more of) a folder's files match the pairs.

    ``value`` is ``None`` when the user has to provide it (a numbered folder and no rename
    table found).
    """

    option: str
    value: str | None
    covered: int
    total: int
    note: str = ""

    def message(self) -> str:
        """One line for the user, e.g. ``--pattern 'x_{pair}.*' matches 42 of 42 pairs``."""
        if self.value is None:
            return f"{self.option} FILE: {self.note}"
        text = f"{self.option} {self.value!r} matches {self.covered} of {self.total} pairs"
        return f"{text} ({self.note})" if self.note else text


def _affix_counts(stems: Sequence[str], pairs: Sequence[str]) -> Counter[tuple[str, str]]:
    """For each (prefix, suffix) around a pair name inside a file stem, how many pairs."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    folded_pairs = sorted(((p.casefold(), p) for p in pairs), key=lambda t: -len(t[0]))
    for stem in stems:
        low = stem.casefold()
        for folded, pair in folded_pairs:  # the longest pair name inside the stem wins
            at = low.find(folded)
            if at >= 0:
                seen[(stem[:at], stem[at + len(folded):])].add(pair)
                break
    return Counter({affix: len(found) for affix, found in seen.items()})


def _numbered(stems: Sequence[str]) -> bool:
    return bool(stems) and sum(s.isdigit() for s in stems) * 2 > len(stems)


def _rename_tables(search: Iterable[Path]) -> list[Path]:
    found = []
    for folder in search:
        if folder.is_dir():
            found += sorted(folder.glob("*.csv"))
    return found


def suggest(folder: Path, pairs: Sequence[str], pattern: str = DEFAULT_PATTERN,
            search: Iterable[Path] = ()) -> Suggestion | None:
    """The option that matches more of ``pairs`` to the files of ``folder`` than ``pattern``.

    Tries a ``--pattern`` built from the prefix and suffix found around pair names in the file
    names, then, for numbered files, a ``--rename`` table among the CSV files of ``search``
    (e.g. the dataset's folder). ``None`` when nothing does better.
    """
    folder = Path(folder)
    files = _listing(folder)
    stems = [p.stem for p in files]
    total = len(pairs)
    current = len(match_fused(folder, pairs, pattern).found)
    best: Suggestion | None = None
    counts = _affix_counts(stems, pairs)
    if counts:
        (prefix, suffix), _ = max(counts.items(), key=lambda kv: (kv[1], -len(kv[0][0] + kv[0][1])))
        candidate = f"{glob.escape(prefix)}{{pair}}{glob.escape(suffix)}.*"
        covered = len(match_fused(folder, pairs, candidate).found)
        if covered > current and candidate != pattern:
            best = Suggestion("--pattern", candidate, covered, total)
    if _numbered(stems) and (best is None or best.covered < total):
        for table_path in _rename_tables(search):
            try:
                table = read_rename(table_path, stems, pairs)
            except DatasetError:
                continue
            covered = len(match_fused(folder, pairs, "{pair}.*", table).found)
            if covered > max(current, best.covered if best else 0):
                best = Suggestion("--rename", str(table_path), covered, total,
                                  "maps the numbered files to pair names")
        if best is None:
            shown = ", ".join(p.name for p in files[:3])
            best = Suggestion("--rename", None, 0, total,
                              f"the files are numbered ({shown}, ...) but the pairs are named "
                              f"({', '.join(pairs[:3])}, ...): give a CSV with a header, one "
                              "column of file numbers and one of pair names")
    return best


def no_match_hint(folder: Path, pairs: Sequence[str], pattern: str = DEFAULT_PATTERN,
                  search: Iterable[Path] = ()) -> str:
    """The text of the error for a folder where no fused file matched: what was there, and
    the suggested option.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "01.png").write_bytes(b"")
    >>> print(no_match_hint(folder, ["Road"]))  # doctest: +ELLIPSIS
    no file in ... matches a pair with pattern '{pair}.*' (1 image file(s) there, e.g. 01.png); \
try --rename FILE: the files are numbered (01.png, ...) but the pairs are named (Road, ...): \
give a CSV with a header, one column of file numbers and one of pair names
    """
    files = _listing(Path(folder))
    shown = ", ".join(p.name for p in files[:3]) or "none"
    text = (f"no file in {folder} matches a pair with pattern {pattern!r} ({len(files)} image "
            f"file(s) there, e.g. {shown})")
    hint = suggest(folder, pairs, pattern, search)
    return f"{text}; try {hint.message()}" if hint else text
