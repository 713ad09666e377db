"""The HTTP layer under the openai client: limits, transport retries, usage counting.

Transport errors — timeouts, connection errors, 408/429/5xx answers, a chat completion
whose body is cut off or not JSON — are retried here with tenacity (exponential backoff with jitter;
a 429's `Retry-After` / `retry-after-ms` is honoured), below the openai client (whose own
retries are off) and below instructor, so they are never shown to the model as a
validation error. Each attempt waits for the rate limiter (requests and tokens per
minute) and holds one of the in-flight slots only while it is on the wire.

Every attempt is counted in the `CallStats` of the task that sends it (requests,
retries, latency, and the token usage reported in the response body).
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections import deque

import httpx2
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from .accounting import current_call, estimate_tokens

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_DROP_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def request_tokens(payload: dict) -> int:
    """Estimated prompt tokens of a chat-completions request body (messages, tools,
    response format)."""
    n = 0
    for m in payload.get("messages") or []:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        n += 4 + estimate_tokens(str(content or ""))
        for tc in m.get("tool_calls") or []:
            n += estimate_tokens(json.dumps(tc, ensure_ascii=False, separators=(",", ":")))
    for key in ("tools", "response_format"):
        if payload.get(key):
            n += estimate_tokens(json.dumps(payload[key], ensure_ascii=False, separators=(",", ":")))
    return n


def completion_tokens(body: dict) -> int:
    n = 0
    for ch in body.get("choices") or []:
        msg = ch.get("message") or {}
        n += estimate_tokens(str(msg.get("content") or ""))
        for tc in msg.get("tool_calls") or []:
            n += estimate_tokens(str((tc.get("function") or {}).get("arguments") or ""))
    return n


def retry_after(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(float(ra), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class RateLimiter:
    """Requests and tokens per period (a sliding window; one event loop, no lock)."""

    def __init__(self, requests: int | None = None, tokens: int | None = None, period_s: float = 60.0):
        self.requests = requests
        self.tokens = tokens
        self.period = period_s
        self.events: deque[tuple[float, int]] = deque()
        self.used_tokens = 0

    async def acquire(self, tokens: int = 0) -> float:
        """Wait until one more request of `tokens` fits; returns the seconds waited."""
        waited = 0.0
        while True:
            now = time.monotonic()
            while self.events and self.events[0][0] <= now - self.period:
                self.used_tokens -= self.events.popleft()[1]
            fits_r = self.requests is None or len(self.events) < self.requests
            fits_t = self.tokens is None or not self.events or self.used_tokens + tokens <= self.tokens
            if fits_r and fits_t:
                self.events.append((now, tokens))
                self.used_tokens += tokens
                return waited
            pause = max(self.events[0][0] + self.period - now, 0.001)
            await asyncio.sleep(pause)
            waited += pause


class _PromptEstimate:
    """Estimated prompt tokens of a request, computed only when needed (a tokens-per-minute
    limit, or an answer without usage)."""

    def __init__(self, request: httpx2.Request):
        self.request = request
        self._tokens: int | None = None

    @property
    def tokens(self) -> int:
        if self._tokens is None:
            try:
                payload = json.loads(self.request.content or b"{}")
            except (ValueError, httpx2.RequestNotRead):
                payload = {}
            self._tokens = request_tokens(payload) if isinstance(payload, dict) else 0
        return self._tokens


class _Transient(Exception):
    def __init__(self, reason: str, response: httpx2.Response | None = None,
                 cause: Exception | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.cause = cause
        self.wait = wait


class RetryingTransport(httpx2.AsyncBaseTransport):
    def __init__(self, *, max_attempts: int = 5, backoff_s: float = 1.0, backoff_max_s: float = 60.0,
                 limiter: RateLimiter | None = None, in_flight: int = 8,
                 inner: httpx2.AsyncBaseTransport | None = None, tls: bool = True):
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.limiter = limiter
        self.slots = asyncio.Semaphore(max(1, in_flight))
        self.inner = inner or httpx2.AsyncHTTPTransport(
            verify=tls,  # plain-http endpoints (local servers) need no certificate store
            limits=httpx2.Limits(max_connections=max(1, in_flight) * 2, max_keepalive_connections=max(1, in_flight)))

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.wait is not None:
            return min(exc.wait, self.backoff_max_s)
        base = self.backoff_s * (2 ** (state.attempt_number - 1))
        return min(base * (0.5 + random.random() / 2), self.backoff_max_s)

    @staticmethod
    def _before_sleep(state: RetryCallState) -> None:
        stats = current_call()
        if stats is not None:
            exc = state.outcome.exception() if state.outcome else None
            stats.retries += 1
            stats.retry_reasons.append(getattr(exc, "reason", type(exc).__name__))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        estimate = _PromptEstimate(request)
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                                 retry=retry_if_exception_type(_Transient), reraise=True,
                                 before_sleep=self._before_sleep)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(request, estimate)
        except _Transient as e:  # attempts exhausted: let the openai client report it
            if e.response is not None:
                return e.response
            raise e.cause if e.cause is not None else httpx2.TransportError(e.reason)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, request: httpx2.Request, estimate: "_PromptEstimate") -> httpx2.Response:
        stats = current_call()
        if self.limiter is not None:
            await self.limiter.acquire(estimate.tokens if self.limiter.tokens else 0)
        async with self.slots:
            t0 = time.perf_counter()
            if stats is not None:
                stats.requests += 1
            try:
                resp = await self.inner.handle_async_request(request)
                try:
                    content = await resp.aread()
                finally:
                    await resp.aclose()
            except httpx2.TimeoutException as e:
                raise _Transient("timeout", cause=e) from e
            except (httpx2.NetworkError, httpx2.RemoteProtocolError, httpx2.DecodingError) as e:
                raise _Transient(f"connection error ({type(e).__name__})", cause=e) from e
            finally:
                if stats is not None:
                    stats.latency_s += time.perf_counter() - t0
        # let the request that takes the freed slot go out before this answer is parsed and
        # validated (those are CPU work on the same event loop)
        await asyncio.sleep(0)
        headers = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _DROP_HEADERS]
        out = httpx2.Response(resp.status_code, headers=headers, content=content, request=request,
                              extensions={k: v for k, v in resp.extensions.items() if k != "network_stream"})
        if resp.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {resp.status_code}", response=out, wait=retry_after(resp.headers))
        if resp.status_code == 200 and request.url.path.endswith("/chat/completions"):
            try:
                data = json.loads(content)
                if not isinstance(data, dict) or not data.get("choices"):
                    raise ValueError("no choices")
            except ValueError as e:
                raise _Transient("malformed response body", response=out) from e
            if stats is not None:
                self._count(stats, data, estimate)
        return out

    @staticmethod
    def _count(stats, data: dict, estimate: "_PromptEstimate") -> None:
        stats.answers += 1
        usage = data.get("usage") or {}
        p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(p, int) and isinstance(c, int):
            stats.prompt_tokens += p
            stats.completion_tokens += c
        else:
            stats.estimated_tokens = True
            stats.prompt_tokens += estimate.tokens
            stats.completion_tokens += completion_tokens(data)
