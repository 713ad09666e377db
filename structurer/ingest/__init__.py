"""Ingestion: turn a source file (text dump, PDF, DOCX) into one `SourceText`.

Every later stage points into `SourceText.text` by character offset, so the text is
fixed here once: lines joined by "\\n", never "\\r", and table rows as one line of
tab-separated cells whatever the input format.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import InputRefused

__all__ = ["IngestError", "SourceText", "read_bytes", "read_source"]

TEXT_SUFFIXES = (".txt", ".text", ".md", ".csv", ".tsv")
SUFFIXES = TEXT_SUFFIXES + (".pdf", ".docx")


class IngestError(InputRefused):
    """A source that cannot be read; str(error) is one line meant for the user."""


@dataclass(frozen=True)
class SourceText:
    path: str
    format: str  # "txt" | "pdf" | "docx"
    encoding: str  # detected text encoding, or "pdf" / "docx"
    sha256: str  # of the input bytes, so outputs can be tied to the exact file
    text: str = field(repr=False)
    # PDF sources: where each piece of `text` was printed (structurer.grid.render.Box),
    # sorted by offset; empty for text and DOCX sources.
    boxes: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # Offsets are only stable if there is exactly one newline convention.
        if "\r" in self.text:
            raise ValueError("SourceText.text must not contain '\\r'")

    @cached_property
    def lines(self) -> list[str]:
        # split("\n"), not splitlines(): the latter also breaks on \f, \x1c, \u2028...
        # and would disagree with the offsets.
        return self.text.split("\n")

    @cached_property
    def line_starts(self) -> list[int]:
        starts, pos = [], 0
        for line in self.lines:
            starts.append(pos)
            pos += len(line) + 1
        return starts


def flatten_cell(value: str | None) -> str:
    """One table cell as tab-free, newline-free text.

    Newlines inside a cell are wrapping (Chinese cells wrap anywhere), so the parts are
    joined directly; a space is kept only between two Latin letters, where gluing would
    merge words. Tabs become spaces because tabs separate cells.
    """
    if not value:
        return ""
    parts = value.replace("\r", "\n").replace("\t", " ").split("\n")
    out = parts[0].rstrip() if len(parts) > 1 else parts[0]
    for part in parts[1:]:
        part = part.strip()
        if out and part and _latin(out[-1]) and _latin(part[0]):
            out += " "
        out += part
    return out


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def one_line(exc: BaseException) -> str:
    """A short, single-line description of a library exception."""
    msg = str(exc).strip().splitlines()
    text = msg[0] if msg else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _format_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "txt"
    if suffix in (".pdf", ".docx"):
        return suffix[1:]
    shown = suffix or "no extension"
    raise IngestError(f"{name}: unsupported file type ({shown}); supported: {' '.join(SUFFIXES)}")


def read_bytes(data: bytes, name: str) -> SourceText:
    """Read an in-memory source; `name` picks the format by extension and labels errors."""
    fmt = _format_for(name)
    if not data:
        raise IngestError(f"{name} is empty")
    # Readers are imported lazily so reading a text dump never loads pdfminer or lxml.
    if fmt == "txt":
        from .text import decode_text

        text, encoding = decode_text(data, name)
        from ..grid.textgrid import layout_text  # columns aligned with spaces: laid out like a PDF

        text = layout_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    elif fmt == "pdf":
        from ..grid.render import render_pages
        from .pdf import read_pdf_pages

        text, boxes = render_pages(read_pdf_pages(data, name))
        return SourceText(name, fmt, "pdf", hashlib.sha256(data).hexdigest(), text, tuple(boxes))
    else:
        from .docx import extract_docx

        text, encoding = extract_docx(data, name), "docx"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(name, fmt, encoding, hashlib.sha256(data).hexdigest(), text)


def read_source(path: str | os.PathLike[str]) -> SourceText:
    """Read a source file from disk; raises IngestError with a one-line message."""
    name = os.fspath(path)
    _format_for(name)  # reject unsupported types before touching the disk
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {name}: {exc.strerror or one_line(exc)}") from exc
    return read_bytes(data, name)
