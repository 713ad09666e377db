"""Performance targets (绩效目标表, 绩效自评表) → one PerformanceTarget per project block.

Each block (perf_blocks) holds an indicator table read by header words (一级指标/二级指标/
三级指标/指标值/指标值确定依据) in one of four layouts: tab and cells (perf_rows), space
(perf_space) and summary (perf_summary). This module puts a block's title back together
when it was broken over lines, reads its rows and names its project with its amount
(perf_project). The space-layout tables of a document are split twice: once to learn the
template's column widths, once with them. Vocabulary lives in vocab.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import vocab
from ..layout import Layout, Line
from ..model import PerformanceTarget
from ..segment import Segmentation
from .perf_blocks import Block, Header, find_blocks, find_header
from .perf_cells import unspaced
from .perf_project import GENERIC_NAME_RE, NUMBER_PREFIX_RE, head_amount, named_field, project_name
from .perf_rows import cells_rows, rows_to_indicators, tab_rows
from .perf_space import SpaceTable, estimate_widths, space_table, space_table_rows
from .perf_summary import summary_targets

_ARABIC_PREFIX_RE = re.compile(r"^\s*(?:[(（]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[、.．](?!\d))")


# --------------------------------------------------------------------------- entry point

@dataclass
class _Parsed:
    block: Block
    title: str
    title_end: int
    header: Header
    title_first: int = -1
    space: SpaceTable | None = None


def _prepare(lines: list[Line], b: Block) -> _Parsed | None:
    title = lines[b.first].norm.text.strip()
    title_end = title_first = b.first
    prev = next((k for k in range(b.first - 1, max(-1, b.first - 3), -1) if not lines[k].blank), None)
    if prev is not None and not b.named and not NUMBER_PREFIX_RE.match(title):
        head = lines[prev].norm.text.strip()
        if _ARABIC_PREFIX_RE.match(head) and "\t" not in head and len(head) <= 60 \
                and not re.search(r"[，。；;]|表$|绩效", head):
            title = head + title  # a title broken inside the project name
            title_first = prev
    nxt = next((k for k in range(b.first + 1, min(b.last, b.first + 3) + 1) if not lines[k].blank), None)
    if nxt is not None and not title.endswith("表") and re.fullmatch(r"(目标)?表", lines[nxt].compact):
        title += lines[nxt].compact  # a title broken before its last word
        title_end = nxt
    h = find_header(lines, title_end + 1, b.last)
    if h is None:
        return None
    p = _Parsed(b, title, title_end, h, title_first)
    if h.kind == "space":
        p.space = space_table(lines, h, b.last)
        if p.space is None:
            return None
    return p


def _targets(layout: Layout, p: _Parsed, unit: str | None, widths: dict[str, int]
             ) -> list[PerformanceTarget]:
    lines = layout.lines
    b, h, title, title_end = p.block, p.header, p.title, p.title_end
    if h.kind == "summary":
        return summary_targets(layout, h, b.last, unit)
    if h.kind == "tab":
        rows = tab_rows(lines, h, b.last)
    elif h.kind == "cells":
        rows = cells_rows(lines, h, b.last)
    else:
        assert p.space is not None
        rows = space_table_rows(p.space, widths)
    inds = rows_to_indicators(layout, rows)
    if not inds:
        return []
    if vocab.PERF_DEPARTMENT_RE.search(unspaced(title)):
        name = "部门整体"
    else:
        name = "" if b.named else project_name(title)
        if not name or GENERIC_NAME_RE.match(unspaced(name)) or b.id == "performance_self_evaluation":
            start = b.first if b.named else title_end + 1
            name = named_field(lines, start, h.first) or name
    if not name:
        return []
    amt = head_amount(layout, title_end + 1, h.first, unit)
    last = max(i.span.line_end for i in inds) - 1
    return [PerformanceTarget(
        project=name, amount=amt[0] if amt else None, amount_printed=amt[1] if amt else None,
        amount_unit=amt[2] if amt else None,
        span=layout.lines_span(min(b.first, p.title_first), max(last, title_end)),
        indicators=inds)]


def extract_performance(layout: Layout, seg: Segmentation) -> list[PerformanceTarget]:
    parsed = [p for p in (_prepare(layout.lines, b) for b in find_blocks(layout, seg)) if p]
    # space-layout tables: split rows, learn the template's column widths, split again
    spaced = [p.space for p in parsed if p.space is not None]
    widths: dict[str, int] = {}
    if spaced:
        for t in spaced:
            t.partition({})
        widths = estimate_widths(spaced)
        if widths:
            for t in spaced:
                t.partition(widths)
    out: list[PerformanceTarget] = []
    for p in parsed:
        out.extend(_targets(layout, p, seg.meta.unit, widths))
    return out
