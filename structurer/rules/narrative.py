"""Narrative facts: the amounts, shares and changes that the prose (情况说明) restates.

The prose of narrative sections (not tables, not performance blocks, not the headings
below a 绩效 or 名词解释 heading) is joined into paragraphs of normalized, whitespace-free
text with a source offset per character. Every number with a unit (万元, 元, %) is then read
in its sentence:

- an amount takes the key of the subject phrase printed right before it (vocab
  NARRATIVE_SUBJECTS; only years, 预算/决算 qualifiers and verbs like 安排/为 may stand
  between). "其中" lists need no special case: each part names its own subject. A clause
  that only qualifies ("…预算为3.20万元，支出决算为2.92万元") continues the sentence's
  subject; a number without a subject (a project named in prose) is no fact;
- a share (占 75.55%) belongs to the amount just before it;
- a change (增加/减少 X 万元, 增长/下降 x%) takes the subject of its own clause, else the
  side it names (收入/支出 → the latest amount of that side), else the change before it
  in the sentence, else the first amount of the sentence, else that of the paragraph;
- in final accounts a stated 预算数 gets the key suffix `.budget`.

Percentages that are neither shares nor changes (完成预算的 91.25%) and numbers in other
units (years, people, vehicles) are not facts.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .. import vocab
from ..layout import Layout, Line
from ..model import NarrativeFact
from ..normalize import NText
from ..segment import Segmentation, SectionLoc

_WS_RE = re.compile(r"\s+")
_NUMBER_RE = re.compile(
    r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(" + "|".join(sorted(vocab.UNIT_FACTORS, key=len, reverse=True)) + r"|%)")
_SENTENCE_END = "。!?;"
_CLAUSE_END = _SENTENCE_END + ",:"
_PARA_END_RE = re.compile(r"[。!?]$")
_LIST_START_RE = re.compile(
    r"^(?:\d{1,2}[、.](?!\d)|[(]?[一二三四五六七八九十]+[)、]|[(]\d{1,2}[)]|第[一二三四五六七八九十]+部分)")
_HEADING_LEVELS = (
    (re.compile(r"^第[一二三四五六七八九十]+部分"), 0),
    (re.compile(r"^[一二三四五六七八九十]+、"), 1),
    (re.compile(r"^\([一二三四五六七八九十]+\)"), 2),
    (re.compile(r"^\d{1,2}[、.](?!\d)"), 3),
)
_PAGE_NO_RE = re.compile(r"^[-—]*\d{1,4}[-—]*$")
_UNIT_START_RE = re.compile(r"^(?:" + "|".join(vocab.UNIT_FACTORS) + r"|%)")
_FILLER = vocab.NARRATIVE_FILLER
_YEAR_RE = re.compile(r"(\d{4})年")
# A unit right after a word, its number elsewhere ("基本支出万元，其202651691.74中"): the text
# layer's reading order is scrambled, and no number of the sentence can be trusted.
_SCRAMBLED_RE = re.compile(r"(?<=[\u4e00-\u9fff])(?<!单位)(?:万元|亿元|千元)")
# 年 with no year before it (局年“三公”经费…为20261.10万元): the year was misplaced by the text
# layer onto the amount that follows
_YEARLESS_RE = re.compile(r"(?<=[\u4e00-\u9fff”\")）])(?<![本上当全今明去每同后前该历近多])年(?!度|初|末|终|内|中|底)")


def _glued_year(number: str, sentence: str, year: int | None) -> bool:
    return bool(year and len(number) > 4 and number.startswith(str(year)) and _YEARLESS_RE.search(sentence))


_FUND_PART_RE = re.compile(r"其中.{0,6}(?:一般公共预算|政府性基金|国有资本经营|财政拨款)")
# Sentences about the funds behind performance targets or evaluations restate other scopes.
_OTHER_SCOPE_RE = re.compile(r"绩效(?:目标|评价|自评|管理|监控)|涉及")


@dataclass(frozen=True)
class _Subject:
    keys: tuple[str, ...]
    gbe_class: bool
    amount_rx: re.Pattern[str]  # subject + filler, anchored at the end of the clause
    any_rx: re.Pattern[str]  # subject anywhere (for changes)


_SUBJECTS = tuple(
    _Subject(s.keys, s.gbe_class,
             re.compile(f"(?P<s>{s.pattern})(?P<f>{_FILLER})$"), re.compile(s.pattern))
    for s in vocab.NARRATIVE_SUBJECTS)


@dataclass
class _Para:
    text: str
    src: list[int]


@dataclass
class _State:
    """What a paragraph and its current sentence have said so far."""

    topic: tuple[str, ...] | None = None  # first subject of the paragraph (changes fall back)
    amounts: list[str] = field(default_factory=list)  # keys of the paragraph's amounts, in order
    gbe: bool = False  # the paragraph restates the general-budget expenditure (类 allowed)
    sentence: int = -1
    first: tuple[str, ...] | None = None  # first subject of the sentence
    subject: tuple[str, ...] | None = None  # last subject of the sentence
    change: tuple[str, ...] | None = None  # keys of the sentence's last change
    share_keys: tuple[str, ...] = ()  # keys of the amount just before (for 占 x%)

    def new_sentence(self, k: int) -> None:
        self.sentence, self.first, self.subject, self.change, self.share_keys = k, None, None, None, ()


def extract_narrative(layout: Layout, seg: Segmentation) -> list[NarrativeFact]:
    final = seg.meta.kind == "final"
    facts: list[NarrativeFact] = []
    for sec in _prose_sections(layout, seg):
        gbe = False  # under a heading about the general-budget expenditure (its 类 may follow)
        for para in _paragraphs(layout, sec):
            if not _NUMBER_RE.search(para.text) or _LIST_START_RE.match(para.text):
                title = re.split(r"[。:;]", para.text, maxsplit=1)[0]
                gbe = bool(vocab.NARRATIVE_GBE_TITLE_RE.search(title))
            facts.extend(_parse(layout, para, final, seg.meta.year, gbe))
    return facts


# --------------------------------------------------------------------------- sections, paragraphs

def _heading_level(text: str) -> int | None:
    for rx, level in _HEADING_LEVELS:
        if rx.match(text):
            return level
    return None


def _cn_ordinal(text: str) -> int | None:
    """一 → 1, 十三 → 13, 二十一 → 21 (the ordinals of headings)."""
    digits = "一二三四五六七八九"
    m = re.match(r"^([一二三四五六七八九]?)(十?)([一二三四五六七八九]?)、", text)
    if not m or not any(m.groups()):
        return None
    tens, ten, ones = m.groups()
    if ten:
        return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)
    return digits.index(ones or tens) + 1 if (ones or tens) else None


def _prose_sections(layout: Layout, seg: Segmentation) -> list[SectionLoc]:
    """Narrative sections, without those under a performance or definitions heading.

    A skipped heading takes the headings below it along; the skip ends at the next heading
    of its level or above, or at a 一、-level heading numbered after the last one read
    (templates nest 第一部分 … inside 五、预算绩效信息, so levels alone cannot tell)."""
    out: list[SectionLoc] = []
    skip_level: int | None = None
    last_ordinal = 0  # of the last 一、-level heading read
    for sec in sorted(seg.sections, key=lambda s: s.first):
        if sec.kind != "narrative":
            continue
        title = _WS_RE.sub("", layout.lines[sec.first].norm.text)
        level = _heading_level(title)
        ordinal = _cn_ordinal(title) if level == 1 else None
        skipped_word = bool(vocab.NARRATIVE_SKIP_TITLE_RE.search(title))
        if skip_level is not None:
            if skipped_word:
                if level is not None:
                    skip_level = min(skip_level, level)
                continue
            if level is None or (level > skip_level
                                 and not (ordinal is not None and ordinal > last_ordinal)):
                continue
            skip_level = None
        if ordinal is not None:
            last_ordinal = ordinal
        if skipped_word:
            if level is not None:
                skip_level = level
            continue
        out.append(sec)
    return out


_AMOUNT_LIKE_RE = re.compile(r"\d\.\d|\d\s*[万千亿元%]")  # a wrapped line may cut a unit off


def _is_heading(text: str, first: bool) -> bool:
    if re.search(r"[,。;]", text) or _NUMBER_RE.search(text) or _AMOUNT_LIKE_RE.search(text):
        return False
    return first or (len(text) <= 40 and _heading_level(text) is not None)


def _paragraphs(layout: Layout, sec: SectionLoc) -> list[_Para]:
    """Lines of a section joined into paragraphs (PDF line wraps undone)."""
    kept: list[tuple[NText, bool]] = []  # (whitespace-free line, is heading)
    lines = layout.lines
    for i in range(sec.first, sec.last + 1):
        ln: Line = lines[i]
        if ln.blank or "\t" in ln.raw.strip(" \r\n\u3000"):
            continue  # a tab-separated line is a table row, not prose
        text = ln.norm.drop(_WS_RE)
        if _PAGE_NO_RE.match(text.text):
            nxt = next((lines[k] for k in range(i + 1, min(len(lines), sec.last + 1))
                        if not lines[k].blank), None)
            if nxt is None or not _UNIT_START_RE.match(nxt.compact):
                continue  # a page number
        kept.append((text, _is_heading(text.text, i == sec.first)))
    paras: list[_Para] = []
    cur: _Para | None = None
    prev_heading = True
    for text, heading in kept:
        if (cur is None or heading or prev_heading or _PARA_END_RE.search(cur.text)
                or _LIST_START_RE.match(text.text)):
            cur = _Para("", [])
            paras.append(cur)
        cur.text += text.text
        cur.src.extend(text.offset(k) for k in range(len(text.text)))
        # a numbered item's title runs into its text ("2. 公务用车购置及运行维护费 预算为…"),
        # even when a re-wrap put the title on a line of its own
        prev_heading = heading and _heading_level(text.text) != 3
    return paras


# --------------------------------------------------------------------------- parsing

def _amount_subject(region: str, gbe: bool) -> tuple[tuple[str, ...], str] | None:
    """(keys, qualifier) of the subject that ends the region, the widest one winning."""
    best: tuple[int, int, _Subject, str] | None = None
    for s in _SUBJECTS:
        if s.gbe_class and not gbe:
            continue
        m = s.amount_rx.search(region)
        if m is None:
            continue
        cand = (m.start("s"), -(m.end("s") - m.start("s")), s, m.group("f"))
        if best is None or cand[:2] < best[:2]:
            best = cand
    return (best[2].keys, best[3]) if best else None


def _change_subject(region: str, gbe: bool) -> tuple[str, ...] | None:
    """Keys of the subject named last in the region (the longest when two end together)."""
    best: tuple[int, int, _Subject] | None = None
    for s in _SUBJECTS:
        if s.gbe_class and not gbe:
            continue
        last = None
        for m in s.any_rx.finditer(region):
            last = m
        if last is None:
            continue
        cand = (last.end(), -last.start(), s)
        if best is None or cand[:2] > best[:2]:
            best = cand
    return best[2].keys if best else None


def _parse(layout: Layout, para: _Para, final: bool, year: int | None, gbe: bool = False) -> list[NarrativeFact]:
    text = para.text
    numbers = list(_NUMBER_RE.finditer(text))
    if not numbers:
        return []
    # Delimiter scan with the thousands separators of numbers masked.
    scan = list(text)
    for m in numbers:
        for k in range(m.start(1), m.end(1)):
            if scan[k] == ",":
                scan[k] = "'"
    scan_s = "".join(scan)
    sent_ends = [k for k, ch in enumerate(scan_s) if ch in _SENTENCE_END]
    nt = NText(text, 0, tuple(para.src))
    st = _State(gbe=gbe)
    out: list[NarrativeFact] = []
    prev_end = 0

    def clause_start(lo: int, hi: int) -> int:
        k = max(scan_s.rfind(ch, lo, hi) for ch in _CLAUSE_END)
        return max(lo, k + 1)

    def emit(keys: tuple[str, ...], kind: str, value: Decimal, m: re.Match[str], unit: str,
             context: str) -> None:
        span = layout.span_of(nt, m.start(1), m.end(1))
        for key in keys:
            out.append(NarrativeFact(key=key, kind=kind, value=value, printed=layout.printed(span),
                                     unit=unit, span=span, context=context))

    for m in numbers:
        k = bisect.bisect_left(sent_ends, m.start())
        s_start = sent_ends[k - 1] + 1 if k > 0 else 0
        s_end = sent_ends[k] + 1 if k < len(sent_ends) else len(text)
        if k != st.sentence:
            st.new_sentence(k)
        context = text[s_start:s_end][:120]
        if _SCRAMBLED_RE.search(text[s_start:s_end]) or _OTHER_SCOPE_RE.search(text[s_start:s_end]) \
                or _glued_year(m.group(1), text[s_start:s_end], year):
            st.share_keys = ()
            continue
        unit = m.group(2)
        number = Decimal(m.group(1).replace(",", ""))
        before = text[s_start:m.start()]
        this_prev_end, prev_end = prev_end, m.end()
        change = vocab.NARRATIVE_CHANGE_RE.search(before)

        if unit == "%" and not change:
            if vocab.NARRATIVE_SHARE_RE.search(before) and st.share_keys:
                emit(st.share_keys, "share", number, m, unit, context)
            continue  # a share, or a ratio such as 完成预算的 91.25%

        if change:
            sign = 1 if change.group("up") else -1
            verb_at = s_start + change.start()
            region = text[clause_start(s_start, verb_at):verb_at]
            keys = _change_subject(region, st.gbe)
            if keys is None:
                side = vocab.NARRATIVE_SIDE_RE.search(region)
                if side:
                    prefix = vocab.NARRATIVE_SIDES[side.group("side")]
                    found = next((a for a in reversed(st.amounts) if a.startswith(prefix)), None)
                    keys = (found,) if found else None
            if keys is None:
                keys = st.change or st.first or st.topic
            if keys is None:
                continue
            st.change = keys
            value = number if unit == "%" else number * vocab.UNIT_FACTORS[unit]
            emit(keys, "change", sign * value, m, unit, context)
            if unit != "%":
                st.share_keys = ()
            continue

        # an amount
        region = text[clause_start(max(s_start, this_prev_end), m.start()):m.start()]
        found = _amount_subject(region, st.gbe)
        if found is None and st.subject is not None \
                and vocab.NARRATIVE_CONTINUATION_RE.fullmatch(region):
            found = (st.subject, region)
        if found is None:
            st.share_keys = ()  # e.g. a project amount: a following 占 x% is not ours
            continue
        keys, qualifier = found
        if keys == ("procurement.total",) and _FUND_PART_RE.search(region):
            st.share_keys = ()  # 其中一般公共预算拨款政府采购 X: one fund's part of the procurement
            continue
        if "结转" in region[:len(region) - len(qualifier)] and not any("carryover" in k for k in keys):
            st.share_keys = ()  # 上年结转结余的一般公共预算收入: part of the carryover, not this year's
            continue
        stated_year = _YEAR_RE.search(qualifier)
        if stated_year and year and int(stated_year.group(1)) != year:
            st.share_keys = ()  # "三公经费2023年预算数…" in a 2024 document: another year's figure
            continue
        st.subject = keys
        if st.first is None:
            st.first = keys
        if st.topic is None:
            st.topic = keys
        budget = (final and vocab.NARRATIVE_BUDGET_WORD in qualifier
                  and vocab.NARRATIVE_FINAL_WORD not in qualifier)
        keys = tuple(f"{key}.budget" for key in keys) if budget else keys
        st.share_keys = keys
        st.amounts.extend(keys)
        if any(key.startswith("general_budget_expenditure.total") for key in keys):
            st.gbe = True
        if keys:
            emit(keys, "amount", number * vocab.UNIT_FACTORS[unit], m, unit, context)
    return out
