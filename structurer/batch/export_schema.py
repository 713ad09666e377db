"""The export's tables: every column with its type and meaning (`SCHEMA`, read from
data/export_schema.tsv), each table's key (`ORDER`), the DDL that creates them and the
markdown docs/batch.md embeds.

Amounts are exact DECIMALs (never floats): money in 元 as DECIMAL(38,4) (a 万元 figure printed
with up to 6 decimals is still exact), values computed by the checks (sums, deltas, shares)
as DECIMAL(38,10). A value that would not fit its type stops the export with an error rather
than being rounded.
"""
from __future__ import annotations

from importlib.resources import files

MONEY = "DECIMAL(38,4)"  # values of the document (cells, narrative amounts, performance amounts)
COMPUTED = "DECIMAL(38,10)"  # values computed by the checks
SCALE = {MONEY: 4, COMPUTED: 10}


def _load_schema() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """table → (column, type, description) in column order, from data/export_schema.tsv."""
    text = files("structurer").joinpath("data/export_schema.tsv").read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, str, str]]] = {}
    rows = [ln.split("\t") for ln in text.splitlines() if ln and not ln.startswith("#")]
    for table, column, typ, meaning in rows[1:]:  # after the header line
        out.setdefault(table, []).append((column, {"MONEY": MONEY, "COMPUTED": COMPUTED}.get(typ, typ), meaning))
    return {t: tuple(cols) for t, cols in out.items()}


SCHEMA: dict[str, tuple[tuple[str, str, str], ...]] = _load_schema()


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
