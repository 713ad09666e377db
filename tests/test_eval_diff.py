"""`structurer eval diff RUN_A RUN_B` lists exactly the cells that changed: runs on a mutated
source document and on a deliberately corrupted copy of a gold file."""
from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD, extracted
from structurer.cli import app
from structurer.evaluation.cells import document_cells as cell_map

SEED = "001_e48c9036102b6734.txt"


def run_eval(tmp_path: Path, *args: str) -> tuple[str, dict]:
    r = CliRunner().invoke(app, ["eval", "--runs", str(tmp_path / "runs"), "--json", *args])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    return data["id"], data


def diff(tmp_path: Path, a: str, b: str) -> dict:
    r = CliRunner().invoke(app, ["eval", "diff", a, b, "--runs", str(tmp_path / "runs"), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def changed(d: dict, column: str = "rules") -> dict[tuple, str]:
    return {(c["doc"], c["table"], c["row"], c["column"]): c["change"] for c in d["columns"][column]["cells"]}


def mutate_one_cell(tmp_path: Path, by: int = 1, folder: str = "sources") -> tuple[Path, tuple[str, str, str]]:
    """A copy of the sources where one printed digit of one table cell of SEED is changed."""
    doc = extracted(SEED)
    key, target = next(((t.id, r.id, c.column), c) for t in doc.tables if t.id == "expenditure"
                       for r in t.rows if not r.suspect for c in r.cells
                       if c.value and re.fullmatch(r"\d+\.\d\d", c.printed) and c.span.line_start == c.span.line_end)
    src = tmp_path / folder
    shutil.copytree(EXAMPLES, src)
    text = (EXAMPLES / SEED).read_text(encoding="utf-8")
    piece = text[target.span.start:target.span.end]
    assert piece == target.printed
    i = target.span.end - 1  # last decimal digit
    text = text[:i] + str((int(text[i]) + by) % 10) + text[i + 1:]
    (src / SEED).write_text(text, encoding="utf-8")
    return src, key


def test_diff_of_a_mutated_source_lists_exactly_the_changed_cell(tmp_path):
    src, key = mutate_one_cell(tmp_path)
    a, _ = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*")
    b, data_b = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*", "--sources", str(src))
    # independently: what the extractor itself produces differently on the two sources
    from structurer.pipeline import extract_file

    before, after = cell_map(extract_file(EXAMPLES / SEED)), cell_map(extract_file(src / SEED))
    differs = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert differs == {key}
    d = diff(tmp_path, a, b)
    assert changed(d) == {(SEED, *key): "worse"}
    (c,) = d["columns"]["rules"]["cells"]
    assert c["a"]["status"] == "ok" and c["b"]["status"] == "wrong"
    assert Decimal(c["b"]["got"]) != Decimal(c["b"]["gold"]) == Decimal(c["a"]["got"])
    assert c["b"]["lines"][0] > 0 and c["b"]["span_of"] == "cell"
    assert d["columns"]["rules"]["summary"]["cells fn"] == {"a": 0, "b": 1}
    # the other way round it is better; a run against itself has no change
    assert changed(diff(tmp_path, b, a)) == {(SEED, *key): "better"}
    assert changed(diff(tmp_path, a, a)) == {}
    assert data_b["columns"]["rules"]["overall"]["cells"]["f1"] < 1.0
    # misread differently: still wrong, but another value — a change, neither better nor worse
    src2, key2 = mutate_one_cell(tmp_path, by=2, folder="sources2")
    assert key2 == key
    c, _ = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*", "--sources", str(src2))
    d = diff(tmp_path, b, c)
    assert changed(d) == {(SEED, *key): "changed"}
    (x,) = d["columns"]["rules"]["cells"]
    assert x["a"]["status"] == x["b"]["status"] == "wrong" and x["a"]["got"] != x["b"]["got"]


def corrupt_gold(tmp_path: Path) -> tuple[Path, set[tuple[str, str, str, str]]]:
    """A copy of the gold folder where SEED's gold has two values changed and one removed, in
    columns no identity covers (so the corrupted file still validates)."""
    gold = tmp_path / "gold"
    shutil.copytree(GOLD, gold)
    p = gold / SEED.replace(".txt", ".yaml")
    text = p.read_text(encoding="utf-8")
    edits = [('item.01: {project_budget: "9.16", quantity: "10",', 'item.01: {project_budget: "9.16", quantity: "11",'),
             ('item.09: {project_budget: "14.00", quantity: "240", unit_price: "0.01",',
              'item.09: {project_budget: "14.00", quantity: "240", unit_price: "0.02",'),
             ('item.02: {project_budget: "9.16", quantity: "1", unit_price: "0.50", ',
              'item.02: {project_budget: "9.16", quantity: "1", ')]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    p.write_text(text, encoding="utf-8")
    return gold, {(SEED, "procurement", "item.01", "quantity"), (SEED, "procurement", "item.09", "unit_price"),
                  (SEED, "procurement", "item.02", "unit_price")}


def test_diff_against_a_corrupted_gold_copy_lists_exactly_the_corrupted_cells(tmp_path):
    gold, corrupted = corrupt_gold(tmp_path)
    a, _ = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*")
    b, _ = run_eval(tmp_path, "--gold", str(gold), "--docs", "001*")
    d = diff(tmp_path, a, b)
    assert set(changed(d)) == corrupted and set(changed(d).values()) == {"worse"}
    by = {(c["row"], c["column"]): c for c in d["columns"]["rules"]["cells"]}
    assert by[("item.01", "quantity")]["b"]["status"] == "wrong"
    assert by[("item.01", "quantity")]["b"]["gold"] == "11" and by[("item.01", "quantity")]["b"]["got"] == "10"
    assert by[("item.02", "unit_price")]["b"]["status"] == "extra"  # gold no longer has it


def test_diff_human_output_and_unknown_runs(tmp_path):
    src, key = mutate_one_cell(tmp_path)
    a, _ = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*")
    b, _ = run_eval(tmp_path, "--gold", str(GOLD), "--docs", "001*", "--sources", str(src))
    r = CliRunner().invoke(app, ["eval", "diff", a, b, "--runs", str(tmp_path / "runs")],
                           terminal_width=200)
    assert r.exit_code == 0
    assert "1 cells changed (0 better, 1 worse, 0 changed)" in r.stdout
    assert f"{key[0]} / {key[1]} / {key[2]}" in r.stdout
    # a run folder works as well as an id
    r = CliRunner().invoke(app, ["eval", "diff", str(tmp_path / "runs" / a), b, "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 0
    r = CliRunner().invoke(app, ["eval", "diff", a, "no-such-run", "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 2 and "no-such-run: no such run" in r.stderr and "Traceback" not in r.output
    bad = tmp_path / "runs" / "broken"
    bad.mkdir()
    (bad / "results.json").write_text("{not json", encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "diff", a, "broken", "--runs", str(tmp_path / "runs")])
    assert r.exit_code == 2 and "cannot read" in r.stderr
