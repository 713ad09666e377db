"""Proposed fixes a reviewer can accept: accept works on the value the check read (a prose line
that states one key twice), and no proposal satisfies a check whose other side was not
extracted (it would zero a printed number, or fill a value from a blank). And the corrections
for a wrong reading: a value moved to its column, a doubted row confirmed."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXAMPLES, SEEDS
from structurer.checks.diagnose import diagnose
from structurer.checks.model import CheckReport, Result, TermValue
from structurer.model import Span
from structurer.repair.apply import apply_entries
from structurer.repair.log import Entry, LogError, read_log
from structurer.repair.session import ActionError, RepairSession

from test_repair import SEED, session_for

SPAN = Span(line_start=1, line_end=1, start=0, end=4)


def twice_on_one_line(folder: Path) -> Path:
    """Seed 000 whose line 514 states 基本收入 a second time, wrongly (349.8 for 341.8)."""
    lines = (EXAMPLES / SEED).read_text(encoding="utf-8").split("\n")
    said = "包括人员经费323万元和正常公用经费18.8万元。"
    assert said in lines[513]
    lines[513] = lines[513].replace(said, said + "其中基本收入349.8万元。")
    path = folder / "twice.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_accept_works_on_the_first_finding_when_a_line_states_a_key_twice(tmp_path):
    s = session_for(twice_on_one_line(tmp_path))
    first = s.findings()[0].result
    assert first.instance == "narrative.amount[narrative:key=expenditure.basic,line=514]"
    assert first.diagnosis.current == Decimal("3498000.0")
    e = s.accept_fix(first)  # the first fact of the line holds 341.8: the check read the second
    assert (e.old, e.new, e.printed_old, e.printed_new) == (Decimal("3498000.0"), Decimal("3418000.00"),
                                                          "349.8", "341.8")
    assert e.target == ("narrative", "expenditure.basic", f"amount@514#{first.diagnosis.span.start}")
    assert first.instance not in [f.instance for f in s.findings()]
    printed = [f.printed for f in s.doc.narrative if f.key == "expenditure.basic" and f.span.line_start == 514]
    assert printed == ["341.8", "341.8"]
    # the log names that fact: a new session over the same log applies it there, without conflict
    again = RepairSession(s.base, s.source, s.log.path, tmp_path / "again.json")
    assert not again.conflicts and first.instance not in [f.instance for f in again.findings()]


def _check(*terms: TermValue, delta: str) -> Result:
    r = Result("t.sum", "total = parts", "t", "fail", severity="error", op="=", delta=Decimal(delta),
               envelope=Decimal(0), terms=list(terms))
    return r


def test_no_fix_proposed_from_a_blank_other_side():
    total = TermValue("t", "total", "amount", 1, Decimal("500.00"), "500.00", "元", SPAN)
    alone = _check(total, delta="500.00")  # the parts are blank: nothing was read on that side
    part = TermValue("t", "a", "amount", -1, Decimal("400.00"), "400.00", "元", SPAN)
    read = _check(total, part, delta="100.00")
    diagnose(CheckReport("x", [alone]))
    diagnose(CheckReport("x", [read]))
    assert alone.diagnosis is None  # 500.00 → 0.00 would satisfy it: never proposed
    assert read.diagnosis is not None  # with a part read, a fix is still proposed


def test_no_fill_of_an_unreadable_value_from_a_blank_side():
    unreadable = TermValue("t", "total", "amount", 1, None, "5OO", "元", SPAN)
    r = Result("t.sum", "total = parts", "t", "fail", severity="error", op="=", terms=[unreadable])
    from structurer.checks.model import Diagnosis

    r.diagnosis = Diagnosis("t", "total", "amount", None, Decimal(0), 1, SPAN)
    diagnose(CheckReport("x", [r]))
    assert r.diagnosis is None


@pytest.mark.parametrize("name", SEEDS)
def test_no_proposal_on_a_seed_zeroes_a_printed_value_or_fills_a_blank(name, tmp_path):
    s = session_for(EXAMPLES / name)
    for r in s.report.findings():
        d = r.diagnosis
        if d is None:
            continue
        v = s.value((d.table, d.row, d.column), d.span)
        assert v is not None, r.instance  # a proposal names a value that is there
        sides = {t.coefficient > 0 for t in r.terms if t.value is not None}
        assert len(sides) == 2, r.instance  # something was read on both sides


# ------------------------------------------------------------------------------ the extraction is wrong here

def test_move_a_value_to_the_column_it_is_printed_in(tmp_path):
    src = tmp_path / "m.txt"
    src.write_text((EXAMPLES / SEED).read_text(encoding="utf-8"), encoding="utf-8")
    s = session_for(src)
    t = s.doc.table("expenditure")
    row = next(r for r in t.rows if not r.suspect and len(r.cells) >= 2)
    have = {c.column for c in row.cells}
    free = next(c for c in dict.fromkeys(t.columns + [c.column for r in t.rows for c in r.cells]) if c not in have)
    cell = row.cells[-1]
    with pytest.raises(ActionError, match="already has a value"):
        s.move((t.id, row.id, cell.column), row.cells[0].column)
    with pytest.raises(ActionError, match="has no column 'nope'"):
        s.move((t.id, row.id, cell.column), "nope")
    e = s.move((t.id, row.id, cell.column), free, "shifted one column")
    assert (e.action, e.to_column, e.old) == ("move", free, cell.value)
    moved = s.doc.table(t.id).row(row.id)
    assert moved.cell(free).printed == cell.printed and moved.cell(cell.column) is None
    assert s.last_change is not None and s.last_change.text().startswith("checks re-run:")
    again = RepairSession(s.base, s.source, s.log.path, tmp_path / "again.json")  # the log replays it
    assert not again.conflicts and again.doc.table(t.id).row(row.id).cell(free).printed == cell.printed
    s.undo()
    assert s.doc.table(t.id).row(row.id).cell(cell.column).printed == cell.printed


def test_confirm_a_doubted_row_and_a_log_naming_no_such_row(tmp_path):
    src = tmp_path / "d.txt"
    src.write_text((EXAMPLES / "004_397ecf54ea00b92f.txt").read_text(encoding="utf-8"), encoding="utf-8")
    s = session_for(src)
    t = s.doc.table("general_budget_basic_expenditure")
    row = next(r for r in t.rows if r.suspect and r.cells)
    with pytest.raises(ActionError, match="not a doubted row"):
        s.confirm_row(t.id, next(r for r in t.rows if not r.suspect))
    e = s.confirm_row(t.id, row, "read right")
    assert (e.action, e.table, e.row, e.column) == ("row_good", t.id, row.id, f"row@{row.span.line_start}")
    after = next(r for r in s.doc.table(t.id).rows if r.id == row.id)
    assert not after.suspect and any("confirmed as read" in w for w in s.doc.warnings)
    assert next(r for r in s.base.table(t.id).rows if r.id == row.id).suspect  # the original is untouched
    bad = Entry("row_good", t.id, row.id, "row@1", id=9)
    _, conflicts = apply_entries(s.base, [bad])
    assert conflicts and "no such doubted row" in str(conflicts[0])


def test_log_lines_of_the_new_actions_are_checked(tmp_path):
    path = tmp_path / "x.corrections.jsonl"
    path.write_text('{"v": 1, "id": 1, "action": "move", "table": "t", "row": "r", "column": "total", "old": "1"}\n',
                    encoding="utf-8")
    with pytest.raises(LogError, match="to_column"):
        read_log(path)
    path.write_text('{"v": 1, "id": 1, "action": "misread", "table": "t", "row": "r", "column": "total"}\n',
                    encoding="utf-8")
    with pytest.raises(LogError, match="needs a new value"):
        read_log(path)
    path.write_text('{"v": 1, "id": 1, "action": "document_error", "finding": "document.summary_located[document]",'
                    ' "reason": "one table"}\n', encoding="utf-8")
    (e,) = read_log(path)
    assert e.target is None and e.finding == "document.summary_located[document]"


def test_a_prose_number_is_never_proposed_to_be_zero():
    prose = TermValue("narrative", "expenditure.basic", "amount@5", 1, Decimal("3418000.00"), "341.8", "万元", SPAN,
                      kind="narrative")
    zero = TermValue("t", "basic", "total", -1, Decimal("0.00"), "0.00", "元", SPAN)
    r = _check(prose, zero, delta="3418000.00")  # the table prints 0.00 where the prose says 341.8万元
    diagnose(CheckReport("x", [r]))
    d = r.diagnosis
    assert d is not None and (d.table, d.fix) == ("t", Decimal("3418000.00"))  # the table cell, not the prose
