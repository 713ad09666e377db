"""Usage accounting: tokens, requests, retries, reasks, cache hits, latency and cost.

Three levels: a `CallStats` per chunk call (filled by the transport and the instructor
hooks of the task that runs it), a `Usage` per document (the model's `Document.usage`) and
a `RunLedger` per run, printed at the end of every run.

Token counts come from the endpoint's `usage`; when an endpoint does not report usage
(some local servers) they are estimated with `estimate_tokens`, a cl100k-like heuristic.
"""
from __future__ import annotations

import math
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from ..model import Usage

# A BPE-like pre-tokenization: ASCII words, CJK runs, digit groups of at most three,
# punctuation runs, whitespace runs. Costs per piece approximate cl100k/o200k.
_PIECE_RE = re.compile(
    r" ?[A-Za-z]+"  # a word with its leading space
    r"|[\u3400-\u9fff\uf900-\ufaff]+"  # CJK (about one token per character)
    r"|\d{1,3}"  # digits are split into groups of three
    r"| ?[^\sA-Za-z0-9\u3400-\u9fff\uf900-\ufaff]+"  # punctuation runs
    r"|\s+")


def estimate_tokens(text: str) -> int:
    """Estimated token count of `text` (used when an endpoint reports no usage, for rate
    limits, and by the benchmark to size a document)."""
    n = 0
    for m in _PIECE_RE.finditer(text):
        p = m.group(0)
        c = p[0] if p[0] != " " or len(p) == 1 else p[1]
        if c.isascii() and c.isalpha():
            n += math.ceil(len(p.strip()) / 6)
        elif "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff":
            n += len(p)
        elif c.isdigit():
            n += 1
        elif c.isspace():
            n += 1
        else:
            n += math.ceil(len(p.strip() or p) / 2)
    return n


@dataclass(frozen=True)
class Prices:
    """Price per million tokens (any currency; the config names it)."""

    prompt: Decimal = Decimal(0)
    completion: Decimal = Decimal(0)
    currency: str = ""

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        m = Decimal(1_000_000)
        return (self.prompt * prompt_tokens + self.completion * completion_tokens) / m


@dataclass
class CallStats:
    """One chunk call: every HTTP attempt, model answer and reask it took."""

    chunk: str = ""
    requests: int = 0  # HTTP requests sent (attempts, including transport retries)
    retries: int = 0  # transport retries (timeouts, 429, 5xx, broken bodies)
    reasks: int = 0  # validation/grounding errors sent back to the model
    answers: int = 0  # well-formed HTTP responses from the model
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_tokens: bool = False  # the endpoint reported no usage for some answer
    latency_s: float = 0.0
    cache_hit: bool = False
    failed: bool = False
    retry_reasons: list[str] = field(default_factory=list)

    def usage(self, prices: Prices) -> Usage:
        return Usage(requests=self.requests, cache_hits=int(self.cache_hit), retries=self.retries,
                     reasks=self.reasks, failures=int(self.failed),
                     prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
                     latency_s=round(self.latency_s, 4),
                     cost=prices.cost(self.prompt_tokens, self.completion_tokens))


# The call being made by the current asyncio task (set by the client, read by the transport
# and the instructor hooks, which run inside the same task).
CURRENT_CALL: ContextVar[CallStats | None] = ContextVar("structurer_llm_call", default=None)


def current_call() -> CallStats | None:
    return CURRENT_CALL.get()


def sum_usage(usages: list[Usage]) -> Usage:
    total = Usage()
    for u in usages:
        total = total.add(u)
    total.latency_s = round(total.latency_s, 4)
    return total


@dataclass
class DocUsage:
    doc: str
    usage: Usage
    calls: int
    wall_s: float


class RunLedger:
    """Usage of a whole run: one line per document and the total, printed at the end."""

    def __init__(self, model: str = "", currency: str = ""):
        self.model = model
        self.currency = currency
        self.docs: list[DocUsage] = []
        self.calls: list[CallStats] = []
        self._lock = threading.Lock()
        self.started = time.perf_counter()

    def add_document(self, doc: str, usage: Usage, calls: list[CallStats], wall_s: float,
                     model: str = "", currency: str = "") -> None:
        with self._lock:
            self.docs.append(DocUsage(doc, usage, len(calls), wall_s))
            self.calls.extend(calls)
            self.model = self.model or model
            self.currency = self.currency or currency

    @property
    def total(self) -> Usage:
        return sum_usage([d.usage for d in self.docs])

    def render(self, console) -> None:
        """Print the per-document lines and the run total (rich console)."""
        from rich.table import Table as RichTable  # deferred: only the command line renders

        t = RichTable(title=f"LLM usage ({self.model})" if self.model else "LLM usage")
        for col in ("document", "calls", "requests", "cache hits", "retries", "reasks", "failures",
                    "prompt tok", "completion tok", "latency s", "cost"):
            t.add_column(col, justify="left" if col == "document" else "right")

        def row(name: str, u: Usage, calls: int | str) -> tuple[str, ...]:
            cost = f"{u.cost:.4f}" + (f" {self.currency}" if self.currency else "")
            return (name, str(calls), str(u.requests), str(u.cache_hits), str(u.retries), str(u.reasks),
                    str(u.failures), str(u.prompt_tokens), str(u.completion_tokens),
                    f"{u.latency_s:.2f}", cost)

        for d in self.docs:
            t.add_row(*row(d.doc, d.usage, d.calls))
        if len(self.docs) != 1:
            t.add_row(*row("total", self.total, sum(d.calls for d in self.docs)), style="bold")
        console.print(t)
