"""Table ↔ narrative checks: restated amounts equal the tables after unit conversion, and stated
shares equal the shares recomputed from the tables, each within its printed precision."""
from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from ..model import Document, NarrativeFact
from . import expr as ex
from .engine import _expand, _sub, half_ulp, settle
from .model import Result, TermValue

MAP_PATH = Path(__file__).with_name("narrative.yaml")


@lru_cache(maxsize=2)
def load_map(path: str = str(MAP_PATH)) -> tuple[dict[str, ex.Ref], dict[str, str], dict[str, list[str]]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    # a list is tried in order: the first reference whose cells the document prints is used
    amounts = {k: tuple(ex._ref(x) for x in (v if isinstance(v, list) else [v]))
               for k, v in (data.get("amounts") or {}).items()}
    return amounts, dict(data.get("shares") or {}), dict(data.get("change_sums") or {})


_PARAGRAPH_LINES = 4  # parts of a change are stated within a few lines of the total


def change_results(doc: Document) -> list[Result]:
    """A stated change of a total equals the stated changes of its parts."""
    _, _, sums = load_map()
    changes = [f for f in doc.narrative if f.kind == "change" and f.unit != "%"]
    out = []
    for i, f in enumerate(changes):
        parts = sums.get(f.key)
        if not parts:
            continue
        found: dict[str, NarrativeFact] = {}
        for g in changes[i + 1:]:
            if g.span.line_start - f.span.line_end > _PARAGRAPH_LINES or g.key in sums:
                break
            if g.key in parts and g.key not in found:
                found[g.key] = g
        if len(found) < 2:
            continue
        res = Result("narrative.change_sum", f"说明中的增减额 = 各部分增减额之和 ({f.key})", "narrative",
                     "not_applicable", binding={"key": f.key, "line": str(f.span.line_start)})
        left = [_fact_term(f, 1)]
        right = [_fact_term(g, -1) for g in found.values()]
        res.terms = left + right
        out.append(settle(res, left, right, "warning"))
    return out


def _lookup(key: str, table: dict) -> tuple[object, dict[str, str]] | None:
    if key in table:
        return table[key], {}
    m = re.fullmatch(r"(.+)\.(\d{3})(\.budget)?", key)
    if m:
        generic = f"{m.group(1)}.$code{m.group(3) or ''}"
        if generic in table:
            return table[generic], {"code": m.group(2)}
    return None


def _cells(idx, ref: ex.Ref, b: dict[str, str]) -> list[TermValue]:
    """The table value(s) stating a reference (a 类 a table does not print: its 项 rows)."""
    table = ref.table[0] if ref.table else ""
    vals, missing, _ = _expand(idx, ex.Term(1, ref), table, b)
    return [] if missing else vals


def _pick(idx, refs: tuple[ex.Ref, ...], b: dict[str, str]) -> ex.Ref:
    return next((r for r in refs if _cells(idx, r, b)), refs[0])


def _cell(idx, ref: ex.Ref, b: dict[str, str]) -> TermValue | None:
    got = _cells(idx, ref, b)
    if len(got) > 1:  # a share needs one number: add the parts up
        total = sum((t.value for t in got if t.value is not None), Decimal(0))
        return TermValue(got[0].table, ref.row[0], got[0].column, 1, total, None, got[0].unit, got[0].span)
    return got[0] if got else None




def _other_scope(res: Result, f: NarrativeFact, ref: ex.Ref, b: dict[str, str], idx) -> Result | None:
    """Prose says 基本支出 without saying of which funds: when the first table that states it
    disagrees, another table the reference names (the general budget's) may be the one meant."""
    for table in _sub_tables(ref, b)[1:]:
        cells = _cells(idx, replace(ref, table=(table,)), b) if idx.has_table(table) else []
        if not cells:
            continue
        alt = Result(res.identity, res.title, res.table, "not_applicable", binding=dict(res.binding))
        alt.terms = [_fact_term(f, 1), *(replace(c, coefficient=-1) for c in cells)]
        alt = settle(alt, [alt.terms[0]], alt.terms[1:], "error", idx=idx)
        if alt.status in ("pass", "rounding"):
            alt.reason = f"as stated by {table}"
            return alt
    return None


def _share_result(f: NarrativeFact, part: TermValue | None, whole: TermValue | None) -> Result:
    res = Result("narrative.share", f"说明中的占比 = 表中数重算 ({f.key})", "narrative",
                 "insufficient_data", binding={"key": f.key, "line": str(f.span.line_start)})
    if part is None or whole is None or not whole.value or part.value is None:
        res.reason = f"no table values to recompute the share of {f.key}"
        return res
    share = part.value / whole.value * 100
    # printed share precision plus what the rounding of the two amounts can move it
    pct = _percent_half_ulp(f.printed)
    env = pct + share * (half_ulp(part.printed, part.unit) / part.value
                         + half_ulp(whole.printed, whole.unit) / whole.value) if part.value else pct
    res.terms = [_fact_term(f, 1), part, whole]
    res.linear = False
    res.left, res.right = f.value, share.quantize(Decimal("0.0001"))
    res.delta = f.value - share
    res.envelope = env
    if res.delta == 0:
        res.status = "pass"
    elif abs(res.delta) <= env:
        res.status, res.severity = "rounding", "info"
    else:
        res.status, res.severity = "fail", "warning"
    return res


def _sub_tables(ref: ex.Ref, b: dict[str, str]) -> tuple[str, ...]:
    return _sub(ref.table, b) if ref.table else ()


def _percent_half_ulp(printed: str) -> Decimal:
    m = re.search(r"\.(\d+)", printed)
    return Decimal(5).scaleb(-((len(m.group(1)) if m else 0) + 1))


def _fact_term(f: NarrativeFact, coef: int) -> TermValue:
    return TermValue("narrative", f.key, f"{f.kind}@{f.span.line_start}", coef, f.value,
                     f.printed, f.unit, f.span, "narrative")


def narrative_results(doc: Document, idx) -> list[Result]:
    amounts, shares, _ = load_map()
    out: list[Result] = change_results(doc)
    for f in doc.narrative:
        if f.kind == "amount":
            hit = _lookup(f.key, amounts)
            if hit is None:
                continue
            refs, b = hit
            ref = _pick(idx, refs, b)
            res = Result("narrative.amount", f"说明中的金额 = 表中数 ({f.key})", "narrative",
                         "not_applicable", binding={"key": f.key, "line": str(f.span.line_start)})
            cells = _cells(idx, ref, b)
            if not cells:
                res.terms = [_fact_term(f, 1)]
                table = next((t for t in _sub_tables(ref, b) if idx.has_table(t)), None)
                if table is None:
                    res.status = "insufficient_data"
                    res.reason = f"no table in the document states {f.key}"
                elif f.value == 0:
                    res.status, res.reason = "pass", f"zero, and {table} leaves it blank"
                else:
                    # a blank is no evidence: the row may be printed where it was not read, and
                    # proposing the prose be "fixed" to zero would destroy a true number
                    res.status = "insufficient_data"
                    res.reason = f"{table} has no value for {f.key} (blank, or not read)"
                out.append(res)
                continue
            cells = [replace(c, coefficient=-1) for c in cells]  # shared terms: copy, never mutate
            res.terms = [_fact_term(f, 1), *cells]
            res = settle(res, [res.terms[0]], cells, "error", idx=idx)
            if res.status == "fail":
                res = _other_scope(res, f, ref, b, idx) or res
            out.append(res)
        elif f.kind == "share":
            hit, base = _lookup(f.key, amounts), _lookup(f.key, shares)
            if hit is None or base is None:
                continue
            (refs, b), (base_keys, _) = hit, base
            part = _cell(idx, _pick(idx, refs, b), b)
            # prose takes a share of this year's revenue or of the total with the carryover:
            # the first base the share matches is kept, else the first one that could be computed
            tried = []
            for base_key in (base_keys if isinstance(base_keys, list) else [base_keys]):
                base_hit = _lookup(str(base_key).replace("$code", b.get("code", "")), amounts)
                whole = _cell(idx, _pick(idx, base_hit[0], base_hit[1]), base_hit[1]) if base_hit else None
                tried.append(_share_result(f, part, whole))
            out.append(next((r for r in tried if r.status in ("pass", "rounding")), None)
                       or next((r for r in tried if r.status == "fail"), tried[0]))
    return out
