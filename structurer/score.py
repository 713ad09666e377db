"""Cell-level scoring of an extracted document against gold."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .gold import CellKey, Gold
from .model import Document
from .prf import PRF


def document_cells(doc: Document) -> dict[CellKey, Decimal | None]:
    """(table, row, column) → value for every scored cell (suspect rows are not scored)."""
    out: dict[CellKey, Decimal | None] = {}
    for t in doc.tables:
        for r in t.rows:
            if r.suspect:
                continue
            for c in r.cells:
                out[(t.id, r.id, c.column)] = c.value
    return out


@dataclass
class CellScore(PRF):
    tp: int = 0
    fp: int = 0
    fn: int = 0
    wrong: list[tuple[CellKey, Decimal | None, Decimal]] = field(default_factory=list)
    extra: list[CellKey] = field(default_factory=list)
    missing: list[CellKey] = field(default_factory=list)



def score_cells(doc: Document, gold: Gold) -> CellScore:
    """Exact decimal equality on (table, row, column); a wrong value is both fp and fn."""
    got = document_cells(doc)
    s = CellScore()
    for key, want in gold.cells.items():
        have = got.get(key, "absent")
        if have == "absent":
            s.fn += 1
            s.missing.append(key)
        elif have is not None and have == want:
            s.tp += 1
        else:
            s.fp += 1
            s.fn += 1
            s.wrong.append((key, have, want))
    for key in got:
        if key not in gold.cells:
            s.fp += 1
            s.extra.append(key)
    return s
