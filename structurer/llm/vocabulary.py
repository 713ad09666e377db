"""The canonical ids as the model sees them: per table, the column ids and row keys with
the printed words they stand for (docs/domain §4, evals/gold/README.md).

The ids and their printed words live in `structurer.vocab` (COLUMNS, ROWS, NARRATIVE_KEYS);
this module picks the ones a chunk needs, so prompts stay short.
"""
from __future__ import annotations

import re

from .. import vocab
from ..normalize import compact
from ..vocab import CODED_ROW_RULE, COLUMNS, NARRATIVE_KEY_SUFFIX, NARRATIVE_KEYS, ROWS

CODE_RE = vocab.CODE_RE



def _fixed_rows(table_id: str) -> set[str]:
    return {k for k in ROWS.get(table_id, {}) if "<" not in k and "…" not in k}


def valid_row_id(table_id: str, row_id: str) -> bool:
    """Is `row_id` a canonical row id for this table?"""
    if row_id in _fixed_rows(table_id):
        return True
    if re.fullmatch(r"unit\.\d{1,12}", row_id):
        return table_id not in ("revenue_expenditure_summary", "fiscal_grant_summary", "three_public", "assets")
    if re.fullmatch(r"item\.\d{2,3}", row_id):
        return table_id in ("project_expenditure", "procurement")
    if CODE_RE.match(row_id):
        if table_id in ("revenue_expenditure_summary", "fiscal_grant_summary"):
            return len(row_id) == 3
        return table_id not in ("three_public", "assets", "project_expenditure", "procurement")
    return False


def valid_column(table_id: str, column: str) -> bool:
    return column in COLUMNS.get(table_id, {})


def valid_narrative_key(key: str) -> bool:
    base = key[: -len(NARRATIVE_KEY_SUFFIX)] if key.endswith(NARRATIVE_KEY_SUFFIX) else key
    if base in NARRATIVE_KEYS:
        return True
    m = re.fullmatch(r"general_budget_expenditure\.(\d{3})", base)
    return bool(m) and m.group(1) in vocab.FUNCTIONAL_CLASSES


def _fmt(d: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in d.items())


def _needles(name: str) -> list[re.Pattern[str]]:
    """Search patterns of a vocabulary name: alternatives split at '/', the last '·' part,
    parenthesized text optional, explanations in brackets dropped."""
    out = []
    for alt in name.split("/"):
        alt = re.sub(r"\((?:under|both|final|a |the |an )[^)]*\)|\s*\(.*? .*?\)", "", alt).split("·")[-1]
        alt = compact(alt)
        if not alt or alt.startswith("<"):
            continue
        parts = re.split(r"(\([^)]*\))", alt)
        rx = "".join(f"(?:{re.escape(p[1:-1])})?" if p.startswith("(") else re.escape(p) for p in parts if p)
        out.append(re.compile(rx))
    return out


def _present(name: str, text: str) -> bool:
    return any(p.search(text) for p in _needles(name))


_ALWAYS = {"total", "amount", "unit.<code>", "subtotal"}


def value_text(lines: list[str], has_values) -> str:
    """Compact text of the lines that print values (and of the lines above a value line
    without a label, where its label was wrapped)."""
    keep = set()
    for k, ln in enumerate(lines):
        if has_values(ln):
            keep.add(k)
            if not re.search(r"[\u3400-\u9fff]", ln):  # the label is printed on a line above
                keep.update((k - 2, k - 1))
    return "".join(compact(lines[k]) for k in sorted(keep) if 0 <= k < len(lines))


def table_vocabulary(table_id: str, header_text: str, value_lines_text: str) -> str:
    """The ids a table chunk may use: the columns whose header words are printed, the row
    keys and code names printed on (or next to) lines with values."""
    head = compact(header_text)
    body = compact(value_lines_text)
    cols = {k: v for k, v in COLUMNS.get(table_id, {}).items() if k in _ALWAYS or _present(v, head)}
    rows = {k: v for k, v in ROWS.get(table_id, {}).items()
            if k in _ALWAYS or "<" in k or "…" in k or k in ("personnel_total", "public_total")
            or _present(v, body)}
    parts = [f"columns: {_fmt(cols or COLUMNS.get(table_id, {}))}", f"rows: {_fmt(rows)}"]
    if table_id in vocab.CODED_TABLES:
        parts.append(CODED_ROW_RULE)
    names: list[str] = []
    if table_id in ("revenue_expenditure_summary", "fiscal_grant_summary"):
        for code, alts in vocab.FUNCTIONAL_CLASSES.items():
            hit = next((a for a in alts if a in body), None)
            if hit:
                names.append(f"{code}={hit}")
    elif table_id in ("general_budget_basic_expenditure", "economic_classification", "operating_costs"):
        for code, name in vocab.ECONOMIC_NAMES.items():
            if compact(name) in body and code not in body:
                names.append(f"{code}={name}")
    if names:
        parts.append("codes of names: " + "; ".join(names))
    return "\n".join(parts)


_STATED_RE = re.compile(r"\d(?:[\d,.]*\d)?(?:亿元|万元|千元|元|%)")
_SUBJECT_KEYS = [(s.keys, re.compile(s.pattern)) for s in vocab.NARRATIVE_SUBJECTS if s.keys]


def narrative_vocabulary(kind: str | None, text: str) -> str:
    """The fact keys whose subjects the prose names."""
    flat = compact(text)
    # the clauses right before each stated number: where a fact's subject is printed
    near = "|".join(flat[max(0, m.start() - 40):m.start()] for m in _STATED_RE.finditer(flat))
    wanted = {k for keys, rx in _SUBJECT_KEYS if rx.search(near) for k in keys}
    keys = {k: v for k, v in NARRATIVE_KEYS.items()
            if k in wanted or (k.endswith("<类 code>") and any(w.startswith("general_budget_expenditure.")
                                                               for w in wanted))}
    extra = (f"\nin final accounts a stated 预算数 takes the suffix {NARRATIVE_KEY_SUFFIX}"
             if kind == "final" else "")
    return f"keys: {_fmt(keys)}{extra}"
