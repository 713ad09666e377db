"""The library API for notebooks and scripts; the command line is a shell over the same calls.

    import structurer
    doc = structurer.extract("部门预算.pdf")        # Document (raises InputRefused, NotADisclosure…)
    report = structurer.check(doc)                  # every identity: pass / fail / rounding / …
    df = doc.cells()                                # pandas DataFrame of the cells
"""
from __future__ import annotations

from pathlib import Path

from .checks.run import evaluate
from .checks.model import CheckReport
from .model import Document
from .pipeline import BACKENDS, extract_prepared, load_or_extract, open_source


def extract(path: str | Path, backend: str = "rules", ocr: str = "auto", **llm_options) -> Document:
    """Structure one source file (PDF, DOCX, text dump, scanned PDF or page image). `backend`:
    rules (default, no network), llm or hybrid; `ocr`: auto (pages without a text layer are
    read by OCR), always or never; `llm_options` as for structurer.llm.backend."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    return extract_prepared(open_source(path, ocr), backend, **llm_options)


def load(path: str | Path) -> Document:
    """A document JSON written by `extract` (or any source file, extracted with the rules)."""
    return load_or_extract(path)


def check(doc: Document) -> CheckReport:
    """Reconcile every number of a document; `report.findings()` lists the failing checks."""
    return evaluate(doc)
