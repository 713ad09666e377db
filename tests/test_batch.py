"""`structurer batch`: discovery, the manifest, resume rules, bad files, timeouts, progress."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, SEEDS
from structurer.batch.discovery import iter_inputs, normalize_suffixes
from structurer.batch.progress import LineReporter
from structurer.batch.runner import BatchError, BatchOptions, run_batch
from structurer.batch.worker import process
from structurer.cli import app
from structurer.model import Document
from test_batch_support import rows, salt, seed_copies

runner = CliRunner()


def batch(src: Path, out: Path, *args: str):
    return runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "2", *args])


@pytest.fixture(scope="module")
def salted(tmp_path_factory):
    """Five seeds and the salted bad files, batched once through the CLI."""
    base = tmp_path_factory.mktemp("salted")
    src, out = base / "in", base / "out"
    good = seed_copies(src)
    expected = salt(src)
    result = batch(src, out)
    return {"src": src, "out": out, "good": good, "salt": expected, "result": result, "rows": rows(out)}


@pytest.fixture
def salted_copy(salted, tmp_path):
    """A private copy of the salted batch (input and output) to change."""
    src, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(salted["src"], src)
    shutil.copytree(salted["out"], out)  # copytree keeps mtimes: the manifest's stats still match
    return src, out


# ---------------------------------------------------------------------------- discovery


def test_discovery_is_recursive_sorted_and_skips_hidden_unsupported_and_output(tmp_path):
    for rel in ("b/c.PDF", "a.txt", "d/e.docx", "d/f.xlsx", "b/.hidden.txt", ".git/x.txt",
                "out/docs/y.txt", "z.md", "d/g.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    found = [i.rel for i in iter_inputs(tmp_path, exclude=[tmp_path / "out"])]
    assert found == ["a.txt", "b/c.PDF", "d/e.docx", "z.md"]
    assert [i.rel for i in iter_inputs(tmp_path, [".pdf"], exclude=[tmp_path / "out"])] == ["b/c.PDF"]
    first = next(iter_inputs(tmp_path))
    assert first.path.is_absolute() and first.size == 1 and first.mtime_ns > 0
    with pytest.raises(ValueError, match="unsupported file type .xlsx"):
        normalize_suffixes(["xlsx"])


# ---------------------------------------------------------------------------- bad files


def test_salted_corpus_fails_exactly_the_bad_files_and_reports_them(salted):
    result, got = salted["result"], salted["rows"]
    expected_failed = {rel for rel, word in salted["salt"].items() if word}
    assert {p for p, r in got.items() if r["status"] == "failed"} == expected_failed
    assert {p for p, r in got.items() if r["status"] == "done"} == set(salted["good"]) | {"bad/gbk.txt"}
    assert result.exit_code == 1
    out = result.stdout
    assert "Traceback" not in out + (result.stderr or "")
    assert "4 failed:" in out
    for rel in expected_failed:
        error = got[rel]["error"]
        assert "\n" not in error and salted["salt"][rel].lower() in error.lower(), error
        listed = [ln for ln in out.splitlines() if ln.strip().startswith(rel)]
        assert len(listed) == 1 and error in listed[0].replace("\n", ""), (rel, out)
    assert got["bad/gbk.txt"]["agency"] == got[salted["good"][0]]["agency"]  # GBK read right


def test_manifest_records_hash_timings_backend_and_findings(salted):
    from structurer.checks.run import evaluate
    from structurer.pipeline import extract_file

    got = salted["rows"]
    out = salted["out"]
    for rel in salted["good"]:
        r = got[rel]
        path = salted["src"] / rel
        assert r["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (r["size"], r["mtime_ns"]) == (path.stat().st_size, path.stat().st_mtime_ns)
        assert r["backend"] == "rules" and json.loads(r["prompt_versions"]) == {}
        assert r["attempts"] == 1 and r["run_id"] == 1
        assert 0 < r["extract_ms"] <= r["total_ms"] and r["check_ms"] > 0 and r["write_ms"] > 0
        assert r["started_at"] < r["finished_at"]
        doc = Document.model_validate_json((out / r["output"]).read_bytes())
        assert r["output"] == f"docs/{rel}.json" and doc.meta.sha256 == r["sha256"]
        report = evaluate(extract_file(path))
        assert r["findings"] == len(report.findings())
        assert json.loads(r["checks"]) == report.counts()
        assert (r["agency"], r["year"], r["kind"]) == (doc.meta.agency, doc.meta.year, doc.meta.kind)
        assert r["cells"] == sum(len(row.cells) for t in doc.tables for row in t.rows)
    import sqlite3

    con = sqlite3.connect(out / "manifest.sqlite")
    n = dict(con.execute("SELECT path, count(*) FROM findings GROUP BY path").fetchall())
    assert all(n.get(rel, 0) == got[rel]["findings"] for rel in salted["good"])
    run = con.execute("SELECT found, done, failed, completed FROM runs").fetchall()
    assert run == [(10, 6, 4, 1)]


# ---------------------------------------------------------------------------- resume


def test_rerun_skips_finished_documents_and_retries_failed_ones(salted_copy):
    src, out = salted_copy
    before = rows(out)
    result = batch(src, out)
    after = rows(out)
    assert result.exit_code == 1 and "0 done, 4 failed, 6 already done" in result.stdout
    for rel, r in before.items():
        if r["status"] == "done":
            assert after[rel]["finished_at"] == r["finished_at"] and after[rel]["attempts"] == 1
            assert after[rel]["run_id"] == 1 and after[rel]["seen_run"] == 2
        else:
            assert after[rel]["status"] == "failed" and after[rel]["attempts"] == 2
            assert after[rel]["run_id"] == 2


def test_changed_touched_removed_fixed_and_stale_documents(salted_copy):
    src, out = salted_copy
    a, b, c, d, e = sorted(p for p, r in rows(out).items() if r["status"] == "done" and p != "bad/gbk.txt")
    before = rows(out)
    with open(src / a, "a", encoding="utf-8") as f:  # new bytes
        f.write("\n\n")
    st = (src / b).stat()  # same bytes, new mtime
    os.utime(src / b, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    (out / before[c]["output"]).unlink()  # the JSON is gone
    (src / d).unlink()  # the input is gone
    import sqlite3

    con = sqlite3.connect(out / "manifest.sqlite")  # made with a prompt that changed since
    with con:
        con.execute("UPDATE documents SET prompt_versions=? WHERE path=?", ('{"table": "0+000000"}', e))
    con.close()
    (src / "bad/empty.txt").write_text((EXAMPLES / SEEDS[2]).read_text(encoding="utf-8"), encoding="utf-8")

    result = run_batch(BatchOptions(src, out, jobs=2))
    after = rows(out)
    assert result.completed and result.gone == 1
    assert result.counts == {"found": 9, "done": 4, "failed": 3, "skipped": 1, "unchanged": 1}
    for rel in (a, c, e, "bad/empty.txt"):  # redone
        assert after[rel]["status"] == "done" and after[rel]["attempts"] == 2
        assert after[rel]["finished_at"] > before[rel]["finished_at"]
    assert after[a]["sha256"] != before[a]["sha256"]
    assert json.loads(after[e]["prompt_versions"]) == {}
    # touched: re-hashed, found identical, not redone
    assert after[b]["attempts"] == 1 and after[b]["finished_at"] == before[b]["finished_at"]
    assert after[b]["mtime_ns"] == st.st_mtime_ns + 5_000_000_000
    assert after[d]["status"] == "gone"
    assert after["bad/gbk.txt"]["finished_at"] == before["bad/gbk.txt"]["finished_at"]  # skipped


def test_backend_is_part_of_the_skip_key(salted_copy):
    src, out = salted_copy
    import sqlite3

    rel = next(p for p, r in rows(out).items() if r["status"] == "done")
    con = sqlite3.connect(out / "manifest.sqlite")
    with con:
        con.execute("UPDATE documents SET backend='llm' WHERE path=?", (rel,))
    con.close()
    result = run_batch(BatchOptions(src, out, jobs=1))
    assert result.counts["done"] == 1 and rows(out)[rel]["backend"] == "rules"
    assert rows(out)[rel]["attempts"] == 2


# ---------------------------------------------------------------------------- limits and errors


def test_timeout_fails_slow_documents_and_the_batch_goes_on(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in SEEDS[:3]:
        shutil.copy(EXAMPLES / name, src / name)
    result = run_batch(BatchOptions(src, out, jobs=2, timeout=0.005))
    got = rows(out)
    assert result.completed and result.counts["failed"] == 3
    assert all(r["error"] == "timed out after 0.005 s (worker stopped)" for r in got.values())
    assert not list((out / "docs").rglob("*.json"))
    result = run_batch(BatchOptions(src, out, jobs=2))  # fresh workers replaced the stopped ones
    assert result.counts["done"] == 3 and all(r["attempts"] == 2 for r in rows(out).values())


def test_a_second_batch_on_the_same_output_is_refused(tmp_path):
    import fcntl

    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / ".batch.lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchError, match="another batch is running"):
            run_batch(BatchOptions(tmp_path / "in", tmp_path / "out"))


@pytest.mark.parametrize("args, message", [
    (["batch", "no/such/folder", "--out", "OUT"], "no/such/folder: no such folder"),
    (["batch", "IN", "--out", "OUT", "--ext", ".xlsx"], "unsupported file type .xlsx"),
    (["batch", "IN", "--out", "OUT", "--backend", "magic"], "unknown backend 'magic'"),
    (["batch", "IN", "--out", "IN"], "must not be the input folder"),
])
def test_cli_refuses_bad_arguments_in_one_line(tmp_path, args, message):
    (tmp_path / "IN").mkdir()
    args = [str(tmp_path / a) if a in ("IN", "OUT") else a for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    text = result.stdout + (result.stderr or "")
    assert message in text.replace(str(tmp_path) + "/", "") and "Traceback" not in text
    assert len([ln for ln in text.splitlines() if ln.strip()]) == 1


def test_worker_turns_every_problem_into_one_line(tmp_path):
    missing = process({"rel": "x/none.txt", "path": str(tmp_path / "none.txt"),
                       "output": str(tmp_path / "o.json"), "backend": "rules"})
    assert missing["status"] == "failed"
    assert missing["error"] == "cannot read x/none.txt: No such file or directory"
    (tmp_path / "dir.txt").mkdir()
    folder = process({"rel": "dir.txt", "path": str(tmp_path / "dir.txt"),
                      "output": str(tmp_path / "o.json"), "backend": "rules"})
    assert folder["status"] == "failed" and "folder" in folder["error"]
    shutil.copy(EXAMPLES / SEEDS[0], tmp_path / "a.txt")
    wrong = process({"rel": "a.txt", "path": str(tmp_path / "a.txt"), "output": str(tmp_path / "o.json"),
                     "backend": "nonsense"})
    assert wrong["status"] == "failed" and wrong["error"].startswith("internal error (ValueError): unknown backend")
    assert "\n" not in wrong["error"] and str(tmp_path) not in wrong["error"]
    ok = process({"rel": "a.txt", "path": str(tmp_path / "a.txt"), "output": str(tmp_path / "o.json"),
                  "backend": "rules"})
    assert ok["status"] == "done" and ok["findings"] == len(ok["finding_rows"]) == 1
    assert ok["finding_rows"][0]["severity"] == "warning" and json.loads(ok["finding_rows"][0]["terms"])
    same = process({"rel": "a.txt", "path": str(tmp_path / "a.txt"), "output": str(tmp_path / "o.json"),
                    "backend": "rules", "known_sha256": ok["sha256"]})
    assert same["status"] == "unchanged"


# ---------------------------------------------------------------------------- progress


def test_line_reporter_shows_counts_rate_eta_and_usage():
    stream = io.StringIO()
    rep = LineReporter(stream, interval=0)
    rep.start(10)
    rep.update("skipped")
    rep.update("done", {"prompt_tokens": None})
    rep.update("failed", {})
    assert "tokens" not in stream.getvalue()
    rep.update("done", {"prompt_tokens": 1200, "completion_tokens": 300, "cost": "0.0125"})
    rep.stop()
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("batch: 4/10 · 2 done · 1 failed · 1 already done")
    assert "docs/s" in last and "ETA" in last
    assert "1,500 tokens (in 1,200 / out 300)" in last and "cost 0.0125" in last
    assert rep.stats.eta() is not None and rep.stats.eta() > 0


def test_an_unreadable_folder_is_reported_and_its_documents_are_not_marked_gone(salted_copy, monkeypatch):
    import structurer.batch.discovery as discovery

    src, out = salted_copy
    real = os.scandir

    def scandir(path):
        if Path(path).name == "bad":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = run_batch(BatchOptions(src, out, jobs=1))
    assert result.completed and result.gone == 0
    assert any(n.startswith("cannot list ") and n.endswith("/bad: Permission denied") for n in result.notes)
    assert rows(out)["bad/gbk.txt"]["status"] == "done"


def test_a_corrupt_manifest_is_refused_in_one_line(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.sqlite").write_bytes(b"not a database, just bytes" * 100)
    result = batch(tmp_path / "in", tmp_path / "out")
    text = result.stdout + (result.stderr or "")
    assert result.exit_code == 2 and "is not a structurer manifest (file is not a database)" in text
    assert "Traceback" not in text and len([ln for ln in text.splitlines() if ln.strip()]) == 1


def test_the_pool_recycles_workers_and_answers_every_task_once(tmp_path):
    from structurer.batch.pool import run_pool

    tasks = [(i, {"rel": name, "path": str(EXAMPLES / name), "output": str(tmp_path / f"{i}.json"),
                  "backend": "rules"}) for i, name in enumerate(SEEDS * 2)]
    started, answered, lost = [], [], []
    run_pool(iter(tasks), 2, on_start=lambda tag, task: started.append(tag),
             on_result=lambda tag, task, result: answered.append((tag, result["status"])),
             on_lost=lambda tag, task, reason: lost.append(tag), recycle_after=1)
    assert sorted(started) == list(range(len(tasks))) and not lost
    assert sorted(answered) == [(i, "done") for i in range(len(tasks))]


def test_rates_keep_their_digits_and_pdf_pages_are_counted():
    from structurer.batch.progress import Stats, rate_text

    assert rate_text(3, 75, "docs") == "0.04 docs/s"  # a PDF batch is not "0.0 docs/s"
    assert rate_text(7, 2, "docs") == "3.5 docs/s" and rate_text(2826, 23.5, "pages") == "120 pages/s"
    assert rate_text(0, 5, "docs") == "— docs/s"
    stats = Stats()
    stats.add("done", {"pages": 26})
    stats.add("failed", {})
    stats.add("done", {"pages": None})
    assert stats.pages == 26 and "pages/s" in stats.line() and "docs/s" in stats.line()
