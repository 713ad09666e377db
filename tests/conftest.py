from __future__ import annotations

import sqlite3
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


def done_count(out: Path) -> int:
    """Documents a batch in `out` has finished, read from its manifest while it runs."""
    try:
        con = sqlite3.connect(f"file:{out / 'manifest.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM documents WHERE status='done'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def assert_resumed(finished: dict, killed: dict, after: dict, summary: str, total: int) -> None:
    """A batch killed and run again: what had finished is not redone (same finish time, one
    attempt, first run), what a worker held at the kill is redone once, and the rerun says so."""
    for rel, r in finished.items():
        assert (after[rel]["finished_at"], after[rel]["attempts"], after[rel]["run_id"]) == \
               (r["finished_at"], 1, 1), rel
    for rel, r in killed.items():
        if r["status"] == "running":
            assert after[rel]["attempts"] == 2 and after[rel]["run_id"] == 2
    redone = total - len(finished)
    assert f"{redone} done, 0 failed, {len(finished)} already done" in summary
