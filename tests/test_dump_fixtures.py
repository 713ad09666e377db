"""Real `pdftotext -layout` pages (tests/fixtures/dumps, see its README) read as space-aligned
dumps and scored against the hand-labelled gold of the same PDF: the columns come from how the
dump places its characters (one column each), not from the tab-split rules."""
from __future__ import annotations

from pathlib import Path

import pytest

from structurer.gold import load_gold
from structurer.grid.textgrid import is_space_aligned, wide_cjk
from structurer.ingest import read_bytes
from structurer.pipeline import Prepared, extract_prepared

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "fixtures" / "dumps"
GOLD = ROOT / "evals" / "gold"

# fixture, gold file, table, share of the table's gold cells on these pages that must be read
CASES = [
    ("general_budget_one_char_columns.txt", "014_无锡__2026年无锡市统计局部门预算.yaml",
     "general_budget_expenditure", 0.95),
    ("summary_letter_spaced_header.txt", "008_杭州__2026年杭州市气象局部门预算.yaml",
     "revenue_expenditure_summary", 1.0),
    ("general_budget_numbered_columns.txt", "008_杭州__2026年杭州市气象局部门预算.yaml",
     "general_budget_expenditure", 0.85),
]


@pytest.mark.parametrize(("fixture", "gold_file", "table", "share"), CASES, ids=[c[0][:-4] for c in CASES])
def test_pdftotext_page_reads_like_its_pdf(fixture, gold_file, table, share):
    text = (DUMPS / fixture).read_text(encoding="utf-8")
    assert is_space_aligned(text) and not wide_cjk(text)  # one column per character
    doc = extract_prepared(Prepared(read_bytes(text.encode("utf-8"), fixture)))
    got = {(table, r.id, c.column): c.value for r in doc.table(table).rows for c in r.cells}
    gold = {k: v for k, v in load_gold(GOLD / gold_file).cells.items() if k[0] == table}
    wrong = {k: (got[k], v) for k, v in gold.items() if k in got and got[k] != v}
    assert not wrong  # a value read is the printed one, in its column
    assert sum(k in got for k in gold) >= share * len(gold)
