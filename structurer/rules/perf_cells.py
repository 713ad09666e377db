"""Cells of a performance indicator table, and the text helpers every layout reader shares.

A cell is kept as pieces of normalized lines rather than as a string, so its text and its
source span come from the same characters however the layout wrapped or split it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import vocab
from ..normalize import NText

LEVEL1 = frozenset(vocab.PERF_LEVEL1)
_HEADER_ROLE_RES = tuple((re.compile(p), r) for p, r in vocab.PERF_HEADER_ROLES)
CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’、，。；：（）《》【】〔〕"
_CJK_SPACE_RE = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
UNIT_PAREN_RE = re.compile(r"[(（](亿元|万元|千元|元)[)）]")


# --------------------------------------------------------------------------- cells

Piece = tuple[NText, int, int]  # characters [i, j) of a normalized line


@dataclass
class TextCell:
    pieces: list[Piece] = field(default_factory=list)

    def add(self, t: NText, i: int = 0, j: int | None = None, force: bool = False) -> "TextCell":
        s = t.text
        j = len(s) if j is None else j
        while i < j and s[i].isspace():
            i += 1
        while j > i and s[j - 1].isspace():
            j -= 1
        if j > i or force:
            self.pieces.append((t, i, j))
        return self

    @property
    def text(self) -> str:
        out = ""
        for t, i, j in self.pieces:
            p = t.text[i:j]
            if out and p and out[-1].isascii() and out[-1].isalnum() \
                    and p[0].isascii() and p[0].isalnum():
                out += " "
            out += p
        return out.strip()

    def source_range(self) -> tuple[int, int] | None:
        rs = [t.source_range(i, j) for t, i, j in self.pieces if j > i]
        if not rs:
            return None
        return min(r[0] for r in rs), max(r[1] for r in rs)


Row = dict  # role -> TextCell


def tidy(text: str) -> str:
    """Collapse whitespace; drop the spaces a PDF dump puts between two CJK characters."""
    text = " ".join(text.split())
    return _CJK_SPACE_RE.sub("", text) if " " in text else text


def unspaced(text: str) -> str:
    return "".join(text.split())


def header_role(cell: str) -> str | None:
    c = unspaced(cell)
    if not c:
        return None
    for rx, role in _HEADER_ROLE_RES:
        if rx.fullmatch(c):
            return role
    return None


def looks_value(text: str) -> bool:
    t = text.strip()
    return bool(vocab.PERF_VALUE_RE.match(t) or vocab.PERF_DATE_VALUE_RE.match(t))
