"""Escaping, number formatting and the jinja2 environment for report templates.

Templates are looked up first in a user-given folder, then among the packaged ones
(``fusionbench/report/templates``), so any packaged template can be overridden by file name.
Templates whose name ends in ``.html.j2`` are autoescaped; Markdown and LaTeX templates escape
explicitly with the ``md`` and ``tex`` filters.

>>> tex_escape("a_b 50% {x}")
'a\\\\_b 50\\\\% \\\\{x\\\\}'
>>> md_escape("a|b_<c>")
'a\\\\|b\\\\_&lt;c&gt;'
>>> fmt(6.39891, 4), fmt(float("nan"), 4)
('6.3989', '—')
>>> md_code("results/tno_all"), md_code("a`b")
('`results/tno_all`', '``a`b``')
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2 import TemplateError as JinjaTemplateError

from fusionbench.errors import TemplateError, UsageError
from fusionbench.report.tables import Cell

TEMPLATES = Path(__file__).resolve().parent / "templates"

_TEX = {
    "\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_MD = {c: "\\" + c for c in "\\`*_[]|#"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
MD_MARKS = {1: ("**", "**¹"), 2: ("_", "_²"), 3: ("", "³")}
TEX_MARKS = {1: r"\textcolor{red}{%s}", 2: r"\textcolor{blue}{%s}", 3: r"\textbf{%s}"}


def tex_escape(text: object) -> str:
    """Escape LaTeX special characters in a user-provided string."""
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def md_escape(text: object) -> str:
    """Escape characters that Markdown (or inline HTML in it) would interpret."""
    return "".join(_MD.get(ch, ch) for ch in str(text)).replace("\n", " ")


def md_code(text: object) -> str:
    """A Markdown code span: the text verbatim (no backslash escapes, which a code span would
    show literally), fenced by more backticks than it contains in a row."""
    text = str(text).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fmt(value: float | None, digits: int = 4) -> str:
    """A number with ``digits`` decimals; NaN/None becomes an em dash."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"


def fmt_diff(value: float | None, digits: int) -> str:
    """A signed difference (``+0.0123``), an em dash when absent.

    >>> fmt_diff(-0.5, 2), fmt_diff(None, 2)
    ('-0.50', '—')
    """
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.{digits}f}"


def cell_text(cell: Cell, digits: int, std: bool, pm: str = " ± ") -> str:
    """``mean ± std`` (std left out when not wanted or undefined)."""
    text = fmt(cell.mean, digits)
    if std and math.isfinite(cell.mean) and math.isfinite(cell.std):
        text += pm + fmt(cell.std, digits)
    return text


def md_cell(cell: Cell, digits: int, std: bool) -> str:
    """A Markdown cell: rank 1 **bold**¹, rank 2 _italic_², rank 3 plain³."""
    text = cell_text(cell, digits, std)
    if cell.rank in MD_MARKS:
        left, right = MD_MARKS[cell.rank]
        text = f"{left}{text}{right}"
    return text


def tex_cell(cell: Cell, digits: int, std: bool) -> str:
    r"""A LaTeX cell: rank 1 \textcolor{red}, 2 \textcolor{blue}, 3 \textbf (needs xcolor)."""
    text = cell_text(cell, digits, std, pm=r" $\pm$ ")
    if text == "—":
        text = "--"
    if cell.rank in TEX_MARKS:
        text = TEX_MARKS[cell.rank] % text
    return text


def make_env(template_dir: str | Path | None = None) -> Environment:
    """The jinja2 environment: user templates first (if given), packaged ones second."""
    loaders = []
    if template_dir is not None:
        template_dir = Path(template_dir)
        if not template_dir.is_dir():
            raise UsageError(f"--template-dir: folder {template_dir} does not exist")
        loaders.append(FileSystemLoader(str(template_dir)))
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"),
                                     default_for_string=True, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(tex=tex_escape, md=md_escape, md_code=md_code, diff=fmt_diff, fmt=fmt,
                       md_cell=md_cell, tex_cell=tex_cell, cell_text=cell_text)
    return env


def render_template(env: Environment, name: str, context: dict[str, Any] | None = None) -> str:
    """Render template ``name``; a broken template is a :class:`TemplateError` naming its file.

    >>> from jinja2 import DictLoader
    >>> render_template(Environment(loader=DictLoader({"t.md.j2": "{% if %}"})), "t.md.j2")
    Traceback (most recent call last):
    ...
    fusionbench.errors.TemplateError: template t.md.j2, line 1: Expected an expression, got \
'end of statement block' (fix the template or remove it from --template-dir)
    """
    where = name
    try:
        template = env.get_template(name)
        where = template.filename or name
        return template.render(context or {})
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.filename or where}, line {exc.lineno}: "
                            f"{exc.message} (fix the template or remove it from "
                            "--template-dir)") from exc
    except JinjaTemplateError as exc:
        raise TemplateError(f"template {where}: {type(exc).__name__}: {exc} (fix the "
                            "template or remove it from --template-dir)") from exc
