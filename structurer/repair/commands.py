"""Command-line commands of this package (registered on the main app by structurer.cli):
`structurer repair` (review TUI, or `--apply LOG` without one) and `structurer report --html`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def _fail(message: str, code: int = 2) -> None:
    from rich.markup import escape

    from ..console import err

    err.print(f"[red]error[/red]: {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def _info(message: str) -> None:
    from ..console import err

    err.print(message, soft_wrap=True, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""

    @app.command()
    def repair(
        file: Path = typer.Argument(..., help="a document JSON, or a source file (extracted first)"),
        apply: Optional[Path] = typer.Option(None, "--apply", help="apply this corrections log without the TUI"),
        save_gold: bool = typer.Option(False, "--save-gold", help="also write the reviewed document as a gold file"),
        gold_dir: Path = typer.Option(Path("evals/gold"), "--gold-dir", help="folder for --save-gold"),
        force: bool = typer.Option(False, "--force", help="let --save-gold replace an existing gold file"),
        reviewer: Optional[str] = typer.Option(None, "--reviewer", help="name recorded in the gold file's how_made"),
        out: Optional[Path] = typer.Option(None, "--out", help="corrected document (default <stem>.corrected.json beside the input)"),
        log: Optional[Path] = typer.Option(None, "--log", help="corrections log (default <stem>.corrections.jsonl beside the input)"),
        source: Optional[Path] = typer.Option(None, "--source", help="the source file of a document JSON, if not beside it"),
        model: Optional[str] = typer.Option(None, "--model", help="a model the TUI may ask to read a failing "
                                            "check's values again (key m): a name in structurer.toml or a model id"),
        config: Optional[Path] = typer.Option(None, "--config", help="structurer.toml for --model"),
    ) -> None:
        """Review findings beside the source (for a PDF, the page around each value) and correct
        values: accept a fix, edit, keep as printed (the document is wrong), or `x` the extraction
        is wrong (the value as printed, a value moved to its column, a doubted row confirmed).
        Corrections go to an append-only log; the corrected document is written on save.
        `--apply LOG` does it non-interactively.
        With --model, `m` asks the model to read the values of a failing check again and `A`
        takes its reading (grounded: only values printed on the lines it cites)."""
        from .gold_writer import GoldWriteError
        from .log import LogError
        from .session import RepairSession, default_paths
        from .sources import InputError, open_input

        try:
            opened = open_input(file, source)
        except InputError as e:
            _fail(str(e))
        default_log, default_out = default_paths(file)
        out_path = out or default_out
        if save_gold and not gold_dir.is_dir():
            _fail(f"--gold-dir {gold_dir}: no such folder (run from the project folder or pass --gold-dir)")
        if apply is not None:
            if not apply.is_file():
                _fail(f"--apply {apply}: no such file")
            try:
                session = RepairSession(opened.doc, opened.source, apply, out_path)
            except LogError as e:
                _fail(str(e))
            if not session.entries:
                _fail(f"{apply.name}: no corrections in the log")
            if session.conflicts:
                c = session.conflicts
                more = f" (and {len(c) - 1} more)" if len(c) > 1 else ""
                _fail(f"{apply.name}: {c[0]}{more}; nothing written", 1)
            session.save()
            _info(f"{file.name}: applied {apply.name} → {out_path} ({session.summary()})")
            if save_gold:
                from .gold_writer import save_gold as write_gold

                try:
                    gp = write_gold(session.doc, session.source, session.entries, apply.name, gold_dir, force,
                                    reviewer, len(session.findings()))
                except (GoldWriteError, OSError) as e:
                    _fail(str(e), 1)
                _info(f"gold → {gp}")
            return
        settings = None
        if model or config:
            from ..llm.config import ConfigError, load_settings

            try:
                settings = load_settings(model, config)
                settings.model.api_key()
            except ConfigError as e:
                _fail(str(e))
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            _fail("repair is interactive and needs a terminal (use --apply LOG to apply a corrections log)")
        log_path = log or default_log
        try:
            session = RepairSession(opened.doc, opened.source, log_path, out_path)
        except LogError as e:
            _fail(str(e))
        if opened.source is None and opened.source_note:
            _info(f"note: {opened.source_note}; source lines will not be shown")
        from .tui import GoldTarget, RepairApp

        gold = GoldTarget(gold_dir, force, reviewer) if save_gold else None
        RepairApp(session, gold, settings).run()
        _info(f"log: {session.log.path} ({len(session.entries)} entries); {session.summary()}")
        if session.dirty:
            _info(f"corrected document not written this time: structurer repair {file} --apply {session.log.path}")

    @app.command()
    def report(
        file: Path = typer.Argument(..., help="a document JSON or a source file (extracted first); or a batch "
                                    "output folder (OUT_DIR of `structurer batch`) for the overview"),
        html_out: Optional[Path] = typer.Option(None, "--html", help="write a self-contained HTML page here"),
        source: Optional[Path] = typer.Option(None, "--source", help="the source file of a document JSON, if not beside it"),
        reports: bool = typer.Option(True, "--reports/--no-reports", help="batch folder: also write each finished "
                                     "document's report beside the overview (<name>_reports/), linked from its row"),
    ) -> None:
        """One self-contained HTML page. For a document: a PDF's pages with every value boxed where it
        was printed (other sources: the text with every value highlighted), the tables and the
        findings, all linked. For a batch output folder: the overview of the run, one row per document."""
        from ..checks.run import evaluate
        from ..ingest import IngestError
        from ..output import write_atomic
        from .html_report import report_html
        from .sources import InputError, open_input

        if html_out is None:
            _fail("say where the page goes: --html OUT.html")
        if file.is_dir():
            _overview(file, html_out, reports)
            return
        try:
            opened = open_input(file, source)
        except InputError as e:
            _fail(str(e))
        if opened.source is None:
            _fail(f"{file.name}: {opened.source_note or 'source text not found'}")
        report_ = evaluate(opened.doc)
        try:
            page = report_html(opened.doc, report_, opened.source)
        except IngestError as e:
            _fail(str(e))
        try:
            write_atomic(html_out, page)
        except OSError as e:
            _fail(f"cannot write {html_out}: {e.strerror or e}")
        n = sum(len(r.cells) for t in opened.doc.tables for r in t.rows)
        size = len(page.encode("utf-8"))
        _info(f"{file.name} → {html_out} ({n} cells, {len(report_.findings())} findings, {size / 1e6:.1f} MB)")


def _overview(out_dir: Path, html_out: Path, reports: bool) -> None:
    from ..console import err
    from ..output import write_atomic
    from .overview import OverviewError, read_rows, write_reports
    from .overview_page import overview_html

    try:
        rows, input_dir = read_rows(out_dir)
    except OverviewError as e:
        _fail(str(e))
    written = 0
    if reports:
        folder = html_out.parent / f"{html_out.stem}_reports"

        def progress(k: int, n: int, row) -> None:
            if err.is_terminal:  # a long run shows where it is; a log gets the summary only
                err.print(f"report {k}/{n}: {row.path}"[:100].ljust(100), markup=False, highlight=False, end="\r")

        try:
            written = write_reports(rows, out_dir, input_dir, folder, html_out.parent, progress)
        except OSError as e:
            _fail(f"cannot write the reports: {e.strerror or e}")
    try:
        write_atomic(html_out, overview_html(rows, str(out_dir), str(input_dir) if input_dir else None))
    except OSError as e:
        _fail(f"cannot write {html_out}: {e.strerror or e}")
    done = sum(1 for r in rows if r.accepted)
    linked = sum(1 for r in rows if r.report)
    _info(f"{out_dir} → {html_out} ({len(rows)} documents, {done} accepted, {len(rows) - done} not; "
          f"{linked} linked to their report{f', {written} written' if reports else ''})")
