"""`structurer batch --backend llm|hybrid --batch-api`: chunks through the provider's batch API.

A run goes through four steps; the first three fill the LLM cache, the last is the
ordinary batch, whose answers then come from the cache:

1. plan — the workers prepare every document still to do and return the requests its
   backend would make that the cache does not answer. Requests already in a provider
   batch that is not collected yet are not sent again. They are spooled to a JSONL file
   and submitted (upload + batch) whenever `max_requests` or `max_bytes` is reached; the
   batch id and each request's document go into the manifest in one transaction.
2. wait — every uncollected batch of this endpoint and model is polled until it is final
   (completed, expired, failed, cancelled). With `wait=False` the run stops here while any
   batch is still running; rerunning the same command picks up where it stopped.
3. collect — each final batch's output and error files are downloaded into
   OUT/provider_batches/ (atomically), and the workers settle each document's answers into
   the cache (`structurer.llm.provider_batch.settle_document`).
4. The ordinary run structures every document. What the provider could not answer (error
   lines, invalid or ungrounded answers, requests an expired or failed batch left
   unanswered) is a cache miss there, and is asked directly, with reasks.

Killed anywhere, a rerun loses nothing it paid for: a submitted batch is in the manifest
and is polled, not resubmitted; downloaded files are kept; settled answers are cached.
Only a batch submitted in the instant before its manifest transaction could be orphaned.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..output import write_atomic
from .manifest import Manifest
from .pool import run_pool

FOLDER = "provider_batches"


@dataclass
class ProviderOptions:
    wait: bool = True  # False: submit (or poll once) and stop while a batch is running
    poll_s: float = 30.0  # seconds between polls
    max_requests: int = 50_000  # requests per provider batch (OpenAI's limit)
    max_bytes: int = 50 * 1024 * 1024  # bytes per input file (OpenAI allows 200 MB; the runner holds one)


@dataclass
class ProviderSummary:
    submitted: list[tuple[str, int]] = field(default_factory=list)  # (batch id, requests) of this run
    cached: int = 0  # requests the cache already answered when planning
    pending: list[tuple[str, str]] = field(default_factory=list)  # (batch id, status) still running
    collected: list[dict] = field(default_factory=list)  # one row per batch collected by this run
    notes: list[str] = field(default_factory=list)


class _Spool:
    """The JSONL part being filled, and the (custom_id, path) of its lines."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "spool.jsonl"
        self.f = open(self.path, "wb")  # a spool left by a killed run was never submitted
        self.ids: list[tuple[str, str]] = []
        self.bytes = 0

    def add(self, custom_id: str, path: str, line: str) -> None:
        data = line.encode("utf-8") + b"\n"
        self.f.write(data)
        self.bytes += len(data)
        self.ids.append((custom_id, path))

    def take(self) -> tuple[bytes, list[tuple[str, str]]]:
        self.f.flush()
        self.f.close()
        data, ids = self.path.read_bytes(), self.ids
        self.f = open(self.path, "wb")
        self.ids, self.bytes = [], 0
        return data, ids

    def close(self) -> None:
        self.f.close()
        self.path.unlink(missing_ok=True)


def run_provider(tasks: Iterator[tuple[str, dict]], *, backend: str, llm_options: dict, in_dir: Path,
                 out_dir: Path, jobs: int, manifest: Manifest, run_id: int, options: ProviderOptions,
                 say: Callable[[str], None], timeout: float | None = None) -> ProviderSummary:
    """Steps 1–3 (see the module docstring). `tasks`: (path, task) of the documents to do."""
    from ..llm.backend import settings_from
    from ..llm.provider_batch import FINAL, ProviderBatches

    settings = settings_from(llm_options)
    api = ProviderBatches(settings)
    mc = settings.model
    folder = out_dir / FOLDER
    summary = ProviderSummary()

    # 1. plan and submit
    spool = _Spool(folder)
    seen: set[str] = set()

    def submit() -> None:
        data, ids = spool.take()
        name = f"structurer-run{run_id}-part{len(summary.submitted) + 1}.jsonl"
        file_id, batch = asyncio.run(api.submit(data, name, {"structurer_run": str(run_id)}))
        manifest.add_provider_batch(batch.id, endpoint=mc.endpoint, model=mc.model, backend=backend,
                                    status=batch.status, input_file_id=file_id, run_id=run_id, requests=ids)
        write_atomic(folder / f"{_safe(batch.id)}.input.jsonl", data)
        summary.submitted.append((batch.id, len(ids)))
        say(f"submitted provider batch {batch.id}: {len(ids):,} requests")

    planned = 0

    def on_planned(rel: str, task: dict, res: dict) -> None:
        nonlocal planned
        if res.get("status") != "planned":
            return  # the ordinary run reports this document's failure
        planned += 1
        summary.cached += res.get("cached", 0)
        for custom_id, line in res["lines"]:
            if custom_id in seen or manifest.requested(custom_id):
                continue
            seen.add(custom_id)
            if spool.ids and (len(spool.ids) >= options.max_requests
                              or spool.bytes + len(line) + 1 > options.max_bytes):
                submit()
            spool.add(custom_id, rel, line)

    def plan_tasks():
        for rel, task in tasks:
            yield rel, {"op": "plan", "rel": rel, "path": task["path"], "backend": backend,
                        "llm_options": llm_options}

    try:
        run_pool(plan_tasks(), jobs, on_result=on_planned, on_lost=lambda *a: None, timeout=timeout)
        if spool.ids:
            submit()
    finally:
        spool.close()
    if planned and not summary.submitted:
        say(f"provider batch: nothing to submit for {planned:,} document(s) "
            f"({summary.cached:,} requests answered in the cache)")

    # 2. wait
    while True:
        open_ = manifest.open_provider_batches(mc.endpoint, mc.model)
        running = [b["id"] for b in open_ if b["status"] not in FINAL]
        if running:
            for b in asyncio.run(api.retrieve(running)):
                _update_status(manifest, b, say)
            running = [b["id"] for b in manifest.open_provider_batches(mc.endpoint, mc.model)
                       if b["status"] not in FINAL]
        if not running:
            break
        if not options.wait:
            summary.pending = [(b, manifest.provider_batch(b)["status"]) for b in running]
            return summary
        time.sleep(options.poll_s)

    # 3. collect
    for b in manifest.open_provider_batches(mc.endpoint, mc.model):
        summary.collected.append(_collect(b, api, settings, backend, llm_options, in_dir, folder, jobs,
                                          manifest, say, timeout))
    return summary


def _safe(batch_id: str) -> str:
    """A provider's batch id as a file name."""
    return re.sub(r"[^\w.-]", "_", batch_id)


def _update_status(manifest: Manifest, batch, say: Callable[[str], None]) -> None:
    from ..llm.provider_batch import FINAL

    row = manifest.provider_batch(batch.id)
    counts = batch.request_counts
    fields = dict(status=batch.status, output_file_id=batch.output_file_id, error_file_id=batch.error_file_id,
                  done_requests=counts.completed if counts else None,
                  failed_requests=counts.failed if counts else None)
    if batch.status in FINAL and row["final_at"] is None:
        fields["final_at"] = time.time()
        errors = getattr(batch, "errors", None)
        data = getattr(errors, "data", None) or []
        if data:
            fields["error"] = "; ".join(f"{e.code}: {e.message}" for e in data[:3])[:300]
    manifest.update_provider_batch(batch.id, **fields)
    if row["status"] != batch.status:
        done = f" ({counts.completed:,}/{counts.total:,} answered)" if counts and counts.total else ""
        say(f"provider batch {batch.id}: {batch.status}{done}")


def _download(api, file_id: str | None, path: Path) -> Path | None:
    if not file_id:
        return None
    if not path.exists():  # kept from an interrupted collection
        write_atomic(path, asyncio.run(api.download(file_id)))
    return path


def _index(paths: list[Path | None]) -> dict[str, tuple[Path, int, int]]:
    """custom_id → (file, offset, length) of its answer line; the first answer wins."""
    out: dict[str, tuple[Path, int, int]] = {}
    for path in paths:
        if path is None:
            continue
        with open(path, "rb") as f:
            offset = 0
            for raw in f:
                try:
                    cid = json.loads(raw).get("custom_id")
                except (ValueError, AttributeError):
                    cid = None
                if isinstance(cid, str) and cid not in out:
                    out[cid] = (path, offset, len(raw))
                offset += len(raw)
    return out


def _read(where: tuple[Path, int, int]) -> dict:
    path, offset, length = where
    with open(path, "rb") as f:
        f.seek(offset)
        return json.loads(f.read(length))


def _collect(row, api, settings, backend: str, llm_options: dict, in_dir: Path,
             folder: Path, jobs: int, manifest: Manifest, say: Callable[[str], None],
             timeout: float | None) -> dict:
    bid = row["id"]
    index = _index([_download(api, row["output_file_id"], folder / f"{_safe(bid)}.output.jsonl"),
                    _download(api, row["error_file_id"], folder / f"{_safe(bid)}.errors.jsonl")])
    totals = {"cached": 0, "rejected": 0, "errors": 0, "split": 0, "stale": 0, "missing": 0,
              "prompt_tokens": 0, "completion_tokens": 0}
    reasons: list[str] = []

    def tasks():
        for path, ids in manifest.batch_requests(bid):
            answers = [_read(index[i]) for i in ids if i in index]
            totals["missing"] += len(ids) - len(answers)
            src = in_dir / path
            if not answers:
                continue
            if not src.is_file():
                totals["stale"] += len(answers)
                continue
            yield path, {"op": "settle", "rel": path, "path": str(src), "backend": backend,
                         "llm_options": llm_options, "answers": answers, "batch_id": bid}

    def on_result(path: str, task: dict, res: dict) -> None:
        if res.get("status") != "settled":
            totals["errors"] += len(task["answers"])  # unsettled: asked directly later
            return
        s = res["settled"]
        for k in totals:
            totals[k] += s.get(k, 0)
        reasons.extend(s.get("reasons", [])[:max(0, 5 - len(reasons))])

    def on_lost(path: str, task: dict, reason: str) -> None:
        totals["errors"] += len(task["answers"])

    run_pool(tasks(), jobs, on_result=on_result, on_lost=on_lost, timeout=timeout)
    cost = settings.model.prices.cost(totals["prompt_tokens"], totals["completion_tokens"])
    manifest.update_provider_batch(bid, collected_at=time.time(), cost=format(cost, "f"), **totals)
    direct = totals["rejected"] + totals["errors"] + totals["missing"]
    say(f"collected provider batch {bid} ({row['status']}): {totals['cached']:,} answers cached"
        + (f", {totals['split']:,} cut off (asked in halves)" if totals["split"] else "")
        + (f", {direct:,} to ask directly ({totals['rejected']} rejected, {totals['errors']} errors, "
           f"{totals['missing']} unanswered)" if direct else "")
        + f"; {totals['prompt_tokens'] + totals['completion_tokens']:,} tokens")
    for r in reasons:
        say(f"  rejected: {r}")
    return {"id": bid, "status": row["status"], **totals, "cost": cost}

