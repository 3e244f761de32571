"""Running a method over a dataset: fuse (or locate published outputs), score, store.

Each pair ends as one record (``ok``, ``failed`` with the reason, or ``missing`` for a published
method that does not cover it). One bad pair never stops the others; finished pairs are
skipped on a re-run; ``workers > 1`` spreads pairs over processes with identical results.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fusionbench import __version__
from fusionbench.atomic import atomic_write_text
from fusionbench.data import Dataset, Pair, Subset, load_pair, resolve_data_root
from fusionbench.errors import FusionbenchError, MethodError, OutputError
from fusionbench.executors import Executor, WorkerSetup, local_executor
from fusionbench.imageio import is_image_file, read_image, write_image
from fusionbench.registry import Method
from fusionbench.results import (
    STATUS_FAILED,
    STATUS_MISSING,
    STATUS_OK,
    PairRecord,
    RunPaths,
)
from fusionbench.score_cache import CACHE_FILE, ImageKey, ScoreCache
from fusionbench.weights import weights_sha256

DEFAULT_PROFILES: tuple[str, ...] = ("standard", "tang2022")


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's results (stored in its manifest)."""

    metrics: tuple[str, ...] | None = None
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    device: str | None = None
    weights: str | None = None
    workers: int = 1
    #: sha256 of ``weights`` (set by :func:`run_method`); part of every computed pair's
    #: fingerprint and of the run's label, so other weights never share fused images or scores.
    weights_sha256: str | None = None
    #: what one task of a network method needs of a worker (Dask resources, e.g. GPU=1)
    resources: tuple[tuple[str, float], ...] = ()


@dataclass
class RunSummary:
    """Counts of one run, for the screen and the exit code."""

    paths: RunPaths
    n_pairs: int
    ok: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped: int = 0
    #: pairs whose stored record no longer matched their files (sources, fused image or
    #: weights changed since they were scored): redone from scratch
    changed: list[str] = field(default_factory=list)


def published_file(folder: Path, pattern: str, pair: str) -> Path | None:
    """The published fused file of ``pair`` in ``folder`` (``pattern`` like ``{pair}.*``)."""
    matches = sorted(p for p in folder.glob(pattern.format(pair=pair))
                     if p.is_file() and is_image_file(p))
    if len(matches) > 1:
        raise MethodError(f"{folder}: several files match pair {pair!r}: "
                          f"{', '.join(m.name for m in matches)}")
    return matches[0] if matches else None


def input_fingerprint(*files: Path | None, extra: str = "") -> str:
    """sha256 over the bytes of ``files`` (``None`` entries count as absent), in order, and
    ``extra`` (e.g. the sha256 of the weights that produced a fused image).

    A stored record is reused only while its fingerprint still matches, so different images
    under the same run name or the same folder name are never answered from old scores.
    """
    digest = hashlib.sha256()
    for path in files:
        digest.update(b"\0" if path is None else hashlib.sha256(path.read_bytes()).digest())
    digest.update(extra.encode("utf-8"))
    return digest.hexdigest()


def _pair_fingerprint(pair: Pair, published_dir: Path | None, pattern: str,
                      weights_sha256: str | None, own_fused: Path) -> str:
    """The fingerprint a record of ``pair`` must carry to be reused: the sources, the fused
    file (published, or the one this run wrote, ``own_fused``) and the weights."""
    if published_dir is not None:
        fused = published_file(published_dir, pattern, pair.name)
    else:
        fused = own_fused if own_fused.is_file() else None
    return input_fingerprint(pair.a, pair.b, fused, extra=weights_sha256 or "")


def run_label(method: Method, config: RunConfig) -> str:
    """The name a run is stored under: the method's name for its default variant (shipped
    weights), ``name@<first 8 hex of the weights' sha256>`` for other weights.

    >>> m = Method(name="net", kind="network", title="", citation="", modalities=())
    >>> run_label(m, RunConfig()), run_label(m, RunConfig(weights_sha256="ab12cd34ef"))
    ('net', 'net@ab12cd34')
    """
    if config.weights_sha256:
        return f"{method.name}@{config.weights_sha256[:8]}"
    return method.name


def _score(fused: Any, a: Any, b: Any, config: RunConfig,
           cache: ScoreCache | None) -> tuple[list[dict[str, Any]], ImageKey]:
    """The scores of one triple under every profile of the run, each row with the profile's
    engine version; profiles whose scores the cache knows for these decoded images are not
    computed again."""
    from fusionbench.metrics import get_profile, score_many  # profiles share intermediates

    key = ImageKey.of(a, b, fused)
    by_profile: dict[str, dict[str, float]] = {}
    todo = []
    for profile in config.profiles:
        names = _profile_metrics(config, profile)
        known = cache.lookup(key, profile, get_profile(profile).version, names) if cache else {}
        if len(known) == len(names):
            by_profile[profile] = {m: known[m] for m in names}
        else:
            todo.append(profile)
    if todo:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            by_profile.update(score_many(fused, a, b, profiles=todo, metrics=config.metrics))
    rows = []
    for profile in config.profiles:
        version = get_profile(profile).version
        rows += [{"metric": m, "convention": profile, "value": float(v), "version": version}
                 for m, v in by_profile[profile].items()]
    return rows, key


def _worker_cache(root: Path) -> ScoreCache | None:
    """This process's read connection to the score cache of ``root`` (none if absent)."""
    path = Path(root) / CACHE_FILE
    if not path.is_file():
        return None
    cache = _WORKER.get("cache")
    if cache is None or cache.path != path:
        cache = _WORKER["cache"] = ScoreCache(path)
    return cache


_WORKER: dict[str, Any] = {}


def _init_worker(method: Method, config: RunConfig) -> None:
    _WORKER.clear()
    if method.is_published:
        _WORKER["fuse"] = None
    elif method.kind == "network":
        _WORKER["fuse"] = method.load(device=config.device, weights=config.weights)
        device = getattr(_WORKER["fuse"], "device", None) or config.device
        if device is not None:
            _WORKER["device"] = str(device)
    else:
        _WORKER["fuse"] = method.load()


def process_pair(method: Method, pair: Pair, paths: RunPaths, published_dir: Path | None,
                 config: RunConfig) -> PairRecord:
    """Fuse (or find) and score one pair; every error becomes a ``failed`` record."""
    record = PairRecord(pair=pair.name, status=STATUS_OK, a_path=str(pair.a),
                        b_path=str(pair.b))
    start = time.perf_counter()
    try:
        found = None
        if published_dir is not None:
            found = published_file(published_dir, method.file_pattern, pair.name)
            if found is None:
                record.status, record.reason = STATUS_MISSING, f"no file in {published_dir}"
                return record
        a, b = load_pair(pair)  # exactly the checks `datasets check` applies
        if found is not None:
            fused = read_image(found)
            record.fused_path = str(found)
        else:
            target = paths.fused_dir / f"{pair.name}.png"
            if target.is_file():
                fused = read_image(target)
            else:
                from fusionbench.fusion import fuse_images

                fused = fuse_images(_WORKER["fuse"], a, b, name=method.name)
                write_image(target, fused)
            record.fused_path = str(target)
        if fused.shape[:2] != a.shape[:2]:
            raise MethodError(f"fused image is {fused.shape[1]}x{fused.shape[0]} but the "
                              f"sources are {a.shape[1]}x{a.shape[0]}")
        record.scores, key = _score(fused, a, b, config, _worker_cache(paths.root))
        record.images = {"a": key.a, "b": key.b, "f": key.f}
        record.fingerprint = input_fingerprint(pair.a, pair.b, Path(record.fused_path),
                                               extra=config.weights_sha256 or "")
    except OutputError:
        raise  # the results folder cannot be written: stop the run (exit 6), not a failed pair
    except FusionbenchError as exc:
        record.status, record.reason = STATUS_FAILED, str(exc)
    except Exception as exc:  # a method's own bug must not stop the other pairs
        last = traceback.extract_tb(exc.__traceback__)[-1]
        record.status = STATUS_FAILED
        where = f"{Path(last.filename).name}:{last.lineno}"
        record.reason = f"{type(exc).__name__}: {exc} (at {where})"
    record.seconds = round(time.perf_counter() - start, 4)
    return record


def _git_revision() -> str:
    repo = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0], "fusionbench": __version__}
    for dist in ("numpy", "scipy", "pillow", "pandas", "scikit-image", "torch"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def _profile_metrics(config: RunConfig, profile: str) -> tuple[str, ...]:
    """The metrics ``score`` returns for one profile of this run: its defaults, every metric
    for ``all``, or the asked ones in their canonical spelling."""
    from fusionbench.metrics import get_profile, resolve_metrics

    return tuple(resolve_metrics(get_profile(profile), config.metrics))


def _expected_metrics(config: RunConfig) -> tuple[str, ...]:
    names: list[str] = []
    for prof in config.profiles:
        names += [m for m in _profile_metrics(config, prof) if m not in names]
    return tuple(names)


def _still_valid(record: PairRecord, pair: Pair, published_dir: Path | None,
                 pattern: str, config_weights: str | None, own_fused: Path) -> bool:
    """Whether the files behind a stored record are unchanged (a missing pair: still missing)."""
    try:
        if record.status == STATUS_MISSING:
            return published_dir is not None and published_file(
                published_dir, pattern, pair.name) is None
        return record.fingerprint == _pair_fingerprint(pair, published_dir, pattern,
                                                       config_weights, own_fused)
    except (OSError, FusionbenchError):
        return False


def _is_complete(record: PairRecord, config: RunConfig) -> bool:
    """Whether a stored record already holds every score this run would compute, each at its
    profile's current engine version."""
    from fusionbench.metrics import get_profile

    if record.status == STATUS_MISSING:
        return True
    return record.status == STATUS_OK and all(
        record.covers(_profile_metrics(config, prof), prof, get_profile(prof).version)
        for prof in config.profiles)


def run_method(method: Method, dataset: Dataset, subset: Subset, out_root: Path,
               config: RunConfig, *, data_root: Path | None = None,
               progress: Callable[[int], Any] | None = None,
               executor: Executor | None = None) -> RunSummary:
    """Run one method on one dataset subset into ``out_root``; resumes finished pairs.

    Stored scores are merged, never wiped: a pair whose files are unchanged keeps the scores of
    other profiles and metrics it already has, and only what is missing is computed. A pair
    whose files (or the weights behind its fused image) changed is redone from scratch.
    """
    pairs = dataset.pairs(subset)
    if config.weights and not method.is_published:
        weights = Path(config.weights)
        try:
            config = replace(config, weights_sha256=weights_sha256(weights))
        except OSError as exc:
            raise MethodError(f"{weights}: weights file cannot be read "
                              f"({exc.strerror or exc})") from exc
    paths = RunPaths(Path(out_root), dataset.name, subset.name, run_label(method, config))
    published_dir = None
    if method.is_published:
        rel = method.outputs_for(dataset.name, subset.name)
        if rel is None:
            raise MethodError(f"method {method.name!r} has no published outputs for dataset "
                              f"{dataset.name!r}" + (f" subset {subset.name!r}"
                                                     if subset.name != "all" else ""))
        root = resolve_data_root(data_root) or Path(".")
        published_dir = root / rel
        if not published_dir.is_dir():
            raise MethodError(f"{published_dir}: published outputs of {method.name!r} not found")
    summary = RunSummary(paths=paths, n_pairs=len(pairs))
    wanted = _expected_metrics(config)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    cache = ScoreCache(Path(out_root) / CACHE_FILE)
    with paths.lock():
        _remove_stale_temporaries(paths)
        cache.create()  # so that workers find the file
        todo = []
        kept: dict[str, PairRecord] = {}
        for pair in pairs:
            rec = paths.read_record(pair.name)
            own_fused = paths.fused_dir / f"{pair.name}.png"
            valid = rec is not None and _still_valid(rec, pair, published_dir,
                                                     method.file_pattern, config.weights_sha256,
                                                     own_fused)
            if rec is not None and valid and _is_complete(rec, config):
                _tally(summary, rec)
                summary.skipped += 1
                if progress:
                    progress(1)
                continue
            if rec is not None and valid:
                kept[pair.name] = rec
            elif rec is not None:
                if rec.status != STATUS_FAILED:
                    summary.changed.append(pair.name)
                if published_dir is None:  # a stale fused image of ours is made again
                    own_fused.unlink(missing_ok=True)
            todo.append(pair)
        try:
            for record in _execute(method, todo, paths, published_dir, config, executor):
                record = _merge_scores(kept.get(record.pair), record)
                _remember_scores(cache, record)
                paths.write_record(record)
                _tally(summary, record)
                if progress:
                    progress(1)
        finally:
            cache.close()
            if "cache" in _WORKER:
                _WORKER.pop("cache").close()
            paths.write_tables()
            _write_manifest(paths, method, dataset, subset, config, summary, started, wanted)
    return summary


def _remove_stale_temporaries(paths: RunPaths) -> None:
    """Delete half-written ``.<name>.*.tmp`` files a killed run left (we hold the lock)."""
    for folder in (paths.run_dir, paths.records_dir, paths.fused_dir):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def _execute(method: Method, todo: Sequence[Pair], paths: RunPaths, published_dir: Path | None,
             config: RunConfig, executor: Executor | None = None) -> Iterator[PairRecord]:
    """Compute the records of ``todo`` on ``executor`` (default: serial or a local process
    pool by ``config.workers``); they come back to this process, the only writer. An executor
    whose workers do not see our files (``data_access == "send"``) gets each pair's bytes."""
    if not todo:
        return
    if executor is None:
        executor = local_executor(max(1, min(config.workers, len(todo))))
    resources = dict(config.resources) if method.kind == "network" else {}
    setup = WorkerSetup(_init_worker, (method, config), resources=resources)
    if executor.data_access == "send":
        from fusionbench.shipped_pairs import PairShipping

        shipping = PairShipping(method, paths, published_dir, config)
        yield from shipping.run(executor, todo, setup, on_lost=_lost_pair)
        return
    task = partial(process_pair, method, paths=paths, published_dir=published_dir, config=config)
    yield from executor.map_unordered(task, todo, setup, on_lost=_lost_pair)


def _lost_pair(pair: Pair, reason: str) -> PairRecord:
    """The record of a pair whose worker died on every try (a re-run tries it again)."""
    return PairRecord(pair=pair.name, status=STATUS_FAILED, reason=reason, a_path=str(pair.a),
                      b_path=str(pair.b))


def _remember_scores(cache: ScoreCache, record: PairRecord) -> None:
    """Add a finished pair's scores to the content-addressed cache (this process writes)."""
    if record.status != STATUS_OK or not record.images:
        return
    key = ImageKey(record.images["a"], record.images["b"], record.images["f"])
    by_profile: dict[tuple[str, str], dict[str, float]] = {}
    for s in record.scores:
        by_profile.setdefault((s["convention"], s["version"]), {})[s["metric"]] = s["value"]
    for (profile, version), values in by_profile.items():
        cache.add(key, profile, version, values)


def _merge_scores(previous: PairRecord | None, record: PairRecord) -> PairRecord:
    """``record`` plus the scores of ``previous`` (same files) that it did not recompute."""
    if previous is None or record.status != STATUS_OK or previous.status != STATUS_OK:
        return record
    if previous.fingerprint != record.fingerprint:
        return record
    from fusionbench.metrics import PROFILES

    fresh = {(s["metric"], s["convention"]) for s in record.scores}
    current = {name: prof.version for name, prof in PROFILES.items()}
    kept = [s for s in previous.scores if (s["metric"], s["convention"]) not in fresh
            and s.get("version") == current.get(s["convention"])]
    record.scores = kept + record.scores
    return record


def _tally(summary: RunSummary, record: PairRecord) -> None:
    if record.status == STATUS_OK:
        summary.ok.append(record.pair)
    elif record.status == STATUS_MISSING:
        summary.missing.append(record.pair)
    else:
        summary.failed[record.pair] = record.reason


def _write_manifest(paths: RunPaths, method: Method, dataset: Dataset, subset: Subset,
                    config: RunConfig, summary: RunSummary, started: str,
                    metrics: tuple[str, ...]) -> None:
    records = paths.records()
    stored_profiles = sorted({s["convention"] for r in records for s in r.scores})
    stored_metrics = sorted({s["metric"] for r in records for s in r.scores})
    manifest = {
        "method": paths.method, "method_kind": method.kind, "method_card": method.card_path,
        "dataset": dataset.name, "subset": subset.name, "dataset_base": str(dataset.base),
        "synthetic_data": dataset.synthetic,
        "profiles": stored_profiles, "metrics": stored_metrics,
        "requested": {"profiles": list(config.profiles), "metrics": list(metrics)},
        "options": {"device": config.device, "weights": config.weights,
                    "workers": config.workers},
        "method_name": method.name, "weights": config.weights,
        "weights_sha256": config.weights_sha256,
        "variant": "default" if config.weights_sha256 is None else config.weights_sha256[:8],
        "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_pairs": summary.n_pairs, "n_ok": len(summary.ok), "n_failed": len(summary.failed),
        "n_missing": len(summary.missing),
        "interrupted": len(summary.ok) + len(summary.failed) + len(summary.missing)
        < summary.n_pairs, "pairs_ok": sorted(summary.ok),
        "pairs_failed": dict(sorted(summary.failed.items())),
        "pairs_missing": sorted(summary.missing),
        "device": _WORKER.get("device") or config.device or "cpu",
        "seconds_per_pair": {r.pair: r.seconds for r in records},
        "fusionbench_version": __version__, "git_revision": _git_revision(),
        "versions": _versions(), "platform": platform.platform(), "cpu_count": os.cpu_count(),
    }
    atomic_write_text(paths.manifest, json.dumps(manifest, indent=1))
