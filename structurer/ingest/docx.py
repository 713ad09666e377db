"""DOCX text via python-docx: body paragraphs and tables in document order, in the shape
the PDF renderer (grid/render.py) gives: a table's header rows become one line of column
paths (levels of merged header cells joined by `›`), then one line per row with one
tab-separated cell per grid column."""
from __future__ import annotations

import io
import re

import docx  # python-docx (absolute import: this module's own name does not shadow it)
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from ..grid.lines import Frag, VLine
from ..grid.render import PATH_SEP
from ..grid.table import is_data
from ..vocab import ORDINAL_RE
from .common import IngestError, flatten_cell, one_line

_P, _TBL, _SDT = qn("w:p"), qn("w:tbl"), qn("w:sdt")
_MAX_HEADER = 40  # characters: a longer cell is prose, never a column heading
_VALUE_RE = re.compile(r"^[≥≤＞＜><]|\d\s*[%％]$")  # an indicator's value (≥90%, 100%), never a heading


def extract_docx(data: bytes, name: str) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_blocks(document.element.body, document))
    except Exception as exc:  # zipfile, lxml, python-docx all raise their own types
        raise IngestError(
            f"{name} is not a readable DOCX (corrupt, or another format renamed?): {one_line(exc)}"
        ) from exc
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(f"{name} has no text (only images?); OCR it first")
    return text


def _blocks(container, parent):
    """Lines of a body-like element, paragraphs and tables interleaved as written."""
    for child in container.iterchildren():
        if child.tag == _P:
            yield _paragraph_text(Paragraph(child, parent))
        elif child.tag == _TBL:
            yield from _table_rows(Table(child, parent))
        elif child.tag == _SDT:
            # Content controls (Word puts tables of contents in one) hold ordinary blocks.
            for content in child.iterchildren(qn("w:sdtContent")):
                yield from _blocks(content, parent)


def _paragraph_text(paragraph: Paragraph) -> str:
    # Paragraph.text skips runs nested in w:ins, w:smartTag, inline w:sdt...; collect all
    # runs except deleted/moved-away ones and those inside floating text boxes.
    # A manual line break (w:br) stays a newline: it is a real line in the document.
    runs = paragraph._p.xpath(
        ".//w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom) and not(ancestor::w:txbxContent)]"
    )
    return "".join(run.text for run in runs)


def _table_rows(table: Table):
    trs = table._tbl.tr_lst
    rows = [_row_fields(tr, table) for tr in trs]
    # header rows: those before the first data row (an amount or a classification code),
    # decided as the PDF grid decides; no header or no data row keeps the rows as they are
    first = next((i for i, fields in enumerate(rows) if _is_data_row(fields)), 0)
    paths = _header_paths(trs[:first], table, max(map(len, rows), default=0)) if first else None
    if paths is None:
        first = 0
    else:
        multi = any(len(p) > 1 for p in paths)
        yield "\t".join(PATH_SEP.join(p) if multi else "".join(p) for p in paths)
    for fields in rows[first:]:
        yield "\t".join(fields)


def _is_data_row(fields: list[str]) -> bool:
    filled = [Frag(f, 0.0, 0.0, 0.0, 0.0) for f in fields if f.strip()]
    return bool(filled) and is_data(VLine(0, filled))


def _header_paths(trs, table: Table, width: int) -> list[list[str]] | None:
    """Each grid column's path: the texts of the header cells covering it, top to bottom.

    A cell covers the grid columns it spans (gridSpan); a vMerge continuation adds nothing
    (its text was given by the cell it continues); a level equal to the one above it is
    the same merged cell written twice, so it is kept once. None when the rows are not a
    header laid out as a grid: no merged cell (nothing a path would add), a row label, a
    value or prose among them (rows of a table continued from a previous w:tbl), or an empty,
    unmerged cell with header text under it (a merge left implicit, so positions do not
    say which cell heads which column; the rules' header words group such rows better).
    """
    grid: list[list[tuple[str, bool] | None]] = []  # per row, per column: (text, merged)
    for tr in trs:
        slots: list[tuple[str, bool] | None] = [None] * width
        col = tr.grid_before
        for tc in _tcs(tr):
            span = max(tc.grid_span, 1)
            cont = tc.vMerge == "continue"
            text = "" if cont else flatten_cell(_cell_text(_Cell(tc, table))).strip()
            if text and (len(text) > _MAX_HEADER or ORDINAL_RE.match(text) or _VALUE_RE.search(text)):
                return None
            for c in range(col, min(col + span, width)):
                slots[c] = (text, span > 1 or tc.vMerge is not None)
            col += span
        grid.append(slots)
    if not any(s and s[1] for row in grid for s in row):
        return None
    paths: list[list[str]] = [[] for _ in range(width)]
    for r, row in enumerate(grid):
        for c, slot in enumerate(row):
            text, merged = slot or ("", False)
            if not text and not merged and any(below and below[0] for below in (g[c] for g in grid[r + 1:])):
                return None
            if text and (not paths[c] or paths[c][-1] != text):
                paths[c].append(text)
    return paths if any(paths) else None


def _tcs(tr):
    return tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc")


def _row_fields(tr, table: Table) -> list[str]:
    """One field per grid column, as pdfplumber gives for a ruled PDF table: records.py
    reads tab rows positionally against the header, so every column needs its field.

    Iterate the physical w:tc elements, not row.cells: row.cells repeats a horizontally
    merged cell's _tc once per grid column (its text would be copied into each) and
    (python-docx 1.2) a vertically merged cell's text in every row it spans. So each
    w:tc gives its text once, then one empty field per further grid column it spans
    (gridSpan); vMerge continuations come out empty, as in PDFs. Grid columns a row
    skips before its first or after its last cell (gridBefore/gridAfter) are empty too.
    """
    fields = [""] * tr.grid_before
    for tc in _tcs(tr):
        fields.append(flatten_cell(_cell_text(_Cell(tc, table))))
        fields.extend([""] * (max(tc.grid_span, 1) - 1))
    fields.extend([""] * tr.grid_after)
    return fields


def _cell_text(cell: _Cell) -> str:
    # All paragraphs under the cell, nested tables included (flattened into the cell).
    paragraphs = cell._tc.xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return "\n".join(_paragraph_text(Paragraph(p, cell)) for p in paragraphs)
