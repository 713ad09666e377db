"""Page furniture: page numbers, running heads and feet, and `表N` / `公开表N` labels.

Recognised by position (the top or bottom band of the page) and by repetition across pages,
never by what one publisher prints; furniture is kept out of tables and out of the text.
"""
from __future__ import annotations

import re
from collections import Counter

from .lines import VLine
from .table import UNIT_LINE_RE

_BAND = 0.09  # share of the page height at the top and at the bottom
_PAGE_NO_RE = re.compile(
    r"^(?:[-—–_·•]*\d{1,4}[-—–_·•]*|第\d{1,4}页(?:[,，/]?共\d{1,4}页)?|\d{1,4}/\d{1,4}|"
    r"共\d{1,4}页第\d{1,4}页|page\d{1,4}(?:of\d{1,4})?|[ivxlc]{1,6})$", re.I)
_TABLE_LABEL_RE = re.compile(r"^(?:附|公开|部门公开|预算公开)?表[0-9一二三四五六七八九十百]{1,4}(?:[-—–之][0-9一二三四五六七八九十]{1,3})?$")


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NO_RE.match(text))


def is_table_label(text: str) -> bool:
    return bool(_TABLE_LABEL_RE.match(text))


def _key(line: VLine) -> str:
    return re.sub(r"\d+", "#", line.compact)


def furniture(pages: list[tuple[float, list[VLine]]]) -> set[int]:
    """ids of furniture lines, given each page's height and lines."""
    out: set[int] = set()
    banded: list[tuple[VLine, str]] = []
    for height, lines in pages:
        body = [ln for ln in lines if ln.compact]
        for ln in body[:1] + body[-1:]:  # a page's first or last line that is only its number
            if is_page_number(ln.compact):
                out.add(id(ln))
        edge = {id(ln) for ln in body[:1] + body[-1:]}  # wide margins put heads below the band
        for ln in lines:
            in_band = ln.bottom <= height * _BAND or ln.top >= height * (1 - _BAND)
            c = ln.compact
            if not c:
                continue
            if is_table_label(c):
                out.add(id(ln))
            elif in_band or id(ln) in edge:
                if is_page_number(c) and in_band:
                    out.add(id(ln))
                else:
                    banded.append((ln, "top" if ln.top <= height / 2 else "bottom"))
    # running heads and feet: the same words (numbers aside) in the same band on many pages
    counts = Counter((_key(ln), band) for ln, band in banded)
    need = max(3, len(pages) // 3)
    for ln, band in banded:
        c = ln.compact
        # a repeated unit statement or table title is content, not furniture
        if counts[(_key(ln), band)] >= need and len(c) <= 60 and not UNIT_LINE_RE.search(c) \
                and not c.endswith("表"):
            out.add(id(ln))
    return out
