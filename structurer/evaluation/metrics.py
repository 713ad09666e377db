"""Scores of one extracted document against its gold, as plain JSON-able data.

Every aspect is scored by one function and reported as counts (tp/fp/fn) plus the items
behind them, so a stored run can be rendered, gated and diffed without re-running:

- cells: evaluation.cells (per document, per table kind; every outcome kept);
- metadata: agency (normalized names), agency code, year, kind, unit, scope;
- narrative facts: evaluation/narrative.py (multiset of key, kind, exact value);
- performance targets: evaluation/performance.py (projects by normalized name, then
  indicators as normalized [一级, 二级, 三级, 指标值]);
- checks: the failing check instances on the extracted document vs those on the gold
  document (the document's own genuine inconsistencies): a finding the gold does not have
  is spurious (usually an extraction error), one it lacks is missed.
"""
from __future__ import annotations

from decimal import Decimal

from ..checks.model import CheckReport, Result
from ..checks.run import evaluate
from ..gold import Gold
from ..model import Document, Span
from .cells import OK, CellResult, Counts, score_document_cells
from .narrative import score_narrative
from .performance import norm_name, score_performance

META_FIELDS = ("agency", "agency_code", "year", "kind", "unit", "scope")


def dec(v: Decimal | None) -> str | None:
    return None if v is None else format(v, "f")


def lines(span: Span | None) -> list[int] | None:
    return None if span is None else [span.line_start, span.line_end]


# ------------------------------------------------------------------ cells

def cells_to_dict(res: CellResult) -> dict:
    return {
        "counts": res.counts.to_dict(),
        "tables": {t: c.to_dict() for t, c in sorted(res.by_table().items())},
        # [table, row, column, status, gold, got, printed, gold_printed, [line_start, line_end], span_of]
        "outcomes": [[o.table, o.row, o.column, o.status, dec(o.gold), dec(o.got), o.printed,
                      o.gold_printed, lines(o.span), o.span_of] for o in res.outcomes],
    }


OUTCOME_FIELDS = ("table", "row", "column", "status", "gold", "got", "printed", "gold_printed",
                  "lines", "span_of")


def outcome_dict(row: list) -> dict:
    return dict(zip(OUTCOME_FIELDS, row))


# ------------------------------------------------------------------ metadata

def _meta_value(field: str, v):
    if v is None or v == "":
        return None
    if field == "agency":
        return norm_name(str(v))
    if field == "year":
        try:
            return int(v)
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def score_meta(doc: Document, gold: Gold) -> dict:
    """Each field: equal after normalization (agency names: simplified, half-width, no
    punctuation). A field gold leaves null must be null in the extraction too."""
    fields = {}
    for f in META_FIELDS:
        want, got = gold.meta.get(f), getattr(doc.meta, f, None)
        fields[f] = {"gold": None if want is None else str(want), "got": None if got is None else str(got),
                     "ok": _meta_value(f, want) == _meta_value(f, got)}
    return {"correct": sum(v["ok"] for v in fields.values()), "total": len(fields), "fields": fields}


# ------------------------------------------------------------------ narrative, performance

def narrative_to_dict(doc: Document, gold: Gold) -> dict:
    if "narrative" in gold.unlabelled:
        return {"labelled": False, "counts": Counts().to_dict(), "missing": [], "extra": []}
    s = score_narrative(doc, gold)
    return {
        "labelled": True,
        "counts": Counts(s.tp, s.fp, s.fn).to_dict(),
        "missing": [{"key": g.key, "kind": g.kind, "value": dec(g.value), "printed": g.printed,
                     "unit": g.unit, "line": g.line} for g in s.missing],
        "extra": [{"key": f.key, "kind": f.kind, "value": dec(f.value), "printed": f.printed,
                   "unit": f.unit, "line": f.span.line_start} for f in s.extra],
    }


def performance_to_dict(doc: Document, gold: Gold) -> dict:
    if "performance" in gold.unlabelled:
        return {"labelled": False, "counts": Counts().to_dict(), "projects": Counts().to_dict(),
                "amounts": {"ok": 0, "wrong": 0, "missing": 0, "extra": 0},
                "missing_projects": [], "extra_projects": [], "missing": [], "extra": []}
    s = score_performance(doc, gold)
    return {
        "labelled": True,
        "counts": Counts(s.tp, s.fp, s.fn).to_dict(),
        "projects": Counts(s.project_tp, s.project_fp, s.project_fn).to_dict(),
        "amounts": {"ok": s.amount_ok, "wrong": s.amount_wrong, "missing": s.amount_missing,
                    "extra": s.amount_extra},
        "missing_projects": list(s.missing_projects),
        "extra_projects": list(s.extra_projects),
        "missing": [[p, *k] for p, k in s.missing],
        "extra": [[p, *k] for p, k in s.extra],
    }


# ------------------------------------------------------------------ checks

def _finding(r: Result) -> dict:
    d = {"instance": r.instance, "title": r.title, "severity": r.severity, "reason": r.reason,
         "delta": dec(r.delta)}
    if r.diagnosis is not None:
        g = r.diagnosis
        d["suspect_cell"] = {"table": g.table, "row": g.row, "column": g.column,
                             "current": dec(g.current), "fix": dec(g.fix), "lines": lines(g.span)}
    return d


def score_checks(report: CheckReport, gold_report: CheckReport, unlabelled: frozenset[str] = frozenset()) -> dict:
    # findings about the document's arithmetic; which tables were located is scored by cells,
    # and checks of an aspect the gold does not label (narrative) cannot be reproduced on it
    skip = ("document.",) + tuple(f"{a}." for a in sorted(unlabelled))
    got = {r.instance: r for r in report.findings() if not r.identity.startswith(skip)}
    want = {r.instance: r for r in gold_report.findings() if not r.identity.startswith(skip)}
    tp = [i for i in want if i in got]
    return {
        "counts": Counts(len(tp), len(got) - len(tp), len(want) - len(tp)).to_dict(),
        "spurious": [_finding(r) for i, r in got.items() if i not in want],
        "missed": [_finding(r) for i, r in want.items() if i not in got],
    }


# ------------------------------------------------------------------ one document, a column

def score_document(doc: Document, gold: Gold, gold_report: CheckReport,
                   report: CheckReport | None = None) -> dict:
    return {
        "cells": cells_to_dict(score_document_cells(doc, gold)),
        "meta": score_meta(doc, gold),
        "narrative": narrative_to_dict(doc, gold),
        "performance": performance_to_dict(doc, gold),
        "checks": score_checks(report if report is not None else evaluate(doc), gold_report, gold.unlabelled),
    }


def summarize(docs: dict[str, dict]) -> dict:
    """Overall counts of a column from its per-document scores (micro-averaged)."""
    cells, narr, perf, proj, checks = Counts(), Counts(), Counts(), Counts(), Counts()
    tables: dict[str, Counts] = {}
    meta_ok = meta_n = 0
    for d in docs.values():
        cells.add(Counts.from_dict(d["cells"]["counts"]))
        for t, c in d["cells"]["tables"].items():
            tables.setdefault(t, Counts()).add(Counts.from_dict(c))
        narr.add(Counts.from_dict(d["narrative"]["counts"]))
        perf.add(Counts.from_dict(d["performance"]["counts"]))
        proj.add(Counts.from_dict(d["performance"]["projects"]))
        checks.add(Counts.from_dict(d["checks"]["counts"]))
        meta_ok += d["meta"]["correct"]
        meta_n += d["meta"]["total"]
    labelled = {a: sum(1 for d in docs.values() if d[a].get("labelled", True)) for a in ("narrative", "performance")}
    return {
        "cells": cells.to_dict(),
        "tables": {t: c.to_dict() for t, c in sorted(tables.items())},
        "meta": {"correct": meta_ok, "total": meta_n,
                 "accuracy": round(meta_ok / meta_n, 6) if meta_n else 1.0},
        "narrative": narr.to_dict(),
        "performance": perf.to_dict(),
        "performance_projects": proj.to_dict(),
        "labelled_documents": labelled,  # documents whose gold labels narrative / performance
        "checks": checks.to_dict(),
    }


def cell_errors(doc_score: dict) -> list[dict]:
    return [outcome_dict(o) for o in doc_score["cells"]["outcomes"] if o[3] != OK]
