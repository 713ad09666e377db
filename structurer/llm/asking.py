"""Asking the model: run a document's chunks through the client, and record on the document
what was asked of whom (model, prompt versions, usage, rejected answers). Shared by the `llm`
and `hybrid` backends."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from ..model import Document
from .accounting import RunLedger, sum_usage
from .chunking import Chunk
from .client import ChunkResult, LLMClient
from .config import Settings
from .prompts import load_prompt

if TYPE_CHECKING:
    from ..pipeline import Prepared

MAX_WARNINGS_PER_CHUNK = 8


def run_sync(coro):
    """Run a coroutine to completion, also from code that already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def ask(prep: "Prepared", settings: Settings, chunks: list[Chunk], environ=None
              ) -> tuple[list[ChunkResult], LLMClient, float]:
    t0 = time.perf_counter()
    async with LLMClient(settings, environ) as client:
        results = await client.run(chunks, prep.layout, prep.seg.meta)
    return results, client, time.perf_counter() - t0


def finish(doc: Document, prep: "Prepared", settings: Settings, client: LLMClient,
           results: list[ChunkResult], ledger: RunLedger | None, wall_s: float) -> Document:
    """Model name, prompt versions, usage and warnings of an LLM-made document."""
    mc = settings.model
    doc.model = mc.model
    kinds = sorted({r.chunk.kind for r in results})
    doc.prompt_versions = {k: load_prompt(k, settings.prompts_dir).tag for k in kinds}
    doc.usage = sum_usage([c.usage(mc.prices) for c in client.calls])
    for r in results:
        if r.error:
            doc.warnings.append(f"{r.chunk.name}: {r.error}")
        for p in r.problems[:MAX_WARNINGS_PER_CHUNK]:
            doc.warnings.append(f"{r.chunk.name}: rejected: {p.message}")
        if len(r.problems) > MAX_WARNINGS_PER_CHUNK:
            doc.warnings.append(f"{r.chunk.name}: … {len(r.problems) - MAX_WARNINGS_PER_CHUNK} more rejected")
    if ledger is not None:
        ledger.add_document(prep.seg.meta.source, doc.usage, client.calls, wall_s, model=mc.model,
                            currency=mc.prices.currency)
    return doc
