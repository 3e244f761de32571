"""Random sequences of what people do to a results root, and what the store must still answer
(issue 11, "Tests that prove it": the stateful property test).

A hypothesis ``RuleBasedStateMachine`` drives the real command line over two ad-hoc dataset
folders with one base name (``labA/mydata``, ``labB/mydata``; 3 pairs of 32x32 PNGs each) and
two folders of "published" fused images per dataset. Steps: ``run`` a classic method, ``eval``
a fused folder under one name (another folder under the same name stands for other weights),
SIGKILL a real ``fusionbench run`` child process (after a delay, or as soon as its first new
fused PNG appears), change a source or a fused image on disk, score another profile or metric
set, edit or duplicate every exported ``scores.csv``/``pairs.csv``, and ``clean`` a run.

After every step (store read through ``load_results`` only, see ``tests/store_checks.py``):

* every ``*.sqlite`` under the root passes ``PRAGMA integrity_check``;
* no score key (method, dataset, subset, pair, metric, convention) or pair key appears twice;
* every reported score equals ``score_many`` on the images its pair names now (to 1e-12), no
  score belongs to a pair whose status is not ok, and the fused image of every ok pair of a
  ``run`` is the method's output for the pair's current sources. Runs whose files were
  changed behind the store's back are checked again after the next command on them (the
  store is told nothing in between);
* no score present before is missing, unless ``clean`` dropped its run or one of its three
  image files changed since;
* an edited or duplicated export changes nothing the store reports.

Bounded for CI (derandomized, about a minute on the 2-core development machine); set
``FUSIONBENCH_SOAK=1`` (or a number of examples) for a longer local soak.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from store_checks import (
    PAIR_KEY,
    SCORE_KEY,
    count_pngs,
    duplicated_keys,
    file_digest,
    integrity_problems,
    kill_group,
    load_or_none,
    random_image,
    save_png,
    score_values,
    stale_fused_images,
    start_child,
    wait_for_new_png,
    write_fused_folder,
    write_pairs,
    wrong_scores,
)

from fusionbench.cli import cli
from fusionbench.registry import Registry

SIZE, N_PAIRS = 32, 3
PAIRS = tuple(f"p{i}" for i in range(N_PAIRS))
METHODS = ("average", "maximum")
NETWORK = "clfnet"
EVAL_NAME = "mine"
#: Metric selections of a step: another profile or metric set adds scores to a run.
SCORINGS = (
    ("--profile", "standard", "--metrics", "EN,MI"),
    ("--profile", "tang2022", "--metrics", "SD,VIF"),
    ("--profile", "standard", "--profile", "tang2022"),
    ("--profile", "vifb", "--metrics", "EN,PSNR"),
)
#: When a child run is killed: seconds after its start, or at its first new fused PNG.
KILL_AT = ("first new PNG", 0.5, 1.0, 1.5, 2.5)


def _soak_examples() -> int | None:
    value = os.environ.get("FUSIONBENCH_SOAK", "")
    if value in ("", "0"):
        return None
    return int(value) if value.isdigit() and int(value) > 1 else 200


class StoreMachine(RuleBasedStateMachine):
    """One results root, two datasets, four fused folders; the model of what must be there."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="fusionbench-state-"))
        self.root = self.tmp / "results"
        self.datasets = [write_pairs(self.tmp / lab / "mydata", n=N_PAIRS, size=SIZE, seed=k)
                         for k, lab in enumerate(("labA", "labB"))]
        self.fused = [[write_fused_folder(self.tmp / f"fused-{d}{k}", PAIRS, size=SIZE,
                                          seed=100 + 10 * d + k) for k in range(2)]
                      for d in range(2)]
        self.seeds = itertools.count(10_000)
        #: the last run/eval command (arguments, dataset index, run label: None for a network,
        #: whose label the store gives from its weights), for `rerun`
        self.last: tuple[list[str], int, str | None] = ([], 0, None)
        #: two weights files of the network, and a copy of every version they had, by sha256
        self.weights = [self.tmp / f"weights-{k}.pt" for k in range(2)]
        self.weights_versions: dict[str, Path] = {}
        for k in range(2):
            self._write_weights(k)
        #: every score key seen after the last step -> (path, sha256) of its three images when
        #: the store last answered it correctly
        self.known: dict[tuple, tuple[tuple[str, str | None], ...]] = {}
        #: (run label, dataset folder) whose files changed since the last command on it
        self.stale: set[tuple[str, Path]] = set()
        #: score keys one of whose images changed on disk since the store last answered them
        #: correctly: they may vanish (even when the image was later made again identical)
        self.invalidated: set[tuple] = set()
        #: (dataset index, pair, side) of source images not of the pair's size
        self.odd_sized: set[tuple[int, str, str]] = set()
        #: (run label, stored dataset name or None) that `clean` dropped in this step
        self.dropped: set[tuple[str, str | None]] = set()
        #: the store's answers before a step that must change none of them
        self.unchanged: tuple[pd.Series, pd.DataFrame] | None = None

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- steps -----------------------------------------------------------------------------

    def _invoke(self, args: list[str], d: int, label: str | None) -> None:
        self.last = (args, d, label)
        result = CliRunner().invoke(cli, [*args, "--workers", "1", "--out", str(self.root)])
        expected = self._exit_code(d)
        event(f"{args[0]} expecting exit {expected}")
        assert result.exit_code == expected, (f"fusionbench {' '.join(args)}: exit "
                                              f"{result.exit_code}, not {expected}\n"
                                              f"{result.output}")
        self._ran(args, d, label)

    def _ran(self, args: list[str], d: int, label: str | None) -> None:
        """A command on a run finished: its answers must be fresh again."""
        if label is None:  # a network run: the store names it from the weights' sha256
            sha = file_digest(args[args.index("--weights") + 1])
            results = load_or_none(self.root)
            label = next((run.method for run in (results.runs if results else [])
                          if run.manifest.get("weights_sha256") == sha), None)
        self.stale.discard((label, self.datasets[d]))

    def _exit_code(self, d: int) -> int:
        """0, or 3 while a pair of dataset ``d`` has sources of two sizes (it fails)."""
        return 3 if any(k[0] == d for k in self.odd_sized) else 0

    @rule()
    def rerun(self) -> None:
        """The last ``run``/``eval`` (or killed run) again, exactly."""
        self._invoke(*self.last)

    @initialize(method=st.sampled_from(METHODS), d=st.integers(0, 1),
                scoring=st.sampled_from(SCORINGS))
    def first_run(self, method: str, d: int, scoring: tuple[str, ...]) -> None:
        """Every sequence starts from a stored run, so that the other steps have work."""
        self.run(method, d, scoring)

    @rule(method=st.sampled_from(METHODS), d=st.integers(0, 1),
          scoring=st.sampled_from(SCORINGS))
    def run(self, method: str, d: int, scoring: tuple[str, ...]) -> None:
        self._invoke(["run", "--method", method, "--dataset", str(self.datasets[d]), *scoring],
                     d, method)

    @rule(k=st.integers(0, 1), d=st.integers(0, 1), scoring=st.sampled_from(SCORINGS))
    def run_network(self, k: int, d: int, scoring: tuple[str, ...]) -> None:
        """CLF-Net on the CPU with one of two weights files (``--weights``)."""
        self._invoke(["run", "--method", NETWORK, "--weights", str(self.weights[k]),
                      "--device", "cpu", "--dataset", str(self.datasets[d]), *scoring], d, None)

    @rule(k=st.integers(0, 1))
    def change_weights(self, k: int) -> None:
        """Other weights under the same path (a retrained checkpoint)."""
        self._write_weights(k)

    def _write_weights(self, k: int) -> None:
        import torch

        generator = torch.Generator().manual_seed(next(self.seeds))
        state = {name: (t * (1 + 0.2 * torch.rand(t.shape, generator=generator))
                        if t.is_floating_point() else t) for name, t in _shipped_weights().items()}
        torch.save(state, self.weights[k])
        sha = file_digest(self.weights[k])
        self.weights_versions[sha] = self.tmp / "weights-versions" / f"{sha}.pt"
        self.weights_versions[sha].parent.mkdir(exist_ok=True)
        shutil.copyfile(self.weights[k], self.weights_versions[sha])

    @rule(d=st.integers(0, 1), folder=st.integers(0, 1), scoring=st.sampled_from(SCORINGS))
    def eval(self, d: int, folder: int, scoring: tuple[str, ...]) -> None:
        """Score a fused folder under one name; the other folder under the same name stands for
        other weights (other fused images, same run name)."""
        self._invoke(["eval", "--fused", str(self.fused[d][folder]), "--dataset",
                      str(self.datasets[d]), "--name", EVAL_NAME, *scoring], d, EVAL_NAME)

    @rule(method=st.sampled_from(METHODS), d=st.integers(0, 1),
          scoring=st.sampled_from(SCORINGS), when=st.sampled_from(KILL_AT),
          workers=st.sampled_from(("1", "2")))
    def killed_run(self, method: str, d: int, scoring: tuple[str, ...], when: str | float,
                   workers: str) -> None:
        """SIGKILL a real ``fusionbench run`` child process (its whole process group: with
        ``--workers 2`` its pool too)."""
        args = ["run", "--method", method, "--dataset", str(self.datasets[d]), *scoring]
        self.last = (args, d, method)
        args += ["--workers", workers, "--out", str(self.root)]
        log = self.tmp / "child.log"
        before = count_pngs(self.root)
        proc = start_child(args, log)
        if isinstance(when, str):
            wait_for_new_png(self.root, before, proc, limit=60)
        else:
            try:
                proc.wait(timeout=when)
            except subprocess.TimeoutExpired:
                pass
        finished = proc.poll()
        kill_group(proc)
        event(f"child run {'had finished' if finished is not None else 'killed'} ({when})")
        assert finished in (None, self._exit_code(d)), (f"child run ended with {finished}:\n"
                                                        f"{log.read_text()}")
        if finished is not None:
            self._ran(args, d, method)

    @rule(d=st.integers(0, 1), pair=st.sampled_from(PAIRS), side=st.sampled_from(("ir", "vi")),
          size=st.sampled_from((SIZE, SIZE, SIZE + 8)))
    def change_source(self, d: int, pair: str, side: str, size: int) -> None:
        """New pixels for one source image; at another size its pair fails (sizes differ)
        until a later change gives it the pair's size back."""
        path = self.datasets[d] / side / f"{pair}.png"
        save_png(path, random_image(size, next(self.seeds)))
        self._invalidate(path)
        if size == SIZE:
            self.odd_sized.discard((d, pair, side))
        else:
            self.odd_sized.add((d, pair, side))
        results = load_or_none(self.root)
        self.stale |= {(run.method, self.datasets[d]) for run in (results.runs if results else [])
                       if len(run.pairs) and _dataset_dir(run.pairs["a_path"].iloc[0])
                       == self.datasets[d]}

    @rule(which=st.integers(0, 1000), delete=st.booleans())
    def change_fused(self, which: int, delete: bool) -> None:
        """Overwrite the fused image of one stored ok pair (in the results tree for a run, in
        the fused folder for an eval), or delete it when the results tree holds it."""
        results = load_or_none(self.root)
        ok = results.pairs[results.pairs["status"] == "ok"] if results is not None else None
        if ok is None or not len(ok):
            event("change_fused: nothing stored yet")
            return
        path = ok["fused_path"].iloc[which % len(ok)]
        self._invalidate(Path(path))
        if delete and Path(path).resolve().is_relative_to(self.root.resolve()):
            event("change_fused: deleted")
            Path(path).unlink(missing_ok=True)
        else:
            save_png(Path(path), random_image(SIZE, next(self.seeds)))
        users = ok[ok["fused_path"] == path]
        self.stale |= {(m, _dataset_dir(a)) for m, a in zip(users["method"], users["a_path"],
                                                           strict=True)}

    def _invalidate(self, changed: Path) -> None:
        """Every known score whose pair names ``changed`` may vanish from now on."""
        self.invalidated |= {key for key, files in self.known.items()
                             if any(Path(p).resolve() == changed.resolve() for p, _ in files)}

    @rule(how=st.sampled_from(("edit", "duplicate")))
    def tamper_with_exports(self, how: str) -> None:
        """Edit (EN = 99 everywhere, every pair 'failed') or duplicate every exported table."""
        results = load_or_none(self.root)
        self.unchanged = (score_values(results), _pair_table(results))
        exports = sorted(self.root.rglob("scores.csv")) + sorted(self.root.rglob("pairs.csv"))
        event(f"exports tampered with: {'some' if exports else 'none found'}")
        for path in exports:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
            if how == "duplicate":
                table = pd.concat([table, table])
            else:
                for column, value in (("value", "99"), ("status", "failed")):
                    if column in table:
                        table[column] = value
            table.to_csv(path, index=False)

    @rule(label=st.sampled_from((*METHODS, EVAL_NAME, NETWORK)),
          d=st.one_of(st.none(), st.integers(0, 1)))
    def clean(self, label: str, d: int | None) -> None:
        """``clean --yes`` one run label (optionally of one dataset): the only way to drop.
        For the network: the first of its stored labels."""
        if not self.root.exists():
            return
        if label == NETWORK:
            labels = sorted(k[0] for k in self.known if k[0].startswith(f"{NETWORK}@"))
            if not labels:
                return
            label = labels[0]
        args = ["clean", "--results", str(self.root), "--method", label, "--yes"]
        dataset = None
        if d is not None:
            results = load_or_none(self.root)
            names = {run.dataset for run in (results.runs if results else [])
                     if _dataset_dir(run.pairs["a_path"].iloc[0]) == self.datasets[d]
                     and len(run.pairs)} if results else set()
            dataset = next(iter(names), None)
            if dataset is not None:
                args += ["--dataset", dataset]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        had = any(k[0] == label and dataset in (None, k[1]) for k in self.known)
        if had:
            assert "dropped" in result.output, result.output
        self.dropped.add((label, dataset))

    # -- what must hold after every step ----------------------------------------------------

    @invariant()
    def store_is_fresh_unique_and_complete(self) -> None:
        assert not integrity_problems(self.root)
        results = load_or_none(self.root)
        current: dict[tuple, tuple[tuple[str, str | None], ...]] = {}
        skip: set[tuple[str, str]] = set()
        if results is not None:
            assert not duplicated_keys(results), duplicated_keys(results)
            skip = {(run.method, run.dataset) for run in results.runs if len(run.pairs)
                    and (run.method, _dataset_dir(run.pairs["a_path"].iloc[0])) in self.stale}
            problems = wrong_scores(results, skip)
            problems += stale_fused_images(results, self._fusers(results), skip)
            assert not problems, "\n".join(problems)
            current = _score_files(results)
            # a stale run's scores keep the images they were last vouched for with
            current.update({key: self.known[key] for key in current
                            if key[:2] in skip and key in self.known})
        now_named = _pair_files(results)
        lost = [key for key, files in self.known.items()
                if key not in current and not self._may_vanish(key, files, now_named)]
        assert not lost, f"{len(lost)} stored score(s) lost, e.g. {lost[:3]}"
        if self.unchanged is not None:
            pd.testing.assert_series_equal(score_values(results), self.unchanged[0])
            pd.testing.assert_frame_equal(_pair_table(results), self.unchanged[1])
        self.known, self.dropped, self.unchanged = current, set(), None
        self.invalidated = {key for key in self.invalidated if key in current and key[:2] in skip}

    def _fusers(self, results) -> dict[str, object]:
        """The fusion callable behind each stored run label (classic methods, and the network
        with the weights its manifest names by sha256)."""
        fusers: dict[str, object] = dict(_classic_fusers())
        for run in results.runs:
            sha = run.manifest.get("weights_sha256")
            if run.manifest.get("method_name") == NETWORK and sha in self.weights_versions:
                fusers[run.method] = _network(self.weights_versions[sha])
        return fusers

    def _may_vanish(self, key: tuple, files: tuple[tuple[str, str | None], ...],
                    now_named: dict[tuple, tuple[str, ...]]) -> bool:
        """Whether a score may be gone: ``clean`` dropped its run, one of its images changed
        since it was seen, or its run's pair now names other images (an eval of another
        folder under the same name)."""
        method, dataset = key[0], key[1]
        if (method, None) in self.dropped or (method, dataset) in self.dropped:
            return True
        if key in self.invalidated:
            return True
        paths = tuple(path for path, _ in files)
        if now_named.get(key[:4], paths) != paths:
            return True
        return any(file_digest(path) != digest for path, digest in files)


@functools.cache
def _shipped_weights() -> dict:
    """The network's shipped weights (a state dict), the base of the test's other weights."""
    import torch

    card = Registry.builtin().get(NETWORK)
    path = Path(card.card_path).parent / "weights" / "clfnet_tno-train.pt"
    return torch.load(path, weights_only=True, map_location="cpu")


@functools.cache
def _classic_fusers() -> dict[str, object]:
    return {name: Registry.builtin().get(name).load() for name in METHODS}


@functools.cache
def _network(weights: Path) -> object:
    """The network loaded on the CPU with ``weights`` (a file named by its sha256)."""
    return Registry.builtin().get(NETWORK).load(device="cpu", weights=str(weights))


def _dataset_dir(a_path: str) -> Path:
    """The dataset folder of a source image path ``<folder>/ir/<pair>.png``."""
    return Path(a_path).resolve().parents[1]


def _pair_table(results) -> pd.DataFrame:
    """The pairs the store reports, without timings (sorted, for before/after comparisons)."""
    if results is None:
        return pd.DataFrame(columns=[*PAIR_KEY, "status"])
    table = results.pairs[[*PAIR_KEY, "status", "fused_path"]]
    return table.sort_values(list(PAIR_KEY)).reset_index(drop=True)


def _pair_files(results) -> dict[tuple, tuple[str, ...]]:
    """Every reported pair key -> the paths of its source and fused images."""
    if results is None:
        return {}
    table = results.pairs[[*PAIR_KEY, "a_path", "b_path", "fused_path"]].astype(str)
    return {tuple(row[:4]): tuple(row[4:]) for row in table.itertuples(index=False)}


def _score_files(results) -> dict[tuple, tuple[tuple[str, str | None], ...]]:
    """Every reported score key -> the (path, sha256) of the three images of its pair."""
    named = _pair_files(results)
    digests = {path: file_digest(path) for paths in named.values() for path in paths}
    return {tuple(row): tuple((path, digests[path]) for path in named[tuple(row[:4])])
            for row in results.scores[list(SCORE_KEY)].itertuples(index=False)}


@pytest.mark.parametrize("tamper", ["delete", "overwrite"])
def test_a_remade_identical_fused_image_keeps_the_other_profiles_scores(
        tamper: str, tmp_path: Path) -> None:
    """A fused PNG deleted or overwritten behind the store's back and made again byte-identical
    keeps the pair's scores of the other profiles (a case the state machine found)."""
    dataset = write_pairs(tmp_path / "data", n=2, size=SIZE, seed=3)
    out = tmp_path / "results"

    def run(*scoring: str) -> None:
        result = CliRunner().invoke(cli, ["run", "--method", "average", "--dataset",
                                          str(dataset), *scoring, "--workers", "1", "--out",
                                          str(out)])
        assert result.exit_code == 0, result.output

    run("--profile", "standard", "--metrics", "EN,MI")
    before = score_values(load_or_none(out))
    fused = Path(load_or_none(out).pairs["fused_path"].iloc[0])
    original = fused.read_bytes()
    if tamper == "delete":
        fused.unlink()
    else:
        save_png(fused, random_image(SIZE, 99))
    run("--profile", "tang2022", "--metrics", "SD")
    assert fused.read_bytes() == original  # made again, identical
    after = score_values(load_or_none(out))
    assert set(before.index) <= set(after.index), sorted(set(before.index) - set(after.index))
    pd.testing.assert_series_equal(after.loc[before.index], before)


StoreMachine.TestCase.settings = settings(
    max_examples=_soak_examples() or 8,
    stateful_step_count=40 if _soak_examples() else 10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # shrinking a failing sequence of real commands takes many minutes: only when soaking
    phases=tuple(Phase) if _soak_examples() else (Phase.explicit, Phase.generate),
)
TestStoreStateMachine = StoreMachine.TestCase
