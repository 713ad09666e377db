"""A pool of worker processes that each hold one task at a time.

Workers are plain processes started from a fork server (preloaded with the extraction
code). A worker that dies (crash, OOM kill) or exceeds `timeout` loses only the task it
held: the caller hears of it through `on_lost`, the worker is replaced and the pool goes
on. Workers are replaced after `recycle_after` tasks so no slow leak can grow without
bound. At most one task per worker is in flight, so the caller's memory stays flat however
many tasks the iterator yields.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait

from .worker import WARM_MODULES, worker_main


def _context():
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([*WARM_MODULES, "structurer.batch.worker"])
        return ctx
    return mp.get_context("spawn")


class _Slot:
    """One worker process and the task it holds."""

    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()  # the worker's end lives in the worker only: its death closes the pipe
        self.tag: object = None
        self.task: dict | None = None
        self.since = 0.0
        self.served = 0

    def send(self, tag: object, task: dict) -> None:
        self.tag, self.task, self.since = tag, task, time.monotonic()
        self.conn.send(task)

    def stop(self, grace: float = 2.0) -> None:
        try:
            if self.task is None:
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
    """Send each (tag, task) to a free worker; call `on_result(tag, task, result)` with its
    answer, or `on_lost(tag, task, reason)` when its worker died or ran over `timeout`.
    Returns when the iterator is exhausted and every answer is in; an exception (Ctrl-C
    included) stops all workers on its way out."""
    ctx = _context()
    slots: list[_Slot] = []
    try:
        slots = [_Slot(ctx) for _ in range(max(1, size))]
        exhausted = False
        while True:
            for i, slot in enumerate(slots):  # keep every worker busy
                if slot.task is None and not exhausted:
                    step = next(tasks, None)
                    if step is None:
                        exhausted = True
                        break
                    tag, task = step
                    if slot.served >= recycle_after:
                        slot.stop()
                        slot = slots[i] = _Slot(ctx)
                    if on_start is not None:
                        on_start(tag, task)
                    try:
                        slot.send(tag, task)
                    except OSError:  # the idle worker is gone: not the task's fault
                        slot.kill()
                        slot = slots[i] = _Slot(ctx)
                        slot.send(tag, task)
            busy = [s for s in slots if s.task is not None]
            if not busy:
                break
            pause = 0.25
            if timeout is not None:  # wake up at the first deadline
                now = time.monotonic()
                pause = max(0.0, min(pause, min(s.since + timeout - now for s in busy)))
            ready = set(wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=pause))
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot.task is None:
                    continue
                result = None
                if slot.conn in ready or slot.proc.sentinel in ready:
                    try:
                        if slot.conn.poll():
                            result = slot.conn.recv()
                    except (EOFError, OSError):
                        result = None
                    if result is None:
                        on_lost(slot.tag, slot.task, death(slot))
                        slot.kill()
                        slots[i] = _Slot(ctx)
                        continue
                elif timeout is not None and now - slot.since > timeout:
                    on_lost(slot.tag, slot.task, f"timed out after {timeout:g} s (worker stopped)")
                    slot.kill()
                    slots[i] = _Slot(ctx)
                    continue
                else:
                    continue
                tag, task = slot.tag, slot.task
                slot.tag, slot.task = None, None
                slot.served += 1
                on_result(tag, task, result)
            if tick is not None:
                tick()
    finally:
        for slot in slots:
            slot.stop()
