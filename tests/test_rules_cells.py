"""The rules backend against the hand-labelled gold: cell precision and recall per document."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import GOLD, SEEDS, extracted
from structurer.gold import load_gold
from structurer.evaluation.cells import score_document_cells


@pytest.mark.parametrize("name", SEEDS)
def test_cells_match_gold(name):
    gold = load_gold(GOLD / name.replace(".txt", ".yaml"))
    res = score_document_cells(extracted(name), gold)
    s = res.counts
    print(f"{name}: precision={s.precision:.4f} recall={s.recall:.4f} tp={s.tp} fp={s.fp} fn={s.fn}")
    assert s.precision >= 0.99 and s.recall >= 0.99, res.errors()[:5]


def test_money_is_decimal_yuan_with_printed_text_and_unit():
    doc = extracted("003_fd949bb5025c67e5.txt")
    cell = doc.table("revenue_expenditure_summary").row("revenue.general_budget").cell("amount")
    assert cell.value == Decimal("20048900.00") and isinstance(cell.value, Decimal)
    assert cell.printed == "2,004.89" and cell.unit == "万元"


def test_empty_cells_are_absent_and_printed_zero_is_zero():
    doc = extracted("003_fd949bb5025c67e5.txt")
    row = doc.table("expenditure").row("205")
    assert row.cell("basic").value == 0 and row.cell("basic").printed == "0.00"
    doc0 = extracted("000_ce6cab5f862a266e.txt")
    row0 = doc0.table("expenditure").row("208")
    assert row0.cell("basic") is None


def test_garbage_rows_are_kept_and_flagged_not_merged():
    doc = extracted("004_397ecf54ea00b92f.txt")
    t = doc.table("general_budget_basic_expenditure")
    suspect = [r for r in t.rows if r.suspect]
    assert len(suspect) == 2
    assert any("差旅费" in r.label for r in suspect) and any("住房公积金" in r.label for r in suspect)
    assert all(r.note for r in suspect)
    assert t.row("30113").cell("total").value == Decimal("290100.00")  # the real row is untouched
    assert any("suspect" in w for w in doc.warnings)


def test_every_cell_has_a_span_inside_its_table():
    for name in SEEDS:
        doc = extracted(name)
        for t in doc.tables:
            for r in t.rows:
                for c in r.cells:
                    assert t.span.start <= c.span.start < c.span.end <= t.span.end, (name, t.id, r.id)


def test_unparseable_numbers_are_unreadable_not_zero(tmp_path):
    from structurer.pipeline import extract_file

    text = ("部门预算支出总表\n单位：元\n序号\t科目编码\t科目名称\t合计\t基本支出\t项目支出\n"
            "1\t\t合计\t12O0.00\t1200.00\t\n2\t208\t社会保障和就业支出\t1,2.0.0\t1200.00\t\n")
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    doc = extract_file(p)
    row = doc.table("expenditure").row("total")
    bad = row.cell("total")
    assert bad.status == "unreadable" and bad.value is None and bad.printed == "12O0.00"
    assert bad.span.line_start == 4
    assert row.cell("basic").value == Decimal("1200.00")


def _doc(lines: list[str]):
    from structurer.ingest import read_bytes
    from structurer.pipeline import Prepared, extract_prepared

    text = "\n".join(["某县气象局2026年部门预算", "", *lines]) + "\n"
    return extract_prepared(Prepared(read_bytes(text.encode("utf-8"), "doc.txt")))


def test_functional_rows_printed_by_name_get_codes_from_the_rows_above():
    # 行政运行 exists under dozens of 款: the 款 printed above it decides which one
    doc = _doc(["一般公共预算支出表", "单位：万元",
                "科目名称\t合计\t基本支出\t项目支出",
                "合计\t100.00\t70.00\t30.00",
                "一般公共服务支出\t40.00\t40.00\t",
                "财政事务\t40.00\t40.00\t",
                "行政运行\t40.00\t40.00\t",
                "自然资源海洋气象等支出\t60.00\t30.00\t30.00",
                "气象事务\t60.00\t30.00\t30.00",
                "行政运行\t30.00\t30.00\t",
                "气象服务\t30.00\t\t30.00"])
    rows = doc.table("general_budget_expenditure").rows
    assert [r.id for r in rows] == ["total", "201", "20106", "2010601", "220", "22005", "2200501", "2200509"]


def test_one_subject_column_with_codes_in_brackets_and_a_title_outside_the_catalog():
    doc = _doc(["一般公共预算基本支出情况表（按经济分类科目）", "单位：万元",
                "部门预算支出经济科目\t预算",
                "合计\t10.00",
                "[301]工资福利支出\t6.00",
                "[30101]基本工资\t6.00",
                "[302]商品和服务支出\t4.00",
                "[30201]办公费\t4.00",
                "",
                "一般公共预算项目支出情况表（按经济分类科目）", "单位：万元",
                "部门预算支出经济科目\t预算",
                "合计\t5.00",
                "[302]商品和服务支出\t5.00"])
    t = doc.table("general_budget_basic_expenditure")
    assert [(r.id, str(r.cell("total").printed)) for r in t.rows] == [
        ("total", "10.00"), ("301", "6.00"), ("30101", "6.00"), ("302", "4.00"), ("30201", "4.00")]


def test_recurring_items_take_their_number_under_an_unlisted_kuan():
    from structurer.classification import functional_code

    # 20407 (监狱) prints 一般行政管理事务 and 其他监狱支出 by name: every 款 numbers them 02 and 99
    assert functional_code("一般行政管理事务", ["204", "20407", "2040701"]) == "2040702"
    assert functional_code("其他监狱支出", ["204", "20407", "2040706"]) == "2040799"
    assert functional_code("从未见过的项目名称", ["204", "20407"]) is None
