"""`structurer export`: schema, exact decimals, provenance, idempotence, Parquet and CSV."""
from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from structurer.batch.export import SCHEMA, ExportError, _fits, schema_markdown
from structurer.batch.runner import BatchOptions, run_batch
from structurer.cli import app
from structurer.model import Document
from test_batch_support import salt, seed_copies, table_contents

runner = CliRunner()

# The documented schema, spelled out here so that any change to it fails a test.
EXPECTED = {
    "documents": "doc VARCHAR, status VARCHAR, error VARCHAR, sha256 VARCHAR, source VARCHAR, "
                 "format VARCHAR, encoding VARCHAR, agency VARCHAR, agency_code VARCHAR, year INTEGER, "
                 "kind VARCHAR, unit VARCHAR, scope VARCHAR, backend VARCHAR, model VARCHAR, "
                 "prompt_versions VARCHAR, n_tables INTEGER, n_cells INTEGER, n_narrative_facts INTEGER, "
                 "n_performance_targets INTEGER, n_extraction_warnings INTEGER, checks_pass INTEGER, "
                 "checks_rounding INTEGER, checks_fail INTEGER, checks_insufficient_data INTEGER, "
                 "checks_not_applicable INTEGER, findings_error INTEGER, findings_warning INTEGER, "
                 "requests INTEGER, prompt_tokens BIGINT, completion_tokens BIGINT, cost DECIMAL(38,10), "
                 "json_path VARCHAR",
    "doc_tables": "doc VARCHAR, table_seq INTEGER, table_id VARCHAR, title VARCHAR, unit VARCHAR, "
              "empty BOOLEAN, empty_note VARCHAR, n_rows INTEGER, line_start INTEGER, line_end INTEGER",
    "cells": "doc VARCHAR, table_seq INTEGER, table_id VARCHAR, row_seq INTEGER, cell_seq INTEGER, row_id VARCHAR, "
             "row_label VARCHAR, row_code VARCHAR, column_id VARCHAR, value DECIMAL(38,4), "
             "value_unit VARCHAR, unit VARCHAR, printed VARCHAR, status VARCHAR, row_note VARCHAR, "
             "line_start INTEGER, line_end INTEGER, char_start INTEGER, char_end INTEGER, "
             "page INTEGER, x0 DOUBLE, top DOUBLE, x1 DOUBLE, bottom DOUBLE, confidence DOUBLE, "
             "low_confidence BOOLEAN",
    "findings": "doc VARCHAR, finding_seq INTEGER, identity VARCHAR, title VARCHAR, table_id VARCHAR, "
                "instance VARCHAR, severity VARCHAR, reason VARCHAR, op VARCHAR, left_value DECIMAL(38,10), "
                "right_value DECIMAL(38,10), delta DECIMAL(38,10), envelope DECIMAL(38,10), binding VARCHAR, "
                "diag_table VARCHAR, diag_row VARCHAR, diag_column VARCHAR, diag_current DECIMAL(38,10), "
                "diag_fix DECIMAL(38,10), diag_explains INTEGER, line_start INTEGER, line_end INTEGER",
    "finding_terms": "doc VARCHAR, finding_seq INTEGER, term_seq INTEGER, table_id VARCHAR, row_id VARCHAR, "
                     "column_id VARCHAR, coefficient INTEGER, value DECIMAL(38,10), printed VARCHAR, "
                     "unit VARCHAR, kind VARCHAR, line_start INTEGER, line_end INTEGER",
    "narrative_facts": "doc VARCHAR, fact_seq INTEGER, key VARCHAR, kind VARCHAR, value DECIMAL(38,4), "
                       "value_unit VARCHAR, unit VARCHAR, printed VARCHAR, context VARCHAR, "
                       "line_start INTEGER, line_end INTEGER, char_start INTEGER, char_end INTEGER",
    "performance_targets": "doc VARCHAR, target_seq INTEGER, project VARCHAR, amount DECIMAL(38,4), "
                           "amount_printed VARCHAR, amount_unit VARCHAR, n_indicators INTEGER, "
                           "line_start INTEGER, line_end INTEGER",
    "performance_indicators": "doc VARCHAR, target_seq INTEGER, indicator_seq INTEGER, level1 VARCHAR, "
                              "level2 VARCHAR, level3 VARCHAR, description VARCHAR, value VARCHAR, "
                              "basis VARCHAR, line_start INTEGER, line_end INTEGER",
}

HEALTH_BY_AGENCY_YEAR = """
SELECT d.agency, d.year, d.kind, c.value AS health_yuan
FROM cells c JOIN documents d USING (doc)
WHERE c.table_id = 'revenue_expenditure_summary' AND c.row_id = '210' AND c.column_id = 'amount'
  AND c.status <> 'suspect'
ORDER BY d.agency, d.year
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    src, out = base / "in", base / "out"
    good = seed_copies(src)
    salt(src)
    run_batch(BatchOptions(src, out, jobs=2))
    result = runner.invoke(app, ["export", str(out), "--duckdb", str(base / "db.duckdb"),
                                 "--parquet", str(base / "pq"), "--csv", str(base / "csv")])
    assert result.exit_code == 0, result.output
    return {"base": base, "src": src, "out": out, "good": good, "db": base / "db.duckdb"}


def _con(db: Path):
    return duckdb.connect(str(db), read_only=True)


def test_schema_columns_and_types(exported):
    con = _con(exported["db"])
    got = {}
    for table, column, typ in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position").fetchall():
        got.setdefault(table, []).append(f"{column} {typ}")
    assert {t: ", ".join(cols) for t, cols in got.items()} == EXPECTED


def test_the_schema_is_documented():
    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    assert schema_markdown() in doc, "docs/batch.md is out of date: paste schema_markdown() into it"


def test_values_are_exact_decimals_equal_to_the_documents(exported):
    con = _con(exported["db"])
    total = Decimal(0)
    for doc_id, json_path in con.execute("SELECT doc, json_path FROM documents WHERE status='done'").fetchall():
        doc = Document.model_validate_json((exported["out"] / json_path).read_bytes())
        want = {(ti, ri, c.column): (c.value, c.printed, c.unit, c.span.line_start, c.span.line_end)
                for ti, t in enumerate(doc.tables) for ri, r in enumerate(t.rows) for c in r.cells}
        got = {(ti, ri, col): tuple(rest) for ti, ri, col, *rest in con.execute(
            "SELECT table_seq, row_seq, column_id, value, printed, unit, line_start, line_end "
            "FROM cells WHERE doc=?", [doc_id]).fetchall()}
        assert got == want
        facts = con.execute("SELECT value, printed FROM narrative_facts WHERE doc=? ORDER BY fact_seq",
                            [doc_id]).fetchall()
        assert facts == [(f.value, f.printed) for f in doc.narrative]
        amounts = con.execute("SELECT amount FROM performance_targets WHERE doc=? ORDER BY target_seq",
                              [doc_id]).fetchall()
        assert amounts == [(p.amount,) for p in doc.performance]
        total += sum((c[0] for c in want.values() if c[0] is not None), Decimal(0))
    (summed,) = con.execute("SELECT sum(value) FROM cells").fetchone()
    assert isinstance(summed, Decimal) and summed == total


def test_provenance_points_at_the_printed_text(exported):
    con = _con(exported["db"])
    checked = 0
    for doc_id, printed, start, end, a, b in con.execute(
            "SELECT doc, printed, line_start, line_end, char_start, char_end FROM cells "
            "WHERE doc LIKE '省%'").fetchall():
        text = (exported["src"] / doc_id).read_text(encoding="utf-8")
        lines = text.split("\n")[start - 1:end]
        first = printed.split("\n")[0]
        assert first in lines[0] and text[a:].startswith(first), (doc_id, printed, start)
        checked += 1
    assert checked > 1000


def test_example_query_each_agencys_health_spending_by_year(exported):
    got = _con(exported["db"]).execute(HEALTH_BY_AGENCY_YEAR).fetchall()
    assert ("南宫市医疗保障局", 2023, "budget", Decimal("68050200.0000")) in got
    assert ("临西县医疗保障局本级", 2024, "budget", Decimal("47350100.0000")) in got
    assert ("南阳市医疗保障局", 2023, "final", Decimal("12400700.0000")) in got
    assert ("漯河市郾城区医疗保障局", 2024, "budget", Decimal("73326400.0000")) in got


def test_the_documented_example_queries_run(exported):
    import re

    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", doc, re.S)
    assert len(queries) >= 4
    con = _con(exported["db"])
    results = [con.execute(q).fetchall() for q in queries]
    assert results[0] == con.execute(HEALTH_BY_AGENCY_YEAR).fetchall()
    assert ("南宫市医疗保障局", 2023, "省0/2020/000_ce6cab5f862a266e.txt", Decimal("68050200"),
            Decimal("3418000"), Decimal("64632200")) in results[1]


def test_failed_documents_are_listed_with_their_reason_and_no_data(exported):
    con = _con(exported["db"])
    failed = con.execute("SELECT doc, error FROM documents WHERE status='failed' ORDER BY doc").fetchall()
    assert [d for d, _ in failed] == ["bad/binary.txt", "bad/empty.txt", "bad/notice.txt", "bad/truncated.pdf"]
    assert all(e and "\n" not in e for _, e in failed)
    assert con.execute("SELECT count(*) FROM cells WHERE doc LIKE 'bad/%' AND doc <> 'bad/gbk.txt'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM cells WHERE doc = 'bad/gbk.txt'").fetchone()[0] > 100


def test_findings_and_their_terms(exported):
    con = _con(exported["db"])
    manifest = sqlite3.connect(exported["out"] / "manifest.sqlite")
    want = manifest.execute("SELECT path, seq, identity, severity, terms FROM findings ORDER BY path, seq").fetchall()
    got = con.execute("SELECT doc, finding_seq, identity, severity FROM findings ORDER BY doc, finding_seq").fetchall()
    assert got == [w[:4] for w in want] and got
    for path, seq, _, _, terms in want:
        n = con.execute("SELECT count(*) FROM finding_terms WHERE doc=? AND finding_seq=?", [path, seq]).fetchone()
        assert n == (len(json.loads(terms)),)
    assert con.execute("SELECT count(*) FROM findings WHERE line_start IS NULL").fetchone() == (0,)
    counts = con.execute("SELECT sum(checks_fail) FROM documents").fetchone()[0]
    assert counts == len(got)


def test_reexport_is_idempotent(exported):
    base = exported["base"]
    before = table_contents(exported["db"])
    csv_before = {p.name: p.read_bytes() for p in (base / "csv").iterdir()}
    pq_before = {t: duckdb.sql(f"SELECT * FROM '{base / 'pq' / (t + '.parquet')}'").fetchall() for t in SCHEMA}
    result = runner.invoke(app, ["export", str(exported["out"]), "--duckdb", str(exported["db"]),
                                 "--parquet", str(base / "pq"), "--csv", str(base / "csv")])
    assert result.exit_code == 0
    assert table_contents(exported["db"]) == before
    assert {p.name: p.read_bytes() for p in (base / "csv").iterdir()} == csv_before
    assert {t: duckdb.sql(f"SELECT * FROM '{base / 'pq' / (t + '.parquet')}'").fetchall() for t in SCHEMA} == pq_before
    assert sorted(p.name for p in base.iterdir()) == ["csv", "db.duckdb", "in", "out", "pq"]  # no leftovers


def test_parquet_keeps_exact_decimals_and_csv_the_same_rows(exported):
    base = exported["base"]
    con = _con(exported["db"])
    for table in SCHEMA:
        types = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                 f"WHERE table_name='{table}'").fetchall())
        pq = duckdb.sql(f"DESCRIBE SELECT * FROM '{base / 'pq' / (table + '.parquet')}'").fetchall()
        assert {name: typ for name, typ, *_ in pq} == types
        n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        assert duckdb.sql(f"SELECT count(*) FROM read_csv('{base / 'csv' / (table + '.csv')}', "
                          f"header=true, all_varchar=true)").fetchall() == [(n,)]


def test_export_refuses_in_one_line(tmp_path):
    result = runner.invoke(app, ["export", str(tmp_path), "--duckdb", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2 and "not a batch output folder" in result.output
    result = runner.invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 2 and "--duckdb FILE" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.duckdb").exists()


def test_a_value_that_would_be_rounded_is_refused():
    row = {"doc": "a.txt"}
    assert _fits(Decimal("12.3400000"), 4, "DECIMAL(38,4)", row, "cells", "value") == "12.3400000"
    assert _fits(Decimal("1E+3"), 4, "DECIMAL(38,4)", row, "cells", "value") == "1000"
    with pytest.raises(ExportError, match=r"a.txt: cells.value: 1.23456 does not fit DECIMAL\(38,4\) exactly"):
        _fits(Decimal("1.23456"), 4, "DECIMAL(38,4)", row, "cells", "value")
    with pytest.raises(ExportError, match="too large"):
        _fits(Decimal("1e40"), 4, "DECIMAL(38,4)", row, "cells", "value")


def test_describe_works_on_every_exported_table(exported):
    # a table named `tables` would clash with DuckDB's DESCRIBE TABLES statement
    con = _con(exported["db"])
    for name, columns in SCHEMA.items():
        described = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
        assert described == [c[0] for c in columns], name


def test_partitioned_parquet_holds_every_table_by_year_readable_in_place(exported, tmp_path):
    from structurer.batch.export import ORDER

    folder = tmp_path / "pq"
    result = runner.invoke(app, ["export", str(exported["out"]), "--parquet", str(folder), "--partition-by", "year"])
    assert result.exit_code == 0, result.output
    con = _con(exported["db"])
    years = {y for (y,) in con.execute("SELECT DISTINCT year FROM documents").fetchall()}
    for table, columns in SCHEMA.items():
        names = ", ".join(f'"{c[0]}"' for c in columns)
        keys = ", ".join(ORDER[table])
        want = con.execute(f'SELECT {names} FROM "{table}" ORDER BY {keys}').fetchall()
        source = f"read_parquet('{folder / table}/**/*.parquet', hive_partitioning=true, hive_types={{'year': INTEGER}})"
        got = duckdb.sql(f"SELECT {names} FROM {source} ORDER BY {keys}").fetchall() if want else []
        assert got == want, table
        if table != "documents" and want:  # each row sits in its document's year
            wrong = duckdb.sql(f"SELECT count(*) FROM {source} t JOIN (SELECT doc, year AS y FROM "
                               f"read_parquet('{folder}/documents/**/*.parquet', hive_partitioning=true)) d "
                               f"USING (doc) WHERE t.year IS DISTINCT FROM d.y").fetchall()[0][0]
            assert wrong == 0, table
    dirs = {p.name for p in (folder / "cells").iterdir()}
    assert len(dirs) > 1 and dirs <= {f"year={'NULL' if y is None else y}" for y in years}
    again = runner.invoke(app, ["export", str(exported["out"]), "--parquet", str(folder), "--partition-by", "year"])
    assert again.exit_code == 0 and sorted(p.name for p in folder.iterdir()) == sorted(SCHEMA)  # replaced, no leftovers
    bad = runner.invoke(app, ["export", str(exported["out"]), "--parquet", str(folder), "--partition-by", "agency"])
    assert bad.exit_code == 2 and "cannot partition by agency (choose from year, kind)" in bad.output
