"""The `llm` backend through the real openai + instructor clients over HTTP, against the
in-process test server (tests/openai_server.py): correct answers, grounding reasks,
transport retries, broken responses, usage accounting and the cache."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXAMPLES, GOLD, extracted
from openai_server import Error, GoldModel, OpenAIServer, Raw, Reply, empty_answers, settings_for
from structurer.gold import load_gold
from structurer.llm.accounting import Prices, RunLedger
from structurer.llm.backend import extract_with_llm
from structurer.llm.cache import CacheMiss, DiskCache
from structurer.llm.client import LLMError
from structurer.llm.config import ModelConfig
from structurer.pipeline import prepare
from structurer.evaluation.cells import document_cells
from structurer.evaluation.narrative import score_narrative

SEED = "000_ce6cab5f862a266e"


def _cells(doc, table=None):
    return {k: v for k, v in document_cells(doc).items() if table is None or k[0] == table}


def _printed(doc):
    return {(t.id, r.id, c.column): c.printed for t in doc.tables for r in t.rows if not r.suspect
            for c in r.cells}


@pytest.fixture()
def mini(tmp_path) -> Path:
    """A one-table document: seed 000's expenditure table (two pages, numbers broken by
    spaces, a value cut over a page break) under a title line."""
    lines = (EXAMPLES / f"{SEED}.txt").read_text(encoding="utf-8").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "部门预算支出总表" and i > 100)
    end = next(i for i in range(start + 1, len(lines)) if "财政拨款收支总表" in lines[i])
    p = tmp_path / "mini.txt"
    p.write_text("南宫市医疗保障局2023年部门预算\n\n" + "\n".join(lines[start:end]) + "\n", encoding="utf-8")
    return p


def _gold_model(**kw) -> GoldModel:
    return GoldModel(GOLD / f"{SEED}.yaml", **kw)


def _expected_expenditure():
    gold = load_gold(GOLD / f"{SEED}.yaml")
    return {k: v for k, v in gold.cells.items() if k[0] == "expenditure"}


# --------------------------------------------------------------------------- correct answers

@pytest.mark.parametrize("name", ["000_ce6cab5f862a266e", "003_fd949bb5025c67e5", "004_397ecf54ea00b92f"])
def test_correct_answers_give_the_rules_document(tmp_path, name):
    """A model answering with the gold cells (each cited on the line it is printed on) yields
    the same cells — values, printed text, rows — as the rules backend, and the gold."""
    gm = GoldModel(GOLD / f"{name}.yaml")
    with OpenAIServer(gm) as srv:
        doc = extract_with_llm(prepare(EXAMPLES / f"{name}.txt"), "llm", settings=settings_for(srv, tmp_path))
        requests = srv.count
    assert gm.unplaced == []
    rules = extracted(f"{name}.txt")
    gold = load_gold(GOLD / f"{name}.yaml")
    assert _cells(doc) == _cells(rules) == gold.cells
    assert _printed(doc) == _printed(rules)
    for t, rt in zip(doc.tables, rules.tables):
        assert (t.id, t.unit, t.span, t.empty) == (rt.id, rt.unit, rt.span, rt.empty)
        for r in t.rows:
            for c in r.cells:
                assert t.span.start <= c.span.start < c.span.end <= t.span.end
                src = doc_source(name)[c.span.start:c.span.end]
                pieces = c.printed.split("\n")  # a value cut over lines: one piece per line
                assert src.startswith(pieces[0]) and src.endswith(pieces[-1]), (t.id, r.id, c.column)
            rr = rt.row(r.id)
            if r.code:  # coded rows: cited on the rules' line
                assert r.span.line_start == rr.span.line_start, (t.id, r.id)
    narr = score_narrative(doc, gold)
    assert narr.recall == 1.0 and narr.precision == 1.0, (narr.missing[:3], narr.extra[:3])
    assert doc.backend == "llm" and doc.model == "test-model"
    assert set(doc.prompt_versions) == {"table", "narrative", "performance"}
    assert all("+" in v for v in doc.prompt_versions.values())
    assert doc.usage.requests == requests and doc.usage.reasks == 0 and doc.usage.retries == 0


def doc_source(name: str) -> str:
    from structurer.ingest import read_source

    return read_source(EXAMPLES / f"{name}.txt").text


@pytest.mark.parametrize("mode", ["tools", "json_schema", "md_json", "json"])
def test_each_instructor_mode(tmp_path, mini, mode):
    with OpenAIServer(_gold_model()) as srv:
        s = settings_for(srv, tmp_path, model=ModelConfig("t", "test-model", srv.base_url, mode=mode))
        doc = extract_with_llm(prepare(mini), "llm", settings=s)
        body = srv.requests[0].body
    assert _cells(doc, "expenditure") == _expected_expenditure()
    if mode == "tools":
        assert body["tools"][0]["function"]["name"] == "TableAnswer" and "response_format" not in body
    elif mode == "json_schema":
        assert body["response_format"]["type"] == "json_schema" and "tools" not in body
    elif mode == "md_json":
        assert "```json" in body["messages"][-1]["content"] and "tools" not in body
    else:
        assert body["response_format"]["type"] == "json_object"


def test_prompt_numbers_lines_and_lists_the_vocabulary(tmp_path, mini):
    with OpenAIServer(empty_answers) as srv:
        extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        req = srv.requests[0]
    lines = req.numbered_lines()
    src = mini.read_text(encoding="utf-8").split("\n")
    for n, text in lines.items():  # numbered with the document's own line numbers
        assert "".join(text.split()) == "".join(src[n - 1].split())
    assert req.user.startswith('Table expenditure "部门预算支出总表", unit 元')
    assert "basic=基本支出" in req.user and "project=项目支出" in req.user
    assert "header:" in req.user  # the header is shown once, unnumbered


# --------------------------------------------------------------------------- grounding

def _corrupt(value_from: str, value_to: str, text_too: bool = True):
    def mutate(table, row):
        for c in row["cells"]:
            if c["text"] == value_from:
                c["value"] = value_to
                if text_too:
                    c["text"] = value_to
        return row
    return mutate


def test_ungrounded_number_is_sent_back_and_corrected(tmp_path, mini):
    good = _gold_model()
    bad = _gold_model(mutate=_corrupt("51210700.00", "51210800.00"))
    answers = []

    def model(req):
        answers.append(len(req.reasks))
        return bad(req) if not req.reasks else good(req)

    with OpenAIServer(model) as srv:
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        reask = srv.requests[1].reasks
    assert answers == [0, 1]
    assert any("'51210800.00' is not printed on line" in m for m in reask)  # the error went to the model
    assert _cells(doc, "expenditure") == _expected_expenditure()
    assert doc.usage.reasks == 1 and doc.usage.requests == 2 and doc.usage.retries == 0
    assert doc.warnings == []


def test_ungrounded_number_is_rejected_after_the_reask_limit(tmp_path, mini):
    bad = _gold_model(mutate=_corrupt("51210700.00", "51210800.00"))
    with OpenAIServer(bad) as srv:
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path, max_reasks=2))
        n = srv.count
    assert n == 3  # the answer and two reasks
    want = _expected_expenditure()
    got = _cells(doc, "expenditure")
    dropped = {k for k in want if k[1] == "2101202"}
    assert all(k not in got for k in dropped)  # the ungrounded value (and its row's twin) rejected
    assert {k: v for k, v in want.items() if k not in dropped} == {k: v for k, v in got.items() if k not in dropped}
    assert Decimal("51210800") not in got.values()
    assert any("rejected" in w and "51210800.00" in w for w in doc.warnings)
    assert doc.usage.reasks == 2 and doc.usage.failures == 0


def test_value_must_equal_its_printed_text_in_the_printed_unit(tmp_path, mini):
    # the text is printed, but the value is not what it says (a unit converted, say)
    wrong = _gold_model(mutate=_corrupt("9162500.00", "916.25", text_too=False))
    good = _gold_model()
    with OpenAIServer(lambda r: wrong(r) if not r.reasks else good(r)) as srv:
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        reask = " ".join(srv.requests[1].reasks)
    assert "does not equal the printed text" in reask and "i.e. 9162500.00" in reask
    assert _cells(doc, "expenditure") == _expected_expenditure()


def test_ids_outside_the_vocabulary_are_sent_back(tmp_path, mini):
    def odd(table, row):
        if row["id"] == "total":
            row["id"] = "grand_sum"
        return row
    bad, good = _gold_model(mutate=odd), _gold_model()
    with OpenAIServer(lambda r: bad(r) if not r.reasks else good(r)) as srv:
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        reask = " ".join(srv.requests[1].reasks)
    assert "'grand_sum': not a row id of expenditure" in reask
    assert _cells(doc, "expenditure") == _expected_expenditure()


# --------------------------------------------------------------------------- transport

def _no_reask(srv):
    return all(not r.reasks for r in srv.requests)


def test_429_with_retry_after_is_waited_out_and_retried(tmp_path, mini):
    with OpenAIServer(_gold_model()) as srv:
        srv.enqueue(Error(429, "slow down", headers={"Retry-After": "1"}))
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        gap = srv.requests[1].at - srv.requests[0].at
        assert srv.count == 2 and _no_reask(srv)
        assert srv.requests[0].body["messages"] == srv.requests[1].body["messages"]
    assert gap >= 0.95  # Retry-After honoured
    assert _cells(doc, "expenditure") == _expected_expenditure()
    assert doc.usage.retries == 1 and doc.usage.requests == 2 and doc.usage.reasks == 0


def test_500_and_timeout_are_retried(tmp_path, mini):
    gm = _gold_model()
    with OpenAIServer(gm) as srv:
        srv.enqueue(Error(500, "boom"), Reply(delay=1.0, payload={"rows": []}), Error(503, "busy"))
        s = settings_for(srv, tmp_path, timeout_s=0.4)
        doc = extract_with_llm(prepare(mini), "llm", settings=s)
        assert srv.count == 4 and _no_reask(srv)
    assert _cells(doc, "expenditure") == _expected_expenditure()
    assert doc.usage.retries == 3 and doc.usage.reasks == 0 and doc.usage.failures == 0


def test_retries_run_out_into_one_clear_error(tmp_path, mini):
    with OpenAIServer(lambda r: Error(503, "down for maintenance")) as srv:
        with pytest.raises(LLMError) as e:
            extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path, max_attempts=3))
        assert srv.count == 3
    msg = str(e.value)
    assert "after 3 attempt(s)" in msg and "HTTP 503" in msg and "\n" not in msg
    assert not DiskCache(tmp_path).entries()  # nothing half-done is cached


def test_malformed_and_truncated_bodies_are_retried_not_reasked(tmp_path, mini):
    with OpenAIServer(_gold_model()) as srv:
        srv.enqueue(Raw(200, b"{\"choices\": [ {\"message\": "),  # malformed JSON
                    Raw(200, b"<html>bad gateway</html>"),
                    Raw(200, b"{\"id\": \"x\", \"choices\": [", declared_length=500))  # cut short
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        assert srv.count == 4 and _no_reask(srv)
    assert _cells(doc, "expenditure") == _expected_expenditure()
    assert doc.usage.retries == 3 and doc.usage.reasks == 0


def test_malformed_model_output_is_reasked(tmp_path, mini):
    with OpenAIServer(_gold_model()) as srv:
        srv.enqueue(Reply('{"rows": [{"id": "total", "lines": [9], "cells": [{"col": '))  # broken JSON
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        assert srv.count == 2 and srv.requests[1].reasks
    assert _cells(doc, "expenditure") == _expected_expenditure()
    assert doc.usage.reasks == 1 and doc.usage.retries == 0


def test_answer_cut_off_at_max_tokens_splits_the_table(tmp_path, mini):
    gm = _gold_model()
    with OpenAIServer(gm) as srv:
        srv.enqueue(Reply('{"rows": [{"id": "total", "lines": [9], "cel', finish_reason="length"))
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
        parts = [r.user.splitlines()[0] for r in srv.requests[1:]]
        assert srv.count == 3
    assert all("part" in p for p in parts) and len(parts) == 2
    for r in srv.requests[1:]:  # each half repeats the header
        assert "header:" in r.user and "科目编码" in r.user
    assert _cells(doc, "expenditure") == _expected_expenditure()


# --------------------------------------------------------------------------- usage

def test_usage_adds_up_across_retries_and_reasks(tmp_path, mini):
    bad = _gold_model(mutate=_corrupt("51210700.00", "51210800.00"))
    good = _gold_model()
    calls = []

    def model(req):
        calls.append(req)
        if len(calls) == 1:
            return Error(500, "boom")
        if len(calls) == 2:
            return Reply(bad(req), usage={"prompt_tokens": 1000, "completion_tokens": 100})
        return Reply(good(req), usage={"prompt_tokens": 1200, "completion_tokens": 150})

    with OpenAIServer(model) as srv:
        ledger = RunLedger()
        mc = ModelConfig("t", "test-model", srv.base_url, prices=Prices(Decimal("2"), Decimal("8"), "CNY"))
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path, model=mc), ledger=ledger)
    u = doc.usage
    assert (u.requests, u.retries, u.reasks, u.failures, u.cache_hits) == (3, 1, 1, 0, 0)
    assert (u.prompt_tokens, u.completion_tokens) == (2200, 250)
    assert u.cost == (Decimal(2200) * 2 + Decimal(250) * 8) / Decimal(1_000_000)
    assert u.latency_s > 0
    assert ledger.total == u and ledger.docs[0].calls == 1


def test_usage_is_estimated_when_the_endpoint_reports_none(tmp_path, mini):
    with OpenAIServer(lambda r: Reply(_gold_model()(r), usage=None)) as srv:
        doc = extract_with_llm(prepare(mini), "llm", settings=settings_for(srv, tmp_path))
    assert doc.usage.prompt_tokens > 500 and doc.usage.completion_tokens > 100


def test_run_ledger_prints_per_document_and_total(tmp_path, mini):
    from rich.console import Console

    ledger = RunLedger()
    with OpenAIServer(_gold_model()) as srv:
        s = settings_for(srv, tmp_path)
        extract_with_llm(prepare(mini), "llm", settings=s, ledger=ledger)
        extract_with_llm(prepare(EXAMPLES / f"{SEED}.txt"), "llm", settings=s, ledger=ledger)
        n = srv.count
    console = Console(record=True, width=200)
    ledger.render(console)
    out = console.export_text()
    assert "mini.txt" in out and f"{SEED}.txt" in out and "total" in out
    assert ledger.total.requests == n
    assert ledger.total.prompt_tokens == sum(d.usage.prompt_tokens for d in ledger.docs)


# --------------------------------------------------------------------------- cache

def test_second_run_is_served_from_the_cache_with_zero_requests(tmp_path):
    path = EXAMPLES / f"{SEED}.txt"
    with OpenAIServer(_gold_model()) as srv:
        s = settings_for(srv, tmp_path)
        first = extract_with_llm(prepare(path), "llm", settings=s)
        n = srv.count
        second = extract_with_llm(prepare(path), "llm", settings=s)
        assert srv.count == n  # not one more request
        replay = extract_with_llm(prepare(path), "llm", settings=s.with_(cache_only=True))
        assert srv.count == n
    assert second.usage.requests == 0 and second.usage.cache_hits == n and second.usage.prompt_tokens == 0
    strip = {"usage"}
    assert second.model_dump(exclude=strip) == first.model_dump(exclude=strip) == replay.model_dump(exclude=strip)
    entries = DiskCache(tmp_path).entries()
    assert len(entries) == n
    entry = json.loads(entries[0].read_text(encoding="utf-8"))
    assert {"answer", "model", "endpoint", "prompt", "usage"} <= set(entry)


def test_cache_key_changes_with_prompt_model_and_parameters(tmp_path, mini):
    with OpenAIServer(_gold_model()) as srv:
        s = settings_for(srv, tmp_path)
        extract_with_llm(prepare(mini), "llm", settings=s)
        extract_with_llm(prepare(mini), "llm", settings=s.with_(
            model=ModelConfig("t", "other-model", srv.base_url)))
        extract_with_llm(prepare(mini), "llm", settings=s.with_(
            model=ModelConfig("t", "test-model", srv.base_url, temperature=0.7)))
        extract_with_llm(prepare(mini), "llm", settings=s.with_(max_reasks=1))
        assert srv.count == 4
        extract_with_llm(prepare(mini), "llm", settings=s)
        assert srv.count == 4


def test_cache_only_miss_is_an_error_and_no_cache_writes_nothing(tmp_path, mini):
    with OpenAIServer(_gold_model()) as srv:
        s = settings_for(srv, tmp_path)
        with pytest.raises(CacheMiss, match="--cache-only"):
            extract_with_llm(prepare(mini), "llm", settings=s.with_(cache_only=True))
        assert srv.count == 0
        extract_with_llm(prepare(mini), "llm", settings=s.with_(use_cache=False))
        extract_with_llm(prepare(mini), "llm", settings=s.with_(use_cache=False))
        assert srv.count == 2
    assert DiskCache(tmp_path).entries() == []


def test_cache_writes_are_atomic(tmp_path):
    cache = DiskCache(tmp_path)
    p = cache.put("ab" + "0" * 62, {"answer": {"rows": []}})
    assert p.exists() and not list(p.parent.glob(".*.tmp"))  # no temporary file left
    p.write_text("{ half", encoding="utf-8")  # a damaged entry reads as a miss
    assert cache.get("ab" + "0" * 62) is None


def test_interrupted_document_resumes_without_redoing_finished_chunks(tmp_path):
    path = EXAMPLES / f"{SEED}.txt"
    gm = _gold_model()
    state = {"n": 0}

    def flaky(req):
        state["n"] += 1
        return Error(401, "bad key") if state["n"] == 4 else gm(req)

    with OpenAIServer(flaky) as srv:
        s = settings_for(srv, tmp_path, concurrency=1)
        with pytest.raises(LLMError, match="HTTP 401"):
            extract_with_llm(prepare(path), "llm", settings=s)
        done = len(DiskCache(tmp_path).entries())
        before = srv.count
        doc = extract_with_llm(prepare(path), "llm", settings=s)
        asked_again = srv.count - before
    assert done >= 1 and asked_again == doc.usage.requests
    assert doc.usage.cache_hits == done
    assert _cells(doc) == load_gold(GOLD / f"{SEED}.yaml").cells
