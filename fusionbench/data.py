"""Datasets: cards in ``datasets/``, the data root, pairing by file stem, layout checks.

Pairing rule: a pair is a file stem present in both role folders. Stems that differ only in
case (``Marne_01.png`` / ``marne_01.png``) are paired when that is unambiguous (one such file
on each side) and the pair takes the first role's stem; a stem with several files in one folder
(``x.png`` and ``x.jpg``) is ambiguous and left out. Every file left out is named by
:class:`PairingReport`, which ``run`` prints and ``datasets check`` reports as problems.
:func:`load_pair` is the one set of checks applied to a pair's images before any method runs
(readable, same size, both sides at least :data:`MIN_SIDE` pixels); :func:`check_subset`
applies exactly these checks to every pair.

A dataset card (TOML) names the two modality roles (first = infrared / CT / PET / ``a``,
second = visible / MRI / ``b``), the folder under the data root, and for each role the folder
names accepted (the reference layout first, then published layouts, e.g. RoadScene's
``cropinfrared``). A card may define ``[subsets.<name>]`` with their own roles and folders.
Any folder with two role sub-folders is a dataset too.

>>> ds = resolve_dataset("sample")
>>> [s.name for s in ds.subsets]
['ir-vi', 'multifocus']
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fusionbench.cards import CardError, did_you_mean, read_card, require
from fusionbench.errors import DatasetError, ImageError, NothingToScoreError
from fusionbench.imageio import is_image_file, read_image
from fusionbench.options import name_problem

#: Known role folder names, in the order (first source, second source).
KNOWN_ROLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("ir", "vi"), ("ir", "vis"), ("infrared", "visible"), ("IR", "VI"), ("a", "b"), ("A", "B"),
    ("ct", "mri"), ("pet", "mri"), ("spect", "mri"), ("mr-t1", "mr-t2"),
    ("cropinfrared", "crop_LR_visible"), ("far", "near"),
)
SUBSET_ALL = "all"
#: Smallest side, in pixels, of a source pair any method is run on (the classic methods'
#: filters need 8; VIF is NaN below 17 x 17, which is a documented score, not a refusal).
MIN_SIDE = 8


def _datasets_dir() -> Path:
    import fusionbench.datasets as pkg

    return Path(pkg.__file__).resolve().parent


def default_data_root() -> Path | None:
    """Where datasets live when neither ``--data-root`` nor ``$FUSIONBENCH_DATA`` says.

    Looks for ``./data`` and then ``../shared/data`` beside the current folder and beside the
    fusionbench checkout.
    """
    repo = Path(__file__).resolve().parents[1]
    for cand in (Path.cwd() / "data", Path.cwd().parent / "shared" / "data",
                 repo.parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return None


def resolve_data_root(data_root: str | Path | None = None) -> Path | None:
    """The data root: the argument, else ``$FUSIONBENCH_DATA``, else :func:`default_data_root`.

    A folder that holds ``data/`` (such as ``shared/``) is accepted and means its ``data/``.
    """
    chosen = data_root or os.environ.get("FUSIONBENCH_DATA") or None
    if chosen is None:
        return default_data_root()
    root = Path(chosen).expanduser()
    if not root.is_dir():
        raise DatasetError(f"data root {root} does not exist")
    if (root / "data").is_dir() and not any((root / n).is_dir() for n in ("tno", "roadscene")):
        root = root / "data"
    return root


@dataclass(frozen=True)
class Pair:
    """One source pair: ``a`` is the first role (ir/ct/...), ``b`` the second (vi/mri/...)."""

    name: str
    a: Path
    b: Path


@dataclass(frozen=True)
class Subset:
    """A folder of pairs with two roles."""

    name: str
    roles: tuple[str, str]
    path: str
    role_folders: dict[str, tuple[str, ...]]
    description: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Dataset:
    """A dataset card (or an ad-hoc folder) resolved against a base folder."""

    name: str
    title: str
    modality: str
    subsets: tuple[Subset, ...]
    base: Path | None
    licence: str = ""
    provenance: str = ""
    how_to_get: str = ""
    synthetic: bool = False
    card_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, str]:
        """Roles of the first subset (the usual case: every subset has the same roles)."""
        return self.subsets[0].roles

    def subset(self, name: str | None) -> Subset:
        """Look a subset up; ``None``/``all`` is valid only for a dataset without subsets."""
        if name in (None, SUBSET_ALL) and len(self.subsets) == 1:
            return self.subsets[0]
        for sub in self.subsets:
            if sub.name == name:
                return sub
        known = [s.name for s in self.subsets]
        raise DatasetError(f"dataset {self.name!r} has no subset {name!r} (subsets: "
                           f"{', '.join(known)}).{did_you_mean(str(name), known)}")

    def available_subsets(self) -> list[Subset]:
        """Subsets whose folder exists under the base folder."""
        return [s for s in self.subsets if self.subset_dir(s).is_dir()]

    def subset_dir(self, subset: Subset) -> Path:
        """The folder of one subset."""
        if self.base is None:
            raise DatasetError(f"dataset {self.name!r}: no data root. Pass --data-root or set "
                               f"$FUSIONBENCH_DATA. {self.how_to_get}".strip())
        return self.base / subset.path

    def role_dirs(self, subset: Subset) -> tuple[Path, Path]:
        """The two role folders of a subset (first existing alias per role)."""
        root = self.subset_dir(subset)
        if not root.is_dir():
            raise DatasetError(f"dataset {self.name!r}: folder {root} not found. "
                               f"{self.how_to_get}".strip())
        found = []
        for role in subset.roles:
            for alias in subset.role_folders.get(role, (role,)):
                if (root / alias).is_dir():
                    found.append(root / alias)
                    break
            else:
                names = ", ".join(subset.role_folders.get(role, (role,)))
                raise DatasetError(f"{root}: no folder for role {role!r} (looked for {names}). "
                                   f"{self.how_to_get}".strip())
        return found[0], found[1]

    def pairing(self, subset: Subset) -> PairingReport:
        """How the files of a subset pair up: the pairs and every file left out, and why."""
        return pair_files(*self.role_dirs(subset))

    def pairs(self, subset: Subset, *, strict: bool = False) -> list[Pair]:
        """Pairs matched by file stem (see the module's pairing rule), sorted by name.

        Files left out are reported by :meth:`pairing`; ``strict`` raises instead.
        """
        report = self.pairing(subset)
        if strict and report.problems():
            raise DatasetError("; ".join(report.problems()))
        return list(report.pairs)


@dataclass(frozen=True)
class PairingReport:
    """The outcome of pairing two role folders.

    ``unpaired``: (file, folder where its partner is missing); ``ambiguous``: (folder, stem,
    files) for stems with several files in one folder; ``case_matched``: pairs whose two file
    stems differ only in case.
    """

    dir_a: Path
    dir_b: Path
    pairs: tuple[Pair, ...]
    unpaired: tuple[tuple[Path, Path], ...] = ()
    ambiguous: tuple[tuple[Path, str, tuple[Path, ...]], ...] = ()
    case_matched: tuple[Pair, ...] = ()

    def problems(self) -> list[str]:
        """One line per file left out (what ``datasets check`` and ``run`` print)."""
        lines = [f"{folder}: several files for pair {stem!r}: "
                 f"{', '.join(p.name for p in files)} (left out: rename or remove all but one)"
                 for folder, stem, files in self.ambiguous]
        lines += [f"{path}: missing partner in {folder}" for path, folder in self.unpaired]
        return lines

    def notes(self) -> list[str]:
        """Lines about pairs made by the case-insensitive rule."""
        return [f"{pair.name}: paired ignoring case ({pair.a.name} with {pair.b.name})"
                for pair in self.case_matched]

    def require_pairs(self) -> None:
        """Raise :class:`NothingToScoreError` when no pair was found, naming what was there."""
        if self.pairs:
            return
        left_out = self.problems()
        shown = "; ".join(left_out[:5]) + (f" (+{len(left_out) - 5} more)"
                                          if len(left_out) > 5 else "")
        detail = f": {len(left_out)} file(s) left out: {shown}" if left_out else (
            ": both folders hold no image file")
        raise NothingToScoreError(f"no pairs in {self.dir_a} and {self.dir_b}{detail}")


def _images_by_stem(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(folder.iterdir()):
        if p.is_file() and is_image_file(p) and not p.name.startswith("."):
            found[p.stem].append(p)
    return found


def _by_casefold(stems: Iterable[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for stem in stems:
        groups[stem.casefold()].append(stem)
    return groups


def pair_files(dir_a: Path, dir_b: Path) -> PairingReport:
    """Pair the image files of two role folders by stem (the module's pairing rule).

    >>> import tempfile
    >>> from fusionbench.imageio import write_image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("ir/Marne_01.png", "vi/marne_01.png", "ir/lone.png"):
    ...     write_image(root / name, np.zeros((8, 8), np.uint8))
    >>> report = pair_files(root / "ir", root / "vi")
    >>> [p.name for p in report.pairs], report.notes()
    (['Marne_01'], ['Marne_01: paired ignoring case (Marne_01.png with marne_01.png)'])
    >>> [(path.name, folder.name) for path, folder in report.unpaired]
    [('lone.png', 'vi')]
    """
    files_a, files_b = _images_by_stem(dir_a), _images_by_stem(dir_b)
    ambiguous = [(folder, stem, tuple(paths)) for folder, files in ((dir_a, files_a),
                                                                      (dir_b, files_b))
                 for stem, paths in files.items() if len(paths) > 1]
    single_a = {s: ps[0] for s, ps in files_a.items() if len(ps) == 1}
    single_b = {s: ps[0] for s, ps in files_b.items() if len(ps) == 1}
    matched: dict[str, str] = {s: s for s in single_a if s in single_b}  # stem a -> stem b
    folded_a = _by_casefold(s for s in files_a if s not in matched)
    folded_b = _by_casefold(s for s in files_b if s not in matched.values())
    case_matched = []
    for key, stems_a in folded_a.items():
        stems_b = folded_b.get(key, [])
        if len(stems_a) == 1 and len(stems_b) == 1 and stems_a[0] in single_a \
                and stems_b[0] in single_b:
            matched[stems_a[0]] = stems_b[0]
            case_matched.append(stems_a[0])
    pairs = tuple(Pair(sa, single_a[sa], single_b[sb]) for sa, sb in sorted(matched.items()))
    unpaired = [(single_a[s], dir_b) for s in sorted(single_a) if s not in matched]
    unpaired += [(single_b[s], dir_a) for s in sorted(single_b) if s not in matched.values()]
    return PairingReport(
        dir_a=dir_a, dir_b=dir_b, pairs=pairs, unpaired=tuple(unpaired),
        ambiguous=tuple(ambiguous),
        case_matched=tuple(p for p in pairs if p.name in case_matched))


def load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Read a pair's two images with the checks every run applies before fusing.

    Raises :class:`ImageError` for an unreadable file and :class:`DatasetError` when the two
    sizes differ or a side is below :data:`MIN_SIDE` pixels.
    """
    a, b = read_image(pair.a), read_image(pair.b)
    if a.shape[:2] != b.shape[:2]:
        raise DatasetError(f"{pair.name}: size mismatch {pair.a.name} is {a.shape[1]}x"
                           f"{a.shape[0]} but {pair.b.name} is {b.shape[1]}x{b.shape[0]}")
    if min(a.shape[:2]) < MIN_SIDE:
        raise DatasetError(f"{pair.name}: {pair.a.name} and {pair.b.name} are {a.shape[1]}x"
                           f"{a.shape[0]}; both sides must be at least {MIN_SIDE} pixels")
    return a, b


def check_subset(dataset: Dataset, subset: Subset) -> tuple[int, list[str]]:
    """Validate one subset with exactly the checks ``run`` applies (:func:`load_pair`).

    Returns ``(number of pairs, problems)``: every file left out by pairing and every pair
    that ``run`` would refuse. Reads every image once.
    """
    try:
        report = dataset.pairing(subset)
    except DatasetError as exc:
        return 0, [str(exc)]
    problems = report.problems()
    for pair in report.pairs:
        try:
            load_pair(pair)
        except (ImageError, DatasetError) as exc:
            problems.append(str(exc))
    return len(report.pairs), problems


def _subset_from_card(name: str, spec: dict[str, Any], path: Path) -> Subset:
    roles = require(spec, "roles", list, path)
    if len(roles) != 2:
        raise CardError(f"{path}: subset {name!r} needs exactly two roles, got {roles}")
    aliases = spec.get("role_folders", {})
    role_folders = {r: tuple(aliases.get(r, [r])) for r in roles}
    return Subset(name=name, roles=(roles[0], roles[1]), path=str(spec.get("path", name)),
                  role_folders=role_folders, description=str(spec.get("description", "")),
                  optional=bool(spec.get("optional", False)))


def dataset_from_card(card: dict[str, Any], path: Path, data_root: Path | None) -> Dataset:
    """Build a :class:`Dataset` from a card dict (errors name the card file)."""
    name = require(card, "name", str, path)
    if (problem := name_problem(name)) is not None:
        raise CardError(f"{path}: dataset name {name!r} is not a plain name: {problem}")
    if "subsets" in card:
        subsets = tuple(_subset_from_card(n, s, path) for n, s in card["subsets"].items())
    else:
        subsets = (_subset_from_card(SUBSET_ALL, card, path),)
    embedded = bool(card.get("embedded", False))
    base = path.parent if embedded else data_root
    known = {"name", "title", "modality", "roles", "path", "role_folders", "subsets", "licence",
             "provenance", "how_to_get", "synthetic", "embedded", "description"}
    return Dataset(
        name=name, title=str(card.get("title", name)), modality=str(card.get("modality", "")),
        subsets=subsets, base=base, licence=str(card.get("licence", "")).strip(),
        provenance=str(card.get("provenance", "")).strip(),
        how_to_get=str(card.get("how_to_get", "")).strip(),
        synthetic=bool(card.get("synthetic", False)), card_path=str(path),
        extra={k: v for k, v in card.items() if k not in known},
    )


def dataset_cards(data_root: Path | None = None) -> dict[str, Dataset]:
    """All dataset cards shipped in ``datasets/``, by name."""
    out: dict[str, Dataset] = {}
    for path in sorted(_datasets_dir().glob("*.toml")):
        ds = dataset_from_card(read_card(path), path, data_root)
        out[ds.name] = ds
    return out


def adhoc_dataset_name(folder: Path) -> str:
    """The name an ad-hoc dataset folder is stored under: its base name plus a short hash of its
    resolved path, so that ``labA/mydata`` and ``labB/mydata`` never share results.

    >>> adhoc_dataset_name(Path("/data/labA/mydata")) != adhoc_dataset_name(Path("/x/mydata"))
    True
    """
    digest = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()
    return f"{Path(folder).name}-{digest[:6]}"


def dataset_from_folder(folder: Path) -> Dataset:
    """An ad-hoc dataset: any folder with two role sub-folders (known role names first)."""
    subdirs = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for first, second in KNOWN_ROLE_PAIRS:
        if first in subdirs and second in subdirs:
            roles = (first, second)
            break
    else:
        with_images = [d for d in subdirs if any(is_image_file(p) for p in (folder / d).iterdir())]
        if len(with_images) != 2:
            raise DatasetError(f"{folder}: a dataset folder needs two role sub-folders with "
                               f"images (e.g. ir/ and vi/); found {subdirs or 'none'}")
        roles = (with_images[0], with_images[1])
    subset = Subset(SUBSET_ALL, roles, ".", {r: (r,) for r in roles})
    return Dataset(name=adhoc_dataset_name(folder), title=f"folder {folder}", modality="",
                   subsets=(subset,), base=folder, provenance=f"user folder {folder}")


def resolve_dataset(name_or_path: str, data_root: str | Path | None = None) -> Dataset:
    """A dataset by card name, or an ad-hoc dataset from a folder path.

    Unknown names get a "did you mean" hint.
    """
    root = resolve_data_root(data_root)
    cards = dataset_cards(root)
    if name_or_path in cards:
        return cards[name_or_path]
    as_path = Path(name_or_path).expanduser()
    if as_path.is_dir():
        return dataset_from_folder(as_path)
    raise DatasetError(f"unknown dataset {name_or_path!r} and no such folder."
                       f"{did_you_mean(name_or_path, cards)} (`fusionbench datasets` lists them)")
