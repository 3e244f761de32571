"""Matching fused image files to pair names, and suggesting the option that makes them match.

A folder of fused images is matched to a dataset's pairs by a file-name ``pattern`` (a glob in
which ``{pair}`` stands for the pair name, default ``{pair}.*``) and optionally a ``rename``
table (the value ``{pair}`` takes in a file name -> pair name, for numbered layouts such as
Tang's ``01.png`` .. ``42.png``; read and checked line by line by :func:`read_rename`, format in
:data:`RENAME_FORMAT`). The rule, in order, for each pair (with a table: for each file value
the table maps to the pair):

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
import difflib
import fnmatch
import glob
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fusionbench.errors import DatasetError, MethodError

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


def _file_names(folder: Path) -> list[str]:
    """The names of the files of ``folder`` (hidden ones left out), in no order; no ``stat``
    per file, so that looking up one pair in a folder of thousands stays cheap."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder of fused images not found")
    with os.scandir(folder) as entries:
        return [e.name for e in entries if not e.name.startswith(".") and e.is_file()]


def _images(names: Iterable[str]) -> list[str]:
    from fusionbench.imageio import is_image_file  # numpy: not at CLI start-up (--help)

    return [n for n in names if is_image_file(Path(n))]


def _listing(folder: Path) -> list[Path]:
    """The image files of ``folder`` (hidden files left out), sorted."""
    return [folder / n for n in sorted(_images(_file_names(folder)))]


def pair_slot_values(folder: Path, pattern: str = DEFAULT_PATTERN) -> list[str]:
    """What ``{pair}`` stands for in the names of the image files of ``folder`` that
    ``pattern`` matches (ignoring case), e.g. the numbers of ``01.png`` .. ``42.png``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("F_01.png", "F_02.jpg", "notes.png"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> pair_slot_values(folder, "F_{pair}.*")
    ['01', '02']
    """
    marker = "PAIRSLOTMARKER"
    regex = fnmatch.translate(pattern.format(pair=marker)).replace(marker, "(?P<pair>.+)", 1)
    matches = (re.match(regex, p.name, re.IGNORECASE) for p in _listing(Path(folder)))
    return [m.group("pair") for m in matches if m]


def _files_for(name_glob: str, names: Sequence[str]) -> tuple[list[str], bool]:
    """Image files whose name matches ``name_glob``: exact case first, else ignoring case."""
    exact = _images(fnmatch.filter(names, name_glob))
    if exact:
        return exact, False
    regex = re.compile(fnmatch.translate(name_glob), re.IGNORECASE)
    return _images(n for n in names if regex.match(n)), True


def _hits(names: Sequence[str], pattern: str, values: Iterable[str]) -> tuple[list[str], bool]:
    """The image files matching ``pattern`` for any of ``values`` (of ``{pair}``), and
    whether they matched only ignoring case."""
    hits: list[str] = []
    by_case = False
    for value in values:
        more, folded = _files_for(pattern.format(pair=glob.escape(value)), names)
        hits += more
        by_case |= folded and bool(more)
    return sorted(set(hits)), by_case


def _values_by_pair(rename: Mapping[str, str]) -> dict[str, list[str]]:
    """The file values a rename table maps to each pair."""
    out: dict[str, list[str]] = defaultdict(list)
    for value, pair in sorted(rename.items()):
        out[pair].append(value)
    return out


def match_fused(folder: Path, pairs: Iterable[str], pattern: str = DEFAULT_PATTERN,
                rename: Mapping[str, str] | None = None) -> FusedMatch:
    """Match the image files of ``folder`` to ``pairs`` (the module's rule).

    ``rename`` maps the value ``{pair}`` takes in file names to pair names (see
    :func:`read_rename`).
    """
    folder = Path(folder)
    names = _file_names(folder)
    values = _values_by_pair(rename) if rename else None  # no (or an empty) table: the name
    found: dict[str, Path] = {}
    ambiguous: dict[str, tuple[Path, ...]] = {}
    missing: list[str] = []
    case_matched: list[str] = []
    for pair in pairs:
        hits, by_case = _hits(names, pattern, values.get(pair, []) if values is not None
                              else [pair])
        if len(hits) == 1:
            found[pair] = folder / hits[0]
            if by_case:
                case_matched.append(pair)
        elif hits:
            ambiguous[pair] = tuple(folder / h for h in hits)
        else:
            missing.append(pair)
    used = set(found.values()) | {p for ps in ambiguous.values() for p in ps}
    return FusedMatch(folder=folder, pattern=pattern, found=found, missing=tuple(missing),
                      ambiguous=ambiguous, case_matched=tuple(case_matched),
                      unused=tuple(folder / n for n in sorted(_images(names))
                                   if folder / n not in used))


def fused_candidates(folder: Path, pattern: str, pair: str,
                     rename: Mapping[str, str] | None = None) -> list[Path]:
    """Every file of ``folder`` that the module's rule matches to one pair (normally 0 or 1)."""
    folder = Path(folder)
    values = sorted(v for v, p in rename.items() if p == pair) if rename else [pair]
    hits, _ = _hits(_file_names(folder), pattern, values)
    return [folder / hit for hit in hits]


def find_fused_file(folder: Path, pattern: str, pair: str,
                    rename: Mapping[str, str] | None = None) -> Path | None:
    """The fused file of one pair (the module's rule), ``None`` when there is none.

    Raises :class:`MethodError` naming the files when several match.
    """
    hits = fused_candidates(folder, pattern, pair, rename)
    if len(hits) > 1:
        names = ", ".join(hit.name for hit in hits)
        raise MethodError(f"{folder}: several files match pair {pair!r}: {names}")
    return hits[0] if hits else None


# ------------------------------------------------------------------ rename tables (CSV)

def _key(value: str) -> str:
    """Numbers compare as numbers (``"01"`` = ``"1"``), names ignoring case."""
    value = value.strip()
    return str(int(value)) if value.isdigit() else value.casefold()


#: The rename table format, as the ``--rename`` help and its errors state it.
RENAME_FORMAT = (
    "a CSV file whose first line is a header, then one line per fused file: a column 'file' "
    "(what {pair} stands for in --pattern; with the default pattern the file name without its "
    "extension, e.g. 01; numbers compare as numbers, 01 = 1) and a column 'pair' (the name of "
    "a pair of the dataset, any case). Other column names work when the values tell which "
    "column is which (e.g. tang_id,scene of the TNO names.csv); other columns are ignored. "
    "Each file and each pair at most once; blank lines are skipped")

_Lines = list[tuple[int, list[str]]]


def _read_lines(path: Path) -> tuple[list[str], _Lines]:
    """The header and the non-blank data lines (with their line numbers) of a CSV file."""
    lines: _Lines = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                for fields in reader:
                    if any(f.strip() for f in fields):
                        lines.append((reader.line_num, fields))
            except csv.Error as exc:
                raise DatasetError(f"{path} line {reader.line_num}: not CSV ({exc})") from exc
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: rename table not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read rename table ({exc})") from exc
    if not lines:
        raise DatasetError(f"{path}: the rename table is empty (it needs a header line)")
    header = [h.strip() for h in lines[0][1]]
    return header, lines[1:]


def _columns(path: Path, header: list[str], body: _Lines, stems: Iterable[str],
             pairs: Iterable[str]) -> tuple[int, int]:
    """The (file, pair) column indices: the columns named ``file`` and ``pair``, else the two
    columns that map the most of ``stems`` to ``pairs``."""
    folded = [h.casefold() for h in header]
    if "file" in folded and "pair" in folded:
        return folded.index("file"), folded.index("pair")
    stem_keys, pair_keys = {_key(s) for s in stems}, {_key(p) for p in pairs}
    best: tuple[int, int, int] | None = None
    for src in range(len(header)):
        for dst in range(len(header)):
            n = sum(1 for _, f in body if src != dst and max(src, dst) < len(f)
                    and _key(f[src]) in stem_keys and _key(f[dst]) in pair_keys)
            if n and (best is None or n > best[2]):
                best = (src, dst, n)
    if best is None:
        raise DatasetError(f"{path}: no column holds the fused file names and no other "
                           "column the pair names; a rename table needs both (with a header, "
                           "e.g. 'file,pair')")
    return best[0], best[1]


def read_rename(path: Path, stems: Iterable[str], pairs: Sequence[str], *,
                strict: bool = False, where: str = "the dataset") -> dict[str, str]:
    """A rename table (:data:`RENAME_FORMAT`): the value ``{pair}`` takes in a file name ->
    pair name.

    ``stems`` are those values in the folder (:func:`pair_slot_values`): a table's ``01`` is
    returned as the folder's ``1`` when that is the file there; the values returned are the
    actual pair names. ``strict``: a bad line (wrong number of fields, an empty value, an
    unknown pair, a file or pair given twice) is a :class:`DatasetError` naming the file and
    the line; otherwise bad lines are skipped.

    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "rename.csv"
    >>> _ = table.write_text("file,pair\\n1,Road\\n02,APC_4\\n")
    >>> read_rename(table, ["01", "02"], ["APC_4", "Road"])
    {'01': 'Road', '02': 'APC_4'}
    >>> _ = table.write_text("file,pair\\n1,Road\\n2,Raod\\n")
    >>> read_rename(table, ["1", "2"], ["APC_4", "Road"], strict=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fusionbench.errors.DatasetError: ...rename.csv line 3: 'Raod' is not a pair of the dataset \
(did you mean 'Road'?)...
    """
    path = Path(path)
    stems = list(stems)
    header, body = _read_lines(path)
    i_file, i_pair = _columns(path, header, body, stems, pairs)
    by_stem = {_key(s): s for s in stems}
    by_pair = {_key(p): p for p in pairs}
    file_line: dict[str, int] = {}
    pair_line: dict[str, int] = {}
    table: dict[str, str] = {}
    problems = []
    for number, fields in body:
        file_value = fields[i_file].strip() if i_file < len(fields) else ""
        pair_value = fields[i_pair].strip() if i_pair < len(fields) else ""
        pair = pair_value if pair_value in pairs else by_pair.get(_key(pair_value))
        problem = None
        if len(fields) != len(header):
            problem = f"{len(fields)} field(s) but the header has {len(header)}"
        elif not file_value or not pair_value:
            problem = f"empty {header[i_file] if not file_value else header[i_pair]!r} value"
        elif pair is None:
            close = difflib.get_close_matches(pair_value, pairs, n=1)
            problem = f"{pair_value!r} is not a pair of {where}" + (
                f" (did you mean {close[0]!r}?)" if close else "")
        elif _key(file_value) in file_line:
            problem = f"file {file_value!r} is already on line {file_line[_key(file_value)]}"
        elif pair in pair_line:
            problem = f"pair {pair!r} is already on line {pair_line[pair]}"
        if problem is not None:
            problems.append(f"line {number}: {problem}")
            continue
        assert pair is not None
        file_line[_key(file_value)], pair_line[pair] = number, number
        table[by_stem.get(_key(file_value), file_value)] = pair
    if strict and not body:
        raise DatasetError(f"{path}: the rename table has a header but no lines")
    if strict and problems:
        more = f" (and {len(problems) - 1} more bad line(s))" if len(problems) > 1 else ""
        raise DatasetError(f"{path} {problems[0]}{more}; the format is shown by "
                           "`fusionbench eval --help` (--rename)")
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
                  search: Iterable[Path] = (), rename_file: Path | None = None) -> str:
    """The text of the error for a folder where no fused file matched: what was there, and
    the suggested option (``rename_file``: the rename table that was applied, if any).

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
    table = f" and rename table {rename_file}" if rename_file is not None else ""
    text = (f"no file in {folder} matches a pair with pattern {pattern!r}{table} ({len(files)} "
            f"image file(s) there, e.g. {shown})")
    hint = suggest(folder, pairs, pattern, search)
    return f"{text}; try {hint.message()}" if hint else text
