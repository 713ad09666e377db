"""The batch on a Dask cluster (`structurer batch --engine dask [--scheduler ADDRESS]`).

The process that runs `structurer batch` is the coordinator: it discovers the inputs, keeps
the manifest and writes every output. The cluster's workers only compute: each task is one
document (its path on storage the workers share, or its bytes), and its result is the
document JSON plus the manifest row. So:

- Exactly once. An output is written by the coordinator, atomically, when the first (and
  only) result of its document arrives, and recorded `done` in the same step as on one
  machine. A task that ran twice (a worker lost after finishing) is delivered once.
- A worker lost mid-document (crash, OOM kill, a machine gone) loses nothing: the scheduler
  runs the document again on another worker. A document that kills
  `distributed.scheduler.allowed-failures` + 1 workers in a row is failed with one line.
- The coordinator killed: the manifest says which documents were `running`; the rerun
  redoes exactly those (see runner.py). The tasks it had submitted are forgotten by the
  scheduler when its client disconnects.
- Flat memory: at most two tasks per worker thread are in flight (one running, one queued
  so that no worker waits for the coordinator), however large the corpus.

Without `--scheduler` a LocalCluster of `--jobs` single-threaded worker processes is started
for the run (and stopped at its end). Workers import the extraction code and tune their
garbage collector once, before their first document (`warm`).

distributed is imported inside `run_dask`, not at the top: `import structurer` (and the
local engine) must not pay for it.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..ingest import one_line
from .worker import WARM_MODULES, process, warm

_warmed = False


class EngineError(Exception):
    """The cluster cannot be used; str(error) is one line for the user."""


def structure(task: dict) -> dict:
    """The task a cluster worker runs: one document (see worker.process), warm first."""
    global _warmed
    if not _warmed:
        warm()
        _warmed = True
    return process(task)


def warm_worker() -> int:
    """Run once on every worker at the start: imports and GC tuning before the first task."""
    global _warmed
    if not _warmed:
        warm()
        _warmed = True
    return 1


@contextmanager
def _quiet(level: int = logging.ERROR):
    """distributed logs worker restarts and reconnects as warnings: the batch reports what
    matters itself (a document retried is simply done; one failed is in the summary)."""
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
    old = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, old):
            lg.setLevel(lvl)


def _connect(scheduler: str | None, workers: int, connect_timeout: float):
    """(client, cluster or None)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        import multiprocessing as mp

        import dask

        # Workers fork from a server that has imported distributed and the extraction code
        # once, instead of each importing them; and they do not sample their own stacks
        # (the statistical profiler costs a few percent of every document).
        settings = {"distributed.worker.profile.enabled": False}
        if "forkserver" in mp.get_all_start_methods():
            mp.get_context("forkserver").set_forkserver_preload(
                ["distributed.nanny", "distributed.worker", *WARM_MODULES, "structurer.batch.dask_engine"])
            settings["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(settings):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.ERROR)
        return Client(cluster, set_as_default=False), cluster
    try:
        client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EngineError(f"cannot reach the Dask scheduler at {scheduler} ({one_line(exc)})") from None
    try:
        client.wait_for_workers(1, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise EngineError(f"no worker joined the Dask scheduler at {scheduler} within "
                          f"{connect_timeout:g} s ({one_line(exc) or 'timed out'})") from None
    return client, None


def _lost_reason(exc: BaseException | None) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return ("worker process died while processing this document, on every worker that "
                "tried it (out of memory?)")
    return f"internal error ({type(exc).__name__}): {one_line(exc) if exc else 'no result'}"


def run_dask(tasks: Iterator[tuple[object, dict]], *, scheduler: str | None, workers: int,
             on_result: Callable[[object, dict, dict], None],
             on_lost: Callable[[object, dict, str], None],
             on_start: Callable[[object, dict], None] | None = None,
             tick: Callable[[], None] | None = None,
             timeout: float | None = None, send_bytes: bool = False,
             connect_timeout: float = 20.0) -> None:
    """Run each (tag, task) on the cluster; the same contract as pool.run_pool: call
    `on_result(tag, task, result)` with its result (the JSON in result["document"], for the
    caller to write) or `on_lost(tag, task, reason)`. `send_bytes`: ship each file's bytes
    instead of its path (workers without the input folder). `timeout`: a document running
    longer is failed and its result discarded (a worker thread cannot be stopped; it
    finishes the document in the background). Raises EngineError when the cluster cannot
    be reached; an exception (Ctrl-C included) cancels what is in flight."""
    with _quiet():
        client, cluster = _connect(scheduler, workers, connect_timeout)
        inflight: dict = {}  # future → (tag, task, submitted at)
        try:
            _loop(client, tasks, inflight, on_result, on_lost, on_start, tick, timeout, send_bytes)
        finally:
            if inflight:
                client.cancel(list(inflight), force=True)
            client.close()
            if cluster is not None:
                cluster.close()


def _loop(client, tasks, inflight, on_result, on_lost, on_start, tick, timeout, send_bytes) -> None:
    from distributed import wait

    with client.as_current():  # wait() finds the client of this run, not a process-wide default
        client.run(warm_worker)
        threads, checked = 0, 0.0
        exhausted = False
        while True:
            now = time.monotonic()
            if now - checked > 1.0:  # workers come and go: size the queue to the cluster
                threads = max(1, sum(client.nthreads().values()))
                checked = now
            depth = threads if timeout is not None else 2 * threads
            while not exhausted and len(inflight) < depth:
                step = next(tasks, None)
                if step is None:
                    exhausted = True
                    break
                tag, task = step
                if on_start is not None:
                    on_start(tag, task)
                payload = dict(task, write=False)
                if send_bytes:
                    try:
                        payload["data"] = Path(task["path"]).read_bytes()
                    except OSError as exc:
                        on_lost(tag, task, f"cannot read {task['path']}: {exc.strerror or exc}")
                        continue
                fut = client.submit(structure, payload, pure=False,  # the key names the document
                                    key=f"structure {task['rel']} {uuid.uuid4().hex[:12]}")
                inflight[fut] = (tag, task, time.monotonic())
            if not inflight:
                break
            try:
                done, _ = wait(list(inflight), timeout=0.25, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for fut in done:
                tag, task, _ = inflight.pop(fut)
                if fut.status == "finished":
                    result = fut.result()
                    fut.release()
                    on_result(tag, task, result)
                else:
                    reason = _lost_reason(fut.exception())
                    fut.release()
                    on_lost(tag, task, reason)
            if timeout is not None:
                now = time.monotonic()
                for fut, (tag, task, since) in list(inflight.items()):
                    if now - since > timeout:
                        del inflight[fut]
                        fut.cancel()
                        on_lost(tag, task, f"timed out after {timeout:g} s (result discarded)")
            if tick is not None:
                tick()
