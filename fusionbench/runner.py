"""Running a method over a dataset: fuse (or locate published outputs), score, store.

Each pair ends as one row of the store (``ok``, ``failed`` with the reason, or ``missing`` for a
published method that does not cover it). One bad pair never stops the others; finished pairs
are skipped on a re-run; ``workers > 1`` (or a Dask cluster) spreads pairs over processes with
identical results. Workers only compute (and read known scores); this process is the one that
writes the store (:mod:`fusionbench.store`), one transaction per pair.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fusionbench import __version__
from fusionbench.atomic import remove_stale_temporaries
from fusionbench.data import Dataset, Pair, Subset, load_pair, resolve_data_root
from fusionbench.errors import FusionbenchError, MethodError, MetricWarning, OutputError
from fusionbench.executors import Executor, WorkerSetup, local_executor
from fusionbench.imageio import read_image, write_image
from fusionbench.matching import find_fused_file
from fusionbench.registry import Method
from fusionbench.store import (
    STATUS_FAILED,
    STATUS_MISSING,
    STATUS_OK,
    ImageKey,
    PairRecord,
    RunPaths,
    Store,
)
from fusionbench.store.clean import drop_run_results
from fusionbench.store.exports import write_exports
from fusionbench.store.legacy import refuse_legacy_layout
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
    #: :func:`method_identity` of the run (set by :func:`run_method`)
    identity: str = ""


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
    #: (pairs, scores) that ``force`` dropped before the run
    dropped: tuple[int, int] | None = None


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


#: fusionbench's modules that turn a method's output into the stored fused PNG.
FUSING_MODULES = ("fusion.py", "colour.py", "postprocess.py", "imageio.py")


def method_code_sha256(method: Method) -> str | None:
    """sha256 of the code that makes a method's fused images: every ``.py`` file of its entry
    point's package folder (a method's helpers usually sit beside it; a change to any of them
    redoes the method's pairs, never the reverse; a top-level single-file module counts
    alone) and :data:`FUSING_MODULES`. ``None`` for a method without code (published
    outputs) or whose module cannot be found.

    >>> m = Method(name="avg", kind="classic", title="", citation="", modalities=(),
    ...            entry="fusionbench.methods.classic.basic:average_fuse")
    >>> len(method_code_sha256(m))
    64
    """
    if method.entry is None:
        return None
    module_name = method.entry.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    origin = Path(spec.origin)
    in_package = "." in module_name or origin.name == "__init__.py"
    own = sorted(origin.parent.glob("*.py")) if in_package else [origin]
    shared = [Path(__file__).parent / name for name in FUSING_MODULES]
    digest = hashlib.sha256()
    for path in own + shared:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def method_identity(method: Method, config: RunConfig) -> str:
    """sha256 of what makes a method's fused images: its card's entry point, parameters and
    other non-descriptive fields (post-processing, the shipped weights' sha256, a version),
    the sha256 of ``--weights`` and of the method's code (:func:`method_code_sha256`). Part of
    every pair's fingerprint, so a changed card, new shipped weights or edited fusion code
    redo the pairs even under the same run name (scores of identical images stay cached).

    >>> m = Method(name="net", kind="network", title="", citation="", modalities=())
    >>> method_identity(m, RunConfig()) == method_identity(m, RunConfig(weights_sha256="ab"))
    False
    """
    described = {"name": method.name, "kind": method.kind, "entry": method.entry,
                 "params": method.params, "file_pattern": method.file_pattern,
                 "extra": method.extra, "weights": config.weights_sha256,
                 "code": method_code_sha256(method)}
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pair_fingerprint(pair: Pair, published_dir: Path | None, pattern: str,
                      identity: str, own_fused: Path,
                      rename: Mapping[str, str] | None = None) -> str:
    """The fingerprint a stored pair must carry to be reused: the sources, the fused file
    (published, or the one this run wrote, ``own_fused``) and the method's identity."""
    if published_dir is not None:
        fused = find_fused_file(published_dir, pattern, pair.name, rename)
    else:
        fused = own_fused if own_fused.is_file() else None
    return input_fingerprint(pair.a, pair.b, fused, extra=identity)


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


def _metric_notes(caught: list[warnings.WarningMessage]) -> tuple[dict[str, str], list[str]]:
    """The NaN reasons by metric and the other warnings' texts of one scoring."""
    reasons: dict[str, str] = {}
    others: list[str] = []
    for w in caught:
        msg = w.message
        if isinstance(msg, MetricWarning) and msg.nan:
            reasons.setdefault(msg.metric, str(msg))
        elif str(msg) not in others:
            others.append(str(msg))
    return reasons, others


def _score(fused: Any, a: Any, b: Any, config: RunConfig,
           store: Store | None) -> tuple[list[dict[str, Any]], ImageKey, list[str]]:
    """The scores of one triple under every profile of the run, each row with the profile's
    engine version and, for NaN, its reason; scores the store knows for these decoded images
    are not computed again. Also returns the metrics' other warnings."""
    from fusionbench.metrics import get_profile, score_many  # profiles share intermediates

    key = ImageKey.of(a, b, fused)
    known: dict[str, dict[str, tuple[float, str]]] = {}
    todo = []
    for profile in config.profiles:
        names = _profile_metrics(config, profile)
        found = store.lookup(key, profile, get_profile(profile).version, names) if store else {}
        if len(found) == len(names):
            known[profile] = {m: found[m] for m in names}
        else:
            todo.append(profile)
    notes: list[str] = []
    if todo:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fresh = score_many(fused, a, b, profiles=todo, metrics=config.metrics)
        reasons, notes = _metric_notes(caught)
        for profile, values in fresh.items():
            known[profile] = {m: (float(v), reasons.get(m, "NaN: no reason given")
                                  if math.isnan(v) else "") for m, v in values.items()}
    rows = []
    for profile in config.profiles:
        version = get_profile(profile).version
        rows += [{"metric": m, "convention": profile, "value": v, "version": version,
                  "reason": why} for m, (v, why) in known[profile].items()]
    return rows, key, notes


def _worker_store(root: Path) -> Store | None:
    """This process's read connection to the store of ``root`` (none if absent)."""
    store = _WORKER.get("store")
    if store is None or store.root != Path(root):
        if store is not None:
            store.close()
        store = _WORKER["store"] = Store.open(Path(root))
    return store


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
            found = find_fused_file(published_dir, method.file_pattern, pair.name,
                                    method.file_rename)
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
        record.scores, key, record.warnings = _score(fused, a, b, config,
                                                     _worker_store(paths.root))
        record.images = {"a": key.a, "b": key.b, "f": key.f}
        record.fingerprint = input_fingerprint(pair.a, pair.b, Path(record.fused_path),
                                               extra=config.identity)
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
                 pattern: str, identity: str, own_fused: Path,
                 rename: Mapping[str, str] | None = None) -> bool:
    """Whether the files behind a stored pair are unchanged (a missing pair: still missing)."""
    try:
        if record.status == STATUS_MISSING:
            return published_dir is not None and find_fused_file(
                published_dir, pattern, pair.name, rename) is None
        return record.fingerprint == _pair_fingerprint(pair, published_dir, pattern,
                                                       identity, own_fused, rename)
    except (OSError, FusionbenchError):
        return False


def _is_complete(store: Store, record: PairRecord, config: RunConfig) -> bool:
    """Whether the store already holds every score this run would compute for the pair, each
    at its profile's current engine version."""
    from fusionbench.metrics import get_profile

    if record.status == STATUS_MISSING:
        return True
    if record.status != STATUS_OK or record.key is None:
        return False
    for profile in config.profiles:
        names = _profile_metrics(config, profile)
        if len(store.lookup(record.key, profile, get_profile(profile).version, names)) < len(
                names):
            return False
    return True


def _resolve_weights(method: Method, config: RunConfig) -> RunConfig:
    if config.weights and not method.is_published:
        weights = Path(config.weights)
        try:
            config = replace(config, weights_sha256=weights_sha256(weights))
        except OSError as exc:
            raise MethodError(f"{weights}: weights file cannot be read "
                              f"({exc.strerror or exc})") from exc
    return replace(config, identity=method_identity(method, config))


def _published_dir(method: Method, dataset: Dataset, subset: Subset,
                   data_root: Path | None) -> Path | None:
    if not method.is_published:
        return None
    rel = method.outputs_for(dataset.name, subset.name)
    if rel is None:
        raise MethodError(f"method {method.name!r} has no published outputs for dataset "
                          f"{dataset.name!r}" + (f" subset {subset.name!r}"
                                                 if subset.name != "all" else ""))
    root = resolve_data_root(data_root) or Path(".")
    published_dir = root / rel
    if not published_dir.is_dir():
        raise MethodError(f"{published_dir}: published outputs of {method.name!r} not found")
    return published_dir


def run_method(method: Method, dataset: Dataset, subset: Subset, out_root: Path,
               config: RunConfig, *, data_root: Path | None = None,
               progress: Callable[[int], Any] | None = None,
               executor: Executor | None = None, force: bool = False) -> RunSummary:
    """Run one method on one dataset subset into ``out_root``; resumes finished pairs.

    Stored scores are merged, never wiped: a pair whose files are unchanged keeps the scores of
    other profiles and metrics it already has, and only what is missing is computed. A pair
    whose files (or the method or weights behind its fused image) changed is redone from
    scratch. ``force`` first drops everything stored for this run (and says so in the summary).
    """
    pairs = dataset.pairs(subset)
    config = _resolve_weights(method, config)
    paths = RunPaths(Path(out_root), dataset.name, subset.name, run_label(method, config))
    published_dir = _published_dir(method, dataset, subset, data_root)
    summary = RunSummary(paths=paths, n_pairs=len(pairs))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    refuse_legacy_layout(Path(out_root))
    with Store.create(Path(out_root)) as store:
        if force:
            summary.dropped = drop_run_results(store, paths)
        run_id = store.run_id(paths.dataset, paths.subset, paths.method, create=True)
        store.add_run_metrics(run_id, [(prof, m) for prof in config.profiles
                                       for m in _profile_metrics(config, prof)])
        for folder in (paths.run_dir, paths.fused_dir):
            remove_stale_temporaries(folder)
        stored = store.pairs(run_id)
        todo = []
        for pair in pairs:
            rec = stored.get(pair.name)
            own_fused = paths.fused_dir / f"{pair.name}.png"
            valid = rec is not None and _still_valid(rec, pair, published_dir,
                                                     method.file_pattern, config.identity,
                                                     own_fused, method.file_rename)
            if rec is not None and valid and _is_complete(store, rec, config):
                _tally(summary, rec)
                summary.skipped += 1
                if progress:
                    progress(1)
                continue
            if rec is not None and not valid:
                if rec.status != STATUS_FAILED:
                    summary.changed.append(pair.name)
                if published_dir is None:  # a stale fused image of ours is made again
                    own_fused.unlink(missing_ok=True)
            todo.append(pair)
        try:
            for record in _execute(method, todo, paths, published_dir, config, executor):
                store.save_pair(run_id, record)
                _tally(summary, record)
                if progress:
                    progress(1)
        finally:
            worker_store = _WORKER.pop("store", None)  # a serial run's read connection
            if worker_store is not None:
                worker_store.close()
            _finish(store, run_id, method, dataset, subset, config, summary, started)
    return summary


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


def _tally(summary: RunSummary, record: PairRecord) -> None:
    if record.status == STATUS_OK:
        summary.ok.append(record.pair)
    elif record.status == STATUS_MISSING:
        summary.missing.append(record.pair)
    else:
        summary.failed[record.pair] = record.reason


def _finish(store: Store, run_id: int, method: Method, dataset: Dataset, subset: Subset,
            config: RunConfig, summary: RunSummary, started: str) -> None:
    """Store the run's manifest and write its exports (also after an interruption)."""
    stored = store.pairs(run_id)
    wanted = store.run_metrics(run_id)
    manifest = {
        "method": summary.paths.method, "method_kind": method.kind,
        "method_card": method.card_path, "method_identity": config.identity,
        "dataset": dataset.name, "subset": subset.name, "dataset_base": str(dataset.base),
        "synthetic_data": dataset.synthetic,
        "profiles": sorted({p for p, _ in wanted}), "metrics": sorted({m for _, m in wanted}),
        "requested": {"profiles": list(config.profiles),
                      "metrics": list(_expected_metrics(config))},
        "options": {"device": config.device, "weights": config.weights,
                    "workers": config.workers},
        "method_name": method.name, "params": method.params, "weights": config.weights,
        "weights_sha256": config.weights_sha256 or method.extra.get("weights_sha256"),
        "variant": "default" if config.weights_sha256 is None else config.weights_sha256[:8],
        "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_pairs": summary.n_pairs, "n_ok": len(summary.ok), "n_failed": len(summary.failed),
        "n_missing": len(summary.missing),
        "interrupted": len(summary.ok) + len(summary.failed) + len(summary.missing)
        < summary.n_pairs, "pairs_ok": sorted(summary.ok),
        "pairs_failed": dict(sorted(summary.failed.items())),
        "pairs_missing": sorted(summary.missing),
        "device": _WORKER.get("device") or config.device or "cpu",
        "seconds_per_pair": {name: rec.seconds for name, rec in sorted(stored.items())},
        "fusionbench_version": __version__, "git_revision": _git_revision(),
        "versions": _versions(), "platform": platform.platform(), "cpu_count": os.cpu_count(),
    }
    store.set_manifest(run_id, manifest)
    run = store.run(dataset.name, subset.name, summary.paths.method)
    write_exports(store, run, store.root)
