"""PDF pages as images, rendered by PDFium: whole pages for the HTML report (downscaled,
16 grey levels, PNG: a text page stays a few dozen KB) and crops around a value for the
review TUI.

Boxes in the document model are in points on the page as displayed (top-down, the page's
rotation applied, see structurer.ingest.pdf); PDFium renders the page as displayed too, so a
box maps to pixels by the render scale alone.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageSequence

from ..ingest import IMAGE_SUFFIXES, IngestError
from ..ingest.ocr import image_dpi

LONG_SIDE = 1600  # pixels on the long side of a page image in the report
MIN_SIDE = 1000  # … and at least this many when a long document is drawn smaller
BUDGET = 3_200_000  # bytes of PNG in one report: base64 adds a third, the report stays under 5 MB
GREYS = 16  # grey levels kept: text and rules stay crisp, the file small


@dataclass(frozen=True)
class PageImage:
    number: int  # 1-based
    width: float  # points, as displayed
    height: float
    png: bytes

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _open(path: str | Path) -> pdfium.PdfDocument:
    try:
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:
            return pdfium.PdfDocument(_image_pdf(Path(path)))
        return pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as e:
        raise IngestError(f"{Path(path).name}: cannot render its pages ({e})") from e


def _image_pdf(path: Path) -> bytes:
    """An image file as a PDF of its frames, each page as large as OCR measured it (points at
    the image's resolution), so the boxes of its values fall where they were read."""
    with Image.open(path) as img:
        dpi = image_dpi(img)
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(img)]
    buf = io.BytesIO()
    frames[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.convert("L").quantize(GREYS).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def render_pages(path: str | Path, numbers: Iterable[int], long_side: int = LONG_SIDE,
                 budget: int | None = BUDGET) -> tuple[list[PageImage], int]:
    """The pages `numbers` (1-based; ones the file does not have are left out), in order, and
    the number of pages the file has. When the images take more than `budget` bytes, they are
    drawn again smaller (down to MIN_SIDE pixels on the long side) to fit it."""
    pdf = _open(path)
    try:
        want = [n for n in sorted(set(numbers)) if 1 <= n <= len(pdf)]
        out = _render(pdf, want, long_side)
        size = sum(len(im.png) for im in out)
        if budget and size > budget and long_side > MIN_SIDE:
            # PNG size grows about with the pixel count: scale the side by the square root
            smaller = max(MIN_SIDE, int(long_side * (budget / size) ** 0.5 * 0.95))
            out = _render(pdf, want, smaller)
        return out, len(pdf)
    finally:
        pdf.close()


def _render(pdf: pdfium.PdfDocument, numbers: list[int], long_side: int) -> list[PageImage]:
    out = []
    for n in numbers:
        page = pdf[n - 1]
        try:
            w, h = page.get_size()
            im = page.render(scale=long_side / max(w, h, 1.0), grayscale=True).to_pil()
            out.append(PageImage(n, w, h, _png(im)))
        finally:
            page.close()
    return out


def render_crop(path: str | Path, page: int, box: tuple[float, float, float, float],
                margin: tuple[float, float] = (120.0, 14.0), scale: float = 2.0
                ) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The part of page `page` around `box` (x0, top, x1, bottom in points), `margin` points
    left/right and above/below, as an RGB image; and the box's place in it, in pixels."""
    pdf = _open(path)
    try:
        if not 1 <= page <= len(pdf):
            raise IngestError(f"{Path(path).name} has no page {page}")
        p = pdf[page - 1]
        try:
            w, h = p.get_size()
            x0, top, x1, bottom = box
            cx0, ct = max(0.0, x0 - margin[0]), max(0.0, top - margin[1])
            cx1, cb = min(w, x1 + margin[0]), min(h, bottom + margin[1])
            # crop = (left, bottom, right, top) margins in points, as PDFium takes them
            im = p.render(scale=scale, crop=(cx0, h - cb, w - cx1, ct)).to_pil().convert("RGB")
        finally:
            p.close()
    finally:
        pdf.close()
    at = (round((x0 - cx0) * scale), round((top - ct) * scale), round((x1 - cx0) * scale),
          round((bottom - ct) * scale))
    return im, at
