"""A batch run at a glance: one row per input file of an output folder (`structurer batch
--out OUT_DIR`), read from what the batch wrote — OUT_DIR/manifest.sqlite (status, refusal
reason, check counts, findings by severity) and each finished document's JSON (docs/…: which
of the tables every disclosure publishes were located). Nothing is extracted again.

Each finished document can get its own report page beside the overview (its source is read
from the batch's input folder, and must still be the file the document came from).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import vocab
from ..checks.run import evaluate
from ..ingest import IngestError, read_source
from ..model import Document
from ..output import load_document, write_atomic
from .html_report import report_html

MANIFEST = "manifest.sqlite"


class OverviewError(ValueError):
    """An output folder that cannot be read as a batch's; str(error) is one line."""


@dataclass
class DocRow:
    path: str  # relative to the batch's input folder
    status: str  # done | failed | running | gone
    error: str = ""
    agency: str = ""
    year: int | None = None
    kind: str = ""
    tables: int = 0
    cells: int = 0
    core_located: list[str] = field(default_factory=list)  # the core tables located (labels)
    core_missing: list[str] = field(default_factory=list)
    checks: dict[str, int] = field(default_factory=dict)  # results per status
    severities: dict[str, int] = field(default_factory=dict)  # findings per severity
    output: str = ""  # the document JSON, relative to OUT_DIR
    report: str = ""  # its report page, relative to the overview page
    note: str = ""  # why there is no report

    @property
    def findings(self) -> int:
        return sum(self.severities.values())

    @property
    def accepted(self) -> bool:
        return self.status == "done"


def _connect(out_dir: Path) -> sqlite3.Connection:
    db = out_dir / MANIFEST
    if not db.is_file():
        raise OverviewError(f"{out_dir}: no {MANIFEST} (not a batch output folder)")
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        con.execute("SELECT path, status, error, output, checks FROM documents LIMIT 1").fetchall()
    except sqlite3.Error as e:
        raise OverviewError(f"{db}: not a batch manifest ({e})") from e
    return con


def input_folder(con: sqlite3.Connection) -> Path | None:
    """The input folder of the latest run."""
    try:
        row = con.execute("SELECT input_dir FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return Path(row[0]) if row and row[0] else None


def _core(doc_json: dict) -> tuple[list[str], list[str]]:
    located = {t.get("id") for t in doc_json.get("tables") or []}
    core = vocab.CORE_TABLES
    return ([vocab.KIND_BY_ID[t].label for t in core if t in located],
            [vocab.KIND_BY_ID[t].label for t in core if t not in located])


def read_rows(out_dir: Path) -> tuple[list[DocRow], Path | None]:
    """Every document of the output folder, and the batch's input folder."""
    con = _connect(out_dir)
    try:
        sev: dict[str, dict[str, int]] = {}
        for path, severity, n in con.execute("SELECT path, severity, count(*) FROM findings GROUP BY path, severity"):
            sev.setdefault(path, {})[severity or "info"] = n
        rows = []
        cur = con.execute("SELECT path, status, error, output, agency, year, kind, tables, cells, checks "
                          "FROM documents ORDER BY path")
        for path, status, error, output, agency, year, kind, tables, cells, checks in cur:
            r = DocRow(path, status, error or "", agency or "", year, kind or "", tables or 0, cells or 0,
                       output=output or "", severities=sev.get(path, {}))
            try:
                r.checks = json.loads(checks) if checks else {}
            except ValueError:
                r.checks = {}
            if status == "done" and output:
                try:
                    data = json.loads((out_dir / output).read_text(encoding="utf-8"))
                    r.core_located, r.core_missing = _core(data)
                except (OSError, ValueError):
                    r.note = f"{output} is missing or unreadable"
            rows.append(r)
        return rows, input_folder(con)
    except sqlite3.Error as e:
        raise OverviewError(f"{out_dir / MANIFEST}: cannot be read ({e})") from e
    finally:
        con.close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_reports(rows: list[DocRow], out_dir: Path, input_dir: Path | None, reports_dir: Path, base: Path,
                  progress: Callable[[int, int, DocRow], None] | None = None) -> int:
    """Write the report page of every finished document under `reports_dir` (kept when it is
    newer than the document JSON); sets each row's link (relative to `base`) or why there is
    none. Returns the number of pages written."""
    done = [r for r in rows if r.accepted and r.output and not r.note]
    written = 0
    for k, r in enumerate(done, 1):
        if progress is not None:
            progress(k, len(done), r)
        page = reports_dir / f"{r.path}.html"
        doc_path = out_dir / r.output
        href = os.path.relpath(page, base).replace(os.sep, "/")
        try:
            if page.is_file() and page.stat().st_mtime_ns >= doc_path.stat().st_mtime_ns:
                r.report = href
                continue
            doc: Document = load_document(doc_path)
        except (OSError, ValueError):
            r.note = f"{r.output} is missing or unreadable"
            continue
        src = input_dir / r.path if input_dir is not None else None
        if src is None or not src.is_file():
            r.note = "source not found in the input folder"
            continue
        if doc.meta.sha256 and _sha256(src) != doc.meta.sha256:
            r.note = "the source changed since the batch ran"
            continue
        try:
            source = read_source(src)
            html = report_html(doc, evaluate(doc), source)
            page.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(page, html)
        except (IngestError, OSError) as e:
            r.note = f"no report: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
            continue
        r.report = href
        written += 1
    return written
