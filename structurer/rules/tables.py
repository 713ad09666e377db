"""Records of one table section → canonical rows and cells (vocab ids, Decimal 元)."""
from __future__ import annotations

import bisect
import re
from decimal import Decimal

from .. import vocab
from ..classification import functional_code
from ..layout import Layout
from ..model import Cell, Row, Table
from ..normalize import NText, compact
from ..segment import SectionLoc
from . import header as hdr
from .records import CODE_RE, NUM_RE, SEQ_RE, Record, build_grid

SUMMARY_TABLES = {"revenue_expenditure_summary", "fiscal_grant_summary"}
ITEM_TABLES = {"procurement", "project_expenditure"}
# 合计, or the table's own total named in full (机关运行经费合计, 支出合计)
_TOTAL_LABEL_RE = re.compile(r"^(合计|总计|合\s*计|(机关|机构)运行经费(支出)?(合计|总计)|(本年)?支出(合计|总计))$")
_DIGIT_RE = re.compile(r"\d")
# a code printed inside the label: bracketed, or followed by a space before the name
_CODE_NAME_RE = re.compile(r"^(?:[\[【(（]\s*(\d{3}(?:\d{2}){0,2})\s*[\]】)）]|(\d{3}(?:\d{2}){0,2})\s+(?=\D))\s*")
_UNIT_CODE_RE = re.compile(r"\d{3,9}")
_LINE_NO_RE = re.compile(r"\d{1,3}")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_FUND_ROW = {"revenue.general_budget": "general_budget", "revenue.gov_fund": "gov_fund",
             "revenue.state_capital": "state_capital"}

_NEUTRAL = {"code_group", "fund_nature", "proc_amount", "proc_source", "revenue_side",
            "expenditure_side", "gb_basic", "item"}


def column_id(path: tuple[str, ...], table_id: str) -> str | None:
    """Canonical column id of a header leaf path, or None for a key column."""
    if hdr.is_key(path) or path[-1] in ("colno", "ignore"):
        return None
    toks = [t for t in path if t not in _NEUTRAL]
    if not toks:
        return None
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
            rows = self.parse_summary_grid()
        elif sec.id in SUMMARY_TABLES:
            rows = self.parse_summary()
        elif sec.id == "three_public" and any(p[0] in ("budget", "final") and len(p) > 1
                                               or p[0] in _TP_ACROSS for p in self.leaves):
            rows = self.parse_transposed_three_public()
        elif sec.id == "general_budget_basic_expenditure" and self._groups() > 1:
            rows = self.parse_side_by_side()
        else:
            rows = self.parse_rows()
        rows = _dedupe(rows)
        has_values = any(r.cells for r in rows)
        table = Table(id=sec.id, title=sec.title, unit=self.unit,
                      span=self.layout.lines_span(sec.first, sec.last),
                      columns=[c for c in dict.fromkeys(self.columns) if c],
                      rows=[r for r in rows if r.cells or r.suspect],
                      empty=bool(sec.empty_note) or not has_values,
                      empty_note=sec.empty_note)
        return table

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

    # ------------------------------------------------------------------ summary tables
    def parse_summary(self) -> list[Row]:
        sides = {"revenue_side": [], "expenditure_side": []}
        for i, p in enumerate(self.leaves):
            if p[0] in sides:
                sides[p[0]].append(i)
        rev_cols = [self.columns[i] for i in sides["revenue_side"] if self.columns[i]]
        exp_cols = [self.columns[i] for i in sides["expenditure_side"] if self.columns[i]]
        rev_line = any(self.leaves[i][-1] == "line" for i in sides["revenue_side"])
        exp_line = any(self.leaves[i][-1] == "line" for i in sides["expenditure_side"])
        rows: list[Row] = []
        ctx = {"revenue": [], "expenditure": []}
        for rec in self.grid.records:
            labels = [(k, f) for k, f in enumerate(rec.fields) if _is_label(f.text)]
            if not labels:
                continue
            assigned: list[tuple[str, int, NText]] = []
            if len(labels) >= 2:
                assigned = [("revenue", labels[0][0], labels[0][1]),
                            ("expenditure", labels[1][0], labels[1][1])]
            else:
                k, f = labels[0]
                side = _side_of(f.text)
                if side is None:
                    rev_pos = next((j for j in sides["revenue_side"] if self.leaves[j][-1] == "item"), 0)
                    side = "revenue" if k <= rev_pos + (1 if rev_line else 0) else "expenditure"
                assigned = [(side, k, f)]
            for n, (side, k, f) in enumerate(assigned):
                stop = assigned[n + 1][1] if n + 1 < len(assigned) else len(rec.fields)
                vals = [v for v in rec.fields[k + 1:stop]]
                has_line = rev_line if side == "revenue" else exp_line
                if has_line and vals and _LINE_NO_RE.fullmatch(vals[0].text.strip()):
                    vals = vals[1:]
                elif has_line and vals and not vals[0].text.strip() and len(vals) > 1:
                    vals = vals[1:]
                cols = rev_cols if side == "revenue" else exp_cols
                row_id = self._summary_row_id(side, f.text, ctx[side])
                if not row_id:
                    continue
                cells = [c for c in (self.cell(col, v) for col, v in zip(cols, vals)) if c]
                ctx[side].append(row_id)
                rows.append(Row(id=row_id, label=compact(f.text), span=self.layout.span_of(f),
                                cells=cells))
        return _grant_heading(rows, self.sec.id)

    def parse_summary_grid(self) -> list[Row]:
        """A summary table read from its grid: each side's label column and value columns."""
        sides: dict[str, list[int]] = {"revenue_side": [], "expenditure_side": []}
        side = "revenue_side"
        for i, p in enumerate(self.leaves):
            if p[0] in sides:
                side = p[0]
            elif p[-1] in ("item", "name") and sides["revenue_side"]:
                side = "expenditure_side"  # the second label column starts the other side
            sides[side].append(i)
        rows: list[Row] = []
        ctx: dict[str, list[str]] = {"revenue": [], "expenditure": []}
        for rec in self.grid.records:
            for side, idx in sides.items():
                key = side.split("_")[0]
                lab_i = next((i for i in idx if self.leaves[i][-1] in ("item", "name")), None)
                if lab_i is None or lab_i >= len(rec.fields) or not rec.fields[lab_i].text.strip():
                    continue
                f = rec.fields[lab_i]
                row_id = self._summary_row_id(key, f.text, ctx[key])
                if not row_id:
                    continue
                cells = [c for c in (self.cell(self.columns[i], rec.fields[i]) for i in idx
                                     if self.columns[i] and i < len(rec.fields)) if c]
                ctx[key].append(row_id)
                rows.append(Row(id=row_id, label=compact(f.text), span=self.layout.span_of(f), cells=cells))
        return _grant_heading(_lone_total_is_grand(rows), self.sec.id)

    def _summary_row_id(self, side: str, label: str, seen: list[str]) -> str | None:
        lab = compact(label)
        sub = lab.startswith("其中:")
        lab = vocab.strip_ordinal(re.sub(r"^其中:", "", lab))
        if side == "revenue":
            lab = re.sub(r"(?<=[^位])资金$", "", lab)  # 一般公共预算资金, 事业收入资金 (not 单位资金)
            if re.fullmatch(r"(收入)?合计", lab):
                return "revenue.grand_total" if "revenue.current_year_total" in seen \
                    else "revenue.current_year_total"
            rid = _match_rows(lab, vocab.REVENUE_ROWS)
            if rid is None:
                return None
            if sub and seen:
                return f"{seen[-1]}.{rid.split('.', 1)[1]}"
            if rid in _FUND_ROW and "revenue.prior_year_carryover" in seen:
                return f"revenue.prior_year_carryover.{_FUND_ROW[rid]}"
            if rid == "revenue.fiscal_grant" and seen and seen[-1] in _FUND_ROW:
                return f"{seen[-1]}.fiscal_grant"
            return rid
        if re.fullmatch(r"(支出)?合计", lab):
            return "expenditure.grand_total" if "expenditure.current_year_total" in seen \
                else "expenditure.current_year_total"
        rid = _match_rows(lab, vocab.EXPENDITURE_ROWS)
        if rid:
            return rid
        return functional_code(lab, seen)

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


def _tail_len(fields: list[NText], lead: int) -> int:
    """Number of fields on the record's final (value) line after its leading text cells."""
    n = 0
    for f in reversed(fields):
        t = f.text.strip()
        if t and not NUM_RE.match(t.replace(" ", "")):
            break
        n += 1
    return n


def _label_index(fields: list[NText]) -> int | None:
    idx = None
    for k, f in enumerate(fields):
        t = f.text.strip()
        if not t:
            continue
        if NUM_RE.match(t.replace(" ", "")) or CODE_RE.match(t):
            if idx is not None:
                break
            continue
        idx = k
    return idx


def _is_label(text: str) -> bool:
    t = text.strip()
    return bool(t) and bool(_CJK_RE.search(t)) and not NUM_RE.match(t)


def _side_of(text: str) -> str | None:
    lab = vocab.strip_ordinal(compact(re.sub(r"^其中[:：]", "", compact(text))))
    if "收入" in lab or _match_rows(lab, vocab.REVENUE_ROWS):
        return "revenue"
    if "支出" in lab or _match_rows(lab, vocab.EXPENDITURE_ROWS) or vocab.functional_class_by_name(lab):
        return "expenditure"
    return None


def _grant_heading(rows: list[Row], table_id: str) -> list[Row]:
    """In the fiscal-grant summary every revenue is a grant: a 一、财政拨款 heading over the
    fund lines, beside 二、上年结转, is the current year's revenue total."""
    ids = [r.id for r in rows]
    if table_id == "fiscal_grant_summary" and "revenue.current_year_total" not in ids \
            and ids.count("revenue.fiscal_grant") == 1:
        rows[ids.index("revenue.fiscal_grant")].id = "revenue.current_year_total"
    return rows


def _lone_total_is_grand(rows: list[Row]) -> list[Row]:
    """A side whose only total is one 合计, with no carryover rows, prints its grand total."""
    ids = {r.id for r in rows}
    for side in ("revenue", "expenditure"):
        if f"{side}.grand_total" in ids or any(i.startswith(("revenue.prior_year", "revenue.use_of",
                                                             "expenditure.year_end", "expenditure.surplus"))
                                               for i in ids if i.startswith(side)):
            continue
        totals = [r for r in rows if r.id == f"{side}.current_year_total"]
        if len(totals) == 1 and re.fullmatch(r"(收入|支出)?合计", vocab.strip_ordinal(totals[0].label)):
            totals[0].id = f"{side}.grand_total"
    return rows


def _match_rows(label: str, table: tuple[tuple[str, str], ...]) -> str | None:
    lab = vocab.strip_ordinal(label)
    if lab.startswith("其中:"):  # 其中:(一)因公出国(境)支出
        lab = vocab.strip_ordinal(lab[3:])
    for key, pat in table:
        if re.search(pat, lab):
            return key
    return None


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


def parse_table(layout: Layout, sec: SectionLoc, agency: str | None) -> Table:
    return TableParser(layout, sec, agency).parse()
