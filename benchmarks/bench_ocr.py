"""Scanned budgets: every page of the real-PDF gold documents rasterized and read by OCR,
scored against the gold beside the text-layer path on the same documents.

    python3 benchmarks/bench_ocr.py [--docs GLOB] [--workers 2] [--dpi 200] [--cache benchmarks/.ocr-cache] [--json OUT]

Per gold document whose PDF is in the shared corpus ($STRUCTURER_CORPUS or ../shared/corpus;
skipped when absent):

- text layer: the PDF read as published (`--ocr never`), scored with the gold's key cells;
- OCR: every page rendered by PDFium at 200 dpi and recognised (`--ocr always`), laid out
  and extracted the same way, scored the same way; seconds of OCR per page;
- checks as the safety net: among the OCR'd documents whose extracted numbers differ from
  the gold (a key cell read with another value), those where a failing check names a wrong
  cell, or the wrong cell is flagged low-confidence.

Summary: key-cell accuracy (cells equal to the gold / gold cells) of both paths and their
ratio, flagged share, and OCR throughput on this machine: pages OCR'd per minute of wall
clock with --workers documents at a time (default 2, one per core), and seconds per page in
one worker. The recogniser's answers are cached under --cache by file hash, so a rerun only
lays out and scores again.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from structurer.checks.run import evaluate  # noqa: E402
from structurer.evaluation.cells import OK, WRONG, UNIT, UNREADABLE, score_document_cells  # noqa: E402
from structurer.evaluation.runner import corpus_root  # noqa: E402
from structurer.gold import load_gold_dir  # noqa: E402
from structurer.grid.render import render_pages  # noqa: E402
from structurer.ingest import SourceText, read_bytes  # noqa: E402
from structurer.ingest.ocr import DPI, glyphs_of, page_of, read_lines, render_rgb  # noqa: E402
from structurer.pipeline import Prepared, extract_prepared  # noqa: E402

MISREAD = (WRONG, UNIT, UNREADABLE)


def ocr_pages(data: bytes, name: str, cache: Path, dpi: int = DPI) -> tuple[list, float, int]:
    """Every page rendered at DPI and OCR'd: (pages, OCR seconds spent now, pages OCR'd now).
    The recogniser's text lines are cached by file content; the rest is computed each run."""
    key = hashlib.sha256(data).hexdigest()[:24]
    path = cache / f"{key}-{dpi}-lines.pickle"
    cached = pickle.loads(path.read_bytes()) if path.is_file() else None
    doc = pdfium.PdfDocument(data)
    pages, glyphs, spent = [], [], 0.0
    try:
        for i in range(len(doc)):
            rgb = render_rgb(doc, i, dpi)
            if cached is not None:
                found = cached[i]
            else:
                print(f"  {name}: OCR page {i + 1}/{len(doc)}", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                found = read_lines(rgb)
                spent += time.perf_counter() - t0
            glyphs.append(found)
            pages.append(page_of(rgb, i + 1, dpi, glyphs_of(found, dpi)))
            pages[-1].ocr = True
    finally:
        doc.close()
    if cached is None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(glyphs))
        tmp.replace(path)
    return pages, spent, 0 if cached is not None else len(pages)


def one(gold, pdf: Path, cache: Path, dpi: int = DPI) -> dict:
    data = pdf.read_bytes()
    text_doc = extract_prepared(Prepared(read_bytes(data, pdf.name, ocr="never")))
    text_res = score_document_cells(text_doc, gold)
    pages, spent, n_ocr = ocr_pages(data, pdf.name, cache, dpi)
    text, boxes = render_pages(pages)
    src = SourceText(pdf.name, "pdf", "pdf+ocr", hashlib.sha256(data).hexdigest(), text, tuple(boxes))
    ocr_doc = extract_prepared(Prepared(src))
    ocr_res = score_document_cells(ocr_doc, gold)
    misread = [o for o in ocr_res.outcomes if o.status in MISREAD]
    report = evaluate(ocr_doc)
    failing_keys = {t.key for r in report.findings() for t in r.terms} | {
        (r.diagnosis.table, r.diagnosis.row, r.diagnosis.column) for r in report.findings() if r.diagnosis}
    low = {(t.id, r.id, c.column) for t in ocr_doc.tables for r in t.rows for c in r.cells if c.low_confidence}
    flagged = [o for o in misread if o.key in failing_keys or o.key in low]
    n_gold = len(gold.cells)
    return {
        "doc": gold.doc, "pages": len(pages), "gold_cells": n_gold,
        "text_ok": sum(o.status == OK for o in text_res.outcomes),
        "ocr_ok": sum(o.status == OK for o in ocr_res.outcomes),
        "ocr_misread": len(misread), "misread_flagged": len(flagged),
        "doc_flagged": bool(flagged) or (bool(misread) and bool(report.findings())),
        "doc_flagged_by_cell": bool(flagged),
        "ocr_findings": len(report.findings()), "low_confidence_cells": len(low),
        "ocr_seconds": round(spent, 1), "ocr_pages_now": n_ocr,
        "examples": [(o.table, o.row, o.column, str(o.gold), str(o.got), o.printed) for o in misread[:5]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "evals" / "gold")
    ap.add_argument("--docs", default="*", help="only gold documents whose path matches this glob")
    ap.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".ocr-cache")
    ap.add_argument("--json", type=Path, help="write the per-document rows here")
    ap.add_argument("--workers", type=int, default=2, help="documents OCR'd at a time")
    ap.add_argument("--dpi", type=int, default=DPI, help="render resolution (lower: more misreads, to test "
                    "the checks as a safety net)")
    args = ap.parse_args()
    root = corpus_root(args.gold)
    golds = [g for g in load_gold_dir(args.gold) if g.corpus and fnmatch.fnmatch(g.doc, args.docs)]
    if root is None or not golds:
        print("no shared corpus or no matching real-PDF gold: nothing to measure")
        return 0
    todo = [(g, root / g.doc) for g in golds if (root / g.doc).is_file()]
    rows = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        results = pool.map(one, [g for g, _ in todo], [p for _, p in todo], [args.cache] * len(todo),
                           [args.dpi] * len(todo))
        for r in results:
            rows.append(r)
            print(f"{r['doc']}: pages {r['pages']}  text {r['text_ok']}/{r['gold_cells']}  "
                  f"ocr {r['ocr_ok']}/{r['gold_cells']}  misread {r['ocr_misread']} (flagged "
                  f"{r['misread_flagged']})  findings {r['ocr_findings']}  low-confidence cells "
                  f"{r['low_confidence_cells']}", flush=True)
            for ex in r["examples"]:
                print(f"    {ex}")
    n_gold = sum(r["gold_cells"] for r in rows)
    text_ok, ocr_ok = sum(r["text_ok"] for r in rows), sum(r["ocr_ok"] for r in rows)
    wrong_docs = [r for r in rows if r["ocr_misread"]]
    wall = time.perf_counter() - t0
    secs, pages = sum(r["ocr_seconds"] for r in rows), sum(r["ocr_pages_now"] for r in rows)
    print(f"\n{len(rows)} documents, {sum(r['pages'] for r in rows)} pages, {n_gold} gold key cells")
    print(f"key-cell accuracy: text layer {text_ok / n_gold:.4f}, OCR {ocr_ok / n_gold:.4f}, "
          f"ratio {ocr_ok / max(text_ok, 1):.4f}")
    if wrong_docs:
        print(f"documents with misread numbers: {len(wrong_docs)}; flagged by a failing check or low "
              f"confidence: {sum(r['doc_flagged'] for r in wrong_docs)} "
              f"({sum(r['doc_flagged'] for r in wrong_docs) / len(wrong_docs):.0%}); naming a misread cell: "
              f"{sum(r['doc_flagged_by_cell'] for r in wrong_docs)}")
    if pages:
        print(f"OCR throughput: {pages / wall * 60:.1f} pages/minute of wall clock with {args.workers} "
              f"worker(s) ({secs / pages:.1f} s/page in one worker, {args.dpi} dpi, layout and scoring included)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
