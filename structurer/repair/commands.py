"""Command-line commands of this package (registered on the main app by structurer.cli)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
