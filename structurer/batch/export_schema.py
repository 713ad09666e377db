"""The export's tables: every column with its type and meaning (`SCHEMA`), each table's key
(`ORDER`), the DDL that creates them and the markdown docs/batch.md embeds.

Amounts are exact DECIMALs (never floats): money in 元 as DECIMAL(38,4) (a 万元 figure printed
with up to 6 decimals is still exact), values computed by the checks (sums, deltas, shares)
as DECIMAL(38,10). A value that would not fit its type stops the export with an error rather
than being rounded.
"""
from __future__ import annotations

MONEY = "DECIMAL(38,4)"  # values of the document (cells, narrative amounts, performance amounts)
COMPUTED = "DECIMAL(38,10)"  # values computed by the checks
SCALE = {MONEY: 4, COMPUTED: 10}


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
    "doc_tables": (
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
        ("table_seq", "INTEGER", "doc_tables.table_seq"),
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
        ("confidence", "DOUBLE", "OCR recognition confidence of the printed value (0-1); NULL for a text layer"),
        ("low_confidence", "BOOLEAN", "read by OCR with low confidence: check it on the page"),
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
    "doc_tables": ("doc", "table_seq"),
    "cells": ("doc", "table_seq", "row_seq", "cell_seq"),
    "findings": ("doc", "finding_seq"),
    "finding_terms": ("doc", "finding_seq", "term_seq"),
    "narrative_facts": ("doc", "fact_seq"),
    "performance_targets": ("doc", "target_seq"),
    "performance_indicators": ("doc", "target_seq", "indicator_seq"),
}


class ExportError(Exception):
    """The export cannot be made; str(error) is one line for the user."""


def schema_markdown() -> str:
    """The schema as markdown tables (docs/batch.md embeds this text)."""
    out = []
    for table, cols in SCHEMA.items():
        out.append(f"### `{table}`\n\nkey: {', '.join(ORDER[table])}\n\n| column | type | meaning |\n|---|---|---|")
        for name, typ, desc in cols:
            out.append(f"| `{name}` | {typ} | {desc.replace('|', chr(92) + '|')} |")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- DuckDB


def sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ddl(table: str) -> str:
    cols = ",\n  ".join(f"{sql_name(n)} {typ}" for n, typ, _ in SCHEMA[table])
    return f"CREATE TABLE {sql_name(table)} (\n  {cols}\n)"
