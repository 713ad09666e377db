"""Single-cell diagnosis: when changing one value would satisfy every failing identity it takes
part in (without breaking one that holds), name that value and the number that fixes it."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .. import vocab
from .model import CheckReport, Diagnosis, Result, TermValue

_EVALUATED = ("fail", "pass", "rounding")


def _holds(op: str, delta: Decimal, envelope: Decimal) -> bool:
    if op == "<=":
        return delta <= envelope
    if op == ">=":
        return delta >= -envelope
    return abs(delta) <= envelope


def _digits(v: Decimal | None, printed: str | None) -> str:
    return "".join(ch for ch in (printed or "") if ch.isdigit())


def typo_fix(printed: str | None, unit: str | None, fix: Decimal, envelope: Decimal) -> tuple[int, Decimal]:
    """The value within the rounding envelope of `fix` that is closest to the printed digits by
    a slip of the pen, with its edit distance (a printed total carries 尾差, so the exact fix
    is rarely the original number)."""
    factor = Decimal(vocab.UNIT_FACTORS.get(unit or "", 1))
    dec = len(printed.split(".")[-1]) if printed and "." in printed else 0
    step = factor * Decimal(1).scaleb(-dec)
    best = (typo_distance(printed, fix / factor, dec), fix)
    k = min(int(envelope / step) if step else 0, 20)
    base = (fix / step).to_integral_value() * step
    for i in range(-k, k + 1):
        v = base + i * step
        if abs(v - fix) <= envelope:
            dist = typo_distance(printed, v / factor, dec)
            if dist < best[0]:
                best = (dist, v)
    return best


def typo_distance(printed: str | None, value: Decimal, dec: int) -> int:
    """Edit distance (substitution, insertion, deletion, adjacent transposition) between the
    printed digits and the digits of `value` (in the printed unit) written with `dec` decimals."""
    a = _digits(None, printed)
    if value < 0:
        return 99
    b = "".join(ch for ch in format(value.quantize(Decimal(1).scaleb(-dec)), "f") if ch.isdigit())
    # Damerau-Levenshtein on short strings
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _grounded(r: Result, t: TermValue, fix: Decimal | None) -> bool:
    """May `fix` be proposed for `t` to satisfy `r`? Only when a value was extracted on the other
    side of the check: a blank is no evidence (the other side may be printed where it was not
    read), and "fixing" a printed number to what a blank says would zero it. A number stated in
    the prose is never proposed to be zero (the tables printing zeros there is no slip of the pen
    in the prose)."""
    if t.kind == "narrative" and fix == 0 and t.value != 0:
        return False
    return any(o is not t and o.value is not None and (o.coefficient > 0) != (t.coefficient > 0)
               for o in r.terms)


def diagnose(report: CheckReport) -> None:
    for r in report.results:  # an unreadable value's fix is the checks' too: same rules
        d = r.diagnosis
        if d is not None and r.status == "fail" and r.delta is None:
            t = next((t for t in r.terms if t.key == (d.table, d.row, d.column)), None)
            if t is None or not _grounded(r, t, d.fix):
                r.diagnosis = None
    fails = [r for r in report.results if r.status == "fail" and r.delta is not None and r.linear]
    if not fails:
        return
    suspects = {(t.kind, t.key) for r in fails for t in r.terms}
    suspect_rows = {(t.table, t.row) for r in fails for t in r.terms}
    by_term: dict[tuple, list[tuple[Result, TermValue]]] = defaultdict(list)
    rows: dict[tuple[str, str], set] = defaultdict(set)  # values printed in each suspect row
    for r in report.results:
        if r.status in _EVALUATED and r.linear:
            for t in r.terms:
                k = (t.kind, (t.table, t.row, t.column))
                if k in suspects:
                    by_term[k].append((r, t))
                if (t.table, t.row) in suspect_rows and t.value is not None and t.kind == "cell":
                    rows[(t.table, t.row)].add((t.column, t.value))
    candidates: list[tuple[int, int, tuple, Diagnosis, set[int]]] = []
    for key, entries in by_term.items():
        failing = [(r, t) for r, t in entries if r.status == "fail" and r.op == "="]
        if not failing or failing[0][1].value is None or any(r.delta is None for r, _ in entries):
            continue  # an unreadable value or an unmeasured delta: nothing to propose
        old = failing[0][1].value
        fixes = [(r.envelope, t.value - r.delta / t.coefficient) for r, t in failing]
        tol = max(env for env, _ in fixes)
        fix = min(fixes)[1]  # the tightest check says most precisely what the value should be
        if any(abs(f - fix) > tol for _, f in fixes):
            continue  # the failures disagree on what this value should be
        if not all(_grounded(r, t, fix) for r, t in failing):
            continue  # nothing extracted on the other side of a check: no evidence for a fix
        if all(_holds(r.op, r.delta + t.coefficient * (fix - t.value), r.envelope) for r, t in entries):
            t0 = failing[0][1]
            slack = min(env for env, _ in fixes)
            dist, likely = typo_fix(t0.printed, t0.unit, fix, slack)
            if dist <= 2 and all(_holds(r.op, r.delta + t.coefficient * (likely - t.value), r.envelope)
                                 for r, t in entries):
                fix = likely  # the original number a slip of the pen turned into the printed one
            d = Diagnosis(t0.table, t0.row, t0.column, old, fix, len(failing), t0.span)
            covered = {id(r) for r, _ in failing}
            agrees = sum(1 for _, v in rows.get((t0.table, t0.row), ()) if v == fix) if fix != old else 0
            candidates.append((len(failing), not t0.doubtful, dist, -agrees, len(entries),
                               key, d, covered))
    # each failing check gets the candidate that explains the most failures; among equals, a
    # value OCR read with low confidence, then the one a single slip of the pen (one digit
    # changed, dropped, added or swapped) explains, then one whose fix repeats a value already
    # printed in its row
    candidates.sort(key=lambda c: (-c[0], c[1], c[2], c[3], -c[4], str(c[5])))
    for r in fails:
        if not r.linear:
            continue
        for *_, d, covered in candidates:
            if id(r) in covered:
                r.diagnosis = d
                break
