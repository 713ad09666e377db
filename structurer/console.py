"""The terminal streams of the command line, shared by its command modules."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True, highlight=False)


def fail(path: str | Path, message: str) -> None:
    """One line on stderr for one input; the message is printed as is (never read as markup)."""
    where = "" if str(path) in message else f"{Path(path).name}: "
    err.print(f"[red]error[/red]: {escape(where + message)}", soft_wrap=True)
