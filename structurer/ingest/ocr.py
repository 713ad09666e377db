"""Pages without a text layer, read by OCR into the same positioned text as a PDF's.

The recogniser is RapidOCR (PP-OCR detection, direction and recognition models in ONNX,
shipped inside the `rapidocr-onnxruntime` wheel: nothing is downloaded at run time). Each
recognised character becomes a `Glyph` in page points with the confidence of its text
line, and the page's ruling lines are found in the image, so the layout stage builds
lines, table grids and boxes exactly as it does for a PDF's text layer.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .common import IngestError, OcrUnavailable, one_line
from .pdf import Glyph, PdfPage, join_rules

DPI = 200  # pages are rendered at this resolution for recognition
EXTRA = "pip install 'structurer[ocr]'"
# Dark pixels (0-255 grey) that may belong to a ruling line.
_INK = 140
# A dark run at least this long (points) may be a ruling line (the shortest bounds one cell
# of a header row); one that lies inside a recognised character is a stroke of it.
_RULE_MIN = 12.0
# Vertical strokes a ruling line is read as; budgets print none of them as text.
_RULE_CHARS = frozenset("|｜│┃¦丨")
_WORD_GAP = 0.5  # of the character height: below the layout's fragment gap (0.55)
_NUMBER_GAP_RE = re.compile(r"(?<=[\d,.])\s+(?=[\d,.])")

Progress = Callable[[int, int], None]  # (page number, pages in the document)


@lru_cache(maxsize=1)
def _engine():
    # deferred on purpose: onnxruntime and OpenCV load only when a page needs OCR
    try:
        from rapidocr_onnxruntime import RapidOCR
    except Exception as exc:  # ImportError, or OpenCV's shared libraries missing
        raise OcrUnavailable(f"OCR is not installed ({one_line(exc)}); {EXTRA}") from exc
    return RapidOCR()


def available() -> bool:
    try:
        _engine()
    except OcrUnavailable:
        return False
    return True


def ocr_image(rgb: np.ndarray, number: int, dpi: float = DPI) -> PdfPage:
    """One page image (H × W × 3, uint8) → a page of glyphs and ruling lines in points."""
    return page_of(rgb, number, dpi, recognise(rgb, dpi))


def recognise(rgb: np.ndarray, dpi: float = DPI) -> list[Glyph]:
    """The characters the recogniser reads on a page image, in points."""
    return glyphs_of(read_lines(rgb), dpi)


def read_lines(rgb: np.ndarray) -> list[list]:
    """The recogniser's text lines on a page image, in pixels: [quad, text, confidence,
    character quads] each (the costly step, kept apart so its answer can be stored)."""
    result, _ = _engine()(rgb, return_word_box=True)
    return [[_plain(item[0]), item[1], float(item[2]), *(_plain(x) for x in item[3:])] for item in result or ()]


def _plain(v):
    """Nested numpy arrays / tuples of coordinates as plain lists of floats."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    return float(v) if isinstance(v, (np.floating, np.integer)) else v


def glyphs_of(lines: list[list], dpi: float = DPI) -> list[Glyph]:
    """The recogniser's text lines → glyphs in points."""
    return [g for item in lines for g in _line_glyphs(item, 72.0 / dpi)]


def page_of(rgb: np.ndarray, number: int, dpi: float, glyphs: list[Glyph]) -> PdfPage:
    """A page from its image and the characters read on it: the ruling lines come from the
    image, less the strokes of those characters."""
    scale = 72.0 / dpi
    h, w = rgb.shape[:2]
    page = PdfPage(number, w * scale, h * scale, list(glyphs))
    grey = rgb.mean(axis=2) if rgb.ndim == 3 else rgb.astype(float)
    page.hrules, page.vrules = _rules(grey < _INK, scale, glyphs)
    return page


def _line_glyphs(item, scale: float) -> list[Glyph]:
    """One recognised text line → glyphs. Character boxes come with the line (one per
    character, spaces included); a space between digits is a recognition artefact
    (`2,131. 61`), anywhere else it is printed space."""
    quad, text, score = item[0], item[1], float(item[2])
    boxes = item[3] if len(item) > 3 and item[3] and len(item[3]) == len(text) else None
    if boxes is None:  # no character boxes: share the line's box out evenly
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
        step = (x1 - x0) / max(len(text), 1)
        boxes = [[(x0 + k * step, top), (x0 + (k + 1) * step, top), (x0 + (k + 1) * step, bottom),
                  (x0 + k * step, bottom)] for k in range(len(text))]
    joined = set(m.start() for m in _NUMBER_GAP_RE.finditer(text))
    out: list[Glyph] = []
    spaced = False
    for k, (ch, box) in enumerate(zip(text, boxes)):
        if ch in _RULE_CHARS:  # a table rule read as a stroke character: it parts, never prints
            spaced = True
            continue
        if ch.isspace():
            spaced = spaced or k not in joined
            continue
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        out.append(Glyph(ch, min(xs) * scale, min(ys) * scale, max(xs) * scale, max(ys) * scale,
                         spaced, round(score, 4)))
        spaced = False
    # Characters the recogniser read as one word touch: its character boxes are estimates
    # that leave gaps around narrow ones (`7,651.71` would read as `7, 651. 71`). A gap wide
    # enough to part two fragments stays.
    if out:
        h = sorted(g.bottom - g.top for g in out)[len(out) // 2]
        for a, b in zip(out, out[1:]):
            if not b.space and 0 < b.x0 - a.x1 < _WORD_GAP * h:
                a.x1 = b.x0
    return out


def _rules(ink: np.ndarray, scale: float, glyphs=()) -> tuple[list, list]:
    """Horizontal and vertical ruling lines: long straight runs of dark pixels that are not
    strokes of a character (a run lying mostly inside a glyph's box)."""
    min_px = max(int(_RULE_MIN / scale), 8)
    boxes = [(g.x0, g.top, g.x1, g.bottom) for g in glyphs]
    h = [s for s in _runs(ink, min_px, scale) if not _in_glyph(s, boxes, across=True)]
    v = [s for s in _runs(ink.T, min_px, scale) if not _in_glyph(s, boxes, across=False)]
    return join_rules(h), join_rules(v)


def _in_glyph(seg, boxes, across: bool) -> bool:
    """Does half or more of this run lie inside one glyph box? (`across`: a horizontal run at
    y = pos from x a to b; else a vertical run at x = pos from y a to b)."""
    pos, a, b = seg
    for x0, top, x1, bottom in boxes:
        lo, hi, p0, p1 = (x0, x1, top, bottom) if across else (top, bottom, x0, x1)
        if p0 + 0.5 < pos < p1 - 0.5 and min(b, hi) - max(a, lo) >= 0.5 * (b - a):
            return True
    return False


def _runs(ink: np.ndarray, min_px: int, scale: float) -> list[tuple[float, float, float]]:
    """(position, start, end) in points of every run of ≥ min_px dark pixels along the rows
    of `ink`; the rows of one thick line become one segment."""
    if ink.shape[1] < min_px:
        return []
    # a row can only hold a long run if it has that many dark pixels at all
    rows = np.flatnonzero(ink.sum(axis=1) >= min_px)
    segs: list[tuple[float, float, float]] = []
    for y in rows:
        row = np.concatenate(([False], ink[y], [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(row))
        starts, ends = edges[::2], edges[1::2]
        keep = ends - starts >= min_px
        segs.extend(((y + 0.5) * scale, s * scale, e * scale) for s, e in zip(starts[keep], ends[keep]))
    return _merge_thick(segs, scale)


def _merge_thick(segs, scale: float) -> list[tuple[float, float, float]]:
    """Runs on adjacent pixel rows that overlap are one line drawn a few pixels thick."""
    out: list[list[float]] = []
    step = scale * 1.5
    for pos, a, b in sorted(segs):
        for o in reversed(out[-12:]):
            if pos - o[3] <= step and a < o[2] and b > o[1]:
                o[1], o[2], o[3] = min(o[1], a), max(o[2], b), pos
                o[4].append(pos)
                break
        else:
            out.append([pos, a, b, pos, [pos]])
    return [(sum(o[4]) / len(o[4]), o[1], o[2]) for o in out]


def render_rgb(doc, index: int, dpi: float = DPI) -> np.ndarray:
    """Page `index` of an open pypdfium2 document as an RGB image at `dpi`."""
    page = doc[index]
    try:
        bitmap = page.render(scale=dpi / 72.0)
        rgb = bitmap.to_numpy()[:, :, :3]
        if bitmap.mode in ("BGRA", "BGRX", "BGR"):
            rgb = rgb[:, :, ::-1]
        return np.ascontiguousarray(rgb)
    finally:
        page.close()


def ocr_pdf_page(doc, index: int, dpi: float = DPI) -> PdfPage:
    """Render page `index` of an open pypdfium2 document and OCR it."""
    return ocr_image(render_rgb(doc, index, dpi), index + 1, dpi)


def image_dpi(img) -> float:
    """The resolution an image file states (points = pixels × 72 / dpi), else DPI."""
    return float(img.info.get("dpi", (DPI, DPI))[0] or DPI)


def read_image_pages(data: bytes, name: str, progress: Progress | None = None) -> list[PdfPage]:
    """An image file (PNG, JPEG, TIFF — every frame a page) → OCR'd pages."""
    from PIL import Image, ImageSequence

    try:
        img = Image.open(io.BytesIO(data))
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(img)]
    except Exception as exc:  # Pillow raises many types for a damaged file
        raise IngestError(f"{name} is not a readable image (corrupt or truncated?): {one_line(exc)}") from exc
    dpi = image_dpi(img)
    pages = []
    for k, frame in enumerate(frames):
        if progress:
            progress(k + 1, len(frames))
        pages.append(ocr_image(np.asarray(frame), k + 1, dpi))
    return pages
