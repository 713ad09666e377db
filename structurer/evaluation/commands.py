"""Command-line commands of this package (registered on the main app by structurer.cli; like
every command, each imports its stage inside its body so the command line starts fast).

    structurer eval [--gold evals/gold] [--backend rules]... [--model NAME]... [--docs GLOB]
                    [--sources DIR] [--runs DIR] [--json] [--markdown FILE] [--fail-under F]
    structurer eval diff RUN_A RUN_B [--runs DIR] [--json]

Exit codes: 0 done (gate passed), 1 below --fail-under, 2 bad input (gold file, options,
missing document or run) reported as one line on stderr.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..console import HELP_MARKUP, err, out
from ..gold import GoldError


eval_app = typer.Typer(add_completion=False, invoke_without_command=True, rich_markup_mode=HELP_MARKUP, no_args_is_help=False,
                       help="Score backends and models against the gold files, side by side.")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error[/red]: {message}", soft_wrap=True, markup=True)
    raise typer.Exit(code)


def _stdout() -> Console:
    return out.console


@eval_app.callback()
def eval_cmd(
    ctx: typer.Context,
    gold: Path = typer.Option(Path("evals/gold"), "--gold", help="gold folder (or one gold file)"),
    backend: Optional[list[str]] = typer.Option(None, "--backend",
                                                help="rules, llm or hybrid; repeatable (default rules)"),
    model: Optional[list[str]] = typer.Option(None, "--model", help="LLM model name; repeatable, one column each"),
    docs: Optional[str] = typer.Option(None, "--docs", help="only gold documents matching this glob"),
    sources: Optional[Path] = typer.Option(None, "--sources",
                                           help="folder of the documents (default: examples/ of the project)"),
    runs: Path = typer.Option(Path("evals/runs"), "--runs", help="where runs are saved"),
    as_json: bool = typer.Option(False, "--json", help="print the full results as JSON instead of the matrix"),
    markdown_file: Optional[Path] = typer.Option(None, "--markdown", help="also write the Markdown report here"),
    fail_under: Optional[float] = typer.Option(None, "--fail-under",
                                               help="exit 1 when a column's overall cell F1 is below this"),
    config: Optional[Path] = typer.Option(None, "--config", help="LLM settings file (structurer.toml)"),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="LLM answer cache folder"),
    no_cache: bool = typer.Option(False, "--no-cache", help="LLM columns: neither read nor write the cache"),
    cache_only: bool = typer.Option(False, "--cache-only",
                                    help="LLM columns: replay the cache only (a miss fails that document)"),
) -> None:
    """Run each backend/model over the gold documents, score, save the run, print the matrix."""
    if ctx.invoked_subcommand is not None:
        return
    from ..output import write_atomic
    from .gate import check_threshold, gate
    from .render import markdown, print_matrix
    from .runner import EvalError, default_sources, plan_columns, run_eval, select_golds
    from .runner import gold_identity
    from .store import git_info, now, save_run

    try:
        check_threshold(fail_under)
        columns = plan_columns(backend, model)
        golds = select_golds(gold, docs)
        src = sources or default_sources(gold)
        if not src.is_dir():
            raise EvalError(f"--sources: no such folder: {src}")

        def progress(col: str, doc: str, secs: float, error: str | None) -> None:
            err.print(f"{col}: {doc} {secs:.2f}s" + (f" [red]failed[/red]: {error}" if error else ""),
                      soft_wrap=True)

        if no_cache and cache_only:
            raise EvalError("--no-cache and --cache-only exclude each other")
        if config is not None and not config.is_file():
            raise EvalError(f"--config: no such file: {config}")
        llm_options = {k: v for k, v in (("config", config), ("cache_dir", cache_dir), ("no_cache", no_cache),
                                         ("cache_only", cache_only)) if v}
        started = now()
        run = run_eval(golds, columns, src, progress, llm_options)
        first = next(iter(run.documents.values()), {})
        run.data["config"] = {
            "time": started.isoformat(timespec="seconds"),
            "columns": [{"name": c.name, "backend": c.backend, "model": c.model,
                         "models_seen": run.data["columns"][c.name]["models_seen"],
                         "prompt_versions": run.data["columns"][c.name]["prompt_versions"]} for c in columns],
            "git": git_info(),
            "gold": str(gold),
            "gold_files": gold_identity(golds),
            "docs": docs,
            "sources": str(src),
            "documents": list(first),
            "fail_under": fail_under,
            "llm_options": {k: str(v) for k, v in llm_options.items()},
        }
        from .. import __version__

        run.data["config"]["structurer_version"] = __version__
        folder = save_run(run, runs, markdown)
        if markdown_file is not None:
            try:
                write_atomic(markdown_file, (folder / "report.md").read_text(encoding="utf-8"))
            except OSError as e:
                raise EvalError(f"--markdown: cannot write {markdown_file}: {e.strerror or e}") from e
    except GoldError as e:
        _fail(f"bad gold file: {e}")
    except EvalError as e:
        _fail(str(e))
    if as_json:
        sys.stdout.write(json.dumps(run.data, ensure_ascii=False, indent=1) + "\n")
    else:
        print_matrix(run.data, _stdout())
    err.print(f"saved run {run.data['id']} in {folder}", soft_wrap=True)
    if fail_under is not None:
        below = gate(run.data, fail_under)
        for line in below:
            err.print(f"[red]gate[/red]: {line}", soft_wrap=True)
        if below:
            raise typer.Exit(1)


@eval_app.command("diff")
def diff_cmd(
    run_a: str = typer.Argument(..., help="run id (under --runs) or run folder"),
    run_b: str = typer.Argument(..., help="run id (under --runs) or run folder"),
    runs: Path = typer.Option(Path("evals/runs"), "--runs", help="where runs are saved"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Show what got better or worse between two runs, cell by cell."""
    from .diff import diff_runs, print_diff
    from .runner import EvalError
    from .store import load_run

    try:
        a, b = load_run(run_a, runs), load_run(run_b, runs)
    except EvalError as e:
        _fail(str(e))
    d = diff_runs(a, b)
    if as_json:
        sys.stdout.write(json.dumps(d, ensure_ascii=False, indent=1) + "\n")
    else:
        print_diff(d, _stdout())


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
    app.add_typer(eval_app, name="eval")
