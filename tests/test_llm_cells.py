"""Table chunks shown to the model as a grid (cell ids, one header path per column) and
values grounded on the cell they cite, through the real clients over HTTP against the
in-process OpenAI-compatible server (tests/openai_server.py)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import EXAMPLES, GOLD, extracted
from openai_server import GoldModel, OpenAIServer, settings_for
from render_seed import render_pdf
from structurer.llm.backend import extract_with_llm
from structurer.llm.chunking import chunk_document
from structurer.pipeline import extract_prepared, prepare

# A table as ingestion writes it: a line of column header paths, then one line per row
# with one cell per column (empty cells kept). 15.26 is printed twice on the last row.
TEXT = "\n".join([
    "某部门2024年部门预算", "部门支出总表", "单位:万元",
    "科目编码\t科目名称\t合计\t基本支出\t项目支出›其他运转类\t项目支出›特定目标类",
    "201\t一般公共服务支出\t1,234.56\t1,000.00\t200.00\t34.56",
    "20101\t人大事务\t560.00\t500.00\t\t60.00",
    "20102\t政协事务\t15.26\t15.26\t\t",
]) + "\n"
COLUMNS = {3: "total", 4: "basic", 5: "project.other_operating", 6: "project.specific_target"}


def _doc_file(tmp_path, text=TEXT):
    p = tmp_path / "doc.txt"
    p.write_text(text, encoding="utf-8")
    return p


def grid_answer(req, change=None):
    """A correct model: every amount of the shown rows, each citing its cell. `change(row
    code, column, cell answer)` corrupts an answer."""
    rows = []
    for n, text in req.numbered_lines().items():
        cells = text.split("\t")
        out = []
        for k, col in COLUMNS.items():
            if k <= len(cells) and cells[k - 1].strip():
                c = {"col": col, "text": cells[k - 1], "value": cells[k - 1].replace(",", ""), "cell": f"r{n}c{k}"}
                out.append(change(cells[0], col, c) if change else c)
        rows.append({"id": cells[0], "label": cells[1], "lines": [n], "cells": out})
    return {"rows": rows}


def _cells(doc):
    return {(t.id, r.id, c.column): c for t in doc.tables for r in t.rows if not r.suspect for c in r.cells}


def _line(text, n):
    return sum(len(x) + 1 for x in text.split("\n")[:n - 1])  # offset of line n (1-based)


# --------------------------------------------------------------------------- the prompt

def test_table_prompt_shows_the_grid_with_cell_ids_and_header_paths_once(tmp_path):
    with OpenAIServer(grid_answer) as srv:
        extract_with_llm(prepare(_doc_file(tmp_path)), "llm", settings=settings_for(srv, tmp_path))
        req = srv.requests[0]
    user = req.user
    assert user.startswith('Table expenditure "部门支出总表"')
    assert "cell id r<line>c<k>" in user and "(e.g. r5c3 = 1,234.56)" in user
    for k, path in enumerate(["科目编码", "科目名称", "合计", "基本支出", "项目支出›其他运转类", "项目支出›特定目标类"], 1):
        assert f"\nc{k}: {path}\n" in user
    assert user.count("项目支出›其他运转类") == 1  # once per column, not again as a header line
    shown = req.numbered_lines()
    assert sorted(shown) == [5, 6, 7]  # the rows under their document line numbers
    assert shown[6] == "20101\t人大事务\t560.00\t500.00\t\t60.00"  # the empty cell kept
    assert shown[7] == "20102\t政协事务\t15.26\t15.26\t\t"  # trailing empty cells kept too
    assert user.index("grid:") < user.index("c6: 项目支出›特定目标类") < user.index("\nrows:\n") < user.index("5|201")


def test_a_table_not_laid_out_in_cells_is_shown_as_lines(tmp_path):
    text = "\n".join(["某部门2024年部门预算", "部门支出总表", "单位:万元", "科目编码 科目名称 合计 基本支出 项目支出",
                      "201 一般公共服务支出 1,234.56 1,000.00 234.56", "20101 人大事务 560.00 500.00 60.00"]) + "\n"
    prep = prepare(_doc_file(tmp_path, text))
    (table,) = [c for c in chunk_document(prep.layout, prep.seg) if c.kind == "table"]
    assert table.grid is None and "grid:" not in table.text
    assert "\n5|201 一般公共服务支出 1,234.56 1,000.00 234.56\n" in table.text


def test_text_dump_grid_keeps_its_header_lines_as_text(tmp_path):
    """Header lines of a text dump without header paths are laid out by eye, not by column:
    shown as text, the rows still as a grid with cell ids."""
    text = "\n".join(["某部门2024年部门预算", "部门支出总表", "单位:万元",
                      "科目编码\t科目名称\t合计\t基本支出\t\t项目支出", "\t\t\t人员经费\t公用经费\t",
                      "201\t一般公共服务支出\t1,234.56\t1,000.00\t200.00\t34.56",
                      "20101\t人大事务\t560.00\t500.00\t\t60.00"]) + "\n"
    prep = prepare(_doc_file(tmp_path, text))
    (table,) = [c for c in chunk_document(prep.layout, prep.seg) if c.kind == "table"]
    assert table.grid is not None and not any(table.grid.columns) and "\nc1:" not in table.text
    head = table.text.split("grid:")[0]
    assert "科目编码\t科目名称\t合计\t基本支出\t\t项目支出" in head and "人员经费\t公用经费" in head
    assert table.grid.cell("r6c3")[0].text == "1,234.56" and table.grid.cell("r7c5")[0].text == ""
    assert table.grid.cell("r7c7") == (None, "cell r7c7 is not in this excerpt")


# --------------------------------------------------------------------------- grounding on cells

def test_value_citing_its_cell_gets_that_cells_span(tmp_path):
    with OpenAIServer(grid_answer) as srv:
        prep = prepare(_doc_file(tmp_path))
        doc = extract_with_llm(prep, "llm", settings=settings_for(srv, tmp_path))
    assert doc.warnings == []
    cells = _cells(doc)
    rules = _cells(extracted_text(tmp_path))
    assert {k: (c.value, c.printed, c.span) for k, c in cells.items()} == \
        {k: (c.value, c.printed, c.span) for k, c in rules.items()}
    # the second 15.26 of line 7 is the cited cell c4, not the first match on the line
    total, basic = cells[("expenditure", "20102", "total")], cells[("expenditure", "20102", "basic")]
    start = _line(TEXT, 7) + TEXT.split("\n")[6].rindex("15.26")
    assert (basic.span.start, basic.span.end) == (start, start + 5) and total.span.start < basic.span.start
    assert basic.value == Decimal("152600") and basic.printed == "15.26"


def extracted_text(tmp_path):
    return extract_prepared(prepare(_doc_file(tmp_path)))


def test_wrong_cell_is_sent_back_with_where_the_value_is(tmp_path):
    def wrong(code, col, c):
        if (code, col) == ("20101", "basic"):
            c["cell"] = "r6c3"  # 560.00 is printed there, not 500.00
        return c

    def model(req):
        return grid_answer(req, None if req.reasks else wrong)

    with OpenAIServer(model) as srv:
        doc = extract_with_llm(prepare(_doc_file(tmp_path)), "llm", settings=settings_for(srv, tmp_path))
        reask = srv.requests[1].reasks
    assert any("cell r6c3 prints '560.00', not '500.00'; 500.00 is printed in r6c4" in m for m in reask)
    assert doc.usage.reasks == 1 and doc.warnings == []
    assert _cells(doc)[("expenditure", "20101", "basic")].printed == "500.00"


def test_values_not_in_their_cell_or_not_printed_are_rejected(tmp_path):
    def bad(code, col, c):
        if (code, col) == ("20101", "basic"):
            c["cell"] = "r6c3"  # another cell
        elif (code, col) == ("20101", "project.specific_target"):
            c["cell"] = "r6c5"  # an empty cell
        elif (code, col) == ("201", "project.other_operating"):
            c["cell"] = "r99c5"  # no such cell
        elif (code, col) == ("201", "project.specific_target"):
            del c["cell"]  # no cell, a number printed nowhere
            c.update(text="9,999.00", value="9999.00")
        return c

    with OpenAIServer(lambda req: grid_answer(req, bad)) as srv:
        doc = extract_with_llm(prepare(_doc_file(tmp_path)), "llm", settings=settings_for(srv, tmp_path,
                                                                                        max_reasks=1))
        assert srv.count == 2  # asked, and asked again once
    cells = _cells(doc)
    for key in (("20101", "basic"), ("20101", "project.specific_target"), ("201", "project.other_operating"), ("201", "project.specific_target")):
        assert ("expenditure", *key) not in cells  # flagged, never silently kept
    assert ("expenditure", "20101", "total") in cells and ("expenditure", "201", "total") in cells
    text = "\n".join(doc.warnings)
    assert "cell r6c3 prints '560.00', not '500.00'" in text
    assert "cell r6c5 is empty, not '60.00'" in text
    assert "cell r99c5 is not in this excerpt" in text
    assert "'9,999.00' is not printed on line 5" in text


def test_cell_of_a_value_cut_over_two_lines_is_rejected_but_its_lines_ground_it(tmp_path):
    """Seed 000 prints 9162500.00 cut over lines 159/170 (9162 500. / 00): no single cell
    holds it; cited by its cell it is sent back, cited by its lines it is grounded."""
    gm = GoldModel(GOLD / "000_ce6cab5f862a266e.yaml", tables={"revenue"})
    cited = []

    def model(req):
        out = gm(req)
        for row in out.get("rows", []):
            for c in row["cells"]:
                if len(c.get("lines") or []) == 2 and not req.reasks:
                    c["cell"] = f"r{c['lines'][0]}c4"
                    cited.append(c["cell"])
        return out

    with OpenAIServer(model) as srv:
        doc = extract_with_llm(prepare(EXAMPLES / "000_ce6cab5f862a266e.txt"), "llm",
                               settings=settings_for(srv, tmp_path))
        reasks = [m for r in srv.requests for m in r.reasks]
    assert cited and any("cell r159c4 prints '9162 500.', not '9162500.00'" in m for m in reasks)
    rules = _cells(extracted("000_ce6cab5f862a266e.txt"))
    got = {k: c for k, c in _cells(doc).items() if k[0] == "revenue"}
    assert {k: c.value for k, c in got.items()} == {k: c.value for k, c in rules.items() if k[0] == "revenue"}
    cut = got[("revenue", "2101301", "total")]
    assert (cut.span.line_start, cut.span.line_end, cut.printed) == (159, 170, "9162 500.\n00")


# --------------------------------------------------------------------------- seeds and PDFs

def citing_cells(gm: GoldModel, name: str, counts: dict):
    """The gold model, each value printed on one line of a tab-separated row citing the cell
    the rules read it from (the tab-separated field of the source line) instead of the line."""
    src = (EXAMPLES / f"{name}.txt").read_text(encoding="utf-8")
    starts = [0]
    for ln in src.split("\n"):
        starts.append(starts[-1] + len(ln) + 1)
    spans = {k: c.span for k, c in _cells(extracted(f"{name}.txt")).items()}

    def answer(req):
        out = gm(req)
        table = req.user.split()[1]
        shown = req.numbered_lines()
        for row in out.get("rows", []):
            for c in row["cells"]:
                counts["values"] += 1
                span = spans.get((table, row["id"], c["col"]))
                n = span.line_start if span else 0
                if not span or span.line_end != n or n not in shown or "\t" not in src.split("\n")[n - 1]:
                    continue
                c["cell"] = f"r{n}c{src[starts[n - 1]:span.start].count(chr(9)) + 1}"
                c.pop("lines", None)
                counts["cited"] += 1
                counts.setdefault("keys", set()).add((table, row["id"], c["col"]))
        return out
    return answer


@pytest.mark.parametrize("name", ["000_ce6cab5f862a266e", "003_fd949bb5025c67e5", "004_397ecf54ea00b92f"])
def test_seed_values_citing_cells_give_the_rules_cells_and_spans(tmp_path, name):
    """Every cell of the seeds' tab-separated tables cited by id grounds to the value, printed
    text and span the rules read (values printed twice on a line included)."""
    counts = {"values": 0, "cited": 0}
    gm = GoldModel(GOLD / f"{name}.yaml")
    with OpenAIServer(citing_cells(gm, name, counts)) as srv:
        doc = extract_with_llm(prepare(EXAMPLES / f"{name}.txt"), "llm", settings=settings_for(srv, tmp_path))
        reasks = sum(len(r.reasks) for r in srv.requests)
    assert counts["cited"] >= 0.9 * counts["values"] > 0 and reasks == 0 and doc.warnings == []
    rules, got = _cells(extracted(f"{name}.txt")), _cells(doc)
    assert {k: (c.value, c.printed) for k, c in got.items()} == {k: (c.value, c.printed) for k, c in rules.items()}
    assert {k: got[k].span for k in counts["keys"]} == {k: rules[k].span for k in counts["keys"]}


PDF_TEXT = "\n".join([
    "某部门2024年部门预算", "部门支出总表", "单位:万元",
    "科目编码\t科目名称\t合计\t基本支出\t项目支出\t",
    "\t\t\t\t其他运转类\t特定目标类",
    "201\t一般公共服务支出\t1,234.56\t1,000.00\t200.00\t34.56",
    "20101\t人大事务\t560.00\t500.00\t\t60.00",
    "20102\t政协事务\t15.26\t15.26\t\t",
]) + "\n"


def test_pdf_value_citing_its_cell_gets_that_cells_page_and_box(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(render_pdf(PDF_TEXT, merge=True))  # a merged two-level header
    prep = prepare(pdf)
    with OpenAIServer(grid_answer) as srv:
        doc = extract_prepared(prep, "llm", settings=settings_for(srv, tmp_path))
        user = srv.requests[0].user
    assert "\nc5: 项目支出›其他运转类\n" in user and "\nc6: 项目支出›特定目标类\n" in user
    cells = _cells(doc)
    rules = _cells(extract_prepared(prep))
    assert len(cells) == 9 and doc.warnings == []
    assert {k: (c.value, c.span, c.where) for k, c in cells.items()} == \
        {k: (c.value, c.span, c.where) for k, c in rules.items()}
    total, basic = cells[("expenditure", "20102", "total")], cells[("expenditure", "20102", "basic")]
    assert basic.where.page == 1 and basic.where.box[0] > total.where.box[2]  # the cell to the right
