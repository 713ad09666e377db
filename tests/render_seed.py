"""Render a seed text dump (tab-separated table rows) as a real DOCX and a real PDF.

Generic: the renderer only knows the text's structure. A line with a tab is a table row;
each run of consecutive such lines becomes one table with one cell per field, every row
padded to the run's widest row. Every other line is a paragraph (blank lines included in
the DOCX, where they are empty paragraphs; the PDF just leaves space). The PDF flows
naturally: reportlab breaks pages where they fill up and splits long tables across them.

With merge=True the first row of every table is drawn the way producers draw header
rows: a filled cell is merged horizontally with the empty cells after it (w:gridSpan in
the DOCX, a SPAN in the PDF), so a reader must give back one field per grid column.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import docx
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"  # built-in CID font: no font file, pdfminer maps it via its CMaps
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class Block:
    kind: str  # "text" (one line, possibly blank) | "table" (rows of fields)
    text: str = ""
    rows: list[list[str]] | None = None


def blocks(text: str) -> list[Block]:
    """Lines in order: each non-tab line a text block, each run of tab lines one table."""
    out: list[Block] = []
    for line in text.split("\n"):
        if "\t" in line:
            if not out or out[-1].kind != "table":
                out.append(Block("table", rows=[]))
            out[-1].rows.append(line.split("\t"))
        else:
            out.append(Block("text", text=line))
    for b in out:
        if b.kind == "table":
            width = max(len(r) for r in b.rows)
            b.rows = [r + [""] * (width - len(r)) for r in b.rows]
    return out


def spans(row: list[str]) -> list[tuple[int, int]]:
    """(first, last) column of each merge: a filled cell with the empty cells after it."""
    out = []
    for c, value in enumerate(row):
        if value and c + 1 < len(row) and not row[c + 1]:
            last = c + 1
            while last + 1 < len(row) and not row[last + 1]:
                last += 1
            out.append((c, last))
    return out


# ---------------------------------------------------------------- DOCX


def render_docx(text: str, merge: bool = False) -> bytes:
    document = docx.Document()
    for b in blocks(text):
        if b.kind == "text":
            document.add_paragraph(b.text)
            continue
        table = document.add_table(rows=len(b.rows), cols=len(b.rows[0]))
        table.style = "Table Grid"
        for row, values in zip(table.rows, b.rows):
            for cell, value in zip(row.cells, values):
                cell.text = value
        if merge:
            first = table.rows[0].cells
            for c0, c1 in spans(b.rows[0]):
                first[c0].merge(first[c1])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- PDF

PAGE = landscape(A4)  # room for the widest (16-column) tables
MARGIN = 36
_TEXT = ParagraphStyle("text", fontName=FONT, fontSize=10, leading=13)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
_MIN_COL, _MAX_CHARS = 28.0, 14  # points; a column never sized for more than this many chars


def _em(text: str) -> float:
    """Printed width of `text` in font-size units (CJK full width, ASCII about half)."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def _col_widths(rows: list[list[str]], avail: float) -> list[float]:
    size = _CELL.fontSize
    want = [
        max(_MIN_COL, min(_MAX_CHARS, max(_em(r[c]) for r in rows)) * size + 6)
        for c in range(len(rows[0]))
    ]
    total = sum(want)
    return [w * avail / total for w in want] if total > avail else want


# STSong-Light's UniGB-UCS2-H CMap has no code for U+00B7 (the TOC leader dot): it would
# print as .notdef and pdfminer drops it. Its GB glyph is under U+30FB, which reads back
# as U+00B7, so the PDF shows and yields the same character.
_GLYPHS = str.maketrans({"\u00b7": "\u30fb"})


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text.translate(_GLYPHS)), style)


def render_pdf(text: str, merge: bool = False) -> bytes:
    avail = PAGE[0] - 2 * MARGIN
    story = []
    for b in blocks(text):
        if b.kind == "text":
            story.append(_paragraph(b.text, _TEXT) if b.text.strip() else Spacer(1, 6))
            continue
        cells = [[_paragraph(v, _CELL) for v in row] for row in b.rows]
        table = Table(cells, colWidths=_col_widths(b.rows, avail), hAlign="LEFT")
        style = [("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if merge:
            style += [("SPAN", (c0, 0), (c1, 0)) for c0, c1 in spans(b.rows[0])]
        table.setStyle(TableStyle(style))
        story += [Spacer(1, 4), table, Spacer(1, 4)]
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
    ).build(story)
    return buf.getvalue()
