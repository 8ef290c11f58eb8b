"""One table model, two renderings, so the HTML page and the Markdown file never disagree."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field


@dataclass
class Cell:
    text: str
    best: bool = False  # best in its row or column: bold, and highlighted on the page
    muted: bool = False  # n/a, missing, reference
    bold: bool = False  # emphasis without the "best" meaning (totals)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    numeric_from: int = 1  # columns from this index on are right-aligned


def cell(value: object, best: bool = False, muted: bool = False, bold: bool = False) -> Cell:
    return value if isinstance(value, Cell) else Cell(str(value), best, muted, bold)


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def mean_std(mean: float | None, std: float | None, digits: int = 4) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return fmt(mean, digits)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(t: Table) -> str:
    def one(c: Cell) -> str:
        s = _md_escape(c.text)
        return f"**{s}**" if (c.best or c.bold) and s else s

    lines = []
    if t.caption:
        lines += [f"*{_md_escape(t.caption)}*", ""]
    lines.append("| " + " | ".join(_md_escape(c) for c in t.columns) + " |")
    lines.append("|" + "|".join("---:" if i >= t.numeric_from else "---" for i in range(len(t.columns))) + "|")
    lines += ["| " + " | ".join(one(c) for c in row) + " |" for row in t.rows]
    if t.notes:
        lines += [""] + [f"{n}  " for n in t.notes]
    return "\n".join(lines)


def to_html(t: Table) -> str:
    esc = html.escape

    def td(c: Cell, i: int) -> str:
        classes = [k for k, on in (("num", i >= t.numeric_from), ("best", c.best), ("muted", c.muted)) if on]
        attr = f' class="{" ".join(classes)}"' if classes else ""
        text = esc(c.text).replace("\n", "<br>")
        body = f"<strong>{text}</strong>" if c.best or c.bold else text
        return f"<td{attr}>{body}</td>"

    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{esc(t.caption)}</caption>")
    num = ' class="num"'
    out.append(
        "<thead><tr>"
        + "".join(f"<th{num if i >= t.numeric_from else ''}>{esc(c)}</th>" for i, c in enumerate(t.columns))
        + "</tr></thead>"
    )
    out.append("<tbody>")
    out += ["<tr>" + "".join(td(c, i) for i, c in enumerate(row)) + "</tr>" for row in t.rows]
    out.append("</tbody></table>")
    if t.notes:
        out += [f'<p class="note">{esc(n)}</p>' for n in t.notes]
    return "\n".join(out)
