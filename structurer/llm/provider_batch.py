"""Chunks asked through a provider's batch API (OpenAI-compatible `/v1/files` + `/v1/batches`).

A request is one JSONL line `{"custom_id": <cache key>, "method": "POST", "url":
"/v1/chat/completions", "body": <the body the sync client sends first>}`; an answer is a
line `{"custom_id", "response": {"status_code", "body"}, "error"}`. Answers are settled
into the LLM cache exactly as the sync client stores a first-attempt answer: validated
against the response model with strict grounding. What cannot be settled (an error line,
an answer that is malformed, invalid or cites values not printed where it says) is not
stored, so the sync client asks for it again later, with reasks. An answer cut off at
max_tokens stores the cache's split marker, so the chunk's halves are asked next.

This module does the per-document work (`plan_document`, `settle_document`, run in batch
workers) and the HTTP calls (`ProviderBatches`); `structurer.batch.provider` drives a run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import openai
from pydantic import ValidationError

from .cache import DiskCache
from .client import LLMClient, _raw_json, cache_entry, redact, split_chunk
from .config import Settings
from .grounding import SCOPE, Scope
from .plan import ChunkRequest, leaf_requests, request_body
from .responses import ANSWERS

if TYPE_CHECKING:
    from ..pipeline import Prepared

BATCH_URL = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"
FINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class ProviderBatchError(RuntimeError):
    """The endpoint's batch API refused or failed; str(error) is one line."""


# ---------------------------------------------------------------------------- per document


def plan_document(prep: "Prepared", backend: str, settings: Settings) -> tuple[list[tuple[str, str]], int]:
    """([(custom_id, JSONL line)] of the requests not answered in the cache, cached count)."""
    cache = DiskCache(settings.cache_dir)
    lines, cached = [], 0
    for req, entry in leaf_requests(prep, backend, settings, cache):
        if entry is not None:
            cached += 1
            continue
        lines.append((req.key, batch_line(settings, req)))
    return lines, cached


def batch_line(settings: Settings, req: ChunkRequest) -> str:
    return json.dumps({"custom_id": req.key, "method": "POST", "url": BATCH_URL,
                       "body": request_body(settings, req)}, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Settled:
    cached: int = 0  # answers stored in the cache
    rejected: int = 0  # answers that did not validate (asked again directly)
    errors: int = 0  # requests the provider answered with an error
    split: int = 0  # answers cut off at max_tokens (the chunk's halves are asked next)
    stale: int = 0  # answers to requests this document no longer makes (its file changed)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasons: list[str] = field(default_factory=list)  # a few rejection reasons, for the log

    def add(self, other: "Settled") -> None:
        for k in ("cached", "rejected", "errors", "split", "stale", "prompt_tokens", "completion_tokens"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.reasons.extend(other.reasons[:max(0, 5 - len(self.reasons))])

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("cached", "rejected", "errors", "split", "stale", "prompt_tokens",
                                              "completion_tokens")} | {"reasons": self.reasons[:5]}


def settle_document(prep: "Prepared", backend: str, settings: Settings, answers: list[dict],
                    batch_id: str = "") -> Settled:
    """Store the provider's answers to this document's requests in the cache."""
    cache = DiskCache(settings.cache_dir)
    # answers already in the cache (a collection that was interrupted) are settled again: same key, same answer
    todo = {req.key: req for req, _ in leaf_requests(prep, backend, settings, cache)}
    out = Settled()
    for line in answers:
        req = todo.get(str(line.get("custom_id")))
        if req is None:
            out.stale += 1
            continue
        out.add(settle(settings, cache, req, prep, line, batch_id))
    return out


def settle(settings: Settings, cache: DiskCache, req: ChunkRequest, prep: "Prepared", line: dict,
           batch_id: str = "") -> Settled:
    """One answer line into the cache (or the reason it is not stored)."""
    from openai.types.chat import ChatCompletion  # deferred: openai's type modules are slow to load

    out = Settled()
    resp = line.get("response") if isinstance(line.get("response"), dict) else {}
    body = resp.get("body")
    if line.get("error") or resp.get("status_code") != 200 or not isinstance(body, dict):
        out.errors += 1
        return out
    try:
        completion = ChatCompletion.model_validate(body)
    except ValidationError:
        out.rejected += 1
        out.reasons.append(f"{req.chunk.name}: not a chat completion")
        return out
    usage = body.get("usage") or {}
    p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(p, int) and isinstance(c, int):
        out.prompt_tokens, out.completion_tokens = p, c
    stats = {"requests": 1, "retries": 0, "reasks": 0, "prompt_tokens": out.prompt_tokens,
             "completion_tokens": out.completion_tokens, "provider_batch": batch_id}
    layout, meta = prep.layout, prep.seg.meta
    finish = completion.choices[0].finish_reason if completion.choices else None
    if finish == "length":
        if split_chunk(req.chunk, layout):
            cache.put(req.key, cache_entry(settings, {"split": True}, stats, req.prompt.tag))
            out.split += 1
        else:
            out.rejected += 1
            out.reasons.append(f"{req.chunk.name}: cut off at max_tokens")
        return out
    raw = _raw_json(completion, settings.model.mode)
    if raw is None:
        out.rejected += 1
        out.reasons.append(f"{req.chunk.name}: no JSON in the answer")
        return out
    SCOPE.set(Scope(req.chunk, layout, unit=req.chunk.unit or meta.unit, doc_kind=meta.kind, strict=True))
    try:
        answer = ANSWERS[req.chunk.kind].model_validate_json(raw)
    except (ValidationError, ValueError) as err:
        out.rejected += 1
        out.reasons.append(f"{req.chunk.name}: {str(err).splitlines()[0][:160]}")
        return out
    finally:
        SCOPE.set(None)
    cache.put(req.key, cache_entry(settings, {"answer": answer.model_dump(mode="json"), "problems": [],
                                              "error": None}, stats, req.prompt.tag))
    out.cached += 1
    return out


# ---------------------------------------------------------------------------- HTTP


class ProviderBatches:
    """Files and batches on the model's endpoint (the sync client's retrying transport)."""

    def __init__(self, settings: Settings, environ=None):
        self.settings = settings
        self.environ = environ

    async def submit(self, data: bytes, name: str, metadata: dict[str, str] | None = None):
        async with LLMClient(self.settings, self.environ) as client:
            f = await self._call(client, "upload", client.openai.files.create(file=(name, data), purpose="batch"))
            return f.id, await self._call(client, "create", client.openai.batches.create(
                input_file_id=f.id, endpoint=BATCH_URL, completion_window=COMPLETION_WINDOW,
                metadata=metadata or None))

    async def retrieve(self, batch_ids: list[str]) -> list:
        async with LLMClient(self.settings, self.environ) as client:
            return [await self._call(client, "poll", client.openai.batches.retrieve(b)) for b in batch_ids]

    async def download(self, file_id: str) -> bytes:
        async with LLMClient(self.settings, self.environ) as client:
            resp = await self._call(client, "download", client.openai.files.content(file_id))
            return resp.content

    async def _call(self, client: LLMClient, what: str, coro):
        try:
            return await coro
        except openai.NotFoundError:
            raise ProviderBatchError(
                f"{self.settings.model.endpoint} has no batch API ({what}: HTTP 404); run without "
                "--batch-api") from None
        except openai.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else {}
            msg = body.get("message") or (body.get("error") or {}).get("message") if body else None
            detail = f"HTTP {e.status_code}" + (f": {str(msg).splitlines()[0][:160]}" if msg else "")
            raise ProviderBatchError(redact(f"provider batch {what} failed: {detail}", client._key)) from None
        except (openai.APIError, OSError) as e:
            text = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
            raise ProviderBatchError(redact(f"provider batch {what} failed: {text}", client._key)) from None
