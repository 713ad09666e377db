"""Space-aligned text dumps (`pdftotext -layout` and the like) → pseudo pages for the layout
stage, so their tables get the same column inference, merged headers and tab grids as PDFs.

A dump aligns its columns with runs of spaces, pages separated by \\f. A CJK character takes
two columns in a dump aligned for a terminal and one in `pdftotext -layout` output (wide_cjk
tells which). Every printed character becomes a glyph at its column; the geometry is chosen
against the thresholds of `lines.build_lines` so that one space stays inside a fragment
(words, numbers broken by a space, `2026 年`) and a run of two or more splits it. Columns are
not page coordinates: the caller keeps no boxes for text sources.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ..vocab import NUM_RE
from .lines import _CJK_RE, _GAP
from .render import render_pages

# Geometry in pseudo points. A glyph is HEIGHT tall and spans its display columns, plus REACH
# into the column after it, so that the gap a single space leaves (UNIT - REACH) is below the
# number/text split of build_lines (0.15 × height) while two spaces (2 UNIT - REACH) exceed the
# fragment gap (_GAP × height). A CJK character is then a square, as printed.
UNIT = 5.0
HEIGHT = 2 * UNIT
REACH = UNIT - 0.1 * HEIGHT
# Rows further apart than 0.9 × height are never joined as one wrapped row, and header lines
# further apart than 0.6 × height are never glued as one wrapped cell: in a dump every line is
# its own row, and a header line over other header lines is a merged cell, not a wrap.
PITCH = 2 * HEIGHT
assert UNIT - REACH < 0.15 * HEIGHT and 2 * UNIT - REACH > _GAP * HEIGHT

_PIECES_RE = re.compile(r"(?<![^ ])[\d.,]+(?: [\d.,]+)+(?![^ ])")
_RUN_RE = re.compile(r"(?<=\S) {2,}(?=\S)")
_MIN_ALIGNED = 4  # lines with two or more inner runs of spaces
_ALIGNED_SHARE = 0.03  # ... among the non-blank lines (a few wide gaps in prose do not count)
_PADDED = 0.2  # wide gaps of other lengths than the usual one and its multiples


@dataclass(slots=True)
class TextGlyph:
    ch: str
    x0: float
    top: float
    x1: float
    bottom: float
    space: bool = False  # one space printed before it: a word gap inside the fragment
    conf: float | None = None  # as a PDF glyph: no recognition confidence for printed text


@dataclass
class TextPage:
    number: int
    width: float
    height: float
    glyphs: list[TextGlyph] = field(default_factory=list)
    hrules: list = field(default_factory=list)
    vrules: list = field(default_factory=list)
    raw_header: bool = True  # see render._table


def is_space_aligned(text: str) -> bool:
    """Columns aligned with runs of spaces, not tab-separated: tab dumps pass through as read."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return False
    tabbed = sum(1 for ln in lines if "\t" in ln)
    wide = [ln for ln in lines if "\t" not in ln and len(_RUN_RE.findall(ln)) >= 2]
    return len(wide) >= max(_MIN_ALIGNED, _ALIGNED_SHARE * len(lines)) and tabbed * 10 < len(wide) \
        and _padded(wide) >= _PADDED


def _padded(lines: list[str]) -> float:
    """Share of wide gaps that are not a multiple of the usual one. Cells separated by a fixed
    run of spaces (tabs replaced by two spaces: empty cells give 4, 6 …) are not aligned;
    padding to a column's width gives gaps of every length."""
    runs = [len(m) for ln in lines for m in _RUN_RE.findall(ln)]
    if not runs:
        return 0.0
    unit = Counter(runs).most_common(1)[0][0]
    return sum(1 for r in runs if r % unit) / len(runs)


def width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


_AMOUNT = r"[\d,]*\d\.\d+"  # an amount as dumps print it: digits, separators, decimals
_AMOUNT_END_RE = re.compile(rf"(?<![\d,.]){_AMOUNT}(?![\d.])")


def wide_cjk(text: str) -> bool:
    """Whether the dump counts a CJK character two columns wide (aligned for a terminal) or
    one (`pdftotext -layout` puts every character in one cell of its grid). Amounts of one
    column share a right edge: the count under which more amounts line up with one on the
    line above (lines after a CJK label, where the two counts differ) is the dump's."""
    hits = {True: 0, False: 0}
    above: dict[bool, set[int]] | None = None
    for line in text.split("\n"):
        ends: dict[bool, set[int]] = {True: set(), False: set()}
        for m in _AMOUNT_END_RE.finditer(line):
            ends[False].add(m.end())
            ends[True].add(m.end() + sum(width(ch) - 1 for ch in line[:m.end()]))
        if not ends[True]:
            continue
        cjk = bool(_CJK_RE.search(line))
        if above is not None and cjk:
            for wide in (True, False):
                hits[wide] += sum(1 for x in ends[wide] if {x - 1, x, x + 1} & above[wide])
        above = ends if cjk else None
    return hits[True] >= hits[False]


def _aligned(line: str) -> bool:
    """A line of cells apart (a run of spaces inside it, or set in from the margin)."""
    return bool(line.strip()) and (bool(_RUN_RE.search(line)) or line.startswith("  "))


def _numbering(line: str) -> bool:
    """A header row that only numbers the columns (栏次  1  2  3 …). It holds no value, and under
    the header it would make every header cell above it a merged parent cell."""
    cells = _RUN_RE.split(line.strip())
    nums = [c for c in cells if c.isdigit()]
    words = {c for c in cells if not c.isdigit()}
    # one short word first (a data row of small counts starts with its number, not a word)
    return len(nums) >= 2 and len(words) == 1 and len(cells[0]) <= 4 and not cells[0].isdigit() \
        and [int(c) for c in nums] == list(range(int(nums[0]), int(nums[0]) + len(nums)))


def _glued_spaces(line: str) -> set[int]:
    """Positions of single spaces inside a number wrapped in its cell (`6810 0200 .00`,
    `9162 500. 00`): the pieces read as one amount only when joined. Two amounts side by
    side (`4.00 4.00`) stay apart."""
    out: set[int] = set()
    for m in _PIECES_RE.finditer(line):
        parts = m.group().split(" ")
        joined = "".join(parts)
        if "." in joined and NUM_RE.match(joined) and not all(NUM_RE.match(p) and "." in p for p in parts):
            pos = m.start()
            for p in parts[:-1]:
                pos += len(p)
                out.add(pos)
                pos += 1
    return out


_AMOUNT_LABEL_RE = re.compile(rf"(?<![\d,.]){_AMOUNT}(?= [\u4e00-\u9fff])|[\u4e00-\u9fff](?= {_AMOUNT}(?![\d.]))")


def _cell_spaces(line: str) -> set[int]:
    """Positions of single spaces that part two cells: between an amount and a label (a
    dump that counts a CJK character one column leaves one space where the page had more:
    `7,651.71 一、一般公共服务支出`). A year or count before its word (`2026 年`) stays one."""
    return {m.end() for m in _AMOUNT_LABEL_RE.finditer(line)}


def text_pages(text: str) -> list[TextPage]:
    """One pseudo page per \\f-separated page; a line's glyphs at its columns (display
    columns, or one per character: see wide_cjk)."""
    cell = width if wide_cjk(text) else (lambda ch: 1)
    pages = []
    for k, chunk in enumerate(text.split("\f")):
        lines = chunk.split("\n")
        # the layout stage treats the top and bottom 9% of a page as the band of running heads
        # and page numbers; a dump has no margins, so its lines sit in the middle 80%
        height = max(len(lines), 1) * PITCH / 0.8
        margin = 0.1 * height
        page = TextPage(k + 1, 0.0, height)
        row = 0
        for i, line in enumerate(lines):
            if _numbering(line):
                continue  # and leaves no gap: the header above goes on into the rows below
            if not line.strip() and 0 < i < len(lines) - 1 and _aligned(lines[i - 1]) and _aligned(lines[i + 1]):
                continue  # one blank line between two aligned lines: a tall row, not a break
            top = margin + row * PITCH
            row += 1
            col = 0
            spaces = 0
            glued = _glued_spaces(line)
            apart = _cell_spaces(line)
            for pos, ch in enumerate(line):
                if ch == "\t":
                    ch = " "
                if ch.isspace() and ch != "\u3000":  # an ideographic space is printed text
                    col += 1
                    spaces += 1
                    continue
                w = cell(ch)
                reach = 0.0 if pos + 1 in apart else REACH
                page.glyphs.append(TextGlyph(ch, col * UNIT, top, (col + w) * UNIT + reach, top + HEIGHT,
                                             spaces == 1 and pos - 1 not in glued))
                col += w
                spaces = 0
            page.width = max(page.width, col * UNIT + 2 * UNIT)
        pages.append(page)
    while len(pages) > 1 and not pages[-1].glyphs:  # a trailing form feed
        pages.pop()
    return pages


def layout_text(text: str) -> str:
    """The text the later stages read: a space-aligned dump laid out like a PDF (running text
    one line per line, a table as its header paths and one tab-separated cell per column);
    any other text unchanged."""
    if not is_space_aligned(text):
        return text
    out, _boxes = render_pages(text_pages(text))
    return out
