"""Asking the model to read a failing check's values again (`structurer repair`, key m / A):
over real HTTP to the in-process server; a misread value comes back as printed, with its
span; a value the document itself prints wrong is not "fixed" by the model."""
from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES, GOLD
from openai_server import GoldModel, OpenAIServer, settings_for
from structurer.output import document_json, load_document
from structurer.repair.session import ActionError, RepairSession, default_paths
from structurer.repair.sources import open_input

from test_repair import CELL, SEED, TRUE, WRONG, cell_value, mutated_seed, session_for


def misread_session(tmp_path) -> RepairSession:
    """Seed 000 as extracted, with one value misread by the extraction (the source is intact)."""
    opened = open_input(EXAMPLES / SEED)
    doc = opened.doc.model_copy(deep=True)
    c = cell_value(doc)
    assert c.value == TRUE
    c.value = WRONG
    path = tmp_path / "m.json"
    path.write_text(document_json(doc), encoding="utf-8")
    log, out = default_paths(path)
    return RepairSession(doc, opened.source, log, out)


def finding_on(session, key):
    return next(f.result for f in session.findings() if any(t.key == key for t in f.result.terms))


def test_the_model_reads_a_misread_value_as_printed_and_the_fix_is_logged(tmp_path):
    session = misread_session(tmp_path)
    result = finding_on(session, CELL)
    span = cell_value(session.base).span
    with OpenAIServer(GoldModel(GOLD / SEED.replace(".txt", ".yaml"))) as srv:
        second = session.second_reading(result, settings_for(srv, tmp_path / "cache"))
        asked = [q.user for q in srv.requests]
        session.second_reading(result, settings_for(srv, tmp_path / "cache"))
        assert srv.count == len(asked)  # the same question again is answered from the cache
    assert asked and all("A consistency check fails" in u and result.title in u for u in asked)
    assert all(f"{'/'.join(CELL)} = {WRONG}" in u for u in asked)  # the value under suspicion, named
    (reading,) = [r for r in second.readings if r.differs]
    assert reading.key == CELL and reading.current == WRONG
    assert reading.cell.value == TRUE and reading.cell.printed == "5121070 0.00" and reading.cell.span == span
    assert second.usage.requests == len(asked) and second.model == "test-model"
    before = len(session.findings())
    (entry,) = session.take_reading(result, second)
    assert (entry.action, entry.old, entry.new, entry.printed_new) == ("edit", WRONG, TRUE, "5121070 0.00")
    assert entry.reason.startswith("read again by test-model") and entry.span_new is None
    assert not any(any(t.key == CELL for t in f.result.terms) for f in session.findings())
    assert len(session.findings()) < before
    line = json.loads(session.log.path.read_text(encoding="utf-8").splitlines()[-1])
    assert line["new"] == str(TRUE) and line["finding"] == result.instance
    session.save()
    assert cell_value(load_document(session.out_path)).value == TRUE


def _as_printed_in_the_mutated_seed(table, row):
    """A model that reads row 2101202 as the mutated source prints it."""
    if table == CELL[0] and row["id"] == CELL[1]:
        for c in row["cells"]:
            if c["col"] == CELL[2]:
                c.update(text="5121970 0.00", value="51219700.00")
    return row


def test_a_value_the_document_prints_wrong_is_not_changed_by_the_model(tmp_path):
    session = session_for(mutated_seed(tmp_path))  # the source itself prints 5121970 0.00
    result = finding_on(session, CELL)
    gm = GoldModel(GOLD / SEED.replace(".txt", ".yaml"), mutate=_as_printed_in_the_mutated_seed)
    with OpenAIServer(gm) as srv:
        second = session.second_reading(result, settings_for(srv, tmp_path / "cache"))
    assert all(r.cell is not None and not r.differs and not r.elsewhere for r in second.readings)
    with pytest.raises(ActionError, match="document itself may be inconsistent"):
        session.take_reading(result, second)
    assert session.entries == []


def test_a_reading_from_another_place_on_the_line_says_so(tmp_path):
    """Line 204 prints the true amount once more in another column: a model may cite that.
    The reading is grounded but elsewhere; taken, the log says so and the span moves there."""
    session = session_for(mutated_seed(tmp_path))
    result = finding_on(session, CELL)
    with OpenAIServer(GoldModel(GOLD / SEED.replace(".txt", ".yaml"))) as srv:
        second = session.second_reading(result, settings_for(srv, tmp_path / "cache"))
    (r,) = [r for r in second.readings if r.differs]
    assert r.key == CELL and r.cell.value == TRUE and r.elsewhere and r.cell.span.line_start == 204
    (entry,) = session.take_reading(result, second)
    assert "another place" in entry.reason and entry.span_new["start"] == r.cell.span.start


def test_a_moved_value_takes_its_new_span(tmp_path):
    """The extraction took a value from the wrong place: the model's reading carries its own span."""
    session = misread_session(tmp_path)
    c = cell_value(session.base)
    c.span = c.span.model_copy(update={"start": c.span.start - 40, "end": c.span.end - 40})
    session.recompute()
    result = finding_on(session, CELL)
    with OpenAIServer(GoldModel(GOLD / SEED.replace(".txt", ".yaml"))) as srv:
        second = session.second_reading(result, settings_for(srv, tmp_path / "cache"))
    (entry,) = session.take_reading(result, second)
    assert entry.span_new is not None and entry.span_new["line_start"] == 204
    fixed = cell_value(session.doc)
    assert fixed.value == TRUE and session.source.text[fixed.span.start:fixed.span.end] == "5121070 0.00"


def test_narrative_only_findings_and_missing_sources_are_one_line(tmp_path):
    session = misread_session(tmp_path)
    result = finding_on(session, CELL)
    bare = RepairSession(session.base, None, tmp_path / "l.jsonl", tmp_path / "o.json")
    with pytest.raises(ActionError, match="--source"):
        bare.second_reading(result, None)
    # the clean seed's one finding, a published inconsistency of its prose, names no table value
    clean = session_for(EXAMPLES / SEED)
    (prose,) = [f.result for f in clean.findings()]
    assert prose.terms and all(t.kind != "cell" for t in prose.terms)
    with pytest.raises(ActionError, match="only table values"):
        clean.second_reading(prose, None)


def test_tui_asks_the_model_and_takes_its_reading(tmp_path):
    import asyncio

    from textual.widgets import Static

    from structurer.repair.tui import RepairApp

    def shown(app, widget_id):
        return str(app.query_one(widget_id, Static).render())

    session = misread_session(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with OpenAIServer(GoldModel(GOLD / SEED.replace(".txt", ".yaml"))) as srv:
        settings = settings_for(srv, tmp_path / "cache")

        async def drive():
            plain = RepairApp(misread_session(other))
            async with plain.run_test(size=(160, 48)) as pilot:
                await pilot.press("m")
                await pilot.pause()
                assert "no model configured" in shown(plain, "#status") and srv.count == 0
            app = RepairApp(session, settings=settings)
            async with app.run_test(size=(160, 48)) as pilot:
                mine = [k for k in app._finding_keys if "21012" in k]
                assert app._finding_keys[0] in mine
                await pilot.press("A")
                await pilot.pause()
                assert "press m first" in shown(app, "#status")
                await pilot.press("m")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert srv.count > 0
                assert "A: take it" in shown(app, "#status") and "51,219,700.00 → 51,210,700.00" in shown(app, "#status")
                detail = shown(app, "#finding-detail")
                assert "Read again by test-model" in detail and "5121070 0.00" in detail
                await pilot.press("A")
                await pilot.pause()
                assert "took the model's reading" in shown(app, "#status")
                assert not set(mine) & set(app._finding_keys)
                assert cell_value(app.session.doc).value == TRUE

        asyncio.run(drive())
    (entry,) = [json.loads(x) for x in session.log.path.read_text(encoding="utf-8").splitlines()]
    assert entry["action"] == "edit" and entry["new"] == str(TRUE) and "read again by test-model" in entry["reason"]


def test_repair_with_a_model_but_no_key_is_one_line(no_env):
    from typer.testing import CliRunner

    from structurer.cli import app

    r = CliRunner().invoke(app, ["repair", str(EXAMPLES / SEED), "--model", "gpt-x"], catch_exceptions=False)
    assert r.exit_code == 2 and "OPENAI_API_KEY" in r.output and "Traceback" not in r.output
