"""The values an HTML report shows (a cell c…, a narrative fact n…), the ids check terms map
to, and where a link to a source line goes (the line in the text view, the page in the page
view)."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal

from ..checks.model import CheckReport
from ..model import Document, Span
from .apply import fact_column


def esc(s) -> str:
    return html.escape(str(s), quote=True)


def money(v: Decimal | None) -> str:
    return "—" if v is None else f"{v:,.2f}"


@dataclass
class Item:
    """A highlighted value: a cell (c…) or a narrative fact (n…)."""

    id: str
    key: tuple[str, str, str]
    span: Span
    label: str
    tip: str
    kind: str  # cell | narrative
    suspect: bool = False
    classes: set[str] = field(default_factory=set)


class ItemIds(dict):
    """Check term → item id: by (table, row, column), the first non-suspect value; a term's span
    picks among facts a prose line states twice, or values read into one column of a row."""

    def of(self, key: tuple[str, str, str], span: Span | None = None) -> str | None:
        if span is not None and (key, span.start) in self:
            return self[(key, span.start)]
        return self.get(key)


def box_classes(its: list[Item], base: set[str]) -> set[str]:
    """The CSS classes of a mark that shows these values: narrative only, a suspect row, and
    the classes each value carries (its findings)."""
    cls = set(base)
    if all(i.kind == "narrative" for i in its):
        cls.add("nar")
    if any(i.suspect for i in its):
        cls.add("suspect")
    for i in its:
        cls.update(i.classes)
    return cls


def collect_items(doc: Document) -> tuple[list[Item], ItemIds]:
    """Every value with a span, and the id of the value each check term names."""
    items: list[Item] = []
    by_key = ItemIds()
    k = 0
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                k += 1
                cid = f"c{k}"
                key = (t.id, r.id, c.column)
                status = "suspect row" if r.suspect else c.status
                if c.low_confidence:  # read by OCR with low confidence: look at the page
                    status += f" · low OCR confidence {c.where.confidence:.2f}"
                tip = (f"{t.id} · row {r.id} {r.label} · column {c.column}\n= {money(c.value)} 元 · printed "
                       f"{c.printed!r} {c.unit} · {status}")
                items.append(Item(cid, key, c.span, f"{t.id}/{r.id}/{c.column}", tip, "cell", r.suspect))
                if not r.suspect:
                    by_key.setdefault(key, cid)
                    by_key.setdefault((key, c.span.start), cid)
    for j, f in enumerate(doc.narrative, 1):
        nid = f"n{j}"
        key = ("narrative", f.key, fact_column(f))
        tip = f"narrative {f.key} ({f.kind}) = {f.value} · printed {f.printed!r} {f.unit}"
        items.append(Item(nid, key, f.span, f"narrative/{f.key}", tip, "narrative"))
        by_key.setdefault(key, nid)
        by_key.setdefault((key, f.span.start), nid)
    return items, by_key


def mark_findings(items: list[Item], by_key: ItemIds, report: CheckReport) -> None:
    index = {i.id: i for i in items}
    for r in report.findings():
        for t in r.terms:
            iid = by_key.of(t.key, t.span)
            if iid:
                index[iid].classes.add("fail")
        d = r.diagnosis
        if d is not None and (iid := by_key.of((d.table, d.row, d.column), d.span)):
            index[iid].classes.add("diag")


class TextLines:
    """Links to source lines in the text view."""

    def href(self, line: int) -> str:
        return f"#L{line}"

    def label(self, line: int) -> str:
        return f"line {line}"
