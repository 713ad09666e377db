"""The endpoint-independent part of the LLM suite against a real OpenAI-compatible
endpoint. Skipped unless these are set (nothing here runs in CI):

    STRUCTURER_LIVE_BASE_URL   e.g. https://dashscope.aliyuncs.com/compatible-mode/v1
    STRUCTURER_LIVE_MODEL      e.g. qwen-plus
    STRUCTURER_LIVE_KEY_ENV    the variable holding the key (default OPENAI_API_KEY)
    STRUCTURER_LIVE_MODE       tools | json_schema | md_json | json (default tools)

    python3 -m pytest -m live tests/test_llm_live.py
"""
from __future__ import annotations

import os

import pytest

from conftest import EXAMPLES, GOLD
from structurer.gold import load_gold
from structurer.llm.backend import extract_with_llm
from structurer.llm.cache import DiskCache
from structurer.llm.config import ModelConfig, Settings
from structurer.output import document_json
from structurer.pipeline import prepare
from structurer.evaluation.cells import document_cells

pytestmark = pytest.mark.live
SEED = "000_ce6cab5f862a266e"


@pytest.fixture()
def live_settings(tmp_path) -> Settings:
    base, model = os.environ.get("STRUCTURER_LIVE_BASE_URL"), os.environ.get("STRUCTURER_LIVE_MODEL")
    key_env = os.environ.get("STRUCTURER_LIVE_KEY_ENV", "OPENAI_API_KEY")
    if not (base and model and os.environ.get(key_env)):
        pytest.skip("set STRUCTURER_LIVE_BASE_URL, STRUCTURER_LIVE_MODEL and the key to run live tests")
    mc = ModelConfig("live", model, base, api_key_env=key_env, mode=os.environ.get("STRUCTURER_LIVE_MODE", "tools"))
    return Settings(model=mc, cache_dir=tmp_path / "cache", concurrency=4)


@pytest.fixture()
def mini(tmp_path):
    lines = (EXAMPLES / f"{SEED}.txt").read_text(encoding="utf-8").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "部门预算支出总表" and i > 100)
    end = next(i for i in range(start + 1, len(lines)) if "财政拨款收支总表" in lines[i])
    p = tmp_path / "mini.txt"
    p.write_text("南宫市医疗保障局2023年部门预算\n\n" + "\n".join(lines[start:end]) + "\n", encoding="utf-8")
    return p


def test_live_table_extraction_matches_gold_and_is_grounded(live_settings, mini):
    doc = extract_with_llm(prepare(mini), "llm", settings=live_settings)
    gold = {k: v for k, v in load_gold(GOLD / f"{SEED}.yaml").cells.items() if k[0] == "expenditure"}
    got = {k: v for k, v in document_cells(doc).items() if k[0] == "expenditure"}
    wrong = {k for k in got if k in gold and got[k] != gold[k]}
    assert not wrong and len(set(got) & set(gold)) >= 0.9 * len(gold), (set(gold) - set(got), set(got) - set(gold))
    text = mini.read_text(encoding="utf-8")
    for t in doc.tables:  # every value's span holds its printed text
        for r in t.rows:
            for c in r.cells:
                assert text[c.span.start:c.span.end].startswith(c.printed.split("\n")[0])
    u = doc.usage
    assert u.requests >= 1 and u.prompt_tokens > 0 and u.completion_tokens > 0


def test_live_second_run_is_served_from_the_cache(live_settings, mini):
    first = extract_with_llm(prepare(mini), "llm", settings=live_settings)
    second = extract_with_llm(prepare(mini), "llm", settings=live_settings)
    assert first.usage.requests >= 1
    assert second.usage.requests == 0 and second.usage.cache_hits >= 1
    assert document_cells(second) == document_cells(first)
    key = os.environ[live_settings.model.api_key_env]
    assert key not in document_json(first)
    assert not any(key in p.read_text(encoding="utf-8") for p in DiskCache(live_settings.cache_dir).entries())
