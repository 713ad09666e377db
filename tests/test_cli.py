"""The command line: the main commands on a seed, and bad input as one clear line."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "structurer", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_inspect_json_lists_metadata_and_sections():
    r = run("inspect", EXAMPLES / "001_e48c9036102b6734.txt", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["meta"]["agency"] == "临西县医疗保障局本级"
    ids = [s["id"] for s in data["sections"] if s["kind"] == "table"]
    assert "three_public" in ids and "procurement" in ids
    summary = next(s for s in data["sections"] if s["id"] == "revenue_expenditure_summary")
    assert summary["unit"] == "万元" and summary["rows"] == 8 and summary["line_start"] == 3


def test_inspect_human_output():
    r = run("inspect", EXAMPLES / "003_fd949bb5025c67e5.txt")
    assert r.returncode == 0 and "南阳市医疗保障局" in r.stdout and "three_public" in r.stdout


def test_extract_writes_json_and_cells_reads_it(tmp_path):
    r = run("extract", EXAMPLES / "000_ce6cab5f862a266e.txt", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "000_ce6cab5f862a266e.json"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["meta"]["year"] == 2023 and doc["tables"]
    r = run("cells", out, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    cell = next(x for x in rows if x["table"] == "revenue" and x["row"] == "2101202" and x["column"] == "total")
    assert cell["value"] == "51210700.00" and cell["printed"] == "5121 0700 .00" and cell["unit"] == "元"
    assert cell["line_start"] == "157"
    r = run("cells", EXAMPLES / "004_397ecf54ea00b92f.txt", "--format", "jsonl")
    first = json.loads(r.stdout.splitlines()[0])
    assert set(first) >= {"doc", "table", "row", "row_label", "column", "value", "unit", "printed",
                          "line_start", "line_end"}


BAD = {
    "empty.txt": b"",
    "binary.txt": bytes(range(256)) * 20,
    "scan.pdf": b"%PDF-1.4\n%garbage that is not a pdf\n",
    "table.xls": b"PK\x03\x04 not supported",
    "poem.txt": "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n".encode(),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_clear_line_and_nonzero(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(BAD[name])
    r = run("extract", p, "--out", tmp_path / "out")
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out" / (p.stem + ".json")).exists()


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    r = run("extract", bad, EXAMPLES / "002_a298566b0f87c85f.txt", "--out", tmp_path / "out")
    assert r.returncode == 1
    assert (tmp_path / "out" / "002_a298566b0f87c85f.json").exists()


def test_a_text_about_budgets_that_prints_no_table_is_refused_with_status_2(tmp_path):
    # the project's own README mentions 预算 and 决算 throughout but is not a disclosure
    from conftest import ROOT

    readme = tmp_path / "readme.txt"
    readme.write_bytes((ROOT / "README.md").read_bytes())
    r = run("extract", readme, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "not a budget or final-accounts disclosure" in r.stderr
    assert not (tmp_path / "out" / "readme.json").exists()


def test_literal_brackets_are_printed_as_written(tmp_path):
    # rich markup must not swallow [models.NAME] from the message
    r = run("llm", "models", cwd=tmp_path)
    assert "[models.NAME]" in r.stderr
