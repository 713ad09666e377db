"""Segmentation: document metadata and the location of every section.

Titles are recognized from the genre's vocabulary (vocab.TABLE_KINDS); a candidate title
counts only when table content follows it, which rejects tables of contents.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from . import vocab
from .layout import Layout, Line
from .model import DocumentMeta

_SENTENCE_RE = re.compile(r"[，,。；;]")
_CELL_GAP_RE = re.compile(r"\S {2,}\S")
_DECIMAL_RE = re.compile(r"\d\.\d")
_TITLE_HINT_RE = re.compile(r"表|政府采购|绩效目标")
_TOC_RE = re.compile(r"[·…]{2,}|\.{4,}|-{4,}|[;；。]$|\t\s*\d+\s*$")
_TITLE_PREFIX_RE = re.compile(
    r"^(?:附件[:：]?|附表\d*(?:-\d+)?[:：]?|(?:部门(?:预算|决算)?)?公开\d+表|(?:部门(?:预算|决算)?)?公开表\d+|"
    r"表\d+(?:-\d+)?[:：、]?|表[一二三四五六七八九十]+[:：、]?|[(（]\d{1,2}表[)）]|[(（]表\d{1,2}[)）]|"
    r"[(（]?\d{1,2}[)）]|\d{1,2}[、.．]|"
    r"[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）])*"
    r"(?:\d{4}年度?)?")
_HEADING_RE = re.compile(
    r"^(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）])")
_TABLE_CUE_RE = re.compile(
    r"序号|科目|单位[:：]|合计|栏次|行次|一级指标|绩效目标|预算数|决算数|金额|公开\d+表|部门[:：]|"
    r"YS\d+|预算年度|编制部门|截止时间|项目名称|项目编码")
_NARRATIVE_END_RE = re.compile(r"情况说明$|公开说明$|名词解释$|情况$|说明$")
# An agency name starts where a name can start (line start, after a code, a date or
# punctuation): a one-character county (磁县) must not swallow the 年 of "2023年磁县…".
_AGENCY_RE = re.compile(
    r"(?:^|(?<=[\s\d:：、,，.。“”()（）《》【】])|(?<=年)|(?<=年度)|(?<=部门)|(?<=单位))"
    r"([\u4e00-\u9fff]{1,24}?(?:省|市|县|区|旗|州|盟)[\u4e00-\u9fff]{1,20}?"
    r"(?:局|委员会|委|办公室|办|中心|院|所|厅|馆|站|队|总工会|联合会|政府|学校|医院|部)(?:本级)?)")
_AGENCY_HINT_RE = re.compile(r"[省市县区旗州盟].*?(局|委|办|中心|院|所|厅|馆|站|队|会|府|校|部)")
_YEAR_TITLE_RE = re.compile(r"(20\d\d)\s*年\s*度?[^\n]{0,30}?(预算|决算)")
_YEAR_FIELD_RE = re.compile(r"预算年度[:：]?\s*(20\d\d)|(20\d\d)\s*年度")

PERFORMANCE_IDS = {"performance_targets", "performance_self_evaluation"}


@dataclass
class SectionLoc:
    id: str
    kind: str  # table | performance | narrative
    title: str
    first: int  # line index of the title
    last: int  # last line index, inclusive
    unit: str | None = None
    empty_note: str | None = None

    @property
    def body(self) -> range:
        return range(self.first + 1, self.last + 1)


@dataclass
class Segmentation:
    meta: DocumentMeta
    sections: list[SectionLoc] = field(default_factory=list)

    def tables(self) -> list[SectionLoc]:
        return [s for s in self.sections if s.kind == "table"]


def _title_stem(text: str) -> str:
    """A title without its 表N / 附表 prefix and a trailing 表(按功能分类科目) or 表（续）."""
    return re.sub(r"[(（][^()（）]{2,14}[)）]$", "", _TITLE_PREFIX_RE.sub("", text, count=1))


def title_kind(line: Line, next_line: Line | None = None) -> tuple[str, str] | None:
    """(table id, title) when the line is a table or performance title, else None."""
    text = line.compact
    if not text or len(text) > 90 or not _TITLE_HINT_RE.search(text + (next_line.compact if next_line else "")):
        return None
    if _TOC_RE.search(line.norm.text.strip()):
        return None
    if "\t" in line.norm.text.strip() and not text.endswith("表"):
        return None
    if _SENTENCE_RE.search(text) or "见下表" in text or "详见" in text:
        return None
    cand = _title_stem(text)
    if cand.count("表") > 1 and "、" in cand:
        return None  # prose listing several tables (基本支出表、项目支出表), not a title
    if next_line is not None and len(next_line.compact) <= 2 and next_line.compact.endswith("表"):
        cand += next_line.compact  # a title broken before its last character
    for kind in vocab.TABLE_KINDS:
        limit = 90 if kind.id in PERFORMANCE_IDS else 40
        if len(cand) > limit:
            continue
        if any(re.search(p, cand) for p in kind.patterns):
            return kind.id, line.norm.text.strip()
    return None


def _other_title(line: Line) -> bool:
    """A table title the catalog does not know (…项目支出情况表（按经济分类科目）)."""
    text = line.compact
    if not text or len(text) > 40 or "\t" in line.norm.text.strip() or _SENTENCE_RE.search(text):
        return False
    cand = _title_stem(text)
    return len(cand) >= 6 and cand.endswith("表") and not re.search(r"\d", cand)


def _is_heading(line: Line) -> bool:
    text = line.compact
    if (not text or len(text) > 40 or "\t" in line.raw or line.raw.startswith("  ")
            or _CELL_GAP_RE.search(line.raw)):
        return False  # a tab-led or indented line is a table cell, never a heading
    if _SENTENCE_RE.search(text) or _DECIMAL_RE.search(text):
        return False
    if _HEADING_RE.match(text):
        return True
    return bool(_NARRATIVE_END_RE.search(text)) and ("说明" in text or "名词解释" in text)


def _has_table_cue(lines: list[Line], start: int, stop: int, titles: dict, headings: list[bool]) -> bool:
    seen = 0
    for ln in lines[start:stop]:
        if ln.blank:
            continue
        seen += 1
        if ln.index in titles or headings[ln.index]:
            return False
        if "\t" in ln.raw or (_TABLE_CUE_RE.search(ln.compact) and not _SENTENCE_RE.search(ln.compact)):
            return True  # a sentence that mentions 科目 or 合计 is prose, not a table
        if seen >= 12:
            break
    return False


_AMOUNT_ROW_RE = re.compile(r"\t|\S {2,}-?[\d,]*\d(?:\.\d+)?(?: |$)")


def _row_of_table(lines: list[Line], j: int, stop: int) -> bool:
    """A heading-like line inside a table is one of its rows when a row with an amount
    follows it, perhaps after more label-only rows ("三、国有资本经营预算拨款收入" with no
    amount, in a space-separated dump); prose after it means the table has ended."""
    for ln in lines[j + 1:min(stop, j + 8)]:
        if ln.blank:
            continue
        if _SENTENCE_RE.search(ln.compact):
            return False
        if _AMOUNT_ROW_RE.search(ln.raw.rstrip("\r\n")):
            return True
    return False


def locate_sections(layout: Layout) -> list[SectionLoc]:
    lines = layout.lines
    n = len(lines)
    headings = [_is_heading(ln) for ln in lines]
    titles: dict[int, tuple[str, str]] = {}
    for i, ln in enumerate(lines):
        if ln.blank:
            continue
        nxt = next((lines[k] for k in range(i + 1, min(n, i + 3)) if not lines[k].blank), None)
        tk = title_kind(ln, nxt)
        if tk:
            titles[i] = tk
    starts = [(i, tk[0], tk[1]) for i, tk in titles.items()
              if _has_table_cue(lines, i + 1, min(n, i + 40), titles, headings)]
    sections: list[SectionLoc] = []
    for k, (i, tid, title) in enumerate(starts):
        stop = starts[k + 1][0] if k + 1 < len(starts) else n
        last = i
        for j in range(i + 1, stop):
            if headings[j] and j > i + 1 and not _row_of_table(lines, j, stop):
                break
            if tid not in PERFORMANCE_IDS and j > i + 1 and j not in titles and _other_title(lines[j]):
                break  # a table outside the catalog starts: not rows of this one
            last = j
        kind = "performance" if tid in vocab.KIND_BY_ID and tid in PERFORMANCE_IDS else "table"
        sec = SectionLoc(tid, kind, title, i, last)
        sec.unit = _section_unit(lines, sec)
        sec.empty_note = _empty_note(lines, sec) if kind == "table" else None
        sections.append(sec)
    sections = _merge_repeated(sections)
    sections.extend(_narrative_sections(lines, sections, headings))
    sections.sort(key=lambda s: s.first)
    return sections


def _merge_repeated(sections: list[SectionLoc]) -> list[SectionLoc]:
    """A table title printed again on a continuation page extends the same table."""
    out: list[SectionLoc] = []
    for s in sections:
        prev = out[-1] if out else None
        if prev and prev.kind == "table" and prev.id == s.id and s.first <= prev.last + 3:
            prev.last = s.last
            prev.empty_note = prev.empty_note or s.empty_note
            continue
        out.append(s)
    return out


def _section_unit(lines: list[Line], sec: SectionLoc) -> str | None:
    for ln in lines[sec.first:min(sec.last + 1, sec.first + 14)]:
        m = vocab.UNIT_RE.search(ln.compact)
        if m:
            return m.group(1)
    return None


def _empty_note(lines: list[Line], sec: SectionLoc) -> str | None:
    for ln in lines[sec.first + 1:sec.last + 1]:
        t = ln.norm.text.strip()
        if re.match(r"^(注|说明)[:：]", t) and vocab.EMPTY_TABLE_RE.search(t):
            return t
    return None


def _narrative_sections(lines: list[Line], taken: list[SectionLoc], headings: list[bool]) -> list[SectionLoc]:
    covered = set()
    for s in taken:
        covered.update(range(s.first, s.last + 1))
    out: list[SectionLoc] = []
    cur: SectionLoc | None = None
    for i, ln in enumerate(lines):
        if i in covered:
            cur = None
            continue
        if ln.blank:
            continue
        if cur is None or headings[i]:
            cur = SectionLoc("narrative", "narrative", ln.norm.text.strip()[:60], i, i)
            out.append(cur)
        cur.last = i
    return out


# --------------------------------------------------------------------------- metadata

def detect_meta(layout: Layout, sections: list[SectionLoc]) -> DocumentMeta:
    lines = layout.lines
    text = "\n".join(ln.norm.text for ln in lines)
    head = "\n".join(ln.norm.text for ln in lines[:40])

    flat = re.sub(r"[ \t]", "", text)
    # candidates come from short lines (titles, table headers); counts from the whole text
    cands = {m.group(1) for ln in lines if 0 < len(ln.compact) <= 48 and _AGENCY_HINT_RE.search(ln.compact)
             for m in _AGENCY_RE.finditer(ln.compact)}
    counts = Counter({a: flat.count(a) for a in cands})
    agency = None
    if counts:
        # The name used most wins; corrupted variants (a misread character, a traditional form)
        # are rarer.
        agency = max(counts, key=lambda a: (counts[a], -len(a), a))
        agency = _full_agency(agency, counts)

    code = None
    if agency:
        m = Counter(re.findall(r"(?:^|\s)(\d{3,12})\s*" + re.escape(agency), text, re.M))
        if m:
            code = m.most_common(1)[0][0]

    year = None
    m = _YEAR_TITLE_RE.search(head.replace(" ", ""))
    if m:
        year = int(m.group(1))
    else:
        ys = Counter((a or b) for a, b in _YEAR_FIELD_RE.findall(text.replace(" ", "")))
        if ys:
            year = int(ys.most_common(1)[0][0])

    # 预决算 inside a law's name says nothing; count what the document calls itself.
    compact_text = text.replace(" ", "")
    count = compact_text.count
    fin = sum(map(count, ("部门决算", "单位决算", "决算表", "决算数", "年度决算")))
    bud = (sum(map(count, ("部门预算", "单位预算", "预算公开", "预算年度")))
           - count("部门预算绩效") - count("单位预算绩效"))
    kind = ("final" if fin > bud else "budget") if (fin or bud) else None

    units = Counter(s.unit for s in sections if s.kind == "table" and s.unit
                    and s.id not in ("procurement", "assets"))
    if not units:  # no standard table: the other tables' units, else the prose's amounts
        units = Counter(s.unit for s in sections if s.unit)
    if not units:
        units = Counter(re.findall(r"\d(万元|亿元|元)", text))
    unit = units.most_common(1)[0][0] if units else None

    scope = None
    dep = count("部门预算") + count("部门决算")
    uni = count("单位预算") + count("单位决算")
    if dep or uni:
        scope = "unit" if uni > dep else "department"
    return DocumentMeta(agency=agency, agency_code=code, year=year, kind=kind, unit=unit, scope=scope)


def _full_agency(name: str, counts: Counter) -> str:
    """A name cut at its start (a wrapped line) is a suffix of the full name: prefer the full
    name when it accounts for most occurrences (a parent prefix printed once does not)."""
    longer = [o for o in counts if o != name and o.endswith(name) and counts[o] * 2 >= counts[name]]
    return max(longer, key=lambda o: (len(o), counts[o])) if longer else name


def segment(layout: Layout) -> Segmentation:
    sections = locate_sections(layout)
    meta = detect_meta(layout, sections)
    for sec in sections:  # a table without its own unit line uses the document's unit
        if sec.kind == "table" and sec.unit is None:
            sec.unit = meta.unit
    return Segmentation(meta=meta, sections=sections)
