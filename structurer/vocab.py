"""The canonical vocabulary: table ids, row keys, column ids and their printed synonyms.

This is the contract between extraction, checks, gold files and evaluation. All matching
is done on normalized text (simplified characters, half-width, no whitespace).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------- tables

@dataclass(frozen=True)
class TableKind:
    id: str
    label: str
    patterns: tuple[str, ...]  # regexes matched against a normalized, whitespace-free title
    coded: bool = False  # rows carry classification codes


# Order matters: the first kind whose pattern matches wins, so specific titles come first.
TABLE_KINDS: tuple[TableKind, ...] = (
    TableKind("performance_self_evaluation", "项目支出绩效自评表", (r"绩效自评(情况)?表",)),
    TableKind("performance_targets", "绩效目标表", (r"绩效目标(汇总)?表$", r"绩效目标表")),
    TableKind("three_public", "财政拨款“三公”经费支出表", (r"三公.{0,4}经费.*表$",)),
    TableKind("fiscal_grant_summary", "财政拨款收支总表",
              (r"财政拨款收支(预算)?总(体情况)?表$", r"财政拨款收支总体情况表$",
               r"财政拨款收入支出(决算|预算)?总表$")),
    TableKind("general_budget_basic_expenditure", "一般公共预算财政拨款基本支出表",
              (r"一般公共预算(财政)?(拨款)?基本支出(决算|预算)?(明细|情况|经济分类(预算|情况)?)?表$",
               r"基本支出部门预算经济分类预算表$", r"基本支出(决算|预算)明细表$"), coded=True),
    TableKind("gov_fund_expenditure", "政府性基金预算财政拨款支出表",
              (r"政府性?基金(预算)?(财政)?(拨款)?(收入)?支出(决算|预算)?(情况)?表$",), coded=True),
    TableKind("state_capital_expenditure", "国有资本经营预算财政拨款支出表",
              (r"国有资本经营(预算)?(财政)?(拨款)?(收入)?支出(决算|预算)?(情况)?表$",), coded=True),
    TableKind("general_budget_expenditure", "一般公共预算财政拨款支出表",
              (r"一般公共预算(财政)?(拨款)?支出(决算|预算)?(明细|情况|功能分类(预算)?)?表$",), coded=True),
    TableKind("economic_classification", "支出经济分类汇总表", (r"支出经济分类(汇总|情况)表$",), coded=True),
    TableKind("operating_costs", "机关运行经费表", (r"(机关|机构)运行经费(支出)?表$",), coded=True),
    TableKind("project_expenditure", "项目支出表", (r"项目支出(预算)?表$",)),
    TableKind("procurement", "政府采购预算表", (r"^(部门|单位)?政府采购(预算)?(明细)?表?$",)),
    TableKind("assets", "固定资产占用情况表", (r"(固定|国有)资产占用情况表$",)),
    TableKind("revenue_expenditure_summary", "收支总表",
              (r"收支(预算)?总表$", r"收支总体情况表$", r"财务收支预算总表$", r"收入支出(决算|预算)总表$")),
    TableKind("revenue", "收入总表",
              (r"收入(决算|预算)?总表$", r"收入总体情况表$", r"收入(决算|预算)表$")),
    # (not a table of 基本支出 or 项目支出 alone: 部门预算基本支出预算表 is a table of its own)
    TableKind("expenditure", "支出总表",
              tuple(r"^(?!.*(?:基本|项目)支出)" + p
                    for p in (r".*支出(决算|预算)?总表$", r".*支出总体情况表$", r".*支出(决算|预算)表$"))),
)
TABLE_IDS = tuple(k.id for k in TABLE_KINDS)
KIND_BY_ID = {k.id: k for k in TABLE_KINDS}
CODED_TABLES = frozenset(k.id for k in TABLE_KINDS if k.coded) | {"revenue", "expenditure"}
# The tables every department budget or final-accounts disclosure publishes (empty ones as such).
CORE_TABLES = ("revenue_expenditure_summary", "revenue", "expenditure", "fiscal_grant_summary",
               "general_budget_expenditure", "general_budget_basic_expenditure", "three_public",
               "gov_fund_expenditure")

# Statements that a table is empty by design.
EMPTY_TABLE_RE = re.compile(r"空表列示|本表无数据|无数据|空表|没有.{0,20}(收入|支出|业务)")

# --------------------------------------------------------------------------- units

UNIT_FACTORS = {"元": 1, "万元": 10000, "千元": 1000, "亿元": 100000000}
UNIT_RE = re.compile(r"(?:金额)?单位[:：]\s*(亿元|万元|千元|元)")

# --------------------------------------------------------------------------- classification codes

# Functional classification 类 (3-digit) names, current and older names.
FUNCTIONAL_CLASSES: dict[str, tuple[str, ...]] = {
    "201": ("一般公共服务",), "202": ("外交",), "203": ("国防",), "204": ("公共安全",),
    "205": ("教育",), "206": ("科学技术",), "207": ("文化旅游体育与传媒", "文化体育旅游与传媒", "文化体育与传媒"),
    "208": ("社会保障和就业",), "209": ("社会保险基金",),
    "210": ("卫生健康", "医疗卫生与计划生育", "医疗卫生"), "211": ("节能环保",),
    "212": ("城乡社区",), "213": ("农林水",), "214": ("交通运输",),
    "215": ("资源勘探工业信息等", "资源勘探信息等", "资源勘探电力信息等"), "216": ("商业服务业等",),
    "217": ("金融",), "219": ("援助其他地区",), "220": ("自然资源海洋气象等", "国土海洋气象等"),
    "221": ("住房保障",), "222": ("粮油物资储备",), "223": ("国有资本经营预算",),
    "224": ("灾害防治及应急管理",), "227": ("预备费",), "229": ("其他",), "230": ("转移性",),
    "231": ("债务还本",), "232": ("债务付息",), "233": ("债务发行费用",),
    "234": ("抗疫特别国债安排的",),
}
# Older templates print 医疗卫生与计划生育 next to 卫生健康; both mean 210. When a table prints
# both lines, the one with values is kept; a second one with values is flagged as a duplicate.

# Economic classification standard names (部门支出经济分类), grown from documents.
ECONOMIC_NAMES: dict[str, str] = {
    "301": "工资福利支出", "30101": "基本工资", "30102": "津贴补贴", "30103": "奖金",
    "30106": "伙食补助费", "30107": "绩效工资", "30108": "机关事业单位基本养老保险缴费",
    "30109": "职业年金缴费", "30110": "职工基本医疗保险缴费", "30111": "公务员医疗补助缴费",
    "30112": "其他社会保障缴费", "30113": "住房公积金", "30114": "医疗费", "30199": "其他工资福利支出",
    "302": "商品和服务支出", "30201": "办公费", "30202": "印刷费", "30203": "咨询费", "30204": "手续费",
    "30205": "水费", "30206": "电费", "30207": "邮电费", "30208": "取暖费", "30209": "物业管理费",
    "30211": "差旅费", "30212": "因公出国(境)费用", "30213": "维修(护)费", "30214": "租赁费",
    "30215": "会议费", "30216": "培训费", "30217": "公务接待费", "30218": "专用材料费",
    "30224": "被装购置费", "30225": "专用燃料费", "30226": "劳务费", "30227": "委托业务费",
    "30228": "工会经费", "30229": "福利费", "30231": "公务用车运行维护费", "30239": "其他交通费用",
    "30240": "税金及附加费用", "30299": "其他商品和服务支出",
    "303": "对个人和家庭的补助", "30301": "离休费", "30302": "退休费", "30303": "退职(役)费",
    "30304": "抚恤金", "30305": "生活补助", "30306": "救济费", "30307": "医疗费补助", "30308": "助学金",
    "30309": "奖励金", "30310": "个人农业生产补贴", "30311": "代缴社会保险费",
    "30399": "其他对个人和家庭的补助",
    "307": "债务利息及费用支出", "30701": "国内债务付息", "30702": "国外债务付息",
    "309": "资本性支出(基本建设)", "310": "资本性支出", "31001": "房屋建筑物购建", "31002": "办公设备购置",
    "31003": "专用设备购置", "31005": "基础设施建设", "31006": "大型修缮", "31007": "信息网络及软件购置更新",
    "31008": "物资储备", "31009": "土地补偿", "31010": "安置补助", "31011": "地上附着物和青苗补偿",
    "31012": "拆迁补偿", "31013": "公务用车购置", "31019": "其他交通工具购置", "31021": "文物和陈列品购置",
    "31022": "无形资产购置", "31099": "其他资本性支出",
    "311": "对企业补助(基本建设)", "312": "对企业补助", "313": "对社会保障基金补助",
    "399": "其他支出", "39907": "国家赔偿费用支出", "39908": "对民间非营利组织和群众性自治组织补贴",
    "39909": "经常性赠与", "39910": "资本性赠与", "39999": "其他支出",
}
ECONOMIC_BY_NAME = {}
for _code, _name in ECONOMIC_NAMES.items():
    ECONOMIC_BY_NAME.setdefault(_name, _code)


def functional_class_by_name(name: str) -> str | None:
    """Map a printed 类 name (ordinal and 支出 suffix stripped by caller or not) to its code."""
    n = strip_ordinal(name)
    n = re.sub(r"(支出|事务)$", "", n)
    n = re.sub(r"(支出|事务)$", "", n)
    for code, names in FUNCTIONAL_CLASSES.items():
        for cand in names:
            c = re.sub(r"(支出|事务)$", "", cand)
            if n == c or n == c + "事务":
                return code
    return None


# A classification code: 类 (3 digits), 款 (5) or 项 (7).
CODE_RE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
# Words of a table's header (and its total rows): what a header line is made of.
HEADER_WORD_RE = re.compile(r"合计|总计|小计|科目|编码|代码|名称|项目|预算|决算|金额|栏次|支出|收入|经费|单位")
# A printed amount: optional sign, thousands separators or none, decimals.
NUM_RE = re.compile(r"^[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_DECIMALS_RE = re.compile(r"\.(\d+)$")


@lru_cache(maxsize=65536)
def printed_decimals(printed: str) -> int:
    """Digits printed after the decimal point (0 for a whole number)."""
    m = _DECIMALS_RE.search(re.sub(r"\s+", "", printed or ""))
    return len(m.group(1)) if m else 0

ORDINAL_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十百零〇]+[、.．]|[(（][一二三四五六七八九十]+[)）][、.．]?"
    r"|\d+[、.．)）]|[(（]\d+[)）])\s*")


def strip_ordinal(text: str) -> str:
    return ORDINAL_RE.sub("", text, count=1).strip()


# --------------------------------------------------------------------------- summary rows

# (row key, regex on the normalized, whitespace-free, ordinal-stripped label). First match wins.
REVENUE_ROWS: tuple[tuple[str, str], ...] = (
    ("revenue.current_year_total", r"^本年收入(合计)?$"),
    ("revenue.grand_total", r"^(收入)?总计$"),
    ("revenue.use_of_balances", r"^(使用非财政拨款结余.*|用事业基金弥补收支差额|使用.*结余.*)$"),
    ("revenue.prior_year_carryover", r"^(上年结转(结余|和结余)?|年初(财政拨款)?结转和结余|上年结转)$"),
    ("revenue.general_budget", r"^一般公共预算(财政)?(拨款)?(收入)?$"),
    ("revenue.gov_fund", r"^政府性基金预算(财政)?(拨款)?(收入)?$"),
    ("revenue.state_capital", r"^国有资本经营预算(财政)?(拨款)?(收入)?$"),
    ("revenue.fiscal_special_account", r"^财政专户(管理资金|管理|核拨|拨款)?(收入)?$"),
    ("revenue.unit_funds", r"^单位资金(收入)?$"),
    ("revenue.business", r"^事业收入$"),
    ("revenue.operating", r"^(事业单位)?经营收入$"),
    ("revenue.superior_subsidy", r"^上级补助收入$"),
    ("revenue.subordinate_remittance", r"^附属单位上缴收入$"),
    ("revenue.other", r"^其他收入$"),
    ("revenue.fiscal_grant", r"^(本级)?(财政|预算)拨款(收入)?$"),
)
EXPENDITURE_ROWS: tuple[tuple[str, str], ...] = (
    ("expenditure.current_year_total", r"^本年支出(合计)?$"),
    ("expenditure.grand_total", r"^(支出)?总计$"),
    ("expenditure.surplus_distribution", r"^结余分配$"),
    ("expenditure.year_end_carryover",
     r"^(年(终|末)(财政拨款)?结转(结余|和结余|与结余)|结转(结余|和结余)?下年(支出)?|下年结转(结余|和结余)?)$"),
)
# Generic totals whose side is decided by position.
TOTAL_ROW_RE = re.compile(r"^(合计|总计|收入合计|支出合计)$")

# three_public rows
THREE_PUBLIC_ROWS: tuple[tuple[str, str], ...] = (
    ("subtotal", r"^“?三公”?经费(支出)?小计$"),
    ("total", r"^(合计|“?三公”?经费(支出)?(合计)?|“?三公”?经费(支出)?预算(合计)?)$"),
    ("overseas.research", r"^(其中:)?教学科研人员因公出国\(境\)费(用)?(支出)?$"),
    ("overseas.other", r"^(其中:)?其他因公出国\(境\)费(用)?(支出)?$"),
    ("overseas", r"^因公出国\(境\)(费|费用)?(支出)?$"),
    ("vehicle.purchase", r"^(其中:)?公务用车购置(费)?(支出)?$"),
    ("vehicle.operation", r"^(其中:)?公务用车运行(维护)?费(用)?(支出)?$"),
    ("vehicle", r"^公务用车购置及运(行|维)(维护)?费?(用)?(支出)?$"),
    ("reception", r"^公务接待费(用)?(支出)?$"),
)

# assets rows (固定资产占用情况表)
ASSET_ROWS: tuple[tuple[str, str], ...] = (
    ("total", r"^(资产总额|合计|总计)$"),
    ("buildings.office", r"^(其中:)?办公用房"),
    ("buildings", r"^房屋"),
    ("vehicles", r"^车辆"),
    ("equipment_over_threshold", r"^(其中:)?单价(在)?.*以上的.{0,4}设备"),
    ("other", r"^其他固定资产"),
)

# Header words → columns: the lexicon and group structure live in structurer/rules/header.py
# (LEXICON, CHILDREN); the canonical column ids they map to are COLUMNS below.

# --------------------------------------------------------------------------- narrative facts

# Narrative facts (情况说明): the subject phrase printed before an amount decides its key.
# All regexes run on normalized, whitespace-free text (simplified, half-width: "(" not "（",
# "," not "，"). Fact keys are those of evals/gold/README.md "Narrative keys".


@dataclass(frozen=True)
class NarrativeSubject:
    """A subject phrase and the fact keys of the amount it names.

    keys () marks a known subject without a narrative key: it is recognized so that its
    numbers are not given to a neighbouring key. gbe_class marks a functional 类 of the
    general-budget expenditure, counted only in a paragraph that restates that total."""

    keys: tuple[str, ...]
    pattern: str
    gbe_class: bool = False


_Q = r"[“”\"'‘’]?"  # quotes printed (or not) around 三公
NARRATIVE_SUBJECTS: tuple[NarrativeSubject, ...] = (
    # revenue side
    NarrativeSubject(("revenue.grand_total",), r"收入总计|(?:部门|单位)?收入总额|预算收入|收入预算"),
    NarrativeSubject(("revenue.grand_total", "expenditure.grand_total"),
                     r"收入?、?支出?总计"),  # 收、支总计 / 收支总计: both sides at once
    NarrativeSubject(("revenue.current_year_total",), r"(?:本年)?收入合计|本年收入"),
    NarrativeSubject(("revenue.general_budget",),
                     r"一般公共预算(?:财政)?(?:拨款)?(?:收入|收支预算|收支)?"),
    NarrativeSubject(("revenue.gov_fund",),
                     r"(?:政府性)?基金(?:预算)?(?:财政)?(?:拨款)?(?:收入|收支预算|收支)"),
    NarrativeSubject(("revenue.state_capital",),
                     r"国有资本经营(?:预算)?(?:财政)?(?:拨款)?(?:收入|收支预算|收支)"),
    NarrativeSubject(("revenue.fiscal_special_account",), r"财政专户(?:管理资金|核拨)?(?:收入)?"),
    NarrativeSubject(("revenue.unit_funds",), r"单位资金(?:收入)?"),
    NarrativeSubject(("revenue.fiscal_grant",), r"财政拨款收入"),
    NarrativeSubject(("revenue.prior_year_carryover",),
                     r"上年结转(?:和?结余)?|年初(?:财政拨款)?结转(?:和|与)?结余"),
    # expenditure side
    NarrativeSubject(("expenditure.grand_total",), r"支出总计|支出总额|(?:预算)?收支安排|支出预算"),
    NarrativeSubject(("expenditure.current_year_total",), r"(?:本年)?支出合计|本年支出"),
    # 基本收入: a template slip for 基本支出 (it is followed by the 人员经费/公用经费 split)
    NarrativeSubject(("expenditure.basic",), r"基本支出|基本收入"),
    NarrativeSubject(("expenditure.basic.personnel",), r"人员(?:类)?(?:项目)?经费(?:支出)?"),
    NarrativeSubject(("expenditure.basic.public",), r"(?:日常|正常|运转类)?公用(?:项目)?经费(?:支出)?"),
    NarrativeSubject(("expenditure.project",), r"项目支出"),
    # 一般公共预算当年拨款: the templates' name for the year's general-budget spending (its
    # 结构 paragraph then splits it by 类)
    NarrativeSubject(("general_budget_expenditure.total",),
                     r"一般公共预算(?:财政拨款)?支出|一般公共预算(?:财政)?当年拨款(?:规模)?"),
    # 三公 and the other restated tables
    NarrativeSubject(("three_public.total",), _Q + r"三公" + _Q + r"经费(?:财政拨款)?(?:支出)?"),
    NarrativeSubject(("three_public.overseas",), r"因公出国\(境\)(?:费用?|经费)(?:支出)?"),
    NarrativeSubject(("three_public.vehicle",),
                     r"公务用车购置及运(?:行|维)(?:维护)?(?:费用?|经费)?(?:支出)?"),
    NarrativeSubject(("three_public.vehicle.purchase",), r"公务用车购置(?:费用?|经费)?(?:支出)?"),
    NarrativeSubject(("three_public.vehicle.operation",),
                     r"公务用车运(?:行维护|行|维)(?:费用?|经费)?(?:支出)?"),
    NarrativeSubject(("three_public.reception",), r"公务接待(?:费用?|经费)(?:支出)?"),
    NarrativeSubject(("operating_costs.total",),
                     r"(?:机关|机构)运行经费(?:支出)?|(?:行政|事业|行政\(事业\))单位(?:机构)?运行经费(?:支出)?"),
    NarrativeSubject(("procurement.total",), r"政府采购(?:预算|支出总额|总额|支出)?"),
    NarrativeSubject(("assets.total",), r"(?:上年末|年末|期末)?固定资产(?:金额|总额|原值|价值|账面价值)"),
    NarrativeSubject(("assets.planned_purchase",), r"拟(?:新)?(?:购置|购买|新增)固定资产(?:总额|金额)?"),
    # Recognized, not keyed: totals of the fiscal-grant summary, fund-specific expenditure,
    # revenue sources without a narrative key.
    NarrativeSubject((), r"财政拨款收入?、?支出?总计|财政拨款支出"),
    NarrativeSubject((), r"政府性基金(?:预算)?(?:财政拨款)?支出|国有资本经营(?:预算)?(?:财政拨款)?支出"),
    NarrativeSubject((), r"其他(?:来源)?收入|事业收入|(?:事业单位)?经营收入|上级补助收入|附属单位上缴收入"),
) + tuple(
    NarrativeSubject((f"general_budget_expenditure.{code}",),
                     "(?:" + "|".join(re.escape(n) for n in names) + r")"
                     r"(?:\(类\))?(?:事务)?(?:支出(?:\(类\))?|\(类\))", gbe_class=True)
    for code, names in FUNCTIONAL_CLASSES.items()
)

# What may stand between a subject and its amount: years, budget/final qualifiers, verbs,
# a short remark in parentheses (含结转).
NARRATIVE_FILLER = (r"(?:\d{4}年度?|年初|全年|本年|当年|年度|预算|决算|安排|共计|总额|金额|资金|"
                    r"数|额|为|是|达到?|约|共|计|的|均|各|\([^()]{0,15}\))*")
# A heading (or a paragraph's run-in title) about the general-budget expenditure: the 类
# amounts of the paragraphs under it are general_budget_expenditure.<类 code>.
NARRATIVE_GBE_TITLE_RE = re.compile(r"一般公共预算(?:财政拨款)?(?:当年拨款|支出)")
# A clause that only qualifies the previous subject ("…预算为3.20万元，支出决算为2.92万元").
NARRATIVE_CONTINUATION_RE = re.compile(r"(?:支出|收入)?(?:年初|全年)?(?:预算|决算)数?(?:为|是)?")
# In final accounts a stated 预算数 gets the `.budget` suffix.
NARRATIVE_BUDGET_WORD, NARRATIVE_FINAL_WORD = "预算", "决算"
# Year-over-year change: the verb right before the number (增加 57.09 万元, 下降 4.90%).
NARRATIVE_CHANGE_RE = re.compile(
    r"(?:(?P<up>增加|增长|上升|提高|增幅|增多|上涨)|(?P<down>减少|下降|降低|减幅|降幅|缩减|压减|下滑))"
    r"了?(?:为|约|达)?$")
# A change without its own subject may name only the side: 收入增加…, 支出增加….
NARRATIVE_SIDE_RE = re.compile(r"(?P<side>收入|支出)(?:各|均)?$")
NARRATIVE_SIDES = {"收入": "revenue.", "支出": "expenditure."}
# A stated share: 占 75.55%, 占本年支出合计的 97.87%, 占比 4.45%.
NARRATIVE_SHARE_RE = re.compile(
    r"占(?:比|比重|比例)?(?:[^,;:。!?]{0,24}?的)?(?:比重|比例)?(?:为|是|达)?$|所占比(?:重|例)为?$")
# Narrative sections whose heading matches are not restatements (project-level amounts of
# performance targets, definitions); the headings below them are skipped with them.
NARRATIVE_SKIP_TITLE_RE = re.compile(r"绩效|名词解释")

# --------------------------------------------------------------------------- performance targets

# Level-1 indicator names (一级指标) across templates: the standard four of project targets,
# the department-wide 投入管理/决策/过程 levels and short forms some tables print.
PERF_LEVEL1: tuple[str, ...] = (
    "产出指标", "效益指标", "效果指标", "满意度指标", "成本指标", "投入管理指标", "投入指标",
    "决策指标", "过程指标", "管理指标", "履职效能指标", "部门产出", "部门效果", "部门管理",
    "部门履职", "履职效能", "管理效率", "产出", "效益", "效果", "满意度",
)
# Level-2 names (二级指标), standard and short forms. The 指标-suffixed forms are safe to use
# as row starts in wrapped text; short forms only where cells are delimited.
PERF_LEVEL2: tuple[str, ...] = (
    "数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标",
    "生态效益指标", "可持续影响指标", "服务对象满意度指标", "满意度指标", "经济成本指标",
    "社会成本指标", "生态环境成本指标", "社会效应指标",
    "数量", "质量", "时效", "成本", "经济效益", "社会效益", "生态效益", "可持续影响",
    "服务对象满意度", "满意度", "经济成本", "社会成本", "生态环境成本",
)
# Standard level-1 parents of level-2 names (成本指标 is level 1 or level 2 by template, so
# it has none). A level-1 carried down from a row above that contradicts these is the
# vertically centred label of a merged cell printed on the wrong row.
PERF_LEVEL2_PARENTS: dict[str, tuple[str, ...]] = {
    "数量指标": ("产出指标", "产出"), "质量指标": ("产出指标", "产出"), "时效指标": ("产出指标", "产出"),
    "经济效益指标": ("效益指标", "效果指标", "效益", "效果"),
    "社会效益指标": ("效益指标", "效果指标", "效益", "效果"),
    "生态效益指标": ("效益指标", "效果指标", "效益", "效果"),
    "可持续影响指标": ("效益指标", "效果指标", "效益", "效果"),
    "服务对象满意度指标": ("满意度指标", "满意度"),
    "经济成本指标": ("成本指标", "成本"), "社会成本指标": ("成本指标", "成本"),
    "生态环境成本指标": ("成本指标", "成本"),
}
# Header cells of an indicator table → role. Whole-cell regexes on whitespace-free text,
# tried in order (the longer 指标值确定依据 before 指标值).
PERF_HEADER_ROLES: tuple[tuple[str, str], ...] = (
    (r"一级指标", "level1"),
    (r"二级指标", "level2"),
    (r"三级指标|指标名称|绩效指标名称", "level3"),
    (r"(指标值)?(确定|设定|设置)依据|指标来源|数据来源|评价依据", "basis"),
    (r"(绩效)?指标(值)?(描述|说明|解释|内涵)|指标值说明", "description"),
    (r"(年度|预期|计划|绩效)?(指标值|目标值)|预期目标值?|指标值\(.*\)", "value"),
    (r"符号|值|单位|计量单位|度量单位|指标值单位", "value_part"),
    (r"评\(扣\)分标准|评分标准|扣分标准|实际(值)?完成值|实际值|完成值|实际完成(情况|值)?|分值|"
     r"权重|得分|偏差度|偏差原因分析及改进措施|偏差原因.*|未完成原因.*|备注", "ignore"),
)
# Title suffixes stripped from a project name, longest first.
PERF_TITLE_SUFFIX_RE = re.compile(
    r"(项目)?(支出)?(预算)?(绩效)?(目标|自评|评价)(情况|申报|汇总)?表?$|绩效指标表?$|绩效指$")
PERF_DEPARTMENT_RE = re.compile(r"部门整体")
# Labels of a block's own budget amount (first number after the label on its line).
PERF_AMOUNT_LABEL_RE = re.compile(
    r"(部门预算总额|年度资金总额|资金总额|项目总金额|项目资金总额|项目金额|预算数|预算金额|申报数)"
    r"(\((亿元|万元|千元|元)\))?[:：]?")
# A quantitative indicator value: optional comparison, a number, an optional short unit.
PERF_VALUE_RE = re.compile(
    r"^(?:[≥≤<>=≈~]|大于等于|小于等于|不低于|不高于|不少于|不超过|大于|小于|约|达到)?\s*"
    r"\d+(?:\.\d+)?\s*(?:%|‰|[\u4e00-\u9fff]{1,4}(?:/[\u4e00-\u9fff]{1,2})?|百分比|个百分点)?\s*"
    r"(?:以上|以下|以内|之内)?$")
# A date- or deadline-like value (2024年12月底前, 年底前, 30 天之内).
PERF_DATE_VALUE_RE = re.compile(
    r"^(?:在)?\d{2,4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:底|末)?(?:前|之前)?(?:完成)?$|"
    r"^(?:年底|年末|月底|季度|按季度|按月|按时|及时)|^\d+\s*(?:个)?(?:工作日|天|日|月|小时)\s*(?:之|以)?\s*内$")
# Words a qualitative value is made of (提升, 有效缓解, 成效明显 …).
PERF_QUALITATIVE_RE = re.compile(
    r"提升|提高|明显|显著|有效|缓解|改善|成效|及时|按时|顺利|完成|达标|合格|持续|稳定|保障|良好|"
    r"满意|较大|逐步|覆盖|零|^无|^是$|^否$|规范|合规|相关|科学|合理|完整|真实|健全|公开|推动|"
    r"加强|增强|降低|减少|优化|到位|正常|安全|可控|实现|达到|符合|准确|熟悉|节约|积极|开展")
# Nouns that name what an indicator measures (…程度, …比例, …人数): text ending in them is an
# indicator name or description, not a value.
PERF_MEASURE_NOUN_RE = re.compile(r"(程度|情况|比例|比率|人数|次数|数量|时限|金额|费用|标准|率)$")
# Lines that say a score total ends the indicator rows of a self-evaluation table.
PERF_TOTAL_RE = re.compile(r"^(总分|合计|总计)$")


# --------------------------------------------------------------------------- ids with their printed words
# What each canonical id stands for, as a person (or a model) reads the table: per table, the
# column ids and row keys with the words printed for them (docs/domain §4, evals/gold/README.md).

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
