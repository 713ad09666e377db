"""The `llm` and `hybrid` backends (called by `structurer.pipeline.extract_prepared`).

    extract_with_llm(prep, "llm", model="qwen")      # every section from the model
    extract_with_llm(prep, "hybrid", model="qwen")   # rules first, the model where they fail

Options: `model`, `config` (a structurer.toml), `no_cache`, `cache_only`, `cache_dir`,
`settings` (a ready `Settings`, for programs and tests), `ledger` (a `RunLedger` that
collects the usage of a whole run), `environ` (where the API key is read from).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Document
from .accounting import RunLedger
from .asking import ask, finish, run_sync  # noqa: F401  (run_sync: the package's entry)
from .chunking import chunk_document
from .config import Settings, load_settings
from .hybrid import hybrid_document
from .mapping import narrative_from_results, performance_from_results, table_from_results

if TYPE_CHECKING:
    from ..pipeline import Prepared

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
        coro = hybrid_document(prep, settings, options.get("ledger"), options.get("environ"))
    else:
        raise ValueError(f"not an LLM backend: {backend!r}")
    return run_sync(coro)


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
