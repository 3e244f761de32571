"""``fusionbench report``: build tables, plots, grids and an HTML page from a results folder.

Heavy libraries (pandas, matplotlib, scipy) are imported only when the command runs.

>>> from click.testing import CliRunner
>>> CliRunner().invoke(report_command, ["--help"]).exit_code
0
"""

from __future__ import annotations

import click

FORMAT_CHOICES = ("md", "tex", "html", "csv")


@click.command("report")
@click.option("--results", "results", default="results", show_default=True,
              type=click.Path(file_okay=False), help="Results root (<dataset>/<subset>/<method>/).")
@click.option("--out", "out", default="reports", show_default=True,
              type=click.Path(file_okay=False), help="Output folder.")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_CHOICES),
              help="Output format; repeat for several (default: all). report.json is always "
                   "written.")
@click.option("--preset", default=None,
              help="A packaged layout (e.g. clfnet-table2: the CLF-Net paper's Table II) or a "
                   "preset .toml file; --methods/--metrics/--profile override its values.")
@click.option("--methods", default=None, metavar="A,B,C",
              help="Methods to show, in this order (registry names or run labels).")
@click.option("--metrics", default=None, metavar="EN,MI,...",
              help="Metric columns, in this order (default: every metric scored).")
@click.option("--profile", "profiles", multiple=True,
              help="Metric convention(s) to show; repeat or comma-separate (default: all).")
@click.option("--template-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of templates overriding the packaged ones by file name.")
@click.option("--paper-scores", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CLF-Net paper scores CSV (default: reference/ beside the data root).")
@click.option("--pairs", "pairs", multiple=True,
              help="Pair shown in the qualitative grids; repeat or comma-separate "
                   "(default: first 2 covered by every method with images).")
@click.option("--zoom", default=None, metavar="X,Y,W,H",
              help="Inset region in pixels (default: a central box).")
@click.option("--std/--no-std", default=True, show_default=True, help="Show ± std in tables.")
@click.option("--digits", default=4, show_default=True, type=click.IntRange(0, 12),
              help="Decimals shown (ranking uses the shown values).")
@click.option("--no-figures", is_flag=True, help="Skip box plots and grids (faster).")
@click.option("--no-svg", is_flag=True, help="Box plots as PNG only (faster).")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="Processes drawing the figures beside the tables; 0: none, draw in this "
                   "process (default: the cores the load average leaves idle).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr, one step per table, figure and output file "
                   "(default: when stderr is a terminal).")
def report_command(results: str, out: str, formats: tuple[str, ...], preset: str | None,
                   methods: str | None, metrics: str | None, profiles: tuple[str, ...],
                   template_dir: str | None, paper_scores: str | None, pairs: tuple[str, ...],
                   zoom: str | None, std: bool, digits: int, no_figures: bool, no_svg: bool,
                   workers: int | None, progress: bool | None) -> None:
    """Write the report (Markdown, LaTeX, HTML, CSV, JSON, box plots, grids) into --out."""
    from fusionbench.errors import UsageError
    from fusionbench.report.build import build_report
    from fusionbench.report.grids import parse_zoom
    from fusionbench.report.presets import load_preset
    from fusionbench.report.selection import Selection, split_list

    try:
        chosen = Selection.build(methods=methods, metrics=metrics, profiles=profiles or None,
                                 preset=load_preset(preset) if preset else None)
        box = parse_zoom(zoom) if zoom else None
        path = build_report(results, out, formats=formats or FORMAT_CHOICES,
                            template_dir=template_dir, paper_scores=paper_scores,
                            grid_pairs=split_list(pairs), zoom=box, std=std, digits=digits,
                            figures=not no_figures, selection=chosen, svg=not no_svg,
                            progress=progress, workers=workers)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"report written: {path}")
