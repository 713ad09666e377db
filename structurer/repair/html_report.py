"""One self-contained HTML page per document: the source text with every extracted value
highlighted where its span points, the tables, and the check findings, all cross-linked.

No external asset and no server: CSS and JS are inline. The source is written out verbatim
(HTML-escaped) and cut only at span and line boundaries, so the characters inside the
highlights of a value are exactly `source.text[span.start:span.end]`. Spans may overlap (a
value broken over a page keeps one span over everything between its parts): each piece of
text carries the ids of all values covering it (`data-c`)."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from decimal import Decimal

from ..checks.model import CheckReport, Result
from ..ingest import SourceText
from ..model import Document, Span
from .apply import fact_column

_SEV_ORDER = {"error": 0, "warning": 1, "info": 2}


def esc(s) -> str:
    return html.escape(str(s), quote=True)


def money(v: Decimal | None) -> str:
    return "—" if v is None else f"{v:,.2f}"


@dataclass
class Item:
    """A highlighted value: a cell (c…) or a narrative fact (n…)."""

    id: str
    key: tuple[str, str, str]
    span: Span
    label: str
    tip: str
    kind: str  # cell | narrative
    suspect: bool = False
    classes: set[str] = field(default_factory=set)


def collect_items(doc: Document) -> tuple[list[Item], dict[tuple[str, str, str], str]]:
    """Every value with a span, and the id of the value each check term names (the first table
    and non-suspect row of an id, as the checks see them)."""
    items: list[Item] = []
    by_key: dict[tuple[str, str, str], str] = {}
    k = 0
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                k += 1
                cid = f"c{k}"
                key = (t.id, r.id, c.column)
                tip = (f"{t.id}/{r.id}/{c.column} = {money(c.value)} 元 · printed {c.printed!r} {c.unit}"
                       + (" · suspect row" if r.suspect else "") + (f" · {c.status}" if c.status != "ok" else ""))
                items.append(Item(cid, key, c.span, f"{t.id}/{r.id}/{c.column}", tip, "cell", r.suspect))
                if not r.suspect:
                    by_key.setdefault(key, cid)
    for j, f in enumerate(doc.narrative, 1):
        nid = f"n{j}"
        key = ("narrative", f.key, fact_column(f))
        tip = f"narrative {f.key} ({f.kind}) = {f.value} · printed {f.printed!r} {f.unit}"
        items.append(Item(nid, key, f.span, f"narrative/{f.key}", tip, "narrative"))
        by_key.setdefault(key, nid)
    return items, by_key


def _mark_findings(items: list[Item], by_key: dict, report: CheckReport) -> None:
    index = {i.id: i for i in items}
    for r in report.findings():
        for t in r.terms:
            iid = by_key.get(t.key)
            if iid:
                index[iid].classes.add("fail")
        d = r.diagnosis
        if d is not None and (iid := by_key.get((d.table, d.row, d.column))):
            index[iid].classes.add("diag")


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
        cls = {"v"}
        if len(its) > 1:
            cls.add("multi")
        if all(i.kind == "narrative" for i in its):
            cls.add("nar")
        if any(i.suspect for i in its):
            cls.add("suspect")
        for i in its:
            cls.update(i.classes)
        ids = " ".join(i.id for i in its)
        tip = "\n".join(i.tip for i in its)
        out.append(f'<mark class="{" ".join(sorted(cls))}" data-c="{ids}" title="{esc(tip)}">{piece}</mark>')
    return '<pre id="source">' + "".join(out) + "</pre>"


def tables_html(doc: Document, items: list[Item]) -> str:
    ids = iter(i for i in items if i.kind == "cell")
    parts = []
    for t in doc.tables:
        cols = list(dict.fromkeys([c for c in t.columns if any(r.cell(c) for r in t.rows)]
                                  + [c.column for r in t.rows for c in r.cells]))
        lines = f"lines {t.span.line_start}–{t.span.line_end}"
        head = (f'<h3 id="T-{esc(t.id)}"><a href="#L{t.span.line_start}" class="goto-line">{esc(t.id)}</a>'
                f' <span class="title">{esc(t.title)}</span> <span class="dim">{esc(t.unit)} · {lines}'
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
            rows.append(f'<tr{rcls}{note}><th><a href="#L{r.span.line_start}" class="goto-line">{esc(r.id)}</a></th>'
                        f'<td class="label">{esc(r.label)}</td>{"".join(tds)}</tr>')
        header = "<tr><th>row</th><th>label</th>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>"
        parts.append(f'<section class="tbl">{head}<div class="scroll"><table><thead>{header}</thead>'
                     f'<tbody>{"".join(rows)}</tbody></table></div></section>')
    return "".join(parts)


def _term_html(t, by_key: dict) -> str:
    sign = "+" if t.coefficient > 0 else "−"
    iid = by_key.get(t.key)
    name = esc("/".join(t.key))
    link = f'<a href="#s-{iid}" data-c="{iid}">{name}</a>' if iid else name
    line = f' · <a href="#L{t.span.line_start}" class="goto-line">line {t.span.line_start}</a>' if t.span else ""
    return (f"<li>{sign} {link} = {money(t.value)} 元 <span class=\"dim\">(printed "
            f"{esc(repr(t.printed))} {esc(t.unit or '')}{line})</span></li>")


def _finding_html(k: int, r: Result, by_key: dict) -> str:
    calc = ""
    if r.delta is not None:
        calc = (f'<div class="calc">left {money(r.left)} {esc(r.op)} right {money(r.right)} · Δ {money(r.delta)} 元 '
                f'<span class="dim">(rounding envelope ±{money(r.envelope)} 元)</span></div>')
    reason = f'<div class="dim">{esc(r.reason)}</div>' if r.reason else ""
    terms = "".join(_term_html(t, by_key) for t in r.terms)
    diag = ""
    d = r.diagnosis
    if d is not None:
        iid = by_key.get((d.table, d.row, d.column))
        name = esc(f"{d.table}/{d.row}/{d.column}")
        link = f'<a href="#s-{iid}" data-c="{iid}">{name}</a>' if iid else name
        diag = (f'<div class="diag">likely wrong: {link} = {money(d.current)}; {money(d.fix)} would satisfy '
                f'{d.explains} failing check(s)</div>')
    return (f'<div class="finding sev-{esc(r.severity)}" id="F{k}"><div class="ftitle"><b>{esc(r.severity.upper())}</b> '
            f'{esc(r.title)}</div><div class="inst">{esc(r.instance)}</div>{calc}{reason}<ul>{terms}</ul>{diag}</div>')


def findings_html(report: CheckReport, by_key: dict) -> str:
    fails = sorted(report.findings(), key=lambda r: _SEV_ORDER.get(r.severity, 3))
    parts = []
    if fails:
        parts.append("".join(_finding_html(k, r, by_key) for k, r in enumerate(fails, 1)))
    else:
        parts.append('<p class="ok">no inconsistency found</p>')
    notes = [r for r in report.results if r.status == "rounding"]
    if notes:
        lis = "".join(f"<li>{esc(r.instance)} · Δ {money(r.delta)} ≤ ±{money(r.envelope)} "
                      + " ".join(f'<a href="#s-{by_key[t.key]}" data-c="{by_key[t.key]}">{esc(t.row)}</a>'
                                 for t in r.terms if t.key in by_key) + "</li>" for r in notes)
        parts.append(f"<details><summary>{len(notes)} rounding note(s) (within the printed precision: 尾差)"
                     f"</summary><ul class=\"notes\">{lis}</ul></details>")
    cannot = [r for r in report.results if r.status == "insufficient_data"]
    if cannot:
        lis = "".join(f"<li>{esc(r.instance)}: {esc(r.reason or '')}</li>" for r in cannot)
        parts.append(f"<details><summary>{len(cannot)} check(s) could not run</summary><ul class=\"notes\">{lis}</ul>"
                     "</details>")
    return "".join(parts)


def narrative_html(doc: Document, items: list[Item]) -> str:
    nar = [i for i in items if i.kind == "narrative"]
    if not nar:
        return '<p class="dim">no narrative facts</p>'
    rows = []
    for it, f in zip(nar, doc.narrative):
        cls = " ".join(sorted({"v", "nar"} | it.classes))
        rows.append(f'<tr><td>{esc(f.key)}</td><td>{esc(f.kind)}</td><td class="{cls}" id="t-{it.id}" data-c="{it.id}">'
                    f'<a href="#s-{it.id}" data-c="{it.id}">{esc(f.printed)}</a></td><td>{esc(f.unit)}</td>'
                    f'<td><a href="#L{f.span.line_start}" class="goto-line">{f.span.line_start}</a></td></tr>')
    return ('<table class="nar-table"><thead><tr><th>key</th><th>kind</th><th>printed</th><th>unit</th><th>line</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


CSS = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:13px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC",
 "WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;color:#1d2330;background:#f4f5f7}
header{height:64px;padding:8px 14px;background:#1f2a44;color:#fff;display:flex;gap:20px;align-items:center;overflow:hidden}
header>div:first-child{min-width:0;flex:1 1 auto}
header h1{font-size:16px;margin:0;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header .meta{font-size:12px;opacity:.85;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header .counts{flex:0 0 auto;max-width:40%}
header .counts span{display:inline-block;margin-right:10px;padding:1px 8px;border-radius:10px;background:#34405e}
header .counts .fail{background:#b3261e}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);height:calc(100% - 64px)}
#left,#right{overflow:auto;height:100%}
#left{background:#fff;border-right:1px solid #d5d9e0}
pre#source{margin:0;padding:8px 12px 40px 0;font:12px/1.55 ui-monospace,"DejaVu Sans Mono","Noto Sans Mono CJK SC",
 monospace;white-space:pre;tab-size:4}
.ln::before{content:attr(data-n);display:inline-block;width:4.2em;padding-right:.8em;margin-right:.6em;text-align:right;
 color:#9aa1ad;border-right:1px solid #e3e6eb;user-select:none}
mark.v{background:#ffe38a;color:inherit;border-radius:2px;cursor:pointer;box-shadow:inset 0 -1px 0 #d9b43c}
mark.v.nar{background:#c9e7ff;box-shadow:inset 0 -1px 0 #6aa9d8}
mark.v.multi{background:#fff3c4;box-shadow:none;outline:1px dotted #d9b43c}
mark.v.suspect{background:#e5e5e5;box-shadow:inset 0 -1px 0 #999}
mark.v.fail{background:#ffc9c4;box-shadow:inset 0 -2px 0 #d93025}
mark.v.diag{background:#ff8a80;box-shadow:inset 0 -2px 0 #a50e0e}
mark.v.sel,td.v.sel{outline:2px solid #1a73e8;outline-offset:1px}
mark.v.flash,td.v.flash{animation:flash 1.2s ease-out 1}
@keyframes flash{0%{background:#1a73e8;color:#fff}100%{}}
.ln.flash::before{background:#1a73e8;color:#fff}
nav.tabs{position:sticky;top:0;z-index:2;background:#e9ecf1;border-bottom:1px solid #d5d9e0;padding:6px 10px 0}
nav.tabs button{border:1px solid #c8cdd6;border-bottom:none;background:#f4f5f7;padding:5px 12px;margin-right:4px;
 border-radius:6px 6px 0 0;cursor:pointer;font:inherit}
nav.tabs button.on{background:#fff;font-weight:600}
.pane{display:none;padding:10px 14px 40px}
.pane.on{display:block}
.finding{background:#fff;border:1px solid #d5d9e0;border-left:5px solid #999;border-radius:4px;padding:8px 10px;margin:0 0 10px}
.finding.sev-error{border-left-color:#d93025}
.finding.sev-warning{border-left-color:#f29900}
.finding ul{margin:4px 0;padding-left:18px}
.inst,.dim{color:#6b7280;font-size:12px}
.calc{margin-top:3px}
.diag{margin-top:4px;padding:3px 6px;background:#fdecea;border-radius:3px}
.ok{color:#188038;font-weight:600}
section.tbl{background:#fff;border:1px solid #d5d9e0;border-radius:4px;margin:0 0 12px;padding:6px 8px}
section.tbl h3{margin:2px 0 6px;font-size:13px}
section.tbl h3 .title{font-weight:400}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #e3e6eb;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#f4f5f7;font-weight:600}
td.label{text-align:left;max-width:16em;overflow:hidden;text-overflow:ellipsis}
td.v{background:#fffbe6}
td.v.fail{background:#ffe1de}
td.v.diag{background:#ff8a80}
td.v.nar{background:#e8f4ff}
td.unreadable{color:#b3261e;font-style:italic}
tr.suspect td,tr.suspect th{color:#888;background:#f1f1f1}
a{color:#1a56c4;text-decoration:none}
a:hover{text-decoration:underline}
#info{position:fixed;right:12px;bottom:12px;max-width:46%;background:#1f2a44;color:#fff;padding:6px 10px;border-radius:6px;
 font-size:12px;display:none;white-space:pre-line;z-index:5}
.legend{font-size:11px;opacity:.9;flex:0 1 auto;max-width:26%}
.legend i{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;vertical-align:-1px;border-radius:2px}
"""

JS = r"""
(function(){
  var src=document.getElementById('left');
  var info=document.getElementById('info');
  function all(sel){return Array.prototype.slice.call(document.querySelectorAll(sel));}
  var marks={};
  all('mark.v').forEach(function(m){m.dataset.c.split(' ').forEach(function(id){(marks[id]=marks[id]||[]).push(m);});});
  function clear(){all('.sel').forEach(function(e){e.classList.remove('sel');});}
  function flash(el){el.classList.remove('flash');void el.offsetWidth;el.classList.add('flash');}
  function showTab(name){
    all('nav.tabs button').forEach(function(b){b.classList.toggle('on',b.dataset.tab===name);});
    all('.pane').forEach(function(p){p.classList.toggle('on',p.id==='pane-'+name);});
  }
  function toSource(id){
    var ms=marks[id]||[]; if(!ms.length) return false;
    clear(); ms.forEach(function(m){m.classList.add('sel');flash(m);});
    ms[0].scrollIntoView({block:'center',inline:'nearest'});
    return true;
  }
  function toCell(ids){
    clear(); var first=null;
    ids.forEach(function(id){var td=document.getElementById('t-'+id); if(td){td.classList.add('sel');flash(td);first=first||td;}
      (marks[id]||[]).forEach(function(m){m.classList.add('sel');});});
    if(first){showTab(first.closest('.pane').id.replace('pane-',''));first.scrollIntoView({block:'center',inline:'nearest'});}
  }
  document.addEventListener('click',function(ev){
    var a=ev.target.closest('a'); var m=ev.target.closest('mark.v');
    if(a&&a.dataset.c){ev.preventDefault();toSource(a.dataset.c);return;}
    if(a&&a.classList.contains('goto-line')){ev.preventDefault();var l=document.querySelector(a.getAttribute('href'));
      if(l){l.scrollIntoView({block:'center'});flash(l);}return;}
    if(m){var ids=m.dataset.c.split(' ');toCell(ids);info.textContent=m.title;info.style.display='block';return;}
    var b=ev.target.closest('nav.tabs button'); if(b){showTab(b.dataset.tab);return;}
    info.style.display='none';
  });
  var h=location.hash;
  if(h.indexOf('#tab-')===0){showTab(h.slice(5));}
  if(h.indexOf('#s-')===0){toSource(h.slice(3));}
  else{var first=document.querySelector('mark.v.diag')||document.querySelector('mark.v.fail')
      ||document.querySelector('mark.v');
    if(first){first.scrollIntoView({block:'center',inline:'nearest'});}}
  document.documentElement.setAttribute('data-ready',String(Object.keys(marks).length));
})();
"""


def render_html(doc: Document, report: CheckReport, source: SourceText) -> str:
    items, by_key = collect_items(doc)
    _mark_findings(items, by_key, report)
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
    data = {"doc": m.source, "sha256": m.sha256, "cells": ncells, "narrative": len(doc.narrative), "findings": fails}
    data_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(m.source or "document")} · structurer report</title>
<style>{CSS}</style></head>
<body>
<header><div><h1>{esc(m.source or "document")}</h1><div class="meta">{esc(meta)} · {ncells} cells · {len(doc.narrative)} narrative facts · backend {esc(doc.backend)}</div></div>
<div class="counts">{count_html}</div>{legend}</header>
<main>
<div id="left">{source_html(source, items)}</div>
<div id="right">
<nav class="tabs"><button data-tab="findings" class="on">Findings ({fails})</button><button data-tab="tables">Tables ({len(doc.tables)})</button><button data-tab="narrative">Narrative ({len(doc.narrative)})</button></nav>
<div class="pane on" id="pane-findings">{findings_html(report, by_key)}</div>
<div class="pane" id="pane-tables">{tables_html(doc, items)}</div>
<div class="pane" id="pane-narrative">{narrative_html(doc, items)}</div>
</div></main>
<div id="info"></div>
<script type="application/json" id="report-data">{data_json}</script>
<script>{JS}</script>
</body></html>
"""
