"""Page and box of every extracted value, for sources read with their layout (PDFs).

The backends point into the source text by offset; ingestion kept a box for every piece of
that text, so a value's box is the union of the boxes its span overlaps.
"""
from __future__ import annotations

import bisect

from .model import Document, Span, Where
from .vocab import printed_decimals

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
        confs = [b.conf for b in hit if b.conf is not None]
        return Where(page=page, box=(min(b.x0 for b in hit), min(b.top for b in hit),
                                     max(b.x1 for b in hit), max(b.bottom for b in hit)),
                     confidence=min(confs) if confs else None)


def _odd_precision(cells) -> None:
    """A table prints all its amounts with the same decimals: an OCR'd amount with other
    decimals (`1,136.233` among `1,136.23`s) is a misreading until someone looks."""
    counts: dict[int, int] = {}
    for c in cells:
        d = printed_decimals(c.printed)
        if d:  # whole numbers (a printed 0) say nothing of the precision
            counts[d] = counts.get(d, 0) + 1
    if not counts:
        return
    usual, n = max(counts.items(), key=lambda kv: kv[1])
    if n < 3 or n < 0.8 * sum(counts.values()):
        return  # no clear precision to hold the odd one against
    for c in cells:
        d = printed_decimals(c.printed)
        if d and d != usual:
            c.low_confidence = True


def locate(doc: Document, boxes) -> Document:
    """Fill `where` on every cell and narrative fact whose span lies on a page."""
    loc = Locator(boxes)
    if not loc.boxes:
        return doc
    for t in doc.tables:
        read = []  # cells read by OCR
        for r in t.rows:
            for c in r.cells:
                c.where = loc.where(c.span)
                conf = c.where.confidence if c.where else None
                c.low_confidence = conf is not None and conf < LOW_CONFIDENCE
                if conf is not None:
                    read.append(c)
        _odd_precision(read)
    for f in doc.narrative:
        f.where = loc.where(f.span)
    return doc
