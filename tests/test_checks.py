"""The identity catalog: outcomes, rounding, genuine inconsistencies, diagnosis, CLI, self-test."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import EXAMPLES, SEEDS, extracted
from structurer.checks import expr as ex
from structurer.checks.engine import half_ulp, load_catalog
from structurer.checks.run import evaluate
from structurer.ingest import read_bytes
from structurer.pipeline import Prepared, extract_prepared


def check_text(text: str):
    doc = extract_prepared(Prepared(read_bytes(text.encode("utf-8"), "doc.txt")))
    return doc, evaluate(doc)


def table_findings(report):
    """Findings about the tables themselves (a synthetic one-table text also lacks the summary)."""
    return [r for r in report.findings() if not r.identity.startswith("document.")]


def mutate(name: str, line: int, old: str, new: str) -> str:
    lines = (EXAMPLES / name).read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


def test_expression_form_parses():
    e = ex.parse("[$row][total] = [$row][basic] + [x][$row][project|amount] - sum([$child][$col])")
    assert e.op == "=" and len(e.left) == 1 and len(e.right) == 3
    assert e.right[1].ref.table == ("x",) and e.right[1].ref.col == ("project", "amount")
    assert e.right[2].is_sum and e.right[2].sign == -1
    with pytest.raises(ex.ExprError):
        ex.parse("[a][b] + [c][d]")


def test_catalog_loads_and_names_known_tables():
    cat = load_catalog()
    assert len(cat) >= 30
    assert {"coded.hierarchy", "summary.revenue_balance", "cross.basic_vs_general_budget"} <= {i.id for i in cat}


def test_rounding_envelope_is_half_a_printed_unit():
    assert half_ulp("6,810.02", "万元") == Decimal("50")  # 0.005 万元
    assert half_ulp("341.8", "万元") == Decimal("500")
    assert half_ulp("68100200.00", "元") == 0  # 元 tables add up exactly
    assert half_ulp("6810.02", "万元", 2) == Decimal("50")


@pytest.mark.parametrize("name", SEEDS)
def test_clean_seeds_have_only_genuine_findings(name):
    report = evaluate(extracted(name))
    findings = [(r.identity, r.binding.get("key")) for r in report.findings()]
    # the one inconsistency the published documents contain (see test below); rounding is a note
    expected = [("narrative.change_sum", "expenditure.grand_total")] if name.startswith("000") else []
    assert findings == expected
    assert not any(r.status == "fail" and r.identity.startswith(("coded", "summary", "cross"))
                   for r in report.results)


def test_genuine_inconsistency_000_change_parts():
    """000 says the total rose 57.09 万元 of which basic +88.92 and project +430.88 (=519.80)."""
    r = next(r for r in evaluate(extracted("000_ce6cab5f862a266e.txt")).findings())
    assert r.identity == "narrative.change_sum"
    assert r.left == Decimal("570900.00") and r.right == Decimal("5198000.00")
    assert r.delta == Decimal("-4627100.00") and r.terms[0].span.line_start == 518


@pytest.mark.parametrize("name,count", [("003_fd949bb5025c67e5.txt", 37), ("004_397ecf54ea00b92f.txt", 20)])
def test_万元_documents_round_without_false_alarms(name, count):
    report = evaluate(extracted(name))
    notes = [r for r in report.results if r.status == "rounding"]
    assert len(notes) == count
    assert all(abs(r.delta) <= r.envelope and abs(r.delta) <= Decimal("300") for r in notes)


def test_rounding_note_003_class_sum():
    """003: Σ 类 of 本年支出合计 prints 2,076.78 against 2,076.79 (0.01 万元 尾差)."""
    report = evaluate(extracted("003_fd949bb5025c67e5.txt"))
    r = next(r for r in report.results if r.identity == "summary.expenditure_classes")
    assert r.status == "rounding" and r.delta == Decimal("100.00") and r.envelope == Decimal("300")


def test_every_status_is_reachable_and_nothing_unrun_passes():
    doc, report = check_text(
        "部门预算支出总表\n单位：万元\n序号\t科目编码\t科目名称\t合计\t基本支出\t项目支出\n"
        "1\t\t合计\t10.01\t5.00\t5.00\n2\t208\t社会保障和就业支出\t6.00\t5.00\t1.00\n"
        "3\t210\t卫生健康支出\t4.0x\t\t4.00\n"
        "一般公共预算财政拨款支出表\n单位：万元\n科目编码\t科目名称\t合计\t基本支出\t项目支出\n"
        "\t合计\t10.00\t5.00\t5.00\n")
    statuses = {r.status for r in report.results}
    assert statuses == {"pass", "fail", "rounding", "not_applicable", "insufficient_data"}
    by = {(r.table, r.identity, r.binding.get("row"), r.binding.get("col")): r for r in report.results}
    assert by[("expenditure", "coded.row_total", "total", None)].status == "rounding"  # 10.01 vs 10.00
    missing = by[("general_budget_expenditure", "cross.basic_vs_general_budget", None, None)]
    assert missing.status == "insufficient_data" and "not in the document" in missing.reason
    unread = by[("expenditure", "coded.row_total", "210", None)]
    assert unread.status == "fail" and unread.diagnosis.fix == Decimal("40000.00")  # 4.0x is unreadable
    for r in report.results:
        if r.status == "pass":
            assert r.terms or r.reason, r.instance


def test_diagnosis_names_the_mutated_cell_and_its_fix():
    text = mutate("000_ce6cab5f862a266e.txt", 204, "5121070 0.00", "5121970 0.00")
    doc, report = check_text(text)
    fails = report.findings()
    assert fails
    d = max((r.diagnosis for r in fails if r.diagnosis), key=lambda d: d.explains)
    assert (d.table, d.row, d.column) == ("expenditure", "2101202", "total")
    assert d.fix == Decimal("51210700.00") and d.current == Decimal("51219700.00")
    assert d.span.line_start == 204


def test_check_command_exit_codes(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "structurer", "check", *map(str, args)],
                              capture_output=True, text=True, timeout=120)
    assert run(EXAMPLES / "003_fd949bb5025c67e5.txt").returncode == 0
    bad = tmp_path / "mutated.txt"
    bad.write_text(mutate("003_fd949bb5025c67e5.txt", 231, "706.10", "760.10"), encoding="utf-8")
    r = run(bad, "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["counts"]["fail"] >= 2
    r = run(bad)
    assert "likely wrong" in r.stdout and "expenditure/208/total" in r.stdout
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    r = run(empty)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_selftest_small_sample():
    from structurer.checks.selftest import run_selftest
    from structurer.ingest import read_source

    res = run_selftest(read_source(EXAMPLES / "000_ce6cab5f862a266e.txt"), 15, 3,
                       lambda s: extract_prepared(Prepared(s)))
    assert len(res.mutations) == 15 and res.in_identity
    assert res.recall >= 0.9 and res.localization >= 0.8


@pytest.mark.slow
def test_selftest_200_mutations_per_seed():
    """The issue's bar: recall ≥ 0.95 for mutations in numbers taking part in an identity and
    localization ≥ 0.85, over the four seeds with tables, 200 mutations each."""
    from structurer.checks.selftest import run_selftest
    from structurer.ingest import read_source

    for name in [s for s in SEEDS if not s.startswith("002")]:
        res = run_selftest(read_source(EXAMPLES / name), 200, 42, lambda s: extract_prepared(Prepared(s)))
        print(f"{name}: effective={len(res.effective)} in_identity={len(res.in_identity)} "
              f"recall={res.recall:.4f} localization={res.localization:.4f}")
        assert res.recall >= 0.95 and res.localization >= 0.85, name


def _fund_split_revenue(gov_fund_2080299: str) -> str:
    """A 部门收入总表 of the fund-split template (columns per fund, 单位资金), tab-separated."""
    t = "\t"
    rows = [["", "合计", "150.00", "140.00", "10.00", "", "", ""],
            ["208", "社会保障和就业支出", "150.00", "140.00", "10.00", "", "", ""],
            ["20802", "民政管理事务", "150.00", "140.00", "10.00", "", "", ""],
            ["2080201", "行政运行", "100.00", "100.00", "", "", "", ""],
            ["2080299", "其他民政管理事务支出", "50.00", "40.00", gov_fund_2080299, "", "", ""]]
    head = ["科目编码", "科目名称", "合计", "一般公共预算拨款收入", "政府性基金预算拨款收入",
            "国有资本经营预算拨款收入", "财政专户管理资金收入", "单位资金"]
    return "\n".join(["某县民政局2025年部门预算公开", "", "表2 部门收入总表", "单位：万元", t.join(head),
                      *(t.join(r) for r in rows)]) + "\n"


def test_fund_split_revenue_template_is_read_and_checked():
    doc, report = check_text(_fund_split_revenue("10.00"))
    table = doc.table("revenue")
    assert table.columns[:5] == ["total", "general_budget", "gov_fund", "state_capital", "fiscal_special_account"]
    assert table.row("2080299").cell("gov_fund").value == Decimal("100000.00")
    # one table alone: the only finding is that no summary table was there to check totals against
    assert [r.identity for r in report.findings()] == ["document.summary_located"]
    assert report.findings()[0].severity == "warning"
    unlocated = {r.table for r in report.results if r.identity == "document.table_located"}
    assert "three_public" in unlocated and "revenue" not in unlocated
    assert all(r.status == "insufficient_data" for r in report.results if r.identity == "document.table_located")
    by_id = {}
    for r in report.results:
        by_id.setdefault(r.identity, set()).add(r.status)
    assert by_id["revenue.row_funds_total"] == {"pass"}
    # the older template's identity (财政拨款 as one column) does not misfire here
    assert by_id["revenue.row_sources"] == {"not_applicable"}

    doc, report = check_text(_fund_split_revenue("12.00"))
    failing = {r.identity for r in report.findings()}
    assert "revenue.row_funds_total" in failing
    d = max((r.diagnosis for r in report.findings() if r.diagnosis), key=lambda d: d.explains)
    assert (d.table, d.row, d.column, d.fix) == ("revenue", "2080299", "gov_fund", Decimal("100000.00"))


def _three_public_across(rows: list[list[str]]) -> str:
    """A 三公 table printed across: the kinds are columns, 公务用车 split under its own header."""
    t = "\t"
    head = [["项目", "合计", "因公出国（境）费", "公务用车购置及运行费", "", "", "公务接待费"],
            ["", "", "", "小计", "公务用车购置费", "公务用车运行费", ""]]
    return "\n".join(["某县民政局2025年部门预算公开", "", "表7 一般公共预算“三公”经费支出表", "单位：万元",
                      *(t.join(r) for r in head + rows)]) + "\n"


def test_three_public_printed_across_becomes_rows_of_kinds():
    doc, report = check_text(_three_public_across([["", "3.50", "0.00", "2.00", "0.00", "2.00", "1.50"]]))
    got = {(r.id, c.column): c.value for r in doc.table("three_public").rows for c in r.cells}
    assert got == {("total", "amount"): Decimal("35000.00"), ("overseas", "amount"): Decimal("0.00"),
                   ("vehicle", "amount"): Decimal("20000.00"), ("vehicle.purchase", "amount"): Decimal("0.00"),
                   ("vehicle.operation", "amount"): Decimal("20000.00"),
                   ("reception", "amount"): Decimal("15000.00")}
    statuses = {(r.identity, r.status) for r in report.results if r.table == "three_public"}
    assert {("three_public.total", "pass"), ("three_public.vehicle", "pass")} <= statuses
    assert not table_findings(report)
    # a row per figure (预算数 / 决算数), and a slip in one of them, found and located
    doc, report = check_text(_three_public_across([["预算数", "3.50", "0.00", "2.00", "0.00", "2.00", "1.50"],
                                                   ["决算数", "3.30", "0.00", "1.90", "0.00", "1.90", "1.40"]]))
    got = {(r.id, c.column): c.value for r in doc.table("three_public").rows for c in r.cells}
    assert got[("total", "budget")] == Decimal("35000.00") and got[("total", "final")] == Decimal("33000.00")
    assert got[("reception", "final")] == Decimal("14000.00") and not table_findings(report)
    doc, report = check_text(_three_public_across([["", "3.50", "0.00", "2.00", "0.00", "2.00", "1.60"]]))
    assert {r.identity for r in table_findings(report)} == {"three_public.total"}


def test_basic_expenditure_by_部门经济分类_codes():
    """Header words 部门经济分类科目编码/名称 name the code and label columns (not a code group)."""
    t = "\t"
    rows = [["部门经济分类科目编码", "部门经济分类科目名称", "合计", "人员经费", "公用经费"],
            ["", "合计", "100.00", "90.00", "10.00"],
            ["301", "工资福利支出", "85.00", "85.00", ""], ["30101", "基本工资", "50.00", "50.00", ""],
            ["30102", "津贴补贴", "35.00", "35.00", ""], ["302", "商品和服务支出", "10.00", "", "10.00"],
            ["30201", "办公费", "10.00", "", "10.00"], ["303", "对个人和家庭的补助", "5.00", "5.00", ""],
            ["30302", "退休费", "5.00", "5.00", ""]]
    text = "\n".join(["某县民政局2025年部门预算公开", "", "表6 一般公共预算基本支出表", "单位：万元",
                      *(t.join(r) for r in rows)]) + "\n"
    doc, report = check_text(text)
    table = doc.table("general_budget_basic_expenditure")
    assert [(r.id, r.label, r.suspect) for r in table.rows][:3] == [
        ("total", "合计", False), ("301", "工资福利支出", False), ("30101", "基本工资", False)]
    assert not any(r.suspect for r in table.rows) and not table_findings(report)
    assert sum(r.status == "pass" for r in report.results) >= 10
    doc, report = check_text(text.replace("35.00\t35.00", "35.00\t36.00"))
    d = max((r.diagnosis for r in table_findings(report) if r.diagnosis), key=lambda d: d.explains)
    assert (d.row, d.column, d.fix) == ("30102", "personnel", Decimal("350000.00"))


def test_assets_rows_of_other_templates():
    t = "\t"
    rows = [["项目", "数量（辆、台、套）", "价值"], ["合计", "", "120.00"], ["车辆", "2", "40.00"],
            ["单价50万元以上的通用设备", "0", "0.00"], ["房屋", "", "80.00"]]
    text = "\n".join(["某县民政局2025年部门预算公开", "", "表12 国有资产占用情况表", "单位：万元",
                      *(t.join(r) for r in rows)]) + "\n"
    doc, report = check_text(text)
    assert [(r.id, r.suspect) for r in doc.table("assets").rows] == [
        ("total", False), ("vehicles", False), ("equipment_over_threshold", False), ("buildings", False)]
    assert not table_findings(report)
    doc, report = check_text(text.replace("80.00", "85.00"))
    assert table_findings(report)


def test_operating_costs_listed_by_item():
    """机关运行经费 listed by economic item: standard names get their codes, the table's own
    total named in full is the total, a non-standard item is kept as a suspect row."""
    t = "\t"
    rows = [["项目", "预算数"], ["机关运行经费合计", "10.00"], ["1.办公费", "4.00"], ["2.水电费", "3.00"],
            ["3.差旅费", "3.00"]]
    text = "\n".join(["某县民政局2025年部门预算公开", "", "表11 机关运行经费表", "单位：万元",
                      *(t.join(r) for r in rows)]) + "\n"
    doc, _ = check_text(text)
    got = [(r.id, r.suspect) for r in doc.table("operating_costs").rows]
    assert got == [("total", False), ("30201", False), ("suspect.3", True), ("30211", False)]


def test_prose_amount_whose_table_cell_is_blank_is_insufficient_not_a_fail():
    """A blank (or unread) table cell is no evidence against the prose, and no fix may propose
    rewriting the prose number to zero."""
    name = "001_e48c9036102b6734.txt"
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    doc, report = check_text(text)
    hit = next(r for r in report.results if r.identity == "narrative.amount" and r.status == "pass"
               and r.terms[0].value and len(r.terms) == 2 and r.terms[1].kind == "cell")
    cell = hit.terms[1]
    start, end = cell.span.start, cell.span.end
    assert text[start:end].strip() == cell.printed.strip()
    blanked = text[:start] + " " * (end - start) + text[end:]
    _, after = check_text(blanked)
    again = [r for r in after.results if r.identity == "narrative.amount" and r.binding == hit.binding]
    assert again and all(r.status == "insufficient_data" and r.diagnosis is None for r in again)
    assert not any(r.diagnosis and r.diagnosis.table == "narrative" for r in after.results)


def test_a_failing_sum_over_an_unread_row_is_insufficient_not_a_fail():
    rows = ["一般公共预算支出表", "单位：万元", "科目编码\t科目名称\t合计\t基本支出\t项目支出",
            "\t合计\t100.00\t60.00\t40.00",
            "201\t一般公共服务支出\t100.00\t60.00\t40.00",
            "20101\t人大事务\t100.00\t60.00\t40.00",
            "2010101\t行政运行\t60.00\t60.00\t",
            "\t无法识别的一行\t40.00\t\t40.00"]  # a row without code or known name: suspect
    doc, report = check_text("某县人大常委会2026年部门预算\n\n" + "\n".join(rows) + "\n")
    t = doc.table("general_budget_expenditure")
    assert any(r.suspect for r in t.rows)
    sums = [r for r in report.results if r.identity == "coded.hierarchy" and r.binding.get("parent") == "20101"]
    # 合计 and 项目支出 miss the unread 40.00: no verdict; 基本支出 adds up without it: a pass
    assert {r.binding["col"]: r.status for r in sums} == {
        "total": "insufficient_data", "basic": "pass", "project": "insufficient_data"}
    assert all(r.diagnosis is None for r in sums)
    assert not [r for r in report.results if r.status == "fail" and r.table == "general_budget_expenditure"]


def test_every_column_the_extractor_writes_is_one_the_checks_read():
    """A column id no identity reads is a value nobody reconciles (the old `budget` of 三公):
    walk the columns of every seed table and of the real-PDF gold documents when present."""
    from structurer.checks.narrative import load_map

    catalog = load_catalog()
    read: dict[str, set[str]] = {}
    every_col: set[str] = set()  # tables with an identity over each of their columns
    for ident in catalog:
        refs = [t.ref for t in (*ident.expr.left, *ident.expr.right)]
        for table in ident.tables:
            if "col" in ident.for_each and not ident.cols:
                every_col.add(table)
            for ref in refs:
                for t in ref.table or (table,):
                    read.setdefault(t, set()).update(ref.col)
            read.setdefault(table, set()).update(ident.cols or ())
    for refs in load_map()[0].values():
        for ref in refs:
            for t in ref.table or ():
                read.setdefault(t, set()).update(ref.col)
    unread = set()
    for name in SEEDS:
        for t in extracted(name).tables:
            if t.id in every_col:
                continue
            for c in t.columns:
                if c not in read.get(t.id, set()):
                    unread.add((t.id, c))
    # descriptive columns of item tables: counted and priced, or the whole budget of the
    # project an item belongs to (repeated per item), not summed
    assert not {u for u in unread if u[1] not in ("quantity", "unit_price", "project_budget")}, sorted(unread)
