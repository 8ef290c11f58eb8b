"""The HTML page: one file, inline style, plots as base64 PNG ``data:`` URLs, no script, no external asset."""

from __future__ import annotations

import base64
import html

from ckgrec.report.blocks import Code, Figure, Section, Text
from ckgrec.report.tables import Table, to_html

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2329; margin: 0; background: #f6f7f9; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; } h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #dde1e6; }
nav { font-size: 13px; margin: 6px 0 18px; } nav a { margin-right: 12px; color: #2458a6; text-decoration: none; }
p { margin: 6px 0; } p.note { font-size: 12.5px; color: #55606b; margin: 4px 0 10px; }
p.meta { font-size: 13px; color: #55606b; }
table { border-collapse: collapse; margin: 12px 0 4px; font-size: 13.5px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; white-space: nowrap; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td:first-child { white-space: nowrap; } td.best { background: #e6f4ea; } td.muted { color: #8a939c; } tbody tr:hover { background: #fafbfc; }
figure { margin: 14px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e3e6ea; }
figcaption { font-size: 12.5px; color: #55606b; }
pre { background: #f3f5f7; padding: 10px 12px; overflow-x: auto; font-size: 12.5px; line-height: 1.35; border-radius: 4px; }
"""


def _block(b) -> str:
    if isinstance(b, Table):
        return to_html(b)
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode("ascii")
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b.alt)}">'
            f"<figcaption>{html.escape(b.caption)}</figcaption></figure>"
        )
    if isinstance(b, Code):
        return f"<pre>{html.escape(b.text)}</pre>"
    if isinstance(b, Text):
        return f"<p>{html.escape(b.text)}</p>"
    raise TypeError(f"unknown report block {type(b).__name__}")


def render(sections: list[Section], generated: str) -> str:
    head, rest = sections[0], sections[1:]
    nav = " ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in rest)
    body = [
        f"<h1>{html.escape(head.title)}</h1>",
        f'<p class="meta">ckgrec report, generated {html.escape(generated)}</p>',
        f"<nav>{nav}</nav>",
        *(_block(b) for b in head.blocks),
    ]
    for s in rest:
        body.append(f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>')
        body += [_block(b) for b in s.blocks]
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(head.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
