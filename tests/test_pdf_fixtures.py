"""Single real PDF pages (tests/fixtures/pdf, sources in its README): header paths, cells in
their columns, page furniture kept out of the rows, and boxes where the values are printed.
Expected values were read off the page images and `pdftotext -layout` / `-bbox`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from structurer.ingest import read_source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pdf"
SPLIT_CODES = "ruled_two_row_header_split_codes.pdf"
CONTINUED = "continued_without_header.pdf"
RUNNING_HEAD = "running_head_page_number.pdf"
BRACKETED = "bracketed_codes_in_name_cell.pdf"


@lru_cache(maxsize=None)
def source(name: str):
    return read_source(FIXTURES / name)


def rows(name: str) -> list[list[str]]:
    """Table lines (header and rows) as cells."""
    return [ln.split("\t") for ln in source(name).lines if "\t" in ln]


def row(name: str, label: str) -> list[str]:
    hits = [r for r in rows(name) if label in r]
    assert len(hits) == 1, (label, hits)
    return hits[0]


def box_at(name: str, line_cells: list[str], col: int):
    """The box of cell `col` of the table line whose cells are `line_cells`."""
    src = source(name)
    k = src.lines.index("\t".join(line_cells))
    start = src.line_starts[k] + sum(len(c) + 1 for c in line_cells[:col])
    hits = [b for b in src.boxes if b.start == start]
    assert len(hits) == 1, (line_cells[col], hits)
    return hits[0]


def test_fixtures_are_small_single_pages():
    for name in (SPLIT_CODES, CONTINUED, RUNNING_HEAD, BRACKETED):
        assert (FIXTURES / name).stat().st_size < 150_000
        assert {b.page for b in source(name).boxes} == {1}


# ---------------------------------------------------------------- split codes, merged header

def test_split_codes_header_paths():
    head = rows(SPLIT_CODES)[0]
    assert len(head) == 13  # 类 款 项 功能科目 合计, two under 本级财政拨款, six more
    levels = [cell.split("›") for cell in head]
    assert [lv[0] for lv in levels[:5]] == ["类", "款", "项", "功能科目", "合计"]
    assert levels[5][:2] == ["本级财政拨款", "金额"]
    assert levels[6][:2] == ["本级财政拨款", "其中:经费拨款"]
    assert [lv[0] for lv in levels[7:]] == ["财政专户管理事业收入", "事业单位经营服务收入", "上级补助收入",
                                            "其它收入", "事业收入", "上年结转"]


def test_split_codes_rows():
    empty6 = [""] * 6
    assert row(SPLIT_CODES, "行政运行") == ["201", "40", "01", "行政运行", "1,517.95", "1,517.95", "1,517.95"] + empty6
    assert row(SPLIT_CODES, "信访事务") == ["", "40", "", "信访事务", "1,935.36", "1,935.36", "1,935.36"] + empty6
    assert row(SPLIT_CODES, "一般公共服务支出") == ["201", "", "", "一般公共服务支出"] + ["1,935.36"] * 3 + empty6
    assert row(SPLIT_CODES, "合计") == ["", "", "", "合计"] + ["1,935.36"] * 3 + empty6


def test_split_codes_boxes():
    r = row(SPLIT_CODES, "信访业务")
    # pdftotext -bbox: 信访业务 x 150.75 top 258.43; 417.41 x 304.50 / 379.50 / 447.75
    for col, x in ((3, 150.75), (4, 304.5), (5, 379.5), (6, 447.75)):
        b = box_at(SPLIT_CODES, r, col)
        assert b.page == 1 and abs(b.x0 - x) < 2 and abs(b.top - 258.43) < 2


# ---------------------------------------------------------------- continued, no header

def test_continued_rows_without_header_keep_labels_and_first_amounts():
    labels = [r[0] for r in rows(CONTINUED)]
    assert labels == ["行政事业单位医疗", "行政单位医疗", "事业单位医疗", "城乡社区支出",
                      "城市基础设施配套费安排的支出", "城市公共设施", "资源勘探工业信息等支出",
                      "工业和信息产业", "其他工业和信息产业支出"]
    assert [r[1] for r in rows(CONTINUED)] == ["8,030.63", "7,813.14", "217.49", "7,600.00", "7,600.00",
                                               "7,600.00", "2,448.58", "2,448.58", "2,448.58"]
    assert "23" not in source(CONTINUED).lines  # the bare page number under the table


def test_continued_rows_keep_every_ruled_column():
    # eight columns between the page's vertical rules; values stand in columns 2, 3 and 5
    assert row(CONTINUED, "城乡社区支出") == ["城乡社区支出", "7,600.00", "", "", "7,600.00", "", "", ""]
    assert row(CONTINUED, "行政单位医疗") == ["行政单位医疗", "7,813.14", "7,813.14", "", "", "", "", ""]


def test_continued_boxes():
    r = row(CONTINUED, "事业单位医疗")
    # pdftotext -bbox: 217.49 at x 416.65 and 483.10, top 71.58
    assert abs(box_at(CONTINUED, r, 1).x0 - 416.65) < 2 and abs(box_at(CONTINUED, r, 1).top - 71.58) < 2
    assert abs(box_at(CONTINUED, r, 2).x0 - 483.10) < 2
    r = row(CONTINUED, "城市公共设施")
    second = box_at(CONTINUED, r, len(r) - 1 - r[::-1].index("7,600.00"))
    assert abs(second.x0 - 592.55) < 2 and abs(second.top - 119.88) < 2


# ---------------------------------------------------------------- running head, page number

def test_running_head_header_paths_and_rows():
    head = rows(RUNNING_HEAD)[0]
    assert head == ["部门预算支出经济分类科目›科目编码", "部门预算支出经济分类科目›科目名称",
                    "本年一般公共预算基本支出›合计", "本年一般公共预算基本支出›人员经费",
                    "本年一般公共预算基本支出›公用经费"]
    assert row(RUNNING_HEAD, "合计") == ["", "合计", "4,312.17", "3,916.57", "395.60"]
    assert row(RUNNING_HEAD, "津贴补贴") == ["30102", "津贴补贴", "1,300.77", "1,300.77", ""]
    assert row(RUNNING_HEAD, "水费") == ["30205", "水费", "0.50", "", "0.50"]
    assert row(RUNNING_HEAD, "对个人和家庭的补助") == ["303", "对个人和家庭的补助", "331.87", "331.87", ""]
    assert row(RUNNING_HEAD, "其他对个人和家庭的补助") == ["30399", "其他对个人和家庭的补助", "9.00", "9.00", ""]
    assert len(rows(RUNNING_HEAD)) == 1 + 1 + 30  # header, 合计, 30 coded rows


def test_running_head_furniture_not_in_rows():
    for cells in rows(RUNNING_HEAD):
        line = "".join(cells)
        assert "年度部门预算公开" not in line and "公开08表" not in line.replace(" ", "")
        assert not {"- 16 -", "16", "-16-"} & set(cells)
    assert "- 16 -" not in source(RUNNING_HEAD).text


def test_running_head_boxes():
    r = row(RUNNING_HEAD, "津贴补贴")
    # pdftotext -bbox: 30102 x 36.70, 1,300.77 x 341.55 and 440.25, all top 218.63
    for col, x in ((0, 36.7), (2, 341.55), (3, 440.25)):
        b = box_at(RUNNING_HEAD, r, col)
        assert b.page == 1 and abs(b.x0 - x) < 2 and abs(b.top - 218.63) < 2


# ---------------------------------------------------------------- bracketed codes

def test_bracketed_codes_header_and_rows():
    assert rows(BRACKETED)[0] == ["功能科目名称", "一般公共预算支出›小计", "一般公共预算支出›其中：基本支出",
                                  "一般公共预算支出›项目支出"]
    assert row(BRACKETED, "合计") == ["合计", "7,651.71", "6,146.33", "1,505.38"]
    assert row(BRACKETED, "[2200507]气象信息传输及管理") == ["[2200507]气象信息传输及管理", "709.94", "0.00", "709.94"]
    assert row(BRACKETED, "[22102]住房改革支出") == ["[22102]住房改革支出", "1,711.04", "1,711.04", "0.00"]
    assert len(rows(BRACKETED)) == 1 + 1 + 23


def test_bracketed_furniture_not_in_rows():
    for cells in rows(BRACKETED):
        assert not {"表5", "- 10 -", "10"} & set(cells)
    assert "表5" not in source(BRACKETED).lines and "- 10 -" not in source(BRACKETED).text


def test_bracketed_boxes():
    r = row(BRACKETED, "[2200501]行政运行")
    # pdftotext -bbox: the name at x 67.80, 2,254.56 at x 409.80 and 583.50, top 401.95
    for col, x in ((0, 67.8), (1, 409.8), (2, 583.5)):
        b = box_at(BRACKETED, r, col)
        assert b.page == 1 and abs(b.x0 - x) < 2 and abs(b.top - 401.95) < 2
