"""Where the performance tables are, and which layout each is printed in.

A block is a performance section found by segmentation (extended over prose the segmenter
split off when its indicator table lies beyond it), or an indicator table found outside any
section under a title naming it (部门整体支出绩效指标 …); a section holding several project
tables, each under its own 项目名称 line, is one block per project. The header row
(一级指标 …) tells the layout: tab, cells, space or summary.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..layout import Layout, Line
from ..segment import Segmentation
from .perf_cells import LEVEL1, unspaced

_L1_ANY_RE = re.compile("|".join(sorted(LEVEL1, key=len, reverse=True)))


# --------------------------------------------------------------------------- blocks

@dataclass
class Block:
    first: int  # title line
    last: int
    id: str
    named: bool = False  # the project name is in a 项目名称 field, not in the title


@dataclass
class Header:
    kind: str  # tab | cells | space | summary
    first: int  # first header line
    last: int  # last header line


def _header_at(lines: list[Line], i: int, last: int) -> Header | None:
    ln = lines[i]
    c = ln.compact
    if not c:
        return None
    if c.startswith("一级指标"):
        fields = [f for f in ln.raw.split("\t") if f.strip()]
        if "\t" in ln.raw and len(fields) >= 3:
            return Header("tab", i, i)
        if ln.raw.startswith("\t") and ln.norm.text.strip() == "一级指标":
            return Header("cells", i, i)
        if "二级指标" in c and len(ln.norm.text.split()) >= 3:
            return Header("space", i, i)
        return None
    if "\t" in ln.raw and _L1_ANY_RE.search(c):
        fields = [unspaced(f) for f in ln.norm.text.split("\t")]
        if sum(1 for f in fields if f in LEVEL1) >= 2:
            nxt = next((k for k in range(i + 1, min(last, i + 3) + 1) if not lines[k].blank), None)
            if nxt is not None and "三级指标" in lines[nxt].compact and "指标值" in lines[nxt].compact:
                return Header("summary", i, nxt)
    return None


def find_header(lines: list[Line], start: int, last: int) -> Header | None:
    for i in range(start, last + 1):
        h = _header_at(lines, i, last)
        if h:
            return h
    return None


def find_blocks(layout: Layout, seg: Segmentation) -> list[Block]:
    lines = layout.lines
    n = len(lines)
    secs = sorted(seg.sections, key=lambda s: s.first)
    blocks: list[Block] = []
    for s in secs:
        if s.kind != "performance":
            continue
        last = s.last
        if find_header(lines, s.first + 1, s.last) is None:
            # the indicator table may lie beyond prose the segmenter split off
            last = next((t.first for t in secs if t.first > s.first and t.kind != "narrative"), n) - 1
        blocks.append(Block(s.first, last, s.id))
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
        blocks.append(Block(title, stop, "performance_targets"))
        covered.append((title, stop))
    blocks.sort(key=lambda b: b.first)
    return [sub for b in blocks for sub in _split_named(lines, b)]


def _split_named(lines: list[Line], b: Block) -> list[Block]:
    """One section holding several project tables, each under its own 项目名称 line."""
    out = [b]
    seen_header = False
    for i in range(b.first + 1, b.last + 1):
        if not seen_header:
            seen_header = _header_at(lines, i, b.last) is not None
            continue
        if "项目名称" in lines[i].compact and find_header(lines, i + 1, b.last) is not None:
            out[-1] = Block(out[-1].first, i - 1, out[-1].id, out[-1].named)
            out.append(Block(i, b.last, b.id, True))
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
