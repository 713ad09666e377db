"""The `llm` and `hybrid` backends (called by `structurer.pipeline.extract_prepared`).

    extract_with_llm(prep, "llm", model="qwen")      # every section from the model
    extract_with_llm(prep, "hybrid", model="qwen")   # rules first, the model where they fail

Options: `model`, `config` (a structurer.toml), `no_cache`, `cache_only`, `cache_dir`,
`settings` (a ready `Settings`, for programs and tests), `ledger` (a `RunLedger` that
collects the usage of a whole run), `environ` (where the API key is read from).
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from ..model import Document
from .accounting import RunLedger, sum_usage
from .chunking import Chunk, chunk_document
from .client import ChunkResult, LLMClient
from .config import Settings, load_settings
from .mapping import narrative_from_results, performance_from_results, table_from_results
from .prompts import load_prompt

if TYPE_CHECKING:
    from ..pipeline import Prepared

MAX_WARNINGS_PER_CHUNK = 8


def settings_from(options: dict) -> Settings:
    if options.get("settings") is not None:
        return options["settings"]
    return load_settings(options.get("model"), options.get("config"),
                         no_cache=bool(options.get("no_cache")), cache_only=bool(options.get("cache_only")),
                         cache_dir=options.get("cache_dir"))


def extract_with_llm(prep: "Prepared", backend: str, **options) -> Document:
    """Structure a prepared document with the `llm` or `hybrid` backend."""
    unknown = set(options) - {"settings", "model", "config", "no_cache", "cache_only", "cache_dir", "ledger",
                              "environ"}
    if unknown:
        raise TypeError(f"unknown LLM option(s): {', '.join(sorted(unknown))}")
    settings = settings_from(options)
    if backend == "llm":
        coro = _llm_document(prep, settings, options.get("ledger"), options.get("environ"))
    elif backend == "hybrid":
        from .hybrid import hybrid_document

        coro = hybrid_document(prep, settings, options.get("ledger"), options.get("environ"))
    else:
        raise ValueError(f"not an LLM backend: {backend!r}")
    return run_sync(coro)


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


async def _llm_document(prep: "Prepared", settings: Settings, ledger: RunLedger | None, environ) -> Document:
    seg, layout = prep.seg, prep.layout
    chunks = chunk_document(layout, seg, settings.limits)
    results, client, wall = await ask(prep, settings, chunks, environ)
    tables, warnings = [], []
    for sec in seg.tables():
        mine = [r for r in results if r.chunk.kind == "table" and r.chunk.sections[0] is sec]
        table, w = table_from_results(sec, mine, layout, seg.meta.unit)
        tables.append(table)
        warnings.extend(w)
    doc = Document(meta=seg.meta, sections=prep.sections(), tables=tables, backend="llm",
                   narrative=narrative_from_results([r for r in results if r.chunk.kind == "narrative"], layout),
                   performance=performance_from_results([r for r in results if r.chunk.kind == "performance"],
                                                        layout),
                   warnings=warnings)
    return finish(doc, prep, settings, client, results, ledger, wall)
