"""Segmentation on the seeds against expectations written by hand from reading them."""
from __future__ import annotations

import pytest

from conftest import extracted

BUDGET_TABLES = {"revenue_expenditure_summary", "revenue", "expenditure", "fiscal_grant_summary",
                 "general_budget_expenditure", "general_budget_basic_expenditure",
                 "gov_fund_expenditure", "state_capital_expenditure", "three_public"}

EXPECTED = {
    "000_ce6cab5f862a266e.txt": dict(
        meta=dict(agency="南宫市医疗保障局", agency_code="310", year=2023, kind="budget", unit="元",
                  scope="department"),
        tables=BUDGET_TABLES | {"procurement", "assets"},
        empty={"gov_fund_expenditure", "state_capital_expenditure", "procurement", "assets"},
        performance=15),
    "001_e48c9036102b6734.txt": dict(
        meta=dict(agency="临西县医疗保障局本级", agency_code="450001", year=2024, kind="budget",
                  unit="万元", scope="unit"),
        tables=BUDGET_TABLES | {"procurement", "assets"},
        empty={"gov_fund_expenditure", "state_capital_expenditure"},
        performance=8),
    "002_a298566b0f87c85f.txt": dict(
        meta=dict(agency="大厂回族自治县医疗保障局", agency_code=None, year=2021, kind="budget",
                  unit="万元", scope="department"),
        tables={"procurement", "assets"},
        empty={"procurement"},
        performance=23),
    "003_fd949bb5025c67e5.txt": dict(
        meta=dict(agency="南阳市医疗保障局", agency_code=None, year=2023, kind="final", unit="万元",
                  scope="department"),
        tables=BUDGET_TABLES,
        empty={"state_capital_expenditure"},
        performance=None),
    "004_397ecf54ea00b92f.txt": dict(
        meta=dict(agency="漯河市郾城区医疗保障局", agency_code="685", year=2024, kind="budget",
                  unit="万元", scope="department"),
        # the table of contents lists 收入总体情况表 and 支出经济分类汇总表; the body has neither
        tables=BUDGET_TABLES - {"revenue"} | {"project_expenditure", "operating_costs"},
        empty={"three_public", "gov_fund_expenditure", "state_capital_expenditure"},
        performance=2),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata(name):
    meta = extracted(name).meta
    for k, v in EXPECTED[name]["meta"].items():
        assert getattr(meta, k) == v, k


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_table_found_once(name):
    doc = extracted(name)
    ids = [s.id for s in doc.sections if s.kind == "table"]
    assert len(ids) == len(set(ids)), f"duplicate table sections: {ids}"
    assert set(ids) == EXPECTED[name]["tables"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_empty_tables_recognized(name):
    doc = extracted(name)
    empty = {t.id for t in doc.tables if t.empty}
    assert EXPECTED[name]["empty"] <= empty
    # a table that prints values is never called empty unless it says so
    for t in doc.tables:
        if t.id not in EXPECTED[name]["empty"]:
            assert any(r.cells for r in t.rows) or t.empty_note, t.id


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_performance_blocks(name):
    want = EXPECTED[name]["performance"]
    doc = extracted(name)
    blocks = [s for s in doc.sections if s.kind == "performance" and s.id == "performance_targets"]
    if want is not None:
        assert len(blocks) == want


def test_tables_are_not_merged_into_neighbours():
    doc = extracted("000_ce6cab5f862a266e.txt")
    spans = sorted((s.span.line_start, s.span.line_end, s.id) for s in doc.sections if s.kind == "table")
    for (a0, a1, ida), (b0, b1, idb) in zip(spans, spans[1:]):
        assert a1 < b0, f"{ida} overlaps {idb}"
    summary = doc.table("revenue_expenditure_summary")
    # the summary table runs over four pages; its last row (收入总计) is on the fourth
    assert summary.row("revenue.grand_total") is not None


# Titles of the standard tables as the Ministry of Finance templates name them (budget and
# final-accounts variants, with and without numbering); none of them is in the seeds.
TITLE_VARIANTS = {
    "附表1：收入决算总表": "revenue",
    "表3 支出决算总表": "expenditure",
    "收入支出决算总表": "revenue_expenditure_summary",
    "财政拨款收入支出决算总表": "fiscal_grant_summary",
    "一般公共预算财政拨款支出决算明细表": "general_budget_expenditure",
    "一般公共预算拨款支出预算表": "general_budget_expenditure",
    "一般公共预算支出功能分类预算表": "general_budget_expenditure",
    "一般公共预算基本支出经济分类预算表": "general_budget_basic_expenditure",
    "七、一般公共预算财政拨款基本支出决算明细表": "general_budget_basic_expenditure",
    "表7：一般公共预算财政拨款“三公”经费及会议费、培训费支出决算表": "three_public",
    "政府性基金预算财政拨款收入支出决算表": "gov_fund_expenditure",
    "国有资本经营预算财政拨款收入支出决算表": "state_capital_expenditure",
    "2025年部门收支预算总表": "revenue_expenditure_summary",
    "单位收支总表": "revenue_expenditure_summary",
    "表十二、项目支出表": "project_expenditure",
    "表1-1 部门收支总表": "revenue_expenditure_summary",
    "附表1-2：部门收入总表": "revenue",
    "（表3）部门支出总表": "expenditure",
    "(05表)一般公共预算支出表": "general_budget_expenditure",
    "部门预算公开表7 一般公共预算“三公”经费支出表": "three_public",
}


def _kind_of(title: str):
    from structurer.ingest import SourceText
    from structurer.layout import Layout
    from structurer.segment import title_kind

    layout = Layout.of(SourceText(path="t.txt", format="txt", encoding="utf-8", sha256="0", text=title))
    return title_kind(layout.lines[0])


@pytest.mark.parametrize("title, kind", sorted(TITLE_VARIANTS.items()))
def test_title_variants_of_other_templates(title, kind):
    found = _kind_of(title)
    assert found is not None and found[0] == kind, found


@pytest.mark.parametrize("title", ["部门预算基本支出预算表", "部门预算项目支出及其他支出预算表"])
def test_a_table_of_basic_or_project_spending_alone_is_not_the_expenditure_table(title):
    # they end in 支出预算表 like 部门支出预算表, but list one kind of spending by unit
    assert (_kind_of(title) or ("",))[0] != "expenditure"
    assert _kind_of("部门支出预算表")[0] == "expenditure"


def test_prose_naming_several_tables_is_not_a_title():
    from structurer.ingest import SourceText
    from structurer.layout import Layout
    from structurer.segment import title_kind

    text = "本部门无政府性基金预算支出表、国有资本经营预算支出表"
    layout = Layout.of(SourceText(path="t.txt", format="txt", encoding="utf-8", sha256="0", text=text))
    assert title_kind(layout.lines[0]) is None


@pytest.mark.parametrize("sep", ["\t", "    "])
def test_label_only_rows_do_not_end_a_table(sep):
    """Rows printing only their label (三、国有资本经营预算拨款收入, no amount) look like headings
    in a space-separated dump; the table goes on after them."""
    from structurer.checks.run import evaluate
    from structurer.ingest import read_bytes
    from structurer.pipeline import Prepared, extract_prepared

    rows = [["收入", "", "支出", ""], ["项目", "预算数", "项目", "预算数"],
            ["一、一般公共预算拨款收入", "140.00", "一、社会保障和就业支出", "150.00"],
            ["二、政府性基金预算拨款收入", "10.00", "", ""], ["三、国有资本经营预算拨款收入", "", "", ""],
            ["四、财政专户管理资金收入", "", "", ""], ["五、单位资金", "", "", ""],
            ["本年收入合计", "150.00", "本年支出合计", "150.00"], ["上年结转结余", "", "年末结转结余", ""],
            ["收入总计", "150.00", "支出总计", "150.00"]]
    text = "\n".join(["某县民政局2025年部门预算公开", "", "表1 部门收支总表", "单位：万元",
                      *(sep.join(r) for r in rows), "", "二、收入预算情况说明",
                      # prose right after the heading, a double space before a number (a PDF dump)
                      "2025年收入预算  150.00万元，其中一般公共预算拨款收入140.00万元。"]) + "\n"
    doc = extract_prepared(Prepared(read_bytes(text.encode("utf-8"), "doc.txt")))
    table = doc.table("revenue_expenditure_summary")
    assert {r.id for r in table.rows} >= {"revenue.current_year_total", "revenue.grand_total",
                                           "expenditure.grand_total", "revenue.gov_fund"}
    assert [s.kind for s in doc.sections] == ["narrative", "table", "narrative"]
    assert {f.key for f in doc.narrative} == {"revenue.grand_total", "revenue.general_budget"}
    assert not evaluate(doc).findings()
