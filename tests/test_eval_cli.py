"""`structurer eval`: the CI gate on the seeds (rules backend, threshold), --fail-under exit
codes, the saved run folder, and the terminal / JSON / Markdown outputs."""
from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD, SEEDS
from structurer.cli import app

# The gate CI runs: the rules backend on all five seeds must keep its cell F1 at or above this.
RULES_GATE = 0.99


def invoke(*args: str, width: int = 220):
    return CliRunner().invoke(app, ["eval", *args], terminal_width=width)


def test_ci_gate_rules_backend_on_the_seeds(tmp_path):
    r = invoke("--gold", str(GOLD), "--docs", "*.txt", "--backend", "rules", "--fail-under", str(RULES_GATE),
               "--runs", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    col = data["columns"]["rules"]
    assert sorted(col["docs"]) == SEEDS
    for doc, d in col["docs"].items():
        c = d["cells"]["counts"]
        print(f"{doc}: cells P={c['precision']:.4f} R={c['recall']:.4f} F1={c['f1']:.4f}")
        assert c["f1"] >= RULES_GATE, (doc, [o for o in d["cells"]["outcomes"] if o[3] != "ok"][:5])
    assert col["overall"]["cells"]["tp"] + col["overall"]["cells"]["fn"] == sum(
        1 for d in col["docs"].values() for o in d["cells"]["outcomes"] if o[4] is not None and o[3] != "duplicate")
    assert col["failures"] == 0 and col["overall"]["checks"]["fn"] == 0


def mutated_sources(tmp_path: Path, n: int) -> Path:
    """Sources where the first n amounts printed with two decimals in 000's tables get one more
    unit in their last digit: n cells are wrong, nothing else moves."""
    src = tmp_path / "sources"
    shutil.copytree(EXAMPLES, src)
    p = src / "000_ce6cab5f862a266e.txt"
    text = p.read_text(encoding="utf-8")
    from structurer.pipeline import extract_file

    doc = extract_file(EXAMPLES / p.name)
    cells = [c for t in doc.tables if t.id in ("expenditure", "revenue") for r in t.rows for c in r.cells
             if c.value and re.fullmatch(r"\d+\.\d\d", c.printed) and c.span.line_start == c.span.line_end]
    assert len(cells) >= n
    for c in cells[:n]:
        i = c.span.end - 1
        text = text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:]
    p.write_text(text, encoding="utf-8")
    return src


def test_fail_under_exit_codes(tmp_path):
    src = mutated_sources(tmp_path, 4)
    base = ["--gold", str(GOLD), "--docs", "000*", "--sources", str(src), "--runs", str(tmp_path / "runs")]
    r = invoke(*base, "--json")
    f1 = json.loads(r.stdout)["columns"]["rules"]["overall"]["cells"]["f1"]
    assert 0.9 < f1 < 1.0  # 4 of 162 cells wrong
    below = invoke(*base, "--fail-under", f"{f1 + 0.001:.4f}")
    assert below.exit_code == 1
    assert re.search(r"gate.*rules: cell F1 0\.\d{4} is below --fail-under", below.stderr)
    assert invoke(*base, "--fail-under", f"{f1 - 0.001:.4f}").exit_code == 0
    assert invoke(*base, "--fail-under", "0").exit_code == 0
    assert invoke(*base).exit_code == 0  # no gate, no failure
    assert invoke(*base, "--fail-under", "-0.1").exit_code == 2


def test_run_folder_json_markdown_and_matrix(tmp_path):
    src = mutated_sources(tmp_path, 1)
    md = tmp_path / "report" / "eval.md"
    runs = tmp_path / "runs"
    r = invoke("--gold", str(GOLD), "--docs", "00[01]*", "--sources", str(src), "--runs", str(runs),
               "--markdown", str(md))
    assert r.exit_code == 0, r.output
    (folder,) = runs.iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-rules", folder.name)
    assert {p.name for p in folder.iterdir()} == {"config.json", "results.json", "report.md", "documents"}
    docs = sorted(p.name for p in (folder / "documents" / "rules").iterdir())
    assert docs == ["000_ce6cab5f862a266e.json", "001_e48c9036102b6734.json"]
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert cfg["id"] == folder.name and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", cfg["time"])
    assert cfg["columns"] == [{"name": "rules", "backend": "rules", "model": None, "models_seen": [],
                               "prompt_versions": {}}]
    assert cfg["git"]["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", cfg["git"]["commit"])
    assert sorted(cfg["gold_files"]) == [p.name for p in sorted(GOLD.glob("*.yaml"))][:2]
    assert cfg["docs"] == "00[01]*" and cfg["sources"] == str(src)
    # the Markdown report: written where asked and in the run folder, with the wrong cell
    text = md.read_text(encoding="utf-8")
    assert text == (folder / "report.md").read_text(encoding="utf-8")
    assert f"# Eval {folder.name}" in text and "| metric | rules |" in text
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    (bad,) = [o for d in results["columns"]["rules"]["docs"].values() for o in d["cells"]["outcomes"] if o[3] != "ok"]
    table, row, column, status, gold, got, printed, gold_printed, lines, _ = bad
    assert status == "wrong" and Decimal(got) - Decimal(gold) in (Decimal("0.01"), Decimal("-0.09"))
    line = next(x for x in text.splitlines() if f"| {table} | {row} | {column} |" in x)
    assert f"{gold_printed} = {gold}元" in line and f"✗ {printed} = {got}元 L{lines[0]}" in line
    # the check findings the misread value causes are listed as not in gold
    assert "check finding not in gold" in text
    # the terminal matrix: one row per document and per table kind, then the wrong cell
    out = r.stdout
    for label in ("F1 (all documents)", "000_ce6cab5f862a266e", "001_e48c9036102b6734", "expenditure",
                  "narrative facts F1", "performance indicators F1", "check findings", "wall time (s)"):
        assert label in out, label
    assert f"{table} / {row} / {column}" in out and "cells not right in some column (1)" in out


def test_json_is_the_full_results(tmp_path):
    r = invoke("--gold", str(GOLD), "--docs", "002*", "--runs", str(tmp_path), "--json")
    data = json.loads(r.stdout)
    assert data["format"] == "structurer-eval/1" and data["id"] and data["config"]["columns"][0]["name"] == "rules"
    d = data["columns"]["rules"]["docs"]["002_a298566b0f87c85f.txt"]
    assert set(d) >= {"cells", "meta", "narrative", "performance", "checks", "usage", "wall_s", "error"}
    assert set(d["meta"]["fields"]) == {"agency", "agency_code", "year", "kind", "unit", "scope"}
    assert data["columns"]["rules"]["usage"]["requests"] == 0
    assert json.loads((tmp_path / data["id"] / "results.json").read_text(encoding="utf-8"))["id"] == data["id"]


@pytest.mark.parametrize("models,expected", [
    ([], ["rules"]),
    (["a", "b"], ["rules", "llm:a", "llm:b"]),
])
def test_columns_from_backend_and_model_options(models, expected):
    from structurer.evaluation.runner import plan_columns

    assert [c.name for c in plan_columns(None, models)] == expected
    assert [c.name for c in plan_columns(["llm"], ["a"])] == ["llm:a"]
    assert [c.name for c in plan_columns(["rules", "hybrid"], ["a", "a"])] == ["rules", "hybrid:a"]
