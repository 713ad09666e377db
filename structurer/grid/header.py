"""A table's header lines → one path of header cells per column (基本支出 › 人员经费).

Without ruling lines, a header cell merged over several columns shows only its text, centred
over the columns it spans. Its columns are found as the run of columns below it, bounded by
the cells that share its band, whose centre is closest to the text's centre (the widest such
run when several are about as close); a column whose own header cell reaches up into the
band (a cell merged downwards) is never adopted.
"""
from __future__ import annotations

from .lines import Frag, VLine


def header_cells(head: list[VLine], hrules=()) -> list[Frag]:
    """Header fragments, joined when one cell's text wraps over lines. `hrules`: (y, x0, x1)
    of a ruled table; there a cell's lines may stand far apart, as long as no rule parts them."""
    cells: list[Frag] = []
    for ln in head:
        for f in ln.frags:
            host = None
            h = f.bottom - f.top
            for c in cells:
                ov = min(c.x1, f.x1) - max(c.x0, f.x0)
                if ov <= 0.5 * min(c.x1 - c.x0, f.x1 - f.x0) or f.top - c.bottom < 0:
                    continue
                if f.top - c.bottom < 0.6 * h or (hrules and f.top - c.bottom < 2 * h and not any(
                        c.bottom - 1 <= y <= f.top + 1 and a < min(c.x1, f.x1) and b > max(c.x0, f.x0)
                        for y, a, b in hrules)):
                    host = c
            if host is None:
                cells.append(Frag(f.text, f.x0, f.top, f.x1, f.bottom))
            else:
                host.text += f.text
                host.x0, host.x1 = min(host.x0, f.x0), max(host.x1, f.x1)
                host.bottom = max(host.bottom, f.bottom)
    return cells


def _below(d: Frag, c: Frag) -> bool:
    # a merged cell's text is centred over its children, whose texts may only touch it
    reach = 0.5 * (c.x1 - c.x0)
    return d is not c and d.top >= c.bottom - 1 and c.x0 - reach <= d.xc <= c.x1 + reach


def leaf_cells(cells: list[Frag]) -> list[Frag]:
    """Header cells with no other header cell under them."""
    return [c for c in cells if not any(_below(d, c) for d in cells)]


def _ruled_span(c: Frag, cols, vsegs) -> list[int]:
    """Columns between the vertical rules that cross the cell's band on either side of it."""
    cross = [x for x, t, b in vsegs if t <= c.top + 2 and b >= c.bottom - 2]
    left = max((x for x in cross if x <= c.xc), default=float("-inf"))
    right = min((x for x in cross if x >= c.xc), default=float("inf"))
    return [i for i, col in enumerate(cols) if left - 1 <= col.xc <= right + 1]


def assign_paths(cells: list[Frag], cols, vsegs=()) -> None:
    """Append each header cell's text to the path of every column it spans (top to bottom).
    `vsegs`: the vertical rules (x, top, bottom) drawn around the header, if any."""
    ruled = len(vsegs) >= 3
    n = len(cols)
    if not n:
        return
    # the lowest cell over each column is its leaf
    leaf_top = [None] * n
    for c in cells:
        for i, col in enumerate(cols):
            if col.x0 - 1 <= c.xc <= col.x1 + 1 or (c.x0 - 1 <= col.xc <= c.x1 + 1):
                if leaf_top[i] is None or c.top > leaf_top[i]:
                    leaf_top[i] = c.top
    widths = sorted(col.x1 - col.x0 for col in cols)
    tol = max(12.0, 0.5 * widths[len(widths) // 2])
    spans: dict[int, list[int]] = {}
    for k, c in enumerate(cells):
        under = [i for i, col in enumerate(cols) if c.x0 - 1 <= col.xc <= c.x1 + 1] \
            or [min(range(n), key=lambda i: abs(cols[i].xc - c.xc))]
        if ruled:
            spans[k] = _ruled_span(c, cols, vsegs) or under
            continue
        if not any(_below(d, c) for d in cells):
            spans[k] = under  # a leaf heads its own column only
            continue
        blockers = [d for d in cells if d is not c and d.top < c.bottom - 1 and d.bottom > c.top + 1]
        left = max((d.x1 for d in blockers if d.x1 <= c.x0 + 1), default=float("-inf"))
        right = min((d.x0 for d in blockers if d.x0 >= c.x1 - 1), default=float("inf"))
        ok = [i for i in range(n) if left <= cols[i].xc <= right
              and (i in under or (leaf_top[i] is not None and leaf_top[i] >= c.bottom - 1))]
        best = under
        lo, hi = min(under), max(under)
        best_key = (abs((cols[lo].x0 + cols[hi].x1) / 2 - c.xc) > tol, hi - lo)
        a = lo
        while a - 1 in ok:
            a -= 1
        b = hi
        while b + 1 in ok:
            b += 1
        for i in range(a, lo + 1):
            for j in range(hi, b + 1):
                off = abs((cols[i].x0 + cols[j].x1) / 2 - c.xc)
                key = (off > tol, -(j - i))
                if key < best_key or (key == best_key and off < abs((cols[best[0]].x0 + cols[best[-1]].x1) / 2 - c.xc)):
                    best, best_key = list(range(i, j + 1)), key
        spans[k] = best
    last_top: dict[int, float] = {}
    for k in sorted(spans, key=lambda k: (cells[k].top, cells[k].x0)):
        for i in spans[k]:
            if cols[i].path and abs(last_top[i] - cells[k].top) <= 2:
                cols[i].path[-1] += cells[k].text  # a letter-spaced word (项    目) is one cell
            else:
                cols[i].path.append(cells[k].text)
            last_top[i] = cells[k].top
