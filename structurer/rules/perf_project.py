"""A performance block's project: its name and its amount.

The name comes from the title (numbering and the 绩效目标表 suffix removed), else from a
项目名称 field; the amount from a budget label in the block's head (年度资金总额 …), else
from the one amount of funds a goal text states.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .. import vocab
from ..layout import Layout, Line
from .perf_cells import NUMBER_RE, UNIT_PAREN_RE, tidy, unspaced

NUMBER_PREFIX_RE = re.compile(
    r"^\s*(?:[(（]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[、.．](?!\d)|[一二三四五六七八九十]+\s*、|"
    r"[(（][一二三四五六七八九十]+[)）])\s*")
GENERIC_NAME_RE = re.compile(r"^(\d{4}年度?)?(部门|单位)?(预算)?(项目)?(支出)?$")
_GOAL_AMOUNT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|元)")
_GOAL_AMOUNT_CUE_RE = re.compile(r"资金|经费|预算|支付|拨付|安排")
_LABELS_RE = re.compile(r"(项目)?基本信息|(项目)?主管部门|实施单位|项目编码|项目资金|预算单位|单位名称|资金用途|得分|分值|"
                        r"执行率|年初预算数|全年预算数|全年执行数|年度资金总额|\((万元|元)\)")
_ORG_RE = re.compile(r"(局|中心|委员会|办公室|厅)$")
_DATE_RE = re.compile(r"^\d{4}\s*年(\s*\d{1,2}\s*月)?(\s*\d{1,2}\s*日)?$|^\d{4}\s*年度$")


# --------------------------------------------------------------------------- names, amounts

def project_name(title: str) -> str:
    t = NUMBER_PREFIX_RE.sub("", title, count=1)
    t = re.sub(r"\s+$", "", t)
    flat_end = unspaced(t)
    m = vocab.PERF_TITLE_SUFFIX_RE.search(flat_end)
    if m:
        # remove the suffix's characters from the end of the spaced text
        k = len(m.group(0))
        j = len(t)
        while k and j:
            j -= 1
            if not t[j].isspace():
                k -= 1
        t = t[:j]
    return tidy(t)


def _name_candidate(text: str) -> str | None:
    t = _LABELS_RE.sub("", text).strip(" :：\t")
    if not t or _ORG_RE.search(t) or _DATE_RE.match(t) or re.search(r"绩效|自评", t) \
            or NUMBER_RE.fullmatch(t) or len(t) > 80:
        return None
    return tidy(t)


def named_field(lines: list[Line], start: int, stop: int) -> str | None:
    """The value of a 项目名称 field: a later cell of its line that is not a label or an
    agency, else the nearest such line above or below (tables printed out of order)."""
    for i in range(start, stop):
        text = lines[i].norm.text
        k = text.find("项目名称")
        if k < 0:
            continue
        for f in re.split(r"\t|\s{2,}", text[k + 4:]):
            name = _name_candidate(f)
            if name:
                return name
        for step in (-1, 1):
            k2 = i + step
            while start <= k2 < stop and lines[k2].blank:
                k2 += step
            if start <= k2 < stop:
                for f in lines[k2].norm.text.split("\t"):
                    name = _name_candidate(f)
                    if name:
                        return name
        return None
    return None


def _unit_near(lines: list[Line], start: int, stop: int, default: str | None) -> str:
    for ln in lines[start:stop]:
        m = vocab.UNIT_RE.search(ln.compact) or UNIT_PAREN_RE.search(ln.norm.text)
        if m:
            return m.group(1)
    return default or "元"


def head_amount(layout: Layout, start: int, stop: int, default_unit: str | None):
    """(value in 元, printed, unit) from a budget label in the block's head, else None."""
    lines = layout.lines
    for i in range(start, stop):
        ln = lines[i]
        text = ln.norm.text
        for m in vocab.PERF_AMOUNT_LABEL_RE.finditer(text):
            rest = text[m.end():]
            n = re.match(r"[\s\t:：]*(" + NUMBER_RE.pattern + r")", rest)
            if not n:
                continue
            printed_norm = n.group(1)
            same_line = UNIT_PAREN_RE.search(text)
            unit = m.group(3) or (same_line.group(1) if same_line else None) \
                or _unit_near(lines, start, stop, default_unit)
            j = m.end() + n.start(1)
            span = layout.span_of(ln.norm, j, j + len(printed_norm))
            printed = layout.printed(span)
            try:
                value = Decimal(printed_norm.replace(",", "")) * vocab.UNIT_FACTORS.get(unit, 1)
            except InvalidOperation:
                continue
            return value, printed, unit
    # a goal text stating one amount of funds
    found = []
    for i in range(start, stop):
        text = lines[i].norm.text
        for m in _GOAL_AMOUNT_RE.finditer(text):
            found.append((i, m, text))
    if len({(m.group(1), m.group(2)) for _, m, _ in found}) == 1:
        i, m, text = found[0]
        if _GOAL_AMOUNT_CUE_RE.search(text[max(0, m.start() - 12):m.start()]):
            span = layout.span_of(lines[i].norm, m.start(1), m.end(1))
            unit = m.group(2)
            return Decimal(m.group(1)) * vocab.UNIT_FACTORS[unit], layout.printed(span), unit
    return None
