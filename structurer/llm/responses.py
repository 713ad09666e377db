"""Response models, one per section kind: what the model must return, in canonical ids,
every value with the line numbers it is printed on and its printed text (a table value
may also cite the grid cell printing it).

Validation runs the grounding checks of `grounding.py` against the chunk of the current
task (a context variable, so that instructor's Jinja templating of messages is never
switched on by a validation context). A strict scope raises, and instructor sends the
errors back to the model (reask); a lenient scope records the problems, and the mapping
leaves those items out.
"""
from __future__ import annotations

import copy
import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator

from . import vocabulary as voc
from .grounding import SCOPE, Problem, parse_number, report

Number = Annotated[Decimal, WithJsonSchema({"type": "string"})]


def _line_no(v: Any) -> Any:
    """A line cited by its grid row id (`r12`) is line 12."""
    if isinstance(v, str) and v.strip()[:1] in ("r", "R") and v.strip()[1:].isdigit():
        return int(v.strip()[1:])
    return v


Lines = list[Annotated[int, BeforeValidator(_line_no)]]


def _lean(node: Any) -> Any:
    """A JSON schema without titles and defaults, `X | None` written as X (not required):
    the system prompt explains the fields, the schema only constrains them."""
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
            rest = dict(next(x for x in any_of if x != {"type": "null"}))
            rest.update({k: v for k, v in node.items() if k not in ("anyOf", "default", "title")})
            return _lean(rest)
        return {k: _lean(v) for k, v in node.items()
                if not (k in ("title", "default") and not isinstance(v, dict))}
    if isinstance(node, list):
        return [_lean(v) for v in node]
    return node


class _Answer(BaseModel):
    """Base: a compact JSON schema (no titles) and a stable hash of it for cache keys."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict[str, Any]:  # type: ignore[override]
        # instructor wraps the model in a new subclass on every call: key by our own class
        own = next((c for c in cls.__mro__ if c in _ANSWER_TYPES), cls)
        key = (own, cls.__name__, args, tuple(sorted(kwargs.items())))
        if key not in _SCHEMAS:  # generated once per model: it is asked for on every call
            schema = super().model_json_schema(*args, **kwargs)
            title = schema.get("title")
            out = _lean(schema)
            if title:
                out["title"] = title  # instructor names the tool after it
            _SCHEMAS[key] = out
        return copy.deepcopy(_SCHEMAS[key])

    @classmethod
    def schema_hash(cls) -> str:
        if cls not in _HASHES:
            text = json.dumps(cls.model_json_schema(), sort_keys=True, ensure_ascii=False)
            _HASHES[cls] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return _HASHES[cls]


_SCHEMAS: dict = {}
_HASHES: dict = {}


# --------------------------------------------------------------------------- tables

class TableCell(BaseModel):
    model_config = ConfigDict(extra="ignore")
    col: str  # column id
    text: str  # value exactly as printed
    value: Number  # the printed number, plain digits, printed unit
    lines: Lines | None = None  # lines of this value if not all on the row's lines
    cell: str | None = None  # id of the grid cell printing it (r12c3), when the table is shown as a grid


class TableRow(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str  # row id
    label: str = ""  # row name as printed
    lines: Lines  # line numbers of the row
    cells: list[TableCell] = []
    suspect: str | None = None  # only for a garbage row that contradicts the table: why


class TableAnswer(_Answer):
    """Table values."""

    rows: list[TableRow]

    @model_validator(mode="after")
    def _grounded(self) -> "TableAnswer":
        scope = SCOPE.get()
        if scope is None:
            return self
        table = scope.chunk.section
        problems: list[Problem] = []
        seen: dict[tuple[str, str], int] = {}
        for i, row in enumerate(self.rows):
            rname = f"row {row.id!r}"
            if not row.suspect and not voc.valid_row_id(table, row.id):
                problems.append(Problem(("rows", i), f"{rname}: not a row id of {table}; use the vocabulary "
                                                     "(a classification code as digits, or a listed key)"))
                continue
            _, bad = scope.cited(row.lines)
            if bad or not row.lines:
                problems.append(Problem(("rows", i), f"{rname}: line(s) {bad or row.lines} are not in this excerpt"))
                continue
            for j, c in enumerate(row.cells):
                what = f"{rname} column {c.col!r}"
                if not voc.valid_column(table, c.col):
                    problems.append(Problem(("rows", i, "cells", j), f"{what}: not a column id of {table}"))
                    continue
                key = (row.id, c.col)
                if not row.suspect and key in seen and seen[key] != i:
                    problems.append(Problem(("rows", i, "cells", j), f"{what}: given twice"))
                    continue
                seen[key] = i
                if c.cell:
                    err, _ = scope.check_cell(c.cell, c.text, c.value, what)
                else:
                    err, _ = scope.check_number(c.text, c.value, c.lines or row.lines, what)
                if err:
                    problems.append(Problem(("rows", i, "cells", j), err))
        report(scope, problems)
        return self


# --------------------------------------------------------------------------- narrative

UnitLiteral = Literal["元", "万元", "千元", "亿元", "%"]


class Fact(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str  # fact key
    kind: Literal["amount", "share", "change"] = "amount"
    text: str  # the number exactly as printed
    unit: UnitLiteral
    value: Number  # the printed number, plain digits
    sign: Literal["+", "-"] | None = None  # changes: + increase, - decrease
    line: int


class NarrativeAnswer(_Answer):
    """Stated facts."""

    facts: list[Fact]

    @model_validator(mode="after")
    def _grounded(self) -> "NarrativeAnswer":
        scope = SCOPE.get()
        if scope is None:
            return self
        problems: list[Problem] = []
        for i, f in enumerate(self.facts):
            what = f"fact {f.key!r} ({f.text}{f.unit})"
            if not voc.valid_narrative_key(f.key):
                problems.append(Problem(("facts", i), f"{what}: not a fact key of the vocabulary"))
                continue
            if (f.kind == "share") != (f.unit == "%") and f.kind != "change":
                problems.append(Problem(("facts", i), f"{what}: a share is in %, an amount in a money unit"))
                continue
            err, _ = scope.check_number(f.text, f.value, [f.line], what)
            if not err:
                # the unit must follow the number where it is printed (maybe on the next line)
                err2, _ = scope.check_text(f"{f.text}{f.unit}", scope.with_next([f.line]), what)
                if err2:
                    err = f"{what}: {f.text}{f.unit} (number with its unit) is not printed on line {f.line}"
            if err:
                problems.append(Problem(("facts", i), err))
        report(scope, problems)
        return self


# --------------------------------------------------------------------------- performance

class IndicatorOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    l1: str  # 一级指标
    l2: str  # 二级指标
    l3: str  # 三级指标 (indicator name)
    value: str  # 指标值 as printed
    basis: str = ""  # 指标值确定依据
    description: str = ""  # 指标描述
    lines: Lines


class ProjectOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str  # project name without numbering and 绩效目标表
    line: int  # line of the block's title
    amount_text: str | None = None  # the block's own budget amount as printed
    amount_value: Number | None = None
    amount_unit: Literal["元", "万元", "千元", "亿元"] | None = None
    amount_line: int | None = None
    indicators: list[IndicatorOut] = []


class PerformanceAnswer(_Answer):
    """Performance blocks."""

    projects: list[ProjectOut]

    @model_validator(mode="after")
    def _grounded(self) -> "PerformanceAnswer":
        scope = SCOPE.get()
        if scope is None:
            return self
        problems: list[Problem] = []
        all_lines = sorted({g[0] + 1 for g in scope.chunk.groups})
        for i, p in enumerate(self.projects):
            what = f"project {p.name!r}"
            err, _ = scope.check_text(p.name, [p.line], what)
            if err:
                problems.append(Problem(("projects", i), err))
                continue
            if p.amount_text:
                err, _ = scope.check_number(p.amount_text, p.amount_value, [p.amount_line or p.line],
                                            f"{what} amount")
                if err:
                    problems.append(Problem(("projects", i, "amount"), err))
            for j, ind in enumerate(p.indicators):
                iw = f"{what} indicator {ind.l3!r}"
                bad = None
                for label, text in (("三级指标", ind.l3), ("指标值", ind.value)):
                    if text.strip():
                        err, _ = scope.check_text(text, ind.lines, f"{iw} {label}")
                        bad = bad or err
                for label, text in (("一级指标", ind.l1), ("二级指标", ind.l2)):
                    if text.strip() and scope.check_text(text, all_lines, label)[0]:
                        bad = bad or f"{iw}: {label} {text!r} is not printed in this excerpt"
                if bad:
                    problems.append(Problem(("projects", i, "indicators", j), bad))
        report(scope, problems)
        return self


_ANSWER_TYPES = (TableAnswer, NarrativeAnswer, PerformanceAnswer)
ANSWERS: dict[str, type[_Answer]] = {
    "table": TableAnswer, "narrative": NarrativeAnswer, "performance": PerformanceAnswer}


def amount_of(text: str | None) -> Decimal | None:
    return parse_number(text) if text else None
