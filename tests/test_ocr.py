"""Scanned pages and image files read by OCR into the same layout, with confidence.

The scans are made here: a budget table is drawn with reportlab (so every value is known),
PDFium renders the page at 200 dpi, and that image is saved as a PNG or wrapped into a PDF
without a text layer. One real scanned page of the corpus is a fixture (tests/fixtures/pdf).
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

import structurer
import structurer.model
from structurer import provenance
from structurer.checks.diagnose import diagnose
from structurer.checks.run import evaluate
from structurer.ingest import IngestError, read_bytes
from structurer.ingest import ocr as ocr_mod
from structurer.ingest.common import OcrUnavailable
from structurer.model import Cell, Document, DocumentMeta, Row, Span, Table
from structurer.output import cells_jsonl, iter_cells

pytest.importorskip("rapidocr_onnxruntime", reason="OCR extra not installed")

FONT = "STSong-Light"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
FIXTURE = Path(__file__).parent / "fixtures" / "pdf" / "scanned_page_no_text_layer.pdf"

# the table every scan here prints: (code, name, 合计, 基本支出, 项目支出), 万元
ROWS = [
    ("", "合计", "1,234.56", "1,000.00", "234.56"),
    ("201", "一般公共服务支出", "1,234.56", "1,000.00", "234.56"),
    ("20101", "人大事务", "1,234.56", "1,000.00", "234.56"),
    ("2010101", "行政运行", "800.00", "800.00", ""),
    ("2010102", "一般行政管理事务", "434.56", "200.00", "234.56"),
]
XS = [50, 120, 270, 360, 450, 540]  # column rules


def draw_table(c: canvas.Canvas) -> None:
    c.setFont(FONT, 15)
    c.drawCentredString(295, 770, "2026年部门支出预算总表")
    c.setFont(FONT, 10)
    c.drawString(50, 740, "部门名称：某某局")
    c.drawRightString(540, 740, "单位：万元")
    top, pitch = 730, 24
    lines = [("科目编码", "科目名称", "合计", "基本支出", "项目支出")] + ROWS
    for i, row in enumerate(lines):
        y = top - (i + 1) * pitch + 8
        for k, text in enumerate(row):
            if not text:
                continue
            if k >= 2 and i > 0:
                c.drawRightString(XS[k + 1] - 5, y, text)
            else:
                c.drawString(XS[k] + 5, y, text)
    bottom = top - len(lines) * pitch
    for i in range(len(lines) + 1):
        c.line(XS[0], top - i * pitch, XS[-1], top - i * pitch)
    for x in XS:
        c.line(x, top, x, bottom)


def text_pdf(*pages) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for draw in pages:
        draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def rendered_png(pdf: bytes, dpi: int = 200) -> bytes:
    doc = pdfium.PdfDocument(pdf)
    img = doc[0].render(scale=dpi / 72).to_pil().convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def image_page(png: bytes):
    def draw(c: canvas.Canvas) -> None:
        w, h = A4
        c.drawImage(ImageReader(io.BytesIO(png)), 0, 0, width=w, height=h)
    return draw


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scans")
    pdf = text_pdf(draw_table)
    png = rendered_png(pdf)
    (folder / "table.pdf").write_bytes(pdf)
    (folder / "table.png").write_bytes(png)
    (folder / "scan.pdf").write_bytes(text_pdf(image_page(png)))
    return folder


def values(doc: Document) -> dict:
    return {(t.id, r.id, c.column): c.value for t in doc.tables for r in t.rows for c in r.cells}


def test_a_scanned_pdf_gives_the_cells_of_its_text_layer(scans):
    want = values(structurer.extract(scans / "table.pdf"))
    assert want[("expenditure", "2010102", "total")] == Decimal("4345600.00")  # the drawing is read
    doc = structurer.extract(scans / "scan.pdf")
    assert doc.meta.encoding == "pdf+ocr"
    assert values(doc) == want
    cells = [c for t in doc.tables for r in t.rows for c in r.cells]
    assert cells and all(c.where and c.where.page == 1 and c.where.confidence is not None for c in cells)
    c = doc.table("expenditure").row("2010102").cell("total")
    x0, top, x1, bottom = c.where.box  # printed in the 合计 column of the fifth data row
    assert XS[2] < x0 < x1 < XS[3] and 841.9 - 730 + 5 * 24 < bottom < 841.9 - 730 + 6 * 24 + 2
    df = doc.cells()
    assert {"confidence", "low_confidence"} <= set(df.columns) and df["confidence"].notna().all()


def test_an_image_file_is_read_like_a_scanned_page(scans):
    doc = structurer.extract(scans / "table.png")
    assert doc.meta.format == "image"
    assert values(doc) == values(structurer.extract(scans / "table.pdf"))
    assert not evaluate(doc).findings()  # the table adds up as drawn


def _misreading(real_engine, wrong: str, right: str, score: float):
    """The real recogniser, except that it reads `right` as `wrong` with a low score."""
    def engine(img, **kw):
        result, elapsed = real_engine(img, **kw)
        out = []
        for item in result:
            if item[1] == right:
                item = [item[0], wrong, score, *item[3:]]
            out.append(item)
        return out, elapsed
    return engine


def test_a_misread_digit_is_flagged_and_the_check_points_at_it(scans, monkeypatch):
    real = ocr_mod._engine()
    monkeypatch.setattr(ocr_mod, "_engine", lambda: _misreading(real, "484.56", "434.56", 0.62))
    doc = structurer.extract(scans / "table.png")
    c = doc.table("expenditure").row("2010102").cell("total")
    assert c.printed == "484.56" and c.low_confidence and c.where.confidence == pytest.approx(0.62)
    others = [x for t in doc.tables for r in t.rows for x in r.cells if x is not c]
    assert others and not any(x.low_confidence for x in others)
    report = evaluate(doc)
    named = [r for r in report.findings() if r.diagnosis]
    assert named and all((r.diagnosis.row, r.diagnosis.column) == ("2010102", "total") for r in named)
    assert all(r.diagnosis.fix == Decimal("4345600.00") for r in named)
    rows = [json.loads(x) for x in cells_jsonl(list(iter_cells(doc))).splitlines()]
    flagged = [r for r in rows if r["low_confidence"]]
    assert [(r["row"], r["column"]) for r in flagged] == [("2010102", "total")]


def _one_row_doc(doubtful_column: str | None) -> Document:
    sp = Span(line_start=3, line_end=3, start=0, end=10)
    cells = [Cell(column=k, value=Decimal(v) * 10000, printed=v, unit="万元", span=sp,
                  low_confidence=(k == doubtful_column)) for k, v in
             (("total", "300.00"), ("basic", "100.00"), ("project", "250.00"))]
    return Document(meta=DocumentMeta(source="t.pdf"), tables=[
        Table(id="expenditure", title="支出预算总表", unit="万元", span=sp,
              rows=[Row(id="total", span=sp, cells=cells)])])


def test_among_equal_explanations_the_low_confidence_value_is_named():
    # total = basic + project fails by 50 万元: any one of the three values could be wrong. A
    # slip of one digit explains the total (300 → 350) or the project (250 → 200), not the
    # basic (100 → 50): yet when OCR doubted the basic value, that is the one named.
    plain = evaluate(_one_row_doc(None))
    fail = next(r for r in plain.findings() if r.diagnosis)
    assert fail.diagnosis.column != "basic"
    doubted = evaluate(_one_row_doc("basic"))
    fail = next(r for r in doubted.findings() if r.diagnosis)
    assert (fail.diagnosis.column, fail.diagnosis.fix) == ("basic", Decimal("500000.00"))
    diagnose(doubted)  # idempotent
    assert next(r for r in doubted.findings() if r.diagnosis).diagnosis.column == "basic"


@pytest.mark.slow
def test_text_pages_and_scanned_pages_in_one_pdf_each_read_their_way(scans):
    def prose(c: canvas.Canvas) -> None:
        c.setFont(FONT, 12)
        c.drawString(72, 760, "一、部门基本情况")
        c.drawString(72, 740, "本部门2026年预算收支总额1,234.56万元。")
    pdf = text_pdf(prose, image_page((scans / "table.png").read_bytes()))
    pages_seen = []
    src = read_bytes(pdf, "mixed.pdf", progress=lambda k, n: pages_seen.append((k, n)))
    assert src.encoding == "pdf+ocr" and pages_seen == [(1, 1)]  # only the scanned page went to OCR
    assert {b.page for b in src.boxes if b.conf is None} == {1}
    assert {b.page for b in src.boxes if b.conf is not None} == {2}
    assert "一般行政管理事务" in src.text and "本部门2026年预算收支总额1,234.56万元。" in src.text


def test_without_the_ocr_extra_a_scan_is_refused_naming_it(scans, monkeypatch):
    def missing():
        raise OcrUnavailable("OCR is not installed (No module named 'rapidocr_onnxruntime'); "
                             f"{ocr_mod.EXTRA}")
    monkeypatch.setattr(ocr_mod, "_engine", missing)
    with pytest.raises(IngestError) as exc:
        structurer.extract(scans / "scan.pdf")
    message = str(exc.value)
    assert "no text layer" in message and "structurer[ocr]" in message and "\n" not in message
    # a text PDF does not need OCR at all
    assert values(structurer.extract(scans / "table.pdf"))


def test_ocr_never_refuses_a_scan_in_one_line_and_exit_2(scans):
    r = subprocess.run([sys.executable, "-m", "structurer", "extract", str(scans / "scan.pdf"), "--ocr", "never",
                        "--out", str(scans / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--ocr auto" in lines[0]


def test_ruling_lines_are_found_in_the_image():
    img = np.full((400, 600), 255, np.uint8)
    img[100:103, 50:550] = 0  # a 3-pixel horizontal rule
    img[50:350, 300] = 0  # a vertical rule
    img[200, 60:75] = 0  # a short dash: part of a character, not a rule
    h, v = ocr_mod._rules(img < 140, 72 / 200)
    assert len(h) == 1 and len(v) == 1
    y, x0, x1 = h[0]
    assert y == pytest.approx(101.5 * 72 / 200, abs=0.5) and x0 == pytest.approx(50 * 0.36, abs=0.5)
    assert x1 == pytest.approx(550 * 0.36, abs=0.5)
    x, t, b = v[0]
    assert x == pytest.approx(300.5 * 0.36, abs=0.5) and (t, b) == pytest.approx((18.0, 126.0), abs=0.5)


def test_a_space_inside_a_number_is_an_artefact_a_space_between_words_is_printed():
    def item(text):
        boxes = [[[10 * k, 0], [10 * k + 9, 0], [10 * k + 9, 20], [10 * k, 20]] for k in range(len(text))]
        return [[[0, 0], [10 * len(text), 0], [10 * len(text), 20], [0, 20]], text, 0.97, boxes]
    gs = ocr_mod._line_glyphs(item("2,131. 61"), 1.0)
    assert "".join(g.ch for g in gs) == "2,131.61" and not any(g.space for g in gs)
    gs = ocr_mod._line_glyphs(item("合计 1,234.56"), 1.0)
    assert [g.ch for g in gs if g.space] == ["1"] and all(g.conf == 0.97 for g in gs)


@pytest.mark.slow
def test_a_real_scanned_page_is_read_then_refused_as_not_a_budget(tmp_path):
    # the fixture is page 1 of a scanned evaluation report: its title, read off the page
    # image, is "2023年度长沙市公安局交通警察支队 / 专项资金绩效评价结果"
    src = read_bytes(FIXTURE.read_bytes(), FIXTURE.name)
    text = src.text.replace(" ", "")
    assert src.encoding == "pdf+ocr"
    assert "2023年度长沙市公安局交通警察支队" in text and "专项资金绩效评价结果" in text
    assert "一、项目基本情况" in text
    r = subprocess.run([sys.executable, "-m", "structurer", "extract", str(FIXTURE), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "not a budget or final-accounts disclosure" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_table_rule_read_as_a_stroke_is_dropped():
    boxes = [[[10 * k, 0], [10 * k + 9, 0], [10 * k + 9, 20], [10 * k, 20]] for k in range(9)]
    gs = ocr_mod._line_glyphs([[[0, 0], [90, 0], [90, 20], [0, 20]], "1,935.36|", 0.99, boxes], 1.0)
    assert "".join(g.ch for g in gs) == "1,935.36"


def test_an_ocr_amount_with_other_decimals_than_its_table_is_doubted():
    sp = Span(line_start=3, line_end=3, start=0, end=10)

    def cell(printed, conf):
        c = Cell(column="amount", value=Decimal(printed.replace(",", "")) * 10000, printed=printed, unit="万元",
                 span=sp)
        c.where = None if conf is None else structurer.model.Where(page=1, box=(0, 0, 1, 1), confidence=conf)
        return c

    read = [cell(p, 0.99) for p in ("1,136.23", "20.00", "5.51", "0.30", "12.00", "1,136.233")]
    provenance._odd_precision(read)
    assert [c.low_confidence for c in read] == [False] * 5 + [True]
    mixed = [cell(p, 0.99) for p in ("1.2", "3.45", "6.789")]  # no precision the table keeps
    provenance._odd_precision(mixed)
    assert not any(c.low_confidence for c in mixed)


def test_batch_reads_scans_by_ocr_unless_told_never(scans, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes((scans / "scan.pdf").read_bytes())

    def batch(out, *extra):
        return subprocess.run([sys.executable, "-m", "structurer", "batch", str(folder), "--out", str(out),
                               "--jobs", "1", *extra], capture_output=True, text=True, timeout=300)
    r = batch(tmp_path / "never", "--ocr", "never")
    assert r.returncode == 1 and "--ocr auto" in r.stdout + r.stderr and "Traceback" not in r.stderr
    r = batch(tmp_path / "auto")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = structurer.load(tmp_path / "auto" / "docs" / "scan.pdf.json")
    assert values(doc) == values(structurer.extract(scans / "table.pdf"))
