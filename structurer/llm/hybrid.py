"""The `hybrid` backend: rules first, the model only where the rules fall short.

A table section goes to the model when the rules could not parse it (it prints values but
the rules found no cell, or an unreadable cell, or a suspect row) or when an error-level
check involving it fails. A performance block goes to the model when the rules found no
target in it. Narrative facts stay with the rules: a failing narrative check means prose
and table disagree in print, which reading the same print again cannot change.

The model's answer is grounded like in the `llm` backend. For each table, candidate
tables are built from the rules table and the grounded values (model values replacing
the rules' where they differ; model values only filling gaps; the model's table alone),
and the whole document is re-checked with each: a candidate is taken only when it has
fewer failing checks, or as many and more passing ones, than the document without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..checks.run import evaluate
from ..model import Document, Table, Usage
from ..rules import extract_rules
from ..segment import SectionLoc
from .accounting import RunLedger
from .asking import ask, finish
from .chunking import Chunk, grouped_chunks, table_chunks
from .config import Settings
from .mapping import performance_from_results, table_from_results

if TYPE_CHECKING:
    from ..pipeline import Prepared


def check_score(doc: Document) -> tuple[int, int]:
    """(error-level failing checks, passing checks) of a document."""
    rep = evaluate(doc)
    fails = sum(1 for r in rep.results if r.status == "fail" and r.severity == "error")
    passes = sum(1 for r in rep.results if r.status == "pass")
    return fails, passes


def improves(new: tuple[int, int], old: tuple[int, int]) -> bool:
    return new[0] < old[0] or (new[0] == old[0] and new[1] > old[1])


def failing_tables(doc: Document) -> set[str]:
    """Tables named by an error-level failing check (its own table or any term's)."""
    out: set[str] = set()
    for r in evaluate(doc).results:
        if r.status == "fail" and r.severity == "error":
            out.add(r.table)
            out.update(t.table for t in r.terms if t.kind == "cell")
    return out


def unparsed(table: Table | None) -> str | None:
    """Why the rules' table needs help, or None."""
    if table is None:
        return "no table"
    cells = [c for r in table.rows if not r.suspect for c in r.cells]
    if not cells:
        return "no value parsed"
    if any(c.status == "unreadable" for c in cells):
        return "unreadable values"
    if any(r.suspect for r in table.rows):
        return "suspect rows"
    return None


def merge(rules: Table, llm: Table, llm_wins: bool) -> Table:
    rows = {r.id: r.model_copy(deep=True) for r in rules.rows}
    order = list(rows)
    for lr in llm.rows:
        if lr.suspect:
            continue
        if lr.id not in rows:
            rows[lr.id] = lr.model_copy(deep=True)
            order.append(lr.id)
            continue
        row = rows[lr.id]
        have = {c.column: k for k, c in enumerate(row.cells)}
        for c in lr.cells:
            if c.column not in have:
                row.cells.append(c)
            elif llm_wins and row.cells[have[c.column]].value != c.value:
                row.cells[have[c.column]] = c
    cols = list(dict.fromkeys([*rules.columns, *llm.columns]))
    return rules.model_copy(update={"rows": [rows[k] for k in order], "columns": cols,
                                    "empty": rules.empty and llm.empty})


def _with_table(doc: Document, table: Table) -> Document:
    tables = [table if t.id == table.id and t.span == table.span else t for t in doc.tables]
    return doc.model_copy(update={"tables": tables})


@dataclass
class HybridPlan:
    doc: Document  # the rules' document
    chunks: list[Chunk]  # what the model is asked
    wanted: list[tuple[SectionLoc, str]]  # table sections sent to the model, and why


def hybrid_plan(prep: "Prepared", settings: Settings) -> HybridPlan:
    """The rules' document and the chunks the model is asked to help with."""
    seg, layout = prep.seg, prep.layout
    doc = extract_rules(prep)
    doc.backend = "hybrid"
    failing = failing_tables(doc)
    by_span = {(t.id, t.span.line_start): t for t in doc.tables}

    chunks: list[Chunk] = []
    wanted: list[tuple[SectionLoc, str]] = []
    for sec in seg.tables():
        rules_table = by_span.get((sec.id, sec.first + 1))
        cs = table_chunks(layout, sec, settings.limits)
        if not cs:
            continue  # nothing printed that a model could read
        why = unparsed(rules_table) or ("failing checks" if sec.id in failing else None)
        if why:
            chunks.extend(cs)
            wanted.append((sec, why))
    perf_secs = []
    for sec in (s for s in seg.sections if s.kind == "performance"):
        if not any(sec.first + 1 <= t.span.line_start <= sec.last + 1 for t in doc.performance):
            perf_secs.append(sec)
    chunks.extend(grouped_chunks(layout, perf_secs, "performance", settings.limits, None))
    return HybridPlan(doc, chunks, wanted)


async def hybrid_document(prep: "Prepared", settings: Settings, ledger: RunLedger | None, environ) -> Document:
    seg, layout = prep.seg, prep.layout
    plan = hybrid_plan(prep, settings)
    doc, chunks, wanted = plan.doc, plan.chunks, plan.wanted
    by_span = {(t.id, t.span.line_start): t for t in doc.tables}
    if not chunks:
        doc.model = settings.model.model
        doc.usage = Usage()
        return doc

    results, client, wall = await ask(prep, settings, chunks, environ)
    notes: list[str] = []
    score = check_score(doc)
    for sec, why in wanted:
        mine = [r for r in results if r.chunk.kind == "table" and r.chunk.sections[0] is sec]
        llm_table, _ = table_from_results(sec, mine, layout, seg.meta.unit)
        rules_table = by_span.get((sec.id, sec.first + 1))
        if not any(r.cells for r in llm_table.rows if not r.suspect):
            notes.append(f"{sec.id}: rules: {why}; the model returned no grounded value")
            continue
        cands = [("model values", llm_table)]
        if rules_table is not None:
            cands = [("rules + model values", merge(rules_table, llm_table, llm_wins=True)),
                     ("rules, gaps filled by the model", merge(rules_table, llm_table, llm_wins=False)),
                     ("model values", llm_table.model_copy(update={"rows": llm_table.rows + [
                         r for r in rules_table.rows if r.suspect]}))]
        best = None
        for name, cand in cands:
            cdoc = _with_table(doc, cand) if rules_table is not None else doc.model_copy(
                update={"tables": doc.tables + [cand]})
            s = check_score(cdoc)
            if improves(s, score) and (best is None or improves(s, best[1])):
                best = (name, s, cdoc)
        if best is None:
            notes.append(f"{sec.id}: rules: {why}; the model's values were not taken "
                         f"(checks would not improve: {score[0]} failing, {score[1]} passing)")
            continue
        name, new_score, doc = best
        notes.append(f"{sec.id}: rules: {why}; took {name} (checks: failing {score[0]}→{new_score[0]}, "
                     f"passing {score[1]}→{new_score[1]})")
        score = new_score
    perf = performance_from_results([r for r in results if r.chunk.kind == "performance"], layout)
    if perf:
        doc.performance = sorted(doc.performance + perf, key=lambda t: t.span.start)
        notes.append(f"performance: {len(perf)} block(s) the rules could not read taken from the model")
    doc.warnings.extend(f"hybrid: {n}" for n in notes)
    return finish(doc, prep, settings, client, results, ledger, wall)
