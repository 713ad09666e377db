"""Evaluate a document: every identity of the catalog on every table it applies to, the prose
against the tables, the tables every disclosure publishes; then name the likely wrong cells."""
from __future__ import annotations

from ..model import Document
from .coverage import coverage_results
from .diagnose import diagnose
from .engine import DocIndex, Identity, _bindings, _columns_present, _compile, _instance, load_catalog
from .model import CheckReport, Result
from .narrative import narrative_results


def evaluate(doc: Document, catalog: tuple[Identity, ...] | None = None) -> CheckReport:
    catalog = catalog or load_catalog()
    idx = DocIndex(doc)
    results: list[Result] = []
    for ident in catalog:
        for table in ident.tables:
            if not idx.has_table(table):
                continue
            headed = idx.headed[table]
            if not set(ident.requires) <= headed or set(ident.excludes) & headed:
                results.append(Result(identity=ident.id, title=ident.title, table=table,
                                      status="not_applicable",
                                      reason="the table is laid out after another template"))
                continue
            if not _columns_present(idx, ident, table):
                results.append(Result(identity=ident.id, title=ident.title, table=table,
                                      status="not_applicable",
                                      reason="the table does not print these columns"))
                continue
            compiled = _compile(idx, ident, table)
            for b in _bindings(idx, ident, table):
                results.append(_instance(idx, ident, table, b, compiled))
    results.extend(narrative_results(doc, idx))
    results.extend(coverage_results(doc))
    report = CheckReport(doc=doc.meta.source, results=results)
    diagnose(report)
    return report
