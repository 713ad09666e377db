"""Indicator rows of the tab and cells layouts, and rows → indicators.

- tab:   one row per line, cells separated by tabs (PDF dumps with tab-separated cells);
- cells: one cell per tab-led line, rows separated by blank lines, an untabbed line
         continuing the cell above (DOCX dumps).

Level-1 and level-2 names are carried down when a table prints them only on the first row
of a group.
"""
from __future__ import annotations

import re

from .. import vocab
from ..layout import Layout, Line
from ..model import Indicator
from .perf_blocks import Header
from .perf_cells import Row, TextCell, header_role, tidy, unspaced

_STANDARD_L1 = frozenset(p for ps in vocab.PERF_LEVEL2_PARENTS.values() for p in ps)


# --------------------------------------------------------------------------- tab layout

def _roles_of(cells: list[str]) -> list[str | None]:
    return [header_role(c) for c in cells]


def tab_rows(lines: list[Line], h: Header, last: int) -> list[Row]:
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
        if vocab.PERF_TOTAL_RE.match(unspaced(texts[0])):
            break
        started = True
        row: Row = {}
        pos = 0
        for k, text in enumerate(texts[:len(roles)]):
            role = roles[k]
            if role and role != "ignore" and text.strip():
                row.setdefault(role, TextCell()).add(ln.norm, pos, pos + len(text))
            pos += len(text) + 1
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- cells layout

def _cell_blocks(lines: list[Line], start: int, last: int) -> list[list[TextCell]]:
    blocks: list[list[TextCell]] = [[]]
    for ln in lines[start:last + 1]:
        raw = ln.raw
        if not raw.strip(" \r\n"):
            if blocks[-1]:
                blocks.append([])
            continue
        if raw.startswith("\t"):
            t = ln.norm
            k = t.text.find("\t")
            blocks[-1].append(TextCell().add(t, k + 1, force=True))
        elif blocks[-1]:
            blocks[-1][-1].add(ln.norm)
        else:
            break  # an untabbed line after a row break: the table has ended
    return [b for b in blocks if b]


def _cells_roles(header: list[TextCell], sub: list[TextCell] | None) -> list[str | None]:
    top = [header_role(c.text) for c in header]
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
            role = header_role(c.text)
            out.append("value" if group == "value" and role in ("value_part", "value") else
                       (group if role in (None, "value_part") else role))
        else:
            group = None
            out.append(top[k] if k < len(top) else None)
            k += 1
    return out


def cells_rows(lines: list[Line], h: Header, last: int) -> list[Row]:
    blocks = _cell_blocks(lines, h.first, last)
    if not blocks:
        return []
    header, rest = blocks[0], blocks[1:]
    sub = None
    if rest and any(c.text for c in rest[0]) and all(
            not c.text or header_role(c.text) in ("value_part", "value", "ignore") for c in rest[0]):
        sub, rest = rest[0], rest[1:]
    roles = _cells_roles(header, sub)
    rows: list[Row] = []
    for cells in rest:
        if cells and vocab.PERF_TOTAL_RE.match(unspaced(cells[0].text)):
            break
        if len(cells) < len(roles) and len(cells) >= 3:
            # a row missing its leading (merged) cells aligns on the right
            cells = [TextCell()] * (len(roles) - len(cells)) + cells
        row: Row = {}
        for role, c in zip(roles, cells):
            if role and role != "ignore" and c.text:
                cell = row.setdefault(role, TextCell())
                cell.pieces.extend(c.pieces)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- rows → indicators

def rows_to_indicators(layout: Layout, rows: list[Row]) -> list[Indicator]:
    out: list[Indicator] = []
    l1 = l2 = ""
    for row in rows:
        c1 = tidy(row["level1"].text) if "level1" in row else ""
        c2 = tidy(row["level2"].text) if "level2" in row else ""
        if c1:
            l1, l2 = c1, ""
        if c2:
            l2 = c2
        parents = vocab.PERF_LEVEL2_PARENTS.get(unspaced(l2))
        if not c1 and parents and l1 in _STANDARD_L1 and l1 not in parents:
            l1 = parents[0]  # a carried level 1 contradicting the standard tree
        l3 = tidy(row["level3"].text) if "level3" in row else ""
        value = row["value"].text if "value" in row else ""
        if not l3 and not value:
            continue  # placeholder row (a level-2 name with nothing under it)
        rng = [r for r in (c.source_range() for c in row.values()) if r]
        span = layout.span(min(r[0] for r in rng), max(r[1] for r in rng))
        out.append(Indicator(
            level1=l1, level2=l2, level3=l3,
            description=tidy(row["description"].text) if "description" in row else "",
            value=re.sub(r"\s+", " ", value).strip(),
            basis=tidy(row["basis"].text) if "basis" in row else "", span=span))
    return out
