"""The page beside a value in the review TUI: the part of the PDF page around where the value
was printed, drawn with half blocks (two pixels a character: ▀ in the upper pixel's colour on
the lower one's), the value's box outlined in red, so the reviewer sees the print and not only
the text the reader derived from it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageOps
from rich.style import Style
from rich.text import Text

from ..ingest import IngestError, SourceText
from ..model import Where
from .page_images import render_crop

WIDTH = 88  # characters
MARGIN = (28.0, 6.0)  # points left/right of the value and above/below it
BOX = (220, 30, 30)


def pdf_path(source: SourceText | None) -> str | None:
    """The PDF a document was read from, when it is at hand."""
    if source is None or source.format not in ("pdf", "image") or not Path(source.path).is_file():
        return None
    return source.path


@lru_cache(maxsize=256)
def _crop_rows(path: str, page: int, box: tuple[float, float, float, float], width: int) -> tuple:
    im, (x0, y0, x1, y1) = render_crop(path, page, box, MARGIN, scale=3.0)
    grey = ImageOps.autocontrast(im.convert("L"), cutoff=1).convert("RGB")
    ImageDraw.Draw(grey).rectangle((x0 - 3, y0 - 3, x1 + 3, y1 + 3), outline=BOX, width=4)
    height = max(2, round(width * grey.height / grey.width / 2) * 2)
    small = grey.resize((width, height), resample=3)  # bicubic
    px = small.load()
    return tuple(tuple((px[x, y], px[x, y + 1]) for x in range(width)) for y in range(0, height, 2))


def page_crop(source: SourceText | None, where: Where | None, width: int = WIDTH) -> Text:
    """The page around `where`, or nothing when the source is no PDF at hand."""
    out = Text()
    path = pdf_path(source)
    if path is None or where is None:
        return out
    try:
        rows = _crop_rows(path, where.page, tuple(where.box), width)
    except IngestError as e:
        return Text(f"  (page {where.page} not shown: {e})\n", style="dim")
    out.append(f"  page {where.page}, as printed:\n", style="dim")
    for row in rows:
        out.append("  ")
        for (r1, g1, b1), (r2, g2, b2) in row:
            out.append("▀", style=Style(color=f"rgb({r1},{g1},{b1})", bgcolor=f"rgb({r2},{g2},{b2})"))
        out.append("\n")
    return out
