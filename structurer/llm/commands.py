"""Command-line commands of this package (registered on the main app by structurer.cli).

    structurer llm models [--config FILE]   the configured models (never a key)
    structurer llm prompts                  prompt versions and hashes (they key the cache)

Extraction itself is `structurer extract --backend llm|hybrid [--model NAME]`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
    llm = typer.Typer(no_args_is_help=True, help="LLM backend: configured models and prompts.")

    @llm.command("models")
    def models(config: Optional[Path] = typer.Option(None, "--config", help="structurer.toml to read")) -> None:
        """List the models a structurer.toml configures (endpoint, mode, prices; keys never)."""
        from rich.console import Console
        from rich.markup import escape

        from .config import ConfigError, configured_models, describe, find_config, read_config

        err = Console(stderr=True, highlight=False)
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
        typer.echo("\t".join(cols))
        for mc in found.values():
            d = describe(mc)
            typer.echo("\t".join(d[c] for c in cols))

    @llm.command("prompts")
    def prompts() -> None:
        """Show each prompt's version and content hash."""
        from rich.console import Console

        from .prompts import load_prompt

        for name in ("table", "narrative", "performance"):
            p = load_prompt(name)
            Console().print(f"{name}\t{p.tag}")

    app.add_typer(llm, name="llm")
