"""Run a batch: discover inputs, decide what is already done, process the rest in worker
processes, and record every outcome in the manifest as it arrives.

Design, for unattended runs over tens of thousands of files:
- Streaming: inputs are discovered lazily and at most one task per worker is in flight, so
  the parent's memory is flat in corpus size; results are committed one by one.
- Workers are plain processes started from a fork server (preloaded with the extraction
  code), one task at a time each. A worker that dies (crash, OOM kill) or exceeds
  `timeout` fails only the document it held; it is replaced and the batch goes on. Workers
  are replaced after `recycle_after` documents so no slow leak can grow without bound.
- Kill safety: a document is `running` in the manifest while a worker holds it and `done`
  only after its JSON has been renamed into place, so a batch killed at any instant
  (SIGKILL included) leaves no partial file and no false `done`; the next run redoes exactly
  the documents that were not finished. Workers notice a dead runner (their pipe closes)
  and exit.
- Engines: `local` runs the pool above; `dask` sends the same tasks to a Dask cluster
  (dask_engine.py) and writes each returned document here, so the manifest, the skip rule
  and the kill safety below are the same for both (on a cluster a write cut short by a kill
  leaves a hidden temporary, removed by the rerun).
- Skip rule: a `done` document is skipped when it was made by the same backend with the
  prompt versions that are current now (see PromptVersions), its JSON is there, and its file is unchanged: same size and mtime, or else
  the same SHA-256 (re-hashed by a worker; a touched but identical file is not redone).
  Failed documents are retried; `--force` redoes everything.
"""
from __future__ import annotations

import heapq
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .discovery import Input, count_inputs, iter_inputs, normalize_suffixes
from .manifest import FILENAME, Manifest, ManifestError, connect, failures
from .progress import Reporter
from .pool import run_pool
from .provider import ProviderOptions, ProviderSummary

DOCS_DIR = "docs"


class BatchError(Exception):
    """The batch cannot start; str(error) is one line for the user."""


@dataclass
class BatchOptions:
    input_dir: Path
    out_dir: Path
    backend: str = "rules"
    jobs: int | None = None  # worker processes; default: CPUs available to this process
    force: bool = False  # redo documents that are already done
    timeout: float | None = None  # seconds one document may take before its worker is stopped
    suffixes: tuple[str, ...] | None = None  # file types to take (default: every supported one)
    recycle_after: int = 1000  # documents per worker before it is replaced
    llm_options: dict = field(default_factory=dict)
    provider: "ProviderOptions | None" = None  # LLM chunks through the provider's batch API first
    engine: str = "local"  # local: this machine's process pool; dask: a Dask cluster (dask_engine.py)
    scheduler: str | None = None  # dask: address of a running scheduler (default: a LocalCluster of `jobs`)
    send_bytes: bool = False  # dask: ship each file's bytes (workers without the input folder)
    ocr: str = "auto"  # which pages are read by OCR: auto | always | never


ENGINES = ("local", "dask")


@dataclass
class BatchResult:
    run_id: int
    manifest: Path
    counts: dict[str, int]
    elapsed: float
    completed: bool  # False when interrupted
    gone: int = 0  # manifest documents no longer found in the input
    notes: list[str] = field(default_factory=list)  # one-line warnings (unreadable folders…)
    provider: "ProviderSummary | None" = None  # what the provider batch steps did (--batch-api)
    pages: int = 0  # PDF pages of the documents processed

    @property
    def pending(self) -> list[tuple[str, str]]:
        """(batch id, status) of provider batches still running (the run stopped to wait)."""
        return self.provider.pending if self.provider is not None else []

    def failures(self) -> Iterator[tuple[str, str]]:
        """(path relative to the input folder, one-line reason) of this run's failures."""
        conn = connect(self.manifest, readonly=True)
        try:
            yield from failures(conn, self.run_id)
        finally:
            conn.close()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class PromptVersions:
    """Whether a document's recorded prompt versions are still the current ones.

    A document records `{prompt name: version+hash}` for the prompts it used (none for the
    rules backend, so rules documents are always current). For LLM documents each recorded
    prompt is loaded again (from the prompts folder of the LLM settings) and its tag
    compared; a prompt that cannot be loaded counts as changed, so the document is redone
    (through the LLM cache) rather than wrongly kept."""

    def __init__(self, llm_options: dict | None = None):
        self.llm_options = llm_options or {}
        self._tags: dict[str, str | None] = {}
        self._folder: str | None | bool = False  # False: not looked up yet

    def current(self, recorded_json: str | None) -> bool:
        try:
            recorded = json.loads(recorded_json or "{}")
        except ValueError:
            return False
        return all(self._tag(name) == tag for name, tag in recorded.items())

    def _tag(self, name: str) -> str | None:
        if name not in self._tags:
            try:
                from ..llm.prompts import load_prompt

                self._tags[name] = load_prompt(name, self._prompts_dir()).tag
            except Exception:  # no such prompt (any more), or the LLM package unavailable
                self._tags[name] = None
        return self._tags[name]

    def _prompts_dir(self) -> str | None:
        if self._folder is False:
            try:
                from ..llm.backend import settings_from

                self._folder = settings_from(self.llm_options).prompts_dir
            except Exception:  # no LLM configuration: the packaged prompts
                self._folder = None
        return self._folder


LOOKAHEAD = 256  # inputs looked ahead to start the largest first


def largest_first(items: Iterator[tuple[Input, dict]], window: int) -> Iterator[tuple[str, dict]]:
    """(rel, task) with, among the next `window` inputs, the largest file first: big documents
    (a 300-page PDF) start early instead of running alone at the end while the other workers
    idle. Memory stays bounded by the window."""
    heap: list[tuple[int, int, str, dict]] = []
    n = 0
    for inp, task in items:
        heapq.heappush(heap, (-inp.size, n, inp.rel, task))
        n += 1
        if len(heap) >= window:
            _, _, rel, task = heapq.heappop(heap)
            yield rel, task
    while heap:
        _, _, rel, task = heapq.heappop(heap)
        yield rel, task


def output_path(out_dir: Path, rel: str) -> Path:
    return out_dir / DOCS_DIR / (rel + ".json")


# ---------------------------------------------------------------------------- the run


class _Stop(Exception):
    pass


def _plan(opts: BatchOptions, in_dir: Path, out_dir: Path, manifest: Manifest, run_id: int,
          prompts: PromptVersions, notes: list[str]) -> Iterator[tuple[str, Input, dict | None]]:
    """("skip", input, None) for finished unchanged documents, else ("task", input, task)."""
    for inp in iter_inputs(in_dir, opts.suffixes, exclude=[out_dir], on_error=notes.append):
        out = output_path(out_dir, inp.rel)
        entry = None if opts.force else manifest.get(inp.rel)
        known = None
        if (entry is not None and entry.status == "done" and entry.backend == opts.backend
                and prompts.current(entry.prompt_versions)
                and entry.output is not None and out.exists()):
            if entry.size == inp.size and entry.mtime_ns == inp.mtime_ns:
                manifest.mark_seen(inp.rel, run_id)
                yield "skip", inp, None
                continue
            known = entry.sha256
        yield "task", inp, {"rel": inp.rel, "path": str(inp.path), "output": str(out),
                            "backend": opts.backend, "known_sha256": known,
                            "llm_options": opts.llm_options, "size": inp.size, "mtime_ns": inp.mtime_ns,
                            "ocr": opts.ocr}


def _sweep_temporaries(folder: Path) -> None:
    """Remove temporary files a killed worker may have left (never a finished JSON)."""
    if not folder.is_dir():
        return
    for dirpath, _, files in os.walk(folder):
        for f in files:
            if f.startswith(".") and f.endswith(".tmp"):
                try:
                    os.unlink(os.path.join(dirpath, f))
                except OSError:
                    pass


def _lock(out_dir: Path):
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return None
    f = open(out_dir / ".batch.lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise BatchError(f"another batch is running on {out_dir}")
    return f


def run_batch(opts: BatchOptions, reporter: Reporter | None = None) -> BatchResult:
    reporter = reporter or Reporter()
    in_dir = Path(opts.input_dir).resolve()
    out_dir = Path(opts.out_dir).resolve()
    if not in_dir.exists():
        raise BatchError(f"{opts.input_dir}: no such folder")
    if not in_dir.is_dir():
        raise BatchError(f"{opts.input_dir}: not a folder")
    if out_dir == in_dir:
        raise BatchError("the output folder must not be the input folder")
    try:
        opts.suffixes = normalize_suffixes(opts.suffixes)
    except ValueError as exc:
        raise BatchError(str(exc)) from exc
    from ..pipeline import BACKENDS  # the coordinator itself never loads the pipeline otherwise

    if opts.backend not in BACKENDS:
        raise BatchError(f"unknown backend {opts.backend!r} (choose from {', '.join(BACKENDS)})")
    jobs = default_jobs() if opts.jobs is None else opts.jobs
    if jobs < 1:
        raise BatchError("--jobs must be at least 1")
    if opts.engine not in ENGINES:
        raise BatchError(f"unknown engine {opts.engine!r} (choose from {', '.join(ENGINES)})")
    if opts.engine != "dask" and (opts.scheduler or opts.send_bytes):
        raise BatchError("--scheduler and --send-bytes need --engine dask")
    if opts.scheduler:
        from .dask_engine import EngineError, check_scheduler

        try:
            check_scheduler(opts.scheduler)
        except EngineError as exc:
            raise BatchError(str(exc)) from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create {opts.out_dir}: {exc.strerror or exc}") from exc
    lock = _lock(out_dir)
    try:
        try:
            manifest = Manifest(out_dir / FILENAME)
        except (ManifestError, OSError) as exc:
            raise BatchError(str(exc)) from exc
        try:
            return _run(opts, in_dir, out_dir, jobs, manifest, reporter)
        finally:
            manifest.close()
    finally:
        if lock is not None:
            lock.close()


def _run(opts: BatchOptions, in_dir: Path, out_dir: Path, jobs: int, manifest: Manifest,
         reporter: Reporter) -> BatchResult:
    notes: list[str] = []
    previous = manifest.get_meta("input_dir")
    if previous is not None and previous != str(in_dir):
        notes.append(f"this output folder was last filled from {previous}; documents are matched "
                     f"by their path relative to the input folder")
    manifest.set_meta("input_dir", str(in_dir))
    _sweep_temporaries(out_dir / DOCS_DIR)
    total = count_inputs(in_dir, opts.suffixes, exclude=[out_dir])
    run_id = manifest.start_run(str(in_dir), opts.backend, jobs)
    unreadable: list[str] = []
    plan = _plan(opts, in_dir, out_dir, manifest, run_id, PromptVersions(opts.llm_options), unreadable)
    stats = reporter.stats
    t0 = time.monotonic()

    def on_term(signum, frame):  # SIGTERM: stop like Ctrl-C (finished work stays recorded)
        raise _Stop()

    old_term = None
    if hasattr(signal, "SIGTERM") and _main_thread():
        old_term = signal.signal(signal.SIGTERM, on_term)

    def todo():
        for kind, inp, task in plan:
            if kind == "skip":
                reporter.update("skipped")
                continue
            yield inp, task

    def tasks():
        yield from largest_first(todo(), LOOKAHEAD)

    def on_start(rel, task):
        manifest.mark_running(rel, run_id, opts.backend, attempt=task["known_sha256"] is None)

    def on_result(rel, task, result):
        _record(manifest, opts, out_dir, task, result, reporter)

    def on_lost(rel, task, reason):
        _record_failure(manifest, opts, out_dir, task, reason, reporter)

    completed = False
    provider = None
    if opts.provider is not None:
        try:
            provider = _provider_steps(opts, in_dir, out_dir, jobs, manifest, run_id, reporter)
        except BaseException:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
            manifest.finish_run(run_id, stats.counts(), False)
            raise
        if provider is None or provider.pending:  # interrupted, or waiting on the provider
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
            manifest.finish_run(run_id, stats.counts(), False)
            return BatchResult(run_id, manifest.path, stats.counts(), time.monotonic() - t0, False,
                               0, notes + unreadable, provider=provider)
    reporter.start(total)
    try:
        if opts.engine == "dask":
            from .dask_engine import EngineError, run_dask

            try:
                run_dask(tasks(), scheduler=opts.scheduler, workers=min(jobs, max(total, 1)),
                         on_result=on_result, on_lost=on_lost, on_start=on_start, tick=reporter.tick,
                         timeout=opts.timeout, send_bytes=opts.send_bytes)
            except EngineError as exc:
                manifest.finish_run(run_id, stats.counts(), False)
                raise BatchError(str(exc)) from None
        else:
            run_pool(tasks(), min(jobs, max(total, 1)), on_result=on_result, on_lost=on_lost,
                     on_start=on_start, tick=reporter.tick, timeout=opts.timeout,
                     recycle_after=opts.recycle_after)
        completed = True
    except (KeyboardInterrupt, _Stop):
        completed = False
    finally:
        reporter.stop()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    notes.extend(unreadable)
    # Documents not found this time are gone, unless part of the input could not be listed.
    gone = manifest.mark_gone(run_id) if completed and not unreadable else 0
    manifest.finish_run(run_id, stats.counts(), completed)
    return BatchResult(run_id, manifest.path, stats.counts(), time.monotonic() - t0, completed,
                       gone, notes, provider=provider, pages=stats.pages)


def _provider_steps(opts: BatchOptions, in_dir: Path, out_dir: Path, jobs: int, manifest: Manifest,
                    run_id: int, reporter: Reporter):
    """Plan, submit, wait for and collect provider batches (see structurer.batch.provider);
    None when interrupted."""
    from ..llm.provider_batch import ProviderBatchError
    from .provider import run_provider

    todo = ((inp.rel, task) for kind, inp, task in _plan(opts, in_dir, out_dir, manifest, run_id,
                                                         PromptVersions(opts.llm_options), [])
            if kind == "task")
    try:
        return run_provider(todo, backend=opts.backend, llm_options=opts.llm_options, in_dir=in_dir,
                            out_dir=out_dir, jobs=jobs, manifest=manifest, run_id=run_id,
                            options=opts.provider, say=reporter.note, timeout=opts.timeout)
    except ProviderBatchError as exc:
        raise BatchError(str(exc)) from None
    except (KeyboardInterrupt, _Stop):
        return None


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _record(manifest: Manifest, opts: BatchOptions, out_dir: Path, task: dict, result: dict,
            reporter: Reporter) -> None:
    rel = task["rel"]
    status = result.get("status")
    if status == "done":
        result["output"] = Path(task["output"]).relative_to(out_dir).as_posix()
        manifest.record_done(rel, opts.backend, result.get("prompt_versions") or {}, result,
                             result.get("checks") or {}, result.get("finding_rows") or [],
                             count_attempt=task["known_sha256"] is not None)
        reporter.update("done", result)
    elif status == "unchanged":
        manifest.record_unchanged(rel, result["size"], result["mtime_ns"])
        reporter.update("unchanged")
    else:
        _record_failure(manifest, opts, out_dir, task, result.get("error") or "failed", reporter, result)


def _record_failure(manifest: Manifest, opts: BatchOptions, out_dir: Path, task: dict, error: str,
                    reporter: Reporter, result: dict | None = None) -> None:
    manifest.record_failed(task["rel"], opts.backend, error, result or {},
                           count_attempt=task["known_sha256"] is not None)
    try:  # a JSON from an earlier success no longer describes this input
        Path(task["output"]).unlink()
    except OSError:
        pass
    reporter.update("failed", result)

