"""The document model: the interface between extraction, checks, eval, repair and export.

Money is `Decimal` in 元 with the printed text and unit kept beside it; an empty cell is
absent, not zero; every value carries the source span it came from.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class Span(BaseModel):
    """A range of the source text: 1-based inclusive lines and 0-based [start, end) characters."""

    model_config = ConfigDict(frozen=True)
    line_start: int
    line_end: int
    start: int
    end: int


class Where(BaseModel):
    """Where a value was printed on a PDF page: 1-based page and box in points, top-down."""

    model_config = ConfigDict(frozen=True)
    page: int
    box: tuple[float, float, float, float] = Field(description="x0, top, x1, bottom in points")
    confidence: float | None = Field(default=None, description="OCR recognition confidence of the printed "
                                     "text (0-1); None when read from a text layer")


class Cell(BaseModel):
    column: str
    value: Decimal | None = Field(description="in 元 for money; None when unreadable")
    printed: str = Field(description="the cell's text exactly as in the source")
    unit: str = Field(description="unit the printed value is in: 元, 万元, or count")
    span: Span
    status: Literal["ok", "unreadable", "suspect"] = "ok"
    where: Where | None = Field(default=None, description="page and box, for PDF sources")
    low_confidence: bool = Field(default=False, description="read by OCR with a confidence below the "
                                 "review threshold: check it on the page")


class Row(BaseModel):
    id: str = Field(description="classification code, or canonical key (vocab)")
    label: str = ""
    code: str | None = None
    span: Span
    suspect: bool = False
    note: str | None = None
    cells: list[Cell] = []

    def cell(self, column: str) -> Cell | None:
        return next((c for c in self.cells if c.column == column), None)


class Table(BaseModel):
    id: str
    title: str = Field(description="title as printed")
    unit: str
    span: Span
    columns: list[str] = []
    rows: list[Row] = []
    empty: bool = False
    empty_note: str | None = None

    def row(self, row_id: str) -> Row | None:
        return next((r for r in self.rows if r.id == row_id and not r.suspect), None)


class NarrativeFact(BaseModel):
    key: str
    kind: Literal["amount", "share", "change"] = "amount"
    value: Decimal = Field(description="元 for amounts, percent for shares")
    printed: str
    unit: str
    span: Span
    context: str = ""
    where: Where | None = Field(default=None, description="page and box, for PDF sources")


class Indicator(BaseModel):
    level1: str = ""
    level2: str = ""
    level3: str = ""
    description: str = ""
    value: str = ""
    basis: str = ""
    span: Span


class PerformanceTarget(BaseModel):
    project: str
    amount: Decimal | None = None
    amount_printed: str | None = None
    amount_unit: str | None = None
    span: Span
    indicators: list[Indicator] = []


class Section(BaseModel):
    id: str = Field(description="table id, 'narrative' or 'performance'")
    kind: Literal["table", "narrative", "performance"]
    title: str
    unit: str | None = None
    span: Span
    rows_found: int = 0
    empty: bool = False


class DocumentMeta(BaseModel):
    source: str = ""
    sha256: str = ""
    format: str = ""
    encoding: str = ""
    agency: str | None = None
    agency_code: str | None = None
    year: int | None = None
    kind: Literal["budget", "final"] | None = None
    unit: str | None = None
    scope: Literal["department", "unit"] | None = None


class Usage(BaseModel):
    """What producing a document cost (LLM backends; zeros for rules)."""

    requests: int = 0  # HTTP requests actually sent
    cache_hits: int = 0
    retries: int = 0  # transport retries (timeouts, 429, 5xx)
    reasks: int = 0  # validation / grounding errors sent back to the model
    failures: int = 0  # chunks that ended without a valid answer
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost: Decimal = Decimal(0)

    def add(self, other: "Usage") -> "Usage":
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in type(self).model_fields})


class Document(BaseModel):
    schema_version: str = SCHEMA_VERSION
    meta: DocumentMeta
    sections: list[Section] = []
    tables: list[Table] = []
    narrative: list[NarrativeFact] = []
    performance: list[PerformanceTarget] = []
    backend: str = "rules"
    model: str | None = None  # LLM model name for llm/hybrid backends
    prompt_versions: dict[str, str] = {}  # prompt name → version+hash used
    usage: Usage | None = None
    warnings: list[str] = []

    def table(self, table_id: str) -> Table | None:
        return next((t for t in self.tables if t.id == table_id), None)

    def cells(self):
        """The tidy cells as a pandas DataFrame, one row per (table, row, column): `value` holds
        exact Decimals in 元 (None when the printed text is unreadable), beside the printed
        text, its unit, status, source lines and, for PDFs, page and box."""
        import pandas as pd  # deferred on purpose: only notebook use needs it

        from .tidy import CELL_FIELDS, iter_cells

        rows = [{k: None if v == "" else Decimal(v) if k == "value" else v for k, v in r.items()}
                for r in iter_cells(self)]  # a blank (no page for a text dump) is None, never ""
        return pd.DataFrame(rows, columns=list(CELL_FIELDS))

    def to_json(self) -> str:
        """The document as the JSON `structurer extract` writes (schema in schemas/)."""
        return self.model_dump_json(indent=1)
