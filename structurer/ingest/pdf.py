"""PDF text via pdfplumber: running text as lines, ruled tables as tab-separated rows,
both in top-to-bottom order so a table stays next to its caption."""
from __future__ import annotations

import io

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError

from . import IngestError, flatten_cell, one_line

# Unmapped glyphs come out as "(cid:123)"; if most text is like that it is unusable.
_MAX_UNMAPPED = 0.5


def extract_pdf(data: bytes, name: str) -> str:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page(page) for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many types, often wrapped by pdfplumber
        if _is_encrypted(exc):
            raise IngestError(f"{name} is encrypted (password required); decrypt it first") from exc
        raise IngestError(f"{name} is not a readable PDF (corrupt or truncated?): {one_line(_root(exc))}") from exc
    chars = sum(n for _, n, _ in pages)
    unmapped = sum(n for _, _, n in pages)
    if chars == 0:
        raise IngestError(f"{name} has no text layer (scanned image?); OCR it first")
    if unmapped > chars * _MAX_UNMAPPED:
        raise IngestError(f"{name} has a text layer without Unicode mapping (glyphs show as cid numbers); OCR it first")
    # A blank line between pages.
    return "\n\n".join("\n".join(lines) for lines, _, _ in pages)


def _page(page) -> tuple[list[str], int, int]:
    """Lines of one page, plus its count of visible characters and of unmapped ones."""
    # Some producers fake bold by printing each glyph twice; that would double the text.
    page = page.dedupe_chars()
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside_tables(obj) -> bool:
        # Test the char's centre: outside_bbox() would also drop chars that merely touch
        # a table's border, e.g. a caption sitting right on the top rule.
        if obj.get("object_type") != "char":
            return True
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

    blocks = [(line["top"], [line["text"]]) for line in page.filter(outside_tables).extract_text_lines()]
    for table in tables:
        rows = ["\t".join(flatten_cell(cell) for cell in row) for row in table.extract()]
        blocks.append((table.bbox[1], rows))
    blocks.sort(key=lambda block: block[0])  # stable: equal tops keep text before tables

    visible = [c["text"] for c in page.chars if not c["text"].isspace()]
    unmapped = sum(1 for t in visible if t.startswith("(cid:"))
    return [line for _, lines in blocks for line in lines], len(visible), unmapped


def _root(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer errors as PdfminerException(original)."""
    while exc.args and isinstance(exc.args[0], BaseException):
        exc = exc.args[0]
    return exc


def _is_encrypted(exc: BaseException) -> bool:
    return isinstance(_root(exc), PDFEncryptionError)  # includes PDFPasswordIncorrect
