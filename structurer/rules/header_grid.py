"""Header leaves placed on a grid's columns by where their words are printed.

The header is first read by word order (header.leaves): robust to header rows a dump prints
shifted, but it assumes one leaf per column in that order. A grid drops a column that is
empty in every row (no value, its header word printed elsewhere), keeps columns no header
word heads, and may print a group on a row above the words beside it, so neither the count
nor the order need agree. Each header word also has the column it is printed in; a group's
word (基本支出, 公用经费) may cover the empty cells on both sides of it in its row. The leaves
are laid on the columns in order, each inside every group above it, preferring its own
printed column; a leaf with no room left is a column the grid does not have. The placement
is kept only when it fits the printed header better than one leaf per column in word order.
"""
from __future__ import annotations

from .header import PATH_SEP, Node, build_tree, is_key, tokenize_at

_PLACE = 10.0  # placing a leaf at all outweighs any agreement of positions
_OWN = 2.0  # the leaf's word is printed over this column


def _covers(filled: list[int], col: int, width: int) -> tuple[int, int]:
    """Columns a word printed in `col` may cover: the empty cells on both sides of it (a merged
    cell's text is centred, so it may sit anywhere over its columns)."""
    lo = max((c for c in filled if c < col), default=-1) + 1
    hi = min((c for c in filled if c > col), default=width) - 1
    return lo, hi


def _chains(roots: list[Node]) -> list[list[Node]]:
    out: list[list[Node]] = []

    def walk(node: Node, above: list[Node]) -> None:
        here = above + [node]
        if not node.children:
            out.append(here)
        for c in node.children:
            walk(c, here)

    for r in roots:
        walk(r, [])
    return out


def place_leaves(rows: list[list[str]], kinds: list[str]) -> tuple[tuple[str, ...], ...] | None:
    """`rows`: the header rows' cells (whitespace-free text), one per grid column; `kinds`: per
    column what its data cells hold ("amount", "text" or ""). Returns one path per column
    (("empty",) where no leaf lands) when that fits the printed header better than one leaf
    per column in word order, else None."""
    width = len(kinds)
    text, where = "", []
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            if cell:  # a word never runs across a cell's bound (›)
                text += cell + PATH_SEP
                where.extend([(r, c)] * (len(cell) + 1))
    tokens = tokenize_at(text)
    if not tokens:
        return None
    roots = build_tree([(t, s) for t, s, _ in tokens], [where[k] for _, _, k in tokens])
    # word order runs row by row: a group printed on a row above the others' words (基本支出
    # over 小计 人员经费 …, 科目编码 beside it on the next row) comes first in it. Groups are
    # taken in the order of the columns they are printed in; their leaves too when every leaf
    # is printed inside its groups (a header row printed shifted keeps its word order).
    words = [ch for ch in _chains(roots) if ch[-1].token != "colno"]
    filled = [[c for c, cell in enumerate(cells) if cell] for cells in rows]

    def span(node: Node) -> tuple[int, int]:
        r, c = node.pos
        return _covers(filled[r], c, width)

    def inside(chain: list[Node], col: int) -> bool:
        return all(span(a)[0] <= col <= span(a)[1] for a in chain[:-1])

    aligned = all(inside(ch, ch[-1].pos[1]) for ch in words)
    chains = sorted(words, key=lambda ch: (ch[0].pos[1], ch[-1].pos[1] if aligned else 0))

    def value(i: int, col: int) -> float | None:
        chain = chains[i]
        if not inside(chain, col):
            return None
        v = _PLACE + (_OWN if chain[-1].pos[1] == col else 0.0)
        return v + 0.001 * (len(chains) - i)  # a tie keeps the earlier leaf
    n = len(chains)
    # best[i][c]: best score placing leaves i.. on columns c.. (monotone, leaves may be dropped)
    best = [[0.0] * (width + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for c in range(width - 1, -1, -1):
            v = value(i, c)
            take = v + best[i + 1][c + 1] if v is not None else float("-inf")
            best[i][c] = max(best[i + 1][c], best[i][c + 1], take)
    placed: list[list[Node] | None] = [None] * width
    i = c = 0
    while i < n and c < width:
        v = value(i, c)
        if v is not None and best[i][c] == v + best[i + 1][c + 1]:
            placed[c] = chains[i]
            i, c = i + 1, c + 1
        elif best[i][c] == best[i + 1][c]:
            i += 1
        else:
            c += 1

    def fit(cols: list[list[Node] | None]) -> float:
        """Words over their own columns, inside their groups, and value words over amounts
        (the strongest evidence: a key word over a column of amounts is a misreading)."""
        score = 0.0
        for col, chain in enumerate(cols):
            if chain is None:
                continue
            score += (chain[-1].pos[1] == col) - sum(not inside(chain[k:], col) for k in range(len(chain) - 1))
            key = is_key(tuple(node.token for node in chain))
            if (kinds[col] == "amount" and key) or (kinds[col] == "text" and not key):
                score -= 5
        return score

    if fit(placed) <= fit(list(words[:width]) + [None] * (width - min(n, width))):
        return None
    return tuple(tuple(node.token for node in ch) if ch else ("empty",) for ch in placed)
