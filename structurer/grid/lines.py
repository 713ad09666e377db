"""Positioned glyphs → visual lines of fragments (runs of glyphs with no wide gap)."""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from statistics import median

from ..vocab import HEADER_WORD_RE, NUM_RE

# A gap wider than this share of the line's glyph height separates two fragments; narrower
# gaps are letter spacing inside one word or number.
_GAP = 0.55
_CJK_RE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_SPELLED_RE = re.compile(f"(?:{HEADER_WORD_RE.pattern})+数?")  # 收入总计, 预算数: header words


@dataclass
class Frag:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float | None = None  # OCR: the lowest recognition confidence of its glyphs

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def numeric(self) -> bool:
        t = self.text
        return bool(NUM_RE.match(t[:-1] if t.endswith("%") else t))

    @property
    def amount(self) -> bool:
        """A money value rather than a code or a small count."""
        t = self.text
        return self.numeric and ("." in t or "," in t) and not t.endswith("%")


@dataclass
class VLine:
    page: int
    frags: list[Frag] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(f.top for f in self.frags)

    @property
    def bottom(self) -> float:
        return max(f.bottom for f in self.frags)

    @property
    def height(self) -> float:
        return median(f.bottom - f.top for f in self.frags)

    @property
    def x0(self) -> float:
        return min(f.x0 for f in self.frags)

    @property
    def x1(self) -> float:
        return max(f.x1 for f in self.frags)

    @property
    def compact(self) -> str:
        return "".join(f.text for f in self.frags).replace(" ", "").replace("\u3000", "")


def _kind(ch: str) -> str:
    return "d" if ch.isdigit() or ch in ".,-−%" else ("c" if _CJK_RE.match(ch) else "o")


def build_lines(glyphs, page: int, vrules=()) -> list[VLine]:
    """Cluster glyphs into lines by vertical overlap, then split each line at wide gaps, at
    vertical rules, and where a number meets text across a visible gap."""
    if not glyphs:
        return []
    gs = sorted(glyphs, key=lambda g: ((g.top + g.bottom) / 2, g.x0))
    rows: list[list] = []
    centre = None
    height = None
    for g in gs:
        c = (g.top + g.bottom) / 2
        h = max(g.bottom - g.top, 1.0)
        if rows and abs(c - centre) <= 0.45 * max(height, h):
            rows[-1].append(g)
            n = len(rows[-1])
            centre += (c - centre) / n
            height += (h - height) / n
        else:
            rows.append([g])
            centre, height = c, h
    lines = []
    for row in rows:
        row.sort(key=lambda g: g.x0)
        h = median(g.bottom - g.top for g in row)
        top, bottom = min(g.top for g in row), max(g.bottom for g in row)
        # a rule parts two glyphs when it runs beside both (header cells of one visual line
        # may sit at staggered heights, under rules that start lower than the line's top)
        walls = sorted((x, t, b) for x, t, b in vrules if t <= bottom and b >= top)
        wall_x = [w[0] for w in walls]
        frags: list[Frag] = []
        cur = [row[0]]
        for g in row[1:]:
            a = cur[-1]
            gap = g.x0 - a.x1
            if gap > _GAP * h or _walled(a, g, walls, wall_x) or (
                    gap > 0.15 * h and _kind(a.ch) != _kind(g.ch) and "o" not in (_kind(a.ch), _kind(g.ch))):
                frags.append(_frag(cur))
                cur = [g]
            else:
                cur.append(g)
        frags.append(_frag(cur))
        lines.append(VLine(page, _letter_spaced(frags, h)))
    lines.sort(key=lambda ln: ln.top)
    return lines


def _letter_spaced(frags: list[Frag], h: float) -> list[Frag]:
    """Single characters set apart by even gaps that together spell a header word (收 入,
    项  目, 收 入 总 计): one word printed letter-spaced across its cell, not one cell per
    character. Single characters that spell none (类 款 项: three columns) stay apart."""
    out: list[Frag] = []
    k = 0
    while k < len(frags):
        j = k + 1
        if _single(frags[k]):
            gaps: list[float] = []
            while j < len(frags) and _single(frags[j]):
                gap = frags[j].x0 - frags[j - 1].x1
                if gap > 6 * h or (gaps and not 0.6 * min(gaps) <= gap <= 1.6 * max(gaps)):
                    break
                gaps.append(gap)
                j += 1
        run = frags[k:j]
        text = "".join(f.text for f in run)
        if len(run) >= 2 and _SPELLED_RE.fullmatch(text):
            confs = [f.conf for f in run if f.conf is not None]
            out.append(Frag(text, run[0].x0, min(f.top for f in run), run[-1].x1,
                            max(f.bottom for f in run), min(confs) if confs else None))
        else:
            out.extend(run)
        k = j
    return out


def _single(f: Frag) -> bool:
    return len(f.text) == 1 and bool(_CJK_RE.match(f.text))


def _walled(a, g, walls, wall_x) -> bool:
    """A vertical rule between glyphs a and g that runs beside both of them. Between their
    centres: loose glyph boxes overlap each other and the rule (numbers packed in a cell)."""
    k = bisect_left(wall_x, min(a.x1 - 1, (a.x0 + a.x1) / 2))
    while k < len(walls) and walls[k][0] <= max(g.x0 + 1, (g.x0 + g.x1) / 2):
        _, t, b = walls[k]
        # beside both glyphs' middles (a loose box may reach past the table's last rule)
        if t <= max(a.top + a.bottom, g.top + g.bottom) / 2 and b >= min(a.top + a.bottom, g.top + g.bottom) / 2:
            return True
        k += 1
    return False


def _frag(gs) -> Frag:
    h = median(g.bottom - g.top for g in gs)
    text = gs[0].ch
    for a, b in zip(gs, gs[1:]):
        if b.space or b.x0 - a.x1 > 0.2 * h:  # printed, or room for one
            text += " "
        text += b.ch
    confs = [g.conf for g in gs if g.conf is not None]
    return Frag(text, min(g.x0 for g in gs), min(g.top for g in gs),
                max(g.x1 for g in gs), max(g.bottom for g in gs), min(confs) if confs else None)
