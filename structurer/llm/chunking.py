"""Chunks for the model, cut along the segmentation, never by blind character windows.

- one table per chunk (segmentation already merges a table's continuation pages; the
  page furniture and column headers repeated on those pages are dropped here);
- a long table is split by row groups, each part repeating the table's header lines;
- performance blocks and narrative sections are chunked separately, consecutive small
  ones grouped up to the size limit; narrative sections that state no amount, share or
  change are not sent at all;
- a table whose rows are tab-separated cells is shown as a grid (`cells.py`): one header
  path per column, every cell of a row kept, cell ids `r<line>c<k>` the model can cite;
- every line keeps its document line number (1-based), printed in front of it so the
  model can cite it. In a one-cell-per-line layout (a DOCX dump: rows are blocks of cell
  lines separated by empty lines) a block is shown as one line, its cells joined by tabs
  and numbered with the block's first line; citing any line of a block cites the block.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..layout import Layout
from ..segment import SectionLoc, Segmentation
from .cells import Grid, build_grid, grid_width, render_grid

_AMOUNT_RE = re.compile(r"\d\.\d|\d{1,3}(?:,\d{3})+|\d\.(?!\d)")
_NARRATIVE_NUMBER_RE = re.compile(r"\d(?:[\d,.]*\d)?\s*(?:亿元|万元|千元|元|%)")
_RECORD_START_RE = re.compile(
    r"^\s*(?:\d{3}(?:\s?\d{2}){0,2}\b|\d{1,3}\s|[一二三四五六七八九十]+、|其中[:：]|合\s*计)")
_COLNO_RE = re.compile(r"^\s*(?:栏次|行次)")
_FIELD_SEP_RE = re.compile(r"[\s；;，。：:、]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_INT_RE = re.compile(r"-?\d+")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_TOC_RE = re.compile(r"[·…]{3,}|\.{5,}")
_INNER_SEP_RE = re.compile(r"\t| {2,}")

Group = list[int]  # 0-based indices of the source lines shown as one numbered line


@dataclass
class Chunk:
    kind: str  # table | narrative | performance
    section: str  # table id, "narrative" or "performance"
    title: str
    unit: str | None
    groups: list[Group]  # shown lines in order (header groups first in each part)
    header: list[Group] = field(default_factory=list)
    part: int = 1
    parts: int = 1
    sections: list[SectionLoc] = field(default_factory=list)
    text: str = ""  # the numbered lines as sent
    grid: Grid | None = None  # a table laid out as a grid: its cells, by id

    @property
    def lines(self) -> list[int]:
        return [i for g in self.groups for i in g]

    @property
    def first(self) -> int:
        return min(self.lines) if self.groups else 0

    @property
    def last(self) -> int:
        return max(self.lines) if self.groups else 0

    @property
    def name(self) -> str:
        part = f" part {self.part}/{self.parts}" if self.parts > 1 else ""
        return f"{self.section} lines {self.first + 1}-{self.last + 1}{part}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def group_of(self) -> dict[int, Group]:
        """1-based line number → the group of 0-based line indices it belongs to."""
        out: dict[int, Group] = {}
        for g in self.groups:
            for i in g:
                out[i + 1] = g
        return out


@dataclass
class ChunkLimits:
    max_lines: int = 120  # body lines (groups) per table part
    max_chars: int = 6000  # characters of numbered text per chunk (tables: per part)


def _group_text(layout: Layout, g: Group) -> str:
    if len(g) == 1:
        return layout.lines[g[0]].norm.text.rstrip()
    return "\t".join(layout.lines[i].norm.text.strip() for i in g)


def render(layout: Layout, groups: list[Group], header: list[Group] | None = None) -> str:
    """Numbered lines `123|text` (normalized text: NFKC, simplified, markup removed); a
    table's header lines come first, unnumbered (no value is cited from them)."""
    head = [g for g in header or [] if g in groups]
    out = [_group_text(layout, g) for g in head]
    if head:
        out = ["header:", *out, "rows:"]
    out.extend(f"{g[0] + 1}|{_group_text(layout, g)}" for g in groups if g not in head)
    return "\n".join(out)


def _size(layout: Layout, g: Group) -> int:
    return sum(len(layout.lines[i].norm.text) for i in g) + 6


def has_values(text: str) -> bool:
    """Does a table line print a value: an amount, or a number after a text label (a
    sequence number, a code, a year or a 栏次 line of column numbers is not one)?"""
    if _AMOUNT_RE.search(text):
        return True
    if _COLNO_RE.match(text):
        return False
    seen_label = False
    for f in _FIELD_SEP_RE.split(text.strip()):
        if _CJK_RE.search(f):
            seen_label = True
        elif seen_label and _INT_RE.fullmatch(f) and not _YEAR_RE.fullmatch(f):
            return True
    return False


def _one_cell_per_line(layout: Layout, first: int, last: int) -> bool:
    lines = [layout.lines[i] for i in range(first, last + 1) if not layout.lines[i].blank]
    if len(lines) < 6:
        return False
    single = sum(1 for ln in lines if ln.raw[:1] in ("\t", " ") and not _INNER_SEP_RE.search(ln.raw.strip()))
    return single >= 0.7 * len(lines)


def groups_of(layout: Layout, first: int, last: int) -> list[Group]:
    """The shown lines of source lines first..last: one per non-blank line, or in a
    one-cell-per-line layout one per block (a tab alone is an empty cell of the block)."""
    lines = layout.lines
    if not _one_cell_per_line(layout, first, last):
        return [[i] for i in range(first, last + 1) if not lines[i].blank]
    out: list[Group] = []
    cur: Group = []
    for i in range(first, last + 1):
        if not lines[i].raw.strip("\r\n"):
            if cur:
                out.append(cur)
            cur = []
            continue
        cur.append(i)
    if cur:
        out.append(cur)
    # a block of empty cells alone says nothing
    return [g for g in out if any(not lines[i].blank for i in g)]


def _table_groups(layout: Layout, sec: SectionLoc) -> tuple[list[Group], list[Group]]:
    """(header, body) of a table section; repeats of the first page's header lines on
    continuation pages are left out."""
    header: list[Group] = []
    body: list[Group] = []
    seen: set[str] = set()
    in_header = True
    for g in groups_of(layout, sec.first, sec.last):
        text = _group_text(layout, g)
        key = "".join(text.split())
        if in_header and (g[0] == sec.first or not has_values(text)):
            header.append(g)
            seen.add(key)
            continue
        in_header = False
        if key in seen and not has_values(text):
            continue  # a page header or column header printed again
        body.append(g)
    return header, body


def record_start(layout: Layout, g: Group) -> bool:
    """Does this shown line start a table record (a code, a sequence number, an ordinal …)?"""
    return bool(_RECORD_START_RE.match(_group_text(layout, g)))


def _split_rows(layout: Layout, body: list[Group], budget_lines: int, budget_chars: int) -> list[list[Group]]:
    """Row groups within the budget, cut before a line that starts a record when possible."""
    parts: list[list[Group]] = []
    cur: list[Group] = []
    size = 0
    last_start: int | None = None  # position in `cur` (> 0) of the latest record start
    for g in body:
        text = _group_text(layout, g)
        starts = bool(_RECORD_START_RE.match(text)) or bool(cur and g[0] > cur[-1][-1] + 1)
        if cur and (len(cur) >= budget_lines or size + _size(layout, g) > budget_chars):
            cut = len(cur) if starts or not last_start else last_start
            parts.append(cur[:cut])
            cur = cur[cut:]
            size = sum(_size(layout, x) for x in cur)
            last_start = None
        if starts and cur:
            last_start = len(cur)
        cur.append(g)
        size += _size(layout, g)
    if cur:
        parts.append(cur)
    return parts


def _value_rows(layout: Layout, body: list[Group]) -> list[Group]:
    """Body lines that print values, with the (at most two) lines above a value line that
    has no label of its own: rows printing nothing need not be read."""
    texts = [_group_text(layout, g) for g in body]
    keep: set[int] = set()
    for k, t in enumerate(texts):
        if has_values(t):
            keep.add(k)
            if not _CJK_RE.search(t):
                keep.update(j for j in (k - 1, k - 2) if j >= 0)
    return [g for k, g in enumerate(body) if k in keep]


def table_chunks(layout: Layout, sec: SectionLoc, limits: ChunkLimits) -> list[Chunk]:
    header, body = _table_groups(layout, sec)
    body = _value_rows(layout, body)
    if not body:
        return []  # no value printed: the table is empty (as stated), nothing to ask
    head_chars = sum(_size(layout, g) for g in header)
    budget = max(limits.max_chars - head_chars, limits.max_chars // 3)
    parts = _split_rows(layout, body, limits.max_lines, budget)
    width = grid_width(layout, body)  # decided for the whole table, so every part agrees
    return [table_part(layout, sec, header, rows, k, len(parts), width) for k, rows in enumerate(parts, 1)]


def table_part(layout: Layout, sec: SectionLoc, header: list[Group], rows: list[Group], part: int, parts: int,
               width: int | None) -> Chunk:
    """One part of a table: its header and rows, shown as a grid when the table is one."""
    grid = build_grid(layout, header, rows, width)
    groups = header + rows
    if grid is not None:
        text = render_grid(layout, grid, header, rows, lambda g: _group_text(layout, g))
    else:
        text = render(layout, groups, header)
    return Chunk("table", sec.id, sec.title, sec.unit, groups, header=list(header), part=part, parts=parts,
                 sections=[sec], text=text, grid=grid)


def grouped_chunks(layout: Layout, secs: list[SectionLoc], kind: str, limits: ChunkLimits,
                   unit: str | None) -> list[Chunk]:
    """Consecutive sections of one kind grouped up to the size limit; a longer one is split
    by lines, each part repeating the section's first line (its title)."""
    out: list[Chunk] = []
    cur: list[Group] = []
    cur_secs: list[SectionLoc] = []
    size = 0

    def flush():
        nonlocal cur, cur_secs, size
        if cur:
            out.append(Chunk(kind, kind, cur_secs[0].title, unit, cur, sections=cur_secs,
                             text=render(layout, cur)))
        cur, cur_secs, size = [], [], 0

    for sec in secs:
        groups = groups_of(layout, sec.first, sec.last)
        if kind == "narrative":
            groups = [g for g in groups if not _TOC_RE.search(_group_text(layout, g))]
        if not groups:
            continue
        n = sum(_size(layout, g) for g in groups)
        if cur and size + n > limits.max_chars:
            flush()
        if n > limits.max_chars:
            head, rest = groups[:1], groups[1:]
            part: list[Group] = []
            psize = _size(layout, head[0])
            for g in rest:
                m = _size(layout, g)
                if part and psize + m > limits.max_chars:
                    cur, cur_secs = head + part, [sec]
                    flush()
                    part, psize = [], _size(layout, head[0])
                part.append(g)
                psize += m
            if part:
                cur, cur_secs = head + part, [sec]
                flush()
            continue
        cur.extend(groups)
        cur_secs.append(sec)
        size += n
    flush()
    return out


def narrative_sections(layout: Layout, seg: Segmentation) -> list[SectionLoc]:
    """Narrative sections that state at least one amount, share or change."""
    return [s for s in seg.sections if s.kind == "narrative" and any(
        _NARRATIVE_NUMBER_RE.search(layout.lines[i].norm.text) for i in range(s.first, s.last + 1))]


def chunk_document(layout: Layout, seg: Segmentation, limits: ChunkLimits | None = None,
                   kinds: tuple[str, ...] = ("table", "performance", "narrative")) -> list[Chunk]:
    limits = limits or ChunkLimits()
    chunks: list[Chunk] = []
    if "table" in kinds:
        for sec in seg.tables():
            chunks.extend(table_chunks(layout, sec, limits))
    if "performance" in kinds:
        perf = [s for s in seg.sections if s.kind == "performance"]
        chunks.extend(grouped_chunks(layout, perf, "performance", limits, None))
    if "narrative" in kinds:
        chunks.extend(grouped_chunks(layout, narrative_sections(layout, seg), "narrative", limits,
                                     seg.meta.unit))
    return chunks
