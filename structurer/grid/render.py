"""Positioned pages → the text the later stages read, with a box for every piece of it.

Running text becomes one line per visual line. A table becomes one header line (each
column's header path, `›` between the levels of merged header cells) and one line per
row with exactly one tab-separated cell per column, empty cells kept; a table continued on
the next page without its header keeps the columns of the page before.
"""
from __future__ import annotations

from dataclasses import dataclass

from .furniture import furniture
from .lines import VLine, build_lines
from .header import assign_paths, header_cells
from .table import Column, build_rows, cell_text, column_of, first_data, infer_columns, split_blocks

PATH_SEP = "›"


@dataclass(frozen=True, slots=True)
class Box:
    """Where a piece of the text was printed: [start, end) offsets, 1-based page, points."""
    start: int
    end: int
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float | None = None  # OCR: the lowest recognition confidence of the text (None: text layer)


class _Out:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.boxes: list[Box] = []

    def add(self, text: str, page: int | None = None, frags=()) -> None:
        text = text.replace("\t", " ").replace("\n", " ")
        if page is not None and frags and text:
            confs = [f.conf for f in frags if f.conf is not None]
            self.boxes.append(Box(self.pos, self.pos + len(text), page,
                                  round(min(f.x0 for f in frags), 1), round(min(f.top for f in frags), 1),
                                  round(max(f.x1 for f in frags), 1), round(max(f.bottom for f in frags), 1),
                                  min(confs) if confs else None))
        self.parts.append(text)
        self.pos += len(text)

    def raw(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def text(self) -> str:
        return "".join(self.parts)


def _rules_in(rules, lo: float, hi: float, a: float, b: float, min_len: float) -> list[float]:
    """Positions of rules that lie across [a, b] in the other axis, within [lo, hi]."""
    out = []
    for pos, s, e in rules:
        if lo - 2 <= pos <= hi + 2 and min(e, b) - max(s, a) >= min_len:
            if not any(abs(pos - p) < 2 for p in out):
                out.append(pos)
    return sorted(out)


def render_pages(pages) -> tuple[str, list[Box]]:
    """`pages`: objects with number, width, height, glyphs, hrules, vrules (ingest.pdf.PdfPage)."""
    laid = [(p, build_lines(p.glyphs, p.number, p.vrules)) for p in pages]
    skip = furniture([(p.height, lines) for p, lines in laid])
    out = _Out()
    carry: list[Column] | None = None
    for k, (page, lines) in enumerate(laid):
        if k:
            out.raw("\n\n")  # a blank line between pages
        lines = [ln for ln in lines if id(ln) not in skip]
        first_line = True
        for kind, block in split_blocks(lines):
            if not first_line:
                out.raw("\n")
            first_line = False
            if kind == "text":
                _text_line(out, block[0])
                carry = None
            else:
                carry = _table(out, page, block, carry)
    return out.text(), out.boxes


def _text_line(out: _Out, ln: VLine) -> None:
    for i, f in enumerate(ln.frags):
        if i:
            out.raw(" ")  # a visible gap in running text
        out.add(f.text, ln.page, [f])


def _table(out: _Out, page, block: list[VLine], carry: list[Column] | None) -> list[Column]:
    k = first_data(block)
    head, data = block[:k], block[k:]
    top, bottom = block[0].top, block[-1].bottom
    x0, x1 = min(ln.x0 for ln in block), max(ln.x1 for ln in block)
    h = max(block[0].height, 1.0)
    dtop = data[0].top
    # a rule drawn only where cells are filled still separates its columns
    # the frame's outer rules may lie well outside the text (left-aligned labels, wide cells)
    lo, hi = x0 - 0.3 * (x1 - x0) - 2 * h, x1 + 0.3 * (x1 - x0) + 2 * h
    hr = _rules_in(page.hrules, top - h, bottom + h, x0, x1, 0.5 * (x1 - x0))
    if len(hr) >= 3:  # a ruled table reaches as far as its row rules, empty columns included
        frame = [(a, b) for y, a, b in page.hrules if top - h <= y <= bottom + h and b - a >= 0.5 * (x1 - x0)]
        lo, hi = min([lo] + [a - 2 for a, _ in frame]), max([hi] + [b + 2 for _, b in frame])
    vr = _rules_in(page.vrules, lo, hi, dtop, bottom, min(1.5 * h, 0.5 * (bottom - dtop)))
    # rules under part of the table only (one side of a two-sided summary) still part rows there
    hsegs = [(y, a, b) for y, a, b in page.hrules
             if top - h <= y <= bottom + h and min(b, x1) - max(a, x0) >= 2 * h] if len(hr) >= 3 else []
    above = [r for r in page.hrules if r[0] < top - h and min(r[2], x1) - max(r[1], x0) >= 0.5 * (x1 - x0)]
    if hsegs and above:  # the block may start inside a ruled row (its first lines read as text)
        hsegs.append(max(above))
    vsegs = [(x, t, b) for x, t, b in page.vrules
             if lo <= x <= hi and min(b, bottom) - max(t, top - h) >= 0.8 * h]
    if not head and carry and all(carry[0].x0 - 2 * h <= f.xc <= carry[-1].x1 + 2 * h
                                  for ln in data for f in ln.frags):
        cols = [Column(c.x0, c.x1) for c in carry]  # continued from the page before
    else:
        grid = len(vr) >= 3 and all(any(abs(x - v) < 2 and t <= dtop + 2 and b >= bottom - 2
                                        for x, t, b in page.vrules) for v in vr)
        cols = infer_columns(head, data, vr, grid)
        assign_paths(header_cells(head, hsegs), cols, vsegs if len(vr) >= 3 else ())
    rows = build_rows(data, cols, hsegs)
    if head and getattr(page, "raw_header", False):
        # a text dump's header rows stay rows, each cell in its column: the rules read them by
        # the order of their words, which survives the shifted header rows dumps often print
        for ln in head:
            cells = [""] * len(cols)
            for f in ln.frags:
                cells[column_of(cols, f)] += f.text
            out.raw("\t".join(c.replace("\t", " ") for c in cells) + "\n")
    elif any(c.path for c in cols):
        multi = any(len(c.path) > 1 for c in cols)
        for i, c in enumerate(cols):
            if i:
                out.raw("\t")
            out.add(PATH_SEP.join(c.path) if multi else "".join(c.path), page.number,
                    [f for ln in head for f in ln.frags if column_of(cols, f) == i] if not multi else ())
        out.raw("\n")
    for r_i, row in enumerate(rows):
        if r_i:
            out.raw("\n")
        for i, frags in enumerate(row.cells):
            if i:
                out.raw("\t")
            if frags:
                out.add(cell_text(frags), page.number, frags)
    return cols
