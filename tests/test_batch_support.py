"""Helpers shared by the batch tests (no tests here): small corpora, bad files, manifest and
DuckDB readers."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, ROOT, SEEDS

# A Chinese text that is not a budget disclosure (a notice about a road closure).
NOT_BUDGET = ("关于城区部分道路临时交通管制的通告\n\n"
              "因城区供热管网改造施工需要，自本月十日起至二十日止，对人民路东段实行临时交通管制，"
              "过往车辆请绕行建设路、光明路。给广大市民出行带来的不便，敬请谅解。\n\n"
              "特此通告。\n\n县公安局交通警察大队\n") * 3


def seed_copies(folder: Path, copies: int = 1) -> list[str]:
    """The five seeds `copies` times in nested folders; each copy has different bytes (extra
    trailing newlines), so each is its own document. Returns the relative paths."""
    rels = []
    for c in range(copies):
        for i, name in enumerate(SEEDS):
            rel = f"省{c % 2}/{2020 + c}/{name}"
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text((EXAMPLES / name).read_text(encoding="utf-8") + "\n" * (c + 1), encoding="utf-8")
            rels.append(rel)
    return rels


def truncated_pdf() -> bytes:
    from render_seed import render_pdf

    head = "\n".join((EXAMPLES / SEEDS[1]).read_text(encoding="utf-8").split("\n")[:40])
    data = render_pdf(head)
    return data[: len(data) // 2]


def salt(folder: Path) -> dict[str, str]:
    """Bad files (rel path → a word the one-line reason must contain) and a GBK text that
    must succeed (value None)."""
    bad = folder / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (bad / "truncated.pdf").write_bytes(truncated_pdf())
    (bad / "notice.txt").write_text(NOT_BUDGET, encoding="utf-8")
    (bad / "gbk.txt").write_bytes((EXAMPLES / SEEDS[0]).read_text(encoding="utf-8").encode("gbk"))
    return {"bad/empty.txt": "empty", "bad/binary.txt": "binary", "bad/truncated.pdf": "PDF",
            "bad/notice.txt": "budget", "bad/gbk.txt": None}


def rows(out: Path) -> dict[str, dict]:
    con = sqlite3.connect(out / "manifest.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return {r["path"]: dict(r) for r in con.execute("SELECT * FROM documents")}
    finally:
        con.close()


def cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "structurer", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env, **kw)


def table_contents(db: Path) -> dict[str, list[tuple]]:
    """Every table of an export, rows in key order."""
    import duckdb

    from structurer.batch.export import ORDER, SCHEMA

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY {", ".join(ORDER[t])}').fetchall()
                for t in SCHEMA}
    finally:
        con.close()
