"""Interrupting `structurer batch` (real processes, real signals): SIGKILL of the runner half-way,
SIGKILL of one worker, Ctrl-C. Nothing finished is redone, nothing partial is left, and the
final export equals that of an uninterrupted run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, assert_resumed, done_count as _done
from structurer.model import Document
from test_batch_support import cli, rows, seed_copies, table_contents

pytestmark = pytest.mark.slow


def _start(src: Path, out: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "structurer", "batch", str(src), "--out", str(out),
                             "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, **kw)


def _wait_done(proc: subprocess.Popen, out: Path, n: int, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while _done(out) < n:
        assert proc.poll() is None, f"the batch ended before {n} documents were done"
        assert time.monotonic() < deadline, "the batch is too slow"
        time.sleep(0.005)


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            out.setdefault(ppid, []).append(int(d))
    return out


def _descendants(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.extend(kids.get(p, ()))
        todo.extend(kids.get(p, ()))
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _export(out: Path, db: Path) -> dict:
    result = cli("export", str(out), "--duckdb", str(db))
    assert result.returncode == 0, result.stderr
    return table_contents(db)


def test_sigkill_half_way_then_rerun_redoes_nothing_finished_and_equals_a_clean_run(tmp_path):
    src = tmp_path / "in"
    rels = seed_copies(src, copies=8)  # 40 documents
    out = tmp_path / "out"
    proc = _start(src, out)
    _wait_done(proc, out, 12)
    helpers = _descendants(proc.pid)
    proc.kill()  # SIGKILL: no cleanup of any kind
    proc.wait()
    killed = rows(out)
    finished = {p: r for p, r in killed.items() if r["status"] == "done"}
    assert 12 <= len(finished) < len(rels), "not half-way"
    assert any(r["status"] == "running" for r in killed.values())  # killed while workers held documents

    deadline = time.monotonic() + 15  # workers and the fork server notice and exit by themselves
    while any(_alive(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [(_cmdline(p)) for p in helpers if _alive(p)]

    jsons = [p for p in (out / "docs").rglob("*") if p.is_file()]
    assert jsons and all(p.suffix == ".json" for p in jsons), "a temporary or partial file is left"
    for p in jsons:  # every output is a whole document of its input
        doc = Document.model_validate_json(p.read_bytes())
        rel = p.relative_to(out / "docs").as_posix()[: -len(".json")]
        assert doc.meta.source == Path(rel).name

    again = cli("batch", str(src), "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    after = rows(out)
    assert all(r["status"] == "done" for r in after.values()) and len(after) == len(rels)
    assert_resumed(finished, killed, after, again.stdout, len(rels))

    clean = tmp_path / "clean"
    assert cli("batch", str(src), "--out", str(clean), "--jobs", "2").returncode == 0
    assert _export(out, tmp_path / "resumed.duckdb") == _export(clean, tmp_path / "clean.duckdb")


def test_a_killed_worker_fails_only_its_document(tmp_path):
    src = tmp_path / "in"
    rels = seed_copies(src, copies=8)
    out = tmp_path / "out"
    proc = _start(src, out)
    _wait_done(proc, out, 5)
    kids = _children()
    server = next(p for p in kids.get(proc.pid, ()) if "forkserver" in _cmdline(p))
    worker = kids[server][0]
    os.kill(worker, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    got = rows(out)
    failed = {p: r for p, r in got.items() if r["status"] == "failed"}
    assert proc.returncode == 1, stdout + stderr
    assert len(failed) == 1 and len(got) == len(rels)
    (rel, r), = failed.items()
    assert r["error"] == "worker process died while processing this document (killed by SIGKILL (out of memory?))"
    assert f"{rel}: {r['error']}" in stdout and "Traceback" not in stdout + stderr
    again = cli("batch", str(src), "--out", str(out), "--jobs", "2")
    assert again.returncode == 0 and "1 done, 0 failed" in again.stdout
    assert rows(out)[rel]["status"] == "done" and rows(out)[rel]["attempts"] == 2


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(tmp_path):
    src = tmp_path / "in"
    rels = seed_copies(src, copies=8)
    out = tmp_path / "out"
    proc = _start(src, out, start_new_session=True)
    _wait_done(proc, out, 8)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert stdout.startswith("interrupted:") and "rerun the same command to resume" in stdout
    assert "Traceback" not in stdout + stderr
    finished = {p: r["finished_at"] for p, r in rows(out).items() if r["status"] == "done"}
    again = cli("batch", str(src), "--out", str(out), "--jobs", "2")
    assert again.returncode == 0
    after = rows(out)
    assert len(after) == len(rels) and all(r["status"] == "done" for r in after.values())
    assert all(after[p]["finished_at"] == t for p, t in finished.items())
