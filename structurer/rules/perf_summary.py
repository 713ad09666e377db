"""The summary layout: 预算项目绩效目标汇总表, one project per coded row with column groups
(成本指标/产出指标/…) of 三级指标 + 指标值, continuation rows that may sit shifted.
"""
from __future__ import annotations

import re
from decimal import Decimal

from .. import vocab
from ..layout import Layout
from ..model import Indicator, PerformanceTarget
from ..normalize import NText
from .perf_blocks import Header
from .perf_cells import LEVEL1, NUMBER_RE, UNIT_PAREN_RE, TextCell, looks_value, tidy, unspaced

# --------------------------------------------------------------------------- summary layout

def summary_targets(layout: Layout, h: Header, last: int, default_unit: str | None
                     ) -> list[PerformanceTarget]:
    lines = layout.lines
    group_fields = [unspaced(f) for f in lines[h.first].norm.text.split("\t")]
    sub_fields = [unspaced(f) for f in lines[h.last].norm.text.split("\t")]
    above = next((k for k in range(h.first - 1, max(-1, h.first - 4), -1) if not lines[k].blank), None)
    top_fields = [unspaced(f) for f in lines[above].norm.text.split("\t")] if above is not None else []
    groups = [(p, f) for p, f in enumerate(group_fields) if f in LEVEL1]
    slots: dict[int, tuple[str, str]] = {}
    for gi, (g, label) in enumerate(groups):
        end = groups[gi + 1][0] if gi + 1 < len(groups) else len(sub_fields)
        l3 = next((p for p in range(g, end) if p < len(sub_fields) and "三级指标" in sub_fields[p]), None)
        val = next((p for p in range(g, end) if p < len(sub_fields) and sub_fields[p] == "指标值"), None)
        if l3 is None or val is None:
            continue
        slots[l3] = ("l3", label)
        slots[val] = ("value", label)
    if not slots:
        return []
    ind_start = min(slots)

    def pos_of(fields: list[str], rx: str) -> int | None:
        return next((p for p, f in enumerate(fields) if re.search(rx, f)), None)

    code_pos = pos_of(top_fields, r"编码|代码") or 0
    name_pos = pos_of(top_fields, r"名称")
    if name_pos is None:
        name_pos = code_pos + 1
    amount_pos = pos_of(sub_fields, r"资金总额|合计") or pos_of(top_fields, r"金额|资金总额")
    unit = None
    for f in top_fields + sub_fields:
        m = UNIT_PAREN_RE.search(f)
        if m:
            unit = m.group(1)
            break
    unit = unit or default_unit or "万元"

    targets: list[PerformanceTarget] = []
    cur: dict | None = None

    def add_pairs(cells: list[tuple[int, NText]], shifts: tuple[int, ...]) -> None:
        if cur is None or not cells:
            return
        best = None
        for s in shifts:
            mapped = [(slots.get(p + s), t) for p, t in cells]
            if any(m is None for m, _ in mapped):
                continue
            score = 0.0
            pairs: dict[str, dict[str, NText]] = {}
            for (kind, label), t in mapped:
                pairs.setdefault(label, {})[kind] = t
            for label, pv in pairs.items():
                l3 = unspaced(pv["l3"].text) if "l3" in pv else ""
                val = pv["value"].text.strip() if "value" in pv else ""
                if "value" in pv and not (looks_value(val) or len(unspaced(val)) <= 6):
                    score -= 1
                if l3 and looks_value(l3):
                    score -= 2
                if "成本" in label and (re.search(r"元|万", val) is None if val
                                        else not re.search(r"成本|费用|资金|经费", l3)):
                    score -= 2  # a cost indicator states money
                if "满意" in label and l3 and "满意" not in l3:
                    score -= 2
                if "满意" not in label and "满意" in l3:
                    score -= 2
            if best is None or score > best[0]:
                best = (score, pairs)
        if best is None:
            return
        for label in [lab for _, lab in groups]:
            pv = best[1].get(label)
            if not pv:
                continue
            inds = cur["inds"]
            if "l3" in pv and "value" not in pv:
                prev = next((x for x in reversed(inds) if x["level1"] == label), None)
                if prev is not None:
                    prev["l3"].add(pv["l3"])
                    continue
            if "value" in pv and "l3" not in pv:
                prev = next((x for x in reversed(inds) if x["level1"] == label), None)
                if prev is not None:
                    prev["value"].add(pv["value"])
                    continue
            inds.append({"level1": label, "l3": TextCell().add(pv["l3"]) if "l3" in pv else TextCell(),
                         "value": TextCell().add(pv["value"]) if "value" in pv else TextCell()})

    def close() -> None:
        if cur is None or not cur["inds"]:
            return
        inds = []
        for x in cur["inds"]:
            rng = [r for r in (x["l3"].source_range(), x["value"].source_range()) if r]
            if not rng or not x["l3"].text:
                continue
            span = layout.span(min(r[0] for r in rng), max(r[1] for r in rng))
            inds.append(Indicator(level1=x["level1"], level2="", level3=tidy(x["l3"].text),
                                  value=x["value"].text, span=span))
        order = {label: k for k, (_, label) in enumerate(groups)}
        inds.sort(key=lambda ind: order.get(ind.level1, len(order)))  # stable: rows within a group
        a, b = cur["range"]
        targets.append(PerformanceTarget(
            project=tidy(cur["name"].text), amount=cur["amount"], amount_printed=cur["printed"],
            amount_unit=cur["unit"] if cur["amount"] is not None else None,
            span=layout.lines_span(a, b), indicators=inds))

    for i in range(h.last + 1, last + 1):
        ln = lines[i]
        if ln.blank or "\t" not in ln.raw:
            continue
        fields = ln.norm.split_fields("\t")
        texts = [unspaced(f.text) for f in fields]
        get = (lambda p: texts[p] if p is not None and p < len(texts) else "")
        code, name = get(code_pos), get(name_pos)
        cells = [(p, f) for p, f in enumerate(fields) if p >= ind_start - 2 and p != name_pos
                 and p != amount_pos and f.text.strip()]
        if re.fullmatch(r"\d{3,}", code):
            has_pairs = any(p in slots for p, _ in cells)
            close()
            cur = None
            if name and (has_pairs or len(code) >= 10):
                amt = None
                printed = None
                if amount_pos is not None and amount_pos < len(fields):
                    f = fields[amount_pos].strip()
                    if NUMBER_RE.fullmatch(f.text.replace(" ", "")):
                        printed = layout.printed(layout.span_of(f))
                        amt = Decimal(f.text.replace(",", "").replace(" ", "")) * vocab.UNIT_FACTORS[unit]
                cur = {"name": TextCell().add(fields[name_pos]), "amount": amt, "printed": printed,
                       "unit": unit, "inds": [], "range": [i, i]}
                add_pairs([(p, f) for p, f in cells if p >= ind_start], (0,))
            continue
        if cur is None:
            continue
        cur["range"][1] = i
        if name and not code and not get(amount_pos):
            cur["name"].add(fields[name_pos])
        add_pairs(cells, (0, -1, 1, -2, 2))
    close()
    return targets
