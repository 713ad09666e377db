"""Cell scoring: every gold cell and every extracted cell gets one outcome.

Cells are matched on (table, row, column) with exact Decimal equality in 元 (so `1.0` and
`1.00` are equal, `0` and absent are not). Suspect rows are not scored. Outcomes:

- ok          the extracted value equals the gold value (true positive);
- wrong       both have the cell and the values differ (counts as a false positive and a
              false negative);
- unit        like wrong, but the values differ by a unit factor (元 vs 万元, …): the table
              unit was misread;
- unreadable  the extractor found the cell but could not read its number (value None);
- missing     gold has the cell, the extraction has not (false negative);
- extra       the extraction has a cell gold has not, e.g. a printed-empty cell read as 0
              (false positive);
- duplicate   the extraction states the same (table, row, column) again: the first one is
              scored, each repeat is a false positive.

Each outcome carries the best source location the extraction gives: the cell's own span,
else (missing cells) the span of its row, else of its table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .. import vocab
from ..gold import CellKey, Gold
from ..model import Document, Span
from .prf import PRF

OK, WRONG, UNIT, UNREADABLE, MISSING, EXTRA, DUPLICATE = (
    "ok", "wrong", "unit", "unreadable", "missing", "extra", "duplicate")
STATUSES = (OK, WRONG, UNIT, UNREADABLE, MISSING, EXTRA, DUPLICATE)
FP_STATUSES = frozenset({WRONG, UNIT, UNREADABLE, EXTRA, DUPLICATE})
FN_STATUSES = frozenset({WRONG, UNIT, UNREADABLE, MISSING})

# Ratios between two units a table may be printed in (元/万元/千元/亿元).
_UNIT_RATIOS = frozenset(Decimal(a) / Decimal(b) for a in vocab.UNIT_FACTORS.values()
                         for b in vocab.UNIT_FACTORS.values() if a != b)


@dataclass
class Counts(PRF):
    """True positives, false positives, false negatives and the ratios from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0


    def add(self, other: "Counts") -> "Counts":
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self

    def to_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 6),
                "recall": round(self.recall, 6), "f1": round(self.f1, 6)}

    @classmethod
    def from_dict(cls, d: dict) -> "Counts":
        return cls(int(d["tp"]), int(d["fp"]), int(d["fn"]))


@dataclass
class CellOutcome:
    table: str
    row: str
    column: str
    status: str
    gold: Decimal | None = None  # gold value in 元 (None: gold has no such cell)
    got: Decimal | None = None  # extracted value in 元 (None: absent or unreadable)
    printed: str | None = None  # extracted cell text as printed
    gold_printed: str | None = None  # gold cell as written in the gold file
    span: Span | None = None
    span_of: str | None = None  # cell | row | table: what `span` is the span of

    @property
    def key(self) -> CellKey:
        return (self.table, self.row, self.column)

    @property
    def tp(self) -> int:
        return int(self.status == OK)

    @property
    def fp(self) -> int:
        return int(self.status in FP_STATUSES)

    @property
    def fn(self) -> int:
        return int(self.status in FN_STATUSES)


@dataclass
class CellResult:
    outcomes: list[CellOutcome] = field(default_factory=list)

    @property
    def counts(self) -> Counts:
        c = Counts()
        for o in self.outcomes:
            c.tp += o.tp
            c.fp += o.fp
            c.fn += o.fn
        return c

    def by_table(self) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for o in self.outcomes:
            c = out.setdefault(o.table, Counts())
            c.tp += o.tp
            c.fp += o.fp
            c.fn += o.fn
        return out

    def errors(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status != OK]


def document_cells(doc: Document) -> dict[CellKey, Decimal | None]:
    """(table, row, column) → value for every scored cell (suspect rows are not scored)."""
    return {(t.id, r.id, c.column): c.value for t in doc.tables for r in t.rows if not r.suspect
            for c in r.cells}


def _is_unit_slip(got: Decimal, want: Decimal) -> bool:
    if not got or not want:
        return False
    return got / want in _UNIT_RATIOS


def score_document_cells(doc: Document, gold: Gold) -> CellResult:
    """One outcome per gold cell, plus one per extracted cell gold does not have."""
    got: dict[CellKey, tuple] = {}  # key → (cell, row span, table span)
    dups: list[tuple[CellKey, object]] = []
    row_spans: dict[tuple[str, str], Span] = {}
    table_spans: dict[str, Span] = {}
    for t in doc.tables:
        table_spans.setdefault(t.id, t.span)
        for r in t.rows:
            if r.suspect:
                continue
            row_spans.setdefault((t.id, r.id), r.span)
            for c in r.cells:
                key = (t.id, r.id, c.column)
                if key in got:
                    dups.append((key, c))
                else:
                    got[key] = c
    res = CellResult()
    for key, want in gold.cells.items():
        gp = gold.printed.get(key)
        c = got.get(key)
        if c is None:
            span, of = row_spans.get(key[:2]), "row"
            if span is None:
                span, of = table_spans.get(key[0]), "table"
            res.outcomes.append(CellOutcome(*key, MISSING, want, None, None, gp, span, of if span else None))
            continue
        if c.value is None:
            status = UNREADABLE
        elif c.value == want:
            status = OK
        elif _is_unit_slip(c.value, want):
            status = UNIT
        else:
            status = WRONG
        res.outcomes.append(CellOutcome(*key, status, want, c.value, c.printed, gp, c.span, "cell"))
    for key, c in got.items():
        if key not in gold.cells and not gold.partial:  # key-cell gold scores only its own cells
            res.outcomes.append(CellOutcome(*key, EXTRA, None, c.value, c.printed, None, c.span, "cell"))
    for key, c in dups:
        res.outcomes.append(CellOutcome(*key, DUPLICATE, gold.cells.get(key), c.value, c.printed,
                                        gold.printed.get(key), c.span, "cell"))
    return res
