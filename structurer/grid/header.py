"""A table's header lines → one path of header cells per column (基本支出 › 人员经费).

Without ruling lines, a header cell merged over several columns shows only its text, centred
over the columns it spans. A cell heads others when one lies under its text, or when its text,
too short to reach them, is centred far better over a run of columns below it than over its
own column. Its columns are the run, bounded by the cells that share its band, whose centre
is closest to the text's centre (the widest such run when several are about as close); cells
side by side share no column, and a column whose own header cell reaches up into the band (a
cell merged downwards) is never adopted.
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
                if (not hrules and f.top - c.bottom < 0.6 * h) or (hrules and f.top - c.bottom < 2 * h and not any(
                        (c.top + c.bottom) / 2 < y < (f.top + f.bottom) / 2  # between the texts' middles
                        and a < min(c.x1, f.x1) and b > max(c.x0, f.x0)
                        for y, a, b in hrules)):
                    host = c
            if host is None:
                cells.append(Frag(f.text, f.x0, f.top, f.x1, f.bottom, f.conf))
            else:
                host.text += f.text
                host.x0, host.x1 = min(host.x0, f.x0), max(host.x1, f.x1)
                host.bottom = max(host.bottom, f.bottom)
    return cells


def _below(d: Frag, c: Frag) -> bool:
    # a merged cell's text is centred over its children, whose texts may only touch it; a
    # text printed over part of a lower one heads it too (left-aligned over a wide cell)
    reach = 0.5 * (c.x1 - c.x0)
    return d is not c and d.top >= c.bottom - 1 and (c.x0 - reach <= d.xc <= c.x1 + reach or (
        min(c.x1, d.x1) - max(c.x0, d.x0) > 0.5 * min(c.x1 - c.x0, d.x1 - d.x0)))


def leaf_cells(cells: list[Frag], cols=()) -> list[Frag]:
    """Header cells with no other header cell under them. `cols`, the columns known so far,
    also tell a short merged cell centred over wide columns from a leaf."""
    parents = _parents(cells, cols)
    return [c for k, c in enumerate(cells) if k not in parents]


def _under(c: Frag, cols) -> list[int]:
    """The columns whose centre the cell's text covers, else the one its text overlaps most
    (a left-aligned header over a wide label column), else the nearest one."""
    covered = [i for i, col in enumerate(cols) if c.x0 - 1 <= col.xc <= c.x1 + 1]
    if covered:
        return covered
    def gap(i: int) -> float:  # negative: the overlap
        return max(cols[i].x0, c.x0) - min(cols[i].x1, c.x1)
    return [min(range(len(cols)), key=lambda i: (gap(i), abs(cols[i].xc - c.xc)))]


def _leaf_tops(cells: list[Frag], cols) -> list[float | None]:
    """The top of the lowest header cell over each column."""
    out: list[float | None] = [None] * len(cols)
    for c in cells:
        for i, col in enumerate(cols):
            # centred over it, or printed over part of it (values right-aligned in a wide cell)
            if col.x0 - 1 <= c.xc <= col.x1 + 1 or min(col.x1, c.x1) > max(col.x0, c.x0):
                if out[i] is None or c.top > out[i]:
                    out[i] = c.top
    return out


def _open(c: Frag, cells: list[Frag], cols, leaf_top, under: list[int]) -> tuple[int, int]:
    """The widest run of columns around `under` the cell may head: bounded by the cells that
    share its band, never over a column whose own header cell reaches up into the band."""
    blockers = [d for d in cells if d is not c and d.top < c.bottom - 1 and d.bottom > c.top + 1]
    left = max((d.x1 for d in blockers if d.x1 <= c.x0 + 1), default=float("-inf"))
    right = min((d.x0 for d in blockers if d.x0 >= c.x1 - 1), default=float("inf"))

    def ok(i: int) -> bool:
        return 0 <= i < len(cols) and left <= cols[i].xc <= right \
            and leaf_top[i] is not None and leaf_top[i] >= c.bottom - 1
    a, b = min(under), max(under)
    while ok(a - 1):
        a -= 1
    while ok(b + 1):
        b += 1
    return a, b


def _extents(cells: list[Frag], cols) -> list[tuple[float, float]]:
    """Each column's reach: its data widened by the leaf header text printed over it (data
    right-aligned in a wide column fills only part of it)."""
    out = [(col.x0, col.x1) for col in cols]
    for c in cells:
        if any(_below(d, c) for d in cells):
            continue
        i = _under(c, cols)[0]
        if min(cols[i].x1, c.x1) > max(cols[i].x0, c.x0):
            out[i] = (min(out[i][0], c.x0), max(out[i][1], c.x1))
    return out


def _off(ext, i: int, j: int, c: Frag) -> float:
    return abs((ext[i][0] + ext[j][1]) / 2 - c.xc)


def _tol(cols) -> float:
    """How far a merged cell's text may sit from the centre of the columns it heads."""
    widths = sorted(col.x1 - col.x0 for col in cols)
    return max(12.0, 0.5 * widths[len(widths) // 2])


def _parents(cells: list[Frag], cols) -> set[int]:
    """Cells merged over others: a cell right under the text, or, for a text too short to
    reach its children, a run of wider columns below it that it is far better centred over
    than over its own column."""
    out = {k for k, c in enumerate(cells) if any(_below(d, c) for d in cells)}
    if not len(cols):
        return out
    leaf_top = _leaf_tops(cells, cols)
    ext = _extents(cells, cols)
    for k, c in enumerate(cells):
        if k in out:
            continue
        under = _under(c, cols)
        lo, hi = min(under), max(under)
        a, b = _open(c, cells, cols, leaf_top, under)
        runs = [(i, j) for i in range(a, lo + 1) for j in range(hi, b + 1) if (i, j) != (lo, hi)]
        if not runs:
            continue
        best, own = min(_off(ext, i, j, c) for i, j in runs), _off(ext, lo, hi, c)
        if best < 0.5 * own or best <= _tol(cols) < own:
            out.add(k)
    return out


def _ruled_span(c: Frag, cols, vsegs) -> list[int]:
    """Columns between the vertical rules that cross the cell's band on either side of it."""
    cross = [x for x, t, b in vsegs if t <= c.top + 2 and b >= c.bottom - 2]
    left = max((x for x in cross if x <= c.xc), default=float("-inf"))
    right = min((x for x in cross if x >= c.xc), default=float("inf"))
    return [i for i, col in enumerate(cols) if left - 1 <= col.xc <= right + 1]


def _bands(ks: list[int], cells: list[Frag]) -> list[list[int]]:
    """Merged cells side by side in one header line, left to right."""
    out: list[list[int]] = []
    for k in sorted(ks, key=lambda k: (cells[k].top, cells[k].x0)):
        c = cells[k]
        band = next((b for b in out if any(cells[d].top < c.bottom - 1 and cells[d].bottom > c.top + 1
                                           for d in b)), None)
        if band is None:
            out.append([k])
        else:
            band.append(k)
    return [sorted(b, key=lambda k: cells[k].x0) for b in out]


def _share(band: list[int], runs, cells: list[Frag], ext, tol: float) -> dict[int, list[int]]:
    """Each merged cell's run of columns: centred on its text within `tol`, as wide as can be,
    then as well centred as can be; cells side by side never share a column."""
    def cost(k, i, j):
        off = _off(ext, i, j, cells[k])
        return (int(off > tol), -(j - i), off)

    # best[(m, j)]: the best total cost for the first m cells with the m-th ending at column j
    best: dict[tuple[int, int], tuple] = {(0, -1): ((0, 0, 0.0), [])}
    for m, k in enumerate(band):
        for (mm, end), (tot, picked) in list(best.items()):
            if mm != m:
                continue
            for i, j in runs[k]:
                if i <= end:
                    continue
                t = tuple(x + y for x, y in zip(tot, cost(k, i, j)))
                key = (m + 1, j)
                if key not in best or t < best[key][0]:
                    best[key] = (t, picked + [(i, j)])
    done = [v for (m, _), v in best.items() if m == len(band)]
    if done:
        picked = min(done, key=lambda v: v[0])[1]
    else:  # cells over the same column: each on its own
        picked = [min(runs[k], key=lambda r: cost(k, *r)) for k in band]
    return {k: list(range(i, j + 1)) for k, (i, j) in zip(band, picked)}


def assign_paths(cells: list[Frag], cols, vsegs=()) -> None:
    """Append each header cell's text to the path of every column it spans (top to bottom).
    `vsegs`: the vertical rules (x, top, bottom) drawn around the header, if any."""
    ruled = len(vsegs) >= 3
    n = len(cols)
    if not n:
        return
    leaf_top = _leaf_tops(cells, cols)
    parents = _parents(cells, cols)
    tol = _tol(cols)
    spans: dict[int, list[int]] = {}
    runs: dict[int, list[tuple[int, int]]] = {}
    for k, c in enumerate(cells):
        under = _under(c, cols)
        if ruled:
            spans[k] = _ruled_span(c, cols, vsegs) or under
            continue
        if k not in parents:
            spans[k] = under  # a leaf heads its own column only
            continue
        lo, hi = min(under), max(under)
        a, b = _open(c, cells, cols, leaf_top, under)
        runs[k] = [(i, j) for i in range(a, lo + 1) for j in range(hi, b + 1)]
    for band in _bands([k for k in runs], cells):
        spans.update(_share(band, runs, cells, _extents(cells, cols), tol))
    last_top: dict[int, float] = {}
    for k in sorted(spans, key=lambda k: (cells[k].top, cells[k].x0)):
        for i in spans[k]:
            if cols[i].path and abs(last_top[i] - cells[k].top) <= 2:
                cols[i].path[-1] += cells[k].text  # a letter-spaced word (项    目) is one cell
            else:
                cols[i].path.append(cells[k].text)
            last_top[i] = cells[k].top
