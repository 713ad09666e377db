"""A second reading of the tables a failing check names, by the model (`structurer repair`).

The model is given each table's chunks as in the `llm` backend, with the failing check
appended to the request: what it says, and each value it takes with its line. Its answer
is grounded like any other (a value must be printed on the line it cites), so the model can
point out a misread number but cannot make one up to satisfy the check. A value it reads
as printed is a sign the document itself is inconsistent.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import Cell, Span, Usage
from .accounting import sum_usage
from .asking import run_sync
from .chunking import table_chunks
from .client import LLMClient
from .config import Settings
from .mapping import table_from_results

if TYPE_CHECKING:
    from ..checks.model import Result
    from ..pipeline import Prepared


@dataclass
class Reading:
    """What the model reads for one value of the failing check."""

    key: tuple[str, str, str]  # table, row, column
    current: Decimal | None  # the value in the document now
    cell: Cell | None  # the model's grounded cell (None: it found no value there)
    current_span: Span | None = None  # where the document's value is printed

    @property
    def differs(self) -> bool:
        return self.cell is not None and self.cell.value is not None and self.cell.value != self.current

    @property
    def elsewhere(self) -> bool:
        """The model's value is printed in another place than the document's (another column
        of the same line, say): which place is right is the reviewer's call."""
        return self.cell is not None and self.current_span is not None and self.cell.span != self.current_span


@dataclass
class SecondReading:
    readings: list[Reading]
    usage: Usage
    model: str
    warnings: list[str]


def check_hint(result: "Result") -> str:
    """The failing check, as told to the model."""
    lines = [f"A consistency check fails on these values: {result.title} "
             f"({result.left} {result.op} {result.right} does not hold).",
             "Values the check takes (table/row/column = value in 元, printed text, line):"]
    for t in result.terms:
        if t.kind != "cell":
            continue
        where = f", line {t.span.line_start}" if t.span else ""
        lines.append(f"- {'/'.join(t.key)} = {t.value} (printed {t.printed!r}{where})")
    lines.append("One of them may be misread. Read every value of the table again exactly as printed; "
                 "do not change a printed number to make the check hold.")
    return "\n".join(lines)


def reread(prep: "Prepared", result: "Result", table_lines: dict[str, int], settings: Settings,
           environ=None) -> SecondReading:
    """Ask the model to read again the tables of `result`'s cell terms. `table_lines`: table
    id → the first line (1-based) of that table in the document, to pick the section."""
    keys = [t.key for t in result.terms if t.kind == "cell"]
    tables = list(dict.fromkeys(k[0] for k in keys))
    layout, meta = prep.layout, prep.seg.meta
    secs = []
    for tid in tables:
        cands = [s for s in prep.seg.tables() if s.id == tid]
        sec = next((s for s in cands if s.first + 1 == table_lines.get(tid)), cands[0] if cands else None)
        if sec is not None:
            secs.append(sec)
    chunks = [c for sec in secs for c in table_chunks(layout, sec, settings.limits)]
    if not chunks:
        return SecondReading([_reading(result, k, None) for k in keys], Usage(), settings.model.model,
                             ["no printed table to read again"])

    async def ask():
        async with LLMClient(settings, environ, hint=check_hint(result)) as client:
            return await client.run(chunks, layout, meta), client.calls

    results, calls = run_sync(ask())
    read: dict[tuple[str, str, str], Cell] = {}
    warnings: list[str] = []
    for sec in secs:
        table, w = table_from_results(sec, [r for r in results if r.chunk.sections[0] is sec], layout, meta.unit)
        warnings.extend(w)
        warnings.extend(f"{r.chunk.name}: {r.error}" for r in results if r.error and r.chunk.sections[0] is sec)
        for row in table.rows:
            if row.suspect:
                continue
            for c in row.cells:
                read.setdefault((table.id, row.id, c.column), c)
    return SecondReading([_reading(result, k, read.get(k)) for k in keys],
                         sum_usage([c.usage(settings.model.prices) for c in calls]), settings.model.model, warnings)


def _reading(result: "Result", key, cell: Cell | None) -> Reading:
    term = next(t for t in result.terms if t.key == key)
    return Reading(key, term.value, cell, term.span)
