"""Time the identity checks alone (extraction excluded) on each seed and on a document of
100+ pages: the largest seed with its coded tables repeated k times under new class codes
(totals scaled so the identities still hold).

    python3 benchmarks/bench_checks.py [--repeat N] [--scale K]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from structurer.checks.run import evaluate
from structurer.model import Document
from structurer.pipeline import extract_file

ROOT = Path(__file__).resolve().parent.parent
_CODE = re.compile(r"^\d{3}(\d{2}){0,2}$")
_FUNCTIONAL = {"revenue", "expenditure", "general_budget_expenditure", "gov_fund_expenditure",
               "state_capital_expenditure", "general_budget_basic_expenditure"}
_SUMMARY = {"revenue_expenditure_summary", "fiscal_grant_summary"}


def scaled(doc: Document, k: int) -> Document:
    d = doc.model_copy(deep=True)
    for t in d.tables:
        if t.id not in _FUNCTIONAL | _SUMMARY:
            continue
        extra = []
        for r in t.rows:
            if _CODE.match(r.id) and not r.suspect:
                for j in range(1, k):
                    c = r.model_copy(deep=True)
                    c.id = str(int(r.id[0]) + 3 * j) + r.id[1:]  # an unused class range
                    extra.append(c)
            elif not _CODE.match(r.id):
                for cell in r.cells:  # totals and summary rows grow with the repeated classes
                    if cell.value is not None:
                        cell.value *= k
        t.rows.extend(extra)
    for f in d.narrative:
        if f.kind == "amount":
            f.value *= k
    return d


def timed(doc: Document, repeat: int) -> tuple[float, dict]:
    report = evaluate(doc)
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        evaluate(doc)
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts), report.counts()


def cells(doc: Document) -> int:
    return sum(len(r.cells) for t in doc.tables for r in t.rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--scale", type=int, default=3)
    args = ap.parse_args()
    docs = {f.name: extract_file(f) for f in sorted((ROOT / "examples").glob("*.txt"))}
    print(f"{'document':34} {'lines':>6} {'cells':>6} {'checks ms':>10}")
    for name, doc in docs.items():
        ms, _ = timed(doc, args.repeat)
        lines = doc.sections[-1].span.line_end if doc.sections else 0
        print(f"{name:34} {lines:6} {cells(doc):6} {ms:10.1f}")
    big_name = max(docs, key=lambda n: cells(docs[n]))
    big = scaled(docs[big_name], args.scale)
    lines = big.sections[-1].span.line_end * args.scale
    ms, counts = timed(big, args.repeat)
    print(f"{big_name[:3]} ×{args.scale} (~{lines // 55} pages){'':11} {lines:6} {cells(big):6} {ms:10.1f}   {counts}")


if __name__ == "__main__":
    main()
