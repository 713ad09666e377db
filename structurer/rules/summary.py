"""Summary tables (收支总表, 财政拨款收支总表): revenue and expenditure side by side, rows
keyed by their label (本年收入合计, 一般公共预算, 类 names), read from a tab dump or a grid."""
from __future__ import annotations

import re

from .. import vocab
from ..classification import functional_code
from ..model import Row
from ..normalize import NText, compact
from .labels import _is_label, _match_rows

_LINE_NO_RE = re.compile(r"\d{1,3}")
_FUND_ROW = {"revenue.general_budget": "general_budget", "revenue.gov_fund": "gov_fund",
             "revenue.state_capital": "state_capital"}


def parse_summary(tp) -> list[Row]:
    sides = {"revenue_side": [], "expenditure_side": []}
    for i, p in enumerate(tp.leaves):
        if p[0] in sides:
            sides[p[0]].append(i)
    rev_cols = [tp.columns[i] for i in sides["revenue_side"] if tp.columns[i]]
    exp_cols = [tp.columns[i] for i in sides["expenditure_side"] if tp.columns[i]]
    rev_line = any(tp.leaves[i][-1] == "line" for i in sides["revenue_side"])
    exp_line = any(tp.leaves[i][-1] == "line" for i in sides["expenditure_side"])
    rows: list[Row] = []
    ctx = {"revenue": [], "expenditure": []}
    for rec in tp.grid.records:
        labels = [(k, f) for k, f in enumerate(rec.fields) if _is_label(f.text)]
        if not labels:
            continue
        assigned: list[tuple[str, int, NText]] = []
        if len(labels) >= 2:
            assigned = [("revenue", labels[0][0], labels[0][1]),
                        ("expenditure", labels[1][0], labels[1][1])]
        else:
            k, f = labels[0]
            side = _side_of(f.text)
            if side is None:
                rev_pos = next((j for j in sides["revenue_side"] if tp.leaves[j][-1] == "item"), 0)
                side = "revenue" if k <= rev_pos + (1 if rev_line else 0) else "expenditure"
            assigned = [(side, k, f)]
        for n, (side, k, f) in enumerate(assigned):
            stop = assigned[n + 1][1] if n + 1 < len(assigned) else len(rec.fields)
            vals = [v for v in rec.fields[k + 1:stop]]
            has_line = rev_line if side == "revenue" else exp_line
            if has_line and vals and _LINE_NO_RE.fullmatch(vals[0].text.strip()):
                vals = vals[1:]
            elif has_line and vals and not vals[0].text.strip() and len(vals) > 1:
                vals = vals[1:]
            cols = rev_cols if side == "revenue" else exp_cols
            row_id = _summary_row_id(side, f.text, ctx[side])
            if not row_id:
                continue
            cells = [c for c in (tp.cell(col, v) for col, v in zip(cols, vals)) if c]
            ctx[side].append(row_id)
            rows.append(Row(id=row_id, label=compact(f.text), span=tp.layout.span_of(f),
                            cells=cells))
    return _grant_heading(rows, tp.sec.id)

def parse_summary_grid(tp) -> list[Row]:
    """A summary table read from its grid: each side's label column and value columns."""
    sides: dict[str, list[int]] = {"revenue_side": [], "expenditure_side": []}
    side = "revenue_side"
    for i, p in enumerate(tp.leaves):
        if p[0] in sides:
            side = p[0]
        elif p[-1] in ("item", "name") and sides["revenue_side"]:
            side = "expenditure_side"  # the second label column starts the other side
        sides[side].append(i)
    rows: list[Row] = []
    ctx: dict[str, list[str]] = {"revenue": [], "expenditure": []}
    label_cols = {i for idx in sides.values() for i in idx if tp.leaves[i][-1] in ("item", "name")}
    for rec in tp.grid.records:
        found = False
        for side, idx in sides.items():
            key = side.split("_")[0]
            lab_i = next((i for i in idx if tp.leaves[i][-1] in ("item", "name")), None)
            if lab_i is None or lab_i >= len(rec.fields) or not rec.fields[lab_i].text.strip():
                continue
            found = found or _is_label(rec.fields[lab_i].text)
            f = rec.fields[lab_i]
            row_id = _summary_row_id(key, f.text, ctx[key])
            if not row_id:
                continue
            cells = [c for c in (tp.cell(tp.columns[i], rec.fields[i]) for i in idx
                                 if tp.columns[i] and i < len(rec.fields)) if c]
            ctx[key].append(row_id)
            rows.append(Row(id=row_id, label=compact(f.text), span=tp.layout.span_of(f), cells=cells))
        if not found:
            rows.extend(_shifted_row(tp, rec, sides, label_cols, ctx))
    return _grant_heading(_lone_total_is_grand(rows), tp.sec.id)


def _shifted_row(tp, rec, sides: dict[str, list[int]], label_cols: set[int],
                 ctx: dict[str, list[str]]) -> list[Row]:
    """A row with no label in either label column but one in a value column: printed shifted
    (a cell dropped before it). Its side comes from the label's own words, its values are the
    fields after it, in the order of that side's value columns."""
    labels = [k for k, f in enumerate(rec.fields) if k not in label_cols and _is_label(f.text)]
    if len(labels) != 1:
        return []
    k = labels[0]
    f = rec.fields[k]
    key = _side_of(f.text)
    if key is None:
        return []
    row_id = _summary_row_id(key, f.text, ctx[key])
    if not row_id:
        return []
    cols = [tp.columns[i] for i in sides[f"{key}_side"] if tp.columns[i]]
    cells = [c for c in (tp.cell(col, v) for col, v in zip(cols, rec.fields[k + 1:])) if c]
    ctx[key].append(row_id)
    return [Row(id=row_id, label=compact(f.text), span=tp.layout.span_of(f), cells=cells)]


def _summary_row_id(side: str, label: str, seen: list[str]) -> str | None:
    lab = compact(label)
    sub = lab.startswith("其中:")
    lab = vocab.strip_ordinal(re.sub(r"^其中:", "", lab))
    if side == "revenue":
        lab = re.sub(r"(?<=[^位])资金$", "", lab)  # 一般公共预算资金, 事业收入资金 (not 单位资金)
        if re.fullmatch(r"(收入)?合计", lab):
            return "revenue.grand_total" if "revenue.current_year_total" in seen \
                else "revenue.current_year_total"
        rid = _match_rows(lab, vocab.REVENUE_ROWS)
        if rid is None:
            return None
        if sub and seen:
            return f"{seen[-1]}.{rid.split('.', 1)[1]}"
        if rid in _FUND_ROW and "revenue.prior_year_carryover" in seen:
            return f"revenue.prior_year_carryover.{_FUND_ROW[rid]}"
        if rid == "revenue.fiscal_grant" and seen and seen[-1] in _FUND_ROW:
            return f"{seen[-1]}.fiscal_grant"
        return rid
    if re.fullmatch(r"(支出)?合计", lab):
        return "expenditure.grand_total" if "expenditure.current_year_total" in seen \
            else "expenditure.current_year_total"
    rid = _match_rows(lab, vocab.EXPENDITURE_ROWS)
    if rid:
        return rid
    return functional_code(lab, seen)


def _side_of(text: str) -> str | None:
    lab = vocab.strip_ordinal(compact(re.sub(r"^其中[:：]", "", compact(text))))
    if "收入" in lab or _match_rows(lab, vocab.REVENUE_ROWS):
        return "revenue"
    if "支出" in lab or _match_rows(lab, vocab.EXPENDITURE_ROWS) or vocab.functional_class_by_name(lab):
        return "expenditure"
    return None


def _grant_heading(rows: list[Row], table_id: str) -> list[Row]:
    """In the fiscal-grant summary every revenue is a grant: a 一、财政拨款 heading over the
    fund lines, beside 二、上年结转, is the current year's revenue total."""
    ids = [r.id for r in rows]
    if table_id == "fiscal_grant_summary" and "revenue.current_year_total" not in ids \
            and ids.count("revenue.fiscal_grant") == 1:
        rows[ids.index("revenue.fiscal_grant")].id = "revenue.current_year_total"
    return rows


def _lone_total_is_grand(rows: list[Row]) -> list[Row]:
    """A side whose only total is one 合计, with no carryover rows, prints its grand total."""
    ids = {r.id for r in rows}
    for side in ("revenue", "expenditure"):
        if f"{side}.grand_total" in ids or any(i.startswith(("revenue.prior_year", "revenue.use_of",
                                                             "expenditure.year_end", "expenditure.surplus"))
                                               for i in ids if i.startswith(side)):
            continue
        totals = [r for r in rows if r.id == f"{side}.current_year_total"]
        if len(totals) == 1 and re.fullmatch(r"(收入|支出)?合计", vocab.strip_ordinal(totals[0].label)):
            totals[0].id = f"{side}.grand_total"
    return rows
