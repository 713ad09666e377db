"""Page and box of every extracted value, for sources read with their layout (PDFs).

The backends point into the source text by offset; ingestion kept a box for every piece of
that text, so a value's box is the union of the boxes its span overlaps.
"""
from __future__ import annotations

import bisect

from .model import Document, Span, Where

# Below this OCR recognition confidence a value is flagged for review (Cell.low_confidence).
LOW_CONFIDENCE = 0.9


class Locator:
    def __init__(self, boxes) -> None:
        self.boxes = list(boxes)
        self.starts = [b.start for b in self.boxes]

    def where(self, span: Span) -> Where | None:
        if not self.boxes:
            return None
        k = max(0, bisect.bisect_right(self.starts, span.start) - 1)
        hit = []
        while k < len(self.boxes) and self.boxes[k].start < span.end:
            b = self.boxes[k]
            if b.end > span.start:
                hit.append(b)
            k += 1
        if not hit:
            return None
        page = hit[0].page
        hit = [b for b in hit if b.page == page]
        confs = [b.conf for b in hit if getattr(b, "conf", None) is not None]
        return Where(page=page, box=(min(b.x0 for b in hit), min(b.top for b in hit),
                                     max(b.x1 for b in hit), max(b.bottom for b in hit)),
                     confidence=min(confs) if confs else None)


def locate(doc: Document, boxes) -> Document:
    """Fill `where` on every cell and narrative fact whose span lies on a page."""
    loc = Locator(boxes)
    if not loc.boxes:
        return doc
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                c.where = loc.where(c.span)
                conf = c.where.confidence if c.where else None
                c.low_confidence = conf is not None and conf < LOW_CONFIDENCE
    for f in doc.narrative:
        f.where = loc.where(f.span)
    return doc
