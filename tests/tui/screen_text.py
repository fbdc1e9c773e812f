"""What a running app shows, as plain text lines, read from its public SVG screenshot."""

from __future__ import annotations

import html
import re

from textual.app import App

_TEXT = re.compile(
    r'<text[^>]*\bx="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>'
)


def screen_lines(app: App[object]) -> list[str]:
    """Each terminal row of the current frame, with every character where it is drawn."""
    spans = [
        (float(y), float(x), float(width), html.unescape(text))
        for x, y, width, text in _TEXT.findall(app.export_screenshot())
    ]
    cell = min((w / len(t) for _, _, w, t in spans if len(t) == 1), default=12.2)
    rows: dict[float, list[str]] = {}
    for y, x, _, text in sorted(spans):
        row = rows.setdefault(y, [])
        col = round(x / cell)
        row.extend(" " * (col + len(text) - len(row)))
        row[col : col + len(text)] = list(text)
    return ["".join(row).replace("\xa0", " ") for _, row in sorted(rows.items())]


def screen_text(app: App[object]) -> str:
    return "\n".join(screen_lines(app))
