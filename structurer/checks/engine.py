"""Evaluate the identity catalog on a document: every instance ends pass / fail / rounding /
not_applicable / insufficient_data, in Decimal, with the rounding envelope of printed values."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from .. import vocab
from ..model import Cell, Document
from . import expr as ex
from .model import Diagnosis, Result, TermValue

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
_CODE_RE = vocab.CODE_RE
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Identity:
    id: str
    title: str
    tables: tuple[str, ...]
    expr: ex.Expr
    for_each: tuple[str, ...] = ()
    cols: tuple[str, ...] | None = None
    where: str | None = None
    severity: str = "error"
    requires: tuple[str, ...] = ()  # columns the table must print (one template's layout)
    excludes: tuple[str, ...] = ()  # columns it must not print (another template's)


@lru_cache(maxsize=4)
def load_catalog(path: str = str(CATALOG_PATH)) -> tuple[Identity, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for d in data:
        fe = d.get("for_each") or ()
        fe = (fe,) if isinstance(fe, str) else tuple(fe)
        unknown = set(fe) - {"row", "col", "parent"}
        if unknown:
            raise ValueError(f"{d['id']}: unknown quantifier {unknown}")
        for t in d["tables"]:
            if t not in vocab.KIND_BY_ID:
                raise ValueError(f"{d['id']}: unknown table {t}")
        out.append(Identity(d["id"], d["title"], tuple(d["tables"]), ex.parse(d["expr"]), fe,
                            tuple(d["cols"]) if d.get("cols") else None, d.get("where"),
                            d.get("severity", "error"), tuple(d.get("requires") or ()),
                            tuple(d.get("excludes") or ())))
    return tuple(out)


def _table_decimals(table) -> int:
    """The precision a table prints its amounts with (the most common number of decimals)."""
    counts: dict[int, int] = {}
    for r in table.rows:
        for c in r.cells:
            if c.value is not None and c.unit != "count":
                d = vocab.printed_decimals(c.printed)
                counts[d] = counts.get(d, 0) + 1
    return max(counts, key=lambda d: (counts[d], d)) if counts else 2


@lru_cache(maxsize=65536)
def half_ulp(cell_printed: str | None, unit: str | None, decimals: int | None = None) -> Decimal:
    """Half a unit of the last printed digit, in 元: the rounding a printed value may carry.

    `decimals` is the precision of the value's table (a table prints all amounts alike, so a
    value printed with fewer digits does not widen the tolerance)."""
    if not cell_printed or unit not in vocab.UNIT_FACTORS or unit == "元":
        return _ZERO  # amounts printed in 元 are exact: a 元 table adds up to the fen
    d = vocab.printed_decimals(cell_printed) if decimals is None else decimals
    return Decimal(5).scaleb(-(d + 1)) * vocab.UNIT_FACTORS[unit]


def envelope(terms: list[TermValue], idx: "DocIndex | None" = None) -> Decimal:
    """Σ of the rounding each non-zero printed term may carry (a printed zero is exact)."""
    total = _ZERO
    for t in terms:
        if t.allowance is not None:
            total += t.allowance
            continue
        if t.value is None or t.value == 0:
            continue
        dec = idx.decimals.get(t.table) if idx is not None and t.kind == "cell" else None
        total += half_ulp(t.printed, t.unit, dec)
    return total


class DocIndex:
    """Fast lookups over a document's non-suspect rows."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.cells: dict[tuple[str, str, str], Cell] = {}
        self.rows: dict[str, list[str]] = {}
        self.columns: dict[str, list[str]] = {}
        self.row_sets: dict[str, set[str]] = {}
        self.col_sets: dict[str, set[str]] = {}  # columns with a value
        self.headed: dict[str, set[str]] = {}  # columns the header names (with values or not)
        self.decimals: dict[str, int] = {}
        self.uncertain: dict[str, set[str]] = {}  # parents with a suspect row among their children
        for t in doc.tables:
            if t.id in self.rows:  # a second table with the same id: first one wins
                continue
            self.rows[t.id] = []
            cols: dict[str, None] = {}
            last_code = ""
            for r in t.rows:
                if r.suspect:
                    # an unread row under the code above: its parents' sums are incomplete
                    self.uncertain.setdefault(t.id, set()).update(
                        {last_code[:5], last_code[:3], "total"} if last_code else {"total"})
                    continue
                if _CODE_RE.match(r.id):
                    last_code = r.id
                self.rows[t.id].append(r.id)
                for c in r.cells:
                    self.cells[(t.id, r.id, c.column)] = c
                    cols[c.column] = None
            self.columns[t.id] = list(cols)
            self.row_sets[t.id] = set(self.rows[t.id])
            self.col_sets[t.id] = set(cols)
            self.headed[t.id] = set(cols) | set(t.columns)
            self.decimals[t.id] = _table_decimals(t)
        self._parents: dict[str, dict[str, str]] = {}
        self._roots: dict[tuple[str, str], list[str]] = {}
        self._children: dict[tuple[str, str], list[str]] = {}
        self._code_rows: dict[str, list[str]] = {}
        self._exists: dict[tuple, bool] = {}
        self._terms: dict[tuple, TermValue] = {}

    def has_table(self, t: str) -> bool:
        return t in self.rows

    def parent_map(self, t: str) -> dict[str, str]:
        """child code → parent row id (a code, or `total` for the top level)."""
        if t not in self._parents:
            rows = set(self.rows.get(t, ()))
            codes = [r for r in self.rows.get(t, ()) if _CODE_RE.match(r)]
            m: dict[str, str] = {}
            for c in codes:
                parent = None
                for n in (5, 3):
                    if len(c) > n and c[:n] in rows:
                        parent = c[:n]
                        break
                if parent is None and "total" in rows:
                    parent = "total"
                if parent:
                    m[c] = parent
            self._parents[t] = m
        return self._parents[t]

    def children(self, t: str, parent: str) -> list[str]:
        key = (t, parent)
        if key not in self._children:
            kids: dict[str, list[str]] = {}
            for c, p in self.parent_map(t).items():
                kids.setdefault(p, []).append(c)
            for p, cs in kids.items():
                self._children[(t, p)] = cs
            self._children.setdefault(key, [])
        return self._children[key]

    def parents(self, t: str) -> list[str]:
        seen = dict.fromkeys(self.parent_map(t).values())
        return list(seen)

    def code_rows(self, t: str) -> list[str]:
        if t not in self._code_rows:
            self._code_rows[t] = [r for r in self.rows.get(t, ()) if _CODE_RE.match(r)]
        return self._code_rows[t]


def _bindings(idx: DocIndex, ident: Identity, table: str) -> list[dict[str, str]]:
    spaces: list[list[tuple[str, str]]] = []
    for q in ident.for_each:
        if q == "row":
            rows = idx.rows[table]
            if ident.where == "class":
                rows = [r for r in rows if re.fullmatch(r"\d{3}", r)]
            elif ident.where == "code":
                rows = [r for r in rows if _CODE_RE.match(r)]
            spaces.append([("row", r) for r in rows])
        elif q == "parent":
            spaces.append([("parent", p) for p in idx.parents(table)])
        elif q == "col":
            cols = idx.columns[table]
            if ident.cols:
                cols = [c for c in ident.cols if c in cols]
            spaces.append([("col", c) for c in cols if c not in ("quantity", "unit_price", "project_budget")])
    return [dict(combo) for combo in itertools.product(*spaces)] if spaces else [{}]


def _sub(names: tuple[str, ...], b: dict[str, str]) -> tuple[str, ...]:
    if not any(n[0] == "$" for n in names):
        return names
    return tuple(b.get(n[1:], n) if n[0] == "$" else n for n in names)


def _exists(idx: DocIndex, t: str, rows: tuple[str, ...], cols: tuple[str, ...]) -> bool:
    """Does the table print this row and this column at all (even if the cell is blank)?"""
    key = (t, rows, cols)
    hit = idx._exists.get(key)
    if hit is None:
        have_rows, have_cols = idx.row_sets.get(t, set()), idx.col_sets.get(t, set())
        # a coded table lists the codes it spends on: a code it does not list is zero there
        hit = any(c in have_cols for c in cols) and any(r in have_rows or _CODE_RE.match(r) for r in rows)
        idx._exists[key] = hit
    return hit


def _prefix_roots(idx: DocIndex, t: str, code: str) -> list[str]:
    """A 类/款 code a table does not print, stood for by its top printed descendants."""
    key = (t, code)
    if key not in idx._roots:
        if not _CODE_RE.match(code) or code in idx.row_sets.get(t, ()):
            idx._roots[key] = []
        else:
            under = [r for r in idx.code_rows(t) if r.startswith(code) and r != code]
            idx._roots[key] = [r for r in under if not any(r != o and r.startswith(o) for o in under)]
    return idx._roots[key]


def _expand(idx: DocIndex, term: ex.Term, table: str, b: dict[str, str], side: int = 1
            ) -> tuple[list[TermValue], str | None, bool]:
    """Term → (values, reason a referenced table is missing, whether the row/column exist).
    `side` is -1 for the right-hand side (its terms enter the delta negated)."""
    ref = term.ref
    sign = term.sign * side
    tables = _sub(ref.table, b) if ref.table else (table,)
    t = next((x for x in tables if idx.has_table(x)), None)
    if t is None:
        return [], f"table {tables[0]} not in the document", False
    if term.is_sum:
        var = ref.row[0]
        if var == "$child":
            rows = idx.children(t, b["parent"])
        elif var == "$class":
            rows = [r for r in idx.code_rows(t) if len(r) == 3]
        elif var == "$item":
            rows = [r for r in idx.rows[t] if r.startswith("item.")]
        else:
            raise ex.ExprError(f"sum over {var}")
        out = []
        for r in rows:
            out.extend(_cell_terms(idx, t, (r,), _sub(ref.col, b), sign))
        return out, None, bool(rows) and any(c in idx.columns[t] for c in _sub(ref.col, b))
    rows, cols = _sub(ref.row, b), _sub(ref.col, b)
    got = _cell_terms(idx, t, rows, cols, sign)
    if not got:
        for r in rows:
            roots = _prefix_roots(idx, t, r)
            if roots:
                for root in roots:
                    got.extend(_cell_terms(idx, t, (root,), cols, sign))
                break
    return got, None, _exists(idx, t, rows, cols)


def _cell_terms(idx: DocIndex, t: str, rows: tuple[str, ...], cols: tuple[str, ...], sign: int) -> list[TermValue]:
    """The first present cell among the alternatives, as a term (shared: never mutated)."""
    cells, cache = idx.cells, idx._terms
    for r in rows:
        for c in cols:
            key = (t, r, c, sign)
            tv = cache.get(key)
            if tv is not None:
                return [tv]
            cell = cells.get((t, r, c))
            if cell is not None:
                v = cell.value
                allow = _ZERO if not v else half_ulp(cell.printed, cell.unit, idx.decimals.get(t))
                tv = cache[key] = TermValue(t, r, c, sign, v, cell.printed, cell.unit, cell.span, "cell", allow,
                                            cell.low_confidence)
                return [tv]
    return []


def _columns_present(idx: DocIndex, ident: Identity, table: str) -> bool:
    """Both sides name at least one column this table prints (own-table literal columns only)."""
    cols = idx.col_sets[table]
    for side in (ident.expr.left, ident.expr.right):
        lits = [c for term in side if term.ref.table is None
                for c in term.ref.col if not c.startswith("$")]
        own = [term for term in side if term.ref.table is None]
        if own and lits and len(lits) == sum(len(t.ref.col) for t in own) and not any(c in cols for c in lits):
            return False
    return True


@dataclass(frozen=True)
class _CTerm:
    """A term resolved once per table: fixed table, rows and columns; variables flagged."""
    term: ex.Term
    table: str | None
    missing: str | None
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    row_var: bool
    col_var: bool


def _compile(idx: DocIndex, ident: Identity, table: str) -> tuple[tuple[_CTerm, ...], tuple[_CTerm, ...]]:
    def one(term: ex.Term) -> _CTerm:
        ref = term.ref
        tables = ref.table if ref.table else (table,)
        t = next((x for x in tables if idx.has_table(x)), None)
        missing = None if t is not None else f"table {tables[0]} not in the document"
        return _CTerm(term, t, missing, ref.row, ref.col, any(n[0] == "$" for n in ref.row),
                      any(n[0] == "$" for n in ref.col))
    return tuple(one(t) for t in ident.expr.left), tuple(one(t) for t in ident.expr.right)


def _expand_compiled(idx: DocIndex, c: _CTerm, b: dict[str, str], side: int) -> tuple[list[TermValue], bool]:
    if c.term.is_sum:
        vals, _, there = _expand(idx, c.term, c.table, b, side)
        return vals, there
    sign = c.term.sign * side
    rows = tuple(b.get(n[1:], n) if n[0] == "$" else n for n in c.rows) if c.row_var else c.rows
    cols = tuple(b.get(n[1:], n) if n[0] == "$" else n for n in c.cols) if c.col_var else c.cols
    got = _cell_terms(idx, c.table, rows, cols, sign)
    if got:
        return got, True
    if not got:
        for r in rows:
            roots = _prefix_roots(idx, c.table, r)
            if roots:
                for root in roots:
                    got.extend(_cell_terms(idx, c.table, (root,), cols, sign))
                break
    return got, _exists(idx, c.table, rows, cols)


def _instance(idx: DocIndex, ident: Identity, table: str, b: dict[str, str], compiled=None) -> Result:
    res = Result(ident.id, ident.title, table, "not_applicable", binding=b, op=ident.expr.op)
    left: list[TermValue] = []
    right: list[TermValue] = []
    exists = {"left": False, "right": False}
    compiled = compiled or _compile(idx, ident, table)
    for name, side, terms, sign in (("left", left, compiled[0], 1), ("right", right, compiled[1], -1)):
        for c in terms:
            if c.missing:
                res.status, res.reason = "insufficient_data", c.missing
                return res
            vals, there = _expand_compiled(idx, c, b, sign)
            side.extend(vals)
            exists[name] = exists[name] or there
    res.terms = left + right
    res = settle(res, left, right, ident.severity, exists["left"], exists["right"], idx)
    if res.status == "fail" and b.get("parent") in idx.uncertain.get(table, ()):
        # a sum that holds is settled; one that fails may lack the row we could not read
        res.status, res.severity = "insufficient_data", "info"
        res.reason = f"a row under {b['parent']} could not be read"
        res.diagnosis = None
    return res


# two decimal amounts in one printed cell (238.0041,534.73 or "1,043.69 1,016.21")
_GLUED_RE = re.compile(r"\d\.\d+[\s,]*\d[\d,]*\.\d")


def settle(res: Result, left: list[TermValue], right: list[TermValue], severity: str,
           left_exists: bool = True, right_exists: bool = True, idx: "DocIndex | None" = None) -> Result:
    """Decide the outcome of one instance from its present terms.

    A side whose rows or columns the table does not print at all makes the check not
    applicable; blank cells of printed rows and columns are empty, i.e. nothing to add."""
    if not left and not right:
        res.status, res.reason = "not_applicable", "nothing printed on either side"
        return res
    if not left:
        res.status = "insufficient_data" if left_exists else "not_applicable"
        res.reason = "left side blank" if left_exists else "the table has no such total"
        return res
    if not right and not right_exists:
        res.status, res.reason = "not_applicable", "the table does not print these parts"
        return res
    unreadable = [t for t in res.terms if t.value is None]
    if len(unreadable) > 1:
        t = unreadable[0]
        res.status = "insufficient_data"
        res.reason = f"unreadable cells, e.g. {t.table}/{t.row}/{t.column} ({t.printed!r})"
        return res
    if unreadable and _GLUED_RE.search(unreadable[0].printed or ""):
        t = unreadable[0]  # two amounts read as one cell: our misreading, not the document's
        res.status = "insufficient_data"
        res.reason = f"two numbers read as one cell {t.table}/{t.row}/{t.column} ({t.printed!r})"
        return res
    if unreadable:
        # one unreadable number: the identity says what it should be; that is a finding
        t = unreadable[0]
        known = sum((x.value * x.coefficient for x in res.terms if x is not t), _ZERO)
        res.status, res.severity = "fail", severity
        res.reason = f"unreadable number {t.printed!r} in {t.table}/{t.row}/{t.column}"
        res.delta = None
        res.envelope = envelope(res.terms, idx)
        res.diagnosis = Diagnosis(t.table, t.row, t.column, None, -known / t.coefficient, 1, t.span)
        return res
    lv = sum((t.value * t.coefficient for t in left), _ZERO)
    rv = -sum((t.value * t.coefficient for t in right), _ZERO)
    res.left, res.right = lv, rv
    res.delta = lv - rv
    res.envelope = envelope(res.terms, idx)
    if res.op == "<=":
        ok, close = lv <= rv, lv - rv <= res.envelope
    elif res.op == ">=":
        ok, close = lv >= rv, rv - lv <= res.envelope
    else:
        ok, close = res.delta == 0, abs(res.delta) <= res.envelope
    if ok:
        res.status = "pass"
    elif close:
        res.status, res.severity = "rounding", "info"
    else:
        res.status, res.severity = "fail", severity
    return res
