"""DOCX text via python-docx: body paragraphs and tables in document order, each table
row as one line of tab-separated cells (the same shape the PDF reader produces)."""
from __future__ import annotations

import io

import docx  # python-docx (absolute import: this module's own name does not shadow it)
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from . import IngestError, flatten_cell, one_line

_P, _TBL, _SDT = qn("w:p"), qn("w:tbl"), qn("w:sdt")


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
    for tr in table._tbl.tr_lst:
        yield "\t".join(_row_fields(tr, table))


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
    for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
        fields.append(flatten_cell(_cell_text(_Cell(tc, table))))
        fields.extend([""] * (max(tc.grid_span, 1) - 1))
    fields.extend([""] * tr.grid_after)
    return fields


def _cell_text(cell: _Cell) -> str:
    # All paragraphs under the cell, nested tables included (flattened into the cell).
    paragraphs = cell._tc.xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return "\n".join(_paragraph_text(Paragraph(p, cell)) for p in paragraphs)
