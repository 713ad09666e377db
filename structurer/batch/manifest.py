"""The batch manifest: one SQLite database per output folder (`OUT_DIR/manifest.sqlite`).

It is the batch's memory and its commit log. A document is finished when, and only when, its
row says `done`; the row and the document's findings change in one transaction, after the
document JSON has been written (atomically). The database runs in WAL mode with
`synchronous=NORMAL`: a committed transaction survives the process being killed (only a
power loss may drop the last commits, which a rerun then redoes).

Tables (SQLite types; amounts are exact decimal text, never floats):

documents — one row per input file, keyed by its path relative to INPUT_DIR
    path, status (running | done | failed | gone), error (one line), sha256, size, mtime_ns,
    backend, model, prompt_versions (JSON, sorted keys), output (JSON path relative to
    OUT_DIR), attempts (times a worker started on it; a finished document is never redone,
    so its count stays), run_id (last run that processed it), seen_run (last
    run that found it), started_at / finished_at (unix seconds), prepare_ms, extract_ms,
    check_ms, write_ms, total_ms, agency, year, kind, unit, tables, cells, narrative_facts,
    performance_targets, warnings (extraction warnings), findings (failed checks),
    findings_error, findings_warning, checks (JSON: results per status), requests,
    prompt_tokens, completion_tokens, cost
findings — the failed checks of each `done` document (replaced with the document)
    path, seq, identity, title, table_id, instance, severity, reason, op, left_value,
    right_value, delta, envelope, binding (JSON), terms (JSON list), diag_table, diag_row,
    diag_column, diag_current, diag_fix, diag_explains, line_start, line_end
runs — one row per `structurer batch` invocation, with its counts
provider_batches — one row per batch submitted to the model's batch API (`--batch-api`)
    id (the provider's), endpoint, model, backend, status (the provider's: validating,
    in_progress, finalizing, completed, failed, expired, cancelling, cancelled),
    input_file_id, output_file_id, error_file_id, requests, done_requests,
    failed_requests, submitted_at, final_at, collected_at (answers settled into the cache),
    cached, rejected, errors, split, stale, missing (settle counts), prompt_tokens,
    completion_tokens, cost, error, run_id
provider_requests — which document each request of a provider batch is for
    batch_id, custom_id (the request's LLM cache key), path
meta — key/value: schema version, input folder
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "1"
FILENAME = "manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started_at REAL NOT NULL, finished_at REAL,
  input_dir TEXT NOT NULL, backend TEXT NOT NULL, jobs INTEGER NOT NULL,
  found INTEGER, done INTEGER, failed INTEGER, skipped INTEGER, unchanged INTEGER,
  completed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS documents (
  path TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'gone')),
  error TEXT,
  sha256 TEXT, size INTEGER, mtime_ns INTEGER,
  backend TEXT NOT NULL, model TEXT, prompt_versions TEXT NOT NULL DEFAULT '{}',
  output TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER, seen_run INTEGER,
  started_at REAL, finished_at REAL,
  prepare_ms REAL, extract_ms REAL, check_ms REAL, write_ms REAL, total_ms REAL,
  agency TEXT, year INTEGER, kind TEXT, unit TEXT,
  tables INTEGER, cells INTEGER, narrative_facts INTEGER, performance_targets INTEGER,
  warnings INTEGER,
  findings INTEGER, findings_error INTEGER, findings_warning INTEGER, checks TEXT,
  requests INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER, cost TEXT
);
CREATE INDEX IF NOT EXISTS documents_status ON documents (status);
CREATE TABLE IF NOT EXISTS findings (
  path TEXT NOT NULL REFERENCES documents (path) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  identity TEXT NOT NULL, title TEXT, table_id TEXT, instance TEXT, severity TEXT, reason TEXT,
  op TEXT, left_value TEXT, right_value TEXT, delta TEXT, envelope TEXT,
  binding TEXT, terms TEXT,
  diag_table TEXT, diag_row TEXT, diag_column TEXT, diag_current TEXT, diag_fix TEXT,
  diag_explains INTEGER, line_start INTEGER, line_end INTEGER,
  PRIMARY KEY (path, seq)
);
CREATE TABLE IF NOT EXISTS provider_batches (
  id TEXT PRIMARY KEY,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL,
  input_file_id TEXT NOT NULL, output_file_id TEXT, error_file_id TEXT,
  requests INTEGER NOT NULL, done_requests INTEGER, failed_requests INTEGER,
  submitted_at REAL NOT NULL, final_at REAL, collected_at REAL,
  cached INTEGER, rejected INTEGER, errors INTEGER, split INTEGER, stale INTEGER, missing INTEGER,
  prompt_tokens INTEGER, completion_tokens INTEGER, cost TEXT, error TEXT, run_id INTEGER
);
CREATE TABLE IF NOT EXISTS provider_requests (
  batch_id TEXT NOT NULL REFERENCES provider_batches (id),
  custom_id TEXT NOT NULL, path TEXT NOT NULL,
  PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX IF NOT EXISTS provider_requests_custom ON provider_requests (custom_id);
"""
_BATCH_FIELDS = frozenset({"status", "output_file_id", "error_file_id", "done_requests", "failed_requests",
                           "final_at", "collected_at", "cached", "rejected", "errors", "split", "stale",
                           "missing", "prompt_tokens", "completion_tokens", "cost", "error"})

# Result fields copied as-is into the documents row when a document is done.
_DONE_FIELDS = ("sha256", "size", "mtime_ns", "model", "output", "started_at", "finished_at",
                "prepare_ms", "extract_ms", "check_ms", "write_ms", "total_ms", "agency", "year",
                "kind", "unit", "tables", "cells", "narrative_facts", "performance_targets",
                "warnings", "findings", "findings_error", "findings_warning", "requests",
                "prompt_tokens", "completion_tokens", "cost")
FINDING_FIELDS = ("identity", "title", "table_id", "instance", "severity", "reason", "op",
                  "left_value", "right_value", "delta", "envelope", "binding", "terms",
                  "diag_table", "diag_row", "diag_column", "diag_current", "diag_fix",
                  "diag_explains", "line_start", "line_end")


class ManifestError(Exception):
    """The manifest cannot be used; str(error) is one line for the user."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What the manifest knows about one input (what the skip decision needs)."""

    path: str
    status: str
    sha256: str | None
    size: int | None
    mtime_ns: int | None
    backend: str
    prompt_versions: str
    output: str | None
    attempts: int


def versions_json(versions: dict[str, str] | None) -> str:
    return json.dumps(versions or {}, sort_keys=True, ensure_ascii=False)


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    path = Path(path)
    if readonly and not path.exists():
        raise ManifestError(f"no manifest at {path} (run `structurer batch` first)")
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            conn = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        raise ManifestError(f"cannot open {path}: {exc}") from exc
    try:
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.OperationalError as exc:
            if readonly or "no such table" not in str(exc):
                raise
            row = None  # a new database
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ManifestError(f"{path} is not a structurer manifest ({exc})") from exc
    if row is not None and row[0] != SCHEMA_VERSION:
        conn.close()
        raise ManifestError(f"{path} has manifest schema {row[0]}; this structurer uses "
                            f"{SCHEMA_VERSION} (use another output folder)")
    return conn


class Manifest:
    """Read-write access for one batch run (the only writer of the database)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = connect(self.path)
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        self._dirty = 0  # uncommitted `seen` marks ride on the next commit

    def close(self) -> None:
        if self._dirty:
            self.conn.commit()
        self.conn.close()

    # ------------------------------------------------------------------ meta and runs

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def start_run(self, input_dir: str, backend: str, jobs: int) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO runs (started_at, input_dir, backend, jobs) VALUES (?, ?, ?, ?)",
                (time.time(), input_dir, backend, jobs))
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, counts: dict[str, int], completed: bool) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished_at=?, found=?, done=?, failed=?, skipped=?, unchanged=?, "
                "completed=? WHERE id=?",
                (time.time(), counts.get("found", 0), counts.get("done", 0), counts.get("failed", 0),
                 counts.get("skipped", 0), counts.get("unchanged", 0), int(completed), run_id))
        self._dirty = 0

    # ------------------------------------------------------------------ documents

    def get(self, path: str) -> Entry | None:
        row = self.conn.execute(
            "SELECT path, status, sha256, size, mtime_ns, backend, prompt_versions, output, attempts "
            "FROM documents WHERE path=?", (path,)).fetchone()
        return None if row is None else Entry(*row)

    def mark_seen(self, path: str, run_id: int) -> None:
        """Record that a skipped document is still in the input (committed with the next write)."""
        self.conn.execute("UPDATE documents SET seen_run=? WHERE path=?", (run_id, path))
        self._dirty += 1
        if self._dirty >= 2000:  # do not hold the write transaction open for a long skip streak
            self.conn.commit()
            self._dirty = 0

    def mark_running(self, path: str, run_id: int, backend: str, attempt: bool = True) -> None:
        """A worker took the document. `attempt`: count it (not when the worker will only
        re-hash a touched file; if the bytes did change, the result counts it)."""
        n = int(attempt)
        with self.conn:
            self.conn.execute(
                "INSERT INTO documents (path, status, backend, run_id, seen_run, attempts) "
                "VALUES (?, 'running', ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "status='running', run_id=excluded.run_id, seen_run=excluded.seen_run, "
                "attempts=attempts+excluded.attempts",
                (path, backend, run_id, run_id, n))
        self._dirty = 0

    def record_unchanged(self, path: str, size: int, mtime_ns: int) -> None:
        """Same bytes under a new timestamp: finished already, only the stat is refreshed."""
        with self.conn:
            self.conn.execute("UPDATE documents SET status='done', size=?, mtime_ns=? WHERE path=?",
                              (size, mtime_ns, path))
        self._dirty = 0

    def record_done(self, path: str, backend: str, prompt_versions: dict[str, str], result: dict,
                    checks: dict[str, int], findings: list[dict], count_attempt: bool = False) -> None:
        cols = ", ".join(f"{f}=?" for f in _DONE_FIELDS)
        values = [result.get(f) for f in _DONE_FIELDS]
        with self.conn:
            self.conn.execute("DELETE FROM findings WHERE path=?", (path,))
            self.conn.execute(
                f"UPDATE documents SET status='done', error=NULL, backend=?, prompt_versions=?, "
                f"checks=?, attempts=attempts+?, {cols} WHERE path=?",
                (backend, versions_json(prompt_versions), json.dumps(checks, sort_keys=True),
                 int(count_attempt), *values, path))
            self.conn.executemany(
                f"INSERT INTO findings (path, seq, {', '.join(FINDING_FIELDS)}) "
                f"VALUES (?, ?, {', '.join('?' * len(FINDING_FIELDS))})",
                [(path, i, *(f.get(k) for k in FINDING_FIELDS)) for i, f in enumerate(findings, 1)])
        self._dirty = 0

    def record_failed(self, path: str, backend: str, error: str, result: dict,
                      count_attempt: bool = False) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM findings WHERE path=?", (path,))
            self.conn.execute(
                "UPDATE documents SET status='failed', error=?, backend=?, attempts=attempts+?, "
                "sha256=?, size=?, mtime_ns=?, started_at=?, finished_at=?, total_ms=?, output=NULL "
                "WHERE path=?",
                (error, backend, int(count_attempt), result.get("sha256"), result.get("size"),
                 result.get("mtime_ns"), result.get("started_at"), result.get("finished_at"),
                 result.get("total_ms"), path))
        self._dirty = 0

    def mark_gone(self, run_id: int) -> int:
        """After a complete run: documents no longer in the input are `gone` (not exported)."""
        with self.conn:
            cur = self.conn.execute(
                "UPDATE documents SET status='gone' WHERE status != 'gone' "
                "AND (seen_run IS NULL OR seen_run != ?)", (run_id,))
        self._dirty = 0
        return cur.rowcount

    # ------------------------------------------------------------------ provider batches

    def add_provider_batch(self, batch_id: str, *, endpoint: str, model: str, backend: str, status: str,
                           input_file_id: str, run_id: int, requests: list[tuple[str, str]]) -> None:
        """A submitted batch and the (custom_id, path) of each of its requests, in one transaction."""
        with self.conn:
            self.conn.execute(
                "INSERT INTO provider_batches (id, endpoint, model, backend, status, input_file_id, requests, "
                "submitted_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (batch_id, endpoint, model, backend, status, input_file_id, len(requests), time.time(), run_id))
            self.conn.executemany("INSERT OR IGNORE INTO provider_requests VALUES (?, ?, ?)",
                                  [(batch_id, cid, path) for cid, path in requests])
        self._dirty = 0

    def update_provider_batch(self, batch_id: str, **fields) -> None:
        bad = set(fields) - _BATCH_FIELDS
        if bad:
            raise ValueError(f"not provider batch fields: {', '.join(sorted(bad))}")
        cols = ", ".join(f"{k}=?" for k in fields)
        with self.conn:
            self.conn.execute(f"UPDATE provider_batches SET {cols} WHERE id=?", (*fields.values(), batch_id))
        self._dirty = 0

    def open_provider_batches(self, endpoint: str, model: str) -> list[sqlite3.Row]:
        """Batches of this endpoint and model whose answers are not collected yet."""
        return self.conn.execute(
            "SELECT * FROM provider_batches WHERE collected_at IS NULL AND endpoint=? AND model=? "
            "ORDER BY submitted_at", (endpoint, model)).fetchall()

    def provider_batch(self, batch_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM provider_batches WHERE id=?", (batch_id,)).fetchone()

    def requested(self, custom_id: str) -> bool:
        """Whether a batch still to be collected holds this request."""
        return self.conn.execute(
            "SELECT 1 FROM provider_requests r JOIN provider_batches b ON b.id = r.batch_id "
            "WHERE r.custom_id=? AND b.collected_at IS NULL LIMIT 1", (custom_id,)).fetchone() is not None

    def batch_requests(self, batch_id: str) -> Iterator[tuple[str, list[str]]]:
        """(path, [custom_id]) of a provider batch, by path."""
        rows = self.conn.execute("SELECT path, custom_id FROM provider_requests WHERE batch_id=? "
                                 "ORDER BY path, custom_id", (batch_id,)).fetchall()
        path, ids = None, []
        for p, cid in rows:
            if p != path and ids:
                yield path, ids
                ids = []
            path = p
            ids.append(cid)
        if ids:
            yield path, ids

    def status_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT status, count(*) FROM documents GROUP BY status")}


def failures(conn: sqlite3.Connection, run_id: int) -> Iterator[tuple[str, str]]:
    """(path, one-line error) of every document that failed in run `run_id`, by path."""
    for row in conn.execute(
            "SELECT path, error FROM documents WHERE status='failed' AND run_id=? ORDER BY path",
            (run_id,)):
        yield row[0], row[1] or ""
