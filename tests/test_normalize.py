"""Normalization keeps an exact map from every normalized character to its source position."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEEDS, extracted
from structurer.ingest import read_source
from structurer.normalize import NText, compact, join_number, normalize_line


def norm(s: str) -> str:
    return normalize_line(s, 0).text


def test_fullwidth_traditional_markup_latex():
    assert norm("單位：萬元（１２３）") == "单位:万元(123)"
    assert norm("<b>本年收入合计</b>") == "本年收入合计"
    assert norm("## **七、政府性基金**") == "七、政府性基金"
    assert norm("预算调整率\t$\\leq 10\\%$") == "预算调整率\t≤10%"
    assert norm("数 $\\times 100\\%$ 。") == "数 ×100% 。"
    assert norm("[bookmark: _Toc1]部门政府采购预算") == "部门政府采购预算"


def test_number_broken_inside_a_cell_is_joined_with_its_map():
    line = "x\t5121 0700 .00\t"
    t = normalize_line(line, 100).split_fields("\t")[1]
    j = join_number(t)
    assert j.text == "51210700.00"
    start, end = j.source_range()
    assert line[start - 100:end - 100] == "5121 0700 .00"


_ALPHABET = st.sampled_from(list("０１２３４５６７８９，：（）單位萬元合計abc <>/*#$\\%leq \t123.,醫療收入支出"))


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=40))
def test_every_normalized_char_maps_to_a_source_char_that_produces_it(raw):
    t = normalize_line(raw, 7)
    for i, ch in enumerate(t.text):
        o = t.offset(i) - 7
        assert 0 <= o < len(raw)
        src = raw[o]
        mapped = unicodedata.normalize("NFKC", src)
        # either the character itself (after width/script folding) or a markup rewrite at that spot
        assert ch in mapped or ch.isspace() or src in "$\\" or norm(src) == ch or ch in "≤≥×%", (raw, i)


def test_cell_spans_round_trip_to_the_printed_source_text():
    """For every cell of every seed, the span's source text is the printed text, and its
    normalization (numbers joined) is the parsed number."""
    for name in SEEDS:
        doc = extracted(name)
        text = read_source(doc_path(name)).text
        for t in doc.tables:
            for r in t.rows:
                for c in r.cells:
                    piece = text[c.span.start:c.span.end]
                    if c.span.line_start == c.span.line_end:
                        assert piece == c.printed, (name, t.id, r.id, c.column)
                    else:  # a cell continued after a page break: its fragments, in order
                        frags = c.printed.split("\n")
                        assert piece.startswith(frags[0]) and piece.endswith(frags[-1])
                    if c.value is not None:
                        joined = compact(normalize_line(c.printed.replace("\n", ""), 0).text)
                        number = joined.replace(",", "")
                        assert number.lstrip("-").replace(".", "").isdigit(), (name, c.printed)


def doc_path(name):
    from conftest import EXAMPLES
    return EXAMPLES / name


def test_ntext_slicing_keeps_offsets():
    t = NText("abcdef", 10)[2:5]
    assert (t.text, t.offset(0), t.source_range()) == ("cde", 12, (12, 15))
    d = NText("a  b", 0).drop(r"\s+")
    assert d.text == "ab" and d.offset(1) == 3
