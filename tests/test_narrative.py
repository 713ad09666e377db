"""Narrative facts: extraction from the prose, and the scorer against gold.

Three parts: the five example documents scored against their hand-made gold; synthetic
sentences written here (traditional characters, full-width digits, 元, final accounts,
things that must not become facts); unit tests of the scorer itself.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from structurer.gold import Gold, GoldNarrative, load_gold
from structurer.ingest import SourceText
from structurer.layout import Layout
from structurer.model import Document, DocumentMeta, NarrativeFact, Span
from structurer.pipeline import extract_file, prepare
from structurer.rules.narrative import extract_narrative
from structurer.evaluation.narrative import score_narrative
from structurer.segment import segment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))

# Scores reached on the examples (precision, recall, F1); the test fails on any regression.
# 002: one extra fact, the 三公 reception amount restated inside the change sentence of
# line 50, which that gold file leaves out (see the report's gold disagreements).
ACHIEVED = {
    "000_ce6cab5f862a266e": (1.0, 1.0, 1.0),
    "001_e48c9036102b6734": (1.0, 1.0, 1.0),
    "002_a298566b0f87c85f": (0.96, 1.0, 0.98),
    "003_fd949bb5025c67e5": (1.0, 1.0, 1.0),
    "004_397ecf54ea00b92f": (1.0, 1.0, 1.0),
}


# --------------------------------------------------------------------------- the examples

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_against_gold(path: Path) -> None:
    doc = extract_file(path)
    gold = load_gold(ROOT / "evals" / "gold" / f"{path.stem}.yaml")
    score = score_narrative(doc, gold)
    print()
    print(score.report())
    p, r, f1 = ACHIEVED[path.stem]
    assert score.precision >= p and score.recall >= r and score.f1 >= f1, score.report()
    assert score.f1 >= 0.85


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_facts_point_at_their_numbers(path: Path) -> None:
    prep = prepare(path)
    facts = extract_narrative(prep.layout, prep.seg)  # (its speed is measured in benchmarks/)
    text = prep.source.text
    prose = {i for s in prep.seg.sections if s.kind == "narrative" for i in range(s.first, s.last + 1)}
    for f in facts:
        assert text[f.span.start:f.span.end] == f.printed
        assert f.span.line_start - 1 in prose  # never from a table or a performance block
        digits = Decimal(f.printed.replace(",", "").replace(" ", ""))
        if f.kind == "share" or f.unit == "%":
            assert abs(f.value) == digits
        else:
            assert abs(f.value) == digits * {"元": 1, "万元": 10000, "亿元": 10 ** 8}[f.unit]


# --------------------------------------------------------------------------- synthetic prose

def extract_text(text: str) -> list[NarrativeFact]:
    source = SourceText(path="synthetic.txt", format="txt", encoding="utf-8", sha256="", text=text)
    layout = Layout.of(source)
    return extract_narrative(layout, segment(layout))


def facts_of(text: str) -> list[tuple[str, str, Decimal]]:
    return [(f.key, f.kind, f.value) for f in extract_text(text)]


W = Decimal(10000)


def test_clause_structure_with_parts_and_project_amounts() -> None:
    text = ("某县医疗保障局2024年部门预算公开说明\n二、部门预算安排的总体情况\n"
            "2023年支出预算6810.02万元，其中基本支出341.8万元，包括人员经费323万元和日常公用经费"
            "18.8万元；项目支出6468.22万元，主要为城乡居民医保县级补助 4124 万元、长期护理保险"
            "县级补助 255 万元等。\n")
    assert facts_of(text) == [
        ("expenditure.grand_total", "amount", Decimal("6810.02") * W),
        ("expenditure.basic", "amount", Decimal("341.8") * W),
        ("expenditure.basic.personnel", "amount", 323 * W),
        ("expenditure.basic.public", "amount", Decimal("18.8") * W),
        ("expenditure.project", "amount", Decimal("6468.22") * W),
    ]


def test_traditional_characters_and_full_width_digits() -> None:
    text = ("某縣教育局2024年部門預算公開說明\n一、部門預算安排的總體情況\n"
            "2024年本部門收入總計１，２３４．５０萬元，其中：一般公共預算收入１２００萬元，"
            "上年結轉３４．５０萬元。基本支出９００萬元，佔７２．９１％。\n")
    facts = extract_text(text)
    assert [(f.key, f.kind, f.value) for f in facts] == [
        ("revenue.grand_total", "amount", Decimal("1234.50") * W),
        ("revenue.general_budget", "amount", 1200 * W),
        ("revenue.prior_year_carryover", "amount", Decimal("34.50") * W),
        ("expenditure.basic", "amount", 900 * W),
        ("expenditure.basic", "share", Decimal("72.91")),
    ]
    assert facts[0].printed == "１，２３４．５０"  # printed as in the source
    assert facts[0].unit == "万元" and facts[-1].unit == "%"
    assert text[facts[0].span.start:facts[0].span.end] == "１，２３４．５０"


def test_changes_shares_units_and_non_facts() -> None:
    text = ("某县卫生健康局2024年部门预算公开说明\n一、支出预算总体情况说明\n"
            "本年支出合计1,234.50万元，比上年减少20万元，下降1.59%。其中：基本支出900万元，"
            "占72.91%；项目支出334.50万元，占27.09%。\n"
            "二、“三公”经费预算情况\n"
            "“三公”经费预算数为12.5万元，比上年下降10%，其中：公务接待费2.5万元；公务用车购置及"
            "运行维护费10万元（其中：公务用车购置费0元，公务用车运行维护费10万元）。全局共有车辆"
            "2辆，编制15人。\n"
            "三、机关运行经费\n机关运行经费安排123,456.78元，较上年增长5.2%。\n")
    assert facts_of(text) == [
        ("expenditure.current_year_total", "amount", Decimal("1234.50") * W),
        ("expenditure.current_year_total", "change", -20 * W),
        ("expenditure.current_year_total", "change", Decimal("-1.59")),
        ("expenditure.basic", "amount", 900 * W),
        ("expenditure.basic", "share", Decimal("72.91")),
        ("expenditure.project", "amount", Decimal("334.50") * W),
        ("expenditure.project", "share", Decimal("27.09")),
        ("three_public.total", "amount", Decimal("12.5") * W),
        ("three_public.total", "change", Decimal("-10")),
        ("three_public.reception", "amount", Decimal("2.5") * W),
        ("three_public.vehicle", "amount", 10 * W),
        ("three_public.vehicle.purchase", "amount", Decimal(0)),
        ("three_public.vehicle.operation", "amount", 10 * W),
        ("operating_costs.total", "amount", Decimal("123456.78")),  # printed in 元
        ("operating_costs.total", "change", Decimal("5.2")),
    ]


def test_both_sides_side_words_and_change_inheritance() -> None:
    text = ("某局2024年度部门预算公开说明\n一、收入支出预算总体情况说明\n"
            "2024年部门收入总计 800 万元，支出总计 800 万元，与 2023 年预算相比，收入增加 100 万元，"
            "增长 14.29%；支出增加 100 万元，增长 14.29%。\n"
            "二、机关运行经费\n本部门机关运行经费安排20万元，主要用于办公费。与上年相比，减幅5%。\n")
    assert facts_of(text) == [
        ("revenue.grand_total", "amount", 800 * W),
        ("expenditure.grand_total", "amount", 800 * W),
        ("revenue.grand_total", "change", 100 * W),
        ("revenue.grand_total", "change", Decimal("14.29")),
        ("expenditure.grand_total", "change", 100 * W),
        ("expenditure.grand_total", "change", Decimal("14.29")),
        ("operating_costs.total", "amount", 20 * W),
        ("operating_costs.total", "change", Decimal("-5")),
    ]


def test_final_accounts_budget_suffix_and_unkeyed_subjects() -> None:
    text = ("某市卫生健康委员会2023年度部门决算公开说明\n一、收入支出决算总体情况说明\n"
            "2023年度收、支总计均为500.00万元。与上年度相比，收、支总计各减少50.00万元，下降9.09%。\n"
            "二、财政拨款收入支出决算总体情况说明\n"
            "2023年度财政拨款收、支总计均为480.00万元，比上年增加8万元。\n"
            "三、财政拨款“三公”经费支出决算情况说明\n"
            "2023年度“三公”经费财政拨款支出预算为10.00万元，支出决算为8.00万元，完成预算的80.00%。"
            "其中：因公出国（境）费支出决算0万元，占0%；公务接待费支出决算3.00万元，完成预算的75%，"
            "占37.5%。\n"
            "四、政府性基金预算财政拨款支出决算情况说明\n"
            "2023年度政府性基金预算财政拨款支出年初预算为0万元，支出决算为20万元。\n"
            "五、政府采购支出情况说明\n"
            "2023年度政府采购支出总额10.76万元，其中：政府采购货物支出10.76万元。授予中小企业合同"
            "金额0万元，占政府采购支出总额的0%。\n")
    assert facts_of(text) == [
        ("revenue.grand_total", "amount", 500 * W),
        ("expenditure.grand_total", "amount", 500 * W),
        ("revenue.grand_total", "change", -50 * W),
        ("expenditure.grand_total", "change", -50 * W),
        ("revenue.grand_total", "change", Decimal("-9.09")),
        ("expenditure.grand_total", "change", Decimal("-9.09")),
        ("three_public.total.budget", "amount", 10 * W),
        ("three_public.total", "amount", 8 * W),
        ("three_public.overseas", "amount", Decimal(0)),
        ("three_public.overseas", "share", Decimal(0)),
        ("three_public.reception", "amount", 3 * W),
        ("three_public.reception", "share", Decimal("37.5")),
        ("procurement.total", "amount", Decimal("10.76") * W),
    ]


def test_functional_classes_only_under_general_budget_expenditure() -> None:
    text = ("某局2024年部门预算公开说明\n一、一般公共预算支出情况\n"
            "一般公共预算财政拨款支出800万元，主要用于：教育支出100万元，占12.5%；卫生健康（类）"
            "支出700万元，占87.5%。\n二、其他说明\n另安排卫生健康支出50万元用于某项目。\n")
    assert facts_of(text) == [
        ("general_budget_expenditure.total", "amount", 800 * W),
        ("general_budget_expenditure.205", "amount", 100 * W),
        ("general_budget_expenditure.205", "share", Decimal("12.5")),
        ("general_budget_expenditure.210", "amount", 700 * W),
        ("general_budget_expenditure.210", "share", Decimal("87.5")),
    ]


def test_other_years_remarks_and_unkeyed_sources() -> None:
    text = ("某区财政局2024年部门预算公开说明\n一、收入预算情况\n"
            "2024年部门收入预算总额为500万元。上年结转结余资金5万元。项目支出（含上年结转）300万元。"
            "事业收入3万元，占0.6%。\n二、三公经费\n"
            "“三公”经费2024年预算数为5万元，“三公”经费2023年预算数为6万元。\n")
    assert facts_of(text) == [
        ("revenue.grand_total", "amount", 500 * W),
        ("revenue.prior_year_carryover", "amount", 5 * W),
        ("expenditure.project", "amount", 300 * W),
        ("three_public.total", "amount", 5 * W),  # not the 2023 figure
    ]


def test_wrapped_lines_page_numbers_and_excluded_sections() -> None:
    text = ("某县医疗保障局2024年部门预算公开说明\n二、部门预算安排的总体情况\n"
            "2024年支出预算\n500.00 万元，其中基本支出 200.00 万元，包括人员经费 150.00\n\n"
            "万元和日常公用经费 50.00 万元；项目支出 300.00 万元。\n\n3\n\n"
            "三、预算绩效信息\n（一）总体绩效目标\n项目支出 300.00 万元全部纳入绩效管理。\n"
            "1、城乡居民医保补助绩效目标表\n项目名称\t城乡居民医保补助\n"
            "项目支出 300.00 万元，公务接待费 1.00 万元。\n"
            "一级指标\t二级指标\t三级指标\t指标值\n产出指标\t数量指标\t参保人数\t≥1000人\n"
            "四、国有资产信息\n本部门上年末固定资产金额为 52.32 万元。本年度拟购置固定资产总额为 5.33 万元。\n")
    facts = extract_text(text)
    assert [(f.key, f.value) for f in facts] == [
        ("expenditure.grand_total", 500 * W),
        ("expenditure.basic", 200 * W),
        ("expenditure.basic.personnel", 150 * W),
        ("expenditure.basic.public", 50 * W),
        ("expenditure.project", 300 * W),
        ("assets.total", Decimal("52.32") * W),
        ("assets.planned_purchase", Decimal("5.33") * W),
    ]
    assert facts[2].span.line_start == 4 and facts[2].printed == "150.00"


# --------------------------------------------------------------------------- the scorer

def fact(key: str, kind: str, value: str, unit: str = "万元", line: int = 1) -> NarrativeFact:
    return NarrativeFact(key=key, kind=kind, value=Decimal(value), printed=value, unit=unit,
                         span=Span(line_start=line, line_end=line, start=0, end=1))


def gold_of(*facts: tuple[str, str, str, str, int]) -> Gold:
    g = Gold(doc="synthetic.txt", path=Path("synthetic.yaml"), meta={})
    g.narrative = [GoldNarrative(k, kind, Decimal(v), v, unit, line) for k, kind, v, unit, line in facts]
    return g


def test_scorer_exact_match() -> None:
    gold = gold_of(("revenue.grand_total", "amount", "68100200.00", "万元", 514),
                   ("expenditure.basic", "share", "75.55", "%", 12))
    got = [fact("expenditure.basic", "share", "75.55", "%", 12),
           fact("revenue.grand_total", "amount", "68100200", "万元", 514)]  # 0 decimals: same value
    s = score_narrative(got, gold)
    assert (s.tp, s.fp, s.fn) == (2, 0, 0) and s.f1 == 1.0 and not s.extra and not s.missing


def test_scorer_extra_and_missing_with_lines() -> None:
    gold = gold_of(("expenditure.project", "amount", "100", "万元", 7),
                   ("three_public.total", "amount", "0", "万元", 9))
    got = [fact("expenditure.project", "amount", "100", line=7),
           fact("expenditure.basic", "amount", "5", line=8)]
    s = score_narrative(got, gold)
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.precision == 0.5 and s.recall == 0.5 and s.f1 == 0.5
    assert [f.key for f in s.extra] == ["expenditure.basic"]
    assert [(g.key, g.line) for g in s.missing] == [("three_public.total", 9)]
    report = s.report()
    assert "missing  line 9: three_public.total" in report and "extra    line 8: expenditure.basic" in report


def test_scorer_duplicate_keys_are_a_multiset() -> None:
    gold = gold_of(("expenditure.grand_total", "amount", "6810.02", "万元", 516),
                   ("expenditure.grand_total", "amount", "6810.02", "万元", 518))
    once = score_narrative([fact("expenditure.grand_total", "amount", "6810.02", line=518)], gold)
    assert (once.tp, once.fp, once.fn) == (1, 0, 1)
    assert once.missing[0].line == 516  # the nearest line was matched
    thrice = score_narrative([fact("expenditure.grand_total", "amount", "6810.02", line=n)
                              for n in (516, 518, 520)], gold)
    assert (thrice.tp, thrice.fp, thrice.fn) == (2, 1, 0)
    assert thrice.extra[0].span.line_start == 520


def test_scorer_sign_and_dimension_of_changes(tmp_path: Path) -> None:
    gold_yaml = tmp_path / "g.yaml"
    gold_yaml.write_text(
        "doc: x.txt\nhow_made: synthetic\ntables: {}\nnarrative:\n"
        "  - {key: expenditure.project, kind: change, printed: '212.04', unit: 万元, sign: '−', line: 3}\n"
        "  - {key: expenditure.basic, kind: change, printed: '4.25', unit: 万元, sign: '-', line: 3}\n"
        "  - {key: operating_costs.total, kind: change, printed: '34', unit: '%', sign: '-', line: 5}\n",
        encoding="utf-8")
    gold = load_gold(gold_yaml)
    assert [g.value for g in gold.narrative] == [Decimal("-2120400"), Decimal("-42500"), Decimal("-34")]
    right = [fact("expenditure.project", "change", "-2120400.00", line=3),
             fact("expenditure.basic", "change", "-42500", line=3),
             fact("operating_costs.total", "change", "-34", "%", line=5)]
    assert score_narrative(right, gold).f1 == 1.0
    wrong_sign = [fact("expenditure.project", "change", "2120400.00", line=3)] + right[1:]
    s = score_narrative(wrong_sign, gold)
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)
    # −34 % is not −34 元: a percent change never matches a money change
    s = score_narrative(right[:2] + [fact("operating_costs.total", "change", "-34", "元", line=5)], gold)
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)


def test_scorer_takes_a_document_and_empty_sides() -> None:
    doc = Document(meta=DocumentMeta(), narrative=[fact("procurement.total", "amount", "0")])
    s = score_narrative(doc, gold_of(("procurement.total", "amount", "0.00", "万元", 1)))
    assert s.f1 == 1.0
    empty = score_narrative([], gold_of())
    assert (empty.precision, empty.recall) == (1.0, 1.0)
    assert score_narrative([], gold_of(("procurement.total", "amount", "0", "万元", 1))).f1 == 0.0


def test_general_budget_appropriation_and_its_structure_under_a_heading() -> None:
    """The templates' 一般公共预算当年拨款 paragraphs: the total, then its 类 split in a paragraph
    of its own under a heading that names the general budget; the next heading ends that."""
    text = ("某县医疗保障局2024年部门预算公开说明\n五、一般公共预算当年拨款情况说明\n"
            "（一）一般公共预算当年拨款规模变化情况\n"
            "2024年一般公共预算当年拨款1200万元，比上年减少20万元，下降1.64%。\n"
            "（二）一般公共预算当年拨款结构情况\n"
            "社会保障和就业支出1000万元，占83.33%；卫生健康支出200万元，占16.67%。\n"
            "（三）其他情况\n"
            "卫生健康支出200万元。\n")
    assert facts_of(text) == [
        ("general_budget_expenditure.total", "amount", 1200 * W),
        ("general_budget_expenditure.total", "change", -20 * W),
        ("general_budget_expenditure.total", "change", Decimal("-1.64")),
        ("general_budget_expenditure.208", "amount", 1000 * W),
        ("general_budget_expenditure.208", "share", Decimal("83.33")),
        ("general_budget_expenditure.210", "amount", 200 * W),
        ("general_budget_expenditure.210", "share", Decimal("16.67")),
    ]


def test_carryover_parts_other_scopes_and_scrambled_sentences_are_no_facts() -> None:
    head = "某县医疗保障局2024年部门预算公开说明\n二、部门预算安排的总体情况\n"
    # the carryover's general-budget part is not this year's general-budget revenue
    assert facts_of(head + "本年一般公共预算收入 300 万元，占 75%；上年结转结余的一般公共预算收入 0 万元，"
                           "占 0%。\n") == [("revenue.general_budget", "amount", 300 * W),
                                             ("revenue.general_budget", "share", Decimal(75))]
    # the funds behind performance targets restate another scope
    assert facts_of(head + "全部项目均实行绩效目标管理，涉及一般公共预算支出 120 万元。\n") == []
    # a unit printed without its number: the text layer's reading order is scrambled
    assert facts_of(head + "2024年一般公共预算拨款基本支出万元，其202451691.74中：人员经费 46290.94 万元。\n") == []


def test_a_year_the_text_layer_glued_onto_an_amount_is_no_fact() -> None:
    head = "某县医疗保障局2026年部门预算公开说明\n二、部门预算安排的总体情况\n"
    # the year belongs before 年 but was printed onto the amount: 2026 + 1.10 read as 20261.10
    assert facts_of(head + "某县医疗保障局年“三公”经费预算数为20261.10万元。\n") == []
    # a number that merely starts with the year's digits, with its year in place, stays a fact
    assert facts_of(head + "2026年“三公”经费预算数为20261.10万元。\n") == [
        ("three_public.total", "amount", Decimal("20261.10") * W)]
