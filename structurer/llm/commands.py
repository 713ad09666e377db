"""Command-line commands of this package (registered on the main app by structurer.cli; like
every command, each imports its stage inside its body so the command line starts fast).

    structurer llm models [--config FILE]   the configured models (never a key)
    structurer llm prompts                  prompt versions and hashes (they key the cache)

Extraction itself is `structurer extract --backend llm|hybrid [--model NAME]`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..console import HELP_MARKUP, err


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
    llm = typer.Typer(no_args_is_help=True, rich_markup_mode=HELP_MARKUP,
                      help="LLM backend: configured models and prompts.")

    @llm.command("models")
    def models(config: Optional[Path] = typer.Option(None, "--config", help="structurer.toml to read"),
               as_json: bool = typer.Option(False, "--json", help="one JSON object per model")) -> None:
        """List the models a structurer.toml configures (endpoint, mode, prices; keys never)."""
        from rich.markup import escape

        from .config import ConfigError, configured_models, describe, find_config, read_config

        try:
            path = find_config(config)
            found = configured_models(read_config(path), str(path) if path else "structurer.toml")
        except ConfigError as e:
            err.print(f"[red]error[/red]: {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(2)
        if not found:  # printed as is: [models.NAME] is not rich markup
            err.print(escape("no structurer.toml with [models.NAME] tables found; the environment "
                             "(OPENAI_BASE_URL, OPENAI_API_KEY, --model) is used"), soft_wrap=True)
            return
        cols = ("name", "model", "endpoint", "mode", "api_key_env", "prices")
        rows = [describe(mc) for mc in found.values()]
        if as_json:
            typer.echo(json.dumps([{c: d[c] for c in cols} for d in rows], ensure_ascii=False))
            return
        typer.echo("\t".join(cols))  # tab-separated: whole lines to a pipe, aligned enough on a terminal
        for d in rows:
            typer.echo("\t".join(d[c] for c in cols))

    @llm.command("prompts")
    def prompts(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
        """Show each prompt's version and content hash."""
        from .prompts import load_prompt

        tags = {name: load_prompt(name).tag for name in ("table", "narrative", "performance")}
        if as_json:
            typer.echo(json.dumps(tags, ensure_ascii=False))
            return
        for name, tag in tags.items():
            typer.echo(f"{name}\t{tag}")

    app.add_typer(llm, name="llm")
