"""Table headers → ordered leaf columns.

Header text is read as a flattening of a header tree (row by row). Each known header word
is a token; a token that is a group (本年收入, 基本支出, 人员经费, 预算数 …) adopts the
following tokens it accepts as children, so leaf order = the printed column order whether
cells were aligned by tabs, separated by spaces or wrapped over several lines.
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field

# (regex on whitespace-free text, token). Longest alternatives first.
LEXICON: tuple[tuple[str, str], ...] = (
    (r"一般公共预算基本支出", "gb_basic"),
    (r"(部门|政府)?(支出)?(功能|经济)分类科目(编码|代码)|科目编码|科目代码|单位编码", "code"),
    (r"(部门|政府)?(支出)?(功能|经济)分类科目名称|单位\(科目名称\)|科目名称|项目单位\(项目名称\)|单位名称", "name"),
    (r"(支出)?(部门)?(功能|经济)分类科目|政府预算支出经济分类科目编码?", "code_group"),
    # one 科目 column holding the name, often with its code printed in front: [301]工资福利支出
    (r"(部门预算)?(支出)?(功能|经济)科目(名称)?(?!编码|代码)", "name"),
    (r"政府采购项目来源", "proc_source"),
    (r"政府采购金额(\(当年部门预算安排资金\))?", "proc_amount"),
    (r"\d{4}年预留中小微企业份额|预留中小微企业份额", "sme_reserved"),
    (r"采购物品名称|采购品目(名称)?", "item_name"),
    (r"采购项目(名称)?", "item"),
    (r"政府采购预算(金额|数)?", "proc_amount"),
    (r"政府采购目录序号", "catalog_no"),
    (r"计量单位", "measure"),
    (r"本年收入合计|本年支出合计", "total"),
    (r"本年收入", "current_year"),
    (r"本年支出", "current_year_exp"),
    (r"本年拨款", "appropriation"),
    (r"财政拨款结转结余|上年结转结余|财政拨款结转", "carryover"),
    (r"年初结转和结余|上年结转", "prior_year_carryover"),
    (r"年末结转和结余", "year_end_carryover"),
    (r"资金性质", "fund_nature"),
    (r"预算规模及资金用途", "ignore"),
    (r"价值(\(金额单位:[万千亿]?元\))?", "value"),
    (r"数量", "quantity"),
    (r"单价", "unit_price"),
    (r"预算资金", "project_budget"),
    (r"基本支出", "basic"),
    (r"项目支出", "project"),
    (r"人员(经费|支出)|人员类", "personnel"),
    (r"(日常)?公用(经费|支出)|公用类", "public"),
    (r"工资福利支出", "301"),
    (r"对个人和家庭的补助", "303"),
    (r"商品和服务支出", "302"),
    (r"资本性支出", "310"),
    (r"其他运转类", "other_operating"),
    (r"特定目标类", "specific_target"),
    (r"经营支出", "operating"),
    (r"上(解|缴)上级支出", "remit_to_superior"),
    (r"对附属单位补助支出", "subsidy_to_subordinate"),
    (r"其中:财政拨款", "fiscal_grant_sub"),
    (r"财政拨款收入|财政拨款", "fiscal_grant"),
    (r"财政专户(管理资金|核拨|拨款)?(收入)?", "fiscal_special_account"),
    (r"教育收费", "education_fees"),
    (r"其他专户收入(拨款)?", "other_special"),
    (r"事业收入", "business"),
    (r"(事业单位)?经营收入", "operating_revenue"),
    (r"上级补助收入", "superior_subsidy"),
    (r"附属单位上缴收入", "subordinate_remittance"),
    (r"其他收入", "other"),
    (r"单位资金", "unit_funds"),
    # a fund's column, also when named as revenue (一般公共预算拨款收入 is one column, not two)
    # (财政 only before 拨款: a following 财政专户 column is its own)
    (r"一般公共预算(财政拨款|拨款)?(收入|支出)?", "general_budget"),
    (r"政府性基金(预算)?(财政拨款|拨款)?(收入)?|基金预算(财政)?拨款(收入)?", "gov_fund"),
    (r"国有资本经营(预算)?(财政拨款|拨款)?(收入)?", "state_capital"),
    (r"“?三公”?经费合计", "total"),
    (r"因公出国\(境\)费(用)?", "tp_overseas"),
    (r"公务用车购置及运行(维护)?费|公务用车购置及运维费", "tp_vehicle"),
    (r"公务用车购置费?", "tp_vehicle_purchase"),
    (r"公务用车运行(维护)?费", "tp_vehicle_operation"),
    (r"公务接待费", "tp_reception"),
    (r"合计|总计", "total"),
    (r"小计", "subtotal"),
    (r"预算数|预\(决\)算数|预算(?=$|›)", "budget"),
    (r"决算数", "final"),
    (r"金额", "amount"),
    (r"单位代码", "unit_code"),
    (r"序号", "seq"),
    (r"行次", "line"),
    (r"栏次", "colno"),
    (r"类型", "kind"),
    (r"项目名称", "name"),
    (r"项目", "item"),
    (r"收入", "revenue_side"),
    (r"支出", "expenditure_side"),
    (r"类", "lei"), (r"(?<!拨)款", "kuan"), (r"项", "xiang"),  # not the 款 of 拨款
)
_LEX_RE = re.compile("|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(LEXICON)))
_TOKENS = [t for _, t in LEXICON]

_SOURCES = {"fiscal_grant", "fiscal_special_account", "business", "operating_revenue",
            "superior_subsidy", "subordinate_remittance", "other", "unit_funds"}
_FUNDS = {"general_budget", "gov_fund", "state_capital"}
_TP_ITEMS = {"total", "tp_overseas", "tp_vehicle", "tp_reception"}
# Which tokens a group adopts as children.
CHILDREN: dict[str, set[str]] = {
    "code_group": {"code", "name", "lei", "kuan", "xiang"},
    "item": {"code", "name", "lei", "kuan", "xiang"},
    "code": {"lei", "kuan", "xiang"},
    "current_year": {"subtotal"} | _SOURCES,
    "current_year_exp": {"subtotal", "basic", "project"},
    "basic": {"subtotal", "personnel", "public"},
    "project": {"subtotal", "other_operating", "specific_target"},
    "personnel": {"301", "303"},
    "public": {"302", "310"},
    "gb_basic": {"total", "personnel", "public"},
    "general_budget": {"subtotal", "fiscal_grant_sub"},
    "appropriation": _FUNDS,
    "carryover": _FUNDS,
    "fund_nature": {"total"} | _FUNDS,
    "proc_source": {"name", "item", "project_budget"},
    "proc_amount": {"total"} | _FUNDS | {"fiscal_special_account", "unit_funds", "carryover"},
    "budget": _TP_ITEMS,
    "final": _TP_ITEMS,
    "tp_vehicle": {"subtotal", "tp_vehicle_purchase", "tp_vehicle_operation"},
    "revenue_side": {"item", "line", "amount", "budget", "final"},
    "expenditure_side": {"item", "line", "amount", "budget", "final", "total"} | _FUNDS,
}
KEY_TOKENS = {"seq", "line", "colno", "code", "name", "lei", "kuan", "xiang", "unit_code",
              "item", "kind", "item_name", "catalog_no", "measure"}


@dataclass
class Node:
    token: str
    text: str
    children: list["Node"] = field(default_factory=list)
    pos: tuple[int, int] = (0, 0)  # (header row, column) the word is printed in, when known

    def leaves(self, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        here = path + (self.token,)
        if not self.children:
            return [here]
        out: list[tuple[str, ...]] = []
        for c in self.children:
            out.extend(c.leaves(here))
        return out


@lru_cache(maxsize=4096)
def tokenize(compact_text: str) -> list[tuple[str, str]]:
    """Known header words in reading order; unknown text is skipped."""
    return [(tok, text) for tok, text, _ in tokenize_at(compact_text)]


def tokenize_at(compact_text: str) -> list[tuple[str, str, int]]:
    """Known header words in reading order with where each starts."""
    return [(_TOKENS[int(m.lastgroup[1:])], m.group(0), m.start()) for m in _LEX_RE.finditer(compact_text)]


def build_tree(tokens: list[tuple[str, str]], where: list[tuple[int, int]] | None = None) -> list[Node]:
    roots: list[Node] = []
    order: list[Node] = []  # nodes in creation (breadth) order: candidate parents
    for k, (tok, text) in enumerate(tokens):
        node = Node(tok, text, pos=where[k] if where else (0, 0))
        parent = _pick_parent(order, tok, tokens[k + 1][0] if k + 1 < len(tokens) else None)
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
        order.append(node)
    return roots


def _pick_parent(order: list[Node], tok: str, nxt: str | None) -> Node | None:
    open_groups = [g for g in order if tok in CHILDREN.get(g.token, ())
                   and all(c.token != tok for c in g.children)]
    if not open_groups:
        return None
    if tok in ("subtotal", "total") and nxt is not None:
        # a bare 小计/合计 belongs to the group that also adopts the word after it
        for g in open_groups:
            if nxt in CHILDREN.get(g.token, ()):
                return g
    return open_groups[0]


@lru_cache(maxsize=1024)
def leaves(compact_header: str) -> tuple[tuple[str, ...], ...]:
    roots = build_tree(list(tokenize(compact_header)))
    out: list[tuple[str, ...]] = []
    for r in roots:
        out.extend(r.leaves())
    return tuple(p for p in out if p[-1] != "colno")  # 栏次 numbers columns; it is not one


def is_key(path: tuple[str, ...]) -> bool:
    return path[-1] in KEY_TOKENS or path[-1] in ("revenue_side", "expenditure_side") \
        or path[-1] in ("code_group", "fund_nature", "ignore", "empty")


# --------------------------------------------------------------------------- grids
# A header already laid out as a grid (one cell per column, `›` between the levels of
# merged header cells) is read column by column: each column's path is its own leaf.
PATH_SEP = "›"
_YEAR_RE = re.compile(r"(\d{4})年")
_PRIOR_RE = re.compile(r"上年(?!结转)|增减|增长|变动|差额|%")  # 上年结转 is this year's revenue
_WRAPPERS = {"budget", "final", "amount", "current_year_exp"}


def scoped(toks: list[str] | tuple[str, ...], table_id: str) -> list[str]:
    """A leaf path without the group the table's own kind already names: a fund over the
    columns of a table that is all that fund (一般公共预算支出 › 小计, › 基本支出), 基本支出
    over the columns of the basic-expenditure table (基本支出 › 人员经费)."""
    toks = list(toks)
    if table_id.endswith("_expenditure") and len(toks) > 1 and toks[0] in _FUNDS:
        toks = toks[1:]
    if table_id == "general_budget_basic_expenditure" and len(toks) > 1 and toks[0] in ("basic", "gb_basic"):
        toks = toks[1:]
    return toks


def path_leaves(cells: list[str], table_id: str) -> tuple[tuple[str, ...], ...]:
    years = [int(y) for c in cells for y in _YEAR_RE.findall(c)]
    latest = max(years) if years else None
    out = []
    for cell in cells:
        segs = [s for s in cell.replace(" ", "").split(PATH_SEP) if s]
        ys = [int(y) for y in _YEAR_RE.findall(cell)]
        if (latest is not None and ys and min(ys) < latest) or any(_PRIOR_RE.search(s) for s in segs):
            out.append(("ignore",))
            continue
        toks = [t for s in segs for t, _ in tokenize(s) if t != "colno"]
        if not toks:
            out.append(("ignore",) if segs else ("empty",))
            continue
        words = [s for s in segs if not s.strip("*").isdigit() and s.strip("*")]
        if len(words) > 1 and words[-1].startswith("其中") and not [t for t, _ in tokenize(words[-1])]:
            toks.append("part")  # 本级财政拨款 › 其中:经费拨款: a part of the column above, not it
        if len(toks) == 2 and toks[0] in _SOURCES and toks[1] == "amount":
            toks = toks[:1]  # 本级财政拨款 › 金额: the grant itself
        if table_id != "three_public":
            while len(toks) > 1 and toks[0] in _WRAPPERS:
                toks = toks[1:]
        if table_id == "revenue" and len(toks) > 1:  # 其他资金收入 › 事业收入: a group of sources
            toks = [t for t in toks if t != "revenue_side"] or toks
        if table_id == "revenue":  # the revenue table's 上年结转结余 is the carryover brought in
            toks = ["prior_year_carryover" if t == "carryover" else t for t in toks]
        out.append(tuple(scoped(toks, table_id)))
    if table_id == "general_budget_basic_expenditure":
        # 人员经费 and 公用经费 printed as two panels side by side, each (code, name, amount)
        out = [p[1:] if len(p) > 1 and p[0] in ("personnel", "public") and p[1] != "subtotal" else p
               for p in out]
    if table_id == "three_public":  # 三公经费（财政拨款）over the kinds: the fund is the table's
        out = [tuple(t for t in p if t not in ("fiscal_grant", "general_budget")) or p if len(p) > 1 else p
               for p in out]
        # a lone 预算数 (or 决算数) over the kinds is just the value
        kinds = {p[0] for p in out if len(p) > 1 and p[0] in ("budget", "final")}
        if len(kinds) == 1:
            out = [p[1:] if len(p) > 1 and p[0] in kinds else p for p in out]
    return tuple(out)
