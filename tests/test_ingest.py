"""Ingestion tests. Every fixture is generated here (reportlab, python-docx, str.encode)
so the suite needs no binary files in the repository."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import random

import docx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from structurer.ingest.ocr import available as ocr_available
from structurer.ingest import IngestError, SourceText, read_bytes, read_source

FONT = "STSong-Light"  # built-in CID font: no font file needed, pdfminer maps it via its CMaps
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = "南宫市医疗保障局2023年部门预算"
PARAGRAPH = "本部门主要职责是贯彻落实国家医疗保障政策。"
AFTER = "注：本表无政府性基金预算财政拨款支出。"
WRAPPED = "一般公共预算财政拨款收入合计"  # put in a narrow column so it wraps in the PDF
PDF_TEXT = "\n".join(
    [
        TITLE,
        PARAGRAPH,
        "序号\t科目编码\t科目名称\t合计\t基本支出\t项目支出",
        "1\t208\t社会保障和就业支出\t50000.00\t\t50000.00",
        "2\t20805\t行政事业单位养老支出\t30000.00\t30000.00\t",
        f"3\t\t{WRAPPED}\t80000.00\t30000.00\t50000.00",
        AFTER,
        "",  # blank line between pages
        "第二页 说明",
    ]
)


def one_line_error(excinfo: pytest.ExceptionInfo[IngestError]) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


# ---------------------------------------------------------------- PDF fixtures


def _pdf_bytes() -> bytes:
    style = ParagraphStyle("zh", fontName=FONT, fontSize=11, leading=15)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11)
    rows = [
        ["序号", "科目编码", "科目名称", "合计", "基本支出", "项目支出"],
        ["1", "208", "社会保障和就业支出", "50000.00", "", "50000.00"],
        ["2", "20805", "行政事业单位养老支出", "30000.00", "30000.00", ""],
        ["3", "", Paragraph(WRAPPED, cell), "80000.00", "30000.00", "50000.00"],
    ]
    table = Table(rows, colWidths=[30, 55, 100, 65, 65, 65])
    grid = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, "black"),
    ]
    table.setStyle(TableStyle(grid))
    buf = io.BytesIO()
    story = [Paragraph(TITLE, style), Paragraph(PARAGRAPH, style), Spacer(1, 12), table, Spacer(1, 12)]
    story += [Paragraph(AFTER, style), PageBreak(), Paragraph("第二页 说明", style)]
    SimpleDocTemplate(buf, pagesize=A4).build(story)
    return buf.getvalue()


def _canvas_pdf(draw, **kwargs) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, **kwargs)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _chinese_line(c: canvas.Canvas) -> None:
    c.setFont(FONT, 12)
    c.drawString(72, 700, "部门预算收支总表")


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return _pdf_bytes()


# ---------------------------------------------------------------- PDF


def test_pdf_title_paragraph_table_and_pages(tmp_path, pdf_bytes):
    path = tmp_path / "budget.pdf"
    path.write_bytes(pdf_bytes)
    src = read_source(path)
    assert (src.format, src.encoding, src.path) == ("pdf", "pdf", str(path))
    assert src.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    # Exact text: caption, table rows (empty cells kept, wrapped cell re-joined) and the
    # note after the table in reading order, then a blank line and page 2.
    assert src.text == PDF_TEXT


def test_pdf_without_text_layer(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_canvas_pdf(lambda c: c.rect(100, 100, 300, 200)))
    with pytest.raises(IngestError, match=r"has no text layer \(scanned image\?\); run with --ocr auto") as excinfo:
        read_source(path, ocr="never")
    one_line_error(excinfo)
    if not ocr_available():
        pytest.skip("the OCR extra is not usable here")
    with pytest.raises(IngestError, match="has no text layer, and OCR found no text") as excinfo:
        read_source(path)  # a page with nothing printed: not even OCR reads anything
    one_line_error(excinfo)


def test_pdf_without_text_layer_and_without_ocr_names_the_extra(tmp_path, monkeypatch):
    from structurer.ingest import ocr
    from structurer.ingest.common import OcrUnavailable

    def missing():
        raise OcrUnavailable(f"OCR is not installed (no module); {ocr.EXTRA}")
    monkeypatch.setattr(ocr, "_engine", missing)
    path = tmp_path / "scan.pdf"
    path.write_bytes(_canvas_pdf(lambda c: c.rect(100, 100, 300, 200)))
    with pytest.raises(IngestError, match=r"has no text layer .*pip install 'structurer\[ocr\]'") as excinfo:
        read_source(path)
    one_line_error(excinfo)


def test_truncated_pdf(pdf_bytes):
    with pytest.raises(IngestError, match="not a readable PDF") as excinfo:
        read_bytes(pdf_bytes[: len(pdf_bytes) // 2], "half.pdf")
    one_line_error(excinfo)


def test_not_a_pdf_at_all():
    with pytest.raises(IngestError, match="not a readable PDF") as excinfo:
        read_bytes("这不是PDF".encode(), "fake.pdf")
    one_line_error(excinfo)


def test_encrypted_pdf():
    data = _canvas_pdf(_chinese_line, encrypt=StandardEncryption("secret", ownerPassword="owner"))
    with pytest.raises(IngestError, match="encrypted") as excinfo:
        read_bytes(data, "locked.pdf")
    one_line_error(excinfo)


def test_pdf_glyphs_of_an_unknown_cid_ordering_still_read():
    # Renaming the CID ordering (same length, so xref offsets stay valid) leaves a reader
    # without the ordering's CID->Unicode table; PDFium still maps the glyphs through the font.
    data = _canvas_pdf(_chinese_line, pageCompression=0)
    assert data.count(b"(GB1)") == 1
    src = read_bytes(data.replace(b"(GB1)", b"(Zzz)"), "cid.pdf")
    assert src.text == "部门预算收支总表"


def test_pdf_glyphs_without_unicode_mapping(monkeypatch):
    # Glyphs that map to no character (U+FFFD, private use) make the text layer unusable.
    from structurer.ingest import pdf as pdf_reader

    real = pdf_reader._glyphs
    monkeypatch.setattr(pdf_reader, "_glyphs", lambda page, tf, *_: [
        pdf_reader.Glyph("\ue001", g.x0, g.top, g.x1, g.bottom) for g in real(page, tf)])
    with pytest.raises(IngestError, match="without Unicode mapping") as excinfo:
        read_bytes(_canvas_pdf(_chinese_line), "cid.pdf", ocr="never")
    one_line_error(excinfo)
    # by default such pages are read from their image instead
    if not ocr_available():
        pytest.skip("the OCR extra is not usable here")
    src = read_bytes(_canvas_pdf(_chinese_line), "cid.pdf")
    assert src.encoding == "pdf+ocr" and src.text.strip() == "部门预算收支总表"
    assert src.boxes and src.boxes[0].conf is not None and src.boxes[0].page == 1


def test_pdf_fake_bold_is_not_doubled():
    # Producers fake bold by printing a glyph twice, slightly offset: "合合计计" otherwise.
    def bold(c: canvas.Canvas) -> None:
        c.setFont(FONT, 12)
        c.drawString(72, 700, "合计")
        c.drawString(72.3, 700, "合计")

    assert read_bytes(_canvas_pdf(bold), "bold.pdf").text == "合计"


# ---------------------------------------------------------------- DOCX


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("部门预算收支总表")
    document.add_paragraph("单位：元\t2023年")
    table = document.add_table(rows=4, cols=4)
    for r, values in enumerate(
        [
            ["项目", "收入", "", "备注"],
            ["", "项 目", "预算数", ""],
            ["1", "一、一般公共预算拨款收入", "68100200.00", ""],
            ["2", "二、政府性基金预算拨款收入", "", "无"],
        ]
    ):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(0, 1).merge(table.cell(0, 2))  # "收入" spans two columns
    table.cell(0, 0).merge(table.cell(1, 0))  # "项目" spans two rows
    table.cell(2, 1).add_paragraph("（含上年结转）")  # second paragraph in a cell
    document.add_paragraph("说明：本表为部门预算收支总表。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_order_tables_and_merged_cells(tmp_path):
    data = _docx_bytes()
    path = tmp_path / "budget.docx"
    path.write_bytes(data)
    src = read_source(path)
    assert (src.format, src.encoding) == ("docx", "docx")
    assert src.sha256 == hashlib.sha256(data).hexdigest()
    assert src.lines == [
        "部门预算收支总表",
        "单位：元\t2023年",  # a tab in a paragraph is kept
        # the two header rows as one line of column paths, as the PDF grid gives them: a
        # cell merged across (收入) heads each column it spans, one merged down (项目) once
        "项目\t收入›项 目\t收入›预算数\t备注",
        "1\t一、一般公共预算拨款收入（含上年结转）\t68100200.00\t",
        "2\t二、政府性基金预算拨款收入\t\t无",
        "说明：本表为部门预算收支总表。",  # paragraph after the table stays after it
    ]


def test_docx_rows_skipping_grid_columns_keep_one_field_per_column():
    # w:gridBefore / w:gridAfter: a row that starts late or ends early still has a field
    # for every grid column, so its cells stay under their headers.
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    table = document.add_table(rows=3, cols=4)
    for r, values in enumerate([["序号", "项目", "合计", "备注"], ["", "", "小计", "500.00"], ["1", "办公费", "", ""]]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    before, after = table.rows[1]._tr, table.rows[2]._tr
    for tr, tag, drop in ((before, "gridBefore", 0), (after, "gridAfter", -1)):
        tr.remove(tr.tc_lst[drop])
        tr.remove(tr.tc_lst[drop])
        tr.insert(0, parse_xml(f'<w:trPr {nsdecls("w")}><w:{tag} w:val="2"/></w:trPr>'))
    buf = io.BytesIO()
    document.save(buf)
    assert read_bytes(buf.getvalue(), "grid.docx").lines == [
        "序号\t项目\t合计\t备注",
        "\t\t小计\t500.00",
        "1\t办公费\t\t",
    ]


def test_docx_nested_table_is_flattened_into_its_cell():
    document = docx.Document()
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外"
    inner = outer.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "内甲"
    inner.cell(0, 1).text = "内乙"
    buf = io.BytesIO()
    document.save(buf)
    assert read_bytes(buf.getvalue(), "nested.docx").lines == ["外\t内甲内乙"]


def test_docx_runs_in_tracked_changes_and_smart_tags():
    # python-docx's Paragraph.text would give "预算" only: it skips w:ins and w:smartTag.
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    paragraph = document.add_paragraph("预算")
    for xml in (
        '<w:ins w:id="1" w:author="a"><w:r><w:t>收入</w:t></w:r></w:ins>',
        '<w:del w:id="2" w:author="a"><w:r><w:delText>删除</w:delText></w:r></w:del>',
        '<w:smartTag w:uri="u" w:element="e"><w:r><w:t>总表</w:t></w:r></w:smartTag>',
    ):
        paragraph._p.append(parse_xml(xml.replace(">", f" {nsdecls('w')}>", 1)))  # declare w: on the root
    buf = io.BytesIO()
    document.save(buf)
    assert read_bytes(buf.getvalue(), "tracked.docx").text == "预算收入总表"


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04 not really a zip", _docx_bytes()[:2000]], ids=["junk", "truncated"]
)
def test_corrupt_docx(data):
    with pytest.raises(IngestError, match="not a readable DOCX") as excinfo:
        read_bytes(data, "broken.docx")
    one_line_error(excinfo)


# ---------------------------------------------------------------- text files

# 一 (U+4E00) and 最 (U+6700) put NUL bytes on the "wrong" parity in UTF-16.
CONTENT = "南宫市医疗保障局 2023 年部门预算\n序号\t项目\t预算数\n1\t一、一般公共预算拨款收入\t68100200.00\n  最后一行\t\n"
BOM = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CONTENT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CONTENT.encode("utf-8"), "utf-8-sig"),
        (CONTENT.encode("gb18030"), "gb18030"),
        (CONTENT.encode("gbk"), "gb18030"),
        (BOM["utf-16-le"] + CONTENT.encode("utf-16-le"), "utf-16-le"),
        (BOM["utf-16-be"] + CONTENT.encode("utf-16-be"), "utf-16-be"),
        (CONTENT.encode("utf-16-le"), "utf-16-le"),
        (CONTENT.encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"],
)
def test_text_encodings_decode_to_the_same_text(tmp_path, data, encoding):
    path = tmp_path / "budget.txt"
    path.write_bytes(data)
    src = read_source(path)
    assert (src.text, src.encoding, src.format) == (CONTENT, encoding, "txt")
    assert src.sha256 == hashlib.sha256(data).hexdigest()


def test_newlines_normalised_other_characters_kept():
    src = read_bytes("a\r\nb\rc\n\t d \f e\u3000\n".encode("utf-8"), "x.md")
    assert src.text == "a\nb\nc\n\t d \f e\u3000\n"
    assert src.lines == ["a", "b", "c", "\t d \f e\u3000", ""]  # \f does not split a line


def test_lines_and_offsets_agree():
    src = read_bytes(CONTENT.encode(), "x.tsv")
    assert "\n".join(src.lines) == src.text
    for line, start in zip(src.lines, src.line_starts, strict=True):
        assert src.text[start : start + len(line)] == line
        assert start == 0 or src.text[start - 1] == "\n"


def test_source_text_is_frozen_and_rejects_cr():
    src = read_bytes(b"x", "x.txt")
    with pytest.raises(dataclasses.FrozenInstanceError):
        src.text = "y"  # type: ignore[misc]
    with pytest.raises(ValueError):
        SourceText("p", "txt", "utf-8", "0", "a\r\nb")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(IngestError, match="is empty") as excinfo:
        read_source(tmp_path / name)
    one_line_error(excinfo)


@pytest.mark.parametrize("nul_free", [False, True], ids=["with-nul", "nul-free"])
def test_binary_garbage_in_txt(nul_free):
    data = random.Random(7).randbytes(4096)
    if nul_free:
        data = data.replace(b"\x00", b"")
    with pytest.raises(IngestError, match="binary") as excinfo:
        read_bytes(data, "garbage.txt")
    one_line_error(excinfo)


def test_control_characters_in_valid_utf8():
    with pytest.raises(IngestError, match="binary"):
        read_bytes(bytes(range(1, 32)) * 20 + "预算".encode(), "ctrl.txt")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "budget.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(IngestError) as excinfo:
        read_source(path)
    message = one_line_error(excinfo)
    assert "unsupported" in message
    for suffix in (".txt", ".text", ".md", ".csv", ".tsv", ".pdf", ".docx"):
        assert suffix in message


def test_missing_file(tmp_path):
    with pytest.raises(IngestError, match="cannot read") as excinfo:
        read_source(tmp_path / "nope.pdf")
    one_line_error(excinfo)
