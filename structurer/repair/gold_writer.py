"""A reviewed document as a gold file (format: evals/gold/README.md): values as printed, the
reviewer's corrections folded in, document errors they kept listed as genuine inconsistencies."""
from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path


from ..gold import GoldError, load_gold
from ..ingest import SourceText
from ..model import Document
from ..output import write_atomic
from .log import Entry, active


class GoldWriteError(ValueError):
    """The gold file cannot be written; one line."""


def _printed_number(printed: str) -> str:
    """The printed number with the breaks of the page removed ("5121 0700 .00" → "51210700.00")."""
    return re.sub(r"\s+", "", printed)


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _q(s) -> str:
    """One YAML scalar, safe inside flow collections: identifiers plain, everything else double
    quoted (a JSON string is a YAML double-quoted scalar); numbers as numbers."""
    if isinstance(s, bool):
        return "true" if s else "false"
    if isinstance(s, int):
        return str(s)
    s = str(s)
    if _PLAIN.fullmatch(s) and s.lower() not in _YAML_WORDS:
        return s
    return json.dumps(s, ensure_ascii=False)


def _flow(d: dict) -> str:
    def one(v) -> str:
        return "[" + ", ".join(_q(x) for x in v) + "]" if isinstance(v, list) else _q(v)
    return "{" + ", ".join(f"{_q(k)}: {one(v)}" for k, v in d.items()) + "}"


def _source_row(source: SourceText | None, span) -> str:
    if source is None:
        return ""
    text = source.text[span.start:span.end]
    return re.sub(r"\s+", " ", text).strip()


def how_made_text(doc: Document, entries: list[Entry], log_name: str, reviewer: str | None,
                  skipped: dict[str, int], findings_left: int) -> str:
    live = active(entries)
    by = Counter(e.action for e in live)
    who = f"by {reviewer}" if reviewer else "by a person"
    acts = ", ".join(f"{n} {a.replace('_', ' ')}" for a, n in sorted(by.items())) or "no corrections"
    undone = sum(1 for e in entries if e.action == "undo")
    parts = [
        f"Reviewed {who} in the structurer repair tool (structurer repair), starting from the "
        f"{doc.backend} extraction of {doc.meta.source or 'the source'} (sha256 {doc.meta.sha256[:16] or '?'}…). "
        f"The reviewer read each failing check beside its source lines and decided it; every "
        f"decision is in the corrections log {log_name} ({acts}; {undone} undone). "
        f"Values are written as printed (breaks inside a number joined); corrected cells carry the "
        f"reviewed value in the table's unit; values kept as document errors are listed under "
        f"genuine_inconsistencies. {findings_left} failing check(s) remained after review.",
    ]
    if skipped.get("unreadable"):
        parts.append(f"{skipped['unreadable']} unreadable cell(s) were left out (no number printed).")
    if skipped.get("duplicate"):
        parts.append(f"{skipped['duplicate']} repeated table/row id(s) were left out (first kept).")
    return " ".join(parts)


def gold_yaml(doc: Document, source: SourceText | None, entries: list[Entry], log_name: str,
              reviewer: str | None = None, findings_left: int = 0) -> str:
    skipped: Counter = Counter()
    out: list[str] = []
    m = doc.meta
    tables_out: list[str] = []
    seen_tables: set[str] = set()
    for t in doc.tables:
        if t.id in seen_tables:
            skipped["duplicate"] += 1
            continue
        seen_tables.add(t.id)
        tables_out.append(f"  {_q(t.id)}:")
        tables_out.append(f"    title: {_q(t.title)}")
        tables_out.append(f"    unit: {_q(t.unit)}")
        tables_out.append(f"    empty: {'true' if t.empty else 'false'}")
        rows, suspects, seen_rows = [], [], set()
        for r in t.rows:
            if r.suspect:
                printed = _source_row(source, r.span) or " ".join([r.label] + [c.printed for c in r.cells])
                suspects.append(f"      - {_flow({'label': r.label, 'printed': printed})}")
                continue
            if r.id in seen_rows:
                skipped["duplicate"] += 1
                continue
            seen_rows.add(r.id)
            cols = {}
            for c in r.cells:
                if c.value is None:
                    skipped["unreadable"] += 1
                    continue
                cols[c.column] = _printed_number(c.printed)
            if cols:
                rows.append(f"      {_q(r.id)}: {_flow(cols)}")
        if rows:
            tables_out.append("    rows:")
            tables_out.extend(rows)
        if suspects:
            tables_out.append("    suspect_rows:")
            tables_out.extend(suspects)
    how = how_made_text(doc, entries, log_name, reviewer, skipped, findings_left)
    out.append(f"doc: {_q(m.source)}")
    out.append("how_made: >")
    out.extend("  " + line for line in _wrap(how, 92))
    out.append("meta:")
    for k in ("agency", "agency_code", "year", "kind", "unit", "scope"):
        v = getattr(m, k)
        out.append(f"  {k}: {'null' if v is None else _q(v) if k != 'agency_code' else _q(str(v))}")
    out.append("tables:" if tables_out else "tables: {}")
    out.extend(tables_out)
    if doc.narrative:
        out.append("narrative:")
        for f in doc.narrative:
            d = {"key": f.key, "kind": f.kind, "printed": _printed_number(f.printed), "unit": f.unit}
            if f.kind == "change":
                d["sign"] = "-" if f.value < 0 else "+"
            d["line"] = f.span.line_start
            out.append(f"  - {_flow(d)}")
    else:
        out.append("narrative: []")
    if doc.performance:
        out.append("performance:")
        for p in doc.performance:
            out.append(f"  - project: {_q(p.project)}")
            if p.amount_printed:
                out.append(f"    amount: {_flow({'printed': _printed_number(p.amount_printed), 'unit': p.amount_unit or '万元'})}")
            if p.indicators:
                out.append("    indicators:")
                for i in p.indicators:
                    row = [i.level1, i.level2, i.level3 or i.description, i.value, i.basis]
                    out.append("      - [" + ", ".join(_q(x) for x in row) + "]")
            else:
                out.append("    indicators: []")
    else:
        out.append("performance: []")
    kept = [e for e in active(entries) if e.action == "document_error"]
    if kept:
        out.append("genuine_inconsistencies:")
        for e in kept:
            ident = f"{e.title} ({e.finding})" if e.title and e.finding else e.finding or e.where
            detail = (f"{e.where} printed {e.printed_old!r} kept as printed: {e.reason} "
                      f"(corrections log entry {e.id})")
            entry = {'identity': ident, 'detail': detail}
            if e.finding:
                entry['checks'] = [e.finding]
            out.append(f"  - {_flow(entry)}")
    else:
        out.append("genuine_inconsistencies: []")
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


def gold_path(doc: Document, folder: Path) -> Path:
    if not doc.meta.source:
        raise GoldWriteError("the document does not name its source file, so the gold file has no name")
    return folder / f"{Path(doc.meta.source).stem}.yaml"


def save_gold(doc: Document, source: SourceText | None, entries: list[Entry], log_name: str, folder: Path,
              overwrite: bool = False, reviewer: str | None = None, findings_left: int = 0) -> Path:
    """Write `<folder>/<source stem>.yaml`; refuses to replace an existing gold file unless told to.
    The text is first loaded back with the gold loader, identities verified: a check that still
    fails must have been kept as a document error (then it is declared), else nothing is written."""
    path = gold_path(doc, folder)
    if path.exists() and not overwrite:
        raise GoldWriteError(f"{path} exists (a hand-made gold file?): pass --force to replace it")
    text = gold_yaml(doc, source, entries, log_name, reviewer, findings_left)
    with tempfile.TemporaryDirectory() as folder_tmp:
        tmp = Path(folder_tmp) / path.name
        tmp.write_text(text, encoding="utf-8")
        try:
            load_gold(tmp, verify=True)
        except GoldError as e:
            msg = str(e).removeprefix(f"{path.name}: ")
            if "not declared" in msg:
                raise GoldWriteError("gold not written: a failing check is still undecided (accept a fix, "
                                     f"edit the value or mark it a document error): {msg}") from e
            raise GoldWriteError(f"gold not written, it would not load: {msg}") from e
    write_atomic(path, text)
    return path
