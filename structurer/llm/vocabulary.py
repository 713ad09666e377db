"""The canonical ids as the model sees them: per table, the column ids and row keys with
the printed words they stand for (docs/domain §4, evals/gold/README.md).

The rules backend recognizes these ids from regexes in `structurer.vocab`; a model needs
them listed by name. Code ↔ name tables (functional and economic classification) come from
`structurer.vocab`; only the entries whose name occurs in a chunk are listed, to keep
prompts short.
"""
from __future__ import annotations

import re

from .. import vocab
from ..normalize import compact

CODE_RE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")

_EXP_COLUMNS = {
    "total": "合计/本年支出合计/小计", "basic": "基本支出", "project": "项目支出",
    "operating": "经营支出", "remit_to_superior": "上缴上级支出",
    "subsidy_to_subordinate": "对附属单位补助支出",
    "basic.personnel.301": "基本支出·人员经费·工资福利支出",
    "basic.personnel.303": "基本支出·人员经费·对个人和家庭的补助",
    "basic.public.302": "基本支出·公用经费·商品和服务支出",
    "basic.public.310": "基本支出·公用经费·资本性支出",
    "project.other_operating": "项目支出·其他运转类", "project.specific_target": "项目支出·特定目标类",
}
_FUNDS = {"general_budget": "一般公共预算", "gov_fund": "政府性基金预算", "state_capital": "国有资本经营预算"}

COLUMNS: dict[str, dict[str, str]] = {
    "revenue_expenditure_summary": {"amount": "预算数/决算数/金额 (both sides)"},
    "fiscal_grant_summary": {
        "amount": "收入 side: 预算数/决算数/金额", "total": "支出 side: 合计/小计",
        **{k: f"支出 side: {v}" for k, v in _FUNDS.items()},
        "general_budget.fiscal_grant": "支出 side: 一般公共预算·其中:财政拨款"},
    "revenue": {
        "total": "合计/本年收入合计", "current_year": "本年收入·小计", "fiscal_grant": "财政拨款(收入)",
        "fiscal_special_account": "财政专户(管理资金)收入", "business": "事业收入", "operating": "(事业单位)经营收入",
        "superior_subsidy": "上级补助收入", "subordinate_remittance": "附属单位上缴收入", "other": "其他收入",
        "unit_funds": "单位资金", "prior_year_carryover": "上年结转/年初结转和结余", **_FUNDS},
    "expenditure": _EXP_COLUMNS,
    "general_budget_expenditure": _EXP_COLUMNS,
    "state_capital_expenditure": _EXP_COLUMNS,
    "gov_fund_expenditure": {**_EXP_COLUMNS, "prior_year_carryover": "上年结转/年初结转和结余",
                             "current_year_revenue": "本年收入", "year_end_carryover": "年末结转和结余"},
    "economic_classification": _EXP_COLUMNS,
    "general_budget_basic_expenditure": {"total": "合计/决算数/金额", "personnel": "人员经费",
                                         "public": "公用经费"},
    "three_public": {"total": "合计", **_FUNDS, "budget": "预算数 (final accounts)",
                     "final": "决算数 (final accounts)", "amount": "the single value column"},
    "project_expenditure": {
        "total": "合计", **{f"appropriation.{k}": f"本年拨款·{v}" for k, v in _FUNDS.items()},
        **{f"carryover.{k}": f"财政拨款结转结余·{v}" for k, v in _FUNDS.items()},
        "fiscal_special_account": "财政专户管理资金", "unit_funds": "单位资金"},
    "procurement": {
        "project_budget": "预算资金 of the source project", "quantity": "数量 (a count)",
        "unit_price": "单价", "total": "政府采购金额·合计", **_FUNDS,
        "fiscal_special_account": "财政专户管理资金", "unit_funds": "单位资金", "carryover": "结转",
        "sme_reserved": "预留中小微企业份额"},
    "assets": {"quantity": "数量 (a count)", "value": "价值/金额"},
    "operating_costs": {"total": "合计/金额"},
}

_REVENUE_KEYS = {
    "revenue.general_budget": "一般公共预算(拨款)收入", "revenue.gov_fund": "政府性基金预算(拨款)收入",
    "revenue.state_capital": "国有资本经营预算(拨款)收入", "revenue.fiscal_special_account": "财政专户管理资金收入",
    "revenue.unit_funds": "单位资金", "revenue.business": "事业收入", "revenue.operating": "事业单位经营收入",
    "revenue.superior_subsidy": "上级补助收入", "revenue.subordinate_remittance": "附属单位上缴收入",
    "revenue.other": "其他收入", "revenue.current_year_total": "本年收入合计/一、本年收入",
    "revenue.use_of_balances": "使用非财政拨款结余/用事业基金弥补收支差额",
    "revenue.prior_year_carryover": "上年结转结余/年初结转和结余",
    "revenue.prior_year_carryover.general_budget": "(under 上年结转) 一般公共预算",
    "revenue.prior_year_carryover.gov_fund": "(under 上年结转) 政府性基金",
    "revenue.prior_year_carryover.state_capital": "(under 上年结转) 国有资本经营",
    "revenue.general_budget.fiscal_grant": "其中:财政拨款 (under 一般公共预算)",
    "revenue.grand_total": "收入总计/总计 (revenue side)",
}
_EXPENDITURE_KEYS = {
    "expenditure.current_year_total": "本年支出合计/一、本年支出", "expenditure.surplus_distribution": "结余分配",
    "expenditure.year_end_carryover": "年终/年末结转(和)结余", "expenditure.grand_total": "支出总计/总计 (expenditure side)",
}
_CODED = {"total": "合计 (also an unlabelled first row of totals)", "unit.<code>": "a unit row (单位代码 + name)"}

ROWS: dict[str, dict[str, str]] = {
    "revenue_expenditure_summary": {**_REVENUE_KEYS, **_EXPENDITURE_KEYS,
                                    "<类 code>": "an expenditure 类 printed by name, e.g. 卫生健康支出 → 210"},
    "fiscal_grant_summary": {**_REVENUE_KEYS, **_EXPENDITURE_KEYS,
                             "<类 code>": "an expenditure 类 printed by name, e.g. 卫生健康支出 → 210"},
    "general_budget_basic_expenditure": {**_CODED, "personnel_total": "人员经费合计",
                                         "public_total": "公用经费合计"},
    "three_public": {"total": "合计", "subtotal": "“三公”经费小计", "overseas": "因公出国(境)费",
                     "overseas.research": "其中:教学科研人员因公出国(境)费", "overseas.other": "其他因公出国(境)费",
                     "vehicle": "公务用车购置及运行(维护)费", "vehicle.purchase": "公务用车购置费",
                     "vehicle.operation": "公务用车运行(维护)费", "reception": "公务接待费"},
    "project_expenditure": {"total": "合计 or the unlabelled total row", "subtotal": "a unit's 小计",
                            "unit.<code>": "a unit row", "item.01, item.02, …": "projects in printed order"},
    "procurement": {"total": "合计 or the unlabelled total row", "subtotal": "a unit's 小计",
                    "unit.<code>": "a unit row", "item.01, item.02, …": "items in printed order"},
    "assets": {"total": "资产总额", "buildings": "房屋", "buildings.office": "其中:办公用房", "vehicles": "车辆",
               "equipment_over_threshold": "单价在…以上的设备", "other": "其他固定资产"},
}
for _t in ("revenue", "expenditure", "general_budget_expenditure", "gov_fund_expenditure",
           "state_capital_expenditure", "economic_classification", "operating_costs"):
    ROWS[_t] = dict(_CODED)

CODED_ROW_RULE = ("rows with a classification code: the code's digits joined without spaces "
                  "(2101202; 210|15|01 → 2101501)")

NARRATIVE_KEYS = {
    "revenue.grand_total": "收入总计/预算收入", "revenue.current_year_total": "本年收入合计",
    "revenue.general_budget": "一般公共预算(拨款)收入", "revenue.gov_fund": "政府性基金(预算)收入",
    "revenue.state_capital": "国有资本经营(预算)收入", "revenue.fiscal_special_account": "财政专户管理资金(收入)",
    "revenue.unit_funds": "单位资金(收入)", "revenue.fiscal_grant": "财政拨款收入",
    "revenue.prior_year_carryover": "上年结转(结余)", "expenditure.grand_total": "支出总计/收支安排",
    "expenditure.current_year_total": "本年支出合计", "expenditure.basic": "基本支出",
    "expenditure.basic.personnel": "人员经费", "expenditure.basic.public": "公用经费",
    "expenditure.project": "项目支出", "general_budget_expenditure.total": "一般公共预算(财政拨款)支出",
    "general_budget_expenditure.<类 code>": "一般公共预算支出 of one 类 (e.g. 卫生健康支出 → .210)",
    "three_public.total": "“三公”经费", "three_public.overseas": "因公出国(境)费",
    "three_public.vehicle": "公务用车购置及运行(维护)费", "three_public.vehicle.purchase": "公务用车购置费",
    "three_public.vehicle.operation": "公务用车运行(维护)费", "three_public.reception": "公务接待费",
    "operating_costs.total": "机关运行经费", "procurement.total": "政府采购(预算)总额",
    "assets.total": "(上年末)固定资产金额", "assets.planned_purchase": "拟购置固定资产",
}
NARRATIVE_KEY_SUFFIX = ".budget"  # final accounts: a stated 预算数


def _fixed_rows(table_id: str) -> set[str]:
    return {k for k in ROWS.get(table_id, {}) if "<" not in k and "…" not in k}


def valid_row_id(table_id: str, row_id: str) -> bool:
    """Is `row_id` a canonical row id for this table?"""
    if row_id in _fixed_rows(table_id):
        return True
    if re.fullmatch(r"unit\.\d{1,12}", row_id):
        return table_id not in ("revenue_expenditure_summary", "fiscal_grant_summary", "three_public", "assets")
    if re.fullmatch(r"item\.\d{2,3}", row_id):
        return table_id in ("project_expenditure", "procurement")
    if CODE_RE.match(row_id):
        if table_id in ("revenue_expenditure_summary", "fiscal_grant_summary"):
            return len(row_id) == 3
        return table_id not in ("three_public", "assets", "project_expenditure", "procurement")
    return False


def valid_column(table_id: str, column: str) -> bool:
    return column in COLUMNS.get(table_id, {})


def valid_narrative_key(key: str) -> bool:
    base = key[: -len(NARRATIVE_KEY_SUFFIX)] if key.endswith(NARRATIVE_KEY_SUFFIX) else key
    if base in NARRATIVE_KEYS:
        return True
    m = re.fullmatch(r"general_budget_expenditure\.(\d{3})", base)
    return bool(m) and m.group(1) in vocab.FUNCTIONAL_CLASSES


def _fmt(d: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in d.items())


def _needles(name: str) -> list[re.Pattern[str]]:
    """Search patterns of a vocabulary name: alternatives split at '/', the last '·' part,
    parenthesized text optional, explanations in brackets dropped."""
    out = []
    for alt in name.split("/"):
        alt = re.sub(r"\((?:under|both|final|a |the |an )[^)]*\)|\s*\(.*? .*?\)", "", alt).split("·")[-1]
        alt = compact(alt)
        if not alt or alt.startswith("<"):
            continue
        parts = re.split(r"(\([^)]*\))", alt)
        rx = "".join(f"(?:{re.escape(p[1:-1])})?" if p.startswith("(") else re.escape(p) for p in parts if p)
        out.append(re.compile(rx))
    return out


def _present(name: str, text: str) -> bool:
    return any(p.search(text) for p in _needles(name))


_ALWAYS = {"total", "amount", "unit.<code>", "subtotal"}


def value_text(lines: list[str], has_values) -> str:
    """Compact text of the lines that print values (and of the lines above a value line
    without a label, where its label was wrapped)."""
    keep = set()
    for k, ln in enumerate(lines):
        if has_values(ln):
            keep.add(k)
            if not re.search(r"[\u3400-\u9fff]", ln):  # the label is printed on a line above
                keep.update((k - 2, k - 1))
    return "".join(compact(lines[k]) for k in sorted(keep) if 0 <= k < len(lines))


def table_vocabulary(table_id: str, header_text: str, value_lines_text: str) -> str:
    """The ids a table chunk may use: the columns whose header words are printed, the row
    keys and code names printed on (or next to) lines with values."""
    head = compact(header_text)
    body = compact(value_lines_text)
    cols = {k: v for k, v in COLUMNS.get(table_id, {}).items() if k in _ALWAYS or _present(v, head)}
    rows = {k: v for k, v in ROWS.get(table_id, {}).items()
            if k in _ALWAYS or "<" in k or "…" in k or k in ("personnel_total", "public_total")
            or _present(v, body)}
    parts = [f"columns: {_fmt(cols or COLUMNS.get(table_id, {}))}", f"rows: {_fmt(rows)}"]
    if table_id in vocab.CODED_TABLES:
        parts.append(CODED_ROW_RULE)
    names: list[str] = []
    if table_id in ("revenue_expenditure_summary", "fiscal_grant_summary"):
        for code, alts in vocab.FUNCTIONAL_CLASSES.items():
            hit = next((a for a in alts if a in body), None)
            if hit:
                names.append(f"{code}={hit}")
    elif table_id in ("general_budget_basic_expenditure", "economic_classification", "operating_costs"):
        for code, name in vocab.ECONOMIC_NAMES.items():
            if compact(name) in body and code not in body:
                names.append(f"{code}={name}")
    if names:
        parts.append("codes of names: " + "; ".join(names))
    return "\n".join(parts)


_STATED_RE = re.compile(r"\d(?:[\d,.]*\d)?(?:亿元|万元|千元|元|%)")
_SUBJECT_KEYS = [(s.keys, re.compile(s.pattern)) for s in vocab.NARRATIVE_SUBJECTS if s.keys]


def narrative_vocabulary(kind: str | None, text: str) -> str:
    """The fact keys whose subjects the prose names."""
    flat = compact(text)
    # the clauses right before each stated number: where a fact's subject is printed
    near = "|".join(flat[max(0, m.start() - 40):m.start()] for m in _STATED_RE.finditer(flat))
    wanted = {k for keys, rx in _SUBJECT_KEYS if rx.search(near) for k in keys}
    keys = {k: v for k, v in NARRATIVE_KEYS.items()
            if k in wanted or (k.endswith("<类 code>") and any(w.startswith("general_budget_expenditure.")
                                                               for w in wanted))}
    extra = (f"\nin final accounts a stated 预算数 takes the suffix {NARRATIVE_KEY_SUFFIX}"
             if kind == "final" else "")
    return f"keys: {_fmt(keys)}{extra}"
