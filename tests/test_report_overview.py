"""`structurer report OUT_DIR --html overview.html`: one page for a batch run, read from the
manifest and the document JSON (nothing extracted again): a row per document with why it was
refused, the core tables located, the checks, the findings by severity and a link to its own
report; and the page renders in headless Chromium."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, SEEDS
from seed_pdf import mutated_pdf
from structurer import vocab
from structurer.cli import app
from test_report_html import chromium, run_chromium, screenshot

runner = CliRunner()


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory) -> Path:
    """A batch over two text seeds, a PDF with findings and a file that is no disclosure."""
    root = tmp_path_factory.mktemp("run")
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    for name in SEEDS[:2]:
        shutil.copy(EXAMPLES / name, src / name)
    mutated_pdf(src / "sub", "m000.pdf")
    (src / "sub" / "note.txt").write_text("会议纪要：下周二开会。\n", encoding="utf-8")
    out = root / "out"
    r = runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert r.exit_code in (0, 1), r.output
    return out


def manifest(out: Path) -> tuple[dict[str, dict], dict[str, Counter]]:
    con = sqlite3.connect(out / "manifest.sqlite")
    con.row_factory = sqlite3.Row
    docs = {r["path"]: dict(r) for r in con.execute("SELECT * FROM documents")}
    sev: dict[str, Counter] = {}
    for r in con.execute("SELECT path, severity FROM findings"):
        sev.setdefault(r["path"], Counter())[r["severity"]] += 1
    con.close()
    return docs, sev


def rows_of(html: str) -> dict[str, str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    out = {}
    for tr in re.findall(r"<tr class=.*?</tr>", body):
        name = re.sub(r"<[^>]+>", "", re.search(r"<td>(.*?)(<div|</td>)", tr).group(1))
        out[name] = tr
    return out


def test_overview_has_a_row_per_document_from_the_manifest(batch_out, tmp_path, monkeypatch):
    import structurer.pipeline as pipeline

    def no_extraction(*a, **k):
        raise AssertionError("the overview extracted a document again")

    monkeypatch.setattr(pipeline, "extract_prepared", no_extraction)
    monkeypatch.setattr(pipeline, "open_source", no_extraction)
    page = tmp_path / "ov" / "overview.html"
    page.parent.mkdir()
    r = runner.invoke(app, ["report", str(batch_out), "--html", str(page)])
    assert r.exit_code == 0, r.output
    assert "4 documents, 3 accepted" in r.output and "3 written" in r.output
    html = page.read_text(encoding="utf-8")
    docs, sev = manifest(batch_out)
    rows = rows_of(html)
    assert set(rows) == set(docs) == {*SEEDS[:2], "sub/m000.pdf", "sub/note.txt"}
    refused = rows["sub/note.txt"]
    assert 'class="refused"' in refused and docs["sub/note.txt"]["error"] in refused and "<a " not in refused
    for path, doc in docs.items():
        if doc["status"] != "done":
            continue
        tr = rows[path]
        assert "accepted" in tr
        data = json.loads((batch_out / doc["output"]).read_text(encoding="utf-8"))
        located = sum(1 for t in vocab.CORE_TABLES if t in {x["id"] for x in data["tables"]})
        assert f">{located} of {len(vocab.CORE_TABLES)}" in tr
        checks = json.loads(doc["checks"])
        assert f'data-v="{checks.get("fail", 0)}">{checks.get("fail", 0)}</td>' in tr
        for s, n in sev.get(path, {}).items():
            assert f'<span class="sev {s}" title="{s}">{n}</span>' in tr
        # the row links to the document's own report, written beside the overview
        href = re.search(r'<a href="([^"]+)">', tr).group(1)
        report = page.parent / href
        assert report.is_file() and href.startswith("overview_reports/")
        text = report.read_text(encoding="utf-8")
        assert ('class="paged"' in text) == path.endswith(".pdf")
    assert sev.get("sub/m000.pdf"), "the PDF has findings"
    totals = json.loads(re.search(r'id="overview-data">(.*?)</script>', html).group(1))
    assert totals["refused"] == 1 and totals["findings"]["error"] == sum(c["error"] for c in sev.values())

    # a second run keeps the reports that are up to date; --no-reports writes and links none
    r = runner.invoke(app, ["report", str(batch_out), "--html", str(page)])
    assert r.exit_code == 0 and "0 written" in r.output, r.output
    bare = tmp_path / "bare.html"
    r = runner.invoke(app, ["report", str(batch_out), "--html", str(bare), "--no-reports"])
    assert r.exit_code == 0 and not (tmp_path / "bare_reports").exists()
    assert "<a href" not in bare.read_text(encoding="utf-8").split("<tbody>")[1]


def test_overview_refuses_a_folder_that_is_no_batch_output(tmp_path):
    r = runner.invoke(app, ["report", str(tmp_path), "--html", str(tmp_path / "o.html")])
    assert r.exit_code == 2 and "manifest.sqlite" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    (tmp_path / "manifest.sqlite").write_bytes(b"not a database")
    r = runner.invoke(app, ["report", str(tmp_path), "--html", str(tmp_path / "o.html")])
    assert r.exit_code == 2 and "not a batch manifest" in r.output and len(r.output.strip().splitlines()) == 1


HEADER = (31, 42, 68)
REFUSED_ROW = (253, 236, 234)  # tr.refused td
BAR = (59, 111, 214)  # documents with findings
BAR_CLEAN = (52, 168, 83)  # documents without


@pytest.mark.slow
def test_overview_renders_in_headless_chromium(batch_out, tmp_path):
    browser = chromium()
    page = tmp_path / "overview.html"
    r = runner.invoke(app, ["report", str(batch_out), "--html", str(page), "--no-reports"])
    assert r.exit_code == 0, r.output
    size = (1400, 800)
    shot = screenshot(browser, page, tmp_path, size)
    from PIL import Image

    with Image.open(shot) as im:
        seen = Counter({c: n for n, c in im.convert("RGB").getcolors(maxcolors=1 << 24)})
    assert seen[HEADER] > 20000
    assert seen[REFUSED_ROW] > 3000, "the refused document's row is not on screen"
    assert seen[BAR] > 300 and seen[BAR_CLEAN] + seen[BAR] > 600, "no chart"
    r = run_chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert r.returncode == 0 and 'data-ready="4"' in r.stdout, r.stderr[-2000:]
    assert "4 of 4 shown" in r.stdout  # the filter ran over every row
