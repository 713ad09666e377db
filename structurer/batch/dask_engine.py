"""The batch on a Dask cluster (`structurer batch --engine dask [--scheduler ADDRESS]`).

The process that runs `structurer batch` is the coordinator: it discovers the inputs, keeps
the manifest and writes every output. The cluster's workers only compute: a task holds a
document (its path on storage the workers share, or its bytes), and its result is the
document JSON plus the manifest row (small text dumps travel a few to a task, so that the
cluster's per-task cost is paid once for them; a PDF or DOCX is a task of its own). So:

- Exactly once. An output is written by the coordinator, atomically, when the first (and
  only) result of its document arrives, and recorded `done` in the same step as on one
  machine. A task that ran twice (a worker lost after finishing) is delivered once.
- A worker lost mid-document (crash, OOM kill, a machine gone) loses nothing: the scheduler
  runs the task again on another worker. A task that kills
  `distributed.scheduler.allowed-failures` + 1 workers in a row is split into its documents;
  a document whose own task does so twice is failed with one line (once could be bad luck:
  queued on a worker another document killed).
- The coordinator killed: the manifest says which documents were `running`; the rerun
  redoes exactly those (see runner.py). The tasks it had submitted are forgotten by the
  scheduler when its client disconnects.
- Flat memory: at most two tasks per worker thread are in flight (one running, one queued
  so that no worker waits for the coordinator), however large the corpus; returned
  documents are written by a few threads of the coordinator (each write ends with an
  fsync), at most a bounded number waiting.

Without `--scheduler` a LocalCluster of `--jobs` single-threaded worker processes is started
for the run (and stopped at its end); its workers fork from a server that has imported the
extraction code. Every worker tunes its garbage collector (and imports what it lacks) once,
before its first document (`warm`).

distributed is imported inside `run_dask`, not at the top: `import structurer` (and the
local engine) must not pay for it.
"""
from __future__ import annotations

import logging
import signal
import socket
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..ingest import TEXT_SUFFIXES, one_line
from .worker import WARM_MODULES, process, warm, write_result

_warmed = False


class EngineError(Exception):
    """The cluster cannot be used; str(error) is one line for the user."""


def structure(tasks: list[dict]) -> list[dict]:
    """The task a cluster worker runs: a few small documents or one large one, one result
    each (see worker.process), warm first."""
    global _warmed
    if not _warmed:
        warm()
        _warmed = True
    return [process(t) for t in tasks]


def dask_setup(worker) -> None:
    """Run by each worker of the local cluster as it starts (its `preload`): Ctrl-C reaches
    the whole process group, and the coordinator decides (a worker stopping on its own would
    print a traceback for each document it held)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _quiet(level: int = logging.CRITICAL):
    """distributed logs worker restarts and reconnects as warnings, and connections cut short
    by a stop (Ctrl-C) as errors with tracebacks: the batch reports what matters itself (a
    document retried is simply done; one failed is in the summary with its reason)."""
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
    old = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, old):
            lg.setLevel(lvl)


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Fail early, in one line, when a tcp:// scheduler address is malformed or nothing
    listens there (before any Client exists: a Client that failed to connect hangs the
    interpreter's exit). Other protocols (tls://, ucx://…) are left to the Client."""
    rest = address[len("tcp://"):] if address.startswith("tcp://") else address
    if "://" in rest:
        return
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"{address} is not a scheduler address (tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise EngineError(f"cannot reach the Dask scheduler at {address} ({exc.strerror or one_line(exc)})") from None


def _fork_server() -> str | None:
    """Start the server the local cluster's workers fork from, preloaded with distributed and
    the extraction code, so that it imports them while this process starts the scheduler
    (instead of each worker importing them after). None where there is no fork server."""
    import multiprocessing as mp
    from multiprocessing import forkserver

    if "forkserver" not in mp.get_all_start_methods():
        return None
    mp.get_context("forkserver").set_forkserver_preload(
        ["distributed.nanny", "distributed.worker", *WARM_MODULES, "structurer.batch.dask_engine"])
    forkserver.ensure_running()
    return "forkserver"


def _connect(scheduler: str | None, workers: int, connect_timeout: float):
    """(client, cluster or None)."""
    if scheduler is None:
        method = _fork_server()  # first: it works while distributed is imported here
        import dask
        from distributed import Client, LocalCluster

        # Workers do not sample their own stacks (the statistical profiler costs a few
        # percent of every document), and their event loop wakes up less often: each
        # wake-up takes the GIL from the document being structured.
        settings = {"distributed.worker.profile.enabled": False,
                    "distributed.worker.preload": ["structurer.batch.dask_engine"],  # dask_setup
                    "distributed.admin.tick.interval": "500ms",
                    "distributed.worker.memory.monitor-interval": "1s",
                    "distributed.admin.system-monitor.interval": "5s"}
        if method:
            settings["distributed.worker.multiprocessing-method"] = method
        with dask.config.set(settings):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.CRITICAL)
        return Client(cluster, set_as_default=False), cluster
    from distributed import Client

    check_scheduler(scheduler, connect_timeout)
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
    `on_result(tag, task, result)` with its result, once its document JSON is written to
    task["output"] (here, atomically), or `on_lost(tag, task, reason)`. `send_bytes`: ship each file's bytes
    instead of its path (workers without the input folder). `timeout`: a document running
    longer is failed and its result discarded, and the worker process holding it restarted
    (a thread cannot be stopped). Raises EngineError when the cluster cannot
    be reached; an exception (Ctrl-C included) cancels what is in flight."""
    with _quiet():
        client, cluster = _connect(scheduler, workers, connect_timeout)
        inflight: dict = {}  # future → ([(tag, task)], submitted at)
        try:
            _loop(client, tasks, inflight, on_result, on_lost, on_start, tick, timeout, send_bytes)
        finally:
            if inflight:
                client.cancel(list(inflight), force=True)
            client.close()
            if cluster is not None:
                cluster.close()


WRITERS = 4  # threads writing outputs on the coordinator
ALONE_TRIES = 2  # tasks of one document whose workers die before it is failed


def _holders(client, key) -> list[str]:
    """The workers processing `key` (asked before the key is cancelled and forgotten)."""
    try:
        return [w for w, keys in client.processing().items() if key in keys]
    except (OSError, TimeoutError):
        return []


def _restart(client, workers: list[str]) -> None:
    """A document past its timeout: the thread running it cannot be stopped, so the worker
    process holding it is restarted through its nanny and its core takes new documents
    (what else it held runs again elsewhere). A worker without a nanny, or one that does not
    come back in time, is left to finish the document in the background."""
    try:
        client.restart_workers(workers, timeout=60, raise_for_error=False)
    except (OSError, TimeoutError, ValueError):
        pass


CHUNK_BYTES = 256 * 1024  # small documents travel together up to this many input bytes…
CHUNK_MAX = 8  # …and this many documents: the per-task cost of the cluster is paid once for them


def _chunks(tasks: Iterator[tuple[object, dict]], alone: bool) -> Iterator[list[tuple[object, dict]]]:
    """Consecutive text dumps grouped while small (one of 50 kB takes ~40 ms, of the order of
    a cluster task's own cost); a PDF or DOCX (seconds) goes alone. `alone`: every document
    on its own (a per-document timeout needs it)."""
    group: list[tuple[object, dict]] = []
    size = 0
    for tag, task in tasks:
        n = task.get("size") or 0
        small = not alone and Path(task["rel"]).suffix.lower() in TEXT_SUFFIXES and n <= CHUNK_BYTES
        if group and (not small or size + n > CHUNK_BYTES or len(group) >= CHUNK_MAX):
            yield group
            group, size = [], 0
        if not small:
            yield [(tag, task)]
            continue
        group.append((tag, task))
        size += n
    if group:
        yield group


def _loop(client, tasks, inflight, on_result, on_lost, on_start, tick, timeout, send_bytes) -> None:
    from distributed import KilledWorker, wait

    chunks = _chunks(tasks, timeout is not None)
    writing: dict = {}  # write future → (tag, task, result)
    retry: list[list[tuple[object, dict]]] = []  # documents of a chunk that killed its workers, one by one
    killed: dict[str, int] = {}  # document → times it was alone in a task whose workers died
    with client.as_current(), ThreadPoolExecutor(WRITERS, thread_name_prefix="write") as writer:
        # wait() finds the client of this run, not a process-wide default; outputs are
        # written by a few threads (each write ends with an fsync: one at a time, they would
        # hold up a coordinator feeding many workers)
        threads, checked = 0, 0.0
        exhausted = False
        while True:
            now = time.monotonic()
            if now - checked > 1.0:  # workers come and go: size the queue to the cluster
                threads = max(1, sum(client.nthreads().values()))
                checked = now
            depth = threads if timeout is not None else 2 * threads
            # (a slow disk holds back new tasks rather than piling up documents to write)
            while len(inflight) < depth and len(writing) < 4 * depth and (retry or not exhausted):
                again = bool(retry)
                group = retry.pop() if again else next(chunks, None)
                if group is None:
                    exhausted = True
                    break
                kept, payload = [], []
                for tag, task in group:
                    if on_start is not None and not again:
                        on_start(tag, task)
                    one = dict(task, write=False)
                    if send_bytes:
                        try:
                            one["data"] = Path(task["path"]).read_bytes()
                        except OSError as exc:
                            on_lost(tag, task, f"cannot read {task['path']}: {exc.strerror or exc}")
                            continue
                    kept.append((tag, task))
                    payload.append(one)
                if not kept:
                    continue
                first = kept[0][1]["rel"] + (f" +{len(kept) - 1}" if len(kept) > 1 else "")
                fut = client.submit(structure, payload, pure=False,  # the key names the documents
                                    key=f"structure {first} {uuid.uuid4().hex[:12]}")
                inflight[fut] = (kept, time.monotonic())
            if not inflight and not writing:
                break
            try:
                done, _ = (wait(list(inflight), timeout=0.02 if writing else 0.25, return_when="FIRST_COMPLETED")
                           if inflight else (set(), None))
            except TimeoutError:
                done = set()
            if not inflight:
                futures_wait(list(writing), timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                group, _ = inflight.pop(fut)
                if fut.status == "finished":
                    results = fut.result()
                    fut.release()
                    for (tag, task), result in zip(group, results):
                        if "document" in result:  # written beside the loop; recorded when in place
                            writing[writer.submit(write_result, task, result)] = (tag, task, result)
                        else:
                            on_result(tag, task, result)
                    continue
                exc = fut.exception()
                fut.release()
                if isinstance(exc, KilledWorker) and len(group) > 1:
                    retry.extend([item] for item in group)  # find the one document that kills workers
                    continue
                if isinstance(exc, KilledWorker) and killed.get(group[0][1]["rel"], 0) < ALONE_TRIES - 1:
                    # a task queued on a worker that another document killed dies with it: a
                    # document is failed only once it has died alone more than once
                    killed[group[0][1]["rel"]] = killed.get(group[0][1]["rel"], 0) + 1
                    retry.append(group)
                    continue
                for tag, task in group:
                    on_lost(tag, task, _lost_reason(exc))
            if timeout is not None:
                now = time.monotonic()
                for fut, (group, since) in list(inflight.items()):
                    if now - since > timeout:
                        del inflight[fut]
                        holders = _holders(client, fut.key)
                        fut.cancel()
                        if holders:  # (restarting takes seconds: not on the loop's thread)
                            writer.submit(_restart, client, holders)
                        for tag, task in group:
                            on_lost(tag, task, f"timed out after {timeout:g} s (result discarded)")
            for w in [w for w in writing if w.done()]:
                tag, task, result = writing.pop(w)
                w.result()  # write_result never raises
                on_result(tag, task, result)
            if tick is not None:
                tick()
