"""Mutation self-test: corrupt single printed numbers in the source, re-run extract + check, and
measure detection recall and localization accuracy of the identity catalog."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest import SourceText, read_bytes
from ..model import Document
from .model import CheckReport
from .run import evaluate

KINDS = ("digit", "transpose", "drop")


@dataclass
class Mutation:
    table: str
    row: str
    column: str
    kind: str
    before: str
    after: str
    line: int
    participates: bool
    effective: bool = True
    detected: bool = False
    localized: bool = False


@dataclass
class SelftestResult:
    doc: str
    mutations: list[Mutation] = field(default_factory=list)

    @property
    def effective(self) -> list[Mutation]:
        return [m for m in self.mutations if m.effective]

    @property
    def in_identity(self) -> list[Mutation]:
        return [m for m in self.effective if m.participates]

    @property
    def recall(self) -> float:
        ms = self.in_identity
        return sum(m.detected for m in ms) / len(ms) if ms else 1.0

    @property
    def localization(self) -> float:
        ms = [m for m in self.in_identity if m.detected]
        return sum(m.localized for m in ms) / len(ms) if ms else 1.0


def _mutate(token: str, kind: str, rng: random.Random) -> str | None:
    digits = [i for i, ch in enumerate(token) if ch.isdigit()]
    if not digits:
        return None
    if kind == "transpose":
        pairs = [(i, j) for i, j in zip(digits, digits[1:]) if j == i + 1 and token[i] != token[j]]
        if pairs:
            i, j = rng.choice(pairs)
            return token[:i] + token[j] + token[i] + token[j + 1:]
        kind = "digit"
    if kind == "drop" and len(digits) > 1:
        i = rng.choice(digits)
        return token[:i] + token[i + 1:]
    i = rng.choice(digits)
    new = rng.choice([d for d in "0123456789" if d != token[i]])
    return token[:i] + new + token[i + 1:]


def _participating(report: CheckReport) -> set[tuple[str, str, str]]:
    keys = set()
    for r in report.results:
        # an inequality (a part ≤ its whole) cannot pin a value: only equalities count
        if r.status in ("pass", "rounding", "fail") and r.op == "=":
            keys.update(t.key for t in r.terms if t.kind == "cell")
    return keys


def _fail_keys(report: CheckReport) -> set[str]:
    return {r.instance for r in report.findings()}


def run_selftest(source: SourceText, n: int, seed: int, extract) -> SelftestResult:
    """`extract(source) -> Document` is the pipeline under test (rules backend)."""
    rng = random.Random(seed)
    base_doc: Document = extract(source)
    base = evaluate(base_doc)
    base_fails = _fail_keys(base)
    inside = _participating(base)
    cells = [(t.id, r.id, c) for t in base_doc.tables for r in t.rows if not r.suspect
             for c in r.cells if c.value is not None and c.span.line_start == c.span.line_end]
    out = SelftestResult(Path(source.path).name)
    if not cells:
        return out
    text = source.text
    for k in range(n):
        tid, rid, cell = rng.choice(cells)
        kind = KINDS[k % len(KINDS)]
        token = text[cell.span.start:cell.span.end]
        new = _mutate(token, kind, rng)
        if new is None or new == token:
            continue
        mutated = text[:cell.span.start] + new + text[cell.span.end:]
        m = Mutation(tid, rid, cell.column, kind, token, new, cell.span.line_start,
                     (tid, rid, cell.column) in inside)
        doc = extract(_with_text(source, mutated))
        got = next((c for t in doc.tables if t.id == tid for r in t.rows if r.id == rid
                    for c in r.cells if c.column == cell.column), None)
        if got is not None and got.value == cell.value:
            m.effective = False  # e.g. a dropped trailing zero after the decimal point
        rep = evaluate(doc)
        new_fails = [r for r in rep.findings() if r.instance not in base_fails]
        m.detected = bool(new_fails)
        diags = [r.diagnosis for r in new_fails if r.diagnosis is not None]
        if diags:
            best = max(diags, key=lambda d: d.explains)
            m.localized = (best.table, best.row, best.column) == (tid, rid, cell.column)
        out.mutations.append(m)
    return out


def _with_text(source: SourceText, text: str) -> SourceText:
    """The same document with its text changed (read back as a text file)."""
    return read_bytes(text.encode("utf-8"), Path(source.path).with_suffix(".txt").name)
