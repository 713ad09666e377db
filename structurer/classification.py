"""Functional classification names → codes, for tables that print 类/款/项 by name only.

The 款 and 项 names come from `data/functional_classification.tsv` (the national 支出功能
分类科目 as published budgets print them beside their codes; rebuilt by
tools/build_classification.py). Many 项 names repeat under every 款 (行政运行, 一般行政管理
事务), so a name is resolved against the rows printed above it: a 项 belongs to the 款 above,
a 款 to the 类 above.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from .vocab import functional_class_by_name, strip_ordinal

_PREFIX_RE = re.compile(r"^(?:其中[:：])")


@lru_cache(maxsize=1)
def _by_name() -> dict[str, tuple[str, ...]]:
    text = resources.files("structurer").joinpath("data/functional_classification.tsv").read_text("utf-8")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, *names = line.split("\t")
        for name in names:
            out.setdefault(_key(name), []).append(code)
    return {k: tuple(v) for k, v in out.items()}


_RECURRING = {"行政运行": "01", "一般行政管理事务": "02", "机关服务": "03", "事业运行": "50"}


def _key(name: str) -> str:
    return re.sub(r"支出$", "", strip_ordinal(_PREFIX_RE.sub("", name.replace(" ", ""))))


def functional_code(name: str, above: list[str]) -> str | None:
    """The code of a 类, 款 or 项 printed by `name`, given the codes of the rows above it
    (nearest last); None when unknown or ambiguous."""
    lei = functional_class_by_name(name)
    if lei:
        return lei
    seen = set(above)  # a code is printed once per table: 其他…支出 as 款 then as its own 项
    cands = tuple(c for c in _by_name().get(_key(name), ()) if c not in seen)
    last = next((c for c in reversed(above) if c and c[:1].isdigit()), "")
    fits = [c for c in cands if (len(c) == 7 and last[:5] == c[:5] and len(last) >= 5)
            or (len(c) == 5 and last[:3] == c[:3])]
    if len(set(fits)) == 1:
        return fits[0]
    if not fits and len(last) >= 5:
        key = _key(name)
        # the 项 every 款 opens and closes with keep their numbers across the classification
        tail = _RECURRING.get(key) or ("99" if key.startswith("其他") else None)
        if tail:
            return last[:5] + tail
    return cands[0] if len(set(cands)) == 1 and not fits else None
