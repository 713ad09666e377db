"""The canonical vocabulary: table ids, row keys, column ids and their printed synonyms.

This is the contract between extraction, checks, gold files and evaluation. All matching
is done on normalized text (simplified characters, half-width, no whitespace).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

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
              (r"一般公共预算(财政拨款)?基本支出(决算|预算)?(明细|情况|经济分类)?表$",
               r"基本支出部门预算经济分类预算表$", r"基本支出(决算|预算)明细表$"), coded=True),
    TableKind("gov_fund_expenditure", "政府性基金预算财政拨款支出表",
              (r"政府性?基金(预算)?(财政拨款)?(收入)?支出(决算|预算)?(情况)?表$",), coded=True),
    TableKind("state_capital_expenditure", "国有资本经营预算财政拨款支出表",
              (r"国有资本经营(预算)?(财政拨款)?(收入)?支出(决算|预算)?(情况)?表$",), coded=True),
    TableKind("general_budget_expenditure", "一般公共预算财政拨款支出表",
              (r"一般公共预算(财政拨款)?支出(决算|预算)?(情况|功能分类预算)?表$",), coded=True),
    TableKind("economic_classification", "支出经济分类汇总表", (r"支出经济分类汇总表$",), coded=True),
    TableKind("operating_costs", "机关运行经费表", (r"(机关|机构)运行经费(支出)?表$",), coded=True),
    TableKind("project_expenditure", "项目支出表", (r"项目支出(预算)?表$",)),
    TableKind("procurement", "政府采购预算表", (r"^(部门|单位)?政府采购(预算)?(明细)?表?$",)),
    TableKind("assets", "固定资产占用情况表", (r"(固定|国有)资产占用情况表$",)),
    TableKind("revenue_expenditure_summary", "收支总表",
              (r"收支(预算)?总表$", r"收支总体情况表$", r"财务收支预算总表$", r"收入支出(决算|预算)总表$")),
    TableKind("revenue", "收入总表",
              (r"收入(预算)?总表$", r"收入总体情况表$", r"收入(决算|预算)表$")),
    TableKind("expenditure", "支出总表",
              (r"支出(预算)?总表$", r"支出总体情况表$", r"支出(决算|预算)表$")),
)
TABLE_IDS = tuple(k.id for k in TABLE_KINDS)
KIND_BY_ID = {k.id: k for k in TABLE_KINDS}
CODED_TABLES = frozenset(k.id for k in TABLE_KINDS if k.coded) | {"revenue", "expenditure"}

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
# Older templates print 医疗卫生与计划生育 next to 卫生健康; both mean 210, but when a table
# prints both lines the older one is a placeholder and is keyed separately so neither is lost.

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
    ("revenue.fiscal_special_account", r"^财政专户(管理资金|核拨)?(收入)?$"),
    ("revenue.unit_funds", r"^单位资金(收入)?$"),
    ("revenue.business", r"^事业收入$"),
    ("revenue.operating", r"^(事业单位)?经营收入$"),
    ("revenue.superior_subsidy", r"^上级补助收入$"),
    ("revenue.subordinate_remittance", r"^附属单位上缴收入$"),
    ("revenue.other", r"^其他收入$"),
    ("revenue.fiscal_grant", r"^财政拨款(收入)?$"),
)
EXPENDITURE_ROWS: tuple[tuple[str, str], ...] = (
    ("expenditure.current_year_total", r"^本年支出(合计)?$"),
    ("expenditure.grand_total", r"^(支出)?总计$"),
    ("expenditure.surplus_distribution", r"^结余分配$"),
    ("expenditure.year_end_carryover", r"^年(终|末)(财政拨款)?结转(结余|和结余|与结余)$"),
)
# Generic totals whose side is decided by position.
TOTAL_ROW_RE = re.compile(r"^(合计|总计|收入合计|支出合计)$")

# three_public rows
THREE_PUBLIC_ROWS: tuple[tuple[str, str], ...] = (
    ("subtotal", r"^“?三公”?经费(小计|合计)$"),
    ("total", r"^(合计|“?三公”?经费合计)$"),
    ("overseas.research", r"^(其中:)?教学科研人员因公出国\(境\)费$"),
    ("overseas.other", r"^(其中:)?其他因公出国\(境\)费$"),
    ("overseas", r"^因公出国\(境\)(费|费用)?$"),
    ("vehicle.purchase", r"^(其中:)?公务用车购置(费)?$"),
    ("vehicle.operation", r"^(其中:)?公务用车运行(维护)?费$"),
    ("vehicle", r"^公务用车购置及运(行|维)(维护)?费?$"),
    ("reception", r"^公务接待费$"),
)

# assets rows (固定资产占用情况表)
ASSET_ROWS: tuple[tuple[str, str], ...] = (
    ("total", r"^资产总额$"),
    ("buildings.office", r"^(其中:)?办公用房"),
    ("buildings", r"^房屋"),
    ("vehicles", r"^车辆"),
    ("equipment_over_threshold", r"^单价在.*以上的设备"),
    ("other", r"^其他固定资产"),
)

# --------------------------------------------------------------------------- header words -> columns

@dataclass(frozen=True)
class HeaderWord:
    pattern: str  # regex on whitespace-free header text (matched greedily, longest first)
    column: str | None  # canonical column id; None for a group or a key column
    role: str = "value"  # value | key | group
    group: str | None = None  # for children: the group id they belong under


# Key columns are not values; groups have children. Order: longer phrases first.
HEADER_WORDS: tuple[HeaderWord, ...] = (
    HeaderWord(r"序号", None, "key:seq"),
    HeaderWord(r"行次", None, "key:line"),
    HeaderWord(r"栏次", None, "key:col"),
    HeaderWord(r"单位代码", None, "key:unit"),
    HeaderWord(r"(功能分类|经济分类)?科目(编码|代码)", None, "key:code"),
    HeaderWord(r"单位\(科目名称\)|科目名称|项目名称|单位名称", None, "key:name"),
    HeaderWord(r"(支出)?(部门)?(功能|经济)分类科目", None, "group:code"),
    HeaderWord(r"本年收入合计", "total"),
    HeaderWord(r"本年支出合计", "total"),
    HeaderWord(r"本年收入", None, "group:current_year"),
    HeaderWord(r"本年支出", None, "group:current_year_exp"),
    HeaderWord(r"本年拨款", None, "group:appropriation"),
    HeaderWord(r"财政拨款结转结余", None, "group:carryover"),
    HeaderWord(r"一般公共预算基本支出", None, "group:basic_gb"),
    HeaderWord(r"基本支出", "basic", "value"),
    HeaderWord(r"项目支出", "project", "value"),
    HeaderWord(r"人员经费", "personnel"),
    HeaderWord(r"公用经费", "public"),
    HeaderWord(r"工资福利支出", "301"),
    HeaderWord(r"对个人和家庭的补助", "303"),
    HeaderWord(r"商品和服务支出", "302"),
    HeaderWord(r"资本性支出", "310"),
    HeaderWord(r"其他运转类", "other_operating"),
    HeaderWord(r"特定目标类", "specific_target"),
    HeaderWord(r"经营支出", "operating"),
    HeaderWord(r"上(解|缴)上级支出", "remit_to_superior"),
    HeaderWord(r"对附属单位补助支出", "subsidy_to_subordinate"),
    HeaderWord(r"年初结转和结余|上年结转(结余)?", "prior_year_carryover"),
    HeaderWord(r"年末结转和结余", "year_end_carryover"),
    HeaderWord(r"财政拨款(收入)?", "fiscal_grant"),
    HeaderWord(r"财政专户(管理资金|核拨)?(收入)?", "fiscal_special_account"),
    HeaderWord(r"事业收入", "business"),
    HeaderWord(r"(事业单位)?经营收入", "operating"),
    HeaderWord(r"上级补助收入", "superior_subsidy"),
    HeaderWord(r"附属单位上缴收入", "subordinate_remittance"),
    HeaderWord(r"其他收入", "other"),
    HeaderWord(r"单位资金", "unit_funds"),
    HeaderWord(r"一般公共预算(财政)?(拨款)?", "general_budget"),
    HeaderWord(r"政府性基金(预算)?(财政)?(拨款)?", "gov_fund"),
    HeaderWord(r"国有资本经营(预算)?(财政)?(拨款)?", "state_capital"),
    HeaderWord(r"合计|小计", "total"),
    HeaderWord(r"预算数|决算数|金额", "amount"),
)

# Money columns of three_public when printed across (transposed) rather than down.
THREE_PUBLIC_COLUMNS_AS_ROWS = (
    ("vehicle.purchase", r"公务用车购置费"),
    ("vehicle.operation", r"公务用车运行(维护)?费"),
    ("vehicle", r"公务用车购置及运行(维护)?费|公务用车购置及运维费"),
    ("overseas", r"因公出国\(境\)费"),
    ("reception", r"公务接待费"),
    ("total", r"(“?三公”?经费)?合计"),
)

# --------------------------------------------------------------------------- narrative facts

# (fact key, regex before the amount). The amount follows within a few characters.
NARRATIVE_FACTS: tuple[tuple[str, str], ...] = (
    ("revenue.grand_total", r"(收入总计|收、支总计均为|收支总计均为|预算收入)"),
    ("expenditure.grand_total", r"(支出总计|支出预算)"),
    ("revenue.current_year_total", r"(收入合计|本年收入)"),
    ("expenditure.current_year_total", r"(支出合计|本年支出)"),
    ("revenue.general_budget", r"(一般公共预算收入|一般公共预算)"),
    ("expenditure.basic", r"基本支出"),
    ("expenditure.basic.personnel", r"人员经费(支出)?"),
    ("expenditure.basic.public", r"(日常)?公用经费(支出)?"),
    ("expenditure.project", r"项目支出"),
    ("three_public.total", r"“?三公”?经费(财政拨款)?(支出)?(预算|决算)?(安排|为)?"),
    ("three_public.overseas", r"因公出国\(境\)费"),
    ("three_public.vehicle", r"公务用车购置及运(行|维)(维护)?费"),
    ("three_public.vehicle.purchase", r"公务用车购置费"),
    ("three_public.vehicle.operation", r"公务用车运(行维护|维)费"),
    ("three_public.reception", r"公务接待费"),
    ("operating_costs.total", r"(机关|机构)运行经费"),
    ("procurement.total", r"政府采购(预算|支出总额)"),
    ("assets.total", r"固定资产金额"),
)
