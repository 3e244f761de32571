"""``--data-access send`` without a cluster: a serial executor that ships every pair's bytes
(through :mod:`fusionbench.shipping`) gives the results of a shared-filesystem run, for a
method we run and for published outputs; records name the client's files. The Dask test with
workers that cannot see the client's files is in test_executor_dask.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fusionbench.data import Pair, dataset_from_folder, resolve_dataset
from fusionbench.errors import UsageError
from fusionbench.executors import SerialExecutor, make_executor
from fusionbench.registry import Method, Registry
from fusionbench.report.load import load_results
from fusionbench.runner import RunConfig, process_pair, run_method
from fusionbench.shipped_pairs import PairShipping
from fusionbench.shipping import Delivery, Parcel, ShippedTask, pack
from fusionbench.store import RunPaths

RUN = RunConfig(profiles=("standard",), workers=1)
MORE = RunConfig(profiles=("standard", "tang2022"), workers=1)


class SendingSerialExecutor(SerialExecutor):
    """In this process, but as if the workers saw none of our files."""

    data_access = "send"


def stored(root: Path) -> tuple[list[tuple], list[tuple]]:
    """Every score row and every pair row of ``root`` (the root's own path written ``<root>``)."""
    results = load_results(root)
    scores = results.scores.sort_values(list(results.scores.columns[:-1]))
    pairs = results.pairs.sort_values(["method", "dataset", "subset", "pair"])
    assert len(scores) and len(pairs)
    columns = ["method", "dataset", "subset", "pair", "status", "reason", "fused_path",
               "a_path", "b_path"]
    rows = [tuple(str(v).replace(str(root), "<root>") for v in row)
            for row in pairs[columns].itertuples(index=False)]
    return [tuple(r) for r in scores.itertuples(index=False)], rows


def fused_bytes(root: Path) -> dict[str, bytes]:
    """Every fused PNG under ``root``, by its path inside it."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("fused/*.png")}


@pytest.fixture()
def ir_vi(tmp_path: Path):
    """A private copy of the sample's ir-vi pairs as an ad-hoc dataset."""
    folder = tmp_path / "data" / "ir-vi"
    shutil.copytree(resolve_dataset("sample").subset_dir(
        resolve_dataset("sample").subset("ir-vi")), folder)
    ds = dataset_from_folder(folder)
    return ds, ds.subsets[0]


def test_parcel_round_trip_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    parcel = pack("item", {"in/x.bin": tmp_path / "x.bin", "in/gone.bin": tmp_path / "gone"})
    assert parcel.files == (("in/x.bin", b"\x00\x01"), ("in/gone.bin", None))

    def look(item: str, folder: Path) -> tuple[str, bool, bool]:
        (folder / "new.txt").write_text("made")
        return item, (folder / "in/x.bin").is_file(), (folder / "in/gone.bin").exists()

    delivery = ShippedTask(look)(parcel)
    assert delivery == Delivery(("item", True, False), (("new.txt", b"made"),))
    with pytest.raises(ValueError, match="inside the task folder"):
        ShippedTask(look)(Parcel("x", (("../escape.txt", b"no"),)))


def test_sent_run_stores_what_a_shared_run_stores(ir_vi, tmp_path: Path) -> None:
    ds, sub = ir_vi
    method = Registry.builtin(entry_points=False).get("laplacian")
    for config in (RUN, MORE):  # the second run reuses each pair's fused image (shipped back)
        run_method(method, ds, sub, tmp_path / "shared", config)
        run_method(method, ds, sub, tmp_path / "sent", config,
                   executor=SendingSerialExecutor())
    assert stored(tmp_path / "sent") == stored(tmp_path / "shared")
    assert fused_bytes(tmp_path / "sent") == fused_bytes(tmp_path / "shared")
    assert len(fused_bytes(tmp_path / "sent")) == 4


def test_sent_published_outputs_store_what_a_shared_run_stores(ir_vi, tmp_path: Path) -> None:
    ds, sub = ir_vi
    laplacian = Registry.builtin(entry_points=False).get("laplacian")
    made = run_method(laplacian, ds, sub, tmp_path / "made", RUN)
    outputs = tmp_path / "published"
    shutil.copytree(made.paths.fused_dir, outputs)
    (outputs / f"{sorted(made.ok)[0]}.png").unlink()  # one pair the paper did not publish
    published = Method(name="paper", kind="published", title="paper", citation="",
                       modalities=(), outputs={f"{ds.name}": str(outputs)},
                       file_pattern="{pair}.*")
    shared = run_method(published, ds, sub, tmp_path / "shared", RUN)
    sent = run_method(published, ds, sub, tmp_path / "sent", RUN,
                      executor=SendingSerialExecutor())
    assert len(sent.missing) == 1 and len(sent.ok) == 3
    assert stored(tmp_path / "sent") == stored(tmp_path / "shared")
    reasons = {row[3]: row[5] for row in stored(tmp_path / "sent")[1]}
    assert shared.missing == sent.missing == [sorted(made.ok)[0]]
    assert reasons[sent.missing[0]] == f"no file in {outputs}"  # the client's folder


def test_a_failed_pair_names_the_client_file(tmp_path: Path) -> None:
    method = Registry.builtin(entry_points=False).get("average")
    paths = RunPaths(tmp_path / "results", "d", "all", "average")
    absent = Pair("p", tmp_path / "nowhere" / "ir.png", tmp_path / "nowhere" / "vi.png")
    shipping = PairShipping(method, paths, None, RUN)
    from fusionbench.runner import _init_worker

    _init_worker(method, RUN)
    [sent] = shipping.run(SerialExecutor(), [absent])
    shared = process_pair(method, absent, paths, None, RUN)
    assert sent.status == shared.status == "failed"
    assert sent.reason == shared.reason and str(absent.a) in sent.reason
    assert (sent.a_path, sent.b_path) == (str(absent.a), str(absent.b))


def test_send_needs_the_dask_executor() -> None:
    with pytest.raises(UsageError, match="--data-access send need --executor dask"):
        make_executor("local", 2, data_access="send")
    with pytest.raises(UsageError, match="--data-access 'ftp' is unknown"):
        make_executor("dask", 2, data_access="ftp")


@pytest.mark.parametrize("module", ["fusionbench.shipping", "fusionbench.shipped_pairs"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
