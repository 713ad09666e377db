"""Space-aligned text dumps (`pdftotext -layout` style) go through the layout stage's column
inference; tab-separated dumps pass through as read."""
from __future__ import annotations

from pathlib import Path

import pytest
from respace import display_width, respace

from structurer.grid.textgrid import is_space_aligned, layout_text
from structurer.ingest import read_bytes

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted(p.name for p in (ROOT / "examples").glob("*.txt"))
GOLD = ROOT / "evals" / "gold"


def grid(text: str) -> list[list[str]]:
    return [ln.split("\t") for ln in layout_text(text).split("\n")]


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("seed", SEEDS)
def test_seed_dumps_pass_through_byte_for_byte(seed):
    data = (ROOT / "examples" / seed).read_bytes()
    assert read_bytes(data, seed).text == data.decode("utf-8-sig").replace("\r\n", "\n")


@pytest.mark.parametrize("seed", [s for s in SEEDS if not s.startswith(("001", "002"))])
def test_respaced_seed_is_detected(seed):
    text = respace((ROOT / "examples" / seed).read_text(encoding="utf-8"))
    assert "\t" not in text
    assert is_space_aligned(text)


@pytest.mark.parametrize("seed", SEEDS)
def test_tabs_replaced_by_fixed_spaces_are_not_aligned_columns(seed):
    text = (ROOT / "examples" / seed).read_text(encoding="utf-8").replace("\t", "  ")
    assert not is_space_aligned(text)


def test_prose_with_a_few_wide_gaps_is_not_a_layout():
    prose = "\n".join(["本部门 2024 年预算收入 100.00 万元，比上年增加 5.00 万元。"] * 40
                      + ["联系人：张三   电话：123  传真：456"])
    assert not is_space_aligned(prose)
    assert layout_text(prose) == prose


def test_tab_rows_with_some_aligned_lines_stay_as_read():
    text = "\n".join(["项目\t预算数"] + [f"行{i}\t{i}.00" for i in range(20)]
                     + ["合计      1.00      2.00"] * 3)
    assert layout_text(text) == text


# ---------------------------------------------------------------- hand-written layouts

TABLE = """本部门 2024 年一般公共预算支出如下。
2024年一般公共预算支出表
单位：万元
                                                    2024年预算数
科目编码  科目名称            上年结转      合计    基本支出   项目支出
201       一般公共服务支出                  120.50     80.25      40.25
20101     人大事务                           60.00     60.00
2010101   行政运行                           60.00     60.00
注：无政府性基金预算支出。"""


def test_table_with_an_empty_column_and_a_merged_header():
    lines = layout_text(TABLE).split("\n")
    # running text comes out as its lines, single spaces kept
    assert lines[:3] == ["本部门 2024 年一般公共预算支出如下。", "2024年一般公共预算支出表", "单位：万元"]
    assert lines[-1] == "注：无政府性基金预算支出。"
    # header rows stay rows, each cell in the column under its centre (2024年预算数 is centred
    # over 合计..项目支出, i.e. over 基本支出); the empty 上年结转 column is kept
    assert [ln.split("\t") for ln in lines[3:-1]] == [
        ["", "", "", "", "2024年预算数", ""],
        ["科目编码", "科目名称", "上年结转", "合计", "基本支出", "项目支出"],
        ["201", "一般公共服务支出", "", "120.50", "80.25", "40.25"],
        ["20101", "人大事务", "", "60.00", "60.00", ""],
        ["2010101", "行政运行", "", "60.00", "60.00", ""],
    ]
    # and the rules read the values into their columns (a prior year's column left out)
    from structurer.pipeline import Prepared, extract_prepared

    doc = extract_prepared(Prepared(read_bytes(TABLE.encode("utf-8"), "x.txt")))
    row = doc.table("general_budget_expenditure").row("201")
    assert {c.column: c.printed for c in row.cells} == {"total": "120.50", "basic": "80.25", "project": "40.25"}


# 收入 / 支出 printed centred over two wide columns each: too short to reach the cells below;
# every header cell centred over its column, as pdftotext prints them.
SIDES = "\n".join([
    " " * 12 + "收入" + " " * 28 + "支出",
    " " * 8 + "项目" + " " * 11 + "预算数" + " " * 11 + "项目" + " " * 11 + "预算数",
    "一、一般公共预算拨款   100.00   一、一般公共服务支出    80.00",
    "二、事业收入" + " " * 20 + "二、教育支出" + " " * 12 + "20.00",
    "收入总计" + " " * 15 + "100.00   支出总计" + " " * 15 + "100.00",
])


def test_short_merged_header_over_wide_columns():
    # the layout above is what it claims: columns at the same display positions
    rows = SIDES.split("\n")
    assert display_width(rows[1][:rows[1].index("预算数")]) == display_width(rows[2][:rows[2].index("100")])
    assert is_space_aligned(SIDES)
    assert grid(SIDES) == [
        ["收入", "", "支出", ""],  # each side's word in the column under its centre
        ["项目", "预算数", "项目", "预算数"],
        ["一、一般公共预算拨款", "100.00", "一、一般公共服务支出", "80.00"],
        ["二、事业收入", "", "二、教育支出", "20.00"],
        ["收入总计", "100.00", "支出总计", "100.00"],
    ]


def _cells(text: str, table: str) -> dict[tuple[str, str], str]:
    from structurer.pipeline import Prepared, extract_prepared

    doc = extract_prepared(Prepared(read_bytes(text.encode("utf-8"), "x.txt")))
    return {(r.id, c.column): c.printed for r in doc.table(table).rows for c in r.cells}


def _tab(*parts: str | list[list[str]]) -> str:
    return "\n".join("\n".join("\t".join(r) for r in p) if isinstance(p, list) else p for p in parts) + "\n"


# A dump that prints its third header row shifted left (the cells before it dropped), over a
# column that is empty in every row (资本性支出): re-spaced, that column is gone and the header
# has one word more than the grid has columns.
SHIFTED = _tab("2024年部门支出总体情况表", "单位：万元", [
    ["科目编码", "", "", "单位（科目名称）", "合计", "基本支出", "", "", "", "", "项目支出", "", ""],
    ["", "", "", "", "", "小计", "人员经费", "", "公用经费", "", "小计", "其他运转类", "特定目标类"],
    ["类", "款", "项", "工资福利支出", "对个人和家庭的补助", "商品和服务支出", "", "资本性支出", "", "", "", "", ""],
    ["", "", "", "合计", "130.00", "30.00", "20.00", "2.00", "8.00", "", "100.00", "40.00", "60.00"],
    ["201", "01", "01", "行政运行", "30.00", "30.00", "20.00", "2.00", "8.00", "", "", "", ""],
    ["201", "01", "02", "一般行政管理事务", "100.00", "", "", "", "", "", "100.00", "40.00", "60.00"]])


def test_shifted_header_row_is_read_by_the_columns_of_its_groups():
    spaced = respace(SHIFTED)
    assert is_space_aligned(spaced)
    assert len(grid(spaced)[-1]) == 12  # the all-empty column is not in the grid
    want = {("total", "total"): "130.00", ("total", "basic"): "30.00",
            ("total", "basic.personnel.301"): "20.00", ("total", "basic.personnel.303"): "2.00",
            ("total", "basic.public.302"): "8.00", ("total", "project"): "100.00",
            ("total", "project.other_operating"): "40.00", ("total", "project.specific_target"): "60.00",
            ("2010101", "total"): "30.00", ("2010101", "basic"): "30.00",
            ("2010101", "basic.personnel.301"): "20.00", ("2010101", "basic.personnel.303"): "2.00",
            ("2010101", "basic.public.302"): "8.00", ("2010102", "total"): "100.00",
            ("2010102", "project"): "100.00", ("2010102", "project.other_operating"): "40.00",
            ("2010102", "project.specific_target"): "60.00"}
    assert _cells(SHIFTED, "expenditure") == want
    assert _cells(spaced, "expenditure") == want


def test_header_words_that_do_not_fit_their_columns_keep_word_order():
    from structurer.rules.header_grid import place_leaves

    # a long unknown group title yields stray words (支出, 类, 项目): placing them would put a
    # key word over the amounts, so the word order stands
    rows = [["部门预算支出经济分类项目", "", "机构运行经费支出"], ["科目编码", "科目名称", "合计"]]
    assert place_leaves(rows, ["text", "text", "amount"]) is None
    # one header row per grid, an empty column between name and amounts: each word on its own column
    rows = [["科目编码", "科目名称", "", "合计", "人员经费", "公用经费"]]
    assert place_leaves(rows, ["text", "text", "", "amount", "amount", "amount"]) == (
        ("code",), ("name",), ("empty",), ("total",), ("personnel",), ("public",))


# A summary whose expenditure side is longer: the dump prints its extra rows after a blank line,
# with one field fewer, so re-spaced they sit indented between the columns, and then the totals.
LONGER_SIDE = _tab("2024年部门收支总体情况表", "单位：万元", "", [
    ["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"],
    ["一、一般公共预算", "12,345.67", "一、一般公共服务", "12,285.67"],
    ["其中：财政拨款", "12,345.67", "二、教育", "15.00"],
    ["二、事业收入", "", "三、科学技术", "15.00"],
    ["三、其他收入", "", "四、外交", ""]], "",
    [["", "五、国防", ""], ["", "六、公共安全", ""], ["", "七、文化旅游体育与传媒", ""],
     ["", "八、住房保障支出", "30.00"], ["", "九、预备费", ""]], "",
    [["本年收入合计", "12,345.67", "本年支出合计", "12,345.67"], ["收入总计", "12,345.67", "支出总计", "12,345.67"]],
    "", "三、情况说明", "本部门收入主要来自一般公共预算，支出用于一般公共服务和住房保障。")


def test_label_rows_after_a_blank_line_stay_in_the_table():
    spaced = respace(LONGER_SIDE)
    assert is_space_aligned(spaced)
    lines = layout_text(spaced).split("\n")
    # every row of the longer side is a row of the table, in the column it is printed under
    assert {"\t五、国防\t\t", "\t六、公共安全\t\t", "\t八、住房保障支出\t30.00\t"} <= set(lines)
    assert lines[-2:] == ["三、情况说明", "本部门收入主要来自一般公共预算，支出用于一般公共服务和住房保障。"]
    want = _cells(LONGER_SIDE, "revenue_expenditure_summary")
    assert want[("221", "amount")] == "30.00" and want[("expenditure.grand_total", "amount")] == "12,345.67"
    assert _cells(spaced, "revenue_expenditure_summary") == want


def test_one_space_stays_inside_a_cell_two_split_it():
    text = "\n".join(["名称" + " " * 8 + "金额" + " " * 11 + "备注"] * 2 + [
        "医疗 救助   9162 500. 00   2023 年 新增",
        "行政运行    4.00 4.00      其他",
    ])
    rows = grid(text)
    assert rows[-2] == ["医疗 救助", "9162500.00", "2023 年 新增"]  # a number wrapped in its cell is one amount
    assert rows[-1] == ["行政运行", "4.00 4.00", "其他"]  # two amounts side by side are not glued


def test_pages_split_at_form_feed_and_a_page_number_is_furniture():
    page = "\n".join(["项目          上年数      本年数"]
                     + [f"支出{i}    {i * 7:>6}.00    {i * 13:>6}.50" for i in range(1, 6)])
    text = page + "\n3\f" + page + "\n4"
    out = layout_text(text)
    assert out.split("\n\n")[0].split("\n")[1] == "支出1\t7.00\t13.50"
    assert len(out.split("\n\n")) == 2
    assert not any(ln in ("3", "4") for ln in out.split("\n"))


def test_text_source_keeps_no_boxes():
    src = read_bytes(TABLE.encode("utf-8"), "x.txt")
    assert src.boxes == ()
    assert "201\t一般公共服务支出\t\t120.50\t80.25\t40.25" in src.text


# ---------------------------------------------------------------- re-spaced seeds, scored

def _respaced_scores(tmp_path) -> dict[str, float]:
    from structurer.evaluation.runner import Column, run_eval, select_golds

    for seed in SEEDS:
        (tmp_path / seed).write_text(respace((ROOT / "examples" / seed).read_text(encoding="utf-8")),
                                     encoding="utf-8")
    run = run_eval(select_golds(GOLD, "*.txt"), [Column("rules")], tmp_path)
    return {d: v["cells"]["counts"]["f1"] for d, v in run.data["columns"]["rules"]["docs"].items()}


@pytest.fixture(scope="module")
def respaced_scores(tmp_path_factory):
    return _respaced_scores(tmp_path_factory.mktemp("respaced"))


# Every re-spaced seed scores like its tab dump, 004 included: its dump prints a header row
# shifted left (header words placed by their groups' columns) and a summary's longer side after
# a blank line with one field fewer (label rows indented into the table, leading back to it).
_FLOOR = {"000": 0.98, "003": 0.98, "004": 0.98}


@pytest.mark.parametrize("seed", SEEDS)
def test_respaced_seed_scores_like_the_tab_dump(respaced_scores, seed):
    assert respaced_scores[seed] >= 0.97


@pytest.mark.parametrize("seed", sorted(s for s in SEEDS if s[:3] in _FLOOR))
def test_respaced_seed_floor(respaced_scores, seed):
    assert respaced_scores[seed] >= _FLOOR[seed[:3]]
