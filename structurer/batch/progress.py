"""Progress of a batch: counters, documents/s, pages/s (PDFs), ETA, failures and (for LLM
backends) tokens and cost.

On a terminal a rich progress bar; otherwise (logs, CI, pipes) one plain line every few
seconds, so an unattended run leaves a readable trace.
"""
from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Stats:
    """Counters of one run. `processed` = done + failed (the work that costs time)."""

    def __init__(self) -> None:
        self.total = 0
        self.done = self.failed = self.skipped = self.unchanged = 0
        self.pages = 0  # PDF pages of the documents processed
        self.prompt_tokens = self.completion_tokens = 0
        self.cost = Decimal(0)
        self.has_usage = False
        self.t0 = time.monotonic()

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped + self.unchanged

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def rate(self) -> float:
        e = self.elapsed()
        return self.processed / e if e > 0 else 0.0

    def eta(self) -> float | None:
        r = self.rate()
        left = self.total - self.finished
        return left / r if r > 0 and left > 0 else (0.0 if left <= 0 else None)

    def add(self, outcome: str, result: dict | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if result and result.get("pages"):
            self.pages += result["pages"]
        if result and result.get("prompt_tokens") is not None:
            self.has_usage = True
            self.prompt_tokens += result.get("prompt_tokens") or 0
            self.completion_tokens += result.get("completion_tokens") or 0
            self.cost += Decimal(result.get("cost") or 0)

    def counts(self) -> dict[str, int]:
        return {"found": self.total, "done": self.done, "failed": self.failed,
                "skipped": self.skipped, "unchanged": self.unchanged}

    def line(self) -> str:
        eta = self.eta()
        parts = [f"{self.finished}/{self.total}", f"{self.done} done", f"{self.failed} failed"]
        if self.skipped or self.unchanged:
            parts.append(f"{self.skipped + self.unchanged} already done")
        parts.append(self.speed())
        parts.append("ETA " + (_duration(eta) if eta is not None else "—"))
        if self.has_usage:
            parts.append(f"{self.prompt_tokens + self.completion_tokens:,} tokens "
                         f"(in {self.prompt_tokens:,} / out {self.completion_tokens:,})")
            parts.append(f"cost {self.cost:.4f}")
        return " · ".join(parts)

    def speed(self) -> str:
        """"12 docs/s", and the PDF pages rate when there are pages: "0.42 docs/s, 9.8 pages/s"."""
        e = self.elapsed()
        text = rate_text(self.processed, e, "docs")
        return text + (", " + rate_text(self.pages, e, "pages") if self.pages else "")


def rate_text(n: float, seconds: float, what: str) -> str:
    """A rate with the digits it needs: a PDF batch's 0.04 docs/s is not shown as 0.0."""
    if n <= 0 or seconds <= 0:
        return f"— {what}/s"
    r = n / seconds
    if r >= 100:
        return f"{r:.0f} {what}/s"
    if r >= 1:
        return f"{r:.1f} {what}/s"
    return f"{r:.2g} {what}/s"


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Reporter:
    """Base reporter: keeps the counters, shows nothing."""

    def __init__(self) -> None:
        self.stats = Stats()

    def start(self, total: int) -> None:
        self.stats.total = total
        self.stats.t0 = time.monotonic()

    def update(self, outcome: str, result: dict | None = None) -> None:
        self.stats.add(outcome, result)

    def tick(self) -> None:
        """Called by the runner's loop a few times a second."""

    def note(self, message: str) -> None:
        """A line about the run itself (provider batches submitted, polled, collected)."""

    def stop(self) -> None:
        pass


class RichReporter(Reporter):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.progress = Progress(SpinnerColumn(), TextColumn("[bold]batch"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                                 TimeElapsedColumn(), console=console, refresh_per_second=4,
                                 transient=False)
        self.task = None

    def start(self, total: int) -> None:
        super().start(total)
        self.task = self.progress.add_task("batch", total=total, info="")
        self.progress.start()

    def _info(self) -> str:
        s = self.stats
        eta = s.eta()
        info = (f"[green]{s.done} done[/green] [red]{s.failed} failed[/red] "
                f"[dim]{s.skipped + s.unchanged} already done[/dim] · {s.speed()} · "
                f"ETA {_duration(eta) if eta is not None else '—'}")
        if s.has_usage:
            info += f" · {s.prompt_tokens + s.completion_tokens:,} tokens · cost {s.cost:.4f}"
        return info

    def update(self, outcome: str, result: dict | None = None) -> None:
        super().update(outcome, result)
        self.progress.update(self.task, completed=self.stats.finished, info=self._info())

    def tick(self) -> None:
        self.progress.update(self.task, info=self._info())

    def note(self, message: str) -> None:
        self.progress.console.print(message, markup=False, highlight=False)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.stats.finished, info=self._info())
        self.progress.stop()


class LineReporter(Reporter):
    """One line every `interval` seconds (and one at the end) on `stream`."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0

    def start(self, total: int) -> None:
        super().start(total)
        self._last = time.monotonic()
        print(f"batch: {total} documents found", file=self.stream, flush=True)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            print(f"batch: {self.stats.line()}", file=self.stream, flush=True)

    def update(self, outcome: str, result: dict | None = None) -> None:
        super().update(outcome, result)
        self.tick()

    def note(self, message: str) -> None:
        print(f"batch: {message}", file=self.stream, flush=True)

    def stop(self) -> None:
        print(f"batch: {self.stats.line()}", file=self.stream, flush=True)


def reporter_for(console: Console, interval: float = 10.0) -> Reporter:
    return RichReporter(console) if console.is_terminal else LineReporter(console.file, interval)
