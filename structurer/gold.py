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
from .checks.run import evaluate
from .model import Cell, Document, DocumentMeta, NarrativeFact, Row, Span, Table

CellKey = tuple[str, str, str]  # (table, row, column)


class GoldError(ValueError):
    pass


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """SafeLoader that refuses a mapping key written twice (PyYAML keeps the last silently)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int, float, bool)) or key is None:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                    key_node.start_mark)
            seen.add(key)
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)

TOP_LEVEL_KEYS = frozenset({"doc", "how_made", "meta", "tables", "narrative", "performance",
                            "genuine_inconsistencies", "absent_tables", "corpus", "partial"})
TABLE_KEYS = frozenset({"title", "unit", "empty", "rows", "suspect_rows", "page"})
META_CHOICES = {"kind": ("budget", "final"), "scope": ("department", "unit")}
NARRATIVE_KINDS = ("amount", "share", "change")


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
    printed: dict[CellKey, str] = field(default_factory=dict)  # cell text as written in the gold file
    titles: dict[str, str] = field(default_factory=dict)
    corpus: bool = False  # `doc` is a path inside the shared corpus of real documents
    partial: bool = False  # key cells only: cells the extractor finds beyond them are not scored
    pages: dict[str, int] = field(default_factory=dict)  # table → page where it starts (PDFs)
    # aspects a key-cell (partial) gold does not label are not scored: its document's narrative
    # facts are not wrong for being absent from a file that never listed them
    unlabelled: frozenset[str] = frozenset()

    def document(self):
        """The gold as a structurer Document (cells with their printed text and unit, narrative
        facts at their lines), so the checks engine can be run on the truth itself."""
        return gold_document(self)


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


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise GoldError(message)


def _check_schema(data: dict, name: str) -> None:
    """Shape of a gold file beyond what the loader below reads (fields, types, choices)."""
    unknown = sorted(set(map(str, data)) - TOP_LEVEL_KEYS)
    if unknown:
        raise GoldError(f"{name}: unknown top-level key {unknown[0]!r} "
                        f"(known: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    meta = data.get("meta")
    _need(meta is None or isinstance(meta, dict), f"{name}: 'meta' must be a mapping")
    for k, choices in META_CHOICES.items():
        v = (meta or {}).get(k)
        _need(v is None or v in choices, f"{name}: meta.{k} must be one of {', '.join(choices)} (got {v!r})")
    year = (meta or {}).get("year")
    _need(year is None or (isinstance(year, int) and not isinstance(year, bool)),
          f"{name}: meta.year must be a number like 2023 (got {year!r})")
    unit = (meta or {}).get("unit")
    _need(unit is None or unit in vocab.UNIT_FACTORS, f"{name}: meta.unit: unknown unit {unit!r}")
    tables = data.get("tables")
    _need(tables is None or isinstance(tables, dict), f"{name}: 'tables' must map table ids to tables")
    for tid, t in (tables or {}).items():
        _need(t is None or isinstance(t, dict), f"{name}: {tid}: a table must be a mapping")
        t = t or {}
        bad = sorted(set(map(str, t)) - TABLE_KEYS)
        if bad:
            raise GoldError(f"{name}: {tid}: unknown table key {bad[0]!r}")
        _need(t.get("unit") is None or t["unit"] in vocab.UNIT_FACTORS,
              f"{name}: {tid}: unknown unit {t.get('unit')!r}")
        _need(isinstance(t.get("empty", False), bool), f"{name}: {tid}: 'empty' must be true or false")
        _need(t.get("rows") is None or isinstance(t["rows"], dict),
              f"{name}: {tid}: 'rows' must map row ids to columns")
        for rid, cols in (t.get("rows") or {}).items():
            for col, printed in (cols or {}).items() if isinstance(cols, dict) else ():
                _need(isinstance(printed, str) or (isinstance(printed, int) and not isinstance(printed, bool)),
                      f"{name}: {tid}/{rid}/{col}: write the value quoted, exactly as printed "
                      f"(got {printed!r})")
        sr = t.get("suspect_rows")
        _need(sr is None or (isinstance(sr, list) and all(isinstance(x, dict) for x in sr)),
              f"{name}: {tid}: 'suspect_rows' must be a list of {{label, printed}}")
    for k, f in enumerate(data.get("narrative") or []):
        where = f"{name}: narrative[{k}]"
        _need(isinstance(f, dict), f"{where}: must be a mapping")
        kind = f.get("kind", "amount")
        _need(kind in NARRATIVE_KINDS, f"{where}: kind must be one of {', '.join(NARRATIVE_KINDS)} (got {kind!r})")
        _need(kind != "share" or str(f.get("unit")) == "%", f"{where}: a share's unit is %")
        _need(str(f.get("sign", "+")).strip() in ("+", "-", "−"), f"{where}: sign must be + or -")
        line = f.get("line")
        _need(line is None or (isinstance(line, int) and line > 0), f"{where}: line must be a line number")
    for k, p in enumerate(data.get("performance") or []):
        where = f"{name}: performance[{k}]"
        inds = p.get("indicators") if isinstance(p, dict) else None
        _need(inds is None or isinstance(inds, list), f"{where}: indicators must be a list")
        for j, row in enumerate(inds or []):
            _need(isinstance(row, list) and len(row) <= 5,
                  f"{where}.indicators[{j}]: an indicator is [一级, 二级, 三级, 指标值, 依据]")
        amt = p.get("amount") if isinstance(p, dict) else None
        _need(not amt or (isinstance(amt, dict) and "printed" in amt),
              f"{where}: amount must be {{printed, unit}}")
    gi = data.get("genuine_inconsistencies")
    _need(gi is None or isinstance(gi, list), f"{name}: genuine_inconsistencies must be a list")
    for k, e in enumerate(gi or []):
        where = f"{name}: genuine_inconsistencies[{k}]"
        _need(isinstance(e, dict) and str(e.get("identity") or "").strip(),
              f"{where}: needs 'identity' (which identity the document breaks) and 'detail'")
        checks = e.get("checks")
        _need(checks is None or (isinstance(checks, list) and all(isinstance(c, str) for c in checks)),
              f"{where}: 'checks' must be a list of check ids or instances")


def load_gold(path: str | Path, verify: bool = False) -> Gold:
    """Load and validate a gold file; `verify` also runs the identity checks on it
    (see verify_identities)."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise GoldError(f"{path.name}: cannot read gold file: {' '.join(str(e).split())[:200]}") from e
    if not isinstance(data, dict) or "doc" not in data or "tables" not in data:
        raise GoldError(f"{path.name}: a gold file needs 'doc' and 'tables'")
    if not str(data.get("how_made", "")).strip():
        raise GoldError(f"{path.name}: a gold file must say how it was made ('how_made')")
    _check_schema(data, path.name)
    partial = bool(data.get("partial"))
    gold = Gold(doc=str(data["doc"]), path=path, meta=dict(data.get("meta") or {}),
                corpus=bool(data.get("corpus")), partial=partial,
                unlabelled=frozenset(a for a in ("narrative", "performance") if partial and a not in data))
    for tid, t in (data.get("tables") or {}).items():
        if tid not in vocab.KIND_BY_ID:
            raise GoldError(f"{path.name}: unknown table id {tid!r}")
        t = t or {}
        unit = str(t.get("unit") or gold.meta.get("unit") or "元")
        gold.units[tid] = unit
        gold.tables.add(tid)
        gold.titles[tid] = str(t.get("title") or "")
        if t.get("page") is not None:
            _need(isinstance(t["page"], int) and t["page"] > 0, f"{path.name}: {tid}: page must be a page number")
            gold.pages[tid] = t["page"]
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
                gold.printed[key] = str(printed)
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
    if verify:
        verify_identities(gold)
    return gold


def load_gold_dir(path: str | Path, verify: bool = False) -> list[Gold]:
    return [load_gold(p, verify) for p in sorted(Path(path).glob("*.yaml"))]


# --------------------------------------------------------------------------- identities

def gold_document(gold: Gold):
    """A Document holding exactly the gold cells (printed text and unit kept, spans empty) and
    the gold narrative facts at their lines."""
    nowhere = Span(line_start=0, line_end=0, start=0, end=0)
    rows: dict[str, dict[str, list]] = {}
    for (tid, rid, col), value in gold.cells.items():
        unit = "count" if col == "quantity" else gold.units[tid]
        cell = Cell(column=col, value=value, printed=gold.printed.get((tid, rid, col), str(value)),
                    unit=unit, span=nowhere)
        rows.setdefault(tid, {}).setdefault(rid, []).append(cell)
    tables = [Table(id=tid, title=gold.titles.get(tid, ""), unit=gold.units[tid], span=nowhere,
                    empty=tid in gold.empty_tables,
                    rows=[Row(id=rid, span=nowhere, cells=cells) for rid, cells in rows.get(tid, {}).items()])
              for tid in sorted(gold.tables, key=lambda t: vocab.TABLE_IDS.index(t))]
    narrative = [NarrativeFact(key=f.key, kind=f.kind, value=f.value, printed=f.printed, unit=f.unit,
                               span=Span(line_start=f.line or 0, line_end=f.line or 0, start=0, end=0))
                 for f in gold.narrative]
    meta = {k: gold.meta.get(k) for k in ("agency", "agency_code", "year", "kind", "unit", "scope")}
    meta["agency_code"] = None if meta["agency_code"] is None else str(meta["agency_code"])
    return Document(meta=DocumentMeta(source=gold.doc, **meta), tables=tables, narrative=narrative,
                    backend="gold")


def _result_names(r) -> set[str]:
    """Words a declaration may use for a failing check instance: its rows / narrative keys."""
    names = {v for k, v in r.binding.items() if k != "line"}
    names.update(t.row for t in r.terms if t.kind == "cell")
    return {n for n in names if n}


def is_declared(r, declared: list[dict]) -> bool:
    """A failing check instance is declared when an entry of genuine_inconsistencies lists it
    (or its identity id) under `checks:`, or its text names both the table (or `narrative`)
    and one of the rows / narrative keys the instance is about."""
    for e in declared:
        checks = e.get("checks") or []
        if r.instance in checks or r.identity in checks:
            return True
        if checks:
            continue
        text = f"{e.get('identity', '')} {e.get('detail', '')}"
        words = set(re.findall(r"[A-Za-z0-9_.]+", text))
        if r.table in words:
            if any(n in words for n in _result_names(r)):
                return True
    return False


def verify_identities(gold: Gold):
    """Run the checks engine on the gold cells: every failing identity must be declared under
    genuine_inconsistencies, else the gold file is wrong (or the document's break undeclared).
    Returns the check report."""
    report = evaluate(gold_document(gold))
    undeclared = [r for r in report.findings() if not is_declared(r, gold.inconsistencies)]
    if undeclared and not gold.partial:  # key-cell gold leaves rows out, so sums over them cannot close
        r = undeclared[0]
        more = f" (and {len(undeclared) - 1} more)" if len(undeclared) > 1 else ""
        what = r.reason or (f"{r.left} vs {r.right}, difference {r.delta}" if r.delta is not None else "")
        raise GoldError(f"{gold.path.name}: identity fails on the gold values and is not declared under "
                        f"genuine_inconsistencies: {r.instance} {r.title}: {what}{more}")
    return report
