"""The terminal streams of the command line, shared by its command modules.

On a terminal, output is rich (colour, tables fitted to the window). Redirected to a pipe or
a file it is plain: no colour, no wrapping, no cut columns, so `structurer … | grep` and
`> out.txt` see every line whole. The stream is looked up at each call, not at import, so a
caller that swaps sys.stdout (a test runner, a notebook) gets the right behaviour.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from .ingest.pdf import OCR_MODES

# --help texts are Markdown: a docstring's line breaks inside a paragraph are joined
HELP_MARKUP = "markdown"
_UNLIMITED = 100_000  # columns for a pipe: a rich table keeps its natural width, never cut


def console_for(stream) -> Console:
    """A rich Console for `stream`: rich on a terminal, plain and unwrapped elsewhere."""
    if getattr(stream, "isatty", lambda: False)():
        return Console(file=stream, highlight=False)
    return Console(file=stream, highlight=False, soft_wrap=True, width=_UNLIMITED, no_color=True,
                   color_system=None, emoji=False)


class _Stream:
    """`out` / `err`: a Console made for whatever sys.stdout / sys.stderr is right now."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    @property
    def console(self) -> Console:
        return console_for(sys.stderr if self._stderr else sys.stdout)

    def __getattr__(self, name: str):
        return getattr(self.console, name)


out = _Stream(stderr=False)
err = _Stream(stderr=True)


def fail(path: str | Path, message: str) -> None:
    """One line on stderr for one input; the message is printed as is (never read as markup)."""
    where = "" if str(path) in message else f"{Path(path).name}: "
    err.print(f"[red]error[/red]: {escape(where + message)}", soft_wrap=True)


def _ocr_mode(value: str) -> str:
    if value not in OCR_MODES:
        raise typer.BadParameter(f"must be one of {', '.join(OCR_MODES)}")
    return value


def ocr_option():
    """The --ocr option of every command that reads a source file (a bad choice is a usage error)."""
    return typer.Option("auto", "--ocr", callback=_ocr_mode,
                        help="auto: pages without a text layer (and image files) are read by OCR; "
                             "always: every page; never: refuse scans")
