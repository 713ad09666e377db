"""PDF reading + layout speed on the real corpus, against the pdfplumber reference path.

    python3 benchmarks/bench_pdf.py [--limit N] [--skip-plumber] [--json OUT]

Corpus: $STRUCTURER_CORPUS or ../shared/corpus (pdf/*/*.pdf); skipped when absent.
Per file, CPU time (time.process_time) over the page count (pypdfium2):

1. reading + layout: structurer.ingest.pdf.read_pdf_pages + structurer.grid.render.render_pages;
2. pdfplumber reference: per page dedupe_chars, find_tables, each table's extract,
   extract_text_lines;
3. full extraction: structurer.pipeline.extract_file (rules backend), CPU s per page.

Files the project refuses (IngestError: scanned, encrypted, corrupt) are counted, not timed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pypdfium2 as pdfium

from structurer.grid.render import render_pages
from structurer.ingest import IngestError
from structurer.ingest.pdf import read_pdf_pages
from structurer.pipeline import extract_file

ROOT = Path(__file__).resolve().parent.parent


def corpus_files() -> list[Path] | None:
    root = Path(os.environ.get("STRUCTURER_CORPUS") or ROOT.parent / "shared" / "corpus")
    if (root / "pdf").is_dir():
        root = root / "pdf"
    files = sorted(root.glob("*/*.pdf"))
    return files or None


def cpu(fn, *args) -> tuple[float, object]:
    """(CPU seconds, result) of fn(*args)."""
    t = time.process_time()
    out = fn(*args)
    return time.process_time() - t, out


def read_and_layout(data: bytes, name: str):
    return render_pages(read_pdf_pages(data, name))


def plumber(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            p = page.dedupe_chars()
            for table in p.find_tables():
                table.extract()
            p.extract_text_lines()
            page.close()  # drop the page's cached objects


def page_count(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"


def measure(path: Path, skip_plumber: bool) -> dict:
    rec: dict = {"file": str(Path(path.parent.name) / path.name), "pages": None}
    try:
        data = path.read_bytes()
        rec["pages"] = page_count(data)
        rec["layout_s"], _ = cpu(read_and_layout, data, path.name)
    except IngestError as e:
        rec["refused"] = " ".join(str(e).split())
        return rec
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the run
        rec["error"] = one_line(e)
        return rec
    if not skip_plumber:
        try:
            rec["plumber_s"], _ = cpu(plumber, data)
        except Exception as e:  # noqa: BLE001
            rec["plumber_error"] = one_line(e)
    try:
        rec["extract_s"], _ = cpu(extract_file, path)
    except Exception as e:  # noqa: BLE001
        rec["extract_error"] = one_line(e)
    return rec


def stats(recs: list[dict], key: str, scale: float) -> dict | None:
    """Median / mean over documents of CPU per page, and total CPU / total pages."""
    rs = [r for r in recs if key in r and r["pages"]]
    if not rs:
        return None
    per = [r[key] / r["pages"] * scale for r in rs]
    pages = sum(r["pages"] for r in rs)
    return {"files": len(rs), "pages": pages, "median": statistics.median(per),
            "mean": statistics.fmean(per), "total": sum(r[key] for r in rs) / pages * scale}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, help="only the first N files (sorted)")
    ap.add_argument("--skip-plumber", action="store_true", help="skip the pdfplumber reference")
    ap.add_argument("--json", type=Path, help="save per-file results and the summary")
    args = ap.parse_args()
    files = corpus_files()
    if not files:
        print("bench_pdf: no PDF corpus (set STRUCTURER_CORPUS or put it at ../shared/corpus); skipped")
        return 0
    files = files[: args.limit] if args.limit else files
    # Warm imports and lazy caches outside the timings.
    try:
        extract_file(files[0])
    except Exception:  # noqa: BLE001
        pass
    if not args.skip_plumber:
        import pdfplumber  # noqa: F401

    recs = []
    print(f"{'file':60} {'pages':>5} {'layout ms/p':>11} {'plumber ms/p':>12} {'extract s/p':>11}", flush=True)
    for path in files:
        r = measure(path, args.skip_plumber)
        recs.append(r)
        if "refused" in r or "error" in r:
            print(f"{r['file'][:60]:60} {r['pages'] or '?':>5}  {'refused' if 'refused' in r else 'ERROR'}: "
                  f"{r.get('refused') or r.get('error')}", flush=True)
            continue
        n = r["pages"] or 1
        cells = [f"{r['layout_s'] / n * 1000:11.1f}",
                 f"{r['plumber_s'] / n * 1000:12.1f}" if "plumber_s" in r else f"{'-':>12}",
                 f"{r['extract_s'] / n:11.3f}" if "extract_s" in r else f"{'-':>11}"]
        print(f"{r['file'][:60]:60} {n:5} {' '.join(cells)}", flush=True)
        for k in ("plumber_error", "extract_error"):
            if k in r:
                print(f"  {k}: {r[k]}", flush=True)

    layout, plumb = stats(recs, "layout_s", 1000), stats(recs, "plumber_s", 1000)
    full = stats(recs, "extract_s", 1)
    both = [r for r in recs if "layout_s" in r and "plumber_s" in r and r["pages"]]
    summary = {"files": len(recs), "pages": sum(r["pages"] or 0 for r in recs),
               "refused": sum("refused" in r for r in recs),
               "refused_pages": sum(r["pages"] or 0 for r in recs if "refused" in r),
               "errors": sum("error" in r for r in recs),
               "layout_ms_per_page": layout, "plumber_ms_per_page": plumb, "extract_s_per_page": full}
    if layout and plumb and both:
        summary["speedup_median"] = plumb["median"] / layout["median"]
        summary["speedup_total"] = sum(r["plumber_s"] for r in both) / sum(r["layout_s"] for r in both)

    print()
    print(f"files {summary['files']}, pages {summary['pages']}; refused {summary['refused']} files "
          f"({summary['refused_pages']} pages), errors {summary['errors']}")
    print(f"{'path':28} {'files':>5} {'pages':>6} {'median':>8} {'mean':>8} {'total':>8}")
    for label, s in (("reading + layout (ms/page)", layout), ("pdfplumber ref. (ms/page)", plumb),
                     ("full extraction (s/page)", full)):
        if s:
            f = "8.3f" if s is full else "8.1f"
            print(f"{label:28} {s['files']:5} {s['pages']:6} {s['median']:{f}} {s['mean']:{f}} {s['total']:{f}}")
    if "speedup_median" in summary:
        print(f"speed-up pdfplumber / reading + layout: {summary['speedup_median']:.1f}x (medians), "
              f"{summary['speedup_total']:.1f}x (totals, {len(both)} files)")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "files": recs}, ensure_ascii=False, indent=1))
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
