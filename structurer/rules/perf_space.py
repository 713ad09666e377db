"""Indicator rows of the space layout: PDF text with one space between cells and cells
wrapped over several lines.

Rows start at a level-2 name (possibly wrapped); the rest of a row is split into its columns
by a small dynamic programme over the space-separated fragments, scoring how well each
candidate cell wraps (a line only breaks when the next word does not fit) and whether the
value column looks like a value. A document's tables share one template, so the column
widths learnt from the cells that wrapped are used to split every row again.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .. import vocab
from ..layout import Line
from .perf_blocks import Header
from .perf_cells import CJK, LEVEL1, Piece, Row, TextCell, header_role, looks_value, unspaced

_L2_WRAPPED = frozenset(w for w in vocab.PERF_LEVEL2 if w.endswith("指标"))
_L1_WRAPPED = frozenset(w for w in vocab.PERF_LEVEL1 if w.endswith("指标"))
_PAGE_NO_RE = re.compile(r"^[-—\s]*\d{1,3}[-—\s]*$")


# --------------------------------------------------------------------------- space layout

@lru_cache(maxsize=8192)
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _first_word_width(text: str) -> int:
    m = re.match(r"[A-Za-z0-9.,%\[\]()+\-/:_]+", text)
    if m:
        return _width(m.group(0))
    return _width(text[:1])


@dataclass
class _Tok:
    src: Piece
    text: str
    line: int  # ordinal of the body line
    first: bool  # first token on its line
    last: bool  # last token on its line
    page: int = 0  # count of repeated headers (page breaks) before it


def _line_tokens(ln: Line) -> list[tuple[int, int]]:
    t = ln.norm
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", t.text)]
    merged: list[list[int]] = []
    for a, b in spans:
        if merged:
            pa, pb = merged[-1]
            prev, cur = t.text[pa:pb], t.text[a:b]
            if (re.search(r"\d$", prev) and re.match(rf"[{CJK}/]", cur)
                    and not vocab.PERF_VALUE_RE.match(cur)) \
                    or (re.fullmatch(r"[A-Za-z]+", prev) and re.match(rf"[{CJK}]", cur)) \
                    or (re.search(rf"[{CJK}]$", prev) and re.fullmatch(r"[A-Za-z]+", cur)):
                merged[-1][1] = b
                continue
        merged.append([a, b])
    return [(a, b) for a, b in merged]


def _match_vocab(toks: list[_Tok], i: int, words: frozenset[str]) -> tuple[str, int] | None:
    if i >= len(toks) or not toks[i].first:
        return None
    w = unspaced(toks[i].text)
    if w in words:
        return w, i + 1
    if toks[i].last and i + 1 < len(toks) and toks[i + 1].first and toks[i + 1].page == toks[i].page:
        w2 = w + unspaced(toks[i + 1].text)
        if w2 in words:
            return w2, i + 2
    return None


@dataclass
class _SpaceRow:
    level1: str
    level2: str
    l1_toks: list[_Tok]
    l2_toks: list[_Tok]
    toks: list[_Tok] = field(default_factory=list)
    post: list[_Tok] = field(default_factory=list)


def _space_stream(lines: list[Line], h: Header, last: int) -> list[_Tok]:
    head = lines[h.first].compact
    toks: list[_Tok] = []
    page = 0
    ordinal = 0
    for ln in lines[h.last + 1:last + 1]:
        if ln.blank or _PAGE_NO_RE.match(ln.norm.text):
            continue
        if ln.compact == head:
            page += 1
            continue
        parts = _line_tokens(ln)
        ordinal += 1
        for k, (a, b) in enumerate(parts):
            toks.append(_Tok((ln.norm, a, b), ln.norm.text[a:b], ordinal, k == 0,
                             k == len(parts) - 1, page))
    return toks


def _space_rows(toks: list[_Tok]) -> list[_SpaceRow]:
    rows: list[_SpaceRow] = []
    level1 = ""
    l1_toks: list[_Tok] = []
    i = 0
    while i < len(toks):
        m1 = _match_vocab(toks, i, LEVEL1 | _L1_WRAPPED)
        if m1:
            m2 = _match_vocab(toks, m1[1], _L2_WRAPPED)
            if m2:
                level1, l1_toks = m1[0], toks[i:m1[1]]
                i = m1[1]
        m2 = _match_vocab(toks, i, _L2_WRAPPED)
        if m2:
            rows.append(_SpaceRow(level1, m2[0], l1_toks, toks[i:m2[1]]))
            l1_toks = []
            i = m2[1]
            continue
        if rows:
            row = rows[-1]
            start = (row.l2_toks or row.toks or [toks[i]])[0].page
            if toks[i].page != start and (row.toks or row.post):
                row.post.append(toks[i])
            else:
                row.toks.append(toks[i])
        i += 1
    return rows


@dataclass
class _Span:
    """A candidate cell: tokens a..b grouped into line pieces, with what the costs need."""
    text: str
    widths: list[int]
    fws: list[int]  # first-word width of each piece
    same_cost: float
    wrap_cost: float  # pieces that are not wraps whatever the column width
    is_value: bool
    qualitative: bool
    length: int
    measure: bool  # ends in a noun naming what is measured (…程度, …比例)
    next_fw: int = 0  # first-word width of the next token when it starts a new line


@lru_cache(maxsize=4096)
def _text_kind(text: str) -> tuple[bool, bool, int, bool]:
    flat = unspaced(text)
    is_value = looks_value(text)
    qual = (len(flat) <= 12 and bool(vocab.PERF_QUALITATIVE_RE.search(flat))
            and not re.search(r"[、，。；,;]", flat))
    return is_value, qual, len(flat), bool(vocab.PERF_MEASURE_NOUN_RE.search(flat))


def _row_spans(toks: list[_Tok]) -> dict[tuple[int, int], _Span]:
    """Every candidate cell of a row (tokens a..b over at most _MAX_CELL_LINES lines)."""
    n = len(toks)
    tw = [_width(t.text) for t in toks]
    tfw = [_first_word_width(t.text) for t in toks]
    # '至少开展 2 次对…': a number inside running text joins its line cheaply
    tjoin = [0.3 if t.text[:1].isdigit() and not looks_value(t.text) else 2.0 for t in toks]
    out: dict[tuple[int, int], _Span] = {}
    for a in range(n):
        widths: list[int] = []
        fws: list[int] = []
        same = 0.0
        text = ""
        for b in range(a, n):
            t = toks[b]
            if t.line - toks[a].line >= _MAX_CELL_LINES:
                break
            if b > a and toks[b - 1].line == t.line:
                widths[-1] += 1 + tw[b]
                same += tjoin[b]
            else:
                widths.append(tw[b])
                fws.append(tfw[b])
            piece = t.text
            if text and (toks[b - 1].line == t.line or text[-1].isascii() and text[-1].isalnum()
                         and piece[0].isascii() and piece[0].isalnum()):
                text += " "
            text += piece
            wrap = 0.0
            if len(widths) > 1:
                maxw = max(widths)
                for i in range(len(widths) - 1):
                    if widths[i] + fws[i + 1] <= maxw:
                        wrap += 4.0  # this line would have taken the next word: not a wrap
            sp = _Span(text, list(widths), list(fws), same, wrap, *_text_kind(text))
            if b + 1 < n and toks[b + 1].first:
                sp.next_fw = tfw[b + 1]
            out[(a, b)] = sp
    return out


def _cell_cost(sp: _Span, role: str, width: int | None) -> float:
    cost = sp.same_cost + sp.wrap_cost
    if width:
        ws = sp.widths
        slack = max(1, width // 12)
        for i, w in enumerate(ws):
            if w > width + slack:
                cost += 3.0  # wider than the column
            if i < len(ws) - 1 and w + sp.fws[i + 1] <= width:
                cost += 2.0  # the next word would have fitted on this line
        if sp.next_fw and ws[-1] + sp.next_fw > width and ws[-1] >= width - 2:
            cost += 1.0  # ends on a full line: more likely to go on below
    if role == "value":
        if sp.is_value:
            cost -= 3.0
        elif sp.measure:
            cost += 1.0
        elif sp.qualitative:
            cost -= 1.5
        elif sp.length <= 6:
            cost -= 0.5
        elif sp.length > 14:
            cost += 2.0
    elif role == "basis":
        if sp.is_value:
            cost += 2.0
        elif sp.length > 14:
            cost += 1.0
    elif role in ("level3", "description") and sp.is_value:
        cost += 2.0
    return cost


_MAX_CELL_LINES = 5


@dataclass
class SpaceTable:
    """The rows of one space-layout table, with their candidate cells computed once."""
    rows: list[_SpaceRow]
    roles: list[str]
    feats: list[dict[tuple[int, int], _Span]] = field(default_factory=list)
    parts: list[list[list[int]] | None] = field(default_factory=list)

    def spans(self, k: int) -> dict[tuple[int, int], _Span]:
        while len(self.feats) <= k:
            self.feats.append(_row_spans(self.rows[len(self.feats)].toks))
        return self.feats[k]

    def partition(self, widths: dict[str, int]) -> None:
        self.parts = [_partition(len(r.toks), self.spans(k), self.roles, widths)
                      for k, r in enumerate(self.rows)]


def _partition(n: int, spans: dict[tuple[int, int], _Span], roles: list[str],
               widths: dict[str, int]) -> list[list[int]] | None:
    """Best split of n tokens into len(roles) contiguous cells (description may be empty)."""
    k = len(roles)
    if n == 0:
        return None
    INF = float("inf")
    best = [[INF] * (k + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (k + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for col in range(k):
        role = roles[col]
        w = widths.get(role)
        final = col == k - 1
        need = sum(1 for r in roles[col + 1:] if r != "description")  # cells still to fill
        for a in range(n - need):
            base = best[a][col]
            if base == INF:
                continue
            if role == "description" and base + 1.5 < best[a][col + 1]:
                best[a][col + 1] = base + 1.5  # an empty description cell
                back[a][col + 1] = (a, a)
            for b in (range(n - 1, n) if final else range(a, n - need)):
                sp = spans.get((a, b))
                if sp is None:
                    if final:
                        continue
                    break
                c = base + _cell_cost(sp, role, w)
                if c < best[b + 1][col + 1]:
                    best[b + 1][col + 1] = c
                    back[b + 1][col + 1] = (a, b + 1)
    if best[n][k] == INF:
        return None
    cuts: list[list[int]] = []
    pos, col = n, k
    while col > 0:
        a, b = back[pos][col]  # type: ignore[misc]
        cuts.append(list(range(a, b)))
        pos, col = a, col - 1
    return cuts[::-1]


def _space_roles(lines: list[Line], h: Header) -> list[str | None]:
    return [header_role(w) for w in lines[h.first].norm.text.split()]


def space_table(lines: list[Line], h: Header, last: int) -> SpaceTable | None:
    roles = _space_roles(lines, h)
    if "level2" not in roles:
        return None
    data_roles = [r or "ignore" for r in roles[roles.index("level2") + 1:]]
    return SpaceTable(_space_rows(_space_stream(lines, h, last)), data_roles)


def estimate_widths(tables: list[SpaceTable]) -> dict[str, int]:
    """Column widths of a document's space-layout tables (one template per document):
    the median width of the lines of cells that wrapped, a wrapped line being full."""
    obs: dict[str, list[int]] = {}
    for t in tables:
        for k, p in enumerate(t.parts):
            if not p:
                continue
            spans = t.spans(k)
            for role, idx in zip(t.roles, p):
                if len(idx) > 1:
                    ws = spans[(idx[0], idx[-1])].widths
                    obs.setdefault(role, []).extend(ws[:-1])
    out = {}
    for role, ws in obs.items():
        if len(ws) >= 3:
            ws.sort()
            out[role] = ws[len(ws) // 2]
    return out


def _pieces(toks: list[_Tok]) -> list[Piece]:
    """Tokens as cell pieces, neighbours on one line as one piece (keeping their space)."""
    out: list[Piece] = []
    prev: _Tok | None = None
    for t in toks:
        if prev is not None and prev.line == t.line and prev.src[0] is t.src[0] and out:
            nt, i, _ = out[-1]
            out[-1] = (nt, i, t.src[2])
        else:
            out.append(t.src)
        prev = t
    return out


def space_table_rows(t: SpaceTable, widths: dict[str, int]) -> list[Row]:
    rows: list[Row] = []
    for r, p in zip(t.rows, t.parts):
        if p is None:
            continue
        row: Row = {"level1": TextCell(_pieces(r.l1_toks)), "level2": TextCell(_pieces(r.l2_toks))}
        cells = [[r.toks[i] for i in idx] for idx in p]
        for tok in r.post:  # a row cut by a page break: its rest goes to the cell that was full
            target = 0
            for ci, role in enumerate(t.roles):
                w = widths.get(role)
                if cells[ci] and w and _width(cells[ci][-1].text) + _first_word_width(tok.text) > w:
                    target = ci
                    break
            cells[target].append(tok)
        for role, ctoks in zip(t.roles, cells):
            if role != "ignore" and ctoks:
                row[role] = TextCell(_pieces(ctoks))
        rows.append(row)
    return rows
