"""Export a batch's results as relational tables: DuckDB, Parquet and/or CSV.

The export is a pure function of the output folder: the manifest (`manifest.sqlite`) says which
documents are finished, and their JSON files (`docs/…`) hold the data. Every target is rebuilt
from scratch in a temporary file and renamed into place, so re-exporting gives the same tables
and a reader never sees half an export. Memory is flat in corpus size: documents are read one
at a time and streamed into staging files that DuckDB loads (and writes Parquet from) itself.

Amounts are exact DECIMALs (never floats): money in 元 as DECIMAL(38,4) (a 万元 figure printed
with up to 6 decimals is still exact), values computed by the checks (sums, deltas, shares)
as DECIMAL(38,10). A value that would not fit its type stops the export with an error rather
than being rounded. The schema is `SCHEMA` below, documented in docs/batch.md.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path

from ..model import Document
from .manifest import FILENAME, ManifestError, connect

MONEY = "DECIMAL(38,4)"  # values of the document (cells, narrative amounts, performance amounts)
COMPUTED = "DECIMAL(38,10)"  # values computed by the checks
_SCALE = {MONEY: 4, COMPUTED: 10}
_WIDE = Context(prec=80)

# table → (column, type, description); the order is the column order.
SCHEMA: dict[str, tuple[tuple[str, str, str], ...]] = {
    "documents": (
        ("doc", "VARCHAR", "input path relative to INPUT_DIR ('/'-separated): the key of every table"),
        ("status", "VARCHAR", "done | failed | pending (not finished yet: interrupted or running)"),
        ("error", "VARCHAR", "one-line reason when failed"),
        ("sha256", "VARCHAR", "SHA-256 of the input file's bytes"),
        ("source", "VARCHAR", "input file name"),
        ("format", "VARCHAR", "txt | pdf | docx"),
        ("encoding", "VARCHAR", "detected text encoding (or pdf / docx)"),
        ("agency", "VARCHAR", "agency (部门/单位) as printed in the title"),
        ("agency_code", "VARCHAR", "agency code when printed"),
        ("year", "INTEGER", "budget / final-accounts year"),
        ("kind", "VARCHAR", "budget | final"),
        ("unit", "VARCHAR", "the document's main unit as printed: 元 | 万元"),
        ("scope", "VARCHAR", "department | unit"),
        ("backend", "VARCHAR", "rules | llm | hybrid"),
        ("model", "VARCHAR", "LLM model (llm/hybrid backends)"),
        ("prompt_versions", "VARCHAR", "JSON object: prompt name → version"),
        ("n_tables", "INTEGER", "tables extracted"),
        ("n_cells", "INTEGER", "cells extracted"),
        ("n_narrative_facts", "INTEGER", "narrative facts extracted"),
        ("n_performance_targets", "INTEGER", "performance targets extracted"),
        ("n_extraction_warnings", "INTEGER", "warnings of the extraction"),
        ("checks_pass", "INTEGER", "identity checks that hold exactly"),
        ("checks_rounding", "INTEGER", "checks off by no more than the printed precision (尾差)"),
        ("checks_fail", "INTEGER", "failed checks (= rows in findings)"),
        ("checks_insufficient_data", "INTEGER", "checks that could not run (a value is missing or unreadable)"),
        ("checks_not_applicable", "INTEGER", "checks whose rows or columns the document does not print"),
        ("findings_error", "INTEGER", "failed checks of severity error"),
        ("findings_warning", "INTEGER", "failed checks of severity warning"),
        ("requests", "INTEGER", "LLM requests sent (NULL for rules)"),
        ("prompt_tokens", "BIGINT", "LLM prompt tokens (NULL for rules)"),
        ("completion_tokens", "BIGINT", "LLM completion tokens (NULL for rules)"),
        ("cost", COMPUTED, "LLM cost (NULL for rules)"),
        ("json_path", "VARCHAR", "the document JSON, relative to the batch output folder"),
    ),
    "tables": (
        ("doc", "VARCHAR", "documents.doc"),
        ("table_seq", "INTEGER", "position of the table in the document (0-based)"),
        ("table_id", "VARCHAR", "canonical table id (revenue_expenditure_summary, expenditure, …)"),
        ("title", "VARCHAR", "title as printed"),
        ("unit", "VARCHAR", "unit as printed: 元 | 万元"),
        ("empty", "BOOLEAN", "the document states the table is empty (空表)"),
        ("empty_note", "VARCHAR", "the statement, as printed"),
        ("n_rows", "INTEGER", "rows extracted"),
        ("line_start", "INTEGER", "first source line (1-based)"),
        ("line_end", "INTEGER", "last source line (inclusive)"),
    ),
    "cells": (
        ("doc", "VARCHAR", "documents.doc"),
        ("table_seq", "INTEGER", "tables.table_seq"),
        ("table_id", "VARCHAR", "canonical table id"),
        ("row_seq", "INTEGER", "position of the row in the table (0-based)"),
        ("cell_seq", "INTEGER", "position of the cell in the row (0-based)"),
        ("row_id", "VARCHAR", "classification code (210, 2101501, 30101…) or canonical key (revenue.grand_total, total…)"),
        ("row_label", "VARCHAR", "row name as printed"),
        ("row_code", "VARCHAR", "classification code when the row has one"),
        ("column_id", "VARCHAR", "canonical column id (total, basic, project, amount…)"),
        ("value", MONEY, "exact value: 元 for money (万元 × 10000), a count when value_unit = count; NULL when unreadable"),
        ("value_unit", "VARCHAR", "元 | count"),
        ("unit", "VARCHAR", "unit the value is printed in: 元 | 万元 | count"),
        ("printed", "VARCHAR", "the cell's text exactly as in the source"),
        ("status", "VARCHAR", "ok | unreadable | suspect (suspect: the row contradicts its table; exclude it)"),
        ("row_note", "VARCHAR", "why a row is suspect"),
        ("line_start", "INTEGER", "first source line of the printed value (1-based)"),
        ("line_end", "INTEGER", "last source line (inclusive)"),
        ("char_start", "INTEGER", "0-based character offset in the ingested text"),
        ("char_end", "INTEGER", "end offset (exclusive)"),
        ("page", "INTEGER", "PDF page the value is printed on (1-based); NULL for text sources"),
        ("x0", "DOUBLE", "left edge of the printed value on its page, points from the left"),
        ("top", "DOUBLE", "top edge, points from the top of the page"),
        ("x1", "DOUBLE", "right edge"),
        ("bottom", "DOUBLE", "bottom edge"),
    ),
    "findings": (
        ("doc", "VARCHAR", "documents.doc"),
        ("finding_seq", "INTEGER", "number of the finding in the document (1-based)"),
        ("identity", "VARCHAR", "check id (coded.hierarchy, summary.grand_total, narrative.amount…)"),
        ("title", "VARCHAR", "what the check states"),
        ("table_id", "VARCHAR", "table the check ran on (narrative for prose checks)"),
        ("instance", "VARCHAR", "check id with its table and binding: unique in a document"),
        ("severity", "VARCHAR", "error | warning"),
        ("reason", "VARCHAR", "why, when no delta (e.g. an unreadable number)"),
        ("op", "VARCHAR", "= | <= | >="),
        ("left_value", COMPUTED, "left side (元, or percent for shares)"),
        ("right_value", COMPUTED, "right side"),
        ("delta", COMPUTED, "left − right"),
        ("envelope", COMPUTED, "rounding the printed values allow; |delta| beyond it is a finding"),
        ("binding", "VARCHAR", "JSON object: the row / column / parent the check was instantiated for"),
        ("diag_table", "VARCHAR", "the single cell most likely wrong: table"),
        ("diag_row", "VARCHAR", "… row"),
        ("diag_column", "VARCHAR", "… column"),
        ("diag_current", COMPUTED, "… its value"),
        ("diag_fix", COMPUTED, "… the value that would satisfy the check"),
        ("diag_explains", "INTEGER", "… how many failing checks that one change would satisfy"),
        ("line_start", "INTEGER", "source line of the likely wrong cell (else of the first term)"),
        ("line_end", "INTEGER", "last source line of it"),
    ),
    "finding_terms": (
        ("doc", "VARCHAR", "documents.doc"),
        ("finding_seq", "INTEGER", "findings.finding_seq"),
        ("term_seq", "INTEGER", "position of the term (1-based)"),
        ("table_id", "VARCHAR", "table of the value (narrative for prose)"),
        ("row_id", "VARCHAR", "row (or narrative key)"),
        ("column_id", "VARCHAR", "column"),
        ("coefficient", "INTEGER", "+1 left side, −1 right side"),
        ("value", COMPUTED, "the value (元 / percent)"),
        ("printed", "VARCHAR", "as printed"),
        ("unit", "VARCHAR", "printed unit"),
        ("kind", "VARCHAR", "cell | narrative"),
        ("line_start", "INTEGER", "source line"),
        ("line_end", "INTEGER", "last source line"),
    ),
    "narrative_facts": (
        ("doc", "VARCHAR", "documents.doc"),
        ("fact_seq", "INTEGER", "position in the document (0-based)"),
        ("key", "VARCHAR", "canonical key (revenue.grand_total, three_public.total, …)"),
        ("kind", "VARCHAR", "amount | share | change"),
        ("value", MONEY, "exact value: 元 for amounts and amount changes, percent for shares and % changes"),
        ("value_unit", "VARCHAR", "元 | %"),
        ("unit", "VARCHAR", "unit as printed (万元, 元, %)"),
        ("printed", "VARCHAR", "number as printed"),
        ("context", "VARCHAR", "the sentence around it"),
        ("line_start", "INTEGER", "source line"),
        ("line_end", "INTEGER", "last source line"),
        ("char_start", "INTEGER", "0-based character offset"),
        ("char_end", "INTEGER", "end offset (exclusive)"),
    ),
    "performance_targets": (
        ("doc", "VARCHAR", "documents.doc"),
        ("target_seq", "INTEGER", "position in the document (0-based)"),
        ("project", "VARCHAR", "project name as printed"),
        ("amount", MONEY, "project amount in 元 (NULL when not printed)"),
        ("amount_printed", "VARCHAR", "amount as printed"),
        ("amount_unit", "VARCHAR", "unit as printed"),
        ("n_indicators", "INTEGER", "indicators in performance_indicators"),
        ("line_start", "INTEGER", "first source line of the target table"),
        ("line_end", "INTEGER", "last source line"),
    ),
    "performance_indicators": (
        ("doc", "VARCHAR", "documents.doc"),
        ("target_seq", "INTEGER", "performance_targets.target_seq"),
        ("indicator_seq", "INTEGER", "position in the target (0-based)"),
        ("level1", "VARCHAR", "一级指标"),
        ("level2", "VARCHAR", "二级指标"),
        ("level3", "VARCHAR", "三级指标"),
        ("description", "VARCHAR", "indicator text"),
        ("value", "VARCHAR", "指标值 as printed (≥95%, ≤10万元, …)"),
        ("basis", "VARCHAR", "basis / remark when printed"),
        ("line_start", "INTEGER", "source line"),
        ("line_end", "INTEGER", "last source line"),
    ),
}
# Natural order of each table (also its key).
ORDER: dict[str, tuple[str, ...]] = {
    "documents": ("doc",),
    "tables": ("doc", "table_seq"),
    "cells": ("doc", "table_seq", "row_seq", "cell_seq"),
    "findings": ("doc", "finding_seq"),
    "finding_terms": ("doc", "finding_seq", "term_seq"),
    "narrative_facts": ("doc", "fact_seq"),
    "performance_targets": ("doc", "target_seq"),
    "performance_indicators": ("doc", "target_seq", "indicator_seq"),
}


class ExportError(Exception):
    """The export cannot be made; str(error) is one line for the user."""


@dataclass
class ExportSummary:
    rows: dict[str, int] = field(default_factory=dict)
    targets: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def schema_markdown() -> str:
    """The schema as markdown tables (docs/batch.md embeds this text)."""
    out = []
    for table, cols in SCHEMA.items():
        out.append(f"### `{table}`\n\nkey: {', '.join(ORDER[table])}\n\n| column | type | meaning |\n|---|---|---|")
        for name, typ, desc in cols:
            out.append(f"| `{name}` | {typ} | {desc.replace('|', chr(92) + '|')} |")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- staging


def _fits(v: Decimal | str, scale: int, typ: str, row: dict, table: str, name: str) -> str:
    """A decimal as plain text, checked to fit DECIMAL(38, scale) exactly (never rounded)."""
    if not isinstance(v, Decimal):
        try:
            v = Decimal(v)
        except InvalidOperation as exc:
            raise ExportError(f"{row.get('doc')}: {table}.{name}: {v!r} is not a number") from exc
    if not v.is_finite():
        raise ExportError(f"{row.get('doc')}: {table}.{name}: {v} is not a finite number")
    if v and v.adjusted() >= 38 - scale:
        raise ExportError(f"{row.get('doc')}: {table}.{name}: {v} is too large for {typ}")
    if v.as_tuple().exponent < -scale and v != _WIDE.quantize(v, Decimal(1).scaleb(-scale)):
        raise ExportError(f"{row.get('doc')}: {table}.{name}: {v} does not fit {typ} exactly "
                          f"(it would be rounded)")
    return format(v, "f")


NULL = "\\N"  # how a staged CSV spells NULL (so NULL and "" stay apart)


class _Stage:
    """One CSV file per table (the C csv writer: ~10× faster than a JSON line per row); rows
    are checked against the schema's decimal types as they are written."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._files = {t: open(folder / f"{t}.csv", "w", encoding="utf-8", newline="") for t in SCHEMA}
        self._writers = {t: csv.writer(f, lineterminator="\n") for t, f in self._files.items()}
        self.rows = dict.fromkeys(SCHEMA, 0)
        self._names = {t: [n for n, _, _ in cols] for t, cols in SCHEMA.items()}
        self._special = {t: [(i, n, typ) for i, (n, typ, _) in enumerate(cols) if typ in _SCALE or typ == "BOOLEAN"]
                         for t, cols in SCHEMA.items()}

    def write(self, table: str, row: dict) -> None:
        out = [row[n] for n in self._names[table]]  # KeyError: a column the code forgot
        for i, name, typ in self._special[table]:
            v = out[i]
            if v is None:
                continue
            if typ == "BOOLEAN":
                out[i] = "true" if v else "false"
            else:
                out[i] = _fits(v, _SCALE[typ], typ, row, table, name)
        self._writers[table].writerow([NULL if v is None else v for v in out])
        self.rows[table] += 1

    def close(self) -> None:
        for f in self._files.values():
            f.close()


def _value_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    return unit if unit in ("count", "%") else "元"


def _stage_document(stage: _Stage, doc_id: str, doc: Document) -> dict[str, int]:
    n_cells = 0
    for ti, t in enumerate(doc.tables):
        stage.write("tables", {
            "doc": doc_id, "table_seq": ti, "table_id": t.id, "title": t.title, "unit": t.unit,
            "empty": t.empty, "empty_note": t.empty_note, "n_rows": len(t.rows),
            "line_start": t.span.line_start, "line_end": t.span.line_end})
        for ri, r in enumerate(t.rows):
            for ci, c in enumerate(r.cells):
                n_cells += 1
                stage.write("cells", {
                    "doc": doc_id, "table_seq": ti, "table_id": t.id, "row_seq": ri, "cell_seq": ci,
                    "row_id": r.id,
                    "row_label": r.label, "row_code": r.code, "column_id": c.column,
                    "value": c.value, "value_unit": _value_unit(c.unit), "unit": c.unit,
                    "printed": c.printed, "status": "suspect" if r.suspect else c.status,
                    "row_note": r.note, "line_start": c.span.line_start, "line_end": c.span.line_end,
                    "char_start": c.span.start, "char_end": c.span.end,
                    "page": c.where.page if c.where else None,
                    **dict(zip(("x0", "top", "x1", "bottom"), c.where.box if c.where else (None,) * 4))})
    for fi, f in enumerate(doc.narrative):
        stage.write("narrative_facts", {
            "doc": doc_id, "fact_seq": fi, "key": f.key, "kind": f.kind, "value": f.value,
            "value_unit": _value_unit(f.unit), "unit": f.unit, "printed": f.printed,
            "context": f.context, "line_start": f.span.line_start, "line_end": f.span.line_end,
            "char_start": f.span.start, "char_end": f.span.end})
    for pi, p in enumerate(doc.performance):
        stage.write("performance_targets", {
            "doc": doc_id, "target_seq": pi, "project": p.project, "amount": p.amount,
            "amount_printed": p.amount_printed, "amount_unit": p.amount_unit,
            "n_indicators": len(p.indicators), "line_start": p.span.line_start,
            "line_end": p.span.line_end})
        for ii, ind in enumerate(p.indicators):
            stage.write("performance_indicators", {
                "doc": doc_id, "target_seq": pi, "indicator_seq": ii, "level1": ind.level1,
                "level2": ind.level2, "level3": ind.level3, "description": ind.description,
                "value": ind.value, "basis": ind.basis, "line_start": ind.span.line_start,
                "line_end": ind.span.line_end})
    return {"n_cells": n_cells}


def _stage_findings(stage: _Stage, conn: sqlite3.Connection, doc_id: str) -> None:
    for f in conn.execute("SELECT * FROM findings WHERE path=? ORDER BY seq", (doc_id,)):
        stage.write("findings", {
            "doc": doc_id, "finding_seq": f["seq"], "identity": f["identity"], "title": f["title"],
            "table_id": f["table_id"], "instance": f["instance"], "severity": f["severity"],
            "reason": f["reason"], "op": f["op"], "left_value": f["left_value"],
            "right_value": f["right_value"], "delta": f["delta"], "envelope": f["envelope"],
            "binding": f["binding"], "diag_table": f["diag_table"], "diag_row": f["diag_row"],
            "diag_column": f["diag_column"], "diag_current": f["diag_current"],
            "diag_fix": f["diag_fix"], "diag_explains": f["diag_explains"],
            "line_start": f["line_start"], "line_end": f["line_end"]})
        for ti, t in enumerate(json.loads(f["terms"] or "[]"), 1):
            stage.write("finding_terms", {
                "doc": doc_id, "finding_seq": f["seq"], "term_seq": ti, "table_id": t["table"],
                "row_id": t["row"], "column_id": t["column"], "coefficient": t["coefficient"],
                "value": t["value"], "printed": t["printed"], "unit": t["unit"], "kind": t["kind"],
                "line_start": t["line_start"], "line_end": t["line_end"]})


def _documents(conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    yield from conn.execute("SELECT * FROM documents WHERE status != 'gone' ORDER BY path")


def stage_batch(out_dir: Path, folder: Path, notes: list[str]) -> dict[str, int]:
    """Write every table of the batch in `out_dir` as JSON lines into `folder`."""
    try:
        conn = connect(out_dir / FILENAME, readonly=True)
    except ManifestError as exc:
        raise ExportError(str(exc)) from exc
    stage = _Stage(folder)
    stale = 0
    try:
        with conn:
            conn.execute("BEGIN")  # one consistent snapshot even while a batch is writing
            for m in _documents(conn):
                doc_id = m["path"]
                status = {"done": "done", "failed": "failed"}.get(m["status"], "pending")
                row = dict.fromkeys(n for n, _, _ in SCHEMA["documents"])
                row.update(doc=doc_id, status=status, error=m["error"], sha256=m["sha256"],
                           source=doc_id.rsplit("/", 1)[-1], backend=m["backend"])
                if status == "done":
                    doc = _load(out_dir, m)
                    if doc is None:
                        stale += 1
                        row.update(status="pending", error=None)
                    else:
                        meta = doc.meta
                        checks = json.loads(m["checks"] or "{}")
                        row.update(
                            format=meta.format, encoding=meta.encoding, agency=meta.agency,
                            agency_code=meta.agency_code, year=meta.year, kind=meta.kind, unit=meta.unit,
                            scope=meta.scope, model=doc.model,
                            prompt_versions=json.dumps(doc.prompt_versions, sort_keys=True, ensure_ascii=False),
                            n_tables=len(doc.tables), n_narrative_facts=len(doc.narrative),
                            n_performance_targets=len(doc.performance),
                            n_extraction_warnings=len(doc.warnings),
                            checks_pass=checks.get("pass", 0), checks_rounding=checks.get("rounding", 0),
                            checks_fail=checks.get("fail", 0),
                            checks_insufficient_data=checks.get("insufficient_data", 0),
                            checks_not_applicable=checks.get("not_applicable", 0),
                            findings_error=m["findings_error"], findings_warning=m["findings_warning"],
                            requests=doc.usage.requests if doc.usage else None,
                            prompt_tokens=doc.usage.prompt_tokens if doc.usage else None,
                            completion_tokens=doc.usage.completion_tokens if doc.usage else None,
                            cost=doc.usage.cost if doc.usage else None,
                            json_path=m["output"])
                        row.update(_stage_document(stage, doc_id, doc))
                        _stage_findings(stage, conn, doc_id)
                stage.write("documents", row)
    finally:
        stage.close()
        conn.close()
    if stale:
        notes.append(f"{stale} finished documents have a missing or changed JSON file and were "
                     f"exported as pending (rerun the batch)")
    return stage.rows


def _load(out_dir: Path, m: sqlite3.Row) -> Document | None:
    """The document JSON of a `done` row, or None when it is missing or not this input's."""
    if not m["output"]:
        return None
    try:
        doc = Document.model_validate_json((out_dir / m["output"]).read_bytes())
    except (OSError, ValueError):
        return None
    return doc if doc.meta.sha256 == m["sha256"] else None


# ---------------------------------------------------------------------------- DuckDB


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ddl(table: str) -> str:
    cols = ",\n  ".join(f"{_q(n)} {typ}" for n, typ, _ in SCHEMA[table])
    return f"CREATE TABLE {_q(table)} (\n  {cols}\n)"


def _load_sql(table: str, path: Path) -> str:
    """Insert a staged CSV; decimals travel as text and are cast exactly by DuckDB."""
    read_types = {n: ("VARCHAR" if typ in _SCALE else typ) for n, typ, _ in SCHEMA[table]}
    columns = "{" + ", ".join(f"{_sql_str(n)}: {_sql_str(t)}" for n, t in read_types.items()) + "}"
    select = ", ".join(f"CAST({_q(n)} AS {typ})" if typ in _SCALE else _q(n) for n, typ, _ in SCHEMA[table])
    # No ORDER BY: the staged rows are already in key order (documents by path, each in document
    # order), insertion order is kept, and sorting would hold the whole table in memory.
    return (f"INSERT INTO {_q(table)} SELECT {select} FROM read_csv({_sql_str(str(path))}, "
            f"header=false, delim=',', quote='\"', escape='\"', nullstr={_sql_str(NULL)}, "
            f"columns={columns}, auto_detect=false, strict_mode=true)")


MEMORY_LIMIT = "128MB"  # DuckDB's buffer pool; it writes blocks out beyond that


def _limit_memory(con, work: Path) -> None:
    """Keep DuckDB's memory flat in corpus size: without a limit its buffer pool keeps the
    freshly loaded tables resident (~+100 MB per 1,000 documents)."""
    con.execute("SET threads TO 2")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {_sql_str(str(work / 'spill'))}")


def build_duckdb(stage_dir: Path, rows: dict[str, int], target: Path) -> None:
    import duckdb

    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute("SET preserve_insertion_order = true")
        _limit_memory(con, target.parent)
        for table in SCHEMA:
            con.execute(ddl(table))
            if rows.get(table):
                con.execute(_load_sql(table, stage_dir / f"{table}.csv"))
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _copy_out(db: Path, folder: Path, fmt: str) -> list[Path]:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    _limit_memory(con, db.parent)
    written = []
    try:
        for table in SCHEMA:
            final = folder / f"{table}.{fmt}"
            tmp = folder / f".{table}.{fmt}.{os.getpid()}.tmp"
            options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
            con.execute(f"COPY {_q(table)} TO {_sql_str(str(tmp))} ({options})")  # insertion order
            os.replace(tmp, final)
            written.append(final)
    finally:
        con.close()
    return written


def export_batch(out_dir: str | os.PathLike[str], duckdb_file: str | os.PathLike[str] | None = None,
                 parquet_dir: str | os.PathLike[str] | None = None,
                 csv_dir: str | os.PathLike[str] | None = None) -> ExportSummary:
    out_dir = Path(out_dir)
    if not (out_dir / FILENAME).exists():
        raise ExportError(f"{out_dir} is not a batch output folder (no {FILENAME}; run `structurer batch` first)")
    summary = ExportSummary()
    work = _workdir(Path(duckdb_file).resolve().parent if duckdb_file else out_dir)
    try:
        stage_dir = work / "stage"
        stage_dir.mkdir()
        summary.rows = stage_batch(out_dir, stage_dir, summary.notes)
        db = work / "export.duckdb"
        try:
            build_duckdb(stage_dir, summary.rows, db)
        except Exception as exc:  # duckdb.Error: a staged value DuckDB refused
            raise ExportError(f"DuckDB could not load the tables: {' '.join(str(exc).split())[:300]}") from exc
        shutil.rmtree(stage_dir)
        for folder, fmt in ((parquet_dir, "parquet"), (csv_dir, "csv")):
            if folder is not None:
                try:
                    summary.targets.extend(_copy_out(db, Path(folder), fmt))
                except OSError as exc:
                    raise ExportError(f"cannot write {folder}: {exc.strerror or exc}") from exc
                except Exception as exc:  # duckdb.Error (e.g. the folder is not writable)
                    raise ExportError(f"cannot write {folder}: {' '.join(str(exc).split())[:200]}") from exc
        if duckdb_file is not None:
            target = Path(duckdb_file)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _move_atomic(db, target)
            except OSError as exc:
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
            summary.targets.insert(0, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _move_atomic(src: Path, target: Path) -> None:
    try:
        os.replace(src, target)  # the work dir is next to the target: an atomic rename
    except OSError:  # another file system: copy next to the target, then rename
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)


def _workdir(near: Path) -> Path:
    """A private folder next to the target (so the final rename is atomic), else in TMPDIR."""
    try:
        near.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".structurer-export-", dir=near))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="structurer-export-"))
