"""A pool of worker processes, each working through a short queue of tasks.

Workers are plain processes started from a fork server (preloaded with the extraction
code). Each worker holds up to `DEPTH` tasks: the one it is working on and the next, already
in its pipe, so that it never waits for the caller between two documents (on a busy
machine the caller may not get a core for a while). A worker that dies (crash, OOM kill) or
exceeds `timeout` loses only the task it was working on: the caller hears of it through
`on_lost`, its queued task goes to another worker, the worker is replaced and the pool goes
on. Workers are replaced after `recycle_after` tasks so no slow leak can grow without
bound. At most `DEPTH` tasks per worker are in flight, so the caller's memory stays flat
however many tasks the iterator yields.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait

from .worker import WARM_MODULES, worker_main

DEPTH = 2  # tasks in flight per worker: the current one and the next


def _context():
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([*WARM_MODULES, "structurer.batch.worker"])
        return ctx
    return mp.get_context("spawn")


class _Slot:
    """One worker process and the tasks it holds, in the order it works through them."""

    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()  # the worker's end lives in the worker only: its death closes the pipe
        self.held: deque[tuple[object, dict]] = deque()  # the first is being worked on
        self.since = 0.0  # when the first started
        self.served = 0

    def send(self, tag: object, task: dict) -> None:
        self.conn.send(task)
        self.held.append((tag, task))
        if len(self.held) == 1:
            self.since = time.monotonic()

    def done(self) -> tuple[object, dict]:
        """The first task answered: the next one starts now."""
        tag, task = self.held.popleft()
        self.served += 1
        self.since = time.monotonic()
        return tag, task

    def stop(self, grace: float = 2.0) -> None:
        try:
            if not self.held:
                self.conn.send(None)
            else:
                self.proc.kill()
        except OSError:
            pass
        self.proc.join(grace)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def death(slot: _Slot) -> str:
    slot.proc.join(2)  # its pipe closed first; let the process be reaped for its exit status
    code = slot.proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
    else:
        how = f"exit code {code}" if code is not None else "no exit status"
    return f"worker process died while processing this document ({how})"


def run_pool(tasks: Iterator[tuple[object, dict]], size: int, *,
             on_result: Callable[[object, dict, dict], None],
             on_lost: Callable[[object, dict, str], None],
             on_start: Callable[[object, dict], None] | None = None,
             tick: Callable[[], None] | None = None,
             timeout: float | None = None, recycle_after: int = 1000) -> None:
    """Send each (tag, task) to a worker; call `on_result(tag, task, result)` with its
    answer, or `on_lost(tag, task, reason)` when its worker died or ran over `timeout` while
    working on it. `on_start` is called once per task, when it is first sent. Returns when
    the iterator is exhausted and every answer is in; an exception (Ctrl-C included) stops
    all workers on its way out."""
    ctx = _context()
    slots: list[_Slot] = []
    again: deque[tuple[object, dict]] = deque()  # queued behind a task whose worker died: resend

    def take() -> tuple[object, dict] | None:
        if again:
            return again.popleft()
        step = next(tasks, None)
        if step is not None and on_start is not None:
            on_start(*step)
        return step

    def replace(i: int) -> None:
        slot = slots[i]
        slot.kill()
        again.extend(slot.held)
        slots[i] = _Slot(ctx)

    try:
        slots = [_Slot(ctx) for _ in range(max(1, size))]
        exhausted = False
        while True:
            for i in range(len(slots)):  # keep every worker's queue full
                while not exhausted or again:
                    slot = slots[i]
                    if slot.served >= recycle_after and not slot.held:
                        slot.stop()
                        slot = slots[i] = _Slot(ctx)
                    if len(slot.held) >= DEPTH or slot.served + len(slot.held) >= recycle_after:
                        break
                    step = take()
                    if step is None:
                        exhausted = True
                        break
                    try:
                        slot.send(*step)
                    except OSError:  # the worker is gone: not this task's fault
                        again.appendleft(step)
                        if slot.held:  # but the one it was working on is lost with it
                            tag, task = slot.held.popleft()
                            on_lost(tag, task, death(slot))
                        replace(i)
            busy = [s for s in slots if s.held]
            if not busy:
                break
            pause = 0.25
            if timeout is not None:  # wake up at the first deadline
                now = time.monotonic()
                pause = max(0.0, min(pause, min(s.since + timeout - now for s in busy)))
            ready = set(wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=pause))
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if not slot.held:
                    continue
                if slot.conn in ready or slot.proc.sentinel in ready:
                    answered = False
                    try:
                        while slot.held and slot.conn.poll():  # every answer already sent
                            result = slot.conn.recv()
                            tag, task = slot.done()
                            on_result(tag, task, result)
                            answered = True
                    except (EOFError, OSError):
                        answered = False
                    if slot.held and not answered and not slot.proc.is_alive():
                        tag, task = slot.held.popleft()
                        on_lost(tag, task, death(slot))
                        replace(i)
                elif timeout is not None and now - slot.since > timeout:
                    tag, task = slot.held.popleft()
                    on_lost(tag, task, f"timed out after {timeout:g} s (worker stopped)")
                    replace(i)
            if tick is not None:
                tick()
    finally:
        for slot in slots:
            slot.stop()
