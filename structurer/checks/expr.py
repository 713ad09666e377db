"""The catalog's expression form: `LEFT (=|<=|>=) RIGHT` over cell references.

    term  := [+|-] ref | [+|-] sum(ref)
    ref   := [table]? [row] [column]     each part may be a|b alternatives or a $variable
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_REF_RE = re.compile(r"(?:\[(?P<t>[^\]]+)\])?\[(?P<r>[^\]]+)\]\[(?P<c>[^\]]+)\]")
_TERM_RE = re.compile(r"\s*(?P<sign>[+-])?\s*(?P<sum>sum\()?\s*(?P<ref>(?:\[[^\]]+\]){2,3})\s*\)?\s*")


class ExprError(ValueError):
    pass


@dataclass(frozen=True)
class Ref:
    table: tuple[str, ...] | None  # None: the identity's own table
    row: tuple[str, ...]
    col: tuple[str, ...]


@dataclass(frozen=True)
class Term:
    sign: int
    ref: Ref
    is_sum: bool = False


@dataclass(frozen=True)
class Expr:
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]


def _ref(text: str) -> Ref:
    parts = re.findall(r"\[([^\]]+)\]", text)
    if len(parts) == 2:
        t, r, c = None, parts[0], parts[1]
    elif len(parts) == 3:
        t, r, c = parts
    else:
        raise ExprError(f"bad reference {text!r}")
    alt = lambda s: tuple(x.strip() for x in s.split("|"))  # noqa: E731
    return Ref(alt(t) if t else None, alt(r), alt(c))


def _side(text: str) -> tuple[Term, ...]:
    terms, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot parse {text[pos:]!r}")
        sign = -1 if m.group("sign") == "-" else 1
        terms.append(Term(sign, _ref(m.group("ref")), bool(m.group("sum"))))
        pos = m.end()
    if not terms:
        raise ExprError("empty side")
    return tuple(terms)


def parse(expr: str) -> Expr:
    m = re.search(r"\s(<=|>=|=)\s", expr)
    if not m:
        raise ExprError(f"no comparison in {expr!r}")
    return Expr(_side(expr[:m.start()]), m.group(1), _side(expr[m.end():]))
