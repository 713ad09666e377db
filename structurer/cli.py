"""The `structurer` command line.

Each command imports its stage inside its body, on purpose: `structurer --help` and every
command load only what they run (the LLM stack, Textual and DuckDB are slow to import).
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from . import __version__
from .console import HELP_MARKUP, err, fail, ocr_option, out
from .errors import InputRefused
from .pipeline import load_or_extract
from .output import cells_csv, cells_jsonl, document_json, iter_cells, write_atomic

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=HELP_MARKUP,
                  help="Structure Chinese budget and final-accounts disclosures (PDF, DOCX, text).")


# One input's problem, reported as one line (the library's InputRefused; NotADisclosure among
# them exits with status 2).
UserError = InputRefused



def _ocr_progress(path: Path):
    """Per-page progress of OCR on stderr (a scanned page takes seconds)."""
    def report(page: int, pages: int) -> None:
        err.print(f"{escape(path.name)}: OCR page {page}/{pages}", soft_wrap=True)
    return report


def _prepare(path: Path, ocr: str = "auto"):
    from .pipeline import open_source

    return open_source(path, ocr, _ocr_progress(path))


def _load(path: Path, ocr: str = "auto"):
    return load_or_extract(path, ocr=ocr, progress=_ocr_progress(path))


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command()
def inspect(
    file: Path = typer.Argument(..., help="a PDF, DOCX, text or image file"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ocr: str = ocr_option(),
) -> None:
    """Show the document's metadata and every located section."""
    try:
        doc = _load(file, ocr)
    except UserError as e:
        fail(file, str(e))
        raise typer.Exit(2)
    rows = {t.id: (len(t.rows), t.empty) for t in doc.tables}
    if as_json:
        data = {
            "meta": doc.meta.model_dump(),
            "sections": [
                {**s.model_dump(include={"id", "kind", "title", "unit", "empty"}),
                 "line_start": s.span.line_start, "line_end": s.span.line_end,
                 "rows": rows.get(s.id, (0, False))[0] if s.kind == "table" else None}
                for s in doc.sections],
        }
        import json
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
        return
    m = doc.meta
    meta = RichTable(title=f"{file.name}", show_header=False, box=None)
    for k, v in (("agency", m.agency), ("agency code", m.agency_code), ("year", m.year),
                 ("kind", m.kind), ("unit", m.unit), ("scope", m.scope),
                 ("format", f"{m.format} ({m.encoding})")):
        meta.add_row(f"[bold]{k}[/bold]", str(v) if v is not None else "—")
    out.print(meta)
    t = RichTable(title="sections")
    for col in ("id", "title as printed", "unit", "lines", "rows"):
        t.add_column(col, no_wrap=True, overflow="ellipsis", max_width=44 if col.startswith("title") else None)
    for s in doc.sections:
        if s.kind == "narrative":
            continue
        n, empty = rows.get(s.id, (None, False))
        rows_txt = "empty" if s.empty or empty and not n else ("" if n is None else str(n))
        t.add_row(s.id, s.title, s.unit or "", f"{s.span.line_start}–{s.span.line_end}", rows_txt)
    out.print(t)
    narr = [s for s in doc.sections if s.kind == "narrative"]
    out.print(f"{len(narr)} narrative sections, {len(doc.narrative)} narrative facts, "
              f"{len(doc.performance)} performance blocks")


@app.command()
def extract(
    files: list[Path] = typer.Argument(..., help="documents to structure"),
    out_dir: Path = typer.Option(Path("out"), "--out", help="folder for <stem>.json"),
    backend: str = typer.Option("rules", "--backend", help="rules | llm | hybrid (rules first, the model "
                                "where they fail)"),
    model: Optional[str] = typer.Option(None, "--model", help="llm/hybrid: a model named in structurer.toml, "
                                        "or a model id on OPENAI_BASE_URL"),
    no_cache: bool = typer.Option(False, "--no-cache", help="llm/hybrid: neither read nor write cache/"),
    cache_only: bool = typer.Option(False, "--cache-only", help="llm/hybrid: replay cache/ only; a miss "
                                    "is an error"),
    config: Optional[Path] = typer.Option(None, "--config", help="llm/hybrid: structurer.toml to use"),
    ocr: str = ocr_option(),
) -> None:
    """Structure documents into DIR/<stem>.json (one document model per input). Pages without a
    text layer and image files are read by OCR (see --ocr)."""
    from .pipeline import BACKENDS, extract_prepared

    if backend not in BACKENDS:
        fail("--backend", f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
        raise typer.Exit(2)
    llm_options: dict = {}
    ledger = None
    llm_errors: tuple[type[Exception], ...] = ()
    if backend == "rules":
        if model or no_cache or cache_only or config:
            fail("--backend", "--model, --no-cache, --cache-only and --config need --backend llm or hybrid")
            raise typer.Exit(2)
    else:
        from .llm.accounting import RunLedger
        from .llm.cache import CacheMiss
        from .llm.client import LLMError
        from .llm.config import ConfigError, load_settings

        try:
            settings = load_settings(model, config, no_cache=no_cache, cache_only=cache_only)
            settings.model.api_key()  # a missing key is reported once, before any document
        except ConfigError as e:
            fail("--model", str(e))
            raise typer.Exit(2)
        ledger = RunLedger(settings.model.model, settings.model.prices.currency)
        llm_options = {"settings": settings, "ledger": ledger}
        llm_errors = (LLMError, CacheMiss, ConfigError)
    failed = refused = 0
    for f in files:
        try:
            if f.suffix.lower() == ".json":
                raise UserError("already a document JSON")
            doc = extract_prepared(_prepare(f, ocr), backend, **llm_options)
        except (UserError, ValueError, *llm_errors) as e:
            fail(f, str(e).splitlines()[0] if str(e) else type(e).__name__)
            failed += 1
            refused += isinstance(e, InputRefused)  # the input, not the run, is at fault
            continue
        target = out_dir / f"{f.stem}.json"
        write_atomic(target, document_json(doc))
        n = sum(len(r.cells) for t in doc.tables for r in t.rows)
        warn = f", {len(doc.warnings)} warnings" if doc.warnings else ""
        err.print(f"{f.name} → {target} ({len(doc.tables)} tables, {n} cells{warn})")
    if ledger is not None and ledger.docs:
        ledger.render(err)
    if failed:  # 2: nothing usable was given; 1: some documents failed
        raise typer.Exit(2 if refused == failed == len(files) else 1)


@app.command()
def cells(
    files: list[Path] = typer.Argument(..., help="documents or document JSON files"),
    fmt: str = typer.Option("csv", "--format", help="csv or jsonl"),
    ocr: str = ocr_option(),
) -> None:
    """Print the tidy long-format cells: one line per (doc, table, row, column)."""
    if fmt not in ("csv", "jsonl"):
        fail("--format", "must be csv or jsonl")
        raise typer.Exit(2)
    failed = 0
    first = True
    for f in files:
        try:
            doc = _load(f, ocr)
        except UserError as e:
            fail(f, str(e))
            failed += 1
            continue
        rows = list(iter_cells(doc))
        sys.stdout.write(cells_csv(rows, header=first) if fmt == "csv" else cells_jsonl(rows))
        first = False
    if failed:
        raise typer.Exit(1)


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="documents or document JSON files"),
    fmt: str = typer.Option("text", "--format", help="text or json"),
    notes: bool = typer.Option(True, "--notes/--no-notes", help="list rounding notes"),
    ocr: str = ocr_option(),
) -> None:
    """Reconcile every number: exit 0 when no error-level finding, 1 with findings, 2 on bad input."""
    import json

    from .checks.run import evaluate
    from .checks.report import print_report
    from .pipeline import extract_prepared

    if fmt not in ("text", "json"):
        fail("--format", "must be text or json")
        raise typer.Exit(2)
    worst = 0
    for f in files:
        source = None
        try:
            if f.suffix.lower() == ".json":
                doc = _load(f, ocr)
            else:  # keep the source read once (an OCR'd page is not read twice) for the report
                prep = _prepare(f, ocr)
                doc, source = extract_prepared(prep), prep.source
        except UserError as e:
            fail(f, str(e))
            worst = 2
            continue
        report = evaluate(doc)
        if fmt == "json":
            sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
        else:
            print_report(report, source, out, show_notes=notes)
        if report.has_errors() and worst < 1:
            worst = 1
    raise typer.Exit(worst)


@app.command()
def selftest(
    files: list[Path] = typer.Argument(..., help="clean documents to corrupt"),
    mutations: int = typer.Option(200, "--mutations", help="mutations per document"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Corrupt single printed numbers, re-run extract + check, report detection and localization."""
    import json

    from .checks.selftest import run_selftest
    from .pipeline import Prepared, extract_prepared

    rows, failed = [], False
    for f in files:
        try:
            prep = _prepare(f)
        except UserError as e:
            fail(f, str(e))
            failed = True
            continue
        res = run_selftest(prep.source, mutations, seed, lambda src: extract_prepared(Prepared(src)))
        det = [m for m in res.in_identity if m.detected]
        rows.append({"doc": res.doc, "mutations": len(res.mutations), "effective": len(res.effective),
                     "in_identity": len(res.in_identity), "detected": len(det),
                     "recall": round(res.recall, 4),
                     "localized": sum(m.localized for m in det), "localization": round(res.localization, 4)})
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
    else:
        t = RichTable(title=f"mutation self-test (seed {seed})")
        for col in ("doc", "mutations", "effective", "in_identity", "detected", "recall", "localized",
                    "localization"):
            t.add_column(col)
        for r in rows:
            t.add_row(*(str(r[k]) for k in ("doc", "mutations", "effective", "in_identity", "detected",
                                            "recall", "localized", "localization")))
        out.print(t)
    if failed:
        raise typer.Exit(2)


@app.command()
def schemas(folder: Path = typer.Option(Path("schemas"), "--out", help="where to write")) -> None:
    """Regenerate the JSON Schemas of the output models."""
    from .schemas import write

    for p in write(folder):
        err.print(f"wrote {p}")


# Exit codes (README): 0 done / clean, 1 findings or some documents failed, 2 input refused or
# bad usage, 3 an unexpected error of this program (never the code of findings), 130 interrupted.
INTERNAL_ERROR = 3


def main(argv: list[str] | None = None) -> None:
    """The console entry: the app, with an unexpected exception reported in one line."""
    try:
        app(args=argv, prog_name="structurer")
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as e:  # a bug, not the input's fault: say so, and keep it apart from findings
        if os.environ.get("STRUCTURER_DEBUG"):
            raise
        where = traceback.extract_tb(e.__traceback__)[-1]
        text = str(e).splitlines()[0] if str(e) else ""
        err.print(f"[red]internal error[/red]: {escape(f'{type(e).__name__}: {text}')} (at "
                  f"{escape(Path(where.filename).name)}:{where.lineno}; STRUCTURER_DEBUG=1 shows the traceback)",
                  soft_wrap=True)
        sys.exit(INTERNAL_ERROR)


# Feature packages add their own commands (each keeps its CLI next to its code).
from .batch.commands import register as _register_batch  # noqa: E402
from .evaluation.commands import register as _register_evaluation  # noqa: E402
from .llm.commands import register as _register_llm  # noqa: E402
from .repair.commands import register as _register_repair  # noqa: E402

for _register in (_register_llm, _register_evaluation, _register_repair, _register_batch):
    _register(app)
