"""Run backends and models over the gold documents and score them.

A *column* is one way of structuring a document: the rules backend, or an LLM backend
(`llm`, `hybrid`) with one model. Every column extracts every selected gold document
through `structurer.pipeline.extract_prepared` (the LLM backends use their own response
cache), and each extraction is scored against the gold file (evaluation.metrics). The
result is one JSON-able dict: the run's config, and per column the overall scores, the
per-document scores with every cell outcome, usage and wall time.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..checks.run import evaluate
from ..gold import Gold, load_gold, verify_identities
from ..ingest import IngestError
from ..model import Document, DocumentMeta, Usage
from ..pipeline import BACKENDS, extract_prepared, prepare
from .metrics import score_document, summarize

FORMAT = "structurer-eval/1"
LLM_BACKENDS = ("llm", "hybrid")


class EvalError(Exception):
    """A problem with the eval's input or options, reported as one line."""


@dataclass(frozen=True)
class Column:
    backend: str
    model: str | None = None

    @property
    def name(self) -> str:
        return f"{self.backend}:{self.model}" if self.model else self.backend

    def options(self) -> dict:
        return {"model": self.model} if self.model else {}


def plan_columns(backends: list[str] | None, models: list[str] | None) -> list[Column]:
    """Columns from --backend (default rules) and --model options.

    `rules` is one column. Each model is a column of every LLM backend listed, or of `llm`
    when none is listed (so `--model a --model b` gives rules, llm:a, llm:b). An LLM backend
    listed without any model runs once with the backend's default model."""
    backends = list(dict.fromkeys(backends or ["rules"]))
    models = list(dict.fromkeys(m for m in (models or []) if m))
    for b in backends:
        if b not in BACKENDS:
            raise EvalError(f"--backend: unknown backend {b!r} (choose from {', '.join(BACKENDS)})")
    cols: list[Column] = []
    llm = [b for b in backends if b in LLM_BACKENDS]
    if models and not llm:
        llm = ["llm"]
    for b in backends:
        if b == "rules":
            cols.append(Column("rules"))
    for b in llm:
        if models:
            cols.extend(Column(b, m) for m in models)
        else:
            cols.append(Column(b))
    return cols


def check_backends_available(columns: list[Column], llm_options: dict | None = None) -> None:
    """The LLM backend is importable and every LLM column's settings load (model known,
    config file valid) before any document is extracted."""
    llm = [c for c in columns if c.backend in LLM_BACKENDS]
    if not llm:
        return
    try:
        # deferred: the LLM stack (openai, instructor) loads only when a column needs it
        from ..llm.backend import settings_from
    except ImportError as e:
        raise EvalError(f"the LLM backend is not available ({e})") from e
    for c in llm:
        try:
            settings_from({**c.options(), **(llm_options or {})})
        except _config_error_types() as e:
            raise EvalError(f"{c.name}: {e}") from e


def select_golds(gold_dir: str | Path, docs: str | None = None) -> list[Gold]:
    """Load (and verify) the gold files of a folder, or one gold file; `docs` is a glob on the
    gold file name, its stem or the document name."""
    gold_dir = Path(gold_dir)
    if gold_dir.is_file():
        paths = [gold_dir]
    elif gold_dir.is_dir():
        paths = sorted(gold_dir.glob("*.yaml"))
    else:
        raise EvalError(f"--gold: no such folder or file: {gold_dir}")
    if not paths:
        raise EvalError(f"--gold: no gold files (*.yaml) in {gold_dir}")
    golds = []
    for p in paths:
        g = load_gold(p)  # GoldError is reported by the caller
        if docs and not any(fnmatch.fnmatch(n, docs) for n in (p.name, p.stem, g.doc, Path(g.doc).stem)):
            continue
        golds.append(g)
    if not golds:
        raise EvalError(f"--docs: no gold file matches {docs!r}")
    root = corpus_root(gold_dir)
    missing = [g for g in golds if g.corpus and (root is None or not (root / g.doc).is_file())]
    if missing:  # real documents live outside the project; without them those golds are skipped
        print(f"skipping {len(missing)} gold file(s) whose document is not in the shared corpus",
              file=sys.stderr)
        golds = [g for g in golds if g not in missing]
        if not golds:
            raise EvalError("no gold document is available (the shared corpus is absent)")
    for g in golds:
        verify_identities(g)
    return golds


def default_sources(gold_dir: str | Path) -> Path:
    """Where the documents of a gold folder are: `examples/` of the project holding
    `evals/gold/`, else ./examples."""
    gold_dir = Path(gold_dir).resolve()
    base = gold_dir if gold_dir.is_dir() else gold_dir.parent
    for parent in base.parents:
        if (parent / "examples").is_dir():
            return parent / "examples"
    return Path("examples")


def corpus_root(gold_dir: str | Path | None = None) -> Path | None:
    """The shared corpus of real documents: $STRUCTURER_CORPUS, else a `shared/corpus`
    folder beside the project (or beside one of its parents); None when absent."""
    env = os.environ.get("STRUCTURER_CORPUS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    base = Path(gold_dir or ".").resolve()
    for parent in [base, *base.parents]:
        cand = parent / "shared" / "corpus"
        if cand.is_dir():
            return cand
    return None


def source_for(gold: Gold, sources: Path) -> Path:
    if gold.corpus:
        root = corpus_root(gold.path.parent)
        if root is None or not (root / gold.doc).is_file():
            raise EvalError(f"{gold.path.name}: its document {gold.doc} is not in the shared corpus "
                            f"(set STRUCTURER_CORPUS)")
        return root / gold.doc
    p = sources / gold.doc
    if not p.is_file():
        raise EvalError(f"{gold.path.name}: its document {gold.doc} is not in {sources} (use --sources DIR)")
    return p


def _usage_dict(u: Usage) -> dict:
    d = u.model_dump()
    d["cost"] = format(u.cost, "f")
    d["latency_s"] = round(u.latency_s, 4)
    return d


def _failed_document(gold: Gold, backend: str, model: str | None, error: str) -> Document:
    return Document(meta=DocumentMeta(source=gold.doc), backend=backend, model=model,
                    warnings=[f"extraction failed: {error}"])


Progress = Callable[[str, str, float, str | None], None]  # column, doc, seconds, error


@dataclass
class EvalRun:
    data: dict  # JSON-able: format, config (filled by the caller), columns
    documents: dict[str, dict[str, Document]] = field(default_factory=dict)  # column → doc → extraction


def _config_error_types() -> tuple[type[BaseException], ...]:
    try:
        from ..llm.config import ConfigError
    except ImportError:  # pragma: no cover - the LLM package is part of the project
        return ()
    return (ConfigError,)


def run_eval(golds: list[Gold], columns: list[Column], sources: Path,
             progress: Progress | None = None, llm_options: dict | None = None) -> EvalRun:
    """Extract and score every gold document with every column.

    `llm_options` (config, cache_dir, no_cache, cache_only) go to the LLM columns with
    their model. A configuration error of the LLM backend (unknown model, no API key) stops
    the eval as bad input; any other exception of an extraction is that document's failure,
    recorded and scored as an empty document."""
    check_backends_available(columns, llm_options)
    config_errors = _config_error_types()
    paths = {g.doc: source_for(g, sources) for g in golds}
    gold_reports = {g.doc: evaluate(g.document()) for g in golds}
    run = EvalRun({"format": FORMAT, "config": {}, "columns": {}})
    for col in columns:
        docs: dict[str, dict] = {}
        usage = Usage()
        models: dict[str, None] = {}
        prompts: dict[str, set[str]] = {}
        errors: list[dict] = []
        wall = 0.0
        documents: dict[str, Document] = {}
        for g in golds:
            t0 = time.perf_counter()
            error = None
            try:
                prep = prepare(paths[g.doc])
            except (IngestError, OSError) as e:
                raise EvalError(f"{paths[g.doc].name}: cannot read the document: {e}") from e
            options = col.options()
            if col.backend in LLM_BACKENDS:
                options.update(llm_options or {})
            try:
                doc = extract_prepared(prep, col.backend, **options)
            except config_errors as e:
                raise EvalError(f"{col.name}: {e}") from e
            except Exception as e:  # a model's failure is a result to score, not a crash
                error = f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
                doc = _failed_document(g, col.backend, col.model, error)
            dt = time.perf_counter() - t0
            wall += dt
            if error:
                errors.append({"doc": g.doc, "error": error})
            if doc.usage is not None:
                usage = usage.add(doc.usage)
            if doc.model:
                models[doc.model] = None
            for k, v in (doc.prompt_versions or {}).items():
                prompts.setdefault(k, set()).add(str(v))
            scored = score_document(doc, g, gold_reports[g.doc])
            scored["wall_s"] = round(dt, 4)
            scored["error"] = error
            scored["usage"] = _usage_dict(doc.usage) if doc.usage is not None else None
            docs[g.doc] = scored
            documents[g.doc] = doc
            if progress:
                progress(col.name, g.doc, dt, error)
        run.documents[col.name] = documents
        run.data["columns"][col.name] = {
            "backend": col.backend,
            "model": col.model,
            "models_seen": list(models),
            "prompt_versions": {k: sorted(v) if len(v) > 1 else next(iter(v)) for k, v in sorted(prompts.items())},
            "overall": summarize(docs),
            "usage": _usage_dict(usage),
            "failures": len(errors) + usage.failures,
            "extraction_errors": errors,
            "wall_s": round(wall, 4),
            "docs": docs,
        }
    return run


def gold_identity(golds: list[Gold]) -> dict[str, str]:
    """sha256 of every gold file used, so a run records exactly which truth it was scored on."""
    return {g.path.name: hashlib.sha256(g.path.read_bytes()).hexdigest() for g in golds}

