"""The deterministic rules backend: the embedded default, no network."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Document
from .narrative import extract_narrative
from .performance import extract_performance
from .tables import parse_table

if TYPE_CHECKING:
    from ..pipeline import Prepared


def extract_rules(prep: "Prepared") -> Document:
    seg, layout = prep.seg, prep.layout
    tables = [parse_table(layout, sec, seg.meta.agency) for sec in seg.tables()]
    doc = Document(meta=seg.meta, sections=prep.sections(), tables=tables, backend="rules")
    doc.narrative = extract_narrative(layout, seg)
    doc.performance = extract_performance(layout, seg)
    for t in tables:
        for r in t.rows:
            if r.suspect:
                doc.warnings.append(f"{t.id}: line {r.span.line_start}: suspect row ({r.note})")
    return doc
