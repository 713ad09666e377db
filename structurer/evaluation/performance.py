"""Scoring of extracted performance targets against gold.

Projects are matched by normalized name (simplified, half-width, whitespace- and
punctuation-free); when no name is equal, a name that is a prefix or suffix of the other
(the extractor kept or dropped a 预算 / year / document-number part) still matches.
Indicators are then matched within each matched project as a multiset of normalized
(level1, level2, level3, value) keys. Indicators of unmatched projects count as missing
(gold) or extra (extracted). Amounts are compared exactly (Decimal 元) on matched projects.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..gold import Gold, GoldTarget
from ..model import Document, PerformanceTarget
from ..normalize import normalize_line
from .prf import PRF

# Characters kept by name normalization: CJK, Latin letters and digits.
_NAME_DROP_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]")
# Values keep their comparison and percent signs, which carry meaning.
_VALUE_DROP_RE = re.compile(r"[^0-9a-z\u3400-\u9fff≥≤<>=%.‰+\-~/]")
_MIN_AFFIX = 4  # shortest normalized name accepted as a prefix/suffix match


def _base(text: str) -> str:
    return normalize_line(str(text or ""), 0).text.lower()


def norm_name(text: str) -> str:
    """Compact, simplified, half-width, punctuation-insensitive form of a name."""
    return _NAME_DROP_RE.sub("", _base(text))


def norm_value(text: str) -> str:
    t = _VALUE_DROP_RE.sub("", _base(text))
    return t.replace("百分比", "%") if re.fullmatch(r"[≥≤<>=]?\d+(\.\d+)?百分比", t) else t


IndicatorKey = tuple[str, str, str, str]


def indicator_key(level1: str, level2: str, level3: str, value: str) -> IndicatorKey:
    return (norm_name(level1), norm_name(level2), norm_name(level3), norm_value(value))


@dataclass
class DocPerformanceScore(PRF):
    doc: str = ""
    project_tp: int = 0
    project_fp: int = 0
    project_fn: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    amount_ok: int = 0  # gold states an amount and the extractor has the same
    amount_wrong: int = 0  # both state an amount and they differ
    amount_missing: int = 0  # gold states an amount the extractor lacks
    amount_extra: int = 0  # extractor states an amount gold does not
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (gold, extracted) names
    missing_projects: list[str] = field(default_factory=list)
    extra_projects: list[str] = field(default_factory=list)
    missing: list[tuple[str, IndicatorKey]] = field(default_factory=list)
    extra: list[tuple[str, IndicatorKey]] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def project_precision(self) -> float:
        return self._ratio(self.project_tp, self.project_tp + self.project_fp)

    @property
    def project_recall(self) -> float:
        return self._ratio(self.project_tp, self.project_tp + self.project_fn)


    def summary(self) -> str:
        return (f"{self.doc}: projects P={self.project_precision:.3f} R={self.project_recall:.3f} "
                f"({self.project_tp}/{self.project_tp + self.project_fn}, {self.project_fp} extra); "
                f"indicators P={self.precision:.3f} R={self.recall:.3f} F1={self.f1:.3f} "
                f"(tp={self.tp} fp={self.fp} fn={self.fn}); amounts ok={self.amount_ok} "
                f"wrong={self.amount_wrong} missing={self.amount_missing} extra={self.amount_extra}")


def match_projects(gold: list[GoldTarget], got: list[PerformanceTarget]) -> list[tuple[int, int]]:
    """One-to-one (gold index, extracted index) pairs: equal names first, then affixes."""
    gn = [norm_name(g.project) for g in gold]
    en = [norm_name(e.project) for e in got]
    pairs: list[tuple[int, int]] = []
    used_g: set[int] = set()
    used_e: set[int] = set()
    for gi, g in enumerate(gn):
        for ei, e in enumerate(en):
            if ei not in used_e and g == e and g:
                pairs.append((gi, ei))
                used_g.add(gi)
                used_e.add(ei)
                break
    cands = []
    for gi, g in enumerate(gn):
        if gi in used_g:
            continue
        for ei, e in enumerate(en):
            if ei in used_e or not g or not e:
                continue
            short, long_ = (g, e) if len(g) <= len(e) else (e, g)
            if len(short) >= _MIN_AFFIX and (long_.startswith(short) or long_.endswith(short)):
                cands.append((len(long_) - len(short), gi, ei))
    for _, gi, ei in sorted(cands):
        if gi not in used_g and ei not in used_e:
            pairs.append((gi, ei))
            used_g.add(gi)
            used_e.add(ei)
    return sorted(pairs)


def score_performance(doc: Document, gold: Gold) -> DocPerformanceScore:
    s = DocPerformanceScore(doc=gold.doc)
    got = doc.performance
    pairs = match_projects(gold.performance, got)
    matched_g = {gi for gi, _ in pairs}
    matched_e = {ei for _, ei in pairs}
    s.project_tp = len(pairs)
    s.project_fn = len(gold.performance) - len(pairs)
    s.project_fp = len(got) - len(pairs)
    for gi, g in enumerate(gold.performance):
        if gi not in matched_g:
            s.missing_projects.append(g.project)
            s.fn += len(g.indicators)
            s.missing.extend((g.project, indicator_key(i.level1, i.level2, i.level3, i.value))
                             for i in g.indicators)
            if g.amount is not None:
                s.amount_missing += 1
    for ei, e in enumerate(got):
        if ei not in matched_e:
            s.extra_projects.append(e.project)
            s.fp += len(e.indicators)
            s.extra.extend((e.project, indicator_key(i.level1, i.level2, i.level3, i.value))
                           for i in e.indicators)
    for gi, ei in pairs:
        g, e = gold.performance[gi], got[ei]
        s.pairs.append((g.project, e.project))
        want = Counter(indicator_key(i.level1, i.level2, i.level3, i.value) for i in g.indicators)
        have = Counter(indicator_key(i.level1, i.level2, i.level3, i.value) for i in e.indicators)
        common = want & have
        s.tp += sum(common.values())
        for k, c in (want - have).items():
            s.fn += c
            s.missing.extend([(g.project, k)] * c)
        for k, c in (have - want).items():
            s.fp += c
            s.extra.extend([(g.project, k)] * c)
        s.amount_ok, s.amount_wrong, s.amount_missing, s.amount_extra = _amounts(
            g.amount, e.amount, (s.amount_ok, s.amount_wrong, s.amount_missing, s.amount_extra))
    return s


def _amounts(want: Decimal | None, have: Decimal | None, acc: tuple[int, int, int, int]):
    ok, wrong, missing, extra = acc
    if want is not None and have is not None:
        if want == have:
            ok += 1
        else:
            wrong += 1
    elif want is not None:
        missing += 1
    elif have is not None:
        extra += 1
    return ok, wrong, missing, extra
