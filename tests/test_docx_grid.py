"""DOCX tables in the PDF grid's shape: merged header rows (gridSpan, vMerge) become one
line of column paths, data rows one tab-separated cell per grid column, and the rules read
the cells by those paths. Every DOCX is built here with python-docx."""
from __future__ import annotations

import io

import docx
import pytest

from structurer.ingest import read_bytes
from structurer.pipeline import extract_prepared, prepare

TITLE, UNIT = "2026年一般公共预算支出表", "单位：万元"


def _docx(rows, merges=(), before=(TITLE, UNIT)) -> bytes:
    """One table of `rows`; `merges`: ((r0, c0), (r1, c1)) corner pairs merged by cell.merge."""
    document = docx.Document()
    for text in before:
        document.add_paragraph(text)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    for a, b in merges:
        table.cell(*a).merge(table.cell(*b))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _cells(tmp_path, data: bytes) -> dict[str, dict[str, str]]:
    """Rows of the one table the rules find: {row id: {column: value in 元}}."""
    path = tmp_path / "budget.docx"
    path.write_bytes(data)
    doc = extract_prepared(prepare(path))
    assert [t.id for t in doc.tables] == ["general_budget_expenditure"]
    return {r.id: {c.column: str(c.value) for c in r.cells} for r in doc.tables[0].rows}


# 科目编码 | 科目名称 | 合计 | 基本支出 (人员经费, 公用经费) | 项目支出: the codes, names,
# 合计 and 项目支出 merged down over both header rows, 基本支出 across its two columns.
TWO_ROW = [
    ["科目编码", "科目名称", "合计", "基本支出", "", "项目支出"],
    ["", "", "", "人员经费", "公用经费", ""],
    ["", "合计", "150.00", "80.00", "20.00", "50.00"],
    ["208", "社会保障和就业支出", "100.00", "80.00", "", "20.00"],
    ["20805", "行政事业单位养老支出", "100.00", "80.00", "", "20.00"],
    ["210", "卫生健康支出", "50.00", "", "20.00", "30.00"],
]
TWO_ROW_MERGES = [((0, 3), (0, 4))] + [((0, c), (1, c)) for c in (0, 1, 2, 5)]


def test_two_row_header_becomes_one_line_of_paths():
    lines = read_bytes(_docx(TWO_ROW, TWO_ROW_MERGES), "t.docx").lines
    assert lines == [
        TITLE, UNIT,
        "科目编码\t科目名称\t合计\t基本支出›人员经费\t基本支出›公用经费\t项目支出",
        "\t合计\t150.00\t80.00\t20.00\t50.00",
        "208\t社会保障和就业支出\t100.00\t80.00\t\t20.00",
        "20805\t行政事业单位养老支出\t100.00\t80.00\t\t20.00",
        "210\t卫生健康支出\t50.00\t\t20.00\t30.00",
    ]


def test_two_row_header_cells_in_their_columns(tmp_path):
    assert _cells(tmp_path, _docx(TWO_ROW, TWO_ROW_MERGES)) == {
        "total": {"total": "1500000.00", "basic.personnel": "800000.00", "basic.public": "200000.00",
                  "project": "500000.00"},
        "208": {"total": "1000000.00", "basic.personnel": "800000.00", "project": "200000.00"},
        "20805": {"total": "1000000.00", "basic.personnel": "800000.00", "project": "200000.00"},
        "210": {"total": "500000.00", "basic.public": "200000.00", "project": "300000.00"},
    }


# Three header rows under a year: the prior year's column stands beside this year's group,
# whose 基本支出 splits again. Read row by row, the header words would take 2025年预算数
# for a total column of its own.
THREE_ROW = [
    ["科目编码", "科目名称", "2025年预算数", "2026年预算数", "", "", ""],
    ["", "", "", "合计", "基本支出", "", "项目支出"],
    ["", "", "", "", "人员经费", "公用经费", ""],
    ["", "合计", "140.00", "150.00", "80.00", "20.00", "50.00"],
    ["208", "社会保障和就业支出", "90.00", "100.00", "80.00", "", "20.00"],
    ["210", "卫生健康支出", "50.00", "50.00", "", "20.00", "30.00"],
]
THREE_ROW_MERGES = [((0, 3), (0, 6)), ((1, 4), (1, 5)), ((1, 3), (2, 3)), ((1, 6), (2, 6))] \
    + [((0, c), (2, c)) for c in (0, 1, 2)]


def test_three_row_header_paths_and_cells(tmp_path):
    data = _docx(THREE_ROW, THREE_ROW_MERGES)
    lines = read_bytes(data, "t.docx").lines
    assert lines[2].split("\t") == [
        "科目编码", "科目名称", "2025年预算数", "2026年预算数›合计", "2026年预算数›基本支出›人员经费",
        "2026年预算数›基本支出›公用经费", "2026年预算数›项目支出"]
    assert lines[3:] == ["\t".join(r) for r in THREE_ROW[3:]]
    cells = _cells(tmp_path, data)
    assert cells["total"] == {"total": "1500000.00", "basic.personnel": "800000.00",
                              "basic.public": "200000.00", "project": "500000.00"}
    assert cells["208"] == {"total": "1000000.00", "basic.personnel": "800000.00", "project": "200000.00"}
    assert cells["210"] == {"total": "500000.00", "basic.public": "200000.00", "project": "300000.00"}


def test_header_merged_down_only_has_one_level_and_no_separator():
    rows = [["科目编码", "科目名称", "合计"], ["", "", ""], ["208", "社会保障和就业支出", "10.00"]]
    lines = read_bytes(_docx(rows, [((0, c), (1, c)) for c in range(3)], before=()), "t.docx").lines
    assert lines == ["科目编码\t科目名称\t合计", "208\t社会保障和就业支出\t10.00"]


def test_same_text_in_consecutive_header_rows_is_one_level():
    # 项目支出 written in both rows instead of merged: one cell, one level
    rows = [["科目名称", "基本支出", "", "项目支出"], ["", "人员经费", "公用经费", "项目支出"],
            ["合计", "1.00", "2.00", "3.00"]]
    merges = [((0, 1), (0, 2)), ((0, 0), (1, 0))]
    assert read_bytes(_docx(rows, merges, before=()), "t.docx").lines[0] == \
        "科目名称\t基本支出›人员经费\t基本支出›公用经费\t项目支出"


@pytest.mark.parametrize(("rows", "merges"), [
    # no merged header cell: the rows say all there is
    ([["序号", "项目", "合计"], ["", "", "小计"], ["1", "办公费", "500.00"]], []),
    # rows of a table continued from a previous w:tbl: row labels, not headings
    ([["", "十一、节能环保", ""], ["", "十二、城乡社区支出", ""], ["", "二十一、住房保障支出", "29.01"]],
     [((0, 1), (0, 2))]),
    # a performance form: indicator values above the first amount are no header
    ([["项目名称", "指标", ""], ["", "满意度", "≥90%"], ["合计", "", "35.00"]], [((0, 1), (0, 2))]),
    # an empty, unmerged cell with heading text under it: which cell heads which column is
    # left implicit, so the rows stay as printed for the header words to group
    ([["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"], ["一、本年收入", "1.00", "一、本年支出", "1.00"]],
     [((0, 0), (0, 1))]),
    # no data row at all
    ([["部门", "职责", ""], ["部门", "主要任务", "内容"]], [((0, 1), (0, 2))]),
], ids=["unmerged", "continued", "indicators", "implicit-merge", "no-data"])
def test_rows_without_a_grid_header_stay_as_they_are(rows, merges):
    lines = read_bytes(_docx(rows, merges, before=()), "t.docx").lines
    expected = []
    for r, values in enumerate(rows):
        # a cell merged across keeps its text once, then empty fields (as before)
        if any(a[0] == r and a[0] == b[0] for a, b in merges):
            (a, b), = [(a, b) for a, b in merges if a[0] == r]
            values = values[:a[1] + 1] + [""] * (b[1] - a[1]) + values[b[1] + 1:]
        expected.append("\t".join(values))
    assert lines == expected
