"""One document, start to finish, inside a worker process: read → structure → check → write.

`process(task)` never raises: every outcome is a small, picklable result dict that the
runner turns into one manifest transaction. On one machine the worker writes the document
JSON itself (atomically) and only counts, timings and the failed checks travel back, so the
parent's memory does not depend on document size or count. On a cluster (`write` false in
the task) the JSON travels back in the result and the coordinator writes it, so that every
output is written once, by the process that keeps the manifest.
"""
from __future__ import annotations

import gc
import hashlib
import json
import queue
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path

from ..errors import InputRefused
from ..ingest import one_line
from ..output import write_atomic

# Modules a document needs that the package imports lazily (decoders, the PDF reader, the
# grid, the checks): imported once per worker before its first document, not during it.
WARM_MODULES = ("structurer.pipeline", "structurer.rules", "structurer.checks.engine",
                "structurer.checks.run", "structurer.output", "structurer.ingest.text",
                "structurer.ingest.pdf", "structurer.ingest.docx", "structurer.grid.textgrid",
                "structurer.grid.render", "structurer.rules.narrative", "structurer.rules.performance",
                "structurer.checks.narrative", "structurer.checks.diagnose", "structurer.checks.coverage",
                "charset_normalizer", "pypdfium2")

_FINDING_DECIMALS = Decimal("1e-10")  # shares are ratios: their recomputed values do not terminate


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def one_line_error(message: str, path: str, rel: str) -> str:
    """A single line, naming the input by its path relative to the batch's input folder."""
    text = " ".join(message.replace(path, rel).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _dec(v: Decimal | None) -> str | None:
    if v is None:
        return None
    return format(v.quantize(_FINDING_DECIMALS) if v.as_tuple().exponent < -10 else v, "f")


def finding_row(r) -> dict:
    """A failed check as the manifest's `findings` row (decimals as exact text)."""
    d = r.diagnosis
    located = d.span if d is not None and d.span is not None else next(
        (t.span for t in r.terms if t.span is not None), None)
    terms = [{"table": t.table, "row": t.row, "column": t.column, "coefficient": t.coefficient,
              "value": _dec(t.value), "printed": t.printed, "unit": t.unit, "kind": t.kind,
              "line_start": t.span.line_start if t.span else None,
              "line_end": t.span.line_end if t.span else None} for t in r.terms]
    return {
        "identity": r.identity, "title": r.title, "table_id": r.table, "instance": r.instance,
        "severity": r.severity, "reason": r.reason, "op": r.op,
        "left_value": _dec(r.left), "right_value": _dec(r.right), "delta": _dec(r.delta),
        "envelope": _dec(r.envelope),
        "binding": json.dumps(r.binding, sort_keys=True, ensure_ascii=False),
        "terms": json.dumps(terms, ensure_ascii=False),
        "diag_table": d.table if d else None, "diag_row": d.row if d else None,
        "diag_column": d.column if d else None, "diag_current": _dec(d.current) if d else None,
        "diag_fix": _dec(d.fix) if d else None, "diag_explains": d.explains if d else None,
        "line_start": located.line_start if located else None,
        "line_end": located.line_end if located else None,
    }


def provider_task(task: dict) -> dict:
    """A document's part in a provider batch run. op "plan": the JSONL lines of the requests
    its LLM backend would make that the cache does not answer; op "settle": store the
    provider's answers (`answers`, lines of the batch's output) in the cache."""
    # the coordinator imports this module too: the pipeline and the LLM stack load in workers only
    from ..llm import provider_batch
    from ..pipeline import open_source
    from ..llm.backend import settings_from

    rel, path = task["rel"], Path(task["path"])
    res: dict = {"rel": rel}
    try:
        prep = open_source(path)
        settings = settings_from(task.get("llm_options") or {})
        if task["op"] == "plan":
            lines, cached = provider_batch.plan_document(prep, task["backend"], settings)
            res.update(status="planned", lines=lines, cached=cached)
        else:
            settled = provider_batch.settle_document(prep, task["backend"], settings, task["answers"],
                                                     task.get("batch_id", ""))
            res.update(status="settled", settled=settled.as_dict())
    except (InputRefused, OSError) as exc:
        msg = str(exc) if not isinstance(exc, OSError) else f"cannot read {path}: {exc.strerror or exc}"
        res.update(status="failed", error=one_line_error(msg, str(path), rel))
    except Exception as exc:  # a bug or a pathological input: the document is retried directly later
        res.update(status="failed", error=one_line_error(
            f"internal error ({type(exc).__name__}): {one_line(exc)}", str(path), rel))
    return res


def warm() -> None:
    """Make this process ready for documents: the lazily imported modules loaded, and the
    garbage collector tuned. A document allocates many short-lived objects, and default
    thresholds cost ~15% of the time; the preloaded modules are frozen (never rescanned),
    and memory stays bounded (a collection still runs every 100,000 net allocations)."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional reader missing here fails its documents, not the worker
            pass
    from ..checks.engine import load_catalog

    load_catalog()  # the identity catalog, parsed once
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _open(task: dict, path: Path, res: dict):
    """The prepared document: from the bytes the task carries (a cluster worker without the
    input folder), or from the file. Records size and mtime; None when the known hash still
    matches (the document is unchanged)."""
    from ..ingest import read_bytes  # in a worker only, as in process()
    from ..pipeline import Prepared, accept, open_source

    data = task.get("data")
    if data is None:
        st = path.stat()
        res["size"], res["mtime_ns"] = st.st_size, st.st_mtime_ns
        known = task.get("known_sha256")
        if known and sha256_file(path) == known:
            return None
        return open_source(path, task.get("ocr", "auto"))
    res["size"], res["mtime_ns"] = task["size"], task["mtime_ns"]
    known = task.get("known_sha256")
    if known and hashlib.sha256(data).hexdigest() == known:
        return None
    return accept(Prepared(read_bytes(data, str(path), task.get("ocr", "auto"))))


def _pages(prep) -> int | None:
    """Pages of a PDF (the last page with text on it); None for text and DOCX sources."""
    boxes = prep.source.boxes
    return max(b.page for b in boxes) if boxes else None


def process(task: dict) -> dict:
    """Structure one input. `task`: rel, path, output (absolute JSON path), backend,
    known_sha256 (skip when the bytes still hash to it), llm_options; optionally `data` (the
    file's bytes, with size and mtime_ns: the worker does not read the path) and `write`
    (False: return the JSON as `document` instead of writing it). Tasks with an `op` are a
    provider batch's planning and settling (see `provider_task`)."""
    if task.get("op"):
        return provider_task(task)
    # in a worker only (warmed by WARM_MODULES); the coordinator never structures a document
    from ..checks.run import evaluate
    from ..output import document_json
    from ..pipeline import extract_prepared

    rel, path = task["rel"], Path(task["path"])
    t0 = time.perf_counter()
    res: dict = {"rel": rel, "started_at": time.time()}

    def lap(key: str, since: float) -> float:
        now = time.perf_counter()
        res[key] = round((now - since) * 1000, 3)
        return now

    try:
        prep = _open(task, path, res)
        if prep is None:
            res["status"] = "unchanged"
            return res
        res["sha256"] = prep.source.sha256
        res["pages"] = _pages(prep)
        t = lap("prepare_ms", t0)
        doc = extract_prepared(prep, task["backend"], **(task.get("llm_options") or {}))
        t = lap("extract_ms", t)
        report = evaluate(doc)
        t = lap("check_ms", t)
        text = document_json(doc)
        if task.get("write", True):
            try:
                write_atomic(task["output"], text)
            except OSError as exc:
                return _failed(res, f"cannot write {task['output']}: {exc.strerror or exc}", t0, path)
        else:
            res["document"] = text
        lap("write_ms", t)
    except (InputRefused, OSError) as exc:
        msg = str(exc) if not isinstance(exc, OSError) else f"cannot read {path}: {exc.strerror or exc}"
        return _failed(res, one_line_error(msg, str(path), rel), t0, path, task.get("data"))
    except Exception as exc:  # a bug or a pathological input: this document fails, the batch goes on
        return _failed(res, one_line_error(f"internal error ({type(exc).__name__}): {one_line(exc)}",
                                           str(path), rel), t0, path, task.get("data"))
    fails = report.findings()
    usage = doc.usage
    res.update(
        status="done", model=doc.model, prompt_versions=dict(doc.prompt_versions),
        agency=doc.meta.agency, year=doc.meta.year, kind=doc.meta.kind, unit=doc.meta.unit,
        tables=len(doc.tables), cells=sum(len(r.cells) for t in doc.tables for r in t.rows),
        narrative_facts=len(doc.narrative), performance_targets=len(doc.performance),
        warnings=len(doc.warnings), findings=len(fails),
        findings_error=sum(r.severity == "error" for r in fails),
        findings_warning=sum(r.severity == "warning" for r in fails),
        checks=report.counts(), finding_rows=[finding_row(r) for r in fails],
        requests=usage.requests if usage else None,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cost=format(usage.cost, "f") if usage else None,
    )
    res["finished_at"] = time.time()
    res["total_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    return res


def _failed(res: dict, error: str, t0: float, path: Path | None = None, data: bytes | None = None) -> dict:
    if "sha256" not in res and data is not None:
        res["sha256"] = hashlib.sha256(data).hexdigest()
    elif "sha256" not in res and path is not None:
        try:  # which bytes failed (an unreadable file has no hash)
            res["sha256"] = sha256_file(path)
        except OSError:
            pass
    res.update(status="failed", error=error, finished_at=time.time(),
               total_ms=round((time.perf_counter() - t0) * 1000, 3))
    return res


def write_result(task: dict, res: dict) -> dict:
    """Write the document JSON a result carries (`document`, from `write` False) to
    task["output"], atomically; its time is added to write_ms and total_ms. A failed write
    makes the result a failure (the document is not done)."""
    text = res.pop("document", None)
    if text is None or res.get("status") != "done":
        return res
    t = time.perf_counter()
    try:
        write_atomic(task["output"], text)
    except OSError as exc:
        res.update(status="failed", error=f"cannot write {task['output']}: {exc.strerror or exc}")
        return res
    spent = (time.perf_counter() - t) * 1000
    for key in ("write_ms", "total_ms"):
        if res.get(key) is not None:
            res[key] = round(res[key] + spent, 3)
    return res


def worker_main(conn) -> None:
    """Serve tasks from the runner over `conn` until told to stop or the runner is gone.

    A second thread writes each document and then sends its result (in the order the tasks
    came), so the next document is structured while the last one's write waits for the disk
    (each write ends with an fsync); a result still reaches the runner only once its JSON is
    in place. SIGINT is ignored: Ctrl-C reaches the whole process group, and the runner
    decides. The worker is warm (see `warm`) before its first task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm()
    pending: queue.Queue = queue.Queue()
    gone = threading.Event()  # the runner cannot be reached any more

    def writer() -> None:
        while (item := pending.get()) is not None:
            task, res = item
            if gone.is_set():
                continue
            try:
                conn.send(write_result(task, res))
            except (BrokenPipeError, EOFError, OSError):
                gone.set()

    thread = threading.Thread(target=writer, name="write", daemon=True)
    thread.start()
    try:
        while not gone.is_set():
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return  # the runner died: nothing to report to
            if task is None:
                return
            pending.put((task, process(dict(task, write=False))))
    finally:
        pending.put(None)
        thread.join()
