"""Async concurrency: a limit on requests in flight, and requests/tokens per minute."""
from __future__ import annotations

import asyncio
import time

from conftest import EXAMPLES
from openai_server import OpenAIServer, empty_answers, settings_for
from structurer.llm.backend import extract_with_llm
from structurer.llm.transport import RateLimiter, retry_after
from structurer.pipeline import prepare

DOC = EXAMPLES / "003_fd949bb5025c67e5.txt"  # 18 chunks


def test_requests_in_flight_never_exceed_the_limit_and_reach_it(tmp_path):
    with OpenAIServer(empty_answers, latency=0.1) as srv:
        t0 = time.perf_counter()
        doc = extract_with_llm(prepare(DOC), "llm", settings=settings_for(srv, tmp_path, concurrency=3))
        wall = time.perf_counter() - t0
        assert srv.max_in_flight == 3
    n = doc.usage.requests
    assert n >= 12 and wall >= (n // 3) * 0.1  # never more than 3 at once


def test_requests_per_minute_are_spread_over_the_window(tmp_path, monkeypatch):
    sent: list[float] = []  # when the limiter let each request go (the server's arrival times
    acquire = RateLimiter.acquire  # jitter with the machine's load)

    async def recording(self, tokens: int = 0) -> float:
        waited = await acquire(self, tokens)
        sent.append(time.monotonic())
        return waited

    monkeypatch.setattr(RateLimiter, "acquire", recording)
    with OpenAIServer(empty_answers) as srv:
        s = settings_for(srv, tmp_path, requests_per_minute=5, rate_period_s=0.4)
        extract_with_llm(prepare(DOC), "llm", settings=s)
        assert srv.count == len(sent) > 10
    for i, t in enumerate(sent):
        assert sum(1 for u in sent[i:] if u < t + 0.39) <= 5
    assert sent[-1] - sent[0] >= (len(sent) - 1) // 5 * 0.4 - 0.01


def test_rate_limiter_counts_tokens_per_window():
    async def go():
        lim = RateLimiter(tokens=100, period_s=0.3)
        t0 = time.monotonic()
        first = await lim.acquire(60)
        second = await lim.acquire(30)  # fits: no wait
        await lim.acquire(60)  # must wait for the first to leave the window
        return first, second, time.monotonic() - t0

    first, second, end = asyncio.run(go())
    assert first == 0 and second == 0 and end >= 0.29  # what the limiter decided, not how fast


def test_retry_after_forms():
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({}) is None
    assert 0 <= retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 0.0 + 1e-9
