"""Grounding: every value the model returns must be printed where it says.

A value cites line numbers and its printed text. The text must occur in the cited lines
after normalization (NFKC, simplified characters, markup removed, whitespace and
thousands separators ignored); a number must match whole (not inside a longer number)
and may be broken over two cited lines (a cell cut by a line or page break). The value
must equal the number the printed text states, in the unit it is printed in.

`locate` returns the source ranges of the match, from which the output spans and the
printed text (exactly as in the source) are taken.

A table value may cite instead the id of the grid cell it is printed in (`r12c3`, see
`cells.py`): the cell must be one of the chunk's and print that amount, read as the rules
read a cell; the value's span is then the cell's.
"""
from __future__ import annotations

import bisect
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..layout import Layout
from ..normalize import normalize_line
from .cells import cell_amount
from .chunking import Chunk

_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER_RE = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
_NUMCHAR = set("0123456789.")


def norm_text(text: str) -> str:
    """Normalized, whitespace-free form of a printed text (the model's or the source's)."""
    t = normalize_line(text, 0).text
    t = "".join(t.split()).replace("−", "-").replace("—", "-") if t else ""
    return _THOUSANDS_RE.sub("", t)


def parse_number(text: str) -> Decimal | None:
    """The number a printed text states (separators and spaces ignored), or None."""
    t = norm_text(text).lstrip("+")
    if not _NUMBER_RE.match(t):
        return None
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


@dataclass
class _Line:
    chars: str  # normalized, whitespace- and thousands-separator-free
    src: list[int]  # source offset of each char
    gap: list[bool]  # whitespace (or the line start) right before each char
    end_gap: bool = True  # the line ends after its last char


def _prepare(layout: Layout, idx: int) -> _Line:
    nt = layout.lines[idx].norm
    chars: list[str] = []
    src: list[int] = []
    gap: list[bool] = []
    pending_gap = True
    text = nt.text
    for k, ch in enumerate(text):
        if ch.isspace():
            pending_gap = True
            continue
        if ch == "," and chars and chars[-1].isdigit() and re.match(r"\d{3}(?!\d)", text[k + 1:k + 5]):
            continue
        if ch == "−" or ch == "—":
            ch = "-"
        chars.append(ch)
        src.append(nt.offset(k))
        gap.append(pending_gap)
        pending_gap = False
    return _Line("".join(chars), src, gap)


def _starts_ok(line: _Line, i: int) -> bool:
    return i == 0 or line.gap[i] or line.chars[i - 1] not in _NUMCHAR


def _ends_ok(line: _Line, j: int) -> bool:
    """The match ends right before position j."""
    return j >= len(line.chars) or line.gap[j] or line.chars[j] not in _NUMCHAR


def _find_all(hay: str, needle: str):
    k = hay.find(needle)
    while k >= 0:
        yield k
        k = hay.find(needle, k + 1)


Ranges = list[tuple[int, int]]


class Locator:
    """Finds printed texts in the lines of one chunk (prepared once per line)."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self._lines: dict[int, _Line] = {}

    def line(self, idx: int) -> _Line:
        if idx not in self._lines:
            self._lines[idx] = _prepare(self.layout, idx)
        return self._lines[idx]

    def locate(self, printed: str, idxs: list[int], numeric: bool | None = None,
               skip: frozenset[int] | set[int] = frozenset()) -> Ranges | None:
        """Source ranges of `printed` in lines `idxs` (0-based, in order), or None. Occurrences
        starting at a source offset in `skip` are passed over (a figure printed twice on a line)."""
        p = norm_text(printed)
        if not p:
            return None
        if numeric is None:
            numeric = bool(_NUMBER_RE.match(p.lstrip("+")))
        lines = [(i, self.line(i)) for i in sorted(set(idxs))]
        for _, ln in lines:
            for k in _find_all(ln.chars, p):
                j = k + len(p)
                if ln.src[k] in skip:
                    continue
                if not numeric or (_starts_ok(ln, k) and _ends_ok(ln, j)):
                    return [(ln.src[k], ln.src[j - 1] + 1)]
        if numeric:
            # a number cut in two: a piece ending a cell on one line, the rest starting a cell below
            for a in range(len(lines) - 1):
                la = lines[a][1]
                for cut in range(1, len(p)):
                    head, tail = p[:cut], p[cut:]
                    for k in _find_all(la.chars, head):
                        if not (_starts_ok(la, k) and _ends_ok(la, k + cut)):
                            continue
                        for b in range(a + 1, len(lines)):
                            lb = lines[b][1]
                            for m in _find_all(lb.chars, tail):
                                if _starts_ok(lb, m) and _ends_ok(lb, m + len(tail)):
                                    return [(la.src[k], la.src[k + cut - 1] + 1),
                                            (lb.src[m], lb.src[m + len(tail) - 1] + 1)]
            return None
        # text wrapped over several lines
        joined = "".join(ln.chars for _, ln in lines)
        srcs = [o for _, ln in lines for o in ln.src]
        k = joined.find(p)
        if k < 0:
            return None
        return _ranges_of(self.layout, srcs[k:k + len(p)])

    def printed(self, ranges: Ranges) -> str:
        """The source text of the ranges, one piece per line joined by newlines."""
        text = self.layout.source.text
        return "\n".join(text[s:e] for s, e in ranges)


def _ranges_of(layout: Layout, offsets: list[int]) -> Ranges:
    starts = layout.source.line_starts

    out: Ranges = []
    cur_line, lo, hi = None, 0, 0
    for o in offsets:
        ln = bisect.bisect_right(starts, o) - 1
        if ln != cur_line:
            if cur_line is not None:
                out.append((lo, hi + 1))
            cur_line, lo, hi = ln, o, o
        else:
            lo, hi = min(lo, o), max(hi, o)
    if cur_line is not None:
        out.append((lo, hi + 1))
    return out


@dataclass
class Problem:
    path: tuple  # where in the answer: ("rows", i) or ("rows", i, "cells", j) …
    message: str


@dataclass
class Scope:
    """What the answer to one chunk is validated against."""

    chunk: Chunk
    layout: Layout
    unit: str | None = None
    doc_kind: str | None = None
    strict: bool = True  # raise (reask) on problems; False: collect them and drop the items
    locator: Locator | None = None
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self):
        self.locator = self.locator or Locator(self.layout)
        self._groups = self.chunk.group_of()

    def cited(self, numbers: list[int] | None) -> tuple[list[int] | None, list[int]]:
        """(0-based line indices of the cited lines, numbers that are not in the chunk)."""
        if not numbers:
            return None, []
        idxs: list[int] = []
        bad = []
        for n in numbers:
            g = self._groups.get(n) if isinstance(n, int) else None
            if g is None:
                bad.append(n)
            else:
                idxs.extend(g)
        return sorted(set(idxs)), bad

    def with_next(self, numbers: list[int]) -> list[int]:
        """The cited lines and the line shown after the last of them."""
        shown = [g[0] + 1 for g in self.chunk.groups]
        last = max(numbers)
        after = [n for n in shown if n > last]
        return list(numbers) + after[:1]

    def check_number(self, printed: str, value: Decimal | None, lines: list[int] | None,
                     what: str) -> tuple[str | None, Ranges | None]:
        """(problem, ranges) for a number cited on `lines`."""
        idxs, bad = self.cited(lines)
        if bad:
            return f"{what}: line(s) {bad} are not in this excerpt", None
        if idxs is None:
            return f"{what}: cite the line number(s) it is printed on", None
        num = parse_number(printed)
        if num is None:
            return f"{what}: text {printed!r} is not a number as printed", None
        ranges = self.locator.locate(printed, idxs, numeric=True)
        if ranges is None:
            shown = ", ".join(str(n) for n in lines)
            return f"{what}: {printed!r} is not printed on line {shown}", None
        if value is None or value != num:
            unit = f" ({self.unit})" if self.unit else ""
            return (f"{what}: value {value} does not equal the printed text {printed!r}; give the printed "
                    f"number in the unit it is printed in{unit}, i.e. {num}"), None
        return None, ranges

    def check_cell(self, ident: str, printed: str, value: Decimal | None, what: str
                   ) -> tuple[str | None, Ranges | None]:
        """(problem, ranges) for a number citing grid cell `ident`: the cell's amount must be
        the value (and the printed text, when it is a number, that amount too)."""
        grid = self.chunk.grid
        if grid is None:
            return f"{what}: this excerpt has no cell ids; cite the line number(s) instead", None
        cell, why = grid.cell(ident)
        if cell is None:
            return f"{what}: {why}", None
        amount = cell_amount(cell.text)
        stated = value if value is not None else parse_number(printed)
        if amount is not None and stated == amount and parse_number(printed) in (None, amount):
            return None, [(cell.start, cell.end)]
        shown = f"prints {cell.text!r}" if cell.text else "is empty"
        where = grid.holding(stated) if stated is not None else []
        hint = (f"; {stated} is printed in {', '.join(where)}" if where else
                f"; no cell here prints {stated} (a number cut over two lines is cited by its lines, "
                "not a cell)" if stated is not None else "")
        if amount is not None and stated == amount:
            return f"{what}: text {printed!r} is not what cell {ident} prints ({cell.text!r})", None
        return f"{what}: cell {ident} {shown}, not {printed!r}{hint}", None

    def check_text(self, printed: str, lines: list[int] | None, what: str) -> tuple[str | None, Ranges | None]:
        idxs, bad = self.cited(lines)
        if bad:
            return f"{what}: line(s) {bad} are not in this excerpt", None
        if idxs is None:
            return f"{what}: cite the line number(s) it is printed on", None
        ranges = self.locator.locate(printed, idxs, numeric=False)
        if ranges is None:
            return f"{what}: {printed!r} is not printed on line(s) {', '.join(map(str, lines))}", None
        return None, ranges


SCOPE: ContextVar[Scope | None] = ContextVar("structurer_llm_scope", default=None)


class GroundingError(ValueError):
    """Raised inside validation so that instructor sends the problems back (reask)."""


def report(scope: Scope, problems: list[Problem]) -> None:
    """Raise (strict scope) or record the problems of an answer."""
    if not problems:
        return
    if scope.strict:
        lines = [p.message for p in problems[:40]]
        more = f"\n… and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise GroundingError("Fix these values (every value must be printed on the lines it cites):\n- "
                             + "\n- ".join(lines) + more)
    scope.problems.extend(problems)
