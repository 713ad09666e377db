"""The HTML report: every value's highlight holds exactly the source characters of its span, links
resolve, nothing is loaded from outside, and the page renders in headless Chromium."""
from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, SEEDS, extracted
from structurer.checks.run import evaluate
from structurer.cli import app
from structurer.ingest import read_source
from structurer.repair.html_report import render_html, report_html

from seed_pdf import mutated_pdf
from test_repair import CELL, mutated_seed, session_for

CHROMIUM = Path("/usr/bin/chromium")


class Page(HTMLParser):
    """What a browser would see: ids, links, the text inside each value's highlights, the text of
    the source block, and anything that would be fetched from elsewhere."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: Counter = Counter()
        self.links: list[str] = []
        self.marks: dict[str, list[str]] = defaultdict(list)
        self.mark_classes: dict[str, set[str]] = defaultdict(set)
        self.cells_shown: dict[str, list[str]] = defaultdict(list)
        self.source: list[str] = []
        self.external: list[str] = []
        self.images: list[str] = []
        self.boxes: list[dict] = []
        self._mark: list[str] | None = None
        self._td: str | None = None
        self._in_source = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        inline = tag == "img" and a.get("src", "").startswith("data:image/") and set(a) <= {"src", "alt"}
        if inline:
            self.images.append(a["src"])  # embedded in the page: nothing is fetched
        for k in ("src", "srcset", "data", "poster", "action"):
            if k in a and not inline:
                self.external.append(f"{tag} {k}={a[k]}")
        if tag in ("link", "iframe", "object", "embed", "img", "base") and not inline:
            self.external.append(tag)
        if tag == "mark" and "box" in a.get("class", "").split():
            self.boxes.append(a)
        if "href" in a and not a["href"].startswith("#"):
            self.external.append(f"href={a['href']}")
        if "url(" in a.get("style", ""):
            self.external.append("style url()")
        if tag == "pre" and a.get("id") == "source":
            self._in_source = True
        if tag == "mark":
            assert self._mark is None, "marks never nest"
            self._mark = a.get("data-c", "").split()
            for i in self._mark:
                self.mark_classes[i].update(a.get("class", "").split())
        if tag == "td" and a.get("id", "").startswith("t-"):
            self._td = a["id"][2:]

    def handle_endtag(self, tag):
        if tag == "mark":
            self._mark = None
        elif tag == "pre":
            self._in_source = False
        elif tag == "td":
            self._td = None

    def handle_data(self, data):
        if self._in_source:
            self.source.append(data)
        if self._mark:
            for i in self._mark:
                self.marks[i].append(data)
        if self._td:
            self.cells_shown[self._td].append(data)


def page_of(doc, source) -> tuple[str, Page]:
    html = render_html(doc, evaluate(doc), source)
    return html, Page(html)


@pytest.mark.parametrize("name", SEEDS)
def test_every_highlight_is_exactly_its_span(name):
    doc, source = extracted(name), read_source(EXAMPLES / name)
    html, page = page_of(doc, source)
    text = source.text
    assert "".join(page.source) == text  # the source is all there, verbatim
    cells = [(t, r, c) for t in doc.tables for r in t.rows for c in r.cells]
    assert cells or doc.narrative
    for k, (t, r, c) in enumerate(cells, 1):
        cid = f"c{k}"
        assert "".join(page.marks[cid]) == text[c.span.start:c.span.end], (t.id, r.id, c.column)
        assert "".join(page.cells_shown[cid]) == c.printed, (t.id, r.id, c.column)  # the table cell it links to
        assert page.ids[f"s-{cid}"] == 1 and f"#s-{cid}" in page.links
    for k, f in enumerate(doc.narrative, 1):
        nid = f"n{k}"
        assert "".join(page.marks[nid]) == text[f.span.start:f.span.end], f.key
        assert "".join(page.cells_shown[nid]) == f.printed
    assert not [i for i, n in page.ids.items() if n > 1]
    assert all(link[1:] in page.ids for link in page.links if link.startswith("#")), \
        [link for link in page.links if link[1:] not in page.ids][:5]
    assert not page.external, page.external
    assert "@import" not in html and "url(" not in html.split("<script>")[0].split("<style>")[1]


def test_findings_link_to_the_values_they_name(tmp_path):
    src = mutated_seed(tmp_path)
    s = session_for(src)
    html, page = page_of(s.doc, s.source)
    cells = [(t.id, r.id, c.column, c) for t in s.doc.tables for r in t.rows for c in r.cells]
    k = next(i for i, (t, r, col, _) in enumerate(cells, 1) if (t, r, col) == CELL)
    assert "diag" in page.mark_classes[f"c{k}"]  # the likely-wrong value is marked in the source
    assert "".join(page.marks[f"c{k}"]) == "5121970 0.00"
    findings = html.split('id="pane-findings"')[1].split('id="pane-tables"')[0]
    assert f'href="#s-c{k}"' in findings and "likely wrong" in findings
    for r in s.report.findings():
        assert r.instance in findings
    # after the fix the page has no finding left about it
    s.accept_fix(next(f.result for f in s.findings() if f.result.severity == "error"))
    html, page = page_of(s.doc, s.source)
    assert "diag" not in page.mark_classes[f"c{k}"] and "2101202" not in html.split('id="pane-findings"')[1] \
        .split('id="pane-tables"')[0]


def test_report_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the source is looked for around the JSON and in the working folder
    runner = CliRunner()
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(EXAMPLES / SEEDS[1], folder / SEEDS[1])
    r = runner.invoke(app, ["extract", str(folder / SEEDS[1]), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    doc_json = tmp_path / "out" / f"{Path(SEEDS[1]).stem}.json"
    out = tmp_path / "page.html"
    r = runner.invoke(app, ["report", str(doc_json), "--html", str(out)])  # source found in a sibling folder
    assert r.exit_code == 0, r.output
    assert "cells" in r.output and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    (folder / SEEDS[1]).unlink()
    for args, expected in (
        (["report", str(doc_json), "--html", str(out)], "pass --source"),
        (["report", str(doc_json), "--html", str(out), "--source", str(EXAMPLES / SEEDS[0])], "sha256 differs"),
        (["report", str(doc_json)], "--html"),
        (["report", str(tmp_path / "nope.json"), "--html", str(out)], "no such file"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and expected in r.output and "Traceback" not in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1, r.output
    r = runner.invoke(app, ["report", str(doc_json), "--html", str(out), "--source", str(EXAMPLES / SEEDS[1])])
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------------------ Chromium

def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI (.ci/run installs it)")
        pytest.skip("headless Chromium not installed (apt-get install -y chromium)")
    return CHROMIUM


def run_chromium(browser: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(browser), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def screenshot(browser: Path, page: Path, folder: Path, size: tuple[int, int]) -> Path:
    """A headless Chromium screenshot of `page` at `size`, asserted taken."""
    shot = folder / "shot.png"
    r = run_chromium(browser, folder / "profile", f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}",
                     page.as_uri())
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    return shot


MARK = (255, 227, 138)  # mark.v background (CSS in html_report)
NARRATIVE = (201, 231, 255)  # mark.v.nar
LIKELY_WRONG = (255, 138, 128)  # mark.v.diag
HEADER = (31, 42, 68)


def colours(png: Path, size: tuple[int, int]) -> Counter:
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == size
        return Counter({colour: n for n, colour in im.convert("RGB").getcolors(maxcolors=1 << 24)})


@pytest.mark.slow
@pytest.mark.parametrize("name", SEEDS + ["mutated"])
def test_report_renders_in_headless_chromium(name, tmp_path):
    browser = chromium()
    if name == "mutated":
        s = session_for(mutated_seed(tmp_path))
        doc, source = s.doc, s.source
    else:
        doc, source = extracted(name), read_source(EXAMPLES / name)
    html = render_html(doc, evaluate(doc), source)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    size = (1400, 900)
    shot = screenshot(browser, page, tmp_path, size)
    seen = colours(shot, size)
    assert seen[HEADER] > 10000  # the inline stylesheet applied
    assert seen[MARK] + seen[NARRATIVE] + seen[LIKELY_WRONG] > 300, "no highlighted value on screen"
    if name == "mutated":
        # line 204 is far below the first screen: the script scrolled the likely-wrong value into view
        assert seen[LIKELY_WRONG] > 100
    # the script ran to its end and indexed every highlighted value
    r = run_chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    marked = {i for i in Page(html).marks}
    assert f'data-ready="{len(marked)}"' in r.stdout


# ------------------------------------------------------------------------------ PDF: the page view

BOX_RE = re.compile(r'<mark class="([^"]*\bbox\b[^"]*)" data-c="([^"]*)" style="left:([\d.]+)%;top:([\d.]+)%;'
                    r'width:([\d.]+)%;height:([\d.]+)%"')


def pdf_page(tmp_path):
    s = session_for(mutated_pdf(tmp_path))
    report = evaluate(s.doc)
    return s, report, report_html(s.doc, report, s.source)


def test_pdf_report_shows_the_pages_with_every_value_boxed_where_printed(tmp_path):
    s, report, html = pdf_page(tmp_path)
    doc = s.doc
    page = Page(html)
    assert not page.external and '<pre id="source">' not in html  # the pages, not the derived text
    sizes = {}
    pdf = pdfium.PdfDocument(str(tmp_path / "m000.pdf"))
    for i in range(len(pdf)):
        sizes[i + 1] = pdf[i].get_size()
    # the pages shown are the pages holding values, each embedded once, downscaled
    cells = [c for t in doc.tables for r in t.rows for c in r.cells]
    located = [c.where for c in cells] + [f.where for f in doc.narrative]
    assert all(w is not None for w in located)
    shown = [int(n) for n in re.findall(r'<section class="page" id="P(\d+)"', html)]
    assert set(shown) >= {w.page for w in located} and len(page.images) == len(shown)
    assert len(shown) < len(sizes)  # pages with nothing on them are left out
    from PIL import Image

    for uri in page.images:
        with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as im:
            assert max(im.size) == 1600 and im.mode in ("P", "L")
    # every value has its box on its page, where it was printed
    boxes: dict[str, tuple[int, tuple[float, ...], set[str]]] = {}
    for number, chunk in zip(shown, html.split('<section class="page" id="P')[1:]):
        for cls, ids, *pct in BOX_RE.findall(chunk):
            for i in ids.split():
                assert i not in boxes, i  # one box per value
                boxes[i] = (number, tuple(float(x) for x in pct), set(cls.split()))
    for k, c in enumerate(cells, 1):
        number, (left, top, width, _), _ = boxes[f"c{k}"]
        w, h = sizes[c.where.page]
        assert number == c.where.page
        assert abs(left - (c.where.box[0] - 1) / w * 100) < 0.01 and abs(top - (c.where.box[1] - 1) / h * 100) < 0.01
        assert abs(width - (c.where.box[2] - c.where.box[0] + 2) / w * 100) < 0.01
    for k, f in enumerate(doc.narrative, 1):
        assert boxes[f"n{k}"][0] == f.where.page
    # a finding selects the boxes of its values; its likely-wrong value is boxed as such
    finding = next(r for r in report.findings() if r.diagnosis is not None)
    d = finding.diagnosis
    k = next(i for i, (t, r, c) in enumerate(((t, r, c) for t in doc.tables for r in t.rows for c in r.cells), 1)
             if (t.id, r.id, c.column) == (d.table, d.row, d.column) and c.span == d.span and not r.suspect)
    assert "diag" in boxes[f"c{k}"][2]
    div = re.search(r'<div class="finding [^"]*" id="F\d+" data-terms="([^"]*)" data-diag="c%d">' % k, html)
    assert div and f"c{k}" in div.group(1).split()
    assert all("fail" in boxes[i][2] or "diag" in boxes[i][2] for i in div.group(1).split())
    # links to lines go to pages that are shown; every link resolves
    assert all(link[1:] in page.ids for link in page.links if link.startswith("#")), \
        [link for link in page.links if link[1:] not in page.ids][:5]
    assert "line " not in html.split('id="pane-tables"')[1].split('id="pane-narrative"')[0]


def test_report_command_on_a_pdf(tmp_path):
    src = mutated_pdf(tmp_path)
    out = tmp_path / "page.html"
    r = CliRunner().invoke(app, ["report", str(src), "--html", str(out)])
    assert r.exit_code == 0, r.output
    assert "MB)" in r.output and 'class="paged"' in out.read_text(encoding="utf-8")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    r = CliRunner().invoke(app, ["report", str(bad), "--html", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1, r.output


BOX_PLAIN = (224, 168, 0)  # mark.v.box outline (html_assets)
BOX_LIKELY_WRONG = (217, 48, 37)  # mark.v.box.diag outline
PAGES_BACKGROUND = (82, 90, 102)
SELECTED = (26, 115, 232)  # mark.v.box.sel outline


@pytest.mark.slow
def test_pdf_report_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    _, _, html = pdf_page(tmp_path)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    size = (1400, 900)
    shot = screenshot(browser, page, tmp_path, size)
    from PIL import Image

    with Image.open(shot) as im:
        left = im.convert("RGB").crop((0, 70, int(size[0] * 0.58), size[1]))
        seen = Counter({c: n for n, c in left.getcolors(maxcolors=1 << 24)})
    assert seen[PAGES_BACKGROUND] > 5000 and seen[(255, 255, 255)] > 100_000  # the page sheets
    greys = [c for c, n in seen.items() if c[0] == c[1] == c[2] and 0 < c[0] < 250 and n > 20]
    assert len(greys) >= 6  # the page image: its grey levels of printed text and rules
    assert seen[BOX_PLAIN] > 300, "no value boxed on screen"
    assert seen[BOX_LIKELY_WRONG] > 40, "the likely-wrong value was not scrolled into view"
    # a finding (as if clicked: #F1) selects the boxes of all its values
    shot2 = tmp_path / "finding.png"
    r = run_chromium(browser, tmp_path / "profile", f"--screenshot={shot2}", f"--window-size={size[0]},{size[1]}",
                     page.as_uri() + "#F1")
    assert r.returncode == 0 and shot2.exists(), r.stderr[-2000:]
    with Image.open(shot2) as im:
        left = im.convert("RGB").crop((0, 70, int(size[0] * 0.58), size[1]))
        selected = Counter({c: n for n, c in left.getcolors(maxcolors=1 << 24)})
    assert selected[SELECTED] > 2 * seen[SELECTED] + 100, (selected[SELECTED], seen[SELECTED])
    r = run_chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri() + "#F1")
    assert r.returncode == 0 and 'data-ready="' in r.stdout, r.stderr[-2000:]
    terms = re.search(r'id="F1" data-terms="([^"]*)"', html).group(1).split()
    dom_selected = {i for cls, ids in re.findall(r'<mark class="([^"]*)" data-c="([^"]*)"', r.stdout)
                    if "sel" in cls.split() for i in ids.split()}
    assert set(terms) <= dom_selected and 'class="finding sev-error sel"' in r.stdout


CORPUS = Path(os.environ.get("STRUCTURER_CORPUS") or Path(__file__).resolve().parent.parent.parent / "shared"
              / "corpus")


def forty_page_pdf() -> Path | None:
    """A real disclosure of about 40 pages from the shared corpus (None when it is absent)."""
    for pdf in sorted((CORPUS / "pdf").glob("*/*.pdf")) if (CORPUS / "pdf").is_dir() else []:
        doc = pdfium.PdfDocument(str(pdf))
        n = len(doc)
        doc.close()
        if 38 <= n <= 45:
            return pdf
    return None


@pytest.mark.slow
def test_a_forty_page_pdf_report_stays_under_5_mb(tmp_path):
    pdf = forty_page_pdf()
    if pdf is None:
        pytest.skip("no ~40-page PDF in the shared corpus")
    out = tmp_path / "report.html"
    r = CliRunner().invoke(app, ["report", str(pdf), "--html", str(out)])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert 'class="paged"' in html and html.count('<section class="page"') >= 10
    assert out.stat().st_size < 5_000_000, out.stat().st_size


def test_page_images_are_drawn_smaller_to_fit_the_budget(tmp_path):
    from PIL import Image

    from structurer.repair.page_images import MIN_SIDE, render_pages

    pdf = mutated_pdf(tmp_path)
    full, total = render_pages(pdf, range(1, 5), budget=None)
    assert len(full) == 4 < total and all(max(Image.open(io.BytesIO(p.png)).size) == 1600 for p in full)
    size = sum(len(p.png) for p in full)
    small, _ = render_pages(pdf, range(1, 5), budget=size // 2)
    sides = {max(Image.open(io.BytesIO(p.png)).size) for p in small}
    assert len(sides) == 1 and MIN_SIDE <= sides.pop() < 1600
    assert sum(len(p.png) for p in small) <= size // 2 * 1.1
