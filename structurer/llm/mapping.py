"""Grounded answers → the document model (the same `Table`/`Row`/`Cell`, narrative facts and
performance targets the rules backend produces).

Values are recomputed from the printed text found in the cited lines, or taken from the
grid cell cited (Decimal, × the table's unit factor, so 元); the printed text is taken from
the source exactly, and every span is computed from where the text was found (a cited
cell: the cell's span). Items grounding rejected are left out.
"""
from __future__ import annotations

from decimal import Decimal

from .. import vocab
from ..layout import Layout
from ..model import Cell, Indicator, NarrativeFact, PerformanceTarget, Row, Table
from ..normalize import compact
from ..segment import SectionLoc
from .chunking import Chunk
from .client import ChunkResult
from .grounding import Locator, Scope, parse_number
from .vocabulary import CODE_RE


def _factor(unit: str | None) -> Decimal:
    return Decimal(vocab.UNIT_FACTORS.get(unit or "元", 1))


def _scope(chunk: Chunk, layout: Layout, locator: Locator) -> Scope:
    return Scope(chunk, layout, strict=False, locator=locator)


def table_from_results(sec: SectionLoc, results: list[ChunkResult], layout: Layout,
                       doc_unit: str | None) -> tuple[Table, list[str]]:
    """The table of section `sec` from the answers to its chunks (parts in order)."""
    unit = sec.unit or doc_unit or "元"
    factor = _factor(unit)
    locator = Locator(layout)
    rows: dict[str, Row] = {}
    columns: dict[str, None] = {}
    warnings: list[str] = []
    suspects = 0
    for res in sorted(results, key=lambda r: r.chunk.part):
        if res.answer is None:
            continue
        scope = _scope(res.chunk, layout, locator)
        rejected = res.rejected
        for i, r in enumerate(res.answer.rows):
            if ("rows", i) in rejected:
                continue
            idxs, bad = scope.cited(r.lines)
            if bad or not idxs:
                continue
            cells: list[Cell] = []
            for j, c in enumerate(r.cells):
                if ("rows", i, "cells", j) in rejected:
                    continue
                if c.cell:  # the cell it cites (grounding checked that it prints the value)
                    err, ranges = scope.check_cell(c.cell, c.text, c.value, "")
                    num = c.value if err is None else None
                else:
                    cidx, bad = scope.cited(c.lines or r.lines)
                    num = parse_number(c.text)
                    ranges = locator.locate(c.text, cidx or [], numeric=True) if not bad else None
                if ranges is None or num is None:
                    continue
                count = c.col == "quantity"
                cells.append(Cell(column=c.col, value=num if count else num * factor,
                                  printed=locator.printed(ranges), unit="count" if count else unit,
                                  span=layout.span(ranges[0][0], ranges[-1][1])))
                columns[c.col] = None
            label = compact(r.label or "")
            span = layout.lines_span(min(idxs), max(idxs))
            if r.suspect:
                suspects += 1
                rid = f"suspect.{suspects}"
                rows[rid] = Row(id=rid, label=label, span=span, suspect=True, note=r.suspect, cells=cells)
                warnings.append(f"{sec.id}: line {span.line_start}: suspect row ({r.suspect})")
                continue
            if r.id in rows:  # a row cut by a part boundary: its other cells
                have = {c.column for c in rows[r.id].cells}
                rows[r.id].cells.extend(c for c in cells if c.column not in have)
                continue
            rows[r.id] = Row(id=r.id, label=label, code=r.id if CODE_RE.match(r.id) else None, span=span,
                             cells=cells)
    kept = [r for r in rows.values() if r.cells or r.suspect]
    table = Table(id=sec.id, title=sec.title, unit=unit, span=layout.lines_span(sec.first, sec.last),
                  columns=list(columns), rows=kept,
                  empty=bool(sec.empty_note) or not any(r.cells for r in kept if not r.suspect),
                  empty_note=sec.empty_note)
    return table, warnings


def narrative_from_results(results: list[ChunkResult], layout: Layout) -> list[NarrativeFact]:
    locator = Locator(layout)
    facts: list[NarrativeFact] = []
    used: dict[tuple[str, str], set[int]] = {}  # source starts already taken per (key, kind)
    for res in results:
        if res.answer is None:
            continue
        scope = _scope(res.chunk, layout, locator)
        for i, f in enumerate(res.answer.facts):
            if ("facts", i) in res.rejected:
                continue
            idxs, bad = scope.cited([f.line])
            num = parse_number(f.text)
            taken = used.setdefault((f.key, f.kind), set())
            # the same fact stated twice on a line is two facts; stated once, a repeat is dropped
            ranges = locator.locate(f.text, idxs or [], numeric=True, skip=taken) if not bad else None
            if ranges is None or num is None:
                continue
            value = num if f.unit == "%" else num * _factor(f.unit)
            if f.kind == "change" and f.sign == "-":
                value = -value
            taken.add(ranges[0][0])
            span = layout.span(ranges[0][0], ranges[-1][1])
            context = " ".join(layout.lines[i].norm.text.strip() for i in idxs)
            facts.append(NarrativeFact(key=f.key, kind=f.kind, value=value, printed=locator.printed(ranges),
                                       unit=f.unit, span=span, context=context))
    facts.sort(key=lambda x: (x.span.start, x.key))
    return facts


def performance_from_results(results: list[ChunkResult], layout: Layout) -> list[PerformanceTarget]:
    locator = Locator(layout)
    out: list[PerformanceTarget] = []
    for res in results:
        if res.answer is None:
            continue
        scope = _scope(res.chunk, layout, locator)
        for i, p in enumerate(res.answer.projects):
            if ("projects", i) in res.rejected:
                continue
            title_idx, _ = scope.cited([p.line])
            if not title_idx:
                continue
            amount = printed = unit = None
            if p.amount_text and ("projects", i, "amount") not in res.rejected:
                aidx, _ = scope.cited([p.amount_line or p.line])
                num = parse_number(p.amount_text)
                ranges = locator.locate(p.amount_text, aidx or [], numeric=True)
                if ranges and num is not None:
                    unit = p.amount_unit or "万元"
                    amount, printed = num * _factor(unit), locator.printed(ranges)
            inds: list[Indicator] = []
            last = max(title_idx)
            for j, ind in enumerate(p.indicators):
                if ("projects", i, "indicators", j) in res.rejected:
                    continue
                idxs, bad = scope.cited(ind.lines)
                if bad or not idxs:
                    continue
                last = max(last, max(idxs))
                inds.append(Indicator(level1=ind.l1.strip(), level2=ind.l2.strip(), level3=ind.l3.strip(),
                                      description=ind.description.strip(), value=ind.value.strip(),
                                      basis=ind.basis.strip(), span=layout.lines_span(min(idxs), max(idxs))))
            out.append(PerformanceTarget(project=p.name.strip(), amount=amount, amount_printed=printed,
                                         amount_unit=unit if amount is not None else None,
                                         span=layout.lines_span(min(title_idx), last), indicators=inds))
    out.sort(key=lambda t: t.span.start)
    return out
