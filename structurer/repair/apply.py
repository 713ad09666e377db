"""Applying corrections to a document: find the value an entry names, check it still holds the
value the entry saw, and write the new one (a copy of the document; the original is untouched)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .. import vocab
from ..model import Cell, Document, NarrativeFact, Row, Span
from .log import CHANGE_ACTIONS, Entry, active

NARRATIVE = "narrative"
Target = tuple[str, str, str]  # (table, row, column); narrative facts: ("narrative", key, "kind@line")


@dataclass
class Value:
    """One correctable value: a table cell or a narrative fact."""

    target: Target
    value: Decimal | None
    printed: str
    unit: str
    span: Span
    obj: Cell | NarrativeFact

    @property
    def label(self) -> str:
        return "/".join(self.target)


def fact_column(f: NarrativeFact) -> str:
    """The column the checks name a narrative fact by: `kind@line`."""
    return f"{f.kind}@{f.span.line_start}"


def fact_target(doc: Document, f: NarrativeFact) -> Target:
    """The target of a narrative fact in the log: `kind@line`, or `kind@line#start` (its
    character offset) when an earlier fact of the same key and kind is printed on that line."""
    col = fact_column(f)
    first = next(g for g in doc.narrative if g.key == f.key and fact_column(g) == col)
    return (NARRATIVE, f.key, col if first is f else f"{col}#{f.span.start}")


def _one(same: list, start: str, span: Span | None):
    """Of the values stated for one key, the one at offset `start` (`column#offset`), else the
    one with `span`, else the first."""
    if start:
        same = [v for v in same if str(v.span.start) == start]
    elif span is not None:
        same = [v for v in same if v.span == span] or same
    return same[0] if same else None


def find_value(doc: Document, target: Target, span: Span | None = None) -> Value | None:
    """The value a target names. A prose line may state one key twice (`kind@line` names the
    first), a row may hold two values read into one column (the column names the first):
    `span`, where the check read the value, or `#start` (its offset) in the column picks one."""
    table, row, column = target
    if table == NARRATIVE:
        col, _, start = column.partition("#")
        f = _one([f for f in doc.narrative if f.key == row and fact_column(f) == col], start, span)
        if f is None:
            return None
        return Value(fact_target(doc, f), f.value, f.printed, f.unit, f.span, f)
    t = doc.table(table)
    r = t.row(row) if t is not None else None
    if r is None:
        return None
    col, _, start = column.partition("#")
    c = _one([c for c in r.cells if c.column == col], start, span)  # a row may hold two values in one column
    if c is None:
        return None
    first = r.cell(col)
    return Value((table, row, col if first is c else f"{col}#{c.span.start}"), c.value, c.printed, c.unit, c.span, c)


def row_column(row: Row) -> str:
    """How the log names a row (with its table and id): `row@<first line>`."""
    return f"row@{row.span.line_start}"


def find_suspect_row(doc: Document, table: str, row: str, column: str) -> Row | None:
    """A row the reader doubted (suspect), by table, id and `row@<line>`."""
    t = doc.table(table)
    if t is None:
        return None
    return next((r for r in t.rows if r.suspect and r.id == row and row_column(r) == column), None)


def unit_factor(unit: str) -> Decimal:
    return Decimal(vocab.UNIT_FACTORS.get(unit, 1))


def format_printed(value: Decimal, unit: str, like: str = "") -> str:
    """`value` (元, or a count / percent) written the way the document prints in `unit`: the
    decimals and thousands separators of `like` (a value printed nearby), never losing digits."""
    if unit == "%" or unit == "count":
        shown = value
    else:
        shown = value / unit_factor(unit)
    exponent = shown.normalize().as_tuple().exponent
    dec = max(vocab.printed_decimals(like), -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    q = shown.quantize(Decimal(1).scaleb(-dec)) if dec else shown.quantize(Decimal(1))
    if "," in (like or ""):
        return f"{q:,.{dec}f}"
    return f"{q:.{dec}f}"


def printed_for(v: Value, new: Decimal) -> str:
    """How the corrected value of `v` is written (a stated change is printed without its sign)."""
    if isinstance(v.obj, NarrativeFact) and v.obj.kind == "change":
        new = abs(new)
    return format_printed(new, v.unit, v.printed)


def parse_user_value(text: str, unit: str) -> Decimal:
    """A number typed by the reviewer, in the unit the value is printed in → 元 (or count)."""
    s = (text or "").strip().replace(",", "").replace("，", "").replace(" ", "").replace("−", "-")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", s):
        raise ValueError(f"not a number: {text!r} (type it as printed, in {unit})")
    try:
        v = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern guards it
        raise ValueError(f"not a number: {text!r}") from None
    if unit in ("count", "%"):
        return v
    return v * unit_factor(unit)


def same_value(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b


@dataclass
class Conflict:
    entry: Entry
    message: str

    def __str__(self) -> str:
        return f"entry {self.entry.id} ({self.entry.action} {self.entry.where}): {self.message}"


def _money(v: Decimal | None) -> str:
    return "unreadable" if v is None else format(v, "f")


def apply_entries(base: Document, entries: list[Entry]) -> tuple[Document, list[Conflict]]:
    """The corrected document: `base` with the log's entries in force, in order.

    An entry whose value is gone, or no longer holds the value it saw (`old`), is not applied
    and comes back as a conflict. Every applied entry leaves a `repair:` line in warnings."""
    doc = base.model_copy(deep=True)
    conflicts: list[Conflict] = []
    for e in active(entries):
        if e.action == "row_good":
            row = find_suspect_row(doc, e.table or "", e.row or "", e.column or "")
            if row is None:
                conflicts.append(Conflict(e, "no such doubted row in the document"))
                continue
            row.suspect, row.note = False, None
            doc.warnings.append(f"repair: row {e.table}/{e.row} ({e.column}) confirmed as read"
                                f"{' — ' + e.reason if e.reason else ''}")
            continue
        if e.target is None:
            if e.action == "note":
                doc.warnings.append(f"repair: note on {e.finding or 'the document'}: {e.reason}")
            elif e.action == "document_error":
                doc.warnings.append(f"repair: document error kept as printed ({e.finding}): {e.reason}")
            continue
        v = find_value(doc, e.target)
        if v is None:
            conflicts.append(Conflict(e, "no such value in the document"))
            continue
        if e.action == "note":
            doc.warnings.append(f"repair: note on {v.label}: {e.reason}")
            continue
        if not same_value(v.value, e.old):
            conflicts.append(Conflict(e, f"the document has {_money(v.value)}, the log expected {_money(e.old)}"))
            continue
        if e.action == "move":
            if not isinstance(v.obj, Cell):
                conflicts.append(Conflict(e, "only a table value moves to another column"))
                continue
            if doc.table(v.target[0]).row(v.target[1]).cell(e.to_column or "") is not None:
                conflicts.append(Conflict(e, f"the row already has a value in {e.to_column}"))
                continue
            v.obj.column = e.to_column
            doc.warnings.append(f"repair: moved {v.label} ({v.printed!r}) to column {e.to_column}"
                                f"{' — ' + e.reason if e.reason else ''}")
            continue
        if e.action == "document_error":
            why = f" ({e.finding})" if e.finding else ""
            doc.warnings.append(f"repair: document error kept as printed at {v.label} = {v.printed!r}{why}: "
                                f"{e.reason}")
            continue
        if e.action in CHANGE_ACTIONS:
            printed = e.printed_new or printed_for(v, e.new)
            if isinstance(v.obj, Cell):
                v.obj.value, v.obj.printed, v.obj.status = e.new, printed, "ok"
                if e.span_new:
                    v.obj.span = Span.model_validate(e.span_new)
            else:
                v.obj.value, v.obj.printed = e.new, printed
            doc.warnings.append(f"repair: {e.action} {v.label}: {_money(e.old)} → {_money(e.new)} 元"
                                f"{' — ' + e.reason if e.reason else ''}")
    return doc, conflicts
