"""Every PDF of the shared real corpus goes through extract, check, the HTML report and a
repair session (its findings, each one's text as the TUI shows it) without an exception:
a refusal is one line. Slow; skipped when the corpus is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT

CORPUS = Path(os.environ.get("STRUCTURER_CORPUS") or ROOT.parent / "shared" / "corpus")
PDFS = sorted((CORPUS / "pdf").glob("*/*.pdf")) if (CORPUS / "pdf").is_dir() else []

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PDFS, reason="the shared corpus of real PDFs is absent")]


def test_extract_check_report_and_repair_never_crash(tmp_path):
    from structurer.checks.run import evaluate
    from structurer.cli import UserError, _prepare
    from structurer.output import document_json, load_document
    from structurer.pipeline import extract_prepared
    from structurer.repair.html_report import render_html
    from structurer.repair.session import RepairSession
    from structurer.repair.tui import finding_text

    accepted = refused = 0
    for pdf in PDFS:
        try:
            prep = _prepare(pdf)
        except UserError as exc:
            assert "\n" not in str(exc) and str(exc), pdf
            refused += 1
            continue
        doc = extract_prepared(prep)
        path = tmp_path / f"{accepted}.json"
        path.write_text(document_json(doc), encoding="utf-8")
        doc = load_document(path)  # what check/report/repair read back
        report = evaluate(doc)
        html = render_html(doc, report, prep.source)
        assert html.startswith("<!DOCTYPE html>") or html.lstrip().lower().startswith("<!doctype html"), pdf
        session = RepairSession(doc, prep.source, tmp_path / f"{accepted}.log", tmp_path / f"{accepted}.out.json")
        for f in session.findings():
            assert str(finding_text(session, f)), pdf
        accepted += 1
    assert accepted >= 0.5 * len(PDFS) and refused >= 1
