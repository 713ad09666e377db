"""What an LLM backend will ask about a document, worked out before anything is sent.

The sync client and the provider batch API share this, so an answer obtained either way
is stored under the same cache key and found by the other:

- `backend_chunks`: the chunks a backend asks for a prepared document (every section for
  `llm`; for `hybrid`, the sections the rules fall short on);
- `chunk_request`: one chunk's prompt, messages and cache key;
- `request_body`: the exact chat-completions body instructor sends first for it, in the
  model's mode (tools, json_schema, md_json, json);
- `leaf_requests`: follows the cache's "split" markers (an answer cut off at max_tokens)
  to the halves the chunk is asked as.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..layout import Layout
from ..model import DocumentMeta
from .cache import DiskCache, cache_key
from .chunking import Chunk, chunk_document
from .client import MODE_OF, chunk_messages, key_parts, split_chunk
from .config import Settings
from .hybrid import hybrid_plan
from .responses import ANSWERS

if TYPE_CHECKING:
    from ..pipeline import Prepared


@dataclass
class ChunkRequest:
    chunk: Chunk
    prompt: object  # the versioned Prompt
    messages: list[dict]
    key: str  # the cache key (also the provider batch's custom_id)


def chunk_request(settings: Settings, chunk: Chunk, layout: Layout, meta: DocumentMeta) -> ChunkRequest:
    prompt, messages = chunk_messages(settings, chunk, layout, meta)
    return ChunkRequest(chunk, prompt, messages, cache_key(key_parts(settings, chunk, prompt, messages)))


def request_body(settings: Settings, req: ChunkRequest) -> dict:
    """The body of the first chat-completions request instructor makes for `req`."""
    from instructor.v2.core.response import handle_response_model  # deferred: only batch files need it

    mc = settings.model
    kwargs = dict(messages=req.messages, model=mc.model, temperature=mc.temperature, max_tokens=mc.max_tokens)
    if mc.seed is not None:
        kwargs["seed"] = mc.seed
    _, body = handle_response_model(ANSWERS[req.chunk.kind], mode=MODE_OF[mc.mode], **kwargs)
    return body


def backend_chunks(prep: "Prepared", backend: str, settings: Settings) -> list[Chunk]:
    if backend == "llm":
        return chunk_document(prep.layout, prep.seg, settings.limits)
    if backend == "hybrid":
        return hybrid_plan(prep, settings).chunks
    raise ValueError(f"not an LLM backend: {backend!r}")


def leaf_requests(prep: "Prepared", backend: str, settings: Settings,
                  cache: DiskCache | None) -> list[tuple[ChunkRequest, dict | None]]:
    """Every request the backend makes for this document, with its cache entry (None when
    not cached). A chunk whose answer was cut off is replaced by its halves, recursively."""
    layout, meta = prep.layout, prep.seg.meta
    out: list[tuple[ChunkRequest, dict | None]] = []
    todo = list(backend_chunks(prep, backend, settings))
    while todo:
        chunk = todo.pop(0)
        req = chunk_request(settings, chunk, layout, meta)
        entry = cache.get(req.key) if cache is not None else None
        if entry is not None and entry.get("split"):
            halves = split_chunk(chunk, layout)
            if halves:
                todo[:0] = halves
                continue
        out.append((req, entry))
    return out
