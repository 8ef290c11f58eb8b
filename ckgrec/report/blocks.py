"""What a report section is made of; :mod:`.html` and :mod:`.markdown` render each kind."""

from __future__ import annotations

from dataclasses import dataclass, field

from ckgrec.report.tables import Table


@dataclass
class Text:
    text: str


@dataclass
class Code:
    text: str


@dataclass
class Figure:
    name: str  # file stem of the PNG beside report.md
    png: bytes
    alt: str
    caption: str


Block = Text | Code | Figure | Table


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
