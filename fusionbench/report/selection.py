"""What a report shows: which methods (in order), metrics, conventions and dataset subsets.

Options come from the command line or a preset (:mod:`fusionbench.report.presets`); explicit
options override the preset's. Names are checked against the results (and the method registry)
before anything is written: an unknown one is a :class:`~fusionbench.errors.UsageError`.

>>> split_list("EN, MI,,VIF")
('EN', 'MI', 'VIF')
>>> split_list(None) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fusionbench.errors import UsageError
from fusionbench.report.labels import card_named
from fusionbench.report.load import Results, Run
from fusionbench.report.presets import Preset


def split_list(text: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Comma-separated (or repeated) option values, blanks dropped; ``None`` when not given."""
    if text is None:
        return None
    items = [text] if isinstance(text, str) else list(text)
    out = tuple(p.strip() for item in items for p in item.split(",") if p.strip())
    return out or None


@dataclass(frozen=True)
class Selection:
    """The resolved choice: every field ``None`` means "all, in the default order"."""

    methods: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    profiles: tuple[str, ...] | None = None
    dataset: str | None = None
    subset: str | None = None
    preset: Preset | None = None

    @classmethod
    def build(cls, *, methods: str | Sequence[str] | None = None,
              metrics: str | Sequence[str] | None = None,
              profiles: str | Sequence[str] | None = None,
              preset: Preset | None = None) -> Selection:
        """Options over the preset's values (``None`` = take the preset's, else all)."""
        chosen_methods = split_list(methods)
        chosen_metrics = split_list(metrics)
        chosen_profiles = split_list(profiles)
        if preset is not None:
            chosen_methods = chosen_methods or preset.methods
            chosen_metrics = chosen_metrics or preset.metrics
            chosen_profiles = chosen_profiles or (preset.profile,)
        return cls(chosen_methods, chosen_metrics, chosen_profiles,
                   preset.dataset if preset else None, preset.subset if preset else None,
                   preset)

    def keeps_group(self, dataset: str, subset: str) -> bool:
        """Whether a dataset subset is part of the report."""
        return ((self.dataset is None or dataset == self.dataset)
                and (self.subset is None or subset == self.subset))


def _method_matches(name: str, run: Run) -> bool:
    label = run.method.lower()
    return label == name.lower() or label.split("@", 1)[0] == name.lower()


def order_runs(selection: Selection, runs: Sequence[Run],
               display: dict[str, str]) -> list[Run]:
    """The runs to show, in the selection's order (default: by display name)."""
    if selection.methods is None:
        return sorted(runs, key=lambda r: (display.get(r.method, r.method).lower(), r.method))
    out: list[Run] = []
    for name in selection.methods:
        out.extend(r for r in runs if _method_matches(name, r) and r not in out)
    return out


def check_selection(selection: Selection, results: Results) -> None:
    """Raise :class:`UsageError` for a method, metric or profile no one knows."""
    from fusionbench.metrics.catalog import METRICS

    if selection.methods is not None:
        unknown = [m for m in selection.methods
                   if card_named(m) is None and not any(_method_matches(m, r)
                                                        for r in results.runs)]
        if unknown:
            known = sorted({r.method for r in results.runs})
            raise UsageError(f"--methods: unknown method(s) {', '.join(unknown)} (not a "
                             f"registered method and not in the results; results have: "
                             f"{', '.join(known)})")
    conventions = set(results.scores["convention"])
    measured = set(results.scores["metric"])
    if selection.metrics is not None:
        unknown = [m for m in selection.metrics if m not in METRICS and m not in measured]
        if unknown:
            raise UsageError(f"--metrics: unknown metric(s) {', '.join(unknown)} "
                             "(`fusionbench metrics` lists them)")
    if selection.profiles is not None:
        from fusionbench.metrics.profiles import PROFILES

        unknown = [p for p in selection.profiles if p not in PROFILES and p not in conventions]
        if unknown:
            raise UsageError(f"--profile: unknown profile(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(set(PROFILES) | conventions))})")


@dataclass(frozen=True)
class Unmeasured:
    """A selected method with no run in a subset, and why."""

    name: str
    display: str
    scorable: bool
    reason: str

    @property
    def note(self) -> str:
        """``GANMcC: cannot be scored on tno — ...``."""
        return f"{self.display}: {self.reason}"

    @property
    def label(self) -> str:
        """The row label: ``GANMcC [cannot be scored]`` or ``X [not measured]``."""
        return f"{self.display} [{'not measured' if self.scorable else 'cannot be scored'}]"


def unmeasured(selection: Selection, runs: Sequence[Run], dataset: str,
               subset: str) -> list[Unmeasured]:
    """Each selected method without a run in this subset, in selection order, with the reason
    (no published fused images for the dataset, or simply no run yet)."""
    if selection.methods is None:
        return []
    out = []
    for name in selection.methods:
        if any(_method_matches(name, r) for r in runs):
            continue
        card = card_named(name)
        shown = card.display_name if card is not None else name
        if card is not None and card.is_published and card.outputs_for(dataset, subset) is None:
            out.append(Unmeasured(name, shown, False, f"cannot be scored on {dataset} — no "
                                  f"published fused images (card {card.name})"))
        else:
            out.append(Unmeasured(name, shown, True, f"not measured — no run of {name} in the "
                                  f"results (`fusionbench run --method {name} --dataset "
                                  f"{dataset}`)"))
    return out
