"""The report of a ``ckg run``: one self-contained HTML page and the same tables as Markdown.

The page embeds its plots as base64 PNG and its style inline, so it can be mailed, archived or
opened from any directory with nothing beside it. Everything on it is read back from the files
the pipeline wrote (store manifest, run directories, ``compare.json``, ``evaluation.json``,
``examples.json``, ``pipeline.json``), never from memory, so the report can be regenerated
alone and always shows what is on disk.

Modules: :mod:`.collect` (read the files), :mod:`.tables` (a table and its HTML/Markdown),
:mod:`.plots` (matplotlib figures as PNG bytes), :mod:`.sections` (what the page says),
:mod:`.html` and :mod:`.markdown` (the two renderings), :mod:`.write` (writing both).
"""
