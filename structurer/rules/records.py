"""A table section's lines → header text and data records (lists of cell fields).

Layouts: tab-separated cells; space-separated cells where one space separates cells and
extra spaces are empty cells (wrapped rows are reassembled); runs of k spaces standing
for tabs; one cell per line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..layout import Line
from ..normalize import NText, compact, join_number
from ..vocab import CODE_RE, NUM_RE
from . import header as hdr

DECIMAL_RE = re.compile(r"\d\.\d")
SEQ_RE = re.compile(r"^\d{1,3}$")
_FURNITURE_RE = re.compile(
    r"预算年度|(?:^|[^额])单位:[万千亿]?元|部门:|编制部门|截止时间|公开\d+表|^YS\d+$|^\d{4}年度?$|^预算年$|^度:?$|"
    r"^\d{4}$|^[(（]\d{4}年度[)）]$|^\d{3,12}[\u4e00-\u9fff]{2,30}$|^注[:：]|^说明[:：]|^单位:$")
_ADJACENT_AMOUNTS_RE = re.compile(r"(?<![\d.])\d+\.\d{2} \d+\.\d{2}(?![\d.])")
_ORDINAL_LABEL_RE = re.compile(r"^(\d{1,2}、|[一二三四五六七八九十]+、|其中[:：]|[(（][一二三四五六七八九十\d]+[)）])")
_CJK_SPACED_RE = re.compile(r"(?<=(?:^|(?<=\s))[\u4e00-\u9fff])[ ]{1,3}(?=[\u4e00-\u9fff](?:\s|$))")


@dataclass
class Record:
    lines: list[int]
    fields: list[NText]
    align: str = "left"  # left: fields start at the first column; right: end at the last
    continued: bool = False  # merged with a continuation after a page break
    head: int = 0  # right-aligned records: leading fields that are keys and label text


@dataclass
class Grid:
    mode: str  # tab | space | runs | cells
    header_lines: list[int] = field(default_factory=list)
    header_text: str = ""
    records: list[Record] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)


def is_number(text: str) -> bool:
    return bool(NUM_RE.match(text.replace(" ", "")))


def is_furniture(line: Line, agency: str | None) -> bool:
    c = line.compact
    if _FURNITURE_RE.search(c):
        return True
    return bool(agency) and c.endswith(agency) and len(c) <= len(agency) + 12


def _is_header_line(fields: list[str]) -> bool:
    words = [f for f in (x.replace(" ", "") for x in fields) if f]
    if not words:
        return False
    if words[0] == "栏次":
        return True
    known = 0
    for w in words:
        if _SMALL_INT_RE.fullmatch(w):
            continue
        toks = hdr.tokenize(w)
        covered = sum(len(t) for _, t in toks)
        if covered >= max(1, len(w) * 0.6):
            known += 1
        elif is_number(w) or DECIMAL_RE.search(w):
            return False
    return len(words) >= 2 and known >= len(words) * 0.6


_SMALL_INT_RE = re.compile(r"\d{1,2}")
_INT4_RE = re.compile(r"\d{1,4}")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_CJK_END_RE = re.compile(r"[\u4e00-\u9fff]$")
_NOTE_RE = re.compile(r"^(注|说明)[:：]")
_PROSE_RE = re.compile(r"[，。；;]|[\u4e00-\u9fff]{2,}[,:][\u4e00-\u9fff]")


def _is_prose(texts: list[str]) -> bool:
    """A sentence of a note, not a row: punctuation, long text, no amount cells."""
    vals = [t.strip() for t in texts if t.strip()]
    if len(vals) != 1 or is_number(vals[0]):
        return False
    v = vals[0]
    return len(v) >= 12 and bool(_PROSE_RE.search(v))


def _is_header_cell(word: str) -> bool:
    covered = sum(len(t) for _, t in hdr.tokenize(word))
    return bool(word) and covered >= len(word) * 0.6


def _has_values(fields: list[str]) -> bool:
    return any(is_number(f) and (DECIMAL_RE.search(f) or "," in f or len(f.replace(" ", "")) > 3)
               for f in fields if f.strip())


def _is_data(fields: list[str]) -> bool:
    vals = [f.strip() for f in fields if f.strip()]
    if not vals:
        return False
    if _has_values(vals):
        return True
    if CODE_RE.match(vals[0].replace(" ", "")) and len(vals) > 1:
        return True
    if SEQ_RE.match(vals[0]) and len(vals) > 1 and _CJK_RE.search(vals[1]):
        return True
    return False


def detect_mode(lines: list[Line]) -> str:
    body = [ln for ln in lines if not ln.blank]
    if not body:
        return "tab"
    # one cell per line, each indented (a DOCX dump): no separator inside the content
    indented = [ln for ln in body if re.match(r"^(\t| {2,})\S", ln.raw)
                and not re.search(r"\t| {2,}", ln.raw.strip())]
    if len(indented) >= 0.8 * len(body) and len(body) >= 3:
        return "cells"
    tabbed = [ln for ln in body if "\t" in ln.raw]
    wide = [ln for ln in tabbed if ln.raw.count("\t") >= 2]
    if len(tabbed) >= 0.3 * len(body) or len(wide) >= 2:  # a short grid under a long note
        single = [ln for ln in tabbed if len([f for f in ln.raw.split("\t") if f.strip()]) <= 1]
        return "cells" if len(single) >= 0.8 * len(tabbed) else "tab"
    # One space between two whole amounts means single-space cells (extra spaces = empties).
    if any(_ADJACENT_AMOUNTS_RE.search(ln.norm.text) for ln in body):
        return "space"
    runs = [len(m.group(0)) for ln in body for m in re.finditer(r" {2,}", ln.norm.text.strip())]
    if runs:
        g = 0
        for r in runs:
            g = math.gcd(g, r)
        if g >= 2:
            return "runs"
    return "space"


def split(line: Line, mode: str, run: int = 2) -> list[NText]:
    t = line.norm
    if mode == "cells":
        parts = [t.strip()]
    elif mode == "tab":
        parts = t.split_fields("\t")
    elif mode == "runs":
        parts = []
        pos = 0
        s = t.text
        for m in re.finditer(r" {2,}", s):
            parts.append(t[pos:m.start()])
            for _ in range(len(m.group(0)) // run - 1):
                parts.append(t[m.start():m.start()])
            pos = m.end()
        parts.append(t[pos:])
    else:
        t = t.drop(_CJK_SPACED_RE)
        if t.text.startswith(" ") and not t.text.startswith("  "):
            t = t[1:]
        parts = _rejoin_label_numbers(t.split_fields(" "))
        if parts and parts[-1].text == "":
            parts = parts[:-1]  # the trailing separator a PDF dump leaves after the last cell
    return [join_number(p) for p in parts]


def _rejoin_label_numbers(parts: list[NText]) -> list[NText]:
    """'单价在 20 万元以上的设备' split on spaces: an integer between two text cells is text."""
    out: list[NText] = []
    k = 0
    while k < len(parts):
        p = parts[k]
        if (out and k + 1 < len(parts) and _INT4_RE.fullmatch(p.text)
                and _CJK_END_RE.search(out[-1].text)
                and _CJK_RE.match(parts[k + 1].text)):
            out[-1] = _concat(_concat(_concat(out[-1], _space(out[-1])), p), parts[k + 1])
            k += 2
            continue
        out.append(p)
        k += 1
    return out


def _space(after: NText) -> NText:
    o = after.offset(len(after) - 1) + 1 if len(after) else after.base
    return NText(" ", 0, (o,))


def _concat(a: NText, b: NText) -> NText:
    if not a.text:
        return b
    if not b.text:
        return a
    src = tuple(a.offset(i) for i in range(len(a))) + tuple(b.offset(i) for i in range(len(b)))
    return NText(a.text + b.text, 0, src)


def build_grid(lines: list[Line], first: int, last: int, agency: str | None) -> Grid:
    """Split section lines first..last (indices into `lines`) into header and records."""
    section = lines[first:last + 1]
    mode = detect_mode(section)
    run = 2
    if mode == "runs":
        g = 0
        for ln in section:
            for m in re.finditer(r" {2,}", ln.norm.text.strip()):
                g = math.gcd(g, len(m.group(0)))
        run = g or 2
    grid = Grid(mode)
    header_keys: set[str] = set()
    header_done = False
    page_break = False
    pending: list[int] = []  # space mode: lines of a record being assembled
    blocks: list[list[tuple[NText, int]]] = [[]]  # cells mode: rows are blank-line separated
    fields_of: dict[int, list[NText]] = {}
    in_note = False  # inside a 注/说明 note, whose wrapped lines are prose
    for ln in section:
        if mode == "cells" and header_done:
            if not ln.raw.strip("\r\n"):
                if blocks[-1]:
                    blocks.append([])
                continue
            if ln.blank:  # a tab alone is an empty cell
                blocks[-1].append((NText(""), ln.index))
                continue
        if ln.blank:
            in_note = False
            continue
        fields = fields_of[ln.index] = split(ln, mode, run)
        texts = [f.text for f in fields]
        if _is_prose(texts) or (in_note and "\t" not in ln.raw and not _has_values(texts)):
            grid.notes.append(ln.index)  # notes and their wrapped continuation lines are not rows
            continue
        if is_furniture(ln, agency):
            if _NOTE_RE.match(ln.compact):
                grid.notes.append(ln.index)
                in_note = True
            elif header_done:
                page_break = True
            continue
        if mode == "cells":
            if not header_done and not _is_data(texts) and ln.compact not in ("——", "-"):
                if _is_header_line(texts) or _is_header_cell(ln.compact):
                    grid.header_lines.append(ln.index)
                    continue
            header_done = True
            blocks[-1].append((fields[0], ln.index))
            continue
        if not header_done:
            if _is_data(texts):
                header_done = True
            else:
                grid.header_lines.append(ln.index)
                header_keys.add(ln.compact)
                continue
        if ln.compact in header_keys or hdr.PATH_SEP in ln.raw \
                or (_is_header_line(texts) and not _is_data(texts)):  # a header again: a new page
            page_break = True
            continue
        if mode == "space":
            if pending and _starts_record(texts):
                grid.records.append(_assemble_space(lines, pending, mode, run, fields_of))
                pending = []
            pending.append(ln.index)
            if _closes_record(texts, len(pending) == 1):
                grid.records.append(_assemble_space(lines, pending, mode, run, fields_of))
                pending = []
            continue
        rec = Record([ln.index], fields)
        prev = grid.records[-1] if grid.records else None
        if page_break and prev is not None and _is_continuation(fields, prev):
            prev.fields = [_concat(a, b) for a, b in
                           zip(prev.fields + [NText("")] * max(0, len(fields) - len(prev.fields)),
                               fields + [NText("")] * max(0, len(prev.fields) - len(fields)))]
            prev.lines.append(ln.index)
            prev.continued = True
        else:
            grid.records.append(rec)
        page_break = False
    if pending:
        grid.records.append(_assemble_space(lines, pending, mode, run, fields_of))
    # tab cells keep their bounds (›): a word that only counts at a cell's end (预算) is seen
    grid.header_text = "".join(hdr.PATH_SEP.join(c for c in (compact(f) for f in lines[i].norm.text.split("\t")) if c)
                               if mode == "tab" else lines[i].compact for i in grid.header_lines)
    if mode == "cells":
        width = len(hdr.leaves(grid.header_text))
        grid.records = [r for b in blocks if b for r in _cells_to_records(b, width)]
    return grid


def _starts_record(texts: list[str]) -> bool:
    vals = [t.strip() for t in texts if t.strip()]
    if not vals:
        return False
    if CODE_RE.match(vals[0]) or _ORDINAL_LABEL_RE.match(vals[0]):
        return True
    return bool(SEQ_RE.match(vals[0])) and len(vals) > 1 and bool(_CJK_RE.search(vals[1]))


def _closes_record(texts: list[str], first: bool) -> bool:
    """A record ends on a line whose last cell is an amount (one amount alone only if it began there)."""
    vals = [t.strip() for t in texts if t.strip()]
    if not vals or not is_number(vals[-1]) or not _has_values(vals):
        return False
    amounts = sum(1 for v in vals if is_number(v) and ("." in v or "," in v))
    return amounts >= 2 or (first and _starts_record(texts))


def _is_continuation(fields: list[NText], prev: Record) -> bool:
    """A row cut by a page break goes on with an empty sequence cell and no code."""
    texts = [f.text.strip() for f in fields]
    if len(texts) < 2 or texts[0] != "" or not any(texts):
        return False
    if not (prev.fields and SEQ_RE.match(prev.fields[0].text.strip())):
        return False
    return not any(CODE_RE.match(t) for t in texts if t)


def _assemble_space(lines: list[Line], idxs: list[int], mode: str, run: int,
                    fields_of: dict[int, list[NText]]) -> Record:
    """A record wrapped over several lines: keys and label text first, then the value line."""
    def fields(i: int) -> list[NText]:
        if i not in fields_of:
            fields_of[i] = split(lines[i], mode, run)
        return fields_of[i]

    if len(idxs) == 1:
        return Record(idxs, list(fields(idxs[0])))
    head: list[NText] = []
    for i in idxs[:-1]:
        head.extend(f for f in fields(i) if f.text.strip())
    last = list(fields(idxs[-1]))
    # the value line's leading text belongs to the label unless a value column follows it
    while last and last[0].text.strip() and not is_number(last[0].text) \
            and len(last) > 1 and not last[1].text.strip() == "" and not is_number(last[1].text):
        head.append(last.pop(0))
    return Record(idxs, head + last, align="right", head=len(head))


def _cells_to_records(block: list[tuple[NText, int]], width: int) -> list[Record]:
    """One cell per line: a blank-line separated block is a row (or several of `width`)."""
    if width < 2 or len(block) <= width:
        return [Record(sorted({i for _, i in block}), [f for f, _ in block])]
    out = []
    for k in range(0, len(block), width):
        chunk = block[k:k + width]
        out.append(Record(sorted({i for _, i in chunk}), [f for f, _ in chunk]))
    return out
