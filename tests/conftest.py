from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLD = ROOT / "evals" / "gold"
SEEDS = sorted(p.name for p in EXAMPLES.glob("*.txt"))


@lru_cache(maxsize=None)
def extracted(name: str):
    from structurer.pipeline import extract_file

    return extract_file(EXAMPLES / name)


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES


@pytest.fixture()
def no_env(monkeypatch, tmp_path):
    """No LLM settings from the environment or a structurer.toml in the working folder."""
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "STRUCTURER_CONFIG", "QWEN_KEY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
