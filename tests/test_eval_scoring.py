"""Unit tests of the eval scoring: cells (partial rows, extra rows, empty vs zero, duplicate
keys, unit mismatch, exact decimals, spans), metadata, checks; and agreement with the
original cell scorer on the seeds."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from structurer.evaluation.cells import Counts, score_document_cells
from structurer.evaluation.metrics import score_checks, score_document, score_meta, summarize
from structurer.gold import GoldError, load_gold
from structurer.model import Cell, Document, DocumentMeta, Row, Span, Table

GOLD_YAML = """\
doc: t.txt
how_made: synthetic, for the scorer tests
meta: {agency: 南宫市医疗保障局, agency_code: "310", year: 2023, kind: budget, unit: 万元, scope: department}
tables:
  expenditure:
    unit: 万元
    rows:
      total: {total: "300.00", basic: "100.00", project: "200.00"}
      "208": {total: "300.00", basic: "100.00", project: "200.00"}
  three_public:
    unit: 万元
    rows:
      total: {total: "0.00"}
"""


def sp(line: int, start: int = 0) -> Span:
    return Span(line_start=line, line_end=line, start=start, end=start + 1)


def cell(col: str, value: str | None, line: int, unit: str = "万元", printed: str | None = None) -> Cell:
    v = None if value is None else Decimal(value)
    return Cell(column=col, value=v, printed=printed if printed is not None else (value or "?"), unit=unit,
                span=sp(line))


def doc_of(*tables: tuple[str, list[tuple[str, int, list[Cell]]]], meta: dict | None = None) -> Document:
    return Document(meta=DocumentMeta(source="t.txt", **(meta or {})), tables=[
        Table(id=tid, title=tid, unit="万元", span=Span(line_start=1, line_end=99, start=0, end=999),
              rows=[Row(id=rid, span=sp(line), cells=cells) for rid, line, cells in rows])
        for tid, rows in tables])


@pytest.fixture()
def gold(tmp_path: Path):
    p = tmp_path / "t.yaml"
    p.write_text(GOLD_YAML, encoding="utf-8")
    return load_gold(p)


def right_rows() -> list:
    return [("total", 10, [cell("total", "3000000", 10), cell("basic", "1000000", 10), cell("project", "2000000", 10)]),
            ("208", 11, [cell("total", "3000000", 11), cell("basic", "1000000", 11), cell("project", "2000000", 11)])]


def status(res, key) -> list[str]:
    return [o.status for o in res.outcomes if o.key == key]


def test_a_perfect_document_scores_one(gold):
    res = score_document_cells(doc_of(("expenditure", right_rows()),
                                      ("three_public", [("total", 20, [cell("total", "0", 20)])])), gold)
    c = res.counts
    assert (c.tp, c.fp, c.fn, c.f1) == (7, 0, 0, 1.0)
    assert res.errors() == []


def test_partial_row_misses_only_the_absent_columns_and_locates_them_by_row(gold):
    rows = right_rows()
    rows[1] = ("208", 11, [cell("total", "3000000", 11)])  # basic and project not extracted
    res = score_document_cells(doc_of(("expenditure", rows)), gold)
    c = res.counts
    assert (c.tp, c.fp, c.fn) == (4, 0, 3)  # 208/basic, 208/project and the whole 三公 table
    miss = {o.key: o for o in res.errors()}
    assert set(miss) == {("expenditure", "208", "basic"), ("expenditure", "208", "project"),
                         ("three_public", "total", "total")}
    o = miss[("expenditure", "208", "basic")]
    assert o.status == "missing" and o.gold == Decimal("1000000") and o.got is None
    assert o.span_of == "row" and o.span.line_start == 11  # where the value should have been
    assert miss[("three_public", "total", "total")].span is None  # no such table extracted
    assert c.precision == 1.0 and c.recall == pytest.approx(4 / 7)


def test_extra_rows_are_false_positives_and_keep_recall(gold):
    rows = right_rows() + [("209", 12, [cell("total", "5", 12), cell("basic", "5", 12)])]
    res = score_document_cells(doc_of(("expenditure", rows), ("three_public", [("total", 20, [cell("total", "0", 20)])])), gold)
    c = res.counts
    assert (c.tp, c.fp, c.fn) == (7, 2, 0)
    assert sorted(o.key for o in res.errors()) == [("expenditure", "209", "basic"), ("expenditure", "209", "total")]
    assert all(o.status == "extra" and o.gold is None and o.span.line_start == 12 for o in res.errors())
    assert c.recall == 1.0 and c.precision == pytest.approx(7 / 9)


def test_empty_is_not_zero(tmp_path):
    p = tmp_path / "z.yaml"
    p.write_text("doc: z.txt\nhow_made: synthetic\ntables:\n  expenditure:\n    unit: 元\n    rows:\n"
                 "      total: {total: '0.00', basic: '0'}\n", encoding="utf-8")
    g = load_gold(p)
    # gold: total printed 0.00, basic printed 0, project empty (absent)
    d = doc_of(("expenditure", [("total", 5, [cell("total", "0", 5, "元"),  # 0 == 0.00: right
                                              cell("project", "0", 5, "元")])]))  # printed-empty read as 0
    res = score_document_cells(d, g)
    got = {o.key: o.status for o in res.outcomes}
    assert got == {("expenditure", "total", "total"): "ok",
                   ("expenditure", "total", "basic"): "missing",  # a printed zero left out
                   ("expenditure", "total", "project"): "extra"}  # an empty cell invented as zero
    assert (res.counts.tp, res.counts.fp, res.counts.fn) == (1, 1, 1)


def test_duplicate_keys_in_the_extraction_score_the_first_and_count_each_repeat(gold):
    rows = right_rows() + [("208", 30, [cell("total", "3000000", 30), cell("basic", "999", 30)])]
    res = score_document_cells(doc_of(("expenditure", rows)), gold)
    dup = [o for o in res.outcomes if o.status == "duplicate"]
    assert sorted(o.key for o in dup) == [("expenditure", "208", "basic"), ("expenditure", "208", "total")]
    assert all(o.span.line_start == 30 for o in dup)
    assert status(res, ("expenditure", "208", "basic")) == ["ok", "duplicate"]  # the first one is scored
    assert (res.counts.tp, res.counts.fp, res.counts.fn) == (6, 2, 1)
    # a table stated twice counts the same way
    twice = score_document_cells(doc_of(("expenditure", right_rows()), ("expenditure", right_rows()[:1])), gold)
    assert sum(o.status == "duplicate" for o in twice.outcomes) == 3


@pytest.mark.parametrize("body", [
    "      total: {total: '1'}\n      total: {total: '2'}\n",  # a row written twice
    "      total: {total: '1', total: '2'}\n",  # a column written twice
])
def test_duplicate_keys_in_a_gold_file_are_an_error(tmp_path, body):
    p = tmp_path / "d.yaml"
    p.write_text("doc: d.txt\nhow_made: synthetic\ntables:\n  expenditure:\n    rows:\n" + body, encoding="utf-8")
    with pytest.raises(GoldError, match="duplicate key 'total'"):
        load_gold(p)


def test_unit_mismatch_is_wrong_and_named_as_such(gold):
    rows = right_rows()
    rows[0] = ("total", 10, [cell("total", "300.00", 10, "元"),  # 万元 read as 元: 10000 × too small
                             cell("basic", "1000000", 10), cell("project", "20000000000", 10)])  # × 10000 too big
    res = score_document_cells(doc_of(("expenditure", rows)), gold)
    st = {o.key: o.status for o in res.errors()}
    assert st[("expenditure", "total", "total")] == "unit"
    assert st[("expenditure", "total", "project")] == "unit"
    # a unit slip is still a wrong value: false positive and false negative
    assert (res.counts.tp, res.counts.fp, res.counts.fn) == (4, 2, 3)


def test_exact_decimal_equality_no_tolerance(gold):
    rows = right_rows()
    rows[0] = ("total", 10, [cell("total", "3000000.00", 10),  # same number, other exponent: right
                             cell("basic", "1000000.01", 10),  # one fen off: wrong
                             cell("project", None, 10, printed="2OO.00")])  # unreadable
    res = score_document_cells(doc_of(("expenditure", rows)), gold)
    st = {o.key: o for o in res.outcomes}
    assert st[("expenditure", "total", "total")].status == "ok"
    wrong = st[("expenditure", "total", "basic")]
    assert wrong.status == "wrong" and wrong.got == Decimal("1000000.01") and wrong.gold == Decimal("1000000")
    assert wrong.printed == "1000000.01" and wrong.gold_printed == "100.00" and wrong.span.line_start == 10
    assert st[("expenditure", "total", "project")].status == "unreadable"


def test_suspect_rows_are_not_scored(gold):
    d = doc_of(("expenditure", right_rows()))
    d.tables[0].rows.append(Row(id="30211", span=sp(40), suspect=True, cells=[cell("total", "5", 40)]))
    assert score_document_cells(d, gold).counts.fp == 0


def test_per_table_counts_and_micro_average(gold):
    rows = right_rows()
    rows[1] = ("208", 11, [cell("total", "1", 11), cell("basic", "1000000", 11), cell("project", "2000000", 11)])
    res = score_document_cells(doc_of(("expenditure", rows)), gold)
    by = res.by_table()
    assert (by["expenditure"].tp, by["expenditure"].fp, by["expenditure"].fn) == (5, 1, 1)
    assert (by["three_public"].tp, by["three_public"].fn) == (0, 1)
    a = Counts(5, 1, 1)
    b = Counts(0, 0, 1)
    assert Counts().add(a).add(b).to_dict()["f1"] == pytest.approx(2 * 5 / (2 * 5 + 1 + 2))


def test_metadata_fields_compare_normalized_names_and_exact_values(gold):
    right = doc_of(meta=dict(agency="南宮市醫療保障局", agency_code="310", year=2023, kind="budget", unit="万元",
                             scope="department"))
    s = score_meta(right, gold)
    assert (s["correct"], s["total"]) == (6, 6)  # traditional characters are the same name
    wrong = doc_of(meta=dict(agency="南京市医疗保障局", agency_code=None, year=2022, kind="budget", unit="万元",
                             scope="department"))
    s = score_meta(wrong, gold)
    assert {f for f, v in s["fields"].items() if not v["ok"]} == {"agency", "agency_code", "year"}


def test_checks_compare_findings_with_the_gold_documents_own(gold):
    from structurer.checks.run import evaluate

    gold_report = evaluate(gold.document())
    # this gold adds up (its one table alone: no summary table to check totals against)
    assert [r.identity for r in gold_report.findings()] == ["document.summary_located"]
    rows = right_rows()
    rows[1] = ("208", 11, [cell("total", "3000000", 11), cell("basic", "1500000", 11), cell("project", "2000000", 11)])
    d = doc_of(("expenditure", rows))
    s = score_checks(evaluate(d), gold_report)
    assert s["counts"]["tp"] == 0 and s["counts"]["fp"] >= 1 and s["counts"]["fn"] == 0
    instances = " ".join(f["instance"] for f in s["spurious"])
    assert "expenditure" in instances
    # the findings point at the misread cell
    assert any((f.get("suspect_cell") or {}).get("row") == "208" for f in s["spurious"])
    # and the right document raises none
    assert score_checks(evaluate(doc_of(("expenditure", right_rows()))), gold_report)["counts"]["fp"] == 0


def test_summarize_adds_documents_up(gold):
    from structurer.checks.run import evaluate

    gr = evaluate(gold.document())
    a = score_document(doc_of(("expenditure", right_rows())), gold, gr)
    b = score_document(doc_of(("expenditure", right_rows()[:1])), gold, gr)
    s = summarize({"a": a, "b": b})
    assert (s["cells"]["tp"], s["cells"]["fn"]) == (6 + 3, 1 + 4)
    assert s["tables"]["expenditure"]["tp"] == 9 and s["tables"]["three_public"]["fn"] == 2


def test_key_cell_gold_scores_only_the_aspects_it_labels(tmp_path):
    from structurer.checks.run import evaluate
    from structurer.evaluation.render import matrix_rows
    from structurer.model import NarrativeFact

    fact = NarrativeFact(key="expenditure.basic", value=Decimal("1000000"), printed="100.00", unit="万元",
                         span=sp(3))
    d = doc_of(("expenditure", right_rows()))
    d.narrative = [fact]
    partial = tmp_path / "p.yaml"
    partial.write_text(GOLD_YAML + "partial: true\n", encoding="utf-8")
    labelled = tmp_path / "l.yaml"  # a key-cell gold that does list the prose's facts
    labelled.write_text(GOLD_YAML + "partial: true\nnarrative:\n"
                        "  - {key: expenditure.basic, printed: \"100.00\", unit: 万元}\n", encoding="utf-8")
    scores = {}
    for name, path in (("p", partial), ("l", labelled)):
        g = load_gold(path)
        scores[name] = score_document(d, g, evaluate(g.document()))
    # a fact the key-cell gold never listed is not an extra: the aspect is not scored there
    assert scores["p"]["narrative"]["labelled"] is False and scores["p"]["narrative"]["counts"]["fp"] == 0
    assert scores["l"]["narrative"]["counts"]["tp"] == 1
    # and a full gold without narrative still scores the fact as extra
    full = score_document(d, load_gold(_write(tmp_path, GOLD_YAML)), evaluate(doc_of()))
    assert full["narrative"]["counts"]["fp"] == 1
    overall = summarize(scores)
    assert overall["labelled_documents"]["narrative"] == 1 and overall["narrative"]["tp"] == 1
    from structurer.evaluation.runner import _usage_dict
    from structurer.llm.accounting import Usage

    data = {"columns": {"rules": {"overall": overall, "docs": scores, "models_seen": [], "model": None,
                                  "prompt_versions": {}, "usage": _usage_dict(Usage()), "failures": 0,
                                  "wall_s": 0.0}}}
    rows = {label: vals[0] for section, label, vals in matrix_rows(data) if section == "other aspects"}
    assert rows["narrative facts F1"] == "1.000 [1 of 2 documents]"
    assert rows["performance indicators F1"] == "— (no gold labels it)"
    # a check of the prose fails on the extraction (its fact says 200.00, the table 100.00) but
    # cannot on a gold that lists no prose: not counted as a spurious finding there
    d.narrative = [fact.model_copy(update={"value": Decimal("2000000"), "printed": "200.00"})]
    for name, path in (("p", partial), ("l", labelled)):
        g = load_gold(path)
        checks = score_document(d, g, evaluate(g.document()))["checks"]
        spurious = [f["instance"] for f in checks["spurious"] if f["instance"].startswith("narrative.")]
        assert bool(spurious) == (name == "l"), (name, checks)


def _write(folder: Path, text: str) -> Path:
    p = folder / "full.yaml"
    p.write_text(text, encoding="utf-8")
    return p
