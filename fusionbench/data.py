"""Datasets: cards in ``datasets/``, the data root, pairing by file stem, layout checks.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionbench.cards import CardError, did_you_mean, read_card, require
from fusionbench.errors import DatasetError, ImageError
from fusionbench.imageio import is_image_file, read_image

#: Known role folder names, in the order (first source, second source).
KNOWN_ROLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("ir", "vi"), ("ir", "vis"), ("infrared", "visible"), ("IR", "VI"), ("a", "b"), ("A", "B"),
    ("ct", "mri"), ("pet", "mri"), ("spect", "mri"), ("mr-t1", "mr-t2"),
    ("cropinfrared", "crop_LR_visible"), ("far", "near"),
)
SUBSET_ALL = "all"


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

    def pairs(self, subset: Subset, *, strict: bool = False) -> list[Pair]:
        """Pairs matched by file stem, sorted by name.

        Unpaired files are ignored here (``check`` reports them); ``strict`` raises instead.
        """
        problems, pairs = _match(*self.role_dirs(subset))
        if strict and problems:
            raise DatasetError("; ".join(problems))
        return pairs


def _images_by_stem(folder: Path) -> tuple[dict[str, Path], list[str]]:
    found: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(folder.iterdir()):
        if p.is_file() and is_image_file(p) and not p.name.startswith("."):
            found[p.stem].append(p)
    problems = [f"{folder}: several files for pair {stem!r}: {', '.join(q.name for q in ps)}"
                for stem, ps in found.items() if len(ps) > 1]
    return {stem: ps[0] for stem, ps in found.items()}, problems


def _match(dir_a: Path, dir_b: Path) -> tuple[list[str], list[Pair]]:
    imgs_a, problems_a = _images_by_stem(dir_a)
    imgs_b, problems_b = _images_by_stem(dir_b)
    problems = problems_a + problems_b
    only_a, only_b = sorted(set(imgs_a) - set(imgs_b)), sorted(set(imgs_b) - set(imgs_a))
    problems += [f"{imgs_a[s]}: missing partner in {dir_b}" for s in only_a]
    problems += [f"{imgs_b[s]}: missing partner in {dir_a}" for s in only_b]
    pairs = [Pair(s, imgs_a[s], imgs_b[s]) for s in sorted(set(imgs_a) & set(imgs_b))]
    return problems, pairs


def check_subset(dataset: Dataset, subset: Subset) -> tuple[int, list[str]]:
    """Validate one subset: every problem found (missing partner, unreadable file, sizes).

    Returns ``(number of pairs, problems)``; reads every image once.
    """
    try:
        problems, pairs = _match(*dataset.role_dirs(subset))
    except DatasetError as exc:
        return 0, [str(exc)]
    for pair in pairs:
        shapes = []
        for path in (pair.a, pair.b):
            try:
                shapes.append(read_image(path).shape[:2])
            except ImageError as exc:
                problems.append(str(exc))
        if len(shapes) == 2 and shapes[0] != shapes[1]:
            problems.append(f"{pair.name}: size mismatch {pair.a.name} is {shapes[0][1]}x"
                            f"{shapes[0][0]} but {pair.b.name} is {shapes[1][1]}x{shapes[1][0]}")
    return len(pairs), problems


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
