"""`structurer batch --engine dask`: the same batch on a Dask cluster (a LocalCluster of worker
processes here). Same outputs as the local engine; bytes instead of paths; a worker killed
mid-document (SIGKILL) loses nothing and duplicates nothing; a document that kills every worker
fails alone; the coordinator killed and rerun redoes exactly what was not finished."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, SEEDS, assert_resumed, done_count as _done
from structurer.batch import worker as worker_module
from structurer.batch.dask_engine import EngineError, run_dask
from structurer.batch.runner import BatchOptions, run_batch
from structurer.batch.worker import process
from structurer.model import Document
from test_batch_support import cli, rows, salt, seed_copies


def _docs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out / "docs").as_posix(): p.read_bytes()
            for p in sorted((out / "docs").rglob("*")) if p.is_file()}


def _cluster(n: int = 2):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)
    return cluster, Client(cluster, set_as_default=False)


def _pdf_copies(folder: Path, n: int) -> list[str]:
    """One seed rendered as a 26-page PDF (half a second to structure), under n names."""
    from render_seed import render_pdf

    data = render_pdf((EXAMPLES / SEEDS[0]).read_text(encoding="utf-8"))
    rels = []
    for i in range(n):
        rel = f"pdf/{i:02d}.pdf"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        rels.append(rel)
    return rels


def test_the_dask_engine_gives_the_local_engine_s_outputs_and_failures(tmp_path):
    src = tmp_path / "in"
    seed_copies(src)
    expected = salt(src)
    local, dask = tmp_path / "local", tmp_path / "dask"
    a = run_batch(BatchOptions(src, local, jobs=2))
    b = run_batch(BatchOptions(src, dask, jobs=2, engine="dask", send_bytes=True))
    assert a.completed and b.completed and a.counts == b.counts
    assert b.counts["failed"] == sum(1 for word in expected.values() if word)
    assert _docs(local) == _docs(dask)  # byte for byte, written by the coordinator
    ra, rb = rows(local), rows(dask)
    assert {p: (r["status"], r["error"], r["sha256"], r["cells"]) for p, r in ra.items()} == \
           {p: (r["status"], r["error"], r["sha256"], r["cells"]) for p, r in rb.items()}
    assert not [p for p in (dask / "docs").rglob("*") if p.name.endswith(".tmp")]
    again = run_batch(BatchOptions(src, dask, jobs=2, engine="dask"))  # resume: nothing left to do
    assert again.counts["done"] == 0 and again.counts["skipped"] == len(ra) - again.counts["failed"]


def test_a_worker_reads_the_bytes_it_is_sent_not_the_path(tmp_path):
    data = (EXAMPLES / SEEDS[2]).read_bytes()
    gone = tmp_path / "nowhere" / SEEDS[2]  # not on this machine: only the bytes are
    res = process({"rel": SEEDS[2], "path": str(gone), "output": str(tmp_path / "x.json"), "backend": "rules",
                   "data": data, "size": len(data), "mtime_ns": 7, "write": False})
    assert res["status"] == "done" and (res["size"], res["mtime_ns"]) == (len(data), 7)
    doc = Document.model_validate_json(res["document"])
    assert doc.meta.source == SEEDS[2] and not (tmp_path / "x.json").exists()
    bad = process({"rel": "bad/b.txt", "path": "/nowhere/bad/b.txt", "output": str(tmp_path / "y.json"),
                   "backend": "rules", "data": b"\x00\x01" * 500, "size": 1000, "mtime_ns": 1, "write": False})
    assert bad["status"] == "failed" and bad["error"].startswith("bad/b.txt") and "\n" not in bad["error"]


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    with pytest.raises(EngineError, match=r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 "):
        run_dask(iter(()), scheduler="tcp://127.0.0.1:9", workers=1, on_result=print, on_lost=print,
                 connect_timeout=1)
    (tmp_path / "in").mkdir()
    for address, message in (("foo", "foo is not a scheduler address (tcp://HOST:PORT"),
                             ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")):
        got = cli("batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--engine", "dask",
                  "--scheduler", address, timeout=60)
        assert got.returncode == 2 and message in got.stderr, got.stderr
        assert "Traceback" not in got.stderr + got.stdout and len(got.stderr.strip().splitlines()) == 1
    with pytest.raises(Exception, match="--scheduler and --send-bytes need --engine dask"):
        run_batch(BatchOptions(tmp_path, tmp_path / "out", scheduler="tcp://127.0.0.1:9"))


def _executing(dask_worker) -> list[str]:
    return [str(ts.key) for ts in dask_worker.state.executing]


@pytest.mark.slow
def test_a_worker_killed_mid_document_loses_nothing_and_writes_nothing_twice(tmp_path, monkeypatch):
    src = tmp_path / "in"
    rels = _pdf_copies(src, 10) + seed_copies(src, copies=2)
    out = tmp_path / "out"
    writes: dict[str, int] = {}
    real_write = worker_module.write_atomic

    def counting(path, text):
        writes[str(path)] = writes.get(str(path), 0) + 1
        real_write(path, text)

    monkeypatch.setattr(worker_module, "write_atomic", counting)  # the coordinator's writes
    cluster, client = _cluster(2)
    killed: list[tuple[int, list[str]]] = []

    def killer():  # once two documents are in, SIGKILL a worker while it structures a PDF
        deadline = time.monotonic() + 120
        while len(writes) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        while not killed and time.monotonic() < deadline:
            pids = client.run(os.getpid)
            for addr, keys in client.run(_executing).items():
                if any(".pdf " in k for k in keys):
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append((pids[addr], keys))
                    break
            time.sleep(0.01)

    try:
        t = threading.Thread(target=killer, daemon=True)
        t.start()
        result = run_batch(BatchOptions(src, out, engine="dask", scheduler=cluster.scheduler_address))
        t.join()
    finally:
        client.close()
        cluster.close()
    assert killed, "no worker was killed"
    pid, keys = killed[0]
    assert not _alive(pid)
    held = {k.split(" ")[1] for k in keys}
    assert result.completed and result.counts["done"] == len(rels) and result.counts["failed"] == 0
    got = rows(out)
    assert set(got) == set(rels) and all(r["status"] == "done" for r in got.values())
    assert held <= set(rels) and all(got[h]["status"] == "done" for h in held)  # retried elsewhere
    assert sorted(writes) == sorted(str(out / "docs" / (r + ".json")) for r in rels)
    assert set(writes.values()) == {1}, "an output was written twice"
    for rel in rels:
        doc = Document.model_validate_json((out / "docs" / (rel + ".json")).read_bytes())
        assert doc.meta.source == Path(rel).name
    assert not [p for p in (out / "docs").rglob("*") if p.name.endswith(".tmp")]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.mark.slow
def test_the_coordinator_killed_then_rerun_on_the_same_cluster_finishes_every_document_once(tmp_path):
    src = tmp_path / "in"
    rels = seed_copies(src, copies=8)  # 40 documents
    out = tmp_path / "out"
    cluster, client = _cluster(2)
    try:
        addr = cluster.scheduler_address
        cmd = [sys.executable, "-m", "structurer", "batch", str(src), "--out", str(out), "--engine", "dask",
               "--scheduler", addr]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.monotonic() + 120
        while _done(out) < 12:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the batch is too slow"
            time.sleep(0.005)
        proc.kill()  # SIGKILL: the coordinator leaves no record of its own end
        proc.communicate()
        killed = rows(out)
        finished = {p: r for p, r in killed.items() if r["status"] == "done"}
        assert 12 <= len(finished) < len(rels), "not half-way"
        assert any(r["status"] == "running" for r in killed.values())
        for p in (out / "docs").rglob("*"):  # a write cut short is a hidden temporary, never a JSON
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp")):
                assert Document.model_validate_json(p.read_bytes()).meta.source == p.name[: -len(".json")]

        again = cli("batch", str(src), "--out", str(out), "--engine", "dask", "--scheduler", addr)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Traceback" not in again.stdout + again.stderr
    finally:
        client.close()
        cluster.close()
    after = rows(out)
    assert len(after) == len(rels) and all(r["status"] == "done" for r in after.values())
    assert not [p for p in (out / "docs").rglob("*") if p.name.endswith(".tmp")]  # swept by the rerun
    assert_resumed(finished, killed, after, again.stdout, len(rels))
    clean = tmp_path / "clean"
    assert cli("batch", str(src), "--out", str(clean), "--jobs", "2").returncode == 0
    assert _docs(out) == _docs(clean)


def test_small_text_dumps_share_a_task_and_pdfs_go_alone():
    from structurer.batch.dask_engine import CHUNK_MAX, _chunks

    items = [(f"t{i}.txt", {"rel": f"t{i}.txt", "size": 50_000}) for i in range(11)]
    items[5:5] = [("a.pdf", {"rel": "a.pdf", "size": 60_000})]
    groups = [[tag for tag, _ in g] for g in _chunks(iter(items), alone=False)]
    assert groups == [["t0.txt", "t1.txt", "t2.txt", "t3.txt", "t4.txt"], ["a.pdf"],
                      ["t5.txt", "t6.txt", "t7.txt", "t8.txt", "t9.txt"], ["t10.txt"]]  # ≤ 256 kB each
    tiny = [(f"s{i}.txt", {"rel": f"s{i}.txt", "size": 100}) for i in range(CHUNK_MAX + 1)]
    assert [len(g) for g in _chunks(iter(tiny), alone=False)] == [CHUNK_MAX, 1]
    assert [len(g) for g in _chunks(iter(tiny), alone=True)] == [1] * (CHUNK_MAX + 1)  # --timeout


@pytest.mark.slow
def test_the_documented_cluster_example_runs(tmp_path):
    text = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    after = text[text.index("This example is run\nby `tests/test_batch_dask.py`"):]
    start = after.index("```python\n") + len("```python\n")
    code = after[start:after.index("\n```", start)]
    assert "LocalCluster(n_workers=2" in code and "processes=True" in code
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    rels = seed_copies(tmp_path / "corpus")
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{len(rels)} done, 0 failed"
    assert sorted(p.relative_to(tmp_path / "run" / "docs").as_posix() for p in (tmp_path / "run" / "docs").rglob("*.json")) == \
           sorted(r + ".json" for r in rels)


def test_engine_options_are_checked_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from structurer.cli import app

    (tmp_path / "in").mkdir()
    for args, message in ((["--engine", "ray"], "unknown engine 'ray' (choose from local, dask)"),
                          (["--send-bytes"], "--scheduler and --send-bytes need --engine dask")):
        result = CliRunner().invoke(app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), *args])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_ctrl_c_stops_the_local_cluster_cleanly_and_the_rerun_resumes(tmp_path):
    src = tmp_path / "in"
    rels = seed_copies(src, copies=8)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "structurer", "batch", str(src), "--out", str(out), "--engine",
                             "dask", "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 120
    while _done(out) < 8:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the batch is too slow"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: coordinator and workers alike
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert stdout.startswith("interrupted:") and "Traceback" not in stdout + stderr
    again = cli("batch", str(src), "--out", str(out), "--engine", "dask", "--jobs", "2")
    assert again.returncode == 0 and "Traceback" not in again.stdout + again.stderr
    after = rows(out)
    assert len(after) == len(rels) and all(r["status"] == "done" for r in after.values())


def test_a_document_that_kills_every_worker_is_failed_alone_and_its_task_mates_are_done(tmp_path):
    import dask
    from distributed import WorkerPlugin

    src = tmp_path / "in"
    rels = seed_copies(src)
    poison = "0/poison.txt"
    (src / poison).parent.mkdir(parents=True)
    (src / poison).write_text((EXAMPLES / SEEDS[1]).read_text(encoding="utf-8"), encoding="utf-8")

    class Poison(WorkerPlugin):
        """Stands in for a document that crashes the process reading it (a native library
        fault, memory exhausted): in every worker, reading it kills the process."""

        def setup(self, worker):
            from structurer.batch import dask_engine

            real = dask_engine.process

            def process(task):
                if "poison" in task["rel"]:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(task)

            dask_engine.process = process

    out = tmp_path / "out"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster, client = _cluster(2)
        try:
            client.register_plugin(Poison(), name="poison")
            result = run_batch(BatchOptions(src, out, engine="dask", scheduler=cluster.scheduler_address))
        finally:
            client.close()
            cluster.close()
    got = rows(out)
    assert result.completed and result.counts["done"] == len(rels) and result.counts["failed"] == 1
    assert got[poison]["status"] == "failed" and "worker process died" in got[poison]["error"]
    assert all(got[r]["status"] == "done" and (out / "docs" / (r + ".json")).is_file() for r in rels)
    assert not (out / "docs" / (poison + ".json")).exists()


def test_a_document_past_its_timeout_frees_its_worker_for_the_rest(tmp_path):
    from distributed import WorkerPlugin

    src = tmp_path / "in"
    rels = seed_copies(src)
    stuck = "0/stuck.txt"  # the largest document: the batch hands it out first
    (src / stuck).parent.mkdir(parents=True)
    (src / stuck).write_text((EXAMPLES / SEEDS[3]).read_text(encoding="utf-8") + "\n" * 50_000, encoding="utf-8")

    class Stuck(WorkerPlugin):
        """Stands in for a document the reader never finishes (a pathological file)."""

        def setup(self, worker):
            from structurer.batch import dask_engine

            real = dask_engine.process

            def process(task):
                if "stuck" in task["rel"]:
                    time.sleep(3600)
                return real(task)

            dask_engine.process = process

    out = tmp_path / "out"
    cluster, client = _cluster(1)  # one worker: every other document waits behind the stuck one
    box: dict = {}
    try:
        client.register_plugin(Stuck(), name="stuck")
        opts = BatchOptions(src, out, engine="dask", scheduler=cluster.scheduler_address, timeout=10)
        t = threading.Thread(target=lambda: box.update(result=run_batch(opts)), daemon=True)
        t.start()
        t.join(180)
        assert not t.is_alive(), "the batch waited for the stuck document's worker"
    finally:
        client.close()
        cluster.close()
    got = rows(out)
    assert box["result"].counts["done"] == len(rels) and box["result"].counts["failed"] == 1
    assert got[stuck]["status"] == "failed" and "timed out" in got[stuck]["error"]
    assert all(got[r]["status"] == "done" for r in rels)
