"""Re-space a tab-separated text dump the way `pdftotext -layout` prints tables.

Generic: a line with a tab is a table row and each run of consecutive such lines one table.
Every column is padded to the widest cell of its table in display columns (CJK characters
count two), numbers right-aligned and labels left-aligned, with `gap` spaces between columns;
an empty cell is blanks. Header rows (before the first row with an amount or a row number)
are centred over their cells, a header cell over the empty cells after it that no header row
above fills, as printed over merged cells. Header rows stay one line each. Spaces inside a cell collapse to one (a single space is how
pdftotext prints a word gap inside a cell). Every other line is kept as it is.
"""
from __future__ import annotations

import re
import unicodedata

_NUMBER_RE = re.compile(r"^[-−]?[\d,. ]*\d[\d,. ]*%?$")
_AMOUNT_RE = re.compile(r"^[-−]?[\d,]*\d\.\d+$")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _header_rows(cells: list[list[str]]) -> int:
    """Leading rows before the first data row (a row number or code first, an amount, or a
    lone label)."""
    for k, row in enumerate(cells):
        if _NUMBER_RE.match(row[0]) or any(_AMOUNT_RE.match(c) for c in row) or sum(map(bool, row)) < 2:
            return k
    return len(cells)


def _spans(cells: list[list[str]], head: int) -> list[list[tuple[int, int]]]:
    """(first, last) columns of every filled cell; a header cell reaches over the empty cells
    after it that no header row above fills (those belong to a cell merged downwards)."""
    out = []
    for k, row in enumerate(cells):
        spans = []
        for c, value in enumerate(row):
            if not value:
                continue
            last = c
            while k < head and last + 1 < len(row) and not row[last + 1] \
                    and not any(cells[j][last + 1] for j in range(k)):
                last += 1
            spans.append((c, last))
        out.append(spans)
    return out


def table_lines(rows: list[list[str]], gap: int = 2) -> list[str]:
    """Rows of cells → aligned lines. Header cells are centred over the columns they span,
    as printed over merged cells."""
    cells = [[" ".join(c.split()) for c in row] for row in rows]
    n = max(len(r) for r in cells)
    cells = [r + [""] * (n - len(r)) for r in cells]
    head = _header_rows(cells)
    spans = _spans(cells, head)
    widths = [0] * n
    for row, sp in zip(cells, spans):
        for a, b in sp:
            if a == b:
                widths[a] = max(widths[a], display_width(row[a]))
    for row, sp in zip(cells, spans):  # a merged cell wider than its columns widens the last one
        for a, b in sp:
            room = sum(widths[a:b + 1]) + gap * (b - a)
            widths[b] += max(0, display_width(row[a]) - room)
    starts = [sum(widths[:c]) + gap * c for c in range(n)]
    out = []
    for k, (row, sp) in enumerate(zip(cells, spans)):
        line = ""
        for a, b in sp:
            text, w = row[a], display_width(row[a])
            room = starts[b] + widths[b] - starts[a]
            if k < head:
                pos = starts[a] + (room - w) // 2
            elif _NUMBER_RE.match(text):
                pos = starts[a] + room - w
            else:
                pos = starts[a]
            line += " " * max(pos - display_width(line), 1 if line else 0) + text
        out.append(line)
    return out


def respace(text: str, gap: int = 2) -> str:
    out: list[str] = []
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        if "\t" not in lines[k]:
            out.append(lines[k])
            k += 1
            continue
        # one table: tab rows, also across a single blank line (one printed table, one set
        # of column positions)
        rows: list[list[str] | None] = []
        while k < len(lines) and ("\t" in lines[k] or (not lines[k].strip() and k + 1 < len(lines)
                                                     and "\t" in lines[k + 1] and rows)):
            rows.append(lines[k].split("\t") if "\t" in lines[k] else None)
            k += 1
        laid = iter(table_lines([r for r in rows if r is not None], gap))
        out.extend(next(laid) if r is not None else lines[k - len(rows) + i] for i, r in enumerate(rows))
    return "\n".join(out)
