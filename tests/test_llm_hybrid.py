"""The `hybrid` backend: rules first; the model (the test server) only for what the rules
could not parse or where checks fail; its values taken only when grounded and the checks
improve."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES, GOLD, extracted
from openai_server import GoldModel, OpenAIServer, settings_for
from structurer.gold import load_gold
from structurer.llm.backend import extract_with_llm
from structurer.pipeline import extract_prepared, prepare
from structurer.evaluation.cells import document_cells

SEED = "000_ce6cab5f862a266e"
TABLE = "expenditure"


def scrambled_variant(tmp_path: Path, table: str = TABLE) -> Path:
    """Seed 000 with one table's rows rewritten as sentences ("本行列示：1；合计；681002 00.00…。"):
    every value still printed, in a layout no table rule reads."""
    src = (EXAMPLES / f"{SEED}.txt").read_text(encoding="utf-8").split("\n")
    sec = next(s for s in prepare(EXAMPLES / f"{SEED}.txt").seg.sections if s.id == table)
    out = list(src)
    for i in range(sec.first + 1, sec.last + 1):
        if "\t" in src[i]:
            text = "；".join(c.strip() for c in src[i].split("\t") if c.strip())
            out[i] = f"本行列示：{text}。" if text else ""
    p = tmp_path / f"{SEED}.txt"
    p.write_text("\n".join(out), encoding="utf-8")
    return p


def _cells(doc, table):
    return {k: v for k, v in document_cells(doc).items() if k[0] == table}


def test_hybrid_fills_the_table_the_rules_cannot_parse_and_leaves_the_rest(tmp_path):
    path = scrambled_variant(tmp_path)
    rules = extract_prepared(prepare(path))
    assert not any(r.cells for r in rules.table(TABLE).rows)  # the rules read nothing there
    gm = GoldModel(GOLD / f"{SEED}.yaml")
    with OpenAIServer(gm) as srv:
        doc = extract_with_llm(prepare(path), "hybrid", settings=settings_for(srv, tmp_path / "cache"))
        assert srv.count == 1 and gm.answered == [TABLE]  # only that table went to the model
    gold = load_gold(GOLD / f"{SEED}.yaml")
    assert _cells(doc, TABLE) == {k: v for k, v in gold.cells.items() if k[0] == TABLE}
    lines = path.read_text(encoding="utf-8").split("\n")
    for r in doc.table(TABLE).rows:  # spans point into the rewritten lines
        for c in r.cells:
            assert lines[c.span.line_start - 1].startswith("本行列示")
    # everything else is the rules' own output, untouched
    for t, rt in zip(doc.tables, rules.tables):
        if t.id != TABLE:
            assert t.model_dump() == rt.model_dump()
    assert doc.narrative == rules.narrative and doc.performance == rules.performance
    original = extracted(f"{SEED}.txt")
    assert {k: v for k, v in document_cells(doc).items() if k[0] != TABLE} == \
        {k: v for k, v in document_cells(original).items() if k[0] != TABLE}
    assert doc.backend == "hybrid" and doc.model == "test-model"
    assert any(w.startswith(f"hybrid: {TABLE}: rules: no value parsed; took") for w in doc.warnings)
    assert doc.usage.requests == 1 and doc.prompt_versions.keys() == {"table"}


def test_hybrid_refuses_grounded_values_that_make_checks_worse(tmp_path):
    """Grounded values in the wrong column (a row's project amount, printed on its line, also
    given as its basic amount) break total = basic + project: they are not taken."""
    path = scrambled_variant(tmp_path)

    def doubled(table, row):
        cols = {c["col"]: c for c in row["cells"]}
        if "project" in cols and "basic" not in cols:
            row["cells"].append({**cols["project"], "col": "basic"})
        return row

    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml", mutate=doubled)) as srv:
        doc = extract_with_llm(prepare(path), "hybrid", settings=settings_for(srv, tmp_path / "cache"))
        assert srv.count == 1
    assert _cells(doc, TABLE) == {}  # the rules' (empty) table stays
    assert any("not taken (checks would not improve" in w for w in doc.warnings)


def test_hybrid_asks_about_no_table_when_the_rules_parse_them_and_checks_hold(tmp_path):
    """Seed 003: every table parsed, no failing check: no table goes to the model (only
    performance blocks in which the rules found no target do)."""
    name = "003_fd949bb5025c67e5"
    rules = extracted(f"{name}.txt")
    gm = GoldModel(GOLD / f"{name}.yaml")
    with OpenAIServer(gm) as srv:
        doc = extract_with_llm(prepare(EXAMPLES / f"{name}.txt"), "hybrid",
                               settings=settings_for(srv, tmp_path))
        asked = [r.user.splitlines()[0] for r in srv.requests]
    assert gm.answered == [] and not any(a.startswith("Table ") for a in asked)
    assert document_cells(doc) == document_cells(rules)
    assert doc.performance == rules.performance  # the model found no block there either
    assert doc.backend == "hybrid" and doc.usage.requests == len(asked)


@pytest.mark.parametrize("name", ["004_397ecf54ea00b92f"])
def test_hybrid_keeps_rules_when_the_model_agrees(tmp_path, name):
    """Suspect rows send a table to the model; the same values do not improve the checks,
    so the rules' table (with its flagged garbage rows) stays as it was."""
    rules = extracted(f"{name}.txt")
    with OpenAIServer(GoldModel(GOLD / f"{name}.yaml")) as srv:
        doc = extract_with_llm(prepare(EXAMPLES / f"{name}.txt"), "hybrid", settings=settings_for(srv, tmp_path))
        assert srv.count >= 1
    assert document_cells(doc) == document_cells(rules)
    assert [r.id for t in doc.tables for r in t.rows if r.suspect] == \
        [r.id for t in rules.tables for r in t.rows if r.suspect]
