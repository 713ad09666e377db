"""One self-contained HTML page per document: the source text with every extracted value
highlighted where its span points (for a PDF: its pages with every value boxed where it was
printed, see html_pages), the tables, and the check findings, all cross-linked.

No external asset and no server: CSS and JS are inline. The source is written out verbatim
(HTML-escaped) and cut only at span and line boundaries, so the characters inside the
highlights of a value are exactly `source.text[span.start:span.end]`. Spans may overlap (a
value broken over a page keeps one span over everything between its parts): each piece of
text carries the ids of all values covering it (`data-c`)."""
from __future__ import annotations

import json

from ..checks.model import CheckReport, Result
from ..ingest import SourceText
from ..model import Document
from .html_assets import CSS, JS
from .html_items import Item, ItemIds, TextLines, box_classes, collect_items, esc, mark_findings, money
from .html_pages import PageView, page_view, pages_html

_SEV_ORDER = {"error": 0, "warning": 1, "info": 2}


def source_html(source: SourceText, items: list[Item]) -> str:
    """The source in a <pre>: line anchors, and marks cut at every span and line boundary."""
    text = source.text
    n = len(text)
    starts: dict[int, list[Item]] = {}
    ends: dict[int, list[Item]] = {}
    cuts = set(source.line_starts)
    cuts.update((0, n))
    for it in items:
        a, b = max(0, min(n, it.span.start)), max(0, min(n, it.span.end))
        if b <= a:
            continue
        starts.setdefault(a, []).append(it)
        ends.setdefault(b, []).append(it)
        cuts.update((a, b))
    line_at = {pos: i + 1 for i, pos in enumerate(source.line_starts)}
    out: list[str] = []
    live: dict[str, Item] = {}
    bounds = sorted(cuts)
    for a, b in zip(bounds, bounds[1:] + [None]):
        for it in ends.get(a, ()):
            live.pop(it.id, None)
        if a in line_at:
            ln = line_at[a]
            out.append(f'<span class="ln" id="L{ln}" data-n="{ln}"></span>')
        for it in starts.get(a, ()):
            live[it.id] = it
            out.append(f'<a class="anchor" id="s-{it.id}"></a>')
        if b is None:
            break
        piece = esc(text[a:b])
        if not live:
            out.append(piece)
            continue
        its = list(live.values())
        cls = box_classes(its, {"v", "multi"} if len(its) > 1 else {"v"})
        ids = " ".join(i.id for i in its)
        tip = "\n".join(i.tip for i in its)
        out.append(f'<mark class="{" ".join(sorted(cls))}" data-c="{ids}" title="{esc(tip)}">{piece}</mark>')
    return '<pre id="source">' + "".join(out) + "</pre>"


def tables_html(doc: Document, items: list[Item], lines=TextLines()) -> str:
    ids = iter(i for i in items if i.kind == "cell")
    parts = []
    for t in doc.tables:
        cols = list(dict.fromkeys([c for c in t.columns if any(r.cell(c) for r in t.rows)]
                                  + [c.column for r in t.rows for c in r.cells]))
        at = lines.label(t.span.line_start)
        head = (f'<h3 id="T-{esc(t.id)}"><a href="{lines.href(t.span.line_start)}" class="goto-line">{esc(t.id)}</a>'
                f' <span class="title">{esc(t.title)}</span> <span class="dim">{esc(t.unit)} · {at}'
                f'{" · empty" if t.empty else ""}</span></h3>')
        if t.empty and not t.rows:
            parts.append(f'<section class="tbl">{head}<p class="dim">{esc(t.empty_note or "stated empty")}</p></section>')
            continue
        rows = []
        for r in t.rows:
            cells = {}
            for c in r.cells:
                it = next(ids)
                cells.setdefault(c.column, (c, it))
            tds = []
            for col in cols:
                if col not in cells:
                    tds.append("<td></td>")
                    continue
                c, it = cells[col]
                cls = " ".join(sorted({"v"} | it.classes | ({"unreadable"} if c.value is None else set())))
                tds.append(f'<td class="{cls}" id="t-{it.id}" data-c="{it.id}" title="{esc(it.tip)}">'
                           f'<a href="#s-{it.id}" data-c="{it.id}">{esc(c.printed)}</a></td>')
            rcls = ' class="suspect"' if r.suspect else ""
            note = f' title="{esc(r.note)}"' if r.note else ""
            rows.append(f'<tr{rcls}{note}><th><a href="{lines.href(r.span.line_start)}" class="goto-line">{esc(r.id)}</a></th>'
                        f'<td class="label">{esc(r.label)}</td>{"".join(tds)}</tr>')
        header = "<tr><th>row</th><th>label</th>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>"
        parts.append(f'<section class="tbl">{head}<div class="scroll"><table><thead>{header}</thead>'
                     f'<tbody>{"".join(rows)}</tbody></table></div></section>')
    return "".join(parts)


def _term_html(t, by_key: ItemIds, lines) -> str:
    sign = "+" if t.coefficient > 0 else "−"
    iid = by_key.of(t.key, t.span)
    name = esc("/".join(t.key))
    link = f'<a href="#s-{iid}" data-c="{iid}">{name}</a>' if iid else name
    line = (f' · <a href="{lines.href(t.span.line_start)}" class="goto-line">{lines.label(t.span.line_start)}</a>'
            if t.span else "")
    return (f"<li>{sign} {link} = {money(t.value)} 元 <span class=\"dim\">(printed "
            f"{esc(repr(t.printed))} {esc(t.unit or '')}{line})</span></li>")


def _finding_html(k: int, r: Result, by_key: ItemIds, lines) -> str:
    calc = ""
    if r.delta is not None:
        calc = (f'<div class="calc">left {money(r.left)} {esc(r.op)} right {money(r.right)} · Δ {money(r.delta)} 元 '
                f'<span class="dim">(rounding envelope ±{money(r.envelope)} 元)</span></div>')
    reason = f'<div class="dim">{esc(r.reason)}</div>' if r.reason else ""
    terms = "".join(_term_html(t, by_key, lines) for t in r.terms)
    diag = ""
    d = r.diagnosis
    ids = dict.fromkeys(i for t in r.terms if (i := by_key.of(t.key, t.span)))
    likely = by_key.of((d.table, d.row, d.column), d.span) if d is not None else None
    if d is not None:
        iid = likely
        name = esc(f"{d.table}/{d.row}/{d.column}")
        link = f'<a href="#s-{iid}" data-c="{iid}">{name}</a>' if iid else name
        diag = (f'<div class="diag">likely wrong: {link} = {money(d.current)}; {money(d.fix)} would satisfy '
                f'{d.explains} failing check(s)</div>')
    return (f'<div class="finding sev-{esc(r.severity)}" id="F{k}" data-terms="{" ".join(ids)}" '
            f'data-diag="{likely or ""}"><div class="ftitle"><b>{esc(r.severity.upper())}</b> '
            f'{esc(r.title)}</div><div class="inst">{esc(r.instance)}</div>{calc}{reason}<ul>{terms}</ul>{diag}</div>')


def findings_html(report: CheckReport, by_key: ItemIds, lines=TextLines()) -> str:
    fails = sorted(report.findings(), key=lambda r: _SEV_ORDER.get(r.severity, 3))
    parts = []
    if fails:
        parts.append("".join(_finding_html(k, r, by_key, lines) for k, r in enumerate(fails, 1)))
    else:
        parts.append('<p class="ok">no inconsistency found</p>')
    notes = [r for r in report.results if r.status == "rounding"]
    if notes:
        lis = "".join(f"<li>{esc(r.instance)} · Δ {money(r.delta)} ≤ ±{money(r.envelope)} "
                      + " ".join(f'<a href="#s-{i}" data-c="{i}">{esc(t.row)}</a>'
                                 for t in r.terms if (i := by_key.of(t.key, t.span))) + "</li>" for r in notes)
        parts.append(f"<details><summary>{len(notes)} rounding note(s) (within the printed precision: 尾差)"
                     f"</summary><ul class=\"notes\">{lis}</ul></details>")
    cannot = [r for r in report.results if r.status == "insufficient_data"]
    if cannot:
        lis = "".join(f"<li>{esc(r.instance)}: {esc(r.reason or '')}</li>" for r in cannot)
        parts.append(f"<details><summary>{len(cannot)} check(s) could not run</summary><ul class=\"notes\">{lis}</ul>"
                     "</details>")
    return "".join(parts)


def narrative_html(doc: Document, items: list[Item], lines=TextLines()) -> str:
    nar = [i for i in items if i.kind == "narrative"]
    if not nar:
        return '<p class="dim">no narrative facts</p>'
    rows = []
    for it, f in zip(nar, doc.narrative):
        cls = " ".join(sorted({"v", "nar"} | it.classes))
        rows.append(f'<tr><td>{esc(f.key)}</td><td>{esc(f.kind)}</td><td class="{cls}" id="t-{it.id}" data-c="{it.id}">'
                    f'<a href="#s-{it.id}" data-c="{it.id}">{esc(f.printed)}</a></td><td>{esc(f.unit)}</td>'
                    f'<td><a href="{lines.href(f.span.line_start)}" class="goto-line">{lines.label(f.span.line_start)}'
                    '</a></td></tr>')
    return ('<table class="nar-table"><thead><tr><th>key</th><th>kind</th><th>printed</th><th>unit</th><th>where</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_html(doc: Document, report: CheckReport, source: SourceText, pages: PageView | None = None) -> str:
    """The report page. With `pages` (a PDF's page images, see `page_view`), the left side shows
    the pages with every value boxed where it was printed; otherwise the source text."""
    items, by_key = collect_items(doc)
    mark_findings(items, by_key, report)
    m = doc.meta
    counts = report.counts()
    fails = len(report.findings())
    meta = " · ".join(str(x) for x in (m.agency, m.year, m.kind, m.unit, m.scope) if x)
    count_html = "".join(f'<span class="{"fail" if k == "fail" and v else ""}">{esc(k)} {v}</span>'
                         for k, v in sorted(counts.items()))
    ncells = sum(1 for i in items if i.kind == "cell")
    legend = ('<span class="legend"><i style="background:#ffe38a"></i>cell<i style="background:#c9e7ff"></i>narrative'
              '<i style="background:#ffc9c4"></i>in a failing check<i style="background:#ff8a80"></i>likely wrong'
              '<i style="background:#e5e5e5"></i>suspect row</span>')
    data = {"doc": m.source, "sha256": m.sha256, "cells": ncells, "narrative": len(doc.narrative), "findings": fails,
            "view": "pages" if pages is not None else "text"}
    if pages is not None:
        lines = pages.lines
        left = pages_html(pages.images, items, pages.places, pages.total)
        data["pages"] = [im.number for im in pages.images]
    else:
        lines, left = TextLines(), source_html(source, items)
    data_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(m.source or "document")} · structurer report</title>
<style>{CSS}</style></head>
<body class="{'paged' if pages is not None else 'text'}">
<header><div><h1>{esc(m.source or "document")}</h1><div class="meta">{esc(meta)} · {ncells} cells · {len(doc.narrative)} narrative facts · backend {esc(doc.backend)}</div></div>
<div class="counts">{count_html}</div>{legend}</header>
<main>
<div id="left">{left}</div>
<div id="right">
<nav class="tabs"><button data-tab="findings" class="on">Findings ({fails})</button><button data-tab="tables">Tables ({len(doc.tables)})</button><button data-tab="narrative">Narrative ({len(doc.narrative)})</button></nav>
<div class="pane on" id="pane-findings">{findings_html(report, by_key, lines)}</div>
<div class="pane" id="pane-tables">{tables_html(doc, items, lines)}</div>
<div class="pane" id="pane-narrative">{narrative_html(doc, items, lines)}</div>
</div></main>
<div id="info"></div>
<script type="application/json" id="report-data">{data_json}</script>
<script>{JS}</script>
</body></html>
"""


def report_html(doc: Document, report: CheckReport, source: SourceText) -> str:
    """The report of a document: the page view for a PDF (its pages rendered by PDFium), the
    text view for other sources."""
    return render_html(doc, report, source, page_view(doc, report, source) if source.format in ("pdf", "image") else None)
