"""Review and repair without the screen: the corrections log, applying it, the session (accept,
edit, document error, note, undo), `repair --apply`, and `--save-gold`."""
from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD
from structurer.checks.run import evaluate
from structurer.cli import app
from structurer.gold import load_gold
from structurer.output import load_document
from structurer.repair.apply import apply_entries, format_printed, parse_user_value
from structurer.repair.gold_writer import GoldWriteError, save_gold
from structurer.repair.log import CorrectionLog, Entry, LogError, read_log
from structurer.repair.session import ActionError, RepairSession, default_paths
from structurer.repair.sources import open_input

SEED = "000_ce6cab5f862a266e.txt"
CELL = ("expenditure", "2101202", "total")  # printed "5121070 0.00" on line 204
TRUE, WRONG = Decimal("51210700.00"), Decimal("51219700.00")


def mutated_seed(folder: Path, name: str = "m000.txt") -> Path:
    """Seed 000 with one printed digit changed: 5121070 0.00 → 5121970 0.00 (line 204)."""
    lines = (EXAMPLES / SEED).read_text(encoding="utf-8").split("\n")
    assert "5121070 0.00" in lines[203]
    lines[203] = lines[203].replace("5121070 0.00", "5121970 0.00", 1)
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def session_for(path: Path) -> RepairSession:
    opened = open_input(path)
    log, out = default_paths(path)
    return RepairSession(opened.doc, opened.source, log, out)


def cell_value(doc, target=CELL):
    t, r, c = target
    return doc.table(t).row(r).cell(c)


def log_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------------ log

def test_log_lines_are_appended_durably_and_read_back(tmp_path):
    path = tmp_path / "x.corrections.jsonl"
    log = CorrectionLog(path, "x.txt", "ab" * 32)
    log.append(Entry("edit", "expenditure", "208", "total", old=Decimal("1.00"), new=Decimal("2.00"), unit="元",
                     reason="misread"))
    log.append(Entry("undo", undoes=1))
    raw = path.read_text(encoding="utf-8")
    assert raw.endswith("\n") and raw.count("\n") == 2
    first, second = (json.loads(x) for x in raw.splitlines())
    assert first["id"] == 1 and first["action"] == "edit" and first["old"] == "1.00" and first["new"] == "2.00"
    assert first["table"] == "expenditure" and first["reason"] == "misread" and first["time"].endswith("Z")
    assert first["doc"] == "x.txt" and first["sha256"] == "ab" * 32
    assert second == {**second, "action": "undo", "undoes": 1, "id": 2}
    again = read_log(path)
    assert [e.id for e in again] == [1, 2] and again[0].new == Decimal("2.00")
    # a crash mid-append leaves a torn last line: it is ignored, and the next append starts a new line
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"v": 1, "id": 3, "act')
    assert [e.id for e in read_log(path)] == [1, 2]
    CorrectionLog(path, "x.txt", "ab" * 32).append(Entry("note", reason="after the crash"))
    entries = read_log(path)
    assert [e.id for e in entries] == [1, 2, 3] and entries[-1].reason == "after the crash"


def test_log_rejects_garbage_and_other_documents(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"v":1,"id":1,"action":"note","reason":"x"}\nnot json\n{"v":1,"id":2,"action":"note"}\n',
                   encoding="utf-8")
    with pytest.raises(LogError, match="line 2: not valid JSON"):
        read_log(bad)
    bad.write_text('{"v":1,"id":1,"action":"explode"}\n', encoding="utf-8")
    with pytest.raises(LogError, match="unknown action"):
        read_log(bad)
    bad.write_text('{"v":1,"id":1,"action":"edit","table":"t","row":"r","column":"c"}\n', encoding="utf-8")
    with pytest.raises(LogError, match="needs a new value"):
        read_log(bad)
    other = tmp_path / "other.jsonl"
    CorrectionLog(other, "a.txt", "1" * 64).append(Entry("note", reason="x"))
    with pytest.raises(LogError, match="another document"):
        CorrectionLog(other, "b.txt", "2" * 64)


def test_printed_values_and_typed_values():
    assert format_printed(Decimal("17061000"), "万元", "1,760.10") == "1,706.10"
    assert format_printed(TRUE, "元", "5121970 0.00") == "51210700.00"
    assert format_printed(Decimal("123456"), "万元", "12.3") == "12.3456"  # never drops digits
    assert parse_user_value(" 1,706.10 ", "万元") == Decimal("17061000.00")
    assert parse_user_value("3", "count") == Decimal(3)
    with pytest.raises(ValueError, match="not a number"):
        parse_user_value("12o.5", "元")


# ------------------------------------------------------------------------------ session

def test_accept_fix_removes_the_finding_and_undo_brings_it_back(tmp_path):
    s = session_for(mutated_seed(tmp_path))
    errors = [f.result for f in s.findings() if f.result.severity == "error"]
    assert errors and all(r.diagnosis and (r.diagnosis.table, r.diagnosis.row, r.diagnosis.column) == CELL
                          for r in errors)
    assert cell_value(s.doc).value == WRONG
    e = s.accept_fix(errors[0])
    assert (e.old, e.new, e.printed_old, e.printed_new) == (WRONG, TRUE, "5121970 0.00", "51210700.00")
    assert cell_value(s.doc).value == TRUE and cell_value(s.doc).printed == "51210700.00"
    assert cell_value(s.base).value == WRONG  # the original is never touched
    left = {f.instance for f in s.findings()}
    assert not left & {r.instance for r in errors}  # both failures were this one value
    assert not s.report.has_errors()
    saved = s.save()
    assert cell_value(load_document(saved)).value == TRUE
    lines = log_lines(s.log.path)
    assert len(lines) == 1 and lines[0]["action"] == "accept_fix" and lines[0]["finding"] == errors[0].instance
    assert (lines[0]["table"], lines[0]["row"], lines[0]["column"]) == CELL
    assert (lines[0]["old"], lines[0]["new"]) == ("51219700.00", "51210700.00")

    undone = s.undo()
    assert undone.id == 1 and cell_value(s.doc).value == WRONG
    assert {r.instance for r in errors} <= {f.instance for f in s.findings()}
    assert [x["action"] for x in log_lines(s.log.path)] == ["accept_fix", "undo"]
    assert log_lines(s.log.path)[1]["undoes"] == 1
    assert s.undo() is None  # nothing left in force

    # a new session on the same log resumes where this one stopped
    s.accept_fix(errors[0])
    resumed = session_for(s.log.path.parent / "m000.txt")
    assert cell_value(resumed.doc).value == TRUE and not resumed.report.has_errors()
    assert [e.action for e in resumed.entries] == ["accept_fix", "undo", "accept_fix"]


def test_edit_document_error_note_and_conflicts(tmp_path):
    s = session_for(mutated_seed(tmp_path))
    with pytest.raises(ActionError, match="already is"):
        s.edit(CELL, WRONG)
    s.edit(CELL, parse_user_value("51,210,700.00", "元"), "misread digit")
    assert cell_value(s.doc).value == TRUE and not s.report.has_errors()
    # the prose's change that its parts contradict: a genuine error of the document
    (warn,) = [f for f in s.findings() if f.result.identity == "narrative.change_sum"]
    assert warn.state == "open"
    kept = s.mark_document_error(warn.result, "parts add to 519.80")
    assert kept.old == kept.new and kept.table == "narrative"
    assert [f.state for f in s.findings()] == ["kept"]
    s.note("checked against the printed PDF", CELL)
    assert any("document error kept as printed" in w for w in s.doc.warnings)
    assert any("note on expenditure/2101202/total" in w for w in s.doc.warnings)
    assert [e.action for e in s.entries] == ["edit", "document_error", "note"]
    s.undo()
    s.undo()
    assert [f.state for f in s.findings()] == ["open"]
    # an entry whose old value the document no longer holds is reported, not applied
    stale = Entry("edit", *CELL, old=Decimal("1.00"), new=Decimal("2.00"), id=99)
    doc, conflicts = apply_entries(s.base, [stale])
    assert len(conflicts) == 1 and "the log expected 1.00" in str(conflicts[0])
    assert cell_value(doc).value == WRONG


# ------------------------------------------------------------------------------ command line

def run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output, result


def test_repair_apply_writes_the_corrected_document(tmp_path):
    src = mutated_seed(tmp_path)
    s = session_for(src)
    s.accept_fix(next(f.result for f in s.findings() if f.result.severity == "error"))
    log = tmp_path / "review.jsonl"
    shutil.copy(s.log.path, log)
    out = tmp_path / "fixed.json"
    code, text, _ = run("repair", src, "--apply", log, "--out", out)
    assert code == 0, text
    fixed = load_document(out)
    assert cell_value(fixed).value == TRUE and not evaluate(fixed).has_errors()
    assert "applied review.jsonl" in text
    # the same log applies to the extracted JSON too (default output beside it)
    code, _, _ = run("extract", src, "--out", tmp_path / "json")
    assert code == 0
    code, text, _ = run("repair", tmp_path / "json" / "m000.json", "--apply", log)
    assert code == 0, text
    assert cell_value(load_document(tmp_path / "json" / "m000.corrected.json")).value == TRUE


def test_repair_bad_input_is_one_line(tmp_path):
    src = mutated_seed(tmp_path)
    checks = []
    code, text, _ = run("repair", tmp_path / "missing.json", "--apply", tmp_path / "x.jsonl")
    checks.append((code, text, "no such file"))
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\x00\xff garbage\n")
    code, text, _ = run("repair", src, "--apply", junk)
    checks.append((code, text, "junk.jsonl"))
    stale = tmp_path / "stale.jsonl"
    stale.write_text(Entry("edit", *CELL, old=Decimal("1.00"), new=Decimal("2.00"), id=1).to_json() + "\n",
                     encoding="utf-8")
    code, text, _ = run("repair", src, "--apply", stale)
    checks.append((code, text, "the log expected 1.00"))
    code, text, _ = run("repair", src)  # the test runner is no terminal
    checks.append((code, text, "needs a terminal"))
    not_json = tmp_path / "doc.json"
    not_json.write_text("{}", encoding="utf-8")
    code, text, _ = run("repair", not_json, "--apply", stale)
    checks.append((code, text, "not a structurer document JSON"))
    for code, text, expected in checks:
        assert code in (1, 2) and expected in text and "Traceback" not in text, text
        assert len([x for x in text.splitlines() if x.strip()]) == 1, text
    assert not (tmp_path / "m000.corrected.json").exists()  # a conflicting log writes nothing


# ------------------------------------------------------------------------------ gold

def test_save_gold_from_a_reviewed_document(tmp_path):
    """The mutated seed, repaired by accepting the suggested fix and keeping the prose's own
    error as printed, gives back exactly the hand-made gold cells of the seed."""
    s = session_for(mutated_seed(tmp_path, SEED))
    s.accept_fix(next(f.result for f in s.findings() if f.result.severity == "error"))
    folder = tmp_path / "gold"
    folder.mkdir()
    with pytest.raises(GoldWriteError, match="still undecided"):
        save_gold(s.doc, s.source, s.entries, s.log.path.name, folder)
    assert not list(folder.iterdir())
    warn = next(f.result for f in s.findings() if f.state == "open")
    s.mark_document_error(warn, "the stated parts add to 519.80万元, not 57.09")
    path = save_gold(s.doc, s.source, s.entries, s.log.path.name, folder, reviewer="A. Reviewer")
    assert path == folder / "000_ce6cab5f862a266e.yaml"
    mine, hand = load_gold(path, verify=True), load_gold(GOLD / "000_ce6cab5f862a266e.yaml")
    assert mine.cells == hand.cells
    assert mine.printed[CELL] == "51210700.00"
    assert sorted((n.key, n.kind, n.value, n.line) for n in mine.narrative) == \
        sorted((n.key, n.kind, n.value, n.line) for n in hand.narrative)
    how = " ".join(mine.inconsistencies[0].get("checks", [])) + " " + path.read_text(encoding="utf-8")
    assert "repair tool" in how and "A. Reviewer" in how and s.log.path.name in how
    assert warn.instance in how
    with pytest.raises(GoldWriteError, match="exists"):
        save_gold(s.doc, s.source, s.entries, s.log.path.name, folder)


def test_repair_apply_save_gold_command(tmp_path):
    src = mutated_seed(tmp_path)
    s = session_for(src)
    s.accept_fix(next(f.result for f in s.findings() if f.result.severity == "error"))
    s.mark_document_error(next(f.result for f in s.findings() if f.state == "open"), "prose contradicts itself")
    folder = tmp_path / "gold"
    folder.mkdir()
    code, text, _ = run("repair", src, "--apply", s.log.path, "--save-gold", "--gold-dir", folder)
    assert code == 0, text
    gold = load_gold(folder / "m000.yaml", verify=True)
    assert gold.cells[CELL] == TRUE
    code, text, _ = run("repair", src, "--apply", s.log.path, "--save-gold", "--gold-dir", folder)
    assert code == 1 and "--force" in text and "Traceback" not in text
    code, text, _ = run("repair", src, "--apply", s.log.path, "--save-gold", "--gold-dir", tmp_path / "nope")
    assert code == 2 and "no such folder" in text
    assert os.path.exists(folder / "m000.yaml")
