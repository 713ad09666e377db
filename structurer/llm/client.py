"""One chunk → one grounded answer, through the real openai and instructor clients.

`LLMClient` owns an `openai.AsyncOpenAI` (its own retries off) over the retrying,
rate-limited transport, wrapped by `instructor.from_openai` in the configured mode. For
each chunk it renders the versioned prompt, looks the answer up in the cache, else asks
the model with up to `max_reasks` validation-error reasks (grounding errors included).
When the reasks run out the last answer is read leniently: its grounded values are kept
and the others rejected (reported). An answer cut off at `max_tokens` splits a table
chunk in two (by row groups, header repeated) and asks again for each half.
"""
from __future__ import annotations

from ..errors import EndpointError

import asyncio
import logging
import time
from dataclasses import dataclass, field

import httpx2
import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.v2.core.json import extract_json_from_codeblock
from pydantic import ValidationError

from ..layout import Layout
from ..model import DocumentMeta
from . import vocabulary as voc
from .accounting import CURRENT_CALL, CallStats
from .cache import CacheMiss, DiskCache, cache_key
from .chunking import Chunk, has_values, record_start, table_part
from .config import Settings
from .grounding import SCOPE, Problem, Scope
from .prompts import load_prompt
from .responses import ANSWERS
from .transport import RateLimiter, RetryingTransport

log = logging.getLogger("structurer.llm")
# A library logs, the application decides where to: without these, Python's last-resort
# handler would print instructor's per-attempt errors and our chunk warnings on stderr
# (the warnings are in the document; the CLI prints one line per failed document).
for _name in ("structurer.llm", "instructor"):
    if not any(isinstance(h, logging.NullHandler) for h in logging.getLogger(_name).handlers):
        logging.getLogger(_name).addHandler(logging.NullHandler())

MODE_OF = {"tools": instructor.Mode.TOOLS, "json_schema": instructor.Mode.JSON_SCHEMA,
           "md_json": instructor.Mode.MD_JSON, "json": instructor.Mode.JSON}
_LOGGERS = ("structurer.llm", "openai", "openai._base_client", "instructor", "instructor.v2", "httpcore2",
            "httpcore2.http11", "httpcore2.connection",
            "instructor.v2.retry", "httpx2", "httpcore", "httpcore.http11", "httpcore.connection")


class LLMError(EndpointError, RuntimeError):
    """A chunk could not be asked (endpoint unreachable, refused, retries exhausted)."""


class Redactor(logging.Filter):
    """Replaces every API key in use wherever it would appear in a log record (installed
    once per logger and kept: a record may be logged after a client is closed)."""

    secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        hit = [k for k in self.secrets if k in msg]
        if hit:
            for k in hit:
                msg = msg.replace(k, "***")
            record.msg, record.args = msg, None
        return True


_REDACTOR = Redactor()


def protect(secret: str) -> None:
    """Mask `secret` in the records of every logger the LLM stack writes to."""
    if not secret or len(secret) < 6:
        return
    Redactor.secrets.add(secret)
    for name in _LOGGERS:
        lg = logging.getLogger(name)
        if _REDACTOR not in lg.filters:
            lg.addFilter(_REDACTOR)


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret and len(secret) >= 6 else text


@dataclass
class ChunkResult:
    chunk: Chunk
    answer: object | None  # a validated answer model (possibly with rejected items)
    stats: CallStats
    problems: list[Problem] = field(default_factory=list)  # items grounding rejected
    error: str | None = None  # no usable answer: why
    from_cache: bool = False

    @property
    def rejected(self) -> set[tuple]:
        return {p.path for p in self.problems}


class LLMClient:
    def __init__(self, settings: Settings, environ=None, hint: str | None = None):
        self.settings = settings
        self.hint = hint  # appended to every chunk's user message (a second reading's reason)
        self.mc = settings.model
        self._key = self.mc.api_key(environ)
        protect(self._key)
        self.cache = DiskCache(settings.cache_dir) if (settings.use_cache or settings.cache_only) else None
        self.calls: list[CallStats] = []
        self._client: openai.AsyncOpenAI | None = None
        self._instructor = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> "LLMClient":
        s = self.settings
        limiter = None
        if s.requests_per_minute or s.tokens_per_minute:
            limiter = RateLimiter(s.requests_per_minute, s.tokens_per_minute, s.rate_period_s)
        transport = RetryingTransport(max_attempts=s.max_attempts, backoff_s=s.backoff_s,
                                      backoff_max_s=s.backoff_max_s, limiter=limiter, in_flight=s.concurrency,
                                      tls=self.mc.base_url.startswith("https://"))
        http = httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(s.timeout_s))
        self._client = openai.AsyncOpenAI(api_key=self._key, base_url=self.mc.base_url, max_retries=0,
                                          timeout=s.timeout_s, http_client=http)
        self._instructor = instructor.from_openai(self._client, mode=MODE_OF[self.mc.mode])
        self._instructor.on("parse:error", self._on_parse_error)
        self._active = asyncio.Semaphore(s.concurrency + max(2, s.concurrency // 4))
        return self

    @property
    def openai(self) -> openai.AsyncOpenAI:
        """The underlying openai client (files and batches use it directly)."""
        assert self._client is not None, "use the client inside `async with`"
        return self._client

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.close()

    @staticmethod
    def _on_parse_error(error, *, is_last_attempt: bool = False, **_kw) -> None:
        stats = CURRENT_CALL.get()
        if stats is not None and not is_last_attempt:
            stats.reasks += 1

    # ------------------------------------------------------------------ prompts
    def messages(self, chunk: Chunk, layout: Layout, meta: DocumentMeta) -> tuple[object, list[dict]]:
        return chunk_messages(self.settings, chunk, layout, meta, self.hint)

    def key_parts(self, chunk: Chunk, prompt, messages: list[dict]) -> dict:
        return key_parts(self.settings, chunk, prompt, messages)

    # ------------------------------------------------------------------ calls
    async def run(self, chunks: list[Chunk], layout: Layout, meta: DocumentMeta) -> list[ChunkResult]:
        """All chunks concurrently (the transport limits requests in flight); the first
        failure cancels the others, so nothing runs on after the client is closed."""
        # a few more than the requests in flight are being prepared or waiting: the others are
        # prepared while those are on the wire, not all before the first one is sent
        active = self._active

        async def one(c: Chunk) -> list[ChunkResult]:
            async with active:
                return await self.extract(c, layout, meta)

        tasks = [asyncio.ensure_future(one(c)) for c in chunks]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = next((t for t in tasks if t.done() and not t.cancelled() and t.exception()), None)
        if failed is not None:
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            raise failed.exception()
        return [r for t in tasks for r in t.result()]

    async def extract(self, chunk: Chunk, layout: Layout, meta: DocumentMeta) -> list[ChunkResult]:
        stats = CallStats(chunk=chunk.name)
        CURRENT_CALL.set(stats)
        self.calls.append(stats)
        prompt, messages = self.messages(chunk, layout, meta)
        model = ANSWERS[chunk.kind]
        key = cache_key(self.key_parts(chunk, prompt, messages))
        unit = chunk.unit or meta.unit
        if self.cache is not None:
            entry = self.cache.get(key)
            if entry is not None:
                stats.cache_hit = True
                if entry.get("split"):
                    return await self._split(chunk, layout, meta)
                answer = model.model_validate(entry["answer"])
                problems = [Problem(tuple(p["path"]), p["message"]) for p in entry.get("problems", [])]
                return [ChunkResult(chunk, answer, stats, problems, entry.get("error"), from_cache=True)]
            if self.settings.cache_only:
                raise CacheMiss(f"no cached answer for {chunk.name} (--cache-only replays the cache; "
                                "run without it to ask the model)")
        t0 = time.perf_counter()
        scope = Scope(chunk, layout, unit=unit, doc_kind=meta.kind, strict=True)
        SCOPE.set(scope)
        problems: list[Problem] = []
        error = None
        answer = None
        try:
            answer = await self._instructor.create(
                response_model=model, messages=messages, max_retries=self.settings.max_reasks, strict=False,
                model=self.mc.model, temperature=self.mc.temperature, max_tokens=self.mc.max_tokens,
                **({"seed": self.mc.seed} if self.mc.seed is not None else {}))
        except IncompleteOutputException:
            halves = split_chunk(chunk, layout)
            if halves:
                self._store(key, {"split": True}, stats)
                return await self._split(chunk, layout, meta, halves)
            error = "the answer was cut off at max_tokens and the chunk cannot be split further"
        except InstructorRetryException as e:
            if not e.failed_attempts:  # nothing came back from the model: a transport failure
                raise LLMError(self._transport_message(chunk, stats, e)) from None
            answer, problems, error = self._lenient(model, e, chunk, layout, unit, meta)
        except (openai.APIError, httpx2.HTTPError) as e:
            raise LLMError(self._transport_message(chunk, stats, e)) from None
        finally:
            SCOPE.set(None)
        stats.failed = answer is None
        if error:
            log.warning("%s: %s", chunk.name, error)
        self._store(key, {"answer": answer.model_dump(mode="json") if answer is not None else None,
                          "problems": [{"path": list(p.path), "message": p.message} for p in problems],
                          "error": error}, stats, prompt_tag=prompt.tag)
        log.info("%s: %d request(s), %d retries, %d reasks, %d+%d tokens, %.2fs", chunk.name, stats.requests,
                 stats.retries, stats.reasks, stats.prompt_tokens, stats.completion_tokens,
                 time.perf_counter() - t0)
        return [ChunkResult(chunk, answer, stats, problems, error)]

    async def _split(self, chunk: Chunk, layout: Layout, meta: DocumentMeta,
                     halves: list[Chunk] | None = None) -> list[ChunkResult]:
        halves = halves or split_chunk(chunk, layout)
        if not halves:
            return [ChunkResult(chunk, None, CURRENT_CALL.get() or CallStats(chunk=chunk.name),
                                error="cannot split a cut-off chunk")]
        out: list[ChunkResult] = []
        for rs in await asyncio.gather(*(self.extract(h, layout, meta) for h in halves)):
            out.extend(rs)
        return out

    def _store(self, key: str, entry: dict, stats: CallStats, prompt_tag: str = "") -> None:
        if self.cache is None or not self.settings.use_cache:
            return
        if entry.get("answer") is None and not entry.get("split"):
            return  # a failed chunk is asked again next time
        self.cache.put(key, cache_entry(self.settings, entry, {
            "requests": stats.requests, "retries": stats.retries, "reasks": stats.reasks,
            "prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens}, prompt_tag))

    def _transport_message(self, chunk: Chunk, stats: CallStats, e: Exception) -> str:
        cause = e
        while isinstance(cause, InstructorRetryException) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, openai.APIStatusError):
            detail = f"HTTP {cause.status_code}"
            body = cause.body if isinstance(cause.body, dict) else None
            msg = (body or {}).get("message") or ((body or {}).get("error") or {}).get("message") \
                if body else None
            if msg:
                detail += f": {str(msg).splitlines()[0][:160]}"
        elif isinstance(cause, openai.APITimeoutError):
            detail = "timed out"
        elif isinstance(cause, openai.APIConnectionError):
            detail = f"cannot reach {self.mc.endpoint}"
            if stats.retry_reasons and stats.retry_reasons[-1] == "malformed response body":
                detail = "malformed response body"
        else:
            detail = str(cause).splitlines()[0][:160] if str(cause) else type(cause).__name__
        msg = f"{chunk.name}: LLM request failed after {stats.requests} attempt(s): {detail}"
        return redact(msg, self._key)

    def _lenient(self, model, e: InstructorRetryException, chunk: Chunk, layout: Layout, unit, meta):
        """Read the last answer keeping its grounded values; None when it cannot be read."""
        last = e.failed_attempts[-1]
        reason = str(last.exception).splitlines()[0][:200] if str(last.exception) else type(last.exception).__name__
        raw = _raw_json(last.completion, self.mc.mode)
        if raw is None:
            return None, [], f"no valid answer after {self.settings.max_reasks} reask(s): {reason}"
        scope = Scope(chunk, layout, unit=unit, doc_kind=meta.kind, strict=False)
        SCOPE.set(scope)
        try:
            answer = model.model_validate_json(raw)
        except (ValidationError, ValueError) as err:
            first = str(err).splitlines()[0][:200]
            return None, [], f"no valid answer after {self.settings.max_reasks} reask(s): {first}"
        finally:
            SCOPE.set(None)
        n = len(scope.problems)
        return answer, scope.problems, (f"{n} value(s) rejected after {self.settings.max_reasks} reask(s) "
                                        "(not printed where cited)") if n else None


def _raw_json(completion, mode: str) -> str | None:
    try:
        msg = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    if mode == "tools":
        calls = msg.tool_calls or []
        return calls[0].function.arguments if calls else None
    text = msg.content or ""
    if mode == "md_json":
        try:
            return extract_json_from_codeblock(text)
        except Exception:  # noqa: BLE001 - any unreadable text is no answer
            return None
    return text or None


def chunk_messages(settings: Settings, chunk: Chunk, layout: Layout, meta: DocumentMeta, hint: str | None = None
                   ) -> tuple[object, list[dict]]:
    """The versioned prompt of a chunk and its rendered messages; `hint` (a second reading's
    reason) is appended to the user message, so it is part of the cache key too."""
    prompt = load_prompt(chunk.kind, settings.prompts_dir)
    if chunk.kind == "table":
        part = f", part {chunk.part} of {chunk.parts} (header repeated)" if chunk.parts > 1 else ""
        values = dict(table=chunk.section, title=chunk.title, unit=chunk.unit or meta.unit or "元",
                      part=part, vocabulary=table_vocabulary(chunk, layout), lines=chunk.text)
    elif chunk.kind == "narrative":
        values = dict(doc_kind={"final": "final-accounts"}.get(meta.kind or "", "budget"),
                      unit=chunk.unit or meta.unit or "元",
                      vocabulary=voc.narrative_vocabulary(meta.kind, chunk.text),
                      lines=chunk.text)
    else:
        values = dict(lines=chunk.text)
    messages = prompt.messages(**values)
    if hint:
        messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{hint}"}
    return prompt, messages


def key_parts(settings: Settings, chunk: Chunk, prompt, messages: list[dict]) -> dict:
    """Everything that decides a chunk's answer (hashed into its cache key)."""
    model = ANSWERS[chunk.kind]
    mc = settings.model
    return {"endpoint": mc.endpoint, "model": mc.model, "mode": mc.mode,
            "prompt": prompt.name, "prompt_version": prompt.version, "prompt_hash": prompt.hash,
            "schema": model.schema_hash(), "chunk": chunk.digest,
            "messages": cache_key({"m": messages}),
            "params": {"temperature": mc.temperature, "max_tokens": mc.max_tokens, "seed": mc.seed,
                       "max_reasks": settings.max_reasks}}


def cache_entry(settings: Settings, entry: dict, usage: dict, prompt_tag: str = "") -> dict:
    """A cache entry as the sync client and the provider batch both write it."""
    mc = settings.model
    return {**entry, "model": mc.model, "endpoint": mc.endpoint, "prompt": prompt_tag, "usage": usage}


def table_vocabulary(chunk: Chunk, layout: Layout) -> str:
    header = "".join(layout.lines[i].norm.text for g in chunk.header for i in g)
    body = [layout.lines[i].norm.text for g in chunk.groups if g not in chunk.header for i in g]
    return voc.table_vocabulary(chunk.section, header, voc.value_text(body, has_values))


def split_chunk(chunk: Chunk, layout: Layout) -> list[Chunk] | None:
    """Two halves of a table chunk by row groups (header repeated, cut before the record
    start nearest the middle), or None."""
    if chunk.kind != "table":
        return None
    body = [g for g in chunk.groups if g not in chunk.header]
    if len(body) < 2:
        return None
    starts = [k for k in range(1, len(body)) if record_start(layout, body[k])]
    mid = min(starts, key=lambda k: abs(k - len(body) / 2)) if starts else len(body) // 2
    width = chunk.grid.width if chunk.grid is not None else None
    return [table_part(layout, chunk.sections[0], chunk.header, rows, chunk.part * 2 - 1 + k, chunk.parts * 2,
                       width) for k, rows in enumerate((body[:mid], body[mid:]))]
