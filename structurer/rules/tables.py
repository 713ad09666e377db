"""Records of one table section → canonical rows and cells (vocab ids, Decimal 元)."""
from __future__ import annotations

import bisect
import re
from collections import Counter
from decimal import Decimal

from .. import vocab
from ..classification import functional_code
from ..layout import Layout
from ..model import Cell, Row, Table
from ..normalize import NText, compact
from ..segment import SectionLoc
from . import header as hdr
from . import summary
from .header_grid import place_leaves
from .labels import _is_label, _match_rows
from .records import CODE_RE, NUM_RE, SEQ_RE, Record, build_grid

SUMMARY_TABLES = {"revenue_expenditure_summary", "fiscal_grant_summary"}
ITEM_TABLES = {"procurement", "project_expenditure"}
# 合计, or the table's own total named in full (机关运行经费合计, 支出合计)
_TOTAL_LABEL_RE = re.compile(r"^(合计|总计|合\s*计|(机关|机构)运行经费(支出)?(合计|总计)|(本年)?支出(合计|总计))$")
_DIGIT_RE = re.compile(r"\d")
# a code printed inside the label: bracketed, or followed by a space before the name
_CODE_NAME_RE = re.compile(r"^(?:[\[【(（]\s*(\d{3}(?:\d{2}){0,2})\s*[\]】)）]|(\d{3}(?:\d{2}){0,2})\s+(?=\D))\s*")
_UNIT_CODE_RE = re.compile(r"\d{3,9}")

_NEUTRAL = {"code_group", "fund_nature", "proc_amount", "proc_source", "revenue_side",
            "expenditure_side", "gb_basic", "item"}


def column_id(path: tuple[str, ...], table_id: str) -> str | None:
    """Canonical column id of a header leaf path, or None for a key column."""
    if hdr.is_key(path) or path[-1] in ("colno", "ignore"):
        return None
    toks = [t for t in path if t not in _NEUTRAL]
    if not toks:
        return None
    toks = hdr.scoped(toks, table_id)  # (word-order leaves: path leaves are scoped already)
    if toks[-1] == "subtotal" and len(toks) > 1:
        toks = toks[:-1]
    if toks[-1] == "fiscal_grant_sub":
        toks[-1] = "fiscal_grant"
    if toks[0] == "current_year_exp":
        toks = toks[1:] or ["total"]
    if toks[0] == "current_year":
        if len(toks) == 1:
            return "current_year" if table_id == "revenue" else "current_year_revenue"
        toks = toks[1:]
    if len(toks) == 1 and toks[0] in ("budget", "final", "amount"):
        # a narrow table without codes (三公 listed down the page) has an amount, not a total
        return "amount" if table_id in SUMMARY_TABLES or table_id == "three_public" else "total"
    if len(toks) == 1 and toks[0] == "subtotal":
        return "total"
    toks = ["operating" if t == "operating_revenue" else t for t in toks]
    return ".".join(toks)


class TableParser:
    def __init__(self, layout: Layout, sec: SectionLoc, agency: str | None):
        self.layout = layout
        self.sec = sec
        self.agency = agency
        self.unit = sec.unit or "元"
        self.factor = Decimal(vocab.UNIT_FACTORS.get(self.unit, 1))
        self.grid = build_grid(layout.lines, sec.first + 1, sec.last, agency)
        self.path_mode = False
        hl = self.grid.header_lines
        last = layout.lines[hl[-1]].norm.text if hl else ""
        if self.grid.mode == "tab" and "\t" in last and (hdr.PATH_SEP in last or layout.source.format == "pdf"):
            # a header laid out as a grid: one path per column
            self.path_mode = True
            self.leaves = hdr.path_leaves(last.split("\t"), sec.id)
        else:
            self.leaves = hdr.leaves(self.grid.header_text)
            if self.grid.mode == "tab":
                self.leaves = _on_columns(layout, self.grid, self.leaves)
        self.columns = [column_id(p, sec.id) for p in self.leaves]

    # ------------------------------------------------------------------ cells
    def cell(self, column: str, f: NText, count: bool = False) -> Cell | None:
        text = f.text.strip()
        if not text or text in ("——", "—", "-", "/"):
            return None
        span = self.layout.span_of(f)
        printed = _printed(self.layout, f)
        unit = "count" if count else self.unit
        num = text.replace(" ", "").replace("−", "-")
        if not NUM_RE.match(num):  # never a silent zero: keep what was printed, mark it
            return Cell(column=column, value=None, printed=printed, unit=unit, span=span,
                        status="unreadable")
        value = Decimal(num.replace(",", ""))
        return Cell(column=column, value=value if count else value * self.factor, printed=printed,
                    unit=unit, span=span)

    def rec_span(self, rec: Record):
        return self.layout.lines_span(min(rec.lines), max(rec.lines))

    # ------------------------------------------------------------------ dispatch
    def parse(self) -> Table:
        sec = self.sec
        if sec.id in SUMMARY_TABLES and self.path_mode:
            rows = summary.parse_summary_grid(self)
        elif sec.id in SUMMARY_TABLES:
            rows = summary.parse_summary(self)
        elif sec.id == "three_public" and any(p[0] in ("budget", "final") and len(p) > 1
                                               or p[0] in _TP_ACROSS for p in self.leaves):
            rows = self.parse_transposed_three_public()
        elif sec.id == "general_budget_basic_expenditure" and self._groups() > 1:
            rows = self.parse_side_by_side()
        else:
            rows = self.parse_rows()
        rows = _dedupe(rows)
        has_values = any(r.cells for r in rows)
        kept = [r for r in rows if r.cells or r.suspect]
        if not has_values:
            kept += self._blank_total()
        table = Table(id=sec.id, title=sec.title, unit=self.unit,
                      span=self.layout.lines_span(sec.first, sec.last),
                      columns=[c for c in dict.fromkeys(self.columns) if c],
                      rows=kept,
                      empty=bool(sec.empty_note) or not has_values,
                      empty_note=sec.empty_note)
        return table

    def _blank_total(self) -> list[Row]:
        """An empty table that prints its 合计 row with nothing in it keeps that row, without
        cells: the table is there and states its total blank (empty is not zero)."""
        for ln in self.layout.lines[self.sec.first + 1:self.sec.last + 1]:
            if ln.compact in ("合计", "总计"):
                return [Row(id="total", label=ln.compact, span=self.layout.lines_span(ln.index, ln.index))]
        return []

    def _groups(self) -> int:
        """Column groups printed side by side: each starts with a code and holds values."""
        groups, has_value = 0, False
        for p, col in zip(self.leaves, self.columns):
            if p[-1] == "code":
                groups += has_value
                has_value = False
            elif col:
                has_value = True
        return groups + has_value

    # ------------------------------------------------------------------ generic rows
    def _value_slots(self, rec: Record, leaves) -> list[tuple[int, NText]]:
        """(leaf index, field) for every field, aligning the record to the header.

        Leaf -1 marks text of a wrapped record's label (placed by the caller)."""
        n = len(leaves)
        fields = rec.fields
        if rec.align == "right":
            head, tail = fields[:rec.head], fields[rec.head:]
            start = n - len(tail)
            slots = [(start + k, f) for k, f in enumerate(tail) if start + k >= 0]
            key_leaf = {p[-1]: i for i, p in reversed(list(enumerate(leaves)))}
            for f in head:
                t = f.text.strip()
                if SEQ_RE.match(t) and "seq" in key_leaf:
                    slots.append((key_leaf["seq"], f))
                elif CODE_RE.match(t) and "code" in key_leaf:
                    slots.append((key_leaf["code"], f))
                else:
                    slots.append((-1, f))
            return slots
        name_leaf = next((i for i, p in enumerate(leaves) if p[-1] in ("name", "item")), None)
        if name_leaf is None or name_leaf >= len(fields) or _is_label(fields[name_leaf].text):
            return list(enumerate(fields))
        # a label printed further right behind empty cells (indentation) drags its values
        k = name_leaf
        while k < len(fields) and not fields[k].text.strip():
            k += 1
        if k < len(fields) and _is_label(fields[k].text) and \
                not (k < len(leaves) and leaves[k][-1] in ("name", "item", "code")):  # its own label column
            shift = k - name_leaf
            return [(i, f) for i, f in enumerate(fields[:name_leaf])] + \
                [(i - shift, f) for i, f in enumerate(fields) if i >= k]
        return list(enumerate(fields))

    def parse_rows(self, records: list[Record] | None = None, leaves=None, columns=None) -> list[Row]:
        """Rows of a table whose records align with the header leaves (or a slice of them)."""
        records = self.grid.records if records is None else records
        leaves = self.leaves if leaves is None else leaves
        columns = self.columns if columns is None else columns
        rows: list[Row] = []
        items = 0
        first_total_taken = False
        split_code: dict[str, str] = {}  # 类/款 of the rows above, for a 款 or 项 printed alone
        for rec in records:
            slots = self._value_slots(rec, leaves)
            keys: dict[str, list[NText]] = {}
            cells: list[Cell] = []
            suspect = None
            label = NText("")
            for leaf_i, f in slots:
                if leaf_i < 0 or leaf_i >= len(leaves):
                    if f.text.strip() and leaf_i >= len(leaves):
                        suspect = "more cells than the header has columns"
                    if leaf_i < 0:
                        keys.setdefault("text", []).append(f)
                    continue
                path = leaves[leaf_i]
                col = columns[leaf_i]
                if col is None:
                    keys.setdefault(path[-1], []).append(f)
                    continue
                if col in ("project_budget",) and rec.align == "right":
                    continue
                c = self.cell(col, f, count=col == "quantity")
                if c is not None:
                    if c.status == "unreadable" and not _DIGIT_RE.search(c.printed):
                        suspect = suspect or f"text where column {col} expects a number"
                    cells.append(c)
            texts = keys.get("text", [])
            if rec.align == "right" and texts:
                label, extra = _split_label_numbers(texts)
                keys.pop("name", None)
                pb = next((i for i, c in enumerate(columns) if c == "project_budget"), None)
                if pb is not None and extra:
                    c = self.cell("project_budget", extra[0])
                    if c:
                        cells.insert(0, c)
            for k in ("name", "item", "item_name"):
                for f in keys.get(k, []):
                    if f.text.strip() and not label.text.strip():
                        label = f
            code = _join_code(keys, split_code)
            if not label.text.strip() and code and not CODE_RE.match(code) and keys.get("code"):
                # one 科目 column printing code and name together: [301]工资福利支出
                label, code = keys["code"][0].strip(), ""
            if not code and (m := _CODE_NAME_RE.match(label.text.strip())):
                code = m.group(1) or m.group(2)  # [2080501]行政单位离退休: the code printed inside the label
                label = label.strip()[m.end():]
            unit_code = "".join(f.text.strip() for f in keys.get("unit_code", []))
            row_id, why = self.row_id(code, label, unit_code, first_total_taken, bool(cells), rec,
                                      [r.id for r in rows])
            if row_id == "total":
                first_total_taken = True
            if row_id == "item":
                items += 1
                row_id = f"item.{items:02d}"
            suspect = suspect or why
            label_text = compact(label.text)
            if suspect:  # keep the whole printed row readable for the reviewer
                label_text = " ".join(f.text.strip() for f in rec.fields if f.text.strip())
            rows.append(Row(id=row_id if not suspect else f"suspect.{len(rows) + 1}",
                            label=label_text, code=code or None,
                            span=self.rec_span(rec), suspect=bool(suspect), note=suspect,
                            cells=cells))
        return rows

    def row_id(self, code: str, label: NText, unit_code: str, total_taken: bool, has_cells: bool,
               rec: Record, above: list[str]) -> tuple[str, str | None]:
        tid = self.sec.id
        lab = vocab.strip_ordinal(compact(label.text))
        if code:
            if not CODE_RE.match(code):
                return "", f"malformed classification code {code!r}"
            if tid == "general_budget_basic_expenditure" or tid == "economic_classification":
                std = vocab.ECONOMIC_NAMES.get(code)
                if std and lab and not _names_agree(std, lab):
                    return "", f"code {code} printed with name {lab!r} (standard: {std})"
            return code, None
        if unit_code or (lab and _UNIT_CODE_RE.fullmatch(lab)):
            return f"unit.{unit_code or lab}", None
        if tid in ("revenue", "expenditure") and _UNIT_NAME_RE.search(lab) and not functional_code(lab, above):
            return f"unit.{lab}", None  # a unit listed by name only (单位名称 column)
        if tid == "three_public":
            return _match_rows(lab, vocab.THREE_PUBLIC_ROWS) or "", (
                None if _match_rows(lab, vocab.THREE_PUBLIC_ROWS) else f"unknown row {lab!r}")
        if tid == "assets":
            rid = _match_rows(lab, vocab.ASSET_ROWS)
            return (rid, None) if rid else ("", f"unknown row {lab!r}")
        if _TOTAL_LABEL_RE.match(lab) or (not lab and has_cells and not total_taken):
            return "total", None
        if lab.endswith("小计"):
            return "subtotal", None
        if lab in ("人员经费合计", "人员经费"):
            return "personnel_total", None
        if lab in ("公用经费合计", "公用经费"):
            return "public_total", None
        if tid in ITEM_TABLES:
            return "item", None
        if "basic" in tid or tid == "economic_classification":
            by_name = vocab.ECONOMIC_BY_NAME.get(lab)
        elif tid == "operating_costs":  # listed by function (codes) or by item (办公费 → 30201)
            by_name = vocab.ECONOMIC_BY_NAME.get(lab) or vocab.functional_class_by_name(lab)
        else:
            by_name = functional_code(lab, above)
        if by_name:
            return by_name, None
        return "", f"row without code: {lab!r}" if lab else "row without label"

    # ------------------------------------------------------------------ special layouts
    def parse_transposed_three_public(self) -> list[Row]:
        """三公 printed across: the kinds are columns (under 预算数/决算数 groups, or plain with
        one value row, or with a 预算数/决算数 label per row); rows become the kinds."""
        by_row: dict[str, Row] = {}
        for rec in self.grid.records:
            vals = [f for f in rec.fields]
            labelled = next((m.group(1) for f in vals
                             if (m := _BUDGET_FINAL_RE.match(compact(f.text)))), None)
            row_col = {"预算": "budget", "决算": "final"}.get(labelled or "", "amount")
            if labelled is None and any(c.column == row_col for r in by_row.values() for c in r.cells):
                continue  # units listed under the 合计 row: the table's figures are the 合计's
            for leaf_i, f in enumerate(vals[:len(self.leaves)]):
                path = self.leaves[leaf_i]
                if path[0] in ("budget", "final"):
                    column = path[0]
                elif path[0] in _TP_ACROSS or path in (("total",), ("subtotal",)):
                    column = row_col
                else:
                    continue
                item = path[-1] if path[-1] != "subtotal" else (path[-2] if len(path) > 1 else "total")
                row_id = {"total": "total", "tp_overseas": "overseas", "tp_vehicle": "vehicle",
                          "tp_vehicle_purchase": "vehicle.purchase",
                          "tp_vehicle_operation": "vehicle.operation",
                          "tp_reception": "reception"}.get(item)
                if row_id is None:
                    continue
                c = self.cell(column, f)
                if c is None:
                    continue
                row = by_row.setdefault(row_id, Row(id=row_id, label=row_id, span=c.span))
                row.cells.append(c)
        return list(by_row.values())

    def parse_side_by_side(self) -> list[Row]:
        """A table printed in several column groups of (code, name, value…) side by side."""
        starts = [i for i, p in enumerate(self.leaves) if p[-1] == "code"]
        width = starts[1] - starts[0] if len(starts) > 1 else len(self.leaves)
        rows: list[Row] = []
        for rec in self.grid.records:
            for s in starts:
                chunk = rec.fields[s:s + width]
                if any(f.text.strip() for f in chunk):
                    rows.extend(self.parse_rows([Record(rec.lines, chunk)], self.leaves[s:s + width],
                                                self.columns[s:s + width]))
        return [r for r in rows if not (r.id == "total" and r.label == "")] or rows


# ---------------------------------------------------------------------- helpers

# an agency or institution's name: how the units of a department are listed
_UNIT_NAME_RE = re.compile(r"(局|厅|委员会|办公室|中心|台|院|所|站|队|馆|学校|学院|幼儿园|处|协会|研究会)(\(.{1,30}\))?$")

# 三公 kinds as header columns (the across layout); a row label saying which figure a row holds
_TP_ACROSS = {"tp_overseas", "tp_vehicle", "tp_reception", "tp_vehicle_purchase", "tp_vehicle_operation"}
_BUDGET_FINAL_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+[.、])?(?:全年|年初|本年)?(预算|决算)(?:数)?$")


def _printed(layout: Layout, f: NText) -> str:
    if f.src is None:
        return layout.source.text[f.base:f.base + len(f.text)]
    starts = layout.source.line_starts
    parts: list[str] = []
    cur_line, lo, hi = None, None, None
    for i in range(len(f.text)):
        o = f.offset(i)
        ln = bisect.bisect_right(starts, o) - 1
        if ln != cur_line:
            if cur_line is not None:
                parts.append(layout.source.text[lo:hi + 1])
            cur_line, lo, hi = ln, o, o
        else:
            lo, hi = min(lo, o), max(hi, o)
    if cur_line is not None:
        parts.append(layout.source.text[lo:hi + 1])
    return "\n".join(parts)










def _join_code(keys: dict[str, list[NText]], above: dict[str, str] | None = None) -> str:
    parts = {k: "".join(f.text.strip().replace(" ", "") for f in keys.get(k, [])) for k in ("lei", "kuan", "xiang")}
    if any(parts.values()):
        if above is not None:
            # 201 | 40 | (款 row printed as "| 40 |"): the 类 comes from the rows above
            if not parts["lei"] and above.get("lei"):
                parts["lei"] = above["lei"]
                if not parts["kuan"] and parts["xiang"] and above.get("kuan"):
                    parts["kuan"] = above["kuan"]
            above.update({k: v for k, v in parts.items() if v})
            if parts["lei"] and not parts["kuan"]:
                above.pop("kuan", None)
        return "".join(parts[k] for k in ("lei", "kuan", "xiang"))
    codes = [f.text.strip().replace(" ", "") for f in keys.get("code", [])]
    return codes[0] if codes else ""


def _names_agree(std: str, printed: str) -> bool:
    a, b = compact(std), compact(printed)
    return a == b or a.startswith(b) or b.startswith(a)


def _split_label_numbers(texts: list[NText]) -> tuple[NText, list[NText]]:
    label_parts, numbers = [], []
    for f in texts:
        t = f.text.strip()
        if NUM_RE.match(t.replace(" ", "")) and "." in t:
            numbers.append(f)
        else:
            label_parts.append(f)
    label = label_parts[0] if label_parts else NText("")
    for f in label_parts[1:]:
        label = NText(label.text + f.text, 0,
                      tuple(label.offset(i) for i in range(len(label)))
                      + tuple(f.offset(i) for i in range(len(f))))
    return label, numbers


def _dedupe(rows: list[Row]) -> list[Row]:
    """Keep one row per id: a later duplicate with values replaces an earlier empty one."""
    out: dict[str, Row] = {}
    order: list[str] = []
    for r in rows:
        if r.id in out:
            if not out[r.id].cells and r.cells:
                out[r.id] = r
            elif r.cells:
                r.id = f"{r.id}.dup"
                r.suspect = True
                r.note = "duplicate row id"
                out[r.id] = r
                order.append(r.id)
            continue
        out[r.id] = r
        order.append(r.id)
    return [out[k] for k in order]


def _on_columns(layout: Layout, grid, leaves):
    """Word-order leaves placed on the grid's columns by where their header words are printed
    (header_grid), when that fits better; unchanged when the header rows are not one grid
    with the data."""
    rows = [layout.lines[i].norm.text.split("\t") for i in grid.header_lines]
    counts = Counter(len(r.fields) for r in grid.records)
    width = counts.most_common(1)[0][0] if counts else 0  # (a stray row may carry more cells)
    if not rows or any(len(r) != width for r in rows):
        return leaves
    kinds = [""] * width
    for rec in grid.records:
        for c, f in enumerate(rec.fields[:width]):
            t = f.text.strip()
            if NUM_RE.match(t.replace(" ", "")) and "." in t:
                kinds[c] = "amount"
            elif t and not kinds[c] and not NUM_RE.match(t.replace(" ", "")):
                kinds[c] = "text"
    return place_leaves([[compact(c) for c in r] for r in rows], kinds) or leaves


def parse_table(layout: Layout, sec: SectionLoc, agency: str | None) -> Table:
    return TableParser(layout, sec, agency).parse()
