"""LLM backend benchmark against the in-process OpenAI-compatible test server.

1. Throughput: 64 chunks (cut from the seed documents) at concurrency 8 against a server
   that takes 200 ms per answer. Ideal: 64 / 8 × 0.2 s = 1.6 s; target ≤ 1.15 × ideal.
   Measured from a fresh client (HTTP connections opened inside the timing), best of 3;
   the server runs in a child process.
2. Prompt size: prompt tokens per document (as the server counts them: the project's
   token estimate over messages + tool schema) against the document's own tokens (the
   same estimate over the whole source text); target ≤ 1.3 × for each seed document.

    python3 benchmarks/bench_llm.py

Exit status 1 when a target is missed.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from openai_server import OpenAIServer, empty_answers, settings_for  # noqa: E402

from structurer.llm.accounting import estimate_tokens  # noqa: E402
from structurer.llm.backend import extract_with_llm  # noqa: E402
from structurer.llm.chunking import ChunkLimits, chunk_document  # noqa: E402
from structurer.llm.client import LLMClient  # noqa: E402
from structurer.pipeline import prepare  # noqa: E402

SEEDS = sorted((ROOT / "examples").glob("*.txt"))
N_CHUNKS, CONCURRENCY, LATENCY = 64, 8, 0.2


def bench_chunks() -> list[tuple]:
    """64 (prepared document, chunk) pairs, taken round-robin from the seeds."""
    per_doc = []
    for p in SEEDS:
        prep = prepare(p)
        per_doc.append([(prep, c) for c in chunk_document(prep.layout, prep.seg, ChunkLimits(max_chars=2500))])
    out: list[tuple] = []
    k = 0
    while len(out) < N_CHUNKS:
        for lst in per_doc:
            if k < len(lst) and len(out) < N_CHUNKS:
                out.append(lst[k])
        k += 1
    return out


async def run_once(settings, pairs) -> float:
    by_doc: dict[int, tuple] = {}
    for prep, c in pairs:
        by_doc.setdefault(id(prep), (prep, []))[1].append(c)
    t0 = time.perf_counter()
    async with LLMClient(settings) as client:
        await asyncio.gather(*(client.run(chunks, prep.layout, prep.seg.meta) for prep, chunks in by_doc.values()))
        assert len(client.calls) == N_CHUNKS
    return time.perf_counter() - t0


class _RemoteServer:
    """The test server in a child process (so that its threads do not share this
    process's interpreter lock with the client being measured)."""

    def __init__(self, latency: float):
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "openai_server.py"), str(latency)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"})
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def throughput() -> tuple[float, float]:
    pairs = bench_chunks()
    ideal = N_CHUNKS / CONCURRENCY * LATENCY
    times = []
    srv = _RemoteServer(LATENCY)
    try:
        s = settings_for(srv, tempfile.mkdtemp(), concurrency=CONCURRENCY, use_cache=False)
        for _ in range(3):
            times.append(asyncio.run(run_once(s, pairs)))
    finally:
        srv.close()
    print(f"throughput: {N_CHUNKS} chunks, concurrency {CONCURRENCY}, {LATENCY * 1000:.0f} ms per answer: "
          f"best {min(times):.3f} s, median {statistics.median(times):.3f} s; ideal {ideal:.2f} s; "
          f"ratio {min(times) / ideal:.3f} (target ≤ 1.15)")
    return min(times), ideal


def prompt_ratio() -> float:
    worst = 0.0
    total_p = total_d = 0
    with OpenAIServer(empty_answers) as srv:
        s = settings_for(srv, tempfile.mkdtemp(), use_cache=False)
        for p in SEEDS:
            prep = prepare(p)
            doc = extract_with_llm(prep, "llm", settings=s)
            own = estimate_tokens(prep.source.text)
            ratio = doc.usage.prompt_tokens / own
            worst = max(worst, ratio)
            total_p += doc.usage.prompt_tokens
            total_d += own
            print(f"prompt tokens: {p.name}: {doc.usage.requests} calls, {doc.usage.prompt_tokens} prompt tokens "
                  f"for {own} own tokens = {ratio:.3f} ×")
    print(f"prompt tokens per document: worst {worst:.3f} ×, all seeds {total_p / total_d:.3f} × (target ≤ 1.3)")
    return worst


def main() -> int:
    best, ideal = throughput()
    worst = prompt_ratio()
    ok = best <= 1.15 * ideal and worst <= 1.3
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
