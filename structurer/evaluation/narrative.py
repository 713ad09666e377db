"""Scoring of narrative facts against gold.

A fact matches a gold fact when key, kind and value are equal (exact Decimal: 元 for
amounts and money changes, percent for shares and % changes; a change's sign is part of
its value). Money and percent never match each other, so a change of 34 % is not a change
of 34 元. Matching is a multiset: a key stated twice in the prose is two gold facts and
needs two extracted facts. When several candidates match, the nearest by line is taken.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from ..gold import Gold, GoldNarrative
from ..model import Document, NarrativeFact
from .prf import PRF


def _dimension(unit: str) -> str:
    return "%" if unit == "%" else "money"


def _match_key(key: str, kind: str, value: Decimal, unit: str) -> tuple[str, str, Decimal, str]:
    return key, kind, value, _dimension(unit)


@dataclass
class NarrativeScore(PRF):
    doc: str = ""
    matched: list[tuple[GoldNarrative, NarrativeFact]] = field(default_factory=list)
    extra: list[NarrativeFact] = field(default_factory=list)  # extracted, not in gold
    missing: list[GoldNarrative] = field(default_factory=list)  # gold, not extracted

    @property
    def tp(self) -> int:
        return len(self.matched)

    @property
    def fp(self) -> int:
        return len(self.extra)

    @property
    def fn(self) -> int:
        return len(self.missing)


    def summary(self) -> str:
        return (f"{self.doc}: narrative P={self.precision:.3f} R={self.recall:.3f} "
                f"F1={self.f1:.3f} (tp={self.tp} fp={self.fp} fn={self.fn})")

    def report(self) -> str:
        """Summary plus every unmatched fact on both sides, with its line."""
        out = [self.summary()]
        for g in sorted(self.missing, key=lambda g: g.line or 0):
            out.append(f"  missing  line {g.line}: {g.key} {g.kind} {_fmt(g.value, g.unit)}"
                       f" (printed {g.printed} {g.unit})")
        for f in sorted(self.extra, key=lambda f: f.span.line_start):
            out.append(f"  extra    line {f.span.line_start}: {f.key} {f.kind} "
                       f"{_fmt(f.value, f.unit)} (printed {f.printed} {f.unit}) « {f.context[:60]} »")
        return "\n".join(out)


def _fmt(value: Decimal, unit: str) -> str:
    return f"{value}{'%' if unit == '%' else '元'}"


def score_narrative(doc: Document | Iterable[NarrativeFact], gold: Gold) -> NarrativeScore:
    """Match extracted narrative facts to gold facts as a multiset of (key, kind, value)."""
    facts = list(doc.narrative if isinstance(doc, Document) else doc)
    score = NarrativeScore(doc=gold.doc)
    got: dict[tuple, list[NarrativeFact]] = {}
    want: dict[tuple, list[GoldNarrative]] = {}
    for f in facts:
        got.setdefault(_match_key(f.key, f.kind, f.value, f.unit), []).append(f)
    for g in gold.narrative:
        want.setdefault(_match_key(g.key, g.kind, g.value, g.unit), []).append(g)
    for mk, golds in want.items():
        cands = got.get(mk, [])
        # Within one (key, kind, value), pair the closest lines first.
        pairs = sorted(((abs(f.span.line_start - g.line) if g.line else 0, gi, fi)
                        for gi, g in enumerate(golds) for fi, f in enumerate(cands)))
        used_g: set[int] = set()
        used_f: set[int] = set()
        for _, gi, fi in pairs:
            if gi in used_g or fi in used_f:
                continue
            used_g.add(gi)
            used_f.add(fi)
            score.matched.append((golds[gi], cands[fi]))
        score.missing.extend(g for gi, g in enumerate(golds) if gi not in used_g)
        got[mk] = [f for fi, f in enumerate(cands) if fi not in used_f]
    score.matched.sort(key=lambda p: (p[0].line or 0))
    score.missing.sort(key=lambda g: g.line or 0)
    score.extra = sorted((f for fs in got.values() for f in fs), key=lambda f: f.span.start)
    return score
