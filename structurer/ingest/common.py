"""What every reader shares: the refusal error and the one-line messages and cell text."""
from __future__ import annotations

from ..errors import InputRefused


class IngestError(InputRefused):
    """A source that cannot be read; str(error) is one line meant for the user."""


class OcrUnavailable(IngestError):
    """A page needs OCR and its optional dependencies are not installed."""


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
