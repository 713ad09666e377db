"""The page view of the HTML report for a PDF: each page that holds a value, a table or a
finding, as PDFium drew it (an embedded image), with every extracted value boxed where it was
printed. A box is a `mark.v` like a highlight of the text view, so hover, click and the links
from the tables and findings work the same way; values in one box share it (`data-c`).

Links that name a source line (a table's or a row's start) go to the line's page instead.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from ..checks.model import CheckReport
from ..ingest import SourceText
from ..model import Document, Where
from .html_items import Item, box_classes, collect_items, esc
from .page_images import PageImage, render_pages


def item_places(doc: Document, items: list[Item]) -> dict[str, Where]:
    """Where each value (by item id) was printed, when it is known."""
    out: dict[str, Where] = {}
    cells = iter(i for i in items if i.kind == "cell")
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                it = next(cells)
                if c.where is not None:
                    out[it.id] = c.where
    for it, f in zip((i for i in items if i.kind == "narrative"), doc.narrative):
        if f.where is not None:
            out[it.id] = f.where
    return out


class LinePages:
    """The page a source line was printed on (from the source's boxes), and the link to it
    among the pages shown."""

    def __init__(self, source: SourceText, shown: Iterable[int] = ()):
        self.starts = source.line_starts
        self.page_of: dict[int, int] = {}
        for b in source.boxes:
            line = bisect.bisect_right(self.starts, b.start)
            self.page_of.setdefault(line, b.page)
        self.lines = sorted(self.page_of)
        self.shown = sorted(set(shown))

    def page(self, line: int) -> int | None:
        if line in self.page_of:
            return self.page_of[line]
        k = bisect.bisect_right(self.lines, line) - 1  # a line without print: the page above
        return self.page_of[self.lines[k]] if k >= 0 else None

    def href(self, line: int) -> str:
        p = self.page(line)
        if p is None or not self.shown:
            return "#pages"
        if p not in self.shown:  # the nearest page shown
            p = min(self.shown, key=lambda q: (abs(q - p), q))
        return f"#P{p}"

    def label(self, line: int) -> str:
        p = self.page(line)
        return f"page {p}" if p is not None else f"line {line}"


def pages_wanted(doc: Document, places: dict[str, Where], lines: LinePages, finding_lines: Iterable[int]) -> set[int]:
    """Pages that hold a value, the start of a table, or a value a finding names."""
    want = {w.page for w in places.values()}
    for t in doc.tables:
        p = lines.page(t.span.line_start)
        if p is not None:
            want.add(p)
    for ln in finding_lines:
        p = lines.page(ln)
        if p is not None:
            want.add(p)
    return want


def _pct(v: float, whole: float) -> str:
    return f"{max(0.0, min(100.0, v / whole * 100)):.3f}%"


def pages_html(images: list[PageImage], items: list[Item], places: dict[str, Where], total_pages: int) -> str:
    """The pages with their boxes; values with no place on a page listed below them."""
    by_page: dict[int, dict[tuple, list[Item]]] = {}
    for it in items:
        w = places.get(it.id)
        if w is not None:
            by_page.setdefault(w.page, {}).setdefault(tuple(round(x, 1) for x in w.box), []).append(it)
    shown = {im.number for im in images}
    parts = []
    for im in images:
        marks = []
        for box, its in by_page.get(im.number, {}).items():
            x0, top, x1, bottom = box
            style = (f"left:{_pct(x0 - 1, im.width)};top:{_pct(top - 1, im.height)};"
                     f"width:{_pct(x1 - x0 + 2, im.width)};height:{_pct(bottom - top + 2, im.height)}")
            cls = box_classes(its, {"v", "box"})
            anchors = "".join(f'<a class="anchor" id="s-{i.id}" style="left:{_pct(x0, im.width)};'
                              f'top:{_pct(top, im.height)}"></a>' for i in its)
            marks.append(f'{anchors}<mark class="{" ".join(sorted(cls))}" data-c="{" ".join(i.id for i in its)}" '
                         f'style="{style}" title="{esc(chr(10).join(i.tip for i in its))}"></mark>')
        parts.append(f'<section class="page" id="P{im.number}"><div class="pg-no">page {im.number} of '
                     f'{total_pages}</div><div class="sheet" style="aspect-ratio:{im.width:.2f}/{im.height:.2f}">'
                     f'<img alt="page {im.number}" src="{im.data_uri()}">{"".join(marks)}</div></section>')
    lost = [it for it in items if it.id not in places or places[it.id].page not in shown]
    if lost:
        lis = "".join(f'<li><a class="anchor" id="s-{it.id}"></a><mark class="{" ".join(sorted({"v"} | it.classes))}" '
                      f'data-c="{it.id}" title="{esc(it.tip)}">{esc(it.label)}</mark></li>' for it in lost)
        parts.append(f'<section class="lost"><h3>{len(lost)} value(s) with no place on a page shown</h3>'
                     f'<ul>{lis}</ul></section>')
    zoom = ('<div class="zoombar">zoom <button data-zoom="1" class="on">fit</button><button data-zoom="1.5">150%</button>'
            '<button data-zoom="2">200%</button></div>')
    return f'<div id="pages">{zoom}' + "".join(parts) + "</div>"


@dataclass
class PageView:
    images: list[PageImage]
    places: dict[str, Where]  # item id → where it was printed
    lines: LinePages
    total: int  # pages in the file


def page_view(doc: Document, report: CheckReport, source: SourceText) -> PageView:
    """Render the pages of a PDF source that the report shows (IngestError if it cannot)."""
    items, _ = collect_items(doc)
    places = item_places(doc, items)
    lines = LinePages(source)
    finding_lines = [t.span.line_start for r in report.findings() for t in r.terms if t.span is not None]
    want = pages_wanted(doc, places, lines, finding_lines)
    images, total = render_pages(source.path, want)
    return PageView(images, places, LinePages(source, (im.number for im in images)), total)
