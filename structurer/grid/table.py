"""Lines of one page → running text and table grids.

A table is a run of lines with cells apart from each other; its columns come from ruling
lines where the page draws them, else from where the data cells sit across rows (numbers
share a right edge, labels a left one) together with the header's leaf cells, so a column
that is empty in every row still exists. Header cells merged over several columns become a
column path (基本支出 › 人员经费). Rows come from baselines, or from horizontal rules where
drawn; a label or number wrapped inside its cell is joined to its row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..vocab import CODE_RE, HEADER_WORD_RE
from .header import header_cells, leaf_cells
from .lines import Frag, VLine

_ORDINAL_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.](?!\d)|其中[:：])")
_PROSE_RE = re.compile(r"[。；;]|[，,][\u4e00-\u9fff]")
UNIT_LINE_RE = re.compile(r"单位[:：]|金额单位|计量单位[:：]")
_TOTAL_RE = re.compile(r"^(合计|总计|小计)$")
_NUMBERISH_RE = re.compile(r"^[-−]?[\d,]*\.?\d*$")


@dataclass
class Column:
    x0: float
    x1: float
    path: list[str] = field(default_factory=list)

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class GridRow:
    cells: list[list[Frag]]
    top: float
    bottom: float


@dataclass
class Grid:
    page: int
    columns: list[Column]
    rows: list[GridRow] = field(default_factory=list)


_UNIT_CLAUSE_RE = re.compile(r"(?:万元|亿元|元)[，,；;。]")


def _is_prose(ln: VLine) -> bool:
    c = ln.compact
    # a number followed by its unit word (7.8 | 万元，占…): a sentence set with wide spacing;
    # a table states its unit once, never after each value
    if any(a.numeric and b.text.startswith(("万元", "亿元", "元")) for a, b in zip(ln.frags, ln.frags[1:])):
        return True
    if _UNIT_CLAUSE_RE.match(ln.frags[0].text):  # "万元，占…": a sentence carried over a line
        return True
    return len(c) >= 16 and bool(_PROSE_RE.search(c)) and not any(f.amount for f in ln.frags)


def _is_caption(ln: VLine) -> bool:
    """A table's title, unit statement or note: text around a table, never a row of it."""
    c = ln.compact
    return (c.endswith("表") and not any(f.amount for f in ln.frags)) or bool(UNIT_LINE_RE.search(c)) \
        or c.startswith(("注:", "注：", "说明:", "说明："))


def _tabular(ln: VLine) -> bool:
    if _is_prose(ln) or _is_caption(ln):
        return False
    if len(ln.frags) >= 2:
        return True
    f = ln.frags[0]
    return f.numeric


def is_data(ln: VLine) -> bool:
    if any(f.amount for f in ln.frags):
        return True
    first = ln.frags[0].text.replace(" ", "")
    return len(ln.frags) >= 2 and bool(CODE_RE.match(first)) and not all(f.numeric for f in ln.frags)


_SEQ_RE = re.compile(r"^[1-9]\d{0,2}$")
_TAIL_RE = re.compile(r"^(?:\.\d{1,2}|0\d?)$")
_CJK_START_RE = re.compile(r"^[\u4e00-\u9fff]")


def first_data(block: list[VLine]) -> int:
    """Index of a table block's first body row. Besides rows with amounts or codes, a row
    number before a label or an enumerated label (a summary table's rows that hold no amount
    on this page) and the decimal tails of amounts wrapped over a page break (`救助  00  00`)
    are rows: header cells are words, never such numbers or enumerations."""
    for i, ln in enumerate(block):
        if is_data(ln):
            return i
        texts = [f.text.replace(" ", "") for f in ln.frags]
        if len(texts) >= 2 and _SEQ_RE.match(texts[0]) and _CJK_START_RE.match(texts[1]) \
                and not any(t.isdigit() for t in texts[1:]):
            return i
        if len(texts) >= 2 and _ORDINAL_RE.match(texts[0]) and len(texts[0]) > 3:
            return i  # 六、事业单位经营收入 …: an enumerated row label (a page going on without a header)
        tails = [t for t in texts if _TAIL_RE.match(t)]
        if len(tails) >= 2 and len(tails) >= len(texts) - 1:
            return i
    return len(block)


def split_blocks(lines: list[VLine]) -> list[tuple[str, list[VLine]]]:
    """("text", [line]) and ("table", lines) items in reading order."""
    out: list[tuple[str, list[VLine]]] = []
    k = 0
    n = len(lines)
    while k < n:
        ln = lines[k]
        if not _tabular(ln) and not _header_lead(lines, k):
            out.append(("text", [ln]))
            k += 1
            continue
        j = k
        block = []
        while j < n:
            cur = lines[j]
            if block and cur.top - block[-1].bottom > _break_gap(cur, block):
                break
            if block and _header_again(cur, block):
                break  # the header printed again: the table goes on under a header of its own
            if _tabular(cur) or _header_lead(lines, j) or (block and (_wrapped_inside(lines, j, block)
                                                                     or _label_row(cur, block)
                                                                     or _label_run(lines, j, block))):
                block.append(cur)
                j += 1
                continue
            break
        # one row alone (the last row of a table, carried over to the next page) is a table too
        if any(is_data(b) for b in block) and (len(block) >= 2 or len(block[0].frags) >= 3):
            out.append(("table", block))
        else:
            out.extend(("text", [b]) for b in block)
        k = j
    return out


def _header_again(ln: VLine, block: list[VLine]) -> bool:
    """The block's first header line printed again after its data rows."""
    if len(ln.frags) < 2 or is_data(ln) or is_data(block[0]):
        return False
    return ln.compact == block[0].compact and any(is_data(b) for b in block)


def _header_lead(lines: list[VLine], k: int) -> bool:
    """A one-cell line right above a table line: a header cell merged over columns."""
    ln = lines[k]
    if not _header_word_cell(ln):
        return False
    prev = ln
    for nxt in lines[k + 1:k + 5]:  # (header cells wrapped over lines come one under another)
        if nxt.top - prev.bottom > 2.0 * ln.height:
            return False
        if _tabular(nxt):
            return True
        if not _header_word_cell(nxt):
            return False
        prev = nxt
    return False


def _header_word_cell(ln: VLine) -> bool:
    return len(ln.frags) == 1 and not _is_prose(ln) and len(ln.compact) <= 20 and not _is_caption(ln)


def _pitch(block: list[VLine]) -> float:
    """The usual gap between two rows of a table (sparse tables leave room between rows)."""
    gaps = sorted(b.top - a.bottom for a, b in zip(block, block[1:]))
    return gaps[len(gaps) // 2] if gaps else 0.0


def _label_row(ln: VLine, block: list[VLine]) -> bool:
    """A row with a label and no values, right under the table's previous row."""
    return (_lone_label(ln)
            and ln.top - block[-1].bottom < max(1.5 * ln.height, 1.3 * _pitch(block))
            and min(b.x0 for b in block) - 5 <= ln.x0 <= max(b.x1 for b in block)
            and any(is_data(b) for b in block) if block else False)


def _lone_label(ln: VLine) -> bool:
    c = ln.compact
    return len(ln.frags) == 1 and not _is_prose(ln) and not _is_caption(ln) and len(c) <= 30 \
        and not c.startswith(("注", "说明", "备注"))


def _label_run(lines: list[VLine], j: int, block: list[VLine]) -> bool:
    """Label-only rows after a wider gap than the table's rows leave (a dump prints a blank line
    where the page had more room), indented into the table and leading back to its value rows:
    the rows of a summary's longer side. A heading after a table starts at the margin, or
    leads to text."""
    if not any(is_data(b) for b in block):
        return False
    x0, x1 = min(b.x0 for b in block), max(b.x1 for b in block)
    prev = block[-1]
    for ln in lines[j:j + 60]:
        if ln.top - prev.bottom > _break_gap(ln, block):
            return False
        if len(ln.frags) >= 2 or ln.frags[0].numeric:
            return _tabular(ln) and is_data(ln)
        if not (_lone_label(ln) and x0 + 2 * ln.height <= ln.x0 <= x1):
            return False
        prev = ln
    return False


def _break_gap(ln: VLine, block: list[VLine]) -> float:
    """A gap wider than this ends a table."""
    return max(3.0 * max(ln.height, 1), 1.5 * _pitch(block))


def _wrapped_inside(lines: list[VLine], j: int, block: list[VLine]) -> bool:
    """A one-cell line between two table lines: a label wrapped inside its cell."""
    ln = lines[j]
    if len(ln.frags) != 1 or _is_prose(ln) or _is_caption(ln):
        return False
    if ln.top - block[-1].bottom > 1.2 * ln.height:
        return False
    return j + 1 < len(lines) and _tabular(lines[j + 1]) and lines[j + 1].top - ln.bottom < 2.0 * ln.height


# --------------------------------------------------------------------------- columns

def _data_runs(frags: list[Frag]) -> list[list[float]]:
    """Where the data cells sit: runs of overlapping cells. Amounts and labels are run apart
    first: a right-aligned amount column that ends close before a left-aligned label column
    may touch it on some rows (a dump's character grid shifts cells by a column or two), and
    stays its own column unless the two overlap by most of the narrower one."""
    nums = _merge_intervals([(f.x0, f.x1) for f in frags if f.numeric], 1.0)
    text = _merge_intervals([(f.x0, f.x1) for f in frags if not f.numeric], 1.0)
    runs = sorted(nums + text)
    out: list[list[float]] = []
    for a, b in runs:
        if out and a <= out[-1][1] + 1.0:
            pa, pb = out[-1]
            overlap = min(pb, b) - a
            if overlap > 0.5 * min(pb - pa, b - a):
                out[-1][1] = max(pb, b)
                continue
            cut = (a + pb) / 2  # touching runs of both kinds: part them where they meet
            out[-1][1] = cut
            a = cut
        out.append([a, b])
    return out


def _merge_intervals(spans: list[tuple[float, float]], slack: float) -> list[list[float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + slack:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def is_header_word(ln: VLine) -> bool:
    return bool(HEADER_WORD_RE.search(ln.compact))


def infer_columns(head: list[VLine], data: list[VLine], vrules: list[float], grid: bool = False) -> list[Column]:
    """`grid`: every rule runs the full height of the rows: each space between two rules is a
    column, an empty one too (a page continuing a table whose header is on the page before)."""
    if len(vrules) >= 3:
        xs = sorted(vrules)
        cols = [Column(a, b) for a, b in zip(xs, xs[1:]) if b - a > 4]
        used = [c for c in cols if any(c.x0 <= f.xc <= c.x1 for ln in head + data for f in ln.frags)]
        if grid and not any(is_header_word(ln) for ln in head) and len(used) >= 2:
            return cols
        if len(used) >= 2:
            return used
    frags = [f for ln in data for f in ln.frags if not _TOTAL_RE.match(f.text.replace(" ", ""))]
    cols = [Column(a, b) for a, b in _data_runs(frags)]
    leaves = leaf_cells(header_cells(head), cols) if head else []
    def hits(c: Column, f: Frag) -> bool:
        return min(c.x1, f.x1) - max(c.x0, f.x0) > 0

    headless = [c for c in cols if not any(hits(c, lf) for lf in leaves)]
    for leaf in sorted(leaves, key=lambda f: f.x0):
        if any(hits(c, leaf) for c in cols):
            continue
        # a header centred over a wide column whose values sit at one edge of it (right-aligned
        # amounts): it heads the nearest column no header reaches, if no other header is nearer
        near = min(headless, key=lambda c: abs(c.xc - leaf.xc), default=None)
        if near is not None and not any(lf is not leaf and min(leaf.xc, near.xc) <= lf.xc <= max(leaf.xc, near.xc)
                                        for lf in leaves):
            near.x0, near.x1 = min(near.x0, leaf.x0), max(near.x1, leaf.x1)
            headless.remove(near)
        elif not _over_others(leaf, leaves):
            cols.append(Column(leaf.x0, leaf.x1))
    cols.sort(key=lambda c: c.x0)
    # one data run under several header leaves: split it between them
    out: list[Column] = []
    for c in cols:
        over = sorted((lf for lf in leaves if c.x0 - 1 <= lf.xc <= c.x1 + 1), key=lambda f: f.x0)
        if len(over) >= 2 and all(a.x1 < b.x0 for a, b in zip(over, over[1:])):
            cuts = [(a.x1 + b.x0) / 2 for a, b in zip(over, over[1:])]
            edges = [c.x0] + cuts + [c.x1]
            out.extend(Column(a, b) for a, b in zip(edges, edges[1:]))
        else:
            out.append(c)
    return out


def _over_others(leaf: Frag, leaves: list[Frag]) -> bool:
    """A header word above the band of the other leaves, over no data, with leaves below it
    on both sides (收入 centred over 项目 and 预算数): a merged cell too short to reach its
    columns, not an empty column of its own."""
    low = [f for f in leaves if f.top >= leaf.bottom]
    return any(f.x1 <= leaf.xc for f in low) and any(f.x0 >= leaf.xc for f in low)


def column_of(cols: list[Column], f: Frag) -> int:
    x = f.xc
    best, dist = 0, float("inf")
    for i, c in enumerate(cols):
        if c.x0 - 0.5 <= x <= c.x1 + 0.5:
            return i
        d = min(abs(x - c.x0), abs(x - c.x1))
        if d < dist:
            best, dist = i, d
    return best


# --------------------------------------------------------------------------- rows

def _row_of(ln: VLine, cols: list[Column]) -> GridRow:
    cells: list[list[Frag]] = [[] for _ in cols]
    for f in ln.frags:
        cells[column_of(cols, f)].append(f)
    return GridRow(cells, ln.top, ln.bottom)


def _text_cols(rows: list[GridRow], n: int) -> set[int]:
    num = [0] * n
    txt = [0] * n
    for r in rows:
        for i, c in enumerate(r.cells):
            for f in c:
                if f.numeric:
                    num[i] += 1
                else:
                    txt[i] += 1
    return {i for i in range(n) if txt[i] > num[i]}


def _starts_row(r: GridRow) -> bool:
    first = next((c for c in r.cells if c), None)
    if not first:
        return False
    t = first[0].text.replace(" ", "")
    return bool(CODE_RE.match(t) or _ORDINAL_RE.match(t) or _TOTAL_RE.match(t))


def _number_tail(prev: list[Frag], f: Frag) -> bool:
    """`f` is the wrapped end of the number above it (21,118.5 / 1, 12,572 / .73)."""
    if not prev or not f.text or not _NUMBERISH_RE.match(f.text):
        return False
    p = prev[-1].text
    if not _NUMBERISH_RE.match(p) or not any(ch.isdigit() for ch in p):
        return False
    if f.text.startswith(".") or p.endswith((".", ",")):
        return True
    return "." in p and len(p.split(".")[1]) < 2 and len(f.text) <= 2 and "." not in f.text


def build_rows(lines: list[VLine], cols: list[Column], hrules: list[tuple[float, float, float]]) -> list[GridRow]:
    """`hrules`: (y, x0, x1) of a ruled table's horizontal rules; none for an unruled one."""
    raw = [_row_of(ln, cols) for ln in lines]
    if hrules:
        return _rows_by_rules(raw, hrules)
    textual = _text_cols(raw, len(cols))
    rows: list[GridRow] = []
    for r in raw:
        prev = rows[-1] if rows else None
        near = prev is not None and r.top - prev.bottom < 0.9 * (r.bottom - r.top)
        filled = [i for i, c in enumerate(r.cells) if c]
        numeric = any(f.numeric for c in r.cells for f in c)
        if near and filled and all(_number_tail(prev.cells[i], r.cells[i][0]) and len(r.cells[i]) == 1
                                   for i in filled):
            for i in filled:
                prev.cells[i].append(r.cells[i][0])
            prev.bottom = r.bottom
            continue
        if near and not numeric and filled and set(filled) <= textual and not _starts_row(r) \
                and all(prev.cells[i] for i in filled):
            _absorb(prev, r)
            continue
        if near and numeric and not _starts_row(r) and not any(f.numeric for c in prev.cells for f in c) \
                and all(not prev.cells[i] or i in textual for i in filled):
            _absorb(prev, r)  # a label wrapped above the line that carries its values
            continue
        rows.append(r)
    return rows


def _absorb(prev: GridRow, r: GridRow) -> None:
    for i, c in enumerate(r.cells):
        prev.cells[i].extend(c)
    prev.bottom = max(prev.bottom, r.bottom)


def _rows_by_rules(raw: list[GridRow], rules: list[tuple[float, float, float]]) -> list[GridRow]:
    """A line joins the row above unless a rule runs between them under its own text, or
    it lies outside the ruled area (a caption or note)."""
    top, bottom = min(y for y, _, _ in rules), max(y for y, _, _ in rules)
    rows: list[GridRow] = []
    for r in raw:
        mid = (r.top + r.bottom) / 2
        xs = [(f.x0, f.x1) for c in r.cells for f in c]
        prev = rows[-1] if rows else None
        inside = top < mid < bottom and prev is not None and top < (prev.top + prev.bottom) / 2
        if inside and not any((prev.top + prev.bottom) / 2 < y < mid and
                              any(min(b, fx1) - max(a, fx0) > 0 for fx0, fx1 in xs)
                              for y, a, b in rules):
            _absorb(prev, r)
        else:
            rows.append(r)
    return rows


def cell_text(frags: list[Frag]) -> str:
    """A cell's fragments top to bottom: wrapped text and wrapped numbers glued."""
    fs = sorted(frags, key=lambda f: (round(f.top / 3), f.x0))
    out = ""
    for f in fs:
        t = f.text
        if out and not (_glue(out[-1]) and _glue(t[0])):
            out += " "
        out += t
    return out


def _glue(ch: str) -> bool:
    return ch.isdigit() or ch in ".,-−%()（）" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
