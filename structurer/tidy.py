"""The tidy long-format cells: one record per (document, table, row, column), the shape of
`structurer cells`, the DuckDB `cells` table and `Document.cells()`."""
from __future__ import annotations

from collections.abc import Iterator

CELL_FIELDS = ("doc", "table", "row", "row_label", "column", "value", "unit", "printed",
               "status", "line_start", "line_end", "page", "x0", "top", "x1", "bottom", "confidence",
               "low_confidence")


def iter_cells(doc) -> Iterator[dict]:
    name = doc.meta.source
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                yield {
                    "doc": name, "table": t.id, "row": r.id, "row_label": r.label,
                    "column": c.column,
                    "value": "" if c.value is None else format(c.value, "f"),
                    "unit": c.unit, "printed": c.printed,
                    "status": "suspect" if r.suspect else c.status,
                    "line_start": c.span.line_start, "line_end": c.span.line_end,
                    **_where(c.where),
                    "low_confidence": c.low_confidence,
                }


def _where(w) -> dict:
    """Page and box of a PDF value; blank for text sources."""
    if w is None:
        return {"page": "", "x0": "", "top": "", "x1": "", "bottom": "", "confidence": ""}
    return {"page": w.page, **dict(zip(("x0", "top", "x1", "bottom"), w.box)),
            "confidence": "" if w.confidence is None else w.confidence}
