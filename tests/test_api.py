"""The library as a notebook uses it: extract, check, cells as a DataFrame, one error tree."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

import structurer
from conftest import EXAMPLES, ROOT


def test_extract_check_and_cells_from_python():
    doc = structurer.extract(EXAMPLES / "003_fd949bb5025c67e5.txt")
    assert isinstance(doc, structurer.Document)
    df = doc.cells()
    assert list(df.columns)[:6] == ["doc", "table", "row", "row_label", "column", "value"]
    assert len(df) == sum(len(r.cells) for t in doc.tables for r in t.rows)
    # the same exact value the document model holds, in 元, with its printed text
    hit = df[(df.table == "revenue_expenditure_summary") & (df.row == "revenue.general_budget")
             & (df.column == "amount")].iloc[0]
    assert hit.value == Decimal("20048900.00") and hit.printed == "2,004.89" and hit.page is None
    report = structurer.check(doc)
    assert isinstance(report, structurer.CheckReport) and report.results
    assert structurer.load(EXAMPLES / "003_fd949bb5025c67e5.txt").cells().shape == df.shape


def test_errors_share_one_base_and_say_what_went_wrong(tmp_path):
    notice = tmp_path / "readme.txt"
    notice.write_bytes((ROOT / "README.md").read_bytes())
    with pytest.raises(structurer.NotADisclosure) as refused:
        structurer.extract(notice)
    assert isinstance(refused.value, structurer.InputRefused) and "\n" not in str(refused.value)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(structurer.InputRefused):
        structurer.extract(empty)
    with pytest.raises(structurer.StructurerError):
        structurer.extract(tmp_path / "missing.pdf")
    with pytest.raises(ValueError):
        structurer.extract(EXAMPLES / "003_fd949bb5025c67e5.txt", backend="nope")


def test_readme_one_liner_runs():
    code = ("import structurer; d = structurer.extract('examples/001_e48c9036102b6734.txt'); "
            "print(d.cells().shape)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("(") and int(r.stdout.strip()[1:].split(",")[0]) > 100


def test_nothing_in_the_library_imports_the_command_line():
    src = ROOT / "structurer"
    offenders = [p.relative_to(ROOT) for p in src.rglob("*.py")
                 if p.name not in ("cli.py", "__main__.py")
                 and ("from .cli import" in p.read_text(encoding="utf-8")
                      or "from ..cli import" in p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_notebook_example_runs_and_draws_its_chart(tmp_path):
    chart = tmp_path / "tp.svg"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook.py"), str(EXAMPLES), str(chart)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    agencies = [ln for ln in r.stdout.splitlines() if ln[:1] not in ("", " ") and "  " in ln
                and not ln.startswith(("agency", "chart"))]
    assert len(agencies) >= 2
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<rect") == len(agencies)
