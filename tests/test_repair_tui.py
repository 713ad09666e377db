"""The repair TUI driven headlessly with Textual's pilot: a seed with one mutated number, the
suggested fix accepted, the finding gone, saved; the log and the corrected document checked on
disk; undo; editing, document errors, notes, and browsing to a row."""
from __future__ import annotations

import asyncio
import re
import json
from decimal import Decimal

import pytest
from textual.widgets import DataTable, Static

from conftest import EXAMPLES
from structurer.gold import load_gold
from structurer.output import load_document
from structurer.repair.tui import GoldTarget, RepairApp

from seed_pdf import mutated_pdf, one_table_pdf
from test_repair import CELL, TRUE, WRONG, cell_value, mutated_seed, session_for


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def shown(app, widget_id: str) -> str:
    return str(app.query_one(widget_id, Static).render())


def test_tui_accept_fix_save_and_undo(tmp_path):
    src = mutated_seed(tmp_path)
    session = session_for(src)
    log, out = session.log.path, session.out_path

    async def drive():
        app = RepairApp(session)
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.query_one("#findings", DataTable)
            before = list(app._finding_keys)
            mutated = [k for k in before if "2101202" in k or "21012" in k]
            assert len(mutated) == 2 and table.row_count == len(before) == 3
            # the first finding is an error about the mutated value: its detail shows the source
            # line with the number, and the suggested fix
            assert app._finding_keys[0] in mutated
            detail = shown(app, "#finding-detail")
            assert "5121970 0.00" in detail and "204 │" in detail
            assert "Suggested fix" in detail and "51,219,700.00 → 51,210,700.00" in detail

            await pilot.press("a")
            await pilot.pause()
            assert table.row_count == 1 and not set(mutated) & set(app._finding_keys)
            assert "accepted fix" in shown(app, "#status")
            await pilot.press("w")
            await pilot.pause()
            assert out.exists() and "saved" in shown(app, "#status")
            assert cell_value(load_document(out)).value == TRUE
            (entry,) = lines(log)
            assert entry["action"] == "accept_fix" and (entry["table"], entry["row"], entry["column"]) == CELL
            assert (entry["old"], entry["new"]) == (str(WRONG), str(TRUE))
            assert entry["printed_old"] == "5121970 0.00" and entry["finding"] in mutated

            await pilot.press("u")
            await pilot.pause()
            assert set(mutated) <= set(app._finding_keys) and table.row_count == 3
            assert [x["action"] for x in lines(log)] == ["accept_fix", "undo"] and lines(log)[1]["undoes"] == 1
            assert cell_value(app.session.doc).value == WRONG
            await pilot.press("w")
            await pilot.pause()
            assert cell_value(load_document(out)).value == WRONG  # the saved document follows the undo
            await pilot.press("q")
            await pilot.pause()

    asyncio.run(drive())


@pytest.mark.slow
def test_tui_edit_keep_as_printed_note_and_browse(tmp_path):
    session = session_for(mutated_seed(tmp_path))
    log = session.log.path
    gold = tmp_path / "gold"
    gold.mkdir()

    async def drive():
        app = RepairApp(session, GoldTarget(gold, reviewer="tester"))
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.query_one("#findings", DataTable)
            # edit: the dialog offers the suggested value; type a wrong one, then the right one
            await pilot.press("e")
            await pilot.pause()
            field = app.screen.query_one("#field-value")
            assert field.value == "51210700.00"
            field.value = "5121o700"
            await pilot.press("enter", "enter")
            await pilot.pause()
            assert "not a number" in shown(app, "#status") and not log.exists()
            await pilot.press("e")
            await pilot.pause()
            app.screen.query_one("#field-value").value = "51,210,700.00"
            await pilot.press("enter", *"misread", "enter")
            await pilot.pause()
            assert table.row_count == 1
            edit = lines(log)[-1]
            assert edit["action"] == "edit" and edit["new"] == "51210700.00" and edit["reason"] == "misread"

            # the prose's own contradiction: keep it as printed, with a reason; then a note
            assert "narrative.change_sum" in app._finding_keys[0]
            await pilot.press("d")
            await pilot.pause()
            app.screen.query_one("#field-reason").value = "parts add up to 519.80"
            await pilot.press("enter")
            await pilot.pause()
            assert "kept as printed" in str(table.get_row_at(0)[1])
            kept = lines(log)[-1]
            assert kept["action"] == "document_error" and kept["old"] == kept["new"] == "570900.00"
            assert kept["reason"] == "parts add up to 519.80"
            await pilot.press("n")
            await pilot.pause()
            app.screen.query_one("#field-text").value = "see line 518"
            await pilot.press("enter")
            await pilot.pause()
            assert lines(log)[-1]["action"] == "note" and "see line 518" in shown(app, "#finding-detail")

            # browse: jump to a row of any table, the cell and its source line are shown
            await pilot.press("g")
            await pilot.pause()
            app.screen.query_one("#field-where").value = "revenue/2101301"
            await pilot.press("enter")
            await pilot.pause()
            assert app.in_tables() and app.current_cell() == ("revenue", "2101301", "total")
            assert "9162 500." in shown(app, "#cell-detail")
            # edit a cell from the table view, then undo it
            await pilot.press("e")
            await pilot.pause()
            app.screen.query_one("#field-value").value = "9162501.00"
            await pilot.press("enter", "enter")
            await pilot.pause()
            assert cell_value(app.session.doc, ("revenue", "2101301", "total")).value == Decimal("9162501.00")
            assert any("revenue" in k for k in app._finding_keys)
            await pilot.press("u")
            await pilot.pause()
            assert cell_value(app.session.doc, ("revenue", "2101301", "total")).value == Decimal("9162500.00")
            # quitting with unsaved changes asks first
            await pilot.press("q")
            await pilot.pause()
            assert "unsaved" in shown(app, "#status") and app.is_running
            # save writes the corrected document and, with --save-gold, a gold file that loads
            # and declares the finding kept as printed
            await pilot.press("w")
            await pilot.pause()
            assert "gold" in shown(app, "#status"), shown(app, "#status")
            g = load_gold(gold / "m000.yaml", verify=True)
            assert g.cells[CELL] == TRUE and g.cells[("revenue", "2101301", "total")] == Decimal("9162500.00")
            assert "tester" in (gold / "m000.yaml").read_text(encoding="utf-8")
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running

    asyncio.run(drive())


# ------------------------------------------------------------------------------ a PDF's findings

ROW = ("general_budget_expenditure", "21015")


def test_tui_on_a_pdf_accept_edit_undo_save_gold_and_quit(tmp_path):
    """One table of a PDF, 2101501's total printed 3707000.00 where its parts (and its parent's
    other children) say 3701000.00; and no summary table (a warning, kept as the document's)."""
    session = session_for(one_table_pdf(tmp_path))
    log = session.log.path
    gold = tmp_path / "gold"
    gold.mkdir()
    wrong = ("general_budget_expenditure", "2101501", "total")
    mine = ["coded.hierarchy[general_budget_expenditure:col=total,parent=21015]",
            "coded.row_total[general_budget_expenditure:row=2101501]"]
    summary = "document.summary_located[document]"

    async def drive():
        app = RepairApp(session, GoldTarget(gold, reviewer="tester"))
        async with app.run_test(size=(160, 48)) as pilot:
            assert app._finding_keys == [*mine, summary]
            detail = shown(app, "#finding-detail")
            assert re.search(r"page \d+, as printed", detail) and "▀" in detail  # the print beside the value
            assert "3,707,000.00 → 3,701,000.00" in detail

            await pilot.press("a")  # accept the first finding's fix: both checks hold again
            await pilot.pause()
            status = shown(app, "#status")
            assert "accepted fix" in status and "2 fixed" in status and "new" not in status, status
            assert app._finding_keys == [summary]

            await pilot.press("u")
            await pilot.pause()
            assert "2 new" in shown(app, "#status") and app._finding_keys == [*mine, summary]
            grid = app.query_one("#findings", DataTable)
            assert [str(grid.get_row_at(k)[1]) for k in range(3)] == ["new", "new", ""]  # marked in the list

            # edit: type the value (another than proposed), then the proposed one
            await pilot.press("e")
            await pilot.pause()
            app.screen.query_one("#field-value").value = "3700000.00"
            await pilot.press("enter", *"typo", "enter")
            await pilot.pause()
            assert "edited" in shown(app, "#status") and "no finding changed" in shown(app, "#status")
            await pilot.press("u")
            await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            assert app.screen.query_one("#field-value").value == "3701000.00"
            await pilot.press("enter", *"typo", "enter")
            await pilot.pause()
            assert "2 fixed" in shown(app, "#status") and app._finding_keys == [summary]

            # the missing summary table is the document's: kept as printed
            await pilot.press("d")
            await pilot.pause()
            app.screen.query_one("#field-reason").value = "one table published"
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("w")
            await pilot.pause()
            assert "gold" in shown(app, "#status") and "saved" in shown(app, "#status"), shown(app, "#status")
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running

    asyncio.run(drive())
    entries = lines(log)
    assert [e["action"] for e in entries] == ["accept_fix", "undo", "edit", "undo", "edit", "document_error"]
    assert (entries[0]["old"], entries[0]["new"]) == ("3707000.00", "3701000.00") and entries[1]["undoes"] == 1
    assert (entries[4]["new"], entries[4]["reason"], entries[4]["printed_new"]) == ("3701000.00", "typo", "3701000.00")
    # the re-checked result, in the session and in what was saved
    assert [r.instance for r in session.report.findings()] == [summary]
    assert cell_value(load_document(session.out_path), wrong).value == Decimal("3701000.00")
    g = load_gold(gold / "gbe.yaml", verify=True)
    assert g.cells[wrong] == Decimal("3701000.00")


def test_tui_on_a_misread_pdf_accept_first_finding_and_correct_the_reading(tmp_path):
    """The whole seed as a PDF prints 21015's total and basic as 6981000.0 / 3418000.0 with a 0
    wrapped under each; the reader took the wrapped 0s as more values of those columns."""
    session = session_for(mutated_pdf(tmp_path))
    log = session.log.path
    first = f"coded.row_total[{ROW[0]}:row={ROW[1]}]"

    def entries_now():
        return lines(log)

    async def drive():
        app = RepairApp(session)
        async with app.run_test(size=(160, 48)) as pilot:
            assert app._finding_keys[0] == first
            detail = shown(app, "#finding-detail")
            assert "page 11, as printed" in detail and "▀" in detail

            # accept works on the first finding (the check read the second value of the column)
            await pilot.press("a")
            await pilot.pause()
            status = shown(app, "#status")
            assert "accepted fix" in status and f"1 fixed ({first})" in status, status
            await pilot.press("u")
            await pilot.pause()
            assert f"1 new ({first})" in shown(app, "#status") and app._finding_keys[0] == first

            # the extraction is wrong here: the page prints 6981000.00 where 0 was read
            await pilot.press("x")
            await pilot.pause()
            assert app.screen.query_one("#field-printed").value == "0"
            app.screen.query_one("#field-printed").value = "6981000.00"
            await pilot.press("enter", "enter", "enter")
            await pilot.pause()
            assert "misread corrected" in shown(app, "#status")
            # now one value explains the finding: the other wrapped 0, whose print is 3418000.0
            assert "basic" in shown(app, "#finding-detail") and "3,418,000.00" in shown(app, "#finding-detail")
            await pilot.press("a")
            await pilot.pause()
            assert f"1 fixed ({first})" in shown(app, "#status") and first not in app._finding_keys
            # the tables view shows both values of the column, and the page around the one selected
            await pilot.press("g")
            await pilot.pause()
            app.screen.query_one("#field-where").value = "/".join(ROW)
            await pilot.press("enter")
            await pilot.pause()
            assert app.current_cell() == (*ROW, f"total#{entries_now()[2]['column'].split('#')[1]}")
            assert "page 11, as printed" in shown(app, "#cell-detail")
            grid = app.query_one("#cells", DataTable)
            assert "6981000.0 | 6981000.00" in str(grid.get_cell_at(grid.cursor_coordinate))
            await pilot.press("w")
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running

    asyncio.run(drive())
    entries = lines(log)
    assert [e["action"] for e in entries] == ["accept_fix", "undo", "misread", "accept_fix"]
    misread = entries[2]
    assert (misread["old"], misread["new"], misread["printed_old"], misread["printed_new"]) == \
        ("0", "6981000.00", "0", "6981000.00")
    assert entries[3]["column"].startswith("basic#") and entries[3]["new"] == "3418000.00"
    assert all(Decimal(e["new"]) != 0 for e in entries if e["action"] == "accept_fix")
    assert first not in [r.instance for r in session.report.findings()]
    saved = load_document(session.out_path)
    row = next(r for r in saved.table(ROW[0]).rows if r.id == ROW[1])
    assert [(c.column, c.value) for c in row.cells if c.column in ("total", "basic")] == [
        ("total", Decimal("6981000.0")), ("total", Decimal("6981000.00")),
        ("basic", Decimal("3418000.0")), ("basic", Decimal("3418000.00"))]


def test_tui_extraction_wrong_moves_a_value_and_confirms_a_doubted_row(tmp_path):
    src = tmp_path / "d.txt"
    src.write_text((EXAMPLES / "004_397ecf54ea00b92f.txt").read_text(encoding="utf-8"), encoding="utf-8")
    session = session_for(src)
    t = session.doc.table("general_budget_basic_expenditure")
    doubted = next(r for r in t.rows if r.suspect and r.cells)

    async def drive():
        app = RepairApp(session)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            assert app.goto(f"{t.id}/{doubted.id}")
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            assert "doubted" in str(app.screen.query_one("Label").render())
            await pilot.press(*"looked at it", "enter")
            await pilot.pause()
            assert "row confirmed as read" in shown(app, "#status") and "checks re-run" in shown(app, "#status")
            # a value read into the wrong column: x, then name its column
            assert app.goto("expenditure/2101202")
            await pilot.pause()
            cells = app.query_one("#cells", DataTable)
            target = app.current_cell()
            row = session.doc.table("expenditure").row("2101202")
            free = next(c for c in session.doc.table("expenditure").columns if row.cell(c) is None)
            await pilot.press("x")
            await pilot.pause()
            assert app.screen.query_one("#field-column").value == target[2]
            app.screen.query_one("#field-column").value = free
            await pilot.press("enter", "enter", "enter")
            await pilot.pause()
            assert "moved" in shown(app, "#status"), shown(app, "#status")
            assert session.doc.table("expenditure").row("2101202").cell(free) is not None and cells.row_count

    asyncio.run(drive())
    actions = [(x["action"], x.get("to_column")) for x in lines(session.log.path)]
    assert actions[0] == ("row_good", None) and actions[1][0] == "move"
    assert not next(r for r in session.doc.table(t.id).rows if r.id == doubted.id).suspect
