"""Command-line commands of this package (registered on the main app by structurer.cli):
`structurer batch` and `structurer export`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..console import ocr_option


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
    app.command("batch")(batch)
    app.command("export")(export)


def batch(
    input_dir: Path = typer.Argument(..., help="folder searched recursively for documents"),
    out: Path = typer.Option(..., "--out", help="output folder: docs/, manifest.sqlite"),
    backend: str = typer.Option("rules", "--backend", help="rules (llm, hybrid when available)"),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="worker processes (default: CPUs; "
                                       "with --engine dask and no --scheduler: local cluster workers)"),
    engine: str = typer.Option("local", "--engine", help="local (this machine's worker processes) or dask "
                               "(a Dask cluster: see --scheduler)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="--engine dask: address of a running "
                                            "scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)"),
    send_bytes: bool = typer.Option(False, "--send-bytes", help="--engine dask: send each file's bytes to the "
                                    "workers (default: workers read the path: shared storage)"),
    ocr: str = ocr_option(),
    force: bool = typer.Option(False, "--force", help="redo documents that are already done"),
    timeout: Optional[float] = typer.Option(
        None, "--timeout", help="seconds one document may take before it is failed"),
    ext: Optional[list[str]] = typer.Option(
        None, "--ext", help="only these file types, e.g. --ext .pdf (repeatable)"),
    model: Optional[str] = typer.Option(None, "--model", help="llm/hybrid: a model named in structurer.toml, "
                                        "or a model id at OPENAI_BASE_URL"),
    config: Optional[Path] = typer.Option(None, "--config", help="llm/hybrid: structurer.toml to use"),
    no_cache: bool = typer.Option(False, "--no-cache", help="llm/hybrid: neither read nor write the cache"),
    cache_only: bool = typer.Option(False, "--cache-only", help="llm/hybrid: replay the cache only"),
    batch_api: bool = typer.Option(False, "--batch-api", help="llm/hybrid: ask through the provider's batch "
                                   "API (/v1/batches) first; what it cannot answer is asked directly"),
    no_wait: bool = typer.Option(False, "--no-wait", help="--batch-api: submit (or check) and stop while a "
                                 "provider batch is running (exit 75); rerun to continue"),
    poll: Optional[float] = typer.Option(None, "--poll", help="--batch-api: seconds between status checks "
                                         "(default 30)"),
) -> None:
    """Structure every document under INPUT_DIR in parallel, resumably.

    Each document's JSON goes to OUT/docs/<path>.json (atomically); OUT/manifest.sqlite records
    hash, status, one-line error, timings and findings. A rerun skips finished unchanged
    documents and retries failed ones. With --engine dask the documents are structured on a
    Dask cluster (this process keeps the manifest and writes every output). Exit 0 when all
    succeed, 1 when any failed, 2 when the batch cannot start, 75 when --no-wait left a
    provider batch running, 130 when interrupted.

    With --batch-api the LLM requests go to the provider's batch API first (submitted batches
    are recorded in the manifest and polled, never resubmitted, by a rerun); their answers fill
    the LLM cache, and the documents are then structured from it."""
    from rich.markup import escape

    from ..console import err, out as stdout
    from .progress import rate_text, reporter_for
    from .runner import BatchError, BatchOptions, run_batch

    console = err.console  # rich on a terminal; plain, unwrapped lines to a log
    out_console = stdout.console
    llm_options = _llm_options(console, backend, model, config, no_cache, cache_only)
    provider = _provider_options(console, backend, batch_api, no_wait, poll, no_cache, cache_only)
    opts = BatchOptions(input_dir, out, backend, jobs, force, timeout, tuple(ext) if ext else None,
                        llm_options=llm_options, provider=provider, engine=engine, scheduler=scheduler,
                        send_bytes=send_bytes, ocr=ocr)
    try:
        result = run_batch(opts, reporter_for(console))
    except BatchError as exc:  # the message names the folder or option it is about
        console.print(f"[red]error[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2)
    except KeyboardInterrupt:  # before any work started (interrupts during the run are handled there)
        out_console.print("interrupted before any document was processed")
        raise typer.Exit(130)
    for note in result.notes:
        console.print(f"[yellow]note[/yellow]: {escape(note)}")
    if result.pending:
        running = ", ".join(f"{b} ({status})" for b, status in result.pending)
        out_console.print(f"waiting on provider batch(es) {escape(running)}; rerun the same command to "
                          f"collect the answers (nothing is submitted twice)")
        raise typer.Exit(75)
    _print_provider(out_console, result.provider)
    c = result.counts
    processed = c["done"] + c["failed"]
    already = c["skipped"] + c["unchanged"]
    head = "interrupted" if not result.completed else "batch"
    speed = rate_text(processed, result.elapsed, "docs")
    if result.pages:
        speed += ", " + rate_text(result.pages, result.elapsed, "pages")
    out_console.print(
        f"{head}: {c['found']} documents in {escape(str(input_dir))} — {c['done']} done, "
        f"{c['failed']} failed, {already} already done (unchanged); "
        f"{result.elapsed:.1f} s, {speed}")
    if result.gone:
        out_console.print(f"{result.gone} documents of earlier runs are no longer in the input "
                          f"(marked gone, not exported)")
    out_console.print(f"manifest: {escape(str(result.manifest))} · documents: "
                      f"{escape(str(Path(out) / 'docs'))}/")
    if c["failed"]:
        out_console.print(f"[red]{c['failed']} failed:[/red]")
        for path, error in result.failures():
            line = error if error.startswith(path) else f"{path}: {error}"
            out_console.print(f"  {escape(line)}")
    if not result.completed:
        out_console.print("rerun the same command to resume (finished documents are kept)")
        raise typer.Exit(130)
    if c["failed"]:
        raise typer.Exit(1)


def export(
    out_dir: Path = typer.Argument(..., help="a batch output folder (with manifest.sqlite)"),
    duckdb_file: Optional[Path] = typer.Option(None, "--duckdb", help="write a DuckDB database"),
    parquet_dir: Optional[Path] = typer.Option(None, "--parquet", help="write one Parquet file per table"),
    csv_dir: Optional[Path] = typer.Option(None, "--csv", help="write one CSV file per table"),
    partition_by: Optional[list[str]] = typer.Option(
        None, "--partition-by", help="--parquet as one Hive-partitioned dataset per table, by year and/or "
        "kind (repeatable): DIR/<table>/year=2024/…parquet"),
) -> None:
    """Export a batch's finished documents as tables: documents, doc_tables, cells, findings,
    finding_terms, narrative_facts, performance_targets, performance_indicators.

    Amounts are exact DECIMALs in 元; every value keeps its printed text, unit and source
    lines. Re-exporting gives the same tables (each file is rebuilt and replaced atomically)."""
    from rich.markup import escape

    from ..console import err, fail
    from .export import ExportError, export_batch

    if not (duckdb_file or parquet_dir or csv_dir):
        fail(out_dir, "say where to export: --duckdb FILE, --parquet DIR and/or --csv DIR")
        raise typer.Exit(2)
    console = err.console
    try:
        summary = export_batch(out_dir, duckdb_file, parquet_dir, csv_dir, tuple(partition_by or ()))
    except ExportError as exc:
        fail(out_dir, str(exc))
        raise typer.Exit(2)
    counts = ", ".join(f"{n:,} {t}" for t, n in summary.rows.items())
    console.print(f"exported {escape(counts)}")
    for target in summary.targets:
        console.print(f"  → {escape(str(target))}")
    for note in summary.notes:
        console.print(f"[yellow]note[/yellow]: {escape(note)}")


def _llm_options(console, backend: str, model, config, no_cache: bool, cache_only: bool) -> dict:
    """Options each worker passes to the LLM backend (plain values: workers load the settings
    themselves); a configuration problem is one line before any document is touched."""
    from rich.markup import escape

    if backend not in ("llm", "hybrid"):  # rules, or an unknown name the runner reports
        if backend == "rules" and (model or config or no_cache or cache_only):
            console.print("[red]error[/red]: --model, --config, --no-cache and --cache-only need "
                          "--backend llm or hybrid", soft_wrap=True)
            raise typer.Exit(2)
        return {}
    from ..llm.config import ConfigError, load_settings

    try:
        settings = load_settings(model, config, no_cache=no_cache, cache_only=cache_only)
        settings.model.api_key()  # a missing key is reported once, not once per document
    except ConfigError as exc:
        console.print(f"[red]error[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2)
    options = {"model": model, "config": str(config) if config else None,
               "no_cache": no_cache, "cache_only": cache_only}
    return {k: v for k, v in options.items() if v}


def _provider_options(console, backend: str, batch_api: bool, no_wait: bool, poll: float | None, no_cache: bool,
                      cache_only: bool):
    from rich.markup import escape

    from .provider import ProviderOptions

    problem = None
    if not batch_api:
        if no_wait or poll is not None:
            problem = "--no-wait and --poll go with --batch-api"
    elif backend not in ("llm", "hybrid"):
        problem = "--batch-api needs --backend llm or hybrid"
    elif no_cache or cache_only:
        problem = "--batch-api delivers its answers through the cache: drop --no-cache/--cache-only"
    elif poll is not None and poll <= 0:
        problem = "--poll must be a positive number of seconds"
    if problem:
        console.print(f"[red]error[/red]: {escape(problem)}", soft_wrap=True)
        raise typer.Exit(2)
    if not batch_api:
        return None
    return ProviderOptions(wait=not no_wait) if poll is None else ProviderOptions(wait=not no_wait, poll_s=poll)


def _print_provider(out_console, provider) -> None:
    """What the provider batch steps of this run did (--batch-api)."""
    from decimal import Decimal

    if provider is None or not (provider.submitted or provider.collected):
        return
    sent = sum(n for _, n in provider.submitted)
    line = f"provider batch: {sent:,} requests submitted in {len(provider.submitted)} batch(es)"
    if provider.collected:
        c = {k: sum(b[k] for b in provider.collected) for k in
             ("cached", "rejected", "errors", "missing", "prompt_tokens", "completion_tokens")}
        cost = sum((b["cost"] for b in provider.collected), Decimal(0))
        line += (f"; {len(provider.collected)} collected: {c['cached']:,} answers cached, "
                 f"{c['rejected'] + c['errors'] + c['missing']:,} asked directly; "
                 f"{c['prompt_tokens'] + c['completion_tokens']:,} tokens (in {c['prompt_tokens']:,} / out "
                 f"{c['completion_tokens']:,}), cost {cost:.4f} at the configured prices")
    out_console.print(line)
