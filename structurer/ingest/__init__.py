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

from .common import IngestError, flatten_cell, one_line  # noqa: F401  (the package's API)

__all__ = ["IngestError", "SourceText", "read_bytes", "read_source"]

TEXT_SUFFIXES = (".txt", ".text", ".md", ".csv", ".tsv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUFFIXES = TEXT_SUFFIXES + (".pdf", ".docx") + IMAGE_SUFFIXES


@dataclass(frozen=True)
class SourceText:
    path: str
    format: str  # "txt" | "pdf" | "docx" | "image"
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


def _format_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "txt"
    if suffix in (".pdf", ".docx"):
        return suffix[1:]
    if suffix in IMAGE_SUFFIXES:
        return "image"
    shown = suffix or "no extension"
    raise IngestError(f"{name}: unsupported file type ({shown}); supported: {' '.join(SUFFIXES)}")


def read_bytes(data: bytes, name: str, ocr: str = "auto", progress=None) -> SourceText:
    """Read an in-memory source; `name` picks the format by extension and labels errors.
    `ocr` (auto | always | never) says which PDF pages are read from their image;
    `progress(page, pages)` hears of each page sent to OCR."""
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

        ocr_page = None
        if ocr != "never":
            from .ocr import ocr_pdf_page as ocr_page
        pages = read_pdf_pages(data, name, ocr, ocr_page, progress)
        text, boxes = render_pages(pages)
        encoding = "pdf+ocr" if any(p.ocr for p in pages) else "pdf"
        return SourceText(name, fmt, encoding, hashlib.sha256(data).hexdigest(), text, tuple(boxes))
    elif fmt == "image":
        from ..grid.render import render_pages
        from .ocr import read_image_pages

        if ocr == "never":
            raise IngestError(f"{name} is an image: it can only be read by OCR (--ocr auto)")
        text, boxes = render_pages(read_image_pages(data, name, progress))
        if not text.strip():
            raise IngestError(f"{name}: OCR found no text in the image")
        return SourceText(name, fmt, "ocr", hashlib.sha256(data).hexdigest(), text, tuple(boxes))
    else:
        from .docx import extract_docx

        text, encoding = extract_docx(data, name), "docx"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(name, fmt, encoding, hashlib.sha256(data).hexdigest(), text)


def read_source(path: str | os.PathLike[str], ocr: str = "auto", progress=None) -> SourceText:
    """Read a source file from disk; raises IngestError with a one-line message."""
    name = os.fspath(path)
    _format_for(name)  # reject unsupported types before touching the disk
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {name}: {exc.strerror or one_line(exc)}") from exc
    return read_bytes(data, name, ocr, progress)
