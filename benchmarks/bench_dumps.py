"""Space-aligned text dumps of real PDFs: every real-PDF gold document dumped with
`pdftotext -layout` and read as a text file, scored against the same gold as its PDF.

    python3 benchmarks/bench_dumps.py [--docs GLOB] [--json OUT]

Needs poppler's `pdftotext` and the shared corpus ($STRUCTURER_CORPUS or ../shared/corpus);
says so and exits 0 when either is absent. Per document: key cells read right (equal to the
gold) over the gold's key cells, wrong values, and the same for the PDF itself; then totals.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from structurer.evaluation.cells import OK, WRONG, score_document_cells  # noqa: E402
from structurer.evaluation.runner import corpus_root  # noqa: E402
from structurer.gold import load_gold  # noqa: E402
from structurer.ingest import read_bytes  # noqa: E402
from structurer.pipeline import Prepared, extract_prepared  # noqa: E402


def score(data: bytes, name: str, gold) -> tuple[int, int]:
    doc = extract_prepared(Prepared(read_bytes(data, name)))
    res = score_document_cells(doc, gold)
    return sum(o.status == OK for o in res.outcomes), sum(o.status == WRONG for o in res.outcomes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", default="*", help="only gold documents whose path matches this glob")
    ap.add_argument("--json", type=Path, help="write the per-document results here")
    a = ap.parse_args()
    corpus = corpus_root(ROOT / "evals" / "gold")
    if shutil.which("pdftotext") is None or corpus is None:
        print("skipped: needs pdftotext (poppler-utils) and the shared corpus")
        return 0
    rows = []
    for path in sorted((ROOT / "evals" / "gold").glob("*.yaml")):
        gold = load_gold(path)
        if not gold.corpus or not fnmatch.fnmatch(gold.doc, a.docs):
            continue
        pdf = corpus / gold.doc
        dump = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
        ok, wrong = score(dump, pdf.stem + ".txt", gold)
        pdf_ok, pdf_wrong = score(pdf.read_bytes(), pdf.name, gold)
        n = len(gold.cells)
        rows.append({"doc": gold.doc, "gold_cells": n, "dump_ok": ok, "dump_wrong": wrong,
                     "pdf_ok": pdf_ok, "pdf_wrong": pdf_wrong})
        print(f"{gold.doc}: dump {ok}/{n} ({ok / n:.3f}, {wrong} wrong)  pdf {pdf_ok}/{n}", flush=True)
    if not rows:
        print("no corpus gold document matched")
        return 0
    n = sum(r["gold_cells"] for r in rows)
    ok = sum(r["dump_ok"] for r in rows)
    wrong = sum(r["dump_wrong"] for r in rows)
    pdf_ok = sum(r["pdf_ok"] for r in rows)
    print(f"\n{len(rows)} documents, {n} gold key cells")
    print(f"key cells right: pdftotext -layout dump {ok}/{n} = {ok / n:.3f} ({wrong} wrong value{'' if wrong == 1 else 's'}); "
          f"the PDF itself {pdf_ok}/{n} = {pdf_ok / n:.3f}")
    if a.json:
        a.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
