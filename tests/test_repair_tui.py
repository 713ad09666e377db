"""The repair TUI driven headlessly with Textual's pilot: a seed with one mutated number, the
suggested fix accepted, the finding gone, saved; the log and the corrected document checked on
disk; undo; editing, document errors, notes, and browsing to a row."""
from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from textual.widgets import DataTable, Static

from structurer.gold import load_gold
from structurer.output import load_document
from structurer.repair.tui import GoldTarget, RepairApp

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
