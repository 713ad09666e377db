"""A table chunk shown as a grid of cells, each with a stable id the model can cite.

Table rows reach the model as tab-separated cells (PDF and DOCX ingestion lay every row out
that way, and many text dumps do too). When most rows of a table have the same number of
cells, the chunk is shown as a grid:

- each row keeps its document line number (`131|` …) and its cells, tab-separated, empty
  cells kept (also trailing ones), so the cell id `r131c3` is the 3rd cell of line 131;
- the column header line (one header path per column, levels of merged cells joined by
  `›`) is listed once per column as `c1: 科目›科目编码` instead of being shown as a line;
  the other header lines (title, unit, 栏次) stay text.

In a one-cell-per-line layout (a DOCX dump) a row is a block of lines, one cell per line.
The grid keeps the source range of every cell, so grounding can check a value against the
cell it cites and give the value that cell's span.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..layout import Layout
from ..normalize import NText
from ..vocab import NUM_RE

Group = list[int]
PATH_SEP = "›"
_CELL_ID_RE = re.compile(r"^\s*r(\d+)\s*c(\d+)\s*$", re.I)
_COLNO_RE = re.compile(r"^(?:栏次|行次)$")
# an empty cell as the rules read it: a dash printed for "none" is not an amount either
_NONE_MARKS = ("——", "—", "-", "/")


@dataclass
class Cell:
    text: str  # normalized, stripped
    start: int  # source range of the text; empty cell: start == end, where it would be
    end: int


def group_cells(layout: Layout, g: Group) -> list[Cell]:
    """The cells of a shown line: its tab-separated fields, or one per line of a block."""
    if len(g) > 1:
        return [_cell(layout.lines[i].norm, 0, len(layout.lines[i].norm.text)) for i in g]
    nt = layout.lines[g[0]].norm
    out: list[Cell] = []
    a = 0
    for k in [*(m.start() for m in re.finditer("\t", nt.text)), len(nt.text)]:
        out.append(_cell(nt, a, k))
        a = k + 1
    return out


def _cell(nt: NText, a: int, b: int) -> Cell:
    t = nt.text
    while a < b and t[a].isspace():
        a += 1
    while b > a and t[b - 1].isspace():
        b -= 1
    if a == b:
        # an empty cell sits where its text would start (a zero-width source range)
        o = nt.offset(a) if a < len(t) else (nt.offset(len(t) - 1) + 1 if t else nt.base)
        return Cell("", o, o)
    s, e = nt.source_range(a, b)
    return Cell(t[a:b], s, e)


def cell_id(line_no: int, col: int) -> str:
    return f"r{line_no}c{col}"


def parse_cell_id(text: str) -> tuple[int, int] | None:
    m = _CELL_ID_RE.match(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def cell_amount(text: str) -> Decimal | None:
    """The amount a cell prints, read as the rules read a cell: spaces inside the number
    ignored (a number broken inside its cell), − as minus, thousands separators only where
    they belong; None when the cell prints no amount."""
    t = text.strip()
    if not t or t in _NONE_MARKS:
        return None
    num = t.replace(" ", "").replace("−", "-")
    if not NUM_RE.match(num):
        return None
    try:
        return Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None


def grid_width(layout: Layout, rows: list[Group]) -> int | None:
    """The number of cells per row when the rows are laid out as a grid: the most common
    count (at least two), held by at least half of the rows; else None."""
    if not rows:
        return None
    counts = Counter(len(group_cells(layout, g)) for g in rows)
    width, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return width if width >= 2 and n * 2 >= len(rows) else None


@dataclass
class Grid:
    width: int  # cells per row of the grid
    columns: list[str]  # header path of each column ("" when none is printed)
    path_lines: list[Group] = field(default_factory=list)  # header lines folded into the paths
    rows: dict[int, list[Cell]] = field(default_factory=dict)  # line number (1-based) → cells

    def cell(self, ident: str) -> tuple[Cell | None, str | None]:
        """(the cell, None) or (None, why it is not one of this excerpt)."""
        at = parse_cell_id(ident)
        if at is None:
            return None, f"{ident!r} is not a cell id (r<line>c<column>, e.g. r12c3)"
        cells = self.rows.get(at[0])
        if cells is None or not 1 <= at[1] <= len(cells):
            return None, f"cell {ident} is not in this excerpt"
        return cells[at[1] - 1], None

    def holding(self, amount: Decimal, limit: int = 3) -> list[str]:
        """Ids of the cells printing `amount` (at most `limit`)."""
        out = []
        for n, cells in self.rows.items():
            for k, c in enumerate(cells, 1):
                if c.text and cell_amount(c.text) == amount:
                    out.append(cell_id(n, k))
                    if len(out) >= limit:
                        return out
        return out


def build_grid(layout: Layout, header: list[Group], rows: list[Group], width: int | None) -> Grid | None:
    """The grid of a table part (None when its table is not laid out as one)."""
    if width is None:
        return None
    grid = Grid(width, [""] * width)
    # The column header line: one header path per column, as PDF and DOCX ingestion write it
    # (the last header line with one cell per column). In a text dump only a line of paths
    # is trusted: its other header lines are laid out by eye, not by column.
    laid_out = layout.source.format in ("pdf", "docx")
    for g in reversed(header):
        cells = group_cells(layout, g)
        if len(cells) != width or sum(1 for c in cells if c.text) < 2 or any(
                _COLNO_RE.match(c.text) for c in cells):
            continue  # a 栏次 line numbers the columns, it does not name them
        if laid_out or any(PATH_SEP in c.text for c in cells):
            grid.columns = [c.text for c in cells]
            grid.path_lines = [g]
        break
    for g in rows:
        grid.rows[g[0] + 1] = group_cells(layout, g)
    return grid


def render_grid(layout: Layout, grid: Grid, header: list[Group], rows: list[Group], text_of) -> str:
    """The chunk text of a grid: header text lines, the columns with their header paths, the
    numbered rows with every cell (empty ones too)."""
    out: list[str] = []
    head = [g for g in header if g not in grid.path_lines]
    if head:
        out += ["header:", *(text_of(g) for g in head)]
    example = _example(grid, rows)
    out.append(f"grid: cell id r<line>c<k> = k-th tab-separated cell of line <line>, empty ones counted "
               f"(e.g. {example}); give each value's cell")
    out.extend(f"c{k}: {p}" for k, p in enumerate(grid.columns, 1) if p)
    out.append("rows:")
    out.extend(f"{g[0] + 1}|" + "\t".join(c.text for c in grid.rows[g[0] + 1]) for g in rows)
    return "\n".join(out)


def _example(grid: Grid, rows: list[Group]) -> str:
    for g in rows:
        n = g[0] + 1
        for k, c in enumerate(grid.rows[n], 1):
            if cell_amount(c.text) is not None and k > 1:
                return f"{cell_id(n, k)} = {c.text}"
    n = rows[0][0] + 1 if rows else 1
    return cell_id(n, 1)
