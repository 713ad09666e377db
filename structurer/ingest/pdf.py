"""PDF pages as positioned text through PDFium: every character with its box (top-down
page coordinates in points, as the page is displayed), and the ruling lines the page draws.

The layout stage (structurer.grid) turns these into reading-order lines and table grids.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .common import IngestError, OcrUnavailable, one_line

# Unmapped glyphs come out as U+FFFD / U+FFFE or private-use code points; if most text is
# like that it is unusable.
_MAX_UNMAPPED = 0.5
# Two copies of a glyph closer than this (points) are one glyph printed twice (fake bold).
_DUP_TOL = 1.0
# A path thinner than this (points) is a ruling line.
_RULE_THICK = 2.5


@dataclass(slots=True)
class Glyph:
    ch: str
    x0: float
    top: float
    x1: float
    bottom: float
    space: bool = False  # the text layer printed a space before this glyph
    conf: float | None = None  # OCR: recognition confidence of its text line (None: text layer)


@dataclass
class PdfPage:
    number: int  # 1-based
    width: float
    height: float
    glyphs: list[Glyph] = field(default_factory=list)
    hrules: list[tuple[float, float, float]] = field(default_factory=list)  # (y, x0, x1)
    vrules: list[tuple[float, float, float]] = field(default_factory=list)  # (x, top, bottom)
    ocr: bool = False  # read by OCR from the page image


OCR_MODES = ("auto", "always", "never")
# A page whose pictures cover this share of it, and that has no usable text, is a scan.
_SCAN_COVER = 0.25


def read_pdf_pages(data: bytes, name: str, ocr: str = "auto", ocr_page=None, progress=None) -> list[PdfPage]:
    """Every page as positioned text. `ocr_page(doc, index)` reads a page from its image
    (structurer.ingest.ocr): with `ocr="auto"` for scanned pages (no usable text layer, a
    picture over the page), with "always" for every page, with "never" for none.
    `progress(page, pages)` hears of each page sent to OCR."""
    if ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {', '.join(OCR_MODES)}")
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # pypdfium2 < 4.31 does not attach the code to the exception; PDFium still holds it
        code = getattr(exc, "err_code", None)
        if code is None:
            code = pdfium_c.FPDF_GetLastError()
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise IngestError(f"{name} is encrypted (password required); decrypt it first") from exc
        raise IngestError(f"{name} is not a readable PDF (corrupt or truncated?): {one_line(exc)}") from exc
    try:
        pages = [_page(doc, i) for i in range(len(doc))]
        if ocr == "always" or (ocr == "auto" and not _usable(pages)):
            todo = list(range(len(pages)))  # no text layer, or one without Unicode mapping
        elif ocr == "auto":
            todo = [i for i, p in enumerate(pages) if _scanned(p, doc, i)]
        else:
            todo = []
        missing = None
        for n, i in enumerate(todo if ocr_page is not None else (), 1):
            if progress:
                progress(n, len(todo))
            try:
                pages[i] = ocr_page(doc, i)
            except OcrUnavailable as exc:
                missing = exc
                break
            pages[i].ocr = True
    except pdfium.PdfiumError as exc:
        raise IngestError(f"{name} is not a readable PDF (corrupt or truncated?): {one_line(exc)}") from exc
    finally:
        doc.close()
    text_pages = [p for p in pages if not p.ocr]
    visible = sum(1 for p in text_pages for g in p.glyphs)
    unmapped = sum(1 for p in text_pages for g in p.glyphs if _unmapped(g.ch))
    hint = str(missing) if missing else "run with --ocr auto to read it by OCR" if ocr == "never" else "OCR it first"
    if not any(p.ocr for p in pages):
        if visible == 0:
            raise IngestError(f"{name} has no text layer (scanned image?); {hint}")
        if unmapped > visible * _MAX_UNMAPPED:
            raise IngestError(f"{name} has a text layer without Unicode mapping (glyphs show as cid numbers); {hint}")
    if not any(p.glyphs for p in pages):
        raise IngestError(f"{name} has no text layer, and OCR found no text on any page")
    for p in text_pages:
        p.glyphs = [g for g in p.glyphs if not _unmapped(g.ch)]
    return pages


def _usable(pages: list[PdfPage]) -> bool:
    """The text layer as a whole is readable (a few scanned pages among text pages)."""
    visible = sum(len(p.glyphs) for p in pages)
    unmapped = sum(1 for p in pages for g in p.glyphs if _unmapped(g.ch))
    return visible > 0 and unmapped <= visible * _MAX_UNMAPPED


def _scanned(page: PdfPage, doc: pdfium.PdfDocument, index: int) -> bool:
    """No usable text on the page, and a picture covers a good part of it (a blank page or
    one drawn only with lines is not a scan)."""
    glyphs = page.glyphs
    if glyphs and sum(1 for g in glyphs if _unmapped(g.ch)) <= len(glyphs) * _MAX_UNMAPPED:
        return False
    raw = doc[index]
    try:
        c = pdfium_c
        l, b, r, t = (ctypes.c_float() for _ in range(4))
        cover = 0.0
        for i in range(c.FPDFPage_CountObjects(raw.raw)):
            obj = c.FPDFPage_GetObject(raw.raw, i)
            if c.FPDFPageObj_GetType(obj) == c.FPDF_PAGEOBJ_IMAGE and c.FPDFPageObj_GetBounds(obj, l, b, r, t):
                cover += max(0.0, r.value - l.value) * max(0.0, t.value - b.value)
        return cover >= _SCAN_COVER * page.width * page.height
    finally:
        raw.close()


def _unmapped(ch: str) -> bool:
    o = ord(ch)
    return o in (0xFFFD, 0xFFFE, 0xFFFF) or 0xE000 <= o <= 0xF8FF or o < 0x20


def _transform(rotation: int, w: float, h: float):
    """PDF user space (y up) → displayed page (y down), for the page's /Rotate."""
    if rotation == 90:
        return lambda x, y: (y, x)
    if rotation == 180:
        return lambda x, y: (w - x, y)
    if rotation == 270:
        return lambda x, y: (h - y, w - x)
    return lambda x, y: (x, h - y)


def _page(doc: pdfium.PdfDocument, index: int) -> PdfPage:
    page = doc[index]
    try:
        w, h = page.get_size()  # as displayed (rotation applied)
        rot = page.get_rotation()
        uw, uh = (h, w) if rot in (90, 270) else (w, h)  # user-space size
        tf = _transform(rot, uw, uh)
        out = PdfPage(index + 1, w, h)
        out.glyphs = _glyphs(page, tf, uh if rot == 0 else None)
        out.hrules, out.vrules = _rules(page, tf)
        return out
    finally:
        page.close()


def _glyphs(page, tf, upright_h: float | None = None) -> list[Glyph]:
    """`upright_h`: the page height when it is not rotated (the common case, computed inline)."""
    tp = page.get_textpage()
    try:
        n = pdfium_c.FPDFText_CountChars(tp.raw)
        if n <= 0:
            return []
        buf = ctypes.create_string_buffer((n + 1) * 2)
        pdfium_c.FPDFText_GetText(tp.raw, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
        text = buf.raw[:n * 2].decode("utf-16-le", errors="replace")
        rect = pdfium_c.FS_RECTF()
        raw, box, generated = tp.raw, pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_IsGenerated
        out: list[Glyph] = []
        last: dict[str, Glyph] = {}
        spaced = False
        for k, ch in enumerate(text):
            if ch.isspace():
                # a printed space (not one PDFium inferred) separates words whatever the
                # substitute font makes of the glyph widths
                spaced = spaced or (ch in " \u3000" and not generated(raw, k))
                continue
            if not ch.isprintable() and not _unmapped(ch):
                continue
            if not box(raw, k, rect):
                continue
            if upright_h is not None:
                g = Glyph(ch, rect.left, upright_h - rect.top, rect.right, upright_h - rect.bottom, spaced)
            else:
                xa, ya = tf(rect.left, rect.top)
                xb, yb = tf(rect.right, rect.bottom)
                g = Glyph(ch, min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb), spaced)
            spaced = False
            prev = last.get(ch)
            if prev is not None and abs(prev.x0 - g.x0) <= _DUP_TOL and abs(prev.top - g.top) <= _DUP_TOL:
                continue  # the same glyph printed again over itself
            last[ch] = g
            out.append(g)
        return out
    finally:
        tp.close()


def _rules(page, tf) -> tuple[list, list]:
    """Horizontal and vertical ruling segments: thin paths, and the edges of rectangles."""
    hr: list[tuple[float, float, float]] = []
    vr: list[tuple[float, float, float]] = []
    for l, b, r, t, segments in _paths(page.raw):
        (xa, ya), (xb, yb) = tf(l, t), tf(r, b)
        x0, x1, y0, y1 = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
        if x1 - x0 < 1 and y1 - y0 < 1:
            continue
        if y1 - y0 <= _RULE_THICK:
            hr.append(((y0 + y1) / 2, x0, x1))
        elif x1 - x0 <= _RULE_THICK:
            vr.append(((x0 + x1) / 2, y0, y1))
        elif segments <= 6:  # a rectangle: its four edges
            hr += [(y0, x0, x1), (y1, x0, x1)]
            vr += [(x0, y0, y1), (x1, y0, y1)]
    return join_rules(hr), join_rules(vr)


def _paths(raw_page, depth: int = 3):
    """(left, bottom, right, top, segment count) of every path object, form XObjects included
    (the raw API: one wrapper object per path costs more than reading the page)."""
    c = pdfium_c
    l, b, r, t = (ctypes.c_float() for _ in range(4))
    stack = [(raw_page, c.FPDFPage_CountObjects(raw_page), c.FPDFPage_GetObject, depth)]
    while stack:
        parent, n, get, d = stack.pop()
        for i in range(n):
            obj = get(parent, i)
            kind = c.FPDFPageObj_GetType(obj)
            if kind == c.FPDF_PAGEOBJ_PATH:
                if c.FPDFPageObj_GetBounds(obj, l, b, r, t):
                    yield l.value, b.value, r.value, t.value, c.FPDFPath_CountSegments(obj)
            elif kind == c.FPDF_PAGEOBJ_FORM and d > 1:
                stack.append((obj, c.FPDFFormObj_CountObjects(obj), c.FPDFFormObj_GetObject, d - 1))


def join_rules(segs: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Collinear segments that touch (a table drawn one cell border at a time) as one rule."""
    out: list[list[float]] = []
    for pos, a, b in sorted(segs, key=lambda s: (round(s[0]), s[1])):
        for o in reversed(out[-8:]):
            if abs(o[0] - pos) <= 1.0 and a <= o[2] + 2.0:
                o[2] = max(o[2], b)
                break
        else:
            out.append([pos, a, b])
    return [tuple(o) for o in out]
