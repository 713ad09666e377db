"""`structurer batch` with the LLM backend: workers talk to the in-process OpenAI-compatible
server; configuration problems are one line before any document is processed."""
from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD
from openai_server import GoldModel, OpenAIServer, write_toml
from structurer.cli import app

SEED = "004_397ecf54ea00b92f"
KEY = "sk-test-batch-1234"






def test_batch_with_the_llm_backend_and_a_cached_rerun(no_env):
    src = no_env / "in"
    src.mkdir()
    shutil.copy(EXAMPLES / f"{SEED}.txt", src / f"{SEED}.txt")
    with OpenAIServer(GoldModel(GOLD / f"{SEED}.yaml")) as srv:
        cfg = write_toml(no_env / "structurer.toml", srv.base_url, no_env / "cache")
        args = ["batch", str(src), "--out", str(no_env / "out"), "--backend", "llm", "--model", "qwen",
                "--config", str(cfg), "--jobs", "1"]
        r = CliRunner().invoke(app, args, env={"QWEN_KEY": KEY}, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        sent = srv.count
        assert sent > 0, r.output
        found = list((no_env / "out").rglob(f"{SEED}*.json"))
        assert found, (r.output, sorted(str(p) for p in (no_env / "out").rglob("*")))
        doc = json.loads(found[0].read_text(encoding="utf-8"))
        assert doc["backend"] == "llm" and doc["usage"]["requests"] == sent
        assert KEY not in r.output
        # a forced rerun is answered from the cache: no request reaches the server
        r = CliRunner().invoke(app, args + ["--force", "--cache-only"], env={"QWEN_KEY": KEY},
                               catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert srv.count == sent


@pytest.mark.parametrize("args, message", [
    (["--backend", "rules", "--model", "x"], "need --backend llm or hybrid"),
    (["--backend", "llm"], "no model given"),
])
def test_batch_llm_configuration_errors_are_one_line(no_env, args, message):
    (no_env / "in").mkdir()
    r = CliRunner().invoke(app, ["batch", str(no_env / "in"), "--out", str(no_env / "out"), *args],
                           catch_exceptions=False)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
