"""The Dask executor on a LocalCluster of 2 worker processes: the runner's stored results are
those of a serial run (compared key by key), also when a worker is killed mid-task; a task whose
worker always dies ends as a failed result; once-per-worker set-up; resources; clear errors.

One cluster serves the module (starting one costs seconds on a 2-core CI machine). The task
functions are top level here so that the workers import them by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fusionbench.data import dataset_from_folder, resolve_dataset
from fusionbench.errors import FusionbenchError, UsageError
from fusionbench.executors import SerialExecutor, WorkerSetup, make_executor
from fusionbench.registry import Method, Registry
from fusionbench.report.load import load_results
from fusionbench.runner import RunConfig, run_method

try:
    import distributed  # noqa: F401
except ImportError:  # pragma: no cover - CI installs the extra; locally it may be absent
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("fusionbench[dask] not installed", allow_module_level=True)

from fusionbench.executors_dask import ClusterError, ClusterWarning, DaskExecutor, TaskLostError

PROFILES = ("standard", "tang2022")
_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class Job:
    """One pair to fuse and score; ``die`` makes its worker process kill itself every time."""

    name: str
    a: str
    b: str
    die: bool = False


def load_method(name: str) -> None:
    """The worker set-up: import the fusion callable once per process, count the loads."""
    from fusionbench.registry import Registry

    _STATE["fuse"] = Registry.builtin(entry_points=False).get(name).load()
    _STATE["method"] = name
    _STATE.setdefault("loads", Counter())[name] += 1


def fuse_and_score(job: Job) -> tuple[str, str, Any]:
    """A real task: read, fuse with the set-up's method, score under two profiles.

    Follows the task contract: a problem of the item is a ``failed`` result, never raised.
    """
    if job.die:
        os.kill(os.getpid(), signal.SIGKILL)
    from fusionbench.fusion import fuse_images
    from fusionbench.imageio import read_image
    from fusionbench.metrics import score_many

    try:
        a, b = read_image(job.a), read_image(job.b)
        fused = fuse_images(_STATE["fuse"], a, b)
        scores = score_many(fused, a, b, profiles=PROFILES)
    except FusionbenchError as exc:
        return job.name, "failed", str(exc)
    return job.name, "ok", {"method": _STATE["method"], "scores": scores}


def gff_loads(_: int) -> tuple[int, int]:
    """(process id, how often this process loaded the ``gff`` method: only one test does)."""
    return os.getpid(), _STATE.get("loads", Counter())["gff"]


def average_dying_once(a: Any, b: Any, marker: str) -> Any:
    """A classic fusion callable whose first call (per marker file) kills its own process."""
    if not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return (a + b) / 2


def enter_private_cwd() -> tuple[str, str]:
    """Run on a worker: move into a new empty folder, where the client's relative paths lead
    nowhere (a worker without the client's filesystem). Returns (old, new) folder."""
    old = os.getcwd()
    os.chdir(tempfile.mkdtemp(prefix="fusionbench-worker-"))
    return old, os.getcwd()


def get_env(name: str) -> str | None:
    """Run on a worker: one of its environment variables (a bound ``os.environ.get`` would
    travel with a copy of the client's environment)."""
    return os.environ.get(name)


def set_env(name: str, value: str | None) -> None:
    """Run on a worker: set (or, for ``None``, remove) one of its environment variables."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def lost(job: Job, reason: str) -> tuple[str, str, str]:
    return job.name, "failed", reason


def _jobs(**changes: Any) -> list[Job]:
    ds = resolve_dataset("sample")
    jobs = [Job(p.name, str(p.a), str(p.b)) for sub in ds.subsets for p in ds.pairs(sub)]
    jobs.append(Job("absent", "/nonexistent/ir.png", "/nonexistent/vi.png"))
    named = changes.pop("named", None)
    return [Job(**{**j.__dict__, **changes}) if j.name == named else j for j in jobs]


def _run(executor: Any, jobs: list[Job], method: str = "laplacian") -> dict[str, Any]:
    results = executor.map_unordered(fuse_and_score, jobs, WorkerSetup(load_method, (method,)),
                                     on_lost=lost)
    out = {name: (status, value) for name, status, value in results}
    assert len(out) == len(jobs)
    return out


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes offering GPU=1 each; a task survives one death.

    Started with ``MALLOC_TRIM_THRESHOLD_`` in this process's environment, as an earlier Dask
    cluster in the same process leaves it: the workers must start without it all the same."""
    os.environ["MALLOC_TRIM_THRESHOLD_"] = "65536"
    with DaskExecutor(workers=2, worker_resources={"GPU": 1}, lost_worker_retries=1) as ex:
        yield ex


@pytest.fixture(scope="module")
def serial_laplacian() -> dict[str, Any]:
    return _run(SerialExecutor(), _jobs())


def _stored(root: Path) -> tuple[list[tuple], list[tuple]]:
    """The store's contents, key by key: every score row, every pair's status and reason."""
    results = load_results(root)
    scores = results.scores.sort_values(list(results.scores.columns[:-1]))
    pairs = results.pairs.sort_values(["method", "dataset", "subset", "pair"])
    assert len(scores) and len(pairs)
    return ([tuple(r) for r in scores.itertuples(index=False)],
            [tuple(r) for r in pairs[["method", "dataset", "subset", "pair", "status",
                                      "reason"]].itertuples(index=False)])


RUN = RunConfig(profiles=("standard", "tang2022"), workers=1)


def test_runner_on_two_workers_stores_what_a_serial_run_stores(cluster, tmp_path: Path) -> None:
    ds = resolve_dataset("sample")
    for name in ("laplacian", "gff"):  # one worker set-up each, the same workers
        method = Registry.builtin(entry_points=False).get(name)
        for sub in ds.subsets:
            run_method(method, ds, sub, tmp_path / "serial", RUN)
            run_method(method, ds, sub, tmp_path / "dask", RUN, executor=cluster)
    assert _stored(tmp_path / "dask") == _stored(tmp_path / "serial")


def test_runner_survives_a_worker_killed_mid_task(cluster, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"
    method = Method(name="average-dying-once", kind="classic", title="", citation="",
                    modalities=("ir-vi",), entry="test_executor_dask:average_dying_once",
                    params={"marker": str(marker)})
    ds = resolve_dataset("sample")
    sub = ds.subset("ir-vi")
    dask_run = run_method(method, ds, sub, tmp_path / "dask", RUN, executor=cluster)
    assert marker.exists()  # a worker really died in the middle of a task ...
    assert len(dask_run.ok) == 4 and not dask_run.failed  # ... and its pair was redone
    run_method(method, ds, sub, tmp_path / "serial", RUN)  # marker present: nobody dies
    assert _stored(tmp_path / "dask") == _stored(tmp_path / "serial")


def test_two_workers_give_the_serial_results(cluster, serial_laplacian) -> None:
    got = _run(cluster, _jobs())
    assert got == serial_laplacian
    assert got["absent"][0] == "failed" and "/nonexistent/ir.png" in got["absent"][1]
    assert sum(status == "ok" for status, _ in got.values()) == 7
    # the same workers switch to another method's set-up between runs
    assert _run(cluster, _jobs(), "average") == _run(SerialExecutor(), _jobs(), "average")


def test_sent_data_reaches_workers_that_cannot_see_the_client_files(
        cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = resolve_dataset("sample")
    shutil.copytree(sample.subset_dir(sample.subset("ir-vi")), tmp_path / "data" / "ir-vi")
    monkeypatch.chdir(tmp_path)  # the client names its data and results relatively ...
    ds = dataset_from_folder(Path("data/ir-vi"))
    sub, method = ds.subsets[0], Registry.builtin(entry_points=False).get("laplacian")
    cluster.client.wait_for_workers(2, timeout=120)  # a worker killed earlier is back
    moved = cluster.client.run(enter_private_cwd)  # ... and its workers run elsewhere
    assert len(moved) == 2 and all(new != str(tmp_path) for _, new in moved.values())
    try:
        shared = run_method(method, ds, sub, Path("shared"), RUN, executor=cluster)
        cluster.data_access = "send"
        sent = run_method(method, ds, sub, Path("sent"), RUN, executor=cluster)
    finally:
        cluster.data_access = "shared"
        for worker, (old, _) in moved.items():
            cluster.client.run(os.chdir, old, workers=[worker])
    # by path the workers find nothing (so the sent run cannot have read the client's files)
    assert len(shared.failed) == 4 and all("data/ir-vi" in r for r in shared.failed.values())
    assert len(sent.ok) == 4
    run_method(method, ds, sub, Path("serial"), RUN)
    assert _stored(Path("sent")) == _stored(Path("serial"))
    fused = {p.name: p.read_bytes() for p in sent.paths.fused_dir.iterdir()}
    assert fused == {p.name: p.read_bytes() for p in
                     Path("serial").joinpath(*sent.paths.fused_dir.parts[1:]).iterdir()}
    assert len(fused) == 4


def test_task_whose_worker_always_dies_is_failed_not_retried_forever(
        cluster, serial_laplacian) -> None:
    got = _run(cluster, _jobs(named="focus_01", die=True))
    status, reason = got.pop("focus_01")
    assert status == "failed" and "died every time it ran this item alone (2 tries)" in reason
    assert got == {k: v for k, v in serial_laplacian.items() if k != "focus_01"}
    killer = [j for j in _jobs(named="focus_01", die=True) if j.name == "focus_01"]
    with pytest.raises(TaskLostError, match="focus_01"):  # no on_lost: the run ends, clearly
        list(cluster.map_unordered(fuse_and_score, killer, WorkerSetup(load_method, ("average",))))


def test_two_sweeps_interleaved_on_the_same_workers_never_mix_methods(cluster) -> None:
    runs = {m: cluster.map_unordered(fuse_and_score, _jobs(), WorkerSetup(load_method, (m,)))
            for m in ("average", "maximum")}
    seen: dict[str, set[str]] = {m: set() for m in runs}
    for pair in zip(*runs.values(), strict=True):  # both in flight at once, same 2 workers
        for method, (_, status, value) in zip(runs, pair, strict=True):
            if status == "ok":
                seen[method].add(value["method"])
    assert seen == {"average": {"average"}, "maximum": {"maximum"}}


def test_setup_slot_never_runs_a_task_under_another_setup() -> None:
    """A worker process with several threads: set-ups switch only between tasks."""
    from concurrent.futures import ThreadPoolExecutor

    from fusionbench.executors_dask import _SetupSlot

    slot, state, wrong = _SetupSlot(), {"active": ""}, []

    def task(token: str) -> None:
        slot.enter(token, WorkerSetup(state.__setitem__, ("active", token)))
        try:
            for _ in range(20):
                time.sleep(0.0002)  # gives another thread the chance to switch, were it allowed
                if state["active"] != token:
                    wrong.append(token)
        finally:
            slot.leave()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(task, ["a", "b", "c"] * 40))
    assert wrong == []


def test_setup_runs_once_per_worker_and_resources_reach_workers(cluster) -> None:
    setup = WorkerSetup(load_method, ("gff",), resources={"GPU": 1})
    loads = list(cluster.map_unordered(gff_loads, range(40), setup))
    # every process that ran one of the 40 tasks loaded the method exactly once
    assert len(loads) == 40 and set(n for _, n in loads) == {1}, loads
    with pytest.raises(ClusterError, match="offers TPU=1"):
        list(cluster.map_unordered(gff_loads, [0], WorkerSetup(resources={"TPU": 1})))


def test_local_workers_start_without_dasks_malloc_threshold(cluster) -> None:
    """The cause of Dask's 1.16-1.19x against the process pool (benchmarks/README.md)."""
    client = cluster.client
    client.wait_for_workers(2, timeout=120)
    assert set(client.run(get_env, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
    assert set(client.run(get_env, "OMP_NUM_THREADS").values()) == {"1"}  # Dask's, kept
    assert cluster.check_worker_malloc() == []


def test_workers_with_dasks_malloc_threshold_are_warned_about(cluster) -> None:
    client = cluster.client
    client.wait_for_workers(2, timeout=120)
    first = sorted(client.scheduler_info(n_workers=-1)["workers"])[0]
    client.run(set_env, "MALLOC_TRIM_THRESHOLD_", "65536", workers=[first])
    try:
        with pytest.warns(ClusterWarning, match="1 worker.*MALLOC_TRIM_THRESHOLD_: null"):
            assert cluster.check_worker_malloc() == [first]
    finally:
        client.run(set_env, "MALLOC_TRIM_THRESHOLD_", None, workers=[first])


def test_paths_every_worker_must_see(cluster, tmp_path: Path) -> None:
    cluster.check_paths_visible([tmp_path])
    with pytest.raises(ClusterError, match="cannot see the data.*nowhere-at-all"):
        cluster.check_paths_visible([tmp_path, tmp_path / "nowhere-at-all"])


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUSIONBENCH_SCHEDULER", "tcp://127.0.0.1:9")
    ex = make_executor("dask", None)
    with pytest.raises(ClusterError, match=r"tcp://127.0.0.1:9 \(from \$FUSIONBENCH_SCHEDULER"):
        ex.connect_timeout = 1.0
        ex.client  # noqa: B018 - connecting is the point


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.delitem(sys.modules, "fusionbench.executors_dask")
    with pytest.raises(UsageError, match=r"fusionbench\[dask\]") as info:
        make_executor("dask", 2)
    assert info.value.exit_code == 2


def test_bad_executor_choices_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--executor 'spark' is unknown"):
        make_executor("spark", 2)
    with pytest.raises(UsageError, match="need --executor dask"):
        make_executor("local", 2, scheduler="tcp://h:8786")
    with pytest.raises(UsageError, match="--workers must be at least 1"):
        make_executor("dask", 0)


def test_doctests() -> None:
    import doctest

    import fusionbench.executors_dask as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
