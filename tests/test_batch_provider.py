"""`structurer batch --batch-api`: LLM requests through the provider's batch API
(/v1/files + /v1/batches on the in-process OpenAI-compatible server), answers settled into
the same cache the sync client reads, the rest asked directly; resumable through the manifest."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD
from openai_server import Error, GoldModel, OpenAIServer, Reply, settings_for, write_toml
from structurer.cli import _prepare, app

SEED = "004_397ecf54ea00b92f"


def _setup(tmp, srv, seeds=(SEED,)):
    src = tmp / "in"
    src.mkdir(exist_ok=True)
    for s in seeds:
        shutil.copy(EXAMPLES / f"{s}.txt", src / f"{s}.txt")
    cfg = write_toml(tmp / "structurer.toml", srv.base_url, tmp / "cache")
    return src, cfg


def _args(src, out, cfg, *more):
    return ["batch", str(src), "--out", str(out), "--backend", "llm", "--model", "qwen", "--config", str(cfg),
            "--jobs", "1", *more]


def _chat(srv) -> list:
    """Chat completions sent directly (not through a provider batch)."""
    return [q for q in srv.requests if q.path.endswith("/chat/completions")]


def _doc(out, seed=SEED) -> dict:
    return json.loads((out / "docs" / f"{seed}.txt.json").read_text(encoding="utf-8"))


def _content(doc: dict) -> dict:
    return {k: doc[k] for k in ("tables", "narrative", "performance")}


def _cells(doc: dict) -> dict:
    from structurer.model import Document
    from structurer.evaluation.cells import document_cells

    return document_cells(Document.model_validate(doc))


def _batches(out) -> list[dict]:
    conn = sqlite3.connect(out / "manifest.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM provider_batches ORDER BY submitted_at")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sync_doc(tmp_path_factory):
    """The same seed structured with the sync LLM path (the reference)."""
    tmp = tmp_path_factory.mktemp("sync")
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        src, cfg = _setup(tmp, srv)
        r = CliRunner().invoke(app, _args(src, tmp / "out", cfg), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return _doc(tmp / "out"), len(_chat(srv))


@pytest.mark.parametrize("mode", ["tools", "json_schema", "md_json", "json"])
def test_batch_request_bodies_equal_what_the_sync_client_sends(tmp_path, mode):
    from structurer.llm.backend import extract_with_llm
    from structurer.llm.provider_batch import plan_document

    prep = _prepare(EXAMPLES / f"{SEED}.txt")
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        settings = settings_for(srv, tmp_path / "cache", model_options={"mode": mode})
        lines, cached = plan_document(prep, "llm", settings)
        assert cached == 0 and lines
        extract_with_llm(prep, "llm", settings=settings)
        sent = sorted(json.dumps(q.body, sort_keys=True, ensure_ascii=False) for q in _chat(srv))
    planned = [json.loads(line) for _, line in lines]
    assert all(p["url"] == "/v1/chat/completions" and p["method"] == "POST" for p in planned)
    assert [p["custom_id"] for p in planned] == [k for k, _ in lines]
    assert sorted(json.dumps(p["body"], sort_keys=True, ensure_ascii=False) for p in planned) == sent
    # once answered, the same document plans nothing: the batch reads the sync client's cache
    assert plan_document(prep, "llm", settings) == ([], len(lines))


def test_batch_api_run_equals_the_sync_run_and_reruns_from_the_cache(no_env, sync_doc):
    reference, sync_requests = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.05"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert _chat(srv) == []  # every answer came through the batch
        assert len(srv.batch_lines) == sync_requests
        assert _content(_doc(out)) == _content(reference)
        [b] = _batches(out)
        assert (b["status"], b["requests"], b["cached"], b["rejected"], b["errors"], b["missing"]) == \
            ("completed", sync_requests, sync_requests, 0, 0, 0)
        assert b["collected_at"] and b["prompt_tokens"] > 0 and b["output_file_id"]
        assert (out / "provider_batches" / f"{b['id']}.input.jsonl").read_text(encoding="utf-8").count("\n") \
            == sync_requests
        assert f"submitted provider batch {b['id']}: {sync_requests} requests" in r.output
        # a forced rerun plans the same requests, finds them all in the cache and sends nothing
        http = srv.count
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--force"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert srv.count == http and len(_batches(out)) == 1
        assert f"{sync_requests} requests answered in the cache" in r.output
        assert _content(_doc(out)) == _content(reference)


def test_answers_the_batch_could_not_give_are_asked_directly(no_env, sync_doc):
    reference, sync_requests = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        # the first two batch lines: an answer that is not JSON, and a provider error
        srv.enqueue(Reply("this is not JSON"), Error(500, "overloaded"))
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.05"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        [b] = _batches(out)
        assert (b["cached"], b["rejected"], b["errors"]) == (sync_requests - 2, 1, 1)
        assert len(_chat(srv)) == 2  # exactly those two, asked directly
        asked = {q.user for q in _chat(srv)}
        assert asked == {q.user for q in srv.batch_lines[:2]}
        assert _content(_doc(out)) == _content(reference)
        assert "2 to ask directly (1 rejected, 1 errors, 0 unanswered)" in r.output


def test_an_expired_batch_keeps_its_answers_and_the_rest_is_asked_directly(no_env, sync_doc):
    reference, sync_requests = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml"), batch_outcome="expired", batch_expire_after=3) as srv:
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.05"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        [b] = _batches(out)
        assert (b["status"], b["cached"], b["missing"]) == ("expired", 3, sync_requests - 3)
        assert len(_chat(srv)) == sync_requests - 3
        assert _content(_doc(out)) == _content(reference)


def test_a_cut_off_answer_is_asked_again_in_halves(no_env, sync_doc):
    reference, sync_requests = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        srv.enqueue(Reply({"rows": []}, finish_reason="length"))  # the first line: a table chunk
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.05"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert srv.batch_lines[0].user.startswith("Table ")
        [b] = _batches(out)
        assert (b["cached"], b["split"]) == (sync_requests - 1, 1)
        halves = _chat(srv)
        assert len(halves) == 2 and all("(header repeated)" in q.user for q in halves)
        # the same values (a half may cite a value repeated in the table on its other printing)
        assert _cells(_doc(out)) == _cells(reference)


def test_hybrid_sends_only_what_the_rules_cannot_read(no_env):
    from test_llm_hybrid import TABLE, scrambled_variant

    from structurer.gold import load_gold
    from structurer.evaluation.cells import document_cells

    seed = "000_ce6cab5f862a266e"
    src = no_env / "in"
    src.mkdir()
    path = scrambled_variant(src)
    gm = GoldModel(GOLD / f"{seed}.yaml")
    with OpenAIServer(gm) as srv:
        cfg = write_toml(no_env / "structurer.toml", srv.base_url, no_env / "cache")
        args = _args(src, no_env / "out", cfg, "--batch-api", "--poll", "0.05")
        args[args.index("llm")] = "hybrid"
        r = CliRunner().invoke(app, args, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert len(srv.batch_lines) == 1 and gm.answered == [TABLE] and _chat(srv) == []
    from structurer.model import Document

    doc = Document.model_validate(_doc(no_env / "out", seed))
    gold = load_gold(GOLD / f"{seed}.yaml")
    assert {k: v for k, v in document_cells(doc).items() if k[0] == TABLE} == \
        {k: v for k, v in gold.cells.items() if k[0] == TABLE}
    assert path.name == f"{seed}.txt"


def test_no_wait_stops_with_75_and_a_rerun_collects_without_resubmitting(no_env, sync_doc):
    reference, _ = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml"), batch_polls=3) as srv:
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--no-wait"), catch_exceptions=False)
        assert r.exit_code == 75, r.output
        [b] = _batches(out)
        assert b["status"] not in ("completed", "expired", "failed", "cancelled") and b["collected_at"] is None
        assert "rerun the same command" in r.output and b["id"] in r.output
        assert not (out / "docs" / f"{SEED}.txt.json").exists()
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.05"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert [q.path for q in srv.requests].count("/v1/batches") == 1  # submitted once
        assert [x["id"] for x in _batches(out)] == [b["id"]] and _chat(srv) == []
        assert _content(_doc(out)) == _content(reference)


def test_requests_are_split_into_batches_of_at_most_max_requests(no_env):
    from structurer.batch.provider import ProviderOptions
    from structurer.batch.runner import BatchOptions, run_batch

    seeds = (SEED, "000_ce6cab5f862a266e")
    with OpenAIServer(lambda req: {"rows": []} if req.user.startswith("Table") else
                      ({"facts": []} if req.user.startswith("Prose") else {"projects": []})) as srv:
        src, cfg = _setup(no_env, srv, seeds)
        shutil.copy(src / f"{SEED}.txt", src / "copy.txt")  # identical requests are sent once
        opts = BatchOptions(src, no_env / "out", "llm", jobs=2, llm_options={"model": "qwen", "config": str(cfg)},
                            provider=ProviderOptions(poll_s=0.05, max_requests=4))
        result = run_batch(opts)
        assert result.completed and result.counts["done"] == 3, result.counts
    batches = _batches(no_env / "out")
    assert all(b["requests"] <= 4 for b in batches) and len(batches) >= 2
    assert sum(b["requests"] for b in batches) == len(srv.batch_lines)
    bodies = [json.dumps(q.body, sort_keys=True) for q in srv.batch_lines]
    assert len(set(bodies)) == len(bodies)  # no request twice
    assert _chat(srv) == []


def test_an_endpoint_without_a_batch_api_is_one_line_and_exit_2(no_env):
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml"), batch_api=False) as srv:
        src, cfg = _setup(no_env, srv)
        r = CliRunner().invoke(app, _args(src, no_env / "out", cfg, "--batch-api"), catch_exceptions=False)
    assert r.exit_code == 2, r.output
    assert "has no batch API" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) <= 3


@pytest.mark.parametrize("args, message", [
    (["--backend", "rules", "--batch-api"], "--batch-api needs --backend llm or hybrid"),
    (["--backend", "llm", "--model", "m", "--batch-api", "--cache-only"], "drop --no-cache/--cache-only"),
    (["--backend", "llm", "--model", "m", "--no-wait"], "go with --batch-api"),
    (["--backend", "llm", "--model", "m", "--poll", "5"], "go with --batch-api"),
    (["--backend", "llm", "--model", "m", "--batch-api", "--poll", "0"], "--poll must be a positive"),
])
def test_batch_api_option_errors(no_env, monkeypatch, args, message):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    (no_env / "in").mkdir()
    r = CliRunner().invoke(app, ["batch", str(no_env / "in"), "--out", str(no_env / "out"), *args],
                           catch_exceptions=False)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


@pytest.mark.slow
def test_sigkill_while_waiting_then_rerun_collects_the_same_batch(no_env, sync_doc):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    reference, _ = sync_doc
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml"), batch_polls=40) as srv:
        src, cfg = _setup(no_env, srv)
        out = no_env / "out"
        proc = subprocess.Popen([sys.executable, "-m", "structurer", *_args(src, out, cfg, "--batch-api",
                                                                             "--poll", "0.02")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 60
            while True:  # wait until the batch is submitted and being polled
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the batch was not submitted in time"
                polls = sum(1 for q in srv.requests if q.path.startswith("/v1/batches/"))
                if polls >= 3:
                    break
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        [b] = _batches(out)
        assert b["collected_at"] is None and not (out / "docs" / f"{SEED}.txt.json").exists()
        r = CliRunner().invoke(app, _args(src, out, cfg, "--batch-api", "--poll", "0.02"), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert [q.path for q in srv.requests].count("/v1/batches") == 1 and _chat(srv) == []
        assert [x["id"] for x in _batches(out)] == [b["id"]]
        assert _content(_doc(out)) == _content(reference)
        assert not list((out / "provider_batches").glob("*.tmp")) and not (out / "provider_batches" /
                                                                          "spool.jsonl").exists()
