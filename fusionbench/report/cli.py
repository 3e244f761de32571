"""``fusionbench report``: build tables, plots, grids and an HTML page from a results folder.

Heavy libraries (pandas, matplotlib, seaborn, scipy) are imported only when the command runs.

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
              help="Output format; repeat for several (default: all).")
@click.option("--template-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of templates overriding the packaged ones by file name.")
@click.option("--paper-scores", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CLF-Net paper scores CSV (default: reference/ beside the data root).")
@click.option("--pairs", "pairs", multiple=True,
              help="Pair shown in the qualitative grids; repeat or comma-separate "
                   "(default: first 2 covered by every method).")
@click.option("--zoom", default=None, metavar="X,Y,W,H",
              help="Inset region in pixels (default: a central box).")
@click.option("--std/--no-std", default=True, show_default=True, help="Show ± std in tables.")
@click.option("--digits", default=4, show_default=True, type=click.IntRange(0, 12),
              help="Decimals shown (ranking uses the shown values).")
@click.option("--no-figures", is_flag=True, help="Skip box plots and grids (faster).")
def report_command(results: str, out: str, formats: tuple[str, ...], template_dir: str | None,
                   paper_scores: str | None, pairs: tuple[str, ...], zoom: str | None,
                   std: bool, digits: int, no_figures: bool) -> None:
    """Write the report (Markdown, LaTeX, HTML, CSV, box plots, grids) into --out."""
    from fusionbench.report.build import build_report
    from fusionbench.report.grids import parse_zoom

    grid_pairs = [p.strip() for item in pairs for p in item.split(",") if p.strip()] or None
    box = parse_zoom(zoom) if zoom else None  # errors: printed by fusionbench.cli
    path = build_report(results, out, formats=formats or FORMAT_CHOICES,
                        template_dir=template_dir, paper_scores=paper_scores,
                        grid_pairs=grid_pairs, zoom=box, std=std, digits=digits,
                        figures=not no_figures)
    click.echo(f"report written: {path}")
