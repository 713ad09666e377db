"""Configuration (environment, structurer.toml), the CLI of the LLM backends, and keys
never showing up in logs, caches, outputs or error messages."""
from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD
from openai_server import write_toml, Error, GoldModel, OpenAIServer, empty_answers
from structurer.cli import app
from structurer.llm.backend import extract_with_llm
from structurer.llm.client import LLMError
from structurer.llm.config import ConfigError, ModelConfig, Settings, describe, load_settings
from structurer.output import document_json
from structurer.pipeline import prepare

SEED = "004_397ecf54ea00b92f"
KEY = "sk-test-SECRET-7f3a9c1d"




_toml = write_toml


# --------------------------------------------------------------------------- settings

def test_toml_names_models_with_endpoint_mode_key_variable_and_prices(no_env, monkeypatch):
    cfg = _toml(no_env / "structurer.toml", "https://llm.example.invalid/v1", no_env / "c")
    s = load_settings("qwen", cfg)
    mc = s.model
    assert (mc.model, mc.base_url, mc.api_key_env, mc.mode) == (
        "qwen-plus", "https://llm.example.invalid/v1", "QWEN_KEY", "md_json")
    assert mc.prices.prompt == Decimal("0.8") and mc.prices.completion == Decimal("2") and mc.prices.currency == "CNY"
    assert s.concurrency == 4 and s.max_reasks == 1 and str(s.cache_dir).endswith("c")
    assert load_settings(None, cfg).model.name == "qwen"  # [llm] default
    with pytest.raises(ConfigError, match="QWEN_KEY"):
        mc.api_key()
    monkeypatch.setenv("QWEN_KEY", KEY)
    assert mc.api_key() == KEY
    assert KEY not in repr(s) and KEY not in json.dumps(describe(mc))


def test_environment_alone_configures_an_endpoint(no_env, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    s = load_settings("gpt-4o-mini")
    assert s.model.model == "gpt-4o-mini" and s.model.base_url == "http://127.0.0.1:9/v1"
    assert s.model.api_key() == KEY and s.model.mode == "tools"


@pytest.mark.parametrize("body, message", [
    ("[models.x]\nmode = 'xml'\n", "mode must be one of"),
    ("[models.x]\napi_key = 'sk-1'\n", "unknown setting"),
    ("[llm]\nconcurency = 3\n", "has no setting 'concurency'"),
    ("[models.x\n", "not valid TOML"),
    ("[models.x]\nbase_url = 'ftp://x'\n", "http(s) URL"),
])
def test_bad_configuration_is_one_clear_error(no_env, body, message):
    cfg = no_env / "structurer.toml"
    cfg.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings("x", cfg)


def test_unknown_model_name_lists_the_configured_ones(no_env):
    cfg = _toml(no_env / "structurer.toml", "https://llm.example.invalid/v1", no_env / "c")
    with pytest.raises(ConfigError, match=r"'deepseek' is not in .*configured: qwen"):
        load_settings("deepseek", cfg)


# --------------------------------------------------------------------------- keys

def test_the_key_never_appears_in_logs_caches_outputs_or_errors(no_env, monkeypatch, caplog):
    monkeypatch.setenv("STRUCTURER_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    gm = GoldModel(GOLD / f"{SEED}.yaml")
    with OpenAIServer(gm) as srv:
        mc = ModelConfig("t", "test-model", srv.base_url, api_key_env="STRUCTURER_TEST_KEY")
        s = Settings(model=mc, cache_dir=no_env / "cache", backoff_s=0.01)
        doc = extract_with_llm(prepare(EXAMPLES / f"{SEED}.txt"), "llm", settings=s)
        assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in srv.requests)  # it was used
        # an endpoint that echoes the key in its error (as real ones do)
        srv.handler = lambda r: Error(401, f"Incorrect API key provided: {KEY}")
        with pytest.raises(LLMError) as e:
            extract_with_llm(prepare(EXAMPLES / f"{SEED}.txt"), "llm", settings=s.with_(use_cache=False))
    assert "HTTP 401" in str(e.value) and KEY not in str(e.value) and "***" in str(e.value)
    assert caplog.records and KEY not in caplog.text
    assert KEY not in document_json(doc)
    files = list((no_env / "cache").rglob("*.json"))
    assert files and not any(KEY in f.read_text(encoding="utf-8") for f in files)


# --------------------------------------------------------------------------- CLI

def _run(args, env=None):
    return CliRunner().invoke(app, args, env=env or {}, catch_exceptions=False)


def test_cli_extract_with_the_llm_backend_writes_documents_and_prints_usage(no_env):
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        cfg = _toml(no_env / "structurer.toml", srv.base_url, no_env / "cache")
        out = no_env / "out"
        r = _run(["extract", str(EXAMPLES / f"{SEED}.txt"), "--backend", "llm", "--model", "qwen",
                  "--config", str(cfg), "--out", str(out)], env={"QWEN_KEY": KEY})
        assert r.exit_code == 0, r.output
        n = srv.count
        doc = json.loads((out / f"{SEED}.json").read_text(encoding="utf-8"))
        assert doc["backend"] == "llm" and doc["model"] == "qwen-plus"
        assert doc["usage"]["requests"] == n and Decimal(doc["usage"]["cost"]) > 0
        assert "LLM usage" in r.output and "CNY" in r.output and KEY not in r.output
        # replay from the cache: not one request
        r2 = _run(["extract", str(EXAMPLES / f"{SEED}.txt"), "--backend", "llm", "--config", str(cfg),
                   "--cache-only", "--out", str(out)], env={"QWEN_KEY": KEY})
        assert r2.exit_code == 0, r2.output
        assert srv.count == n
        doc2 = json.loads((out / f"{SEED}.json").read_text(encoding="utf-8"))
        assert doc2["usage"]["cache_hits"] == n and doc2["usage"]["requests"] == 0
        assert doc2["tables"] == doc["tables"]


@pytest.mark.parametrize("args, env, message, code", [
    (["--backend", "llm"], {}, "no model given", 2),
    (["--backend", "llm", "--model", "gpt-x"], {"OPENAI_BASE_URL": "https://api.example.invalid/v1"},
     "set the API key in the environment variable OPENAI_API_KEY", 2),
    (["--backend", "rules", "--model", "x"], {}, "need --backend llm or hybrid", 2),
    (["--backend", "magic"], {}, "unknown backend 'magic'", 2),
    (["--backend", "llm", "--model", "x", "--no-cache", "--cache-only"], {"OPENAI_API_KEY": KEY},
     "exclude each other", 2),
])
def test_cli_configuration_errors_are_one_line_without_traceback(no_env, args, env, message, code):
    r = _run(["extract", str(EXAMPLES / f"{SEED}.txt"), "--out", str(no_env / "o"), *args], env=env)
    assert r.exit_code == code
    assert message in " ".join(r.output.split()) and "Traceback" not in r.output
    assert len([ln for ln in r.output.splitlines() if ln.startswith("error")]) == 1


def test_cli_unreachable_endpoint_and_cache_miss_fail_per_document(no_env):
    cfg = _toml(no_env / "structurer.toml", "http://127.0.0.1:9/v1", no_env / "cache",
                extra="")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("max_reasks = 1", "max_reasks = 1\nmax_attempts = 2\n"
                                                           "backoff = 0.01\ntimeout = 2"), encoding="utf-8")
    r = _run(["extract", str(EXAMPLES / f"{SEED}.txt"), str(EXAMPLES / "001_e48c9036102b6734.txt"),
              "--backend", "llm", "--config", str(cfg), "--out", str(no_env / "o")], env={"QWEN_KEY": KEY})
    assert r.exit_code == 1 and "Traceback" not in r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error")]
    assert len(errors) == 2 and all("cannot reach http://127.0.0.1:9/v1" in " ".join(r.output.split())
                                    for _ in errors)
    r = _run(["extract", str(EXAMPLES / f"{SEED}.txt"), "--backend", "llm", "--config", str(cfg),
              "--cache-only", "--out", str(no_env / "o")], env={"QWEN_KEY": KEY})
    assert r.exit_code == 1 and "no cached answer" in r.output and "Traceback" not in r.output


def test_llm_models_command_shows_models_without_keys(no_env):
    cfg = _toml(no_env / "structurer.toml", "https://u:pw@llm.example.invalid/v1?k=1", no_env / "c")
    r = _run(["llm", "models", "--config", str(cfg)], env={"QWEN_KEY": KEY})
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "qwen-plus" in text and "https://llm.example.invalid/v1" in text and "QWEN_KEY" in text
    assert KEY not in r.output and "pw" not in r.output


def test_empty_answers_give_an_empty_but_valid_document(no_env):
    with OpenAIServer(empty_answers) as srv:
        s = Settings(model=ModelConfig("t", "m", srv.base_url), cache_dir=no_env / "c")
        doc = extract_with_llm(prepare(EXAMPLES / f"{SEED}.txt"), "llm", settings=s)
    assert not any(r.cells for t in doc.tables for r in t.rows)
    assert all(t.empty for t in doc.tables) and doc.narrative == [] and doc.performance == []
