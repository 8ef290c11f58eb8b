"""The Markdown twin of the page: the same sections and tables; plots as PNG files beside it."""

from __future__ import annotations

from ckgrec.report.blocks import Code, Figure, Section, Text
from ckgrec.report.tables import Table, to_markdown

FIGURES = "figures"


def _block(b) -> str:
    if isinstance(b, Table):
        return to_markdown(b)
    if isinstance(b, Figure):
        return f"![{b.alt}]({FIGURES}/{b.name}.png)\n\n*{b.caption}*"
    if isinstance(b, Code):
        return f"```toml\n{b.text.rstrip()}\n```"
    if isinstance(b, Text):
        return b.text
    raise TypeError(f"unknown report block {type(b).__name__}")


def render(sections: list[Section], generated: str) -> str:
    head, rest = sections[0], sections[1:]
    parts = [f"# {head.title}", f"ckgrec report, generated {generated}", *(_block(b) for b in head.blocks)]
    for s in rest:
        parts.append(f"## {s.title}")
        parts += [_block(b) for b in s.blocks]
    return "\n\n".join(parts) + "\n"


def figures(sections: list[Section]) -> list[Figure]:
    return [b for s in sections for b in s.blocks if isinstance(b, Figure)]
