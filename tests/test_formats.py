"""End to end over real files: a seed's text dump rendered as DOCX and as PDF at test time
(tests/render_seed.py, generic: it works from the tab structure alone) must give the same
tables, cells and scores as the text dump itself."""
from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import pytest
from render_seed import render_docx, render_pdf

from structurer.gold import load_gold
from structurer.ingest import read_bytes
from structurer.pipeline import extract_prepared, prepare
from structurer.evaluation.cells import document_cells, score_document_cells

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ["000_ce6cab5f862a266e", "004_397ecf54ea00b92f"]
RENDER = {"docx": render_docx, "pdf": render_pdf}
META = ("agency", "agency_code", "year", "kind", "unit", "scope")


def seed_text(seed: str) -> str:
    return (ROOT / "examples" / f"{seed}.txt").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def reference(seed: str):
    """What the text dump gives: (table ids, cells, score against gold, meta)."""
    prep = prepare(ROOT / "examples" / f"{seed}.txt")
    doc = extract_prepared(prep)
    score = score_document_cells(doc, load_gold(ROOT / "evals" / "gold" / f"{seed}.yaml")).counts
    return [s.id for s in prep.seg.tables()], document_cells(doc), score, doc.meta


@pytest.mark.parametrize("merge", [False, True], ids=["cells", "merged-header"])
@pytest.mark.parametrize("seed", SEEDS)
def test_docx_gives_back_the_text_line_for_line(seed, merge):
    # One field per grid column: a cell merged over the empty cells after it (gridSpan)
    # reads back as the text followed by those empty fields, except in a table's header
    # rows, which become one line of column paths (收入›项目) as the PDF grid gives them.
    text = seed_text(seed)
    lines = read_bytes(render_docx(text, merge=merge), f"{seed}.docx").lines
    if not merge:
        assert lines == text.split("\n")
        return
    hunks = [op for op in SequenceMatcher(None, text.split("\n"), lines, autojunk=False).get_opcodes()
             if op[0] != "equal"]
    for tag, i1, i2, j1, j2 in hunks:
        assert (tag, j2 - j1) == ("replace", 1) and i2 - i1 >= 2 and "›" in lines[j1]


# Rendered seeds whose PDF grid still loses cells (both header variants).
_PDF_LAYOUT_GAPS = {"000", "004"}

CASES = [
    pytest.param(seed, fmt, merge, id=f"{seed[:3]}-{fmt}-{'merged' if merge else 'cells'}",
                 marks=([pytest.mark.slow] if fmt == "pdf" else [])
                 + ([pytest.mark.xfail(strict=True, reason=(
                     "PDF layout: these rendered seed tables (reportlab Table, every column ruled, "
                     "cells wrapped inside narrow columns) do not yet give back all the seed's cells"))]
                    if fmt == "pdf" and seed[:3] in _PDF_LAYOUT_GAPS else []))
    for seed in SEEDS
    for fmt in ("docx", "pdf")
    for merge in (False, True)
]


@pytest.mark.parametrize(("seed", "fmt", "merge"), CASES)
def test_rendered_file_extracts_like_the_text(tmp_path, seed, fmt, merge):
    path = tmp_path / f"{seed}.{fmt}"
    path.write_bytes(RENDER[fmt](seed_text(seed), merge=merge))
    prep = prepare(path)
    assert prep.source.format == fmt
    doc = extract_prepared(prep)

    ids, cells, score, meta = reference(seed)
    assert (score.precision, score.recall) == (1.0, 1.0)  # the text dump itself is exact
    assert [s.id for s in prep.seg.tables()] == ids
    assert [t.id for t in doc.tables] == ids

    res = score_document_cells(doc, load_gold(ROOT / "evals" / "gold" / f"{seed}.yaml"))
    assert res.errors() == []
    assert (res.counts.precision, res.counts.recall) == (score.precision, score.recall)
    assert document_cells(doc) == cells  # also the cells gold does not list
    assert {k: getattr(doc.meta, k) for k in META} == {k: getattr(meta, k) for k in META}
