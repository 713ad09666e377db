"""Header words of other templates → leaf columns (structurer.rules.header), and the procurement
table of the fund-split template read end to end."""
from __future__ import annotations

from decimal import Decimal

import pytest

from structurer.ingest import read_bytes
from structurer.pipeline import Prepared, extract_prepared
from structurer.rules.header import leaves

CASES = {
    # a fund named as revenue is one column, not a fund plus a 收入 side
    "科目编码科目名称合计一般公共预算拨款收入政府性基金预算拨款收入国有资本经营预算拨款收入财政专户管理资金收入单位资金":
        [("code",), ("name",), ("total",), ("general_budget",), ("gov_fund",), ("state_capital",),
         ("fiscal_special_account",), ("unit_funds",)],
    # 财政 belongs to the next column (财政专户…), not to the fund before it
    "合计一般公共预算政府性基金预算财政专户管理资金单位资金":
        [("total",), ("general_budget",), ("gov_fund",), ("fiscal_special_account",), ("unit_funds",)],
    "一般公共预算财政拨款政府性基金预算财政拨款":
        [("general_budget",), ("gov_fund",)],
    # 部门经济分类科目编码/名称: the code and the label, not a code group
    "部门经济分类科目编码部门经济分类科目名称合计人员经费公用经费":
        [("code",), ("name",), ("total",), ("personnel",), ("public",)],
    "支出功能分类科目编码支出功能分类科目名称合计基本支出项目支出":
        [("code",), ("name",), ("total",), ("basic",), ("project",)],
}


@pytest.mark.parametrize("header", sorted(CASES))
def test_header_words_of_other_templates(header):
    assert [p for p in leaves(header)] == CASES[header]


def test_procurement_of_the_fund_split_template():
    t = "\t"
    rows = [["采购项目", "采购品目", "采购数量", "政府采购预算", "", "", "", ""],
            ["", "", "", "合计", "一般公共预算", "政府性基金预算", "财政专户管理资金", "单位资金"],
            ["合计", "", "", "12.00", "10.00", "", "2.00", ""],
            ["办公设备购置", "台式计算机", "5", "4.00", "4.00", "", "", ""],
            ["物业管理服务", "物业管理服务", "1", "8.00", "6.00", "", "2.00", ""]]
    text = "\n".join(["某县民政局2025年部门预算公开", "", "表10 政府采购预算表", "单位：万元",
                      *(t.join(r) for r in rows)]) + "\n"
    doc = extract_prepared(Prepared(read_bytes(text.encode("utf-8"), "doc.txt")))
    got = {(r.id, c.column): c.value for r in doc.table("procurement").rows for c in r.cells}
    assert got == {("total", "total"): Decimal("120000.00"), ("total", "general_budget"): Decimal("100000.00"),
                   ("total", "fiscal_special_account"): Decimal("20000.00"),
                   ("item.01", "quantity"): Decimal("5"), ("item.01", "total"): Decimal("40000.00"),
                   ("item.01", "general_budget"): Decimal("40000.00"),
                   ("item.02", "quantity"): Decimal("1"), ("item.02", "total"): Decimal("80000.00"),
                   ("item.02", "general_budget"): Decimal("60000.00"),
                   ("item.02", "fiscal_special_account"): Decimal("20000.00")}
