"""Hand-labelled gold files (evals/gold/*.yaml): loading and validation.

Values are written as printed; the loader turns them into Decimal 元 with each table's
unit, so a gold file reads like the document and compares like the model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from . import vocab

CellKey = tuple[str, str, str]  # (table, row, column)


class GoldError(ValueError):
    pass


@dataclass
class GoldNarrative:
    key: str
    kind: str
    value: Decimal
    printed: str
    unit: str
    line: int | None = None


@dataclass
class GoldIndicator:
    level1: str
    level2: str
    level3: str
    value: str
    basis: str


@dataclass
class GoldTarget:
    project: str
    amount: Decimal | None
    indicators: list[GoldIndicator]


@dataclass
class Gold:
    doc: str
    path: Path
    meta: dict
    cells: dict[CellKey, Decimal] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    empty_tables: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    narrative: list[GoldNarrative] = field(default_factory=list)
    performance: list[GoldTarget] = field(default_factory=list)
    inconsistencies: list[dict] = field(default_factory=list)


def parse_number(printed: str, unit: str, where: str) -> Decimal:
    text = str(printed).strip().replace(",", "").replace("−", "-").replace(" ", "")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        raise GoldError(f"{where}: not a number: {printed!r}")
    try:
        value = Decimal(text)
    except InvalidOperation as e:  # pragma: no cover - regex above guards it
        raise GoldError(f"{where}: not a number: {printed!r}") from e
    if unit in ("count", "%"):
        return value
    if unit not in vocab.UNIT_FACTORS:
        raise GoldError(f"{where}: unknown unit {unit!r}")
    return value * vocab.UNIT_FACTORS[unit]


def load_gold(path: str | Path) -> Gold:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise GoldError(f"{path.name}: cannot read gold file: {str(e).splitlines()[0]}") from e
    if not isinstance(data, dict) or "doc" not in data or "tables" not in data:
        raise GoldError(f"{path.name}: a gold file needs 'doc' and 'tables'")
    if not str(data.get("how_made", "")).strip():
        raise GoldError(f"{path.name}: a gold file must say how it was made ('how_made')")
    gold = Gold(doc=str(data["doc"]), path=path, meta=dict(data.get("meta") or {}))
    for tid, t in (data.get("tables") or {}).items():
        if tid not in vocab.KIND_BY_ID:
            raise GoldError(f"{path.name}: unknown table id {tid!r}")
        t = t or {}
        unit = str(t.get("unit") or gold.meta.get("unit") or "元")
        gold.units[tid] = unit
        gold.tables.add(tid)
        if t.get("empty"):
            gold.empty_tables.add(tid)
        for rid, cols in (t.get("rows") or {}).items():
            if not isinstance(cols, dict):
                raise GoldError(f"{path.name}: {tid}/{rid}: row must map columns to values")
            for col, printed in cols.items():
                where = f"{path.name}: {tid}/{rid}/{col}"
                key = (tid, str(rid), str(col))
                if key in gold.cells:
                    raise GoldError(f"{where}: duplicate cell")
                gold.cells[key] = parse_number(printed, "count" if col == "quantity" else unit, where)
    for k, f in enumerate(data.get("narrative") or []):
        where = f"{path.name}: narrative[{k}]"
        try:
            kind = f.get("kind", "amount")
            unit = str(f["unit"])
            value = parse_number(f["printed"], unit, where)
            if kind == "change" and str(f.get("sign", "+")).strip() in ("-", "−"):
                value = -value
            gold.narrative.append(GoldNarrative(str(f["key"]), kind, value, str(f["printed"]),
                                                unit, f.get("line")))
        except (KeyError, TypeError) as e:
            raise GoldError(f"{where}: needs key, printed and unit") from e
    for k, p in enumerate(data.get("performance") or []):
        where = f"{path.name}: performance[{k}]"
        if not isinstance(p, dict) or "project" not in p:
            raise GoldError(f"{where}: needs a project name")
        amount = None
        if p.get("amount"):
            amount = parse_number(p["amount"]["printed"], p["amount"].get("unit", "万元"), where)
        inds = []
        for row in p.get("indicators") or []:
            row = [str(x) if x is not None else "" for x in row] + [""] * 5
            inds.append(GoldIndicator(*row[:5]))
        gold.performance.append(GoldTarget(str(p["project"]), amount, inds))
    gold.inconsistencies = list(data.get("genuine_inconsistencies") or [])
    return gold


def load_gold_dir(path: str | Path) -> list[Gold]:
    return [load_gold(p) for p in sorted(Path(path).glob("*.yaml"))]
