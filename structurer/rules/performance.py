"""Performance targets (绩效目标表, 绩效自评表) → one PerformanceTarget per project block.

A block is a performance section found by segmentation (extended over prose the segmenter
split off when its indicator table lies beyond it), or an indicator table found outside
any section under a title naming it (部门整体支出绩效指标 …). Its indicator table is read
by header words (一级指标/二级指标/三级指标/指标值/指标值确定依据), in four layouts:

- tab:   one row per line, cells separated by tabs (PDF dumps with tab-separated cells);
- cells: one cell per tab-led line, rows separated by blank lines, an untabbed line
         continuing the cell above (DOCX dumps);
- space: PDF text with one space between cells and cells wrapped over several lines.
         Rows start at a level-2 name (possibly wrapped); the rest of a row is split into
         its columns by a small dynamic programme over the space-separated fragments,
         scoring how well each candidate cell wraps (a line only breaks when the next
         word does not fit) and whether the value column looks like a value;
- summary: 预算项目绩效目标汇总表, one project per coded row with column groups
         (成本指标/产出指标/…) of 三级指标 + 指标值, continuation rows that may sit shifted.

Level-1 and level-2 names are carried down when a table prints them only on the first row
of a group. Vocabulary lives in vocab.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal, InvalidOperation

from .. import vocab
from ..layout import Layout, Line
from ..model import Indicator, PerformanceTarget
from ..normalize import NText
from ..segment import Segmentation

_L1 = frozenset(vocab.PERF_LEVEL1)
_L2_WRAPPED = frozenset(w for w in vocab.PERF_LEVEL2 if w.endswith("指标"))
_L1_WRAPPED = frozenset(w for w in vocab.PERF_LEVEL1 if w.endswith("指标"))
_STANDARD_L1 = frozenset(p for ps in vocab.PERF_LEVEL2_PARENTS.values() for p in ps)
_L1_ANY_RE = re.compile("|".join(sorted(_L1, key=len, reverse=True)))
_HEADER_ROLE_RES = tuple((re.compile(p), r) for p, r in vocab.PERF_HEADER_ROLES)

_NUMBER_PREFIX_RE = re.compile(
    r"^\s*(?:[(（]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[、.．](?!\d)|[一二三四五六七八九十]+\s*、|"
    r"[(（][一二三四五六七八九十]+[)）])\s*")
_ARABIC_PREFIX_RE = re.compile(r"^\s*(?:[(（]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[、.．](?!\d))")
_GENERIC_NAME_RE = re.compile(r"^(\d{4}年度?)?(部门|单位)?(预算)?(项目)?(支出)?$")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’、，。；：（）《》【】〔〕"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_UNIT_PAREN_RE = re.compile(r"[(（](亿元|万元|千元|元)[)）]")
_GOAL_AMOUNT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|元)")
_GOAL_AMOUNT_CUE_RE = re.compile(r"资金|经费|预算|支付|拨付|安排")
_PAGE_NO_RE = re.compile(r"^[-—\s]*\d{1,3}[-—\s]*$")
_LABELS_RE = re.compile(r"(项目)?基本信息|(项目)?主管部门|实施单位|项目编码|项目资金|预算单位|单位名称|资金用途|得分|分值|"
                        r"执行率|年初预算数|全年预算数|全年执行数|年度资金总额|\((万元|元)\)")
_ORG_RE = re.compile(r"(局|中心|委员会|办公室|厅)$")
_DATE_RE = re.compile(r"^\d{4}\s*年(\s*\d{1,2}\s*月)?(\s*\d{1,2}\s*日)?$|^\d{4}\s*年度$")


# --------------------------------------------------------------------------- cells

Piece = tuple[NText, int, int]  # characters [i, j) of a normalized line


@dataclass
class _Cell:
    pieces: list[Piece] = field(default_factory=list)

    def add(self, t: NText, i: int = 0, j: int | None = None, force: bool = False) -> "_Cell":
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


Row = dict  # role -> _Cell


def _tidy(text: str) -> str:
    """Collapse whitespace; drop the spaces a PDF dump puts between two CJK characters."""
    text = " ".join(text.split())
    return _CJK_SPACE_RE.sub("", text) if " " in text else text


def _flat(text: str) -> str:
    return "".join(text.split())


def _header_role(cell: str) -> str | None:
    c = _flat(cell)
    if not c:
        return None
    for rx, role in _HEADER_ROLE_RES:
        if rx.fullmatch(c):
            return role
    return None


def _looks_value(text: str) -> bool:
    t = text.strip()
    return bool(vocab.PERF_VALUE_RE.match(t) or vocab.PERF_DATE_VALUE_RE.match(t))


# --------------------------------------------------------------------------- blocks

@dataclass
class _Block:
    first: int  # title line
    last: int
    id: str
    named: bool = False  # the project name is in a 项目名称 field, not in the title


@dataclass
class _Header:
    kind: str  # tab | cells | space | summary
    first: int  # first header line
    last: int  # last header line


def _header_at(lines: list[Line], i: int, last: int) -> _Header | None:
    ln = lines[i]
    c = ln.compact
    if not c:
        return None
    if c.startswith("一级指标"):
        fields = [f for f in ln.raw.split("\t") if f.strip()]
        if "\t" in ln.raw and len(fields) >= 3:
            return _Header("tab", i, i)
        if ln.raw.startswith("\t") and ln.norm.text.strip() == "一级指标":
            return _Header("cells", i, i)
        if "二级指标" in c and len(ln.norm.text.split()) >= 3:
            return _Header("space", i, i)
        return None
    if "\t" in ln.raw and _L1_ANY_RE.search(c):
        fields = [_flat(f) for f in ln.norm.text.split("\t")]
        if sum(1 for f in fields if f in _L1) >= 2:
            nxt = next((k for k in range(i + 1, min(last, i + 3) + 1) if not lines[k].blank), None)
            if nxt is not None and "三级指标" in lines[nxt].compact and "指标值" in lines[nxt].compact:
                return _Header("summary", i, nxt)
    return None


def _find_header(lines: list[Line], start: int, last: int) -> _Header | None:
    for i in range(start, last + 1):
        h = _header_at(lines, i, last)
        if h:
            return h
    return None


def _blocks(layout: Layout, seg: Segmentation) -> list[_Block]:
    lines = layout.lines
    n = len(lines)
    secs = sorted(seg.sections, key=lambda s: s.first)
    blocks: list[_Block] = []
    for s in secs:
        if s.kind != "performance":
            continue
        last = s.last
        if _find_header(lines, s.first + 1, s.last) is None:
            # the indicator table may lie beyond prose the segmenter split off
            last = next((t.first for t in secs if t.first > s.first and t.kind != "narrative"), n) - 1
        blocks.append(_Block(s.first, last, s.id))
    covered = [(b.first, b.last) for b in blocks]
    # indicator tables outside any performance section, under a title that names them
    for i, ln in enumerate(lines):
        if not ln.compact.startswith("一级指标") or any(a <= i <= b for a, b in covered):
            continue
        if _header_at(lines, i, n - 1) is None:
            continue
        title = _orphan_title(lines, i)
        if title is None:
            continue
        stop = next((t.first for t in secs if t.first > i), n) - 1
        blocks.append(_Block(title, stop, "performance_targets"))
        covered.append((title, stop))
    blocks.sort(key=lambda b: b.first)
    return [sub for b in blocks for sub in _split_named(lines, b)]


def _split_named(lines: list[Line], b: _Block) -> list[_Block]:
    """One section holding several project tables, each under its own 项目名称 line."""
    out = [b]
    seen_header = False
    for i in range(b.first + 1, b.last + 1):
        if not seen_header:
            seen_header = _header_at(lines, i, b.last) is not None
            continue
        if "项目名称" in lines[i].compact and _find_header(lines, i + 1, b.last) is not None:
            out[-1] = _Block(out[-1].first, i - 1, out[-1].id, out[-1].named)
            out.append(_Block(i, b.last, b.id, True))
            seen_header = False
    return out


def _orphan_title(lines: list[Line], i: int) -> int | None:
    seen = 0
    for k in range(i - 1, max(-1, i - 30), -1):
        ln = lines[k]
        if ln.blank:
            continue
        seen += 1
        if seen > 6:
            break
        c = ln.compact
        if len(c) <= 60 and "绩效" in c and not re.search(r"[，。；]", c) \
                and len([f for f in ln.raw.split("\t") if f.strip()]) <= 1:
            return k
    return None


# --------------------------------------------------------------------------- names, amounts

def _project_name(title: str) -> str:
    t = _NUMBER_PREFIX_RE.sub("", title, count=1)
    t = re.sub(r"\s+$", "", t)
    flat_end = _flat(t)
    m = vocab.PERF_TITLE_SUFFIX_RE.search(flat_end)
    if m:
        # remove the suffix's characters from the end of the spaced text
        k = len(m.group(0))
        j = len(t)
        while k and j:
            j -= 1
            if not t[j].isspace():
                k -= 1
        t = t[:j]
    return _tidy(t)


def _name_candidate(text: str) -> str | None:
    t = _LABELS_RE.sub("", text).strip(" :：\t")
    if not t or _ORG_RE.search(t) or _DATE_RE.match(t) or re.search(r"绩效|自评", t) \
            or _NUMBER_RE.fullmatch(t) or len(t) > 80:
        return None
    return _tidy(t)


def _named_field(lines: list[Line], start: int, stop: int) -> str | None:
    """The value of a 项目名称 field: a later cell of its line that is not a label or an
    agency, else the nearest such line above or below (tables printed out of order)."""
    for i in range(start, stop):
        text = lines[i].norm.text
        k = text.find("项目名称")
        if k < 0:
            continue
        for f in re.split(r"\t|\s{2,}", text[k + 4:]):
            name = _name_candidate(f)
            if name:
                return name
        for step in (-1, 1):
            k2 = i + step
            while start <= k2 < stop and lines[k2].blank:
                k2 += step
            if start <= k2 < stop:
                for f in lines[k2].norm.text.split("\t"):
                    name = _name_candidate(f)
                    if name:
                        return name
        return None
    return None


def _unit_near(lines: list[Line], start: int, stop: int, default: str | None) -> str:
    for ln in lines[start:stop]:
        m = vocab.UNIT_RE.search(ln.compact) or _UNIT_PAREN_RE.search(ln.norm.text)
        if m:
            return m.group(1)
    return default or "元"


def _amount(layout: Layout, start: int, stop: int, default_unit: str | None):
    """(value in 元, printed, unit) from a budget label in the block's head, else None."""
    lines = layout.lines
    for i in range(start, stop):
        ln = lines[i]
        text = ln.norm.text
        for m in vocab.PERF_AMOUNT_LABEL_RE.finditer(text):
            rest = text[m.end():]
            n = re.match(r"[\s\t:：]*(" + _NUMBER_RE.pattern + r")", rest)
            if not n:
                continue
            printed_norm = n.group(1)
            same_line = _UNIT_PAREN_RE.search(text)
            unit = m.group(3) or (same_line.group(1) if same_line else None) \
                or _unit_near(lines, start, stop, default_unit)
            j = m.end() + n.start(1)
            span = layout.span_of(ln.norm, j, j + len(printed_norm))
            printed = layout.printed(span)
            try:
                value = Decimal(printed_norm.replace(",", "")) * vocab.UNIT_FACTORS.get(unit, 1)
            except InvalidOperation:
                continue
            return value, printed, unit
    # a goal text stating one amount of funds
    found = []
    for i in range(start, stop):
        text = lines[i].norm.text
        for m in _GOAL_AMOUNT_RE.finditer(text):
            found.append((i, m, text))
    if len({(m.group(1), m.group(2)) for _, m, _ in found}) == 1:
        i, m, text = found[0]
        if _GOAL_AMOUNT_CUE_RE.search(text[max(0, m.start() - 12):m.start()]):
            span = layout.span_of(lines[i].norm, m.start(1), m.end(1))
            unit = m.group(2)
            return Decimal(m.group(1)) * vocab.UNIT_FACTORS[unit], layout.printed(span), unit
    return None


# --------------------------------------------------------------------------- tab layout

def _roles_of(cells: list[str]) -> list[str | None]:
    return [_header_role(c) for c in cells]


def _tab_rows(lines: list[Line], h: _Header, last: int) -> list[Row]:
    head = lines[h.first]
    roles = _roles_of(head.norm.text.split("\t"))
    rows: list[Row] = []
    started = False
    for ln in lines[h.last + 1:last + 1]:
        if ln.blank:
            continue
        if "\t" not in ln.raw:
            if started:
                break
            continue
        if ln.compact == head.compact:
            continue  # header repeated after a page break
        texts = ln.norm.text.split("\t")
        if vocab.PERF_TOTAL_RE.match(_flat(texts[0])):
            break
        started = True
        row: Row = {}
        pos = 0
        for k, text in enumerate(texts[:len(roles)]):
            role = roles[k]
            if role and role != "ignore" and text.strip():
                row.setdefault(role, _Cell()).add(ln.norm, pos, pos + len(text))
            pos += len(text) + 1
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- cells layout

def _cell_blocks(lines: list[Line], start: int, last: int) -> list[list[_Cell]]:
    blocks: list[list[_Cell]] = [[]]
    for ln in lines[start:last + 1]:
        raw = ln.raw
        if not raw.strip(" \r\n"):
            if blocks[-1]:
                blocks.append([])
            continue
        if raw.startswith("\t"):
            t = ln.norm
            k = t.text.find("\t")
            blocks[-1].append(_Cell().add(t, k + 1, force=True))
        elif blocks[-1]:
            blocks[-1][-1].add(ln.norm)
        else:
            break  # an untabbed line after a row break: the table has ended
    return [b for b in blocks if b]


def _cells_roles(header: list[_Cell], sub: list[_Cell] | None) -> list[str | None]:
    top = [_header_role(c.text) for c in header]
    if not sub:
        return top
    out: list[str | None] = []
    k = 0
    group: str | None = None
    for c in sub:
        if c.text:
            if group is None and k < len(top):
                group = top[k]
                k += 1
            role = _header_role(c.text)
            out.append("value" if group == "value" and role in ("value_part", "value") else
                       (group if role in (None, "value_part") else role))
        else:
            group = None
            out.append(top[k] if k < len(top) else None)
            k += 1
    return out


def _cells_rows(lines: list[Line], h: _Header, last: int) -> list[Row]:
    blocks = _cell_blocks(lines, h.first, last)
    if not blocks:
        return []
    header, rest = blocks[0], blocks[1:]
    sub = None
    if rest and any(c.text for c in rest[0]) and all(
            not c.text or _header_role(c.text) in ("value_part", "value", "ignore") for c in rest[0]):
        sub, rest = rest[0], rest[1:]
    roles = _cells_roles(header, sub)
    rows: list[Row] = []
    for cells in rest:
        if cells and vocab.PERF_TOTAL_RE.match(_flat(cells[0].text)):
            break
        if len(cells) < len(roles) and len(cells) >= 3:
            # a row missing its leading (merged) cells aligns on the right
            cells = [_Cell()] * (len(roles) - len(cells)) + cells
        row: Row = {}
        for role, c in zip(roles, cells):
            if role and role != "ignore" and c.text:
                cell = row.setdefault(role, _Cell())
                cell.pieces.extend(c.pieces)
        rows.append(row)
    return rows


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
            if (re.search(r"\d$", prev) and re.match(rf"[{_CJK}/]", cur)
                    and not vocab.PERF_VALUE_RE.match(cur)) \
                    or (re.fullmatch(r"[A-Za-z]+", prev) and re.match(rf"[{_CJK}]", cur)) \
                    or (re.search(rf"[{_CJK}]$", prev) and re.fullmatch(r"[A-Za-z]+", cur)):
                merged[-1][1] = b
                continue
        merged.append([a, b])
    return [(a, b) for a, b in merged]


def _match_vocab(toks: list[_Tok], i: int, words: frozenset[str]) -> tuple[str, int] | None:
    if i >= len(toks) or not toks[i].first:
        return None
    w = _flat(toks[i].text)
    if w in words:
        return w, i + 1
    if toks[i].last and i + 1 < len(toks) and toks[i + 1].first and toks[i + 1].page == toks[i].page:
        w2 = w + _flat(toks[i + 1].text)
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


def _space_stream(lines: list[Line], h: _Header, last: int) -> list[_Tok]:
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
        m1 = _match_vocab(toks, i, _L1 | _L1_WRAPPED)
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
    flat = _flat(text)
    is_value = _looks_value(text)
    qual = (len(flat) <= 12 and bool(vocab.PERF_QUALITATIVE_RE.search(flat))
            and not re.search(r"[、，。；,;]", flat))
    return is_value, qual, len(flat), bool(vocab.PERF_MEASURE_NOUN_RE.search(flat))


def _row_spans(toks: list[_Tok]) -> dict[tuple[int, int], _Span]:
    """Every candidate cell of a row (tokens a..b over at most _MAX_CELL_LINES lines)."""
    n = len(toks)
    tw = [_width(t.text) for t in toks]
    tfw = [_first_word_width(t.text) for t in toks]
    # '至少开展 2 次对…': a number inside running text joins its line cheaply
    tjoin = [0.3 if t.text[:1].isdigit() and not _looks_value(t.text) else 2.0 for t in toks]
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
class _SpaceTable:
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


def _space_roles(lines: list[Line], h: _Header) -> list[str | None]:
    return [_header_role(w) for w in lines[h.first].norm.text.split()]


def _space_table(lines: list[Line], h: _Header, last: int) -> _SpaceTable | None:
    roles = _space_roles(lines, h)
    if "level2" not in roles:
        return None
    data_roles = [r or "ignore" for r in roles[roles.index("level2") + 1:]]
    return _SpaceTable(_space_rows(_space_stream(lines, h, last)), data_roles)


def _estimate_widths(tables: list[_SpaceTable]) -> dict[str, int]:
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


def _space_table_rows(t: _SpaceTable, widths: dict[str, int]) -> list[Row]:
    rows: list[Row] = []
    for r, p in zip(t.rows, t.parts):
        if p is None:
            continue
        row: Row = {"level1": _Cell(_pieces(r.l1_toks)), "level2": _Cell(_pieces(r.l2_toks))}
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
                row[role] = _Cell(_pieces(ctoks))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- summary layout

def _summary_targets(layout: Layout, h: _Header, last: int, default_unit: str | None
                     ) -> list[PerformanceTarget]:
    lines = layout.lines
    group_fields = [_flat(f) for f in lines[h.first].norm.text.split("\t")]
    sub_fields = [_flat(f) for f in lines[h.last].norm.text.split("\t")]
    above = next((k for k in range(h.first - 1, max(-1, h.first - 4), -1) if not lines[k].blank), None)
    top_fields = [_flat(f) for f in lines[above].norm.text.split("\t")] if above is not None else []
    groups = [(p, f) for p, f in enumerate(group_fields) if f in _L1]
    slots: dict[int, tuple[str, str]] = {}
    for gi, (g, label) in enumerate(groups):
        end = groups[gi + 1][0] if gi + 1 < len(groups) else len(sub_fields)
        l3 = next((p for p in range(g, end) if p < len(sub_fields) and "三级指标" in sub_fields[p]), None)
        val = next((p for p in range(g, end) if p < len(sub_fields) and sub_fields[p] == "指标值"), None)
        if l3 is None or val is None:
            continue
        slots[l3] = ("l3", label)
        slots[val] = ("value", label)
    if not slots:
        return []
    ind_start = min(slots)

    def pos_of(fields: list[str], rx: str) -> int | None:
        return next((p for p, f in enumerate(fields) if re.search(rx, f)), None)

    code_pos = pos_of(top_fields, r"编码|代码") or 0
    name_pos = pos_of(top_fields, r"名称")
    if name_pos is None:
        name_pos = code_pos + 1
    amount_pos = pos_of(sub_fields, r"资金总额|合计") or pos_of(top_fields, r"金额|资金总额")
    unit = None
    for f in top_fields + sub_fields:
        m = _UNIT_PAREN_RE.search(f)
        if m:
            unit = m.group(1)
            break
    unit = unit or default_unit or "万元"

    targets: list[PerformanceTarget] = []
    cur: dict | None = None

    def add_pairs(cells: list[tuple[int, NText]], shifts: tuple[int, ...]) -> None:
        if cur is None or not cells:
            return
        best = None
        for s in shifts:
            mapped = [(slots.get(p + s), t) for p, t in cells]
            if any(m is None for m, _ in mapped):
                continue
            score = 0.0
            pairs: dict[str, dict[str, NText]] = {}
            for (kind, label), t in mapped:
                pairs.setdefault(label, {})[kind] = t
            for label, pv in pairs.items():
                l3 = _flat(pv["l3"].text) if "l3" in pv else ""
                val = pv["value"].text.strip() if "value" in pv else ""
                if "value" in pv and not (_looks_value(val) or len(_flat(val)) <= 6):
                    score -= 1
                if l3 and _looks_value(l3):
                    score -= 2
                if "成本" in label and (re.search(r"元|万", val) is None if val
                                        else not re.search(r"成本|费用|资金|经费", l3)):
                    score -= 2  # a cost indicator states money
                if "满意" in label and l3 and "满意" not in l3:
                    score -= 2
                if "满意" not in label and "满意" in l3:
                    score -= 2
            if best is None or score > best[0]:
                best = (score, pairs)
        if best is None:
            return
        for label in [lab for _, lab in groups]:
            pv = best[1].get(label)
            if not pv:
                continue
            inds = cur["inds"]
            if "l3" in pv and "value" not in pv:
                prev = next((x for x in reversed(inds) if x["level1"] == label), None)
                if prev is not None:
                    prev["l3"].add(pv["l3"])
                    continue
            if "value" in pv and "l3" not in pv:
                prev = next((x for x in reversed(inds) if x["level1"] == label), None)
                if prev is not None:
                    prev["value"].add(pv["value"])
                    continue
            inds.append({"level1": label, "l3": _Cell().add(pv["l3"]) if "l3" in pv else _Cell(),
                         "value": _Cell().add(pv["value"]) if "value" in pv else _Cell()})

    def close() -> None:
        if cur is None or not cur["inds"]:
            return
        inds = []
        for x in cur["inds"]:
            rng = [r for r in (x["l3"].source_range(), x["value"].source_range()) if r]
            if not rng or not x["l3"].text:
                continue
            span = layout.span(min(r[0] for r in rng), max(r[1] for r in rng))
            inds.append(Indicator(level1=x["level1"], level2="", level3=_tidy(x["l3"].text),
                                  value=x["value"].text, span=span))
        order = {label: k for k, (_, label) in enumerate(groups)}
        inds.sort(key=lambda ind: order.get(ind.level1, len(order)))  # stable: rows within a group
        a, b = cur["range"]
        targets.append(PerformanceTarget(
            project=_tidy(cur["name"].text), amount=cur["amount"], amount_printed=cur["printed"],
            amount_unit=cur["unit"] if cur["amount"] is not None else None,
            span=layout.lines_span(a, b), indicators=inds))

    for i in range(h.last + 1, last + 1):
        ln = lines[i]
        if ln.blank or "\t" not in ln.raw:
            continue
        fields = ln.norm.split_fields("\t")
        texts = [_flat(f.text) for f in fields]
        get = (lambda p: texts[p] if p is not None and p < len(texts) else "")
        code, name = get(code_pos), get(name_pos)
        cells = [(p, f) for p, f in enumerate(fields) if p >= ind_start - 2 and p != name_pos
                 and p != amount_pos and f.text.strip()]
        if re.fullmatch(r"\d{3,}", code):
            has_pairs = any(p in slots for p, _ in cells)
            close()
            cur = None
            if name and (has_pairs or len(code) >= 10):
                amt = None
                printed = None
                if amount_pos is not None and amount_pos < len(fields):
                    f = fields[amount_pos].strip()
                    if _NUMBER_RE.fullmatch(f.text.replace(" ", "")):
                        printed = layout.printed(layout.span_of(f))
                        amt = Decimal(f.text.replace(",", "").replace(" ", "")) * vocab.UNIT_FACTORS[unit]
                cur = {"name": _Cell().add(fields[name_pos]), "amount": amt, "printed": printed,
                       "unit": unit, "inds": [], "range": [i, i]}
                add_pairs([(p, f) for p, f in cells if p >= ind_start], (0,))
            continue
        if cur is None:
            continue
        cur["range"][1] = i
        if name and not code and not get(amount_pos):
            cur["name"].add(fields[name_pos])
        add_pairs(cells, (0, -1, 1, -2, 2))
    close()
    return targets


# --------------------------------------------------------------------------- rows → indicators

def _indicators(layout: Layout, rows: list[Row]) -> list[Indicator]:
    out: list[Indicator] = []
    l1 = l2 = ""
    for row in rows:
        c1 = _tidy(row["level1"].text) if "level1" in row else ""
        c2 = _tidy(row["level2"].text) if "level2" in row else ""
        if c1:
            l1, l2 = c1, ""
        if c2:
            l2 = c2
        parents = vocab.PERF_LEVEL2_PARENTS.get(_flat(l2))
        if not c1 and parents and l1 in _STANDARD_L1 and l1 not in parents:
            l1 = parents[0]  # a carried level 1 contradicting the standard tree
        l3 = _tidy(row["level3"].text) if "level3" in row else ""
        value = row["value"].text if "value" in row else ""
        if not l3 and not value:
            continue  # placeholder row (a level-2 name with nothing under it)
        rng = [r for r in (c.source_range() for c in row.values()) if r]
        span = layout.span(min(r[0] for r in rng), max(r[1] for r in rng))
        out.append(Indicator(
            level1=l1, level2=l2, level3=l3,
            description=_tidy(row["description"].text) if "description" in row else "",
            value=re.sub(r"\s+", " ", value).strip(),
            basis=_tidy(row["basis"].text) if "basis" in row else "", span=span))
    return out


# --------------------------------------------------------------------------- entry point

@dataclass
class _Parsed:
    block: _Block
    title: str
    title_end: int
    header: _Header
    title_first: int = -1
    space: _SpaceTable | None = None


def _prepare(lines: list[Line], b: _Block) -> _Parsed | None:
    title = lines[b.first].norm.text.strip()
    title_end = title_first = b.first
    prev = next((k for k in range(b.first - 1, max(-1, b.first - 3), -1) if not lines[k].blank), None)
    if prev is not None and not b.named and not _NUMBER_PREFIX_RE.match(title):
        head = lines[prev].norm.text.strip()
        if _ARABIC_PREFIX_RE.match(head) and "\t" not in head and len(head) <= 60 \
                and not re.search(r"[，。；;]|表$|绩效", head):
            title = head + title  # a title broken inside the project name
            title_first = prev
    nxt = next((k for k in range(b.first + 1, min(b.last, b.first + 3) + 1) if not lines[k].blank), None)
    if nxt is not None and not title.endswith("表") and re.fullmatch(r"(目标)?表", lines[nxt].compact):
        title += lines[nxt].compact  # a title broken before its last word
        title_end = nxt
    h = _find_header(lines, title_end + 1, b.last)
    if h is None:
        return None
    p = _Parsed(b, title, title_end, h, title_first)
    if h.kind == "space":
        p.space = _space_table(lines, h, b.last)
        if p.space is None:
            return None
    return p


def _targets(layout: Layout, p: _Parsed, unit: str | None, widths: dict[str, int]
             ) -> list[PerformanceTarget]:
    lines = layout.lines
    b, h, title, title_end = p.block, p.header, p.title, p.title_end
    if h.kind == "summary":
        return _summary_targets(layout, h, b.last, unit)
    if h.kind == "tab":
        rows = _tab_rows(lines, h, b.last)
    elif h.kind == "cells":
        rows = _cells_rows(lines, h, b.last)
    else:
        assert p.space is not None
        rows = _space_table_rows(p.space, widths)
    inds = _indicators(layout, rows)
    if not inds:
        return []
    if vocab.PERF_DEPARTMENT_RE.search(_flat(title)):
        name = "部门整体"
    else:
        name = "" if b.named else _project_name(title)
        if not name or _GENERIC_NAME_RE.match(_flat(name)) or b.id == "performance_self_evaluation":
            start = b.first if b.named else title_end + 1
            name = _named_field(lines, start, h.first) or name
    if not name:
        return []
    amt = _amount(layout, title_end + 1, h.first, unit)
    last = max(i.span.line_end for i in inds) - 1
    return [PerformanceTarget(
        project=name, amount=amt[0] if amt else None, amount_printed=amt[1] if amt else None,
        amount_unit=amt[2] if amt else None,
        span=layout.lines_span(min(b.first, p.title_first), max(last, title_end)),
        indicators=inds)]


def extract_performance(layout: Layout, seg: Segmentation) -> list[PerformanceTarget]:
    parsed = [p for p in (_prepare(layout.lines, b) for b in _blocks(layout, seg)) if p]
    # space-layout tables: split rows, learn the template's column widths, split again
    spaced = [p.space for p in parsed if p.space is not None]
    widths: dict[str, int] = {}
    if spaced:
        for t in spaced:
            t.partition({})
        widths = _estimate_widths(spaced)
        if widths:
            for t in spaced:
                t.partition(widths)
    out: list[PerformanceTarget] = []
    for p in parsed:
        out.extend(_targets(layout, p, seg.meta.unit, widths))
    return out
