"""The real corpus as a user meets it: accepted or refused, tables found, identities, checks.

    python3 benchmarks/bench_corpus.py [--limit N] [--workers 2] [--json OUT] [--fails OUT]

Corpus: $STRUCTURER_CORPUS or ../shared/corpus (pdf/*/*.pdf); skipped when absent.
Per document (rules backend, the same acceptance as `structurer extract`):

- accepted, or refused with the one-line reason;
- tables the document announces (a catalog title printed as a short line of its own, the
  contents page included) against those located with a usable row (a row not flagged
  suspect, or the table stated empty);
- central identities: 收入总计 = 支出总计 (summary.totals_agree, else the fiscal-grant
  summary's) and 一般公共预算支出表 合计 = 财政拨款收支总表 一般公共预算 (its 本年支出合计);
- check outcome counts, and every failing check (identity, table, binding, delta) for review;
- CPU seconds per page.
A summary follows: the share of documents with every announced core table usable, both
identities passing among those that print both sides, no failing check, and the median
CPU-s/page.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

from bench_pdf import corpus_files  # a sibling script: one way to find the corpus
from structurer.vocab import CORE_TABLES as CORE



def announced(lines: list[str]) -> set[str]:
    """Catalog tables whose title the document prints as a line of its own."""
    from structurer import vocab

    out: set[str] = set()
    for raw in lines:
        s = re.sub(r"\s+", "", raw)
        s = re.sub(r"[·・.…]{2,}\d*$|\d+$", "", s)  # a contents line's leader dots and page
        if not s or len(s) > 45 or "表" not in s or re.search(r"[。；，]", s):
            continue
        s = re.sub(r"[(（][^()（）]{2,14}[)）]$", "", s)
        for kind in vocab.TABLE_KINDS:
            if any(re.search(p, s) for p in kind.patterns):
                out.add(kind.id)
                break
    return out


def _value(doc, table: str, row: str, cols: tuple[str, ...]) -> Decimal | None:
    t = next((t for t in doc.tables if t.id == table), None)
    r = next((r for r in t.rows if r.id == row), None) if t else None
    for c in cols:
        cell = r.cell(c) if r else None
        if cell is not None and cell.value is not None:
            return cell.value
    return None


def _identity(a: Decimal | None, b: Decimal | None, unit_tol: Decimal) -> str:
    if a is None or b is None:
        return "could_not_run"
    return "pass" if abs(a - b) <= unit_tol else "fail"


def one(path: str) -> dict:
    from structurer.checks.run import evaluate
    from structurer.cli import UserError, _prepare
    from structurer.pipeline import extract_prepared

    t0 = time.process_time()
    res: dict = {"pdf": path}
    try:
        prep = _prepare(Path(path))
        doc = extract_prepared(prep)
        report = evaluate(doc)
    except UserError as exc:
        res.update(accepted=False, reason=str(exc), cpu_s=round(time.process_time() - t0, 3))
        return res
    except Exception as exc:  # reported, never fatal for the run
        res.update(accepted=False, reason=f"internal error: {type(exc).__name__}: {exc}",
                   traceback=True, cpu_s=round(time.process_time() - t0, 3))
        return res
    pages = max(1, prep.source.text.count("\n\n") + 1) if prep.source.format != "pdf" else \
        max((b.page for b in prep.source.boxes), default=1)
    usable = {t.id for t in doc.tables if t.empty or any(not r.suspect for r in t.rows)}
    ann = announced(prep.source.lines)
    tol = Decimal(100)  # 元: a 万元 table's 尾差
    a = _identity(_value(doc, "revenue_expenditure_summary", "revenue.grand_total", ("amount", "total")),
                  _value(doc, "revenue_expenditure_summary", "expenditure.grand_total", ("amount", "total")), tol)
    if a == "could_not_run":
        a = _identity(_value(doc, "fiscal_grant_summary", "revenue.grand_total", ("amount", "total")),
                      _value(doc, "fiscal_grant_summary", "expenditure.grand_total", ("amount", "total")), tol)
    # the fiscal-grant summary's general-budget spending: its own column, or (a one-column
    # summary) the general-budget revenue plus the general-budget carryover it lists
    gb = _value(doc, "fiscal_grant_summary", "expenditure.current_year_total", ("general_budget",))
    if gb is None:
        rev = _value(doc, "fiscal_grant_summary", "revenue.general_budget", ("amount", "general_budget"))
        carry = (_value(doc, "fiscal_grant_summary", "revenue.prior_year_carryover.general_budget", ("amount",))
                 or _value(doc, "fiscal_grant_summary", "revenue.prior_year_carryover", ("amount",))
                 or Decimal(0))
        gb = rev + carry if rev is not None else None
    b = _identity(_value(doc, "general_budget_expenditure", "total", ("total",)), gb, tol)
    fails = [{"identity": r.identity, "table": r.table, "binding": r.binding, "severity": r.severity,
              "delta": str(r.delta) if r.delta is not None else None, "reason": r.reason}
             for r in report.results if r.status == "fail"]
    res.update(accepted=True, pages=pages, agency=doc.meta.agency, kind=doc.meta.kind,
               announced=sorted(ann), usable=sorted(usable & set(CORE)),
               core_missing=sorted((ann & set(CORE)) - usable), totals_agree=a, general_budget_agrees=b,
               checks=report.counts(), fails=fails, cpu_s=round(time.process_time() - t0, 3))
    res["cpu_per_page"] = round(res["cpu_s"] / pages, 4)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write every document's record here")
    ap.add_argument("--fails", type=Path, help="write every failing check here (JSON lines)")
    a = ap.parse_args(argv)
    files = corpus_files()
    if not files:
        print("corpus absent ($STRUCTURER_CORPUS or ../shared/corpus): nothing to measure")
        return 0
    files = files[: a.limit] if a.limit else files
    with ProcessPoolExecutor(a.workers) as ex:
        recs = list(ex.map(one, map(str, files)))
    acc = [r for r in recs if r["accepted"]]
    for r in recs:
        name = "/".join(Path(r["pdf"]).parts[-2:])
        if not r["accepted"]:
            print(f"REFUSED  {name}: {r['reason']}")
            continue
        miss = ",".join(r["core_missing"]) or "-"
        print(f"accepted {name}: {r['pages']}p core-missing={miss} totals={r['totals_agree']} "
              f"gb={r['general_budget_agrees']} fails={len(r['fails'])} {r['cpu_per_page']:.3f}s/p")
    with_core = [r for r in acc if set(r["announced"]) & set(CORE)]
    core_ok = sum(1 for r in with_core if not r["core_missing"])
    both = [r for r in acc if r["totals_agree"] != "could_not_run" and r["general_budget_agrees"] != "could_not_run"]
    ident_ok = sum(1 for r in both if r["totals_agree"] == "pass" and r["general_budget_agrees"] == "pass")
    clean = sum(1 for r in acc if not r["fails"])
    tb = sum(1 for r in recs if r.get("traceback"))
    by_identity: dict[str, int] = {}
    for r in acc:
        for f in r["fails"]:
            by_identity[f["identity"]] = by_identity.get(f["identity"], 0) + 1
    print()
    print(f"documents {len(recs)}: accepted {len(acc)}, refused {len(recs) - len(acc)}, tracebacks {tb}")
    print(f"every announced core table usable: {core_ok}/{len(with_core)} "
          f"({core_ok / max(1, len(with_core)):.2f})")
    print(f"both central identities pass: {ident_ok}/{len(both)} ({ident_ok / max(1, len(both)):.2f})")
    print(f"no failing check: {clean}/{len(acc)} ({clean / max(1, len(acc)):.2f})")
    print("failing checks by identity: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(by_identity.items(), key=lambda kv: -kv[1])))
    if acc:
        print(f"CPU-s/page median {statistics.median(r['cpu_per_page'] for r in acc):.4f}")
    if a.json:
        a.json.write_text(json.dumps(recs, ensure_ascii=False, indent=1), encoding="utf-8")
    if a.fails:
        with a.fails.open("w", encoding="utf-8") as fh:
            for r in acc:
                for f in r["fails"]:
                    fh.write(json.dumps({"pdf": r["pdf"], **f}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
