"""Chunking along the segmentation, and grounding of printed texts in cited lines."""
from __future__ import annotations

import re
from decimal import Decimal

from conftest import EXAMPLES
from structurer.llm.chunking import ChunkLimits, chunk_document, table_chunks
from structurer.llm.grounding import Locator, Scope, parse_number
from structurer.pipeline import prepare


def _prep(text, tmp_path, name="doc.txt"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return prepare(p)


def test_one_chunk_per_table_merged_over_pages_without_repeated_page_headers():
    prep = prepare(EXAMPLES / "000_ce6cab5f862a266e.txt")
    chunks = chunk_document(prep.layout, prep.seg)
    tables = [c for c in chunks if c.kind == "table"]
    assert len({c.section for c in tables}) == len(tables)  # one call per table
    exp = next(c for c in tables if c.section == "expenditure")
    assert exp.text.count("科目编码") == 1  # the second page's header is not repeated
    numbered = [ln for ln in exp.text.splitlines() if re.match(r"^\d+\|", ln)]
    assert any(ln.startswith("192|") for ln in numbered) and any(ln.startswith("209|") for ln in numbered)
    for ln in numbered:  # document line numbers
        n, text = ln.split("|", 1)
        assert "".join(text.split()) == prep.layout.lines[int(n) - 1].compact
    # empty tables (a note says so, nothing printed) are not sent; narrative and performance separately
    assert "gov_fund_expenditure" not in {c.section for c in tables}
    assert {c.kind for c in chunks} == {"table", "narrative", "performance"}
    assert not any(c.kind == "table" and c.sections[0].kind != "table" for c in chunks)


def test_long_table_is_split_by_row_groups_with_the_header_repeated():
    prep = prepare(EXAMPLES / "003_fd949bb5025c67e5.txt")
    sec = next(s for s in prep.seg.tables() if s.id == "general_budget_basic_expenditure")
    whole = table_chunks(prep.layout, sec, ChunkLimits())
    parts = table_chunks(prep.layout, sec, ChunkLimits(max_lines=10, max_chars=6000))
    assert len(whole) == 1 and len(parts) >= 3
    head = whole[0].header
    rows = [g for c in parts for g in c.groups if g not in c.header]
    assert rows == [g for g in whole[0].groups if g not in head]  # every row once, in order
    for c in parts:
        assert c.header == head and c.text.startswith("header:") and f"part {c.part}/{len(parts)}" in c.name
        first = [g for g in c.groups if g not in c.header][0]
        text = prep.layout.lines[first[0]].norm.text
        assert text.lstrip()[:3].isdigit() or "合计" in text  # cut before a record start


def test_one_cell_per_line_blocks_are_shown_as_rows(tmp_path):
    text = ("2023年部门预算\n\n部门政府采购预算表\n单位：万元\n\n\t项目名称\n\t数量\n\t金额\n\n"
            "\t复印纸\n\t10\n\t0.20\n\n\t电脑\n\t\n\t5.00\n")
    prep = _prep(text, tmp_path)
    chunks = [c for c in chunk_document(prep.layout, prep.seg) if c.kind == "table"]
    assert chunks
    rows = [ln for ln in chunks[0].text.splitlines() if re.match(r"^\d+\|", ln)]
    assert rows[0].split("|", 1)[1].split("\t") == ["复印纸", "10", "0.20"]
    assert rows[1].split("|", 1)[1].split("\t") == ["电脑", "", "5.00"]  # the empty cell kept
    groups = chunks[0].group_of()
    n = int(rows[0].split("|")[0])
    assert groups[n] == groups[n + 2]  # citing any line of the block cites the block


def test_narrative_without_amounts_is_not_sent(tmp_path):
    text = ("2023年部门预算\n一、部门职责\n负责本地区医疗保障工作。\n二、收支情况\n2023年收入总计100.00万元，支出总计100.00万元。\n")
    prep = _prep(text, tmp_path)
    narr = [c for c in chunk_document(prep.layout, prep.seg) if c.kind == "narrative"]
    assert len(narr) == 1 and "负责本地区" not in narr[0].text and "100.00万元" in narr[0].text


# --------------------------------------------------------------------------- grounding

def _locator(tmp_path, text):
    prep = _prep(text, tmp_path)
    return prep, Locator(prep.layout)


def test_numbers_are_found_after_normalization_and_whole(tmp_path):
    prep, loc = _locator(tmp_path, "1\t合计\t681002 00.00\t341800 0.00\n2\t２,００４.８９\t12004.89\n")
    assert loc.locate("68100200.00", [0]) is not None  # broken by a space
    r = loc.locate("2,004.89", [1])  # full-width digits, thousands separator
    assert r and loc.printed(r) == "２,００４.８９"
    assert loc.locate("2004.89", [1]) is not None  # separator optional
    assert loc.locate("004.89", [1]) is None  # not inside a longer number
    assert loc.locate("2004.8", [1]) is None
    assert loc.locate("68100200.00", [1]) is None  # not on the cited line


def test_a_number_cut_over_two_lines_is_found_in_pieces(tmp_path):
    prep, loc = _locator(tmp_path, "7\t2101201\t财政对职\t696000.\t\t696000.\n页眉\n\t\t工基本医疗保险基金的补助\t00\t\t00\n")
    r = loc.locate("696000.00", [0, 2])
    assert r is not None and len(r) == 2 and loc.printed(r) == "696000.\n00"
    assert loc.locate("696000.00", [0]) is None


def test_scope_checks_value_against_printed_text_and_cited_lines(tmp_path):
    from structurer.llm.chunking import Chunk

    prep, loc = _locator(tmp_path, "部门预算支出总表\n单位：万元\n1\t合计\t4,739.01\n")
    chunk = Chunk("table", "expenditure", "t", "万元", [[0], [1], [2]])
    scope = Scope(chunk, prep.layout, unit="万元")
    assert scope.check_number("4,739.01", Decimal("4739.01"), [3], "x")[0] is None
    err = scope.check_number("4,739.01", Decimal("47390100"), [3], "x")[0]
    assert "does not equal the printed text" in err and "i.e. 4739.01" in err
    assert "not printed on line 2" in scope.check_number("4,739.01", Decimal("4739.01"), [2], "x")[0]
    assert "not in this excerpt" in scope.check_number("4,739.01", Decimal("4739.01"), [9], "x")[0]
    assert parse_number("1 234.5") == Decimal("1234.5") and parse_number("abc") is None
