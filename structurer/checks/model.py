"""Check outcomes and findings (plain dataclasses: thousands are made per document)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Literal

from ..model import Span

Status = Literal["pass", "fail", "rounding", "not_applicable", "insufficient_data"]
STATUSES = ("fail", "rounding", "insufficient_data", "not_applicable", "pass")


@dataclass(slots=True)
class TermValue:
    table: str
    row: str
    column: str
    coefficient: int
    value: Decimal | None
    printed: str | None = None
    unit: str | None = None
    span: Span | None = None
    kind: str = "cell"  # cell | narrative
    allowance: Decimal | None = None  # rounding this value may carry, in 元 (None: from printed)
    doubtful: bool = False  # read by OCR with low confidence: the likelier wrong value

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.row, self.column)


@dataclass(slots=True)
class Diagnosis:
    table: str
    row: str
    column: str
    current: Decimal | None
    fix: Decimal
    explains: int  # failing checks this one change would satisfy
    span: Span | None = None


@dataclass(slots=True)
class Result:
    identity: str
    title: str
    table: str
    status: Status
    binding: dict[str, str] = field(default_factory=dict)
    severity: str = "info"  # error | warning | info
    reason: str | None = None
    op: str = "="
    left: Decimal | None = None
    right: Decimal | None = None
    delta: Decimal | None = None
    envelope: Decimal | None = None
    terms: list[TermValue] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    linear: bool = True  # delta is Σ coefficient × value (shares are ratios, not linear)

    @property
    def instance(self) -> str:
        b = ",".join(f"{k}={v}" for k, v in sorted(self.binding.items()))
        return f"{self.identity}[{self.table}{':' + b if b else ''}]"


def _jsonable(v):
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, Span):
        return v.model_dump()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


@dataclass
class CheckReport:
    doc: str
    results: list[Result] = field(default_factory=list)

    def findings(self) -> list[Result]:
        return [r for r in self.results if r.status == "fail"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def has_errors(self) -> bool:
        return any(r.status == "fail" and r.severity == "error" for r in self.results)

    def to_dict(self, statuses: tuple[str, ...] = STATUSES) -> dict:
        rows = []
        for r in self.results:
            if r.status not in statuses:
                continue
            d = {k: _jsonable(v) for k, v in asdict(r).items()}
            d["instance"] = r.instance
            rows.append(d)
        return {"doc": self.doc, "counts": self.counts(), "results": rows}
