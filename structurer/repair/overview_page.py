"""The overview page of a batch run: totals, a small chart of findings per document, and one
row per document (accepted or refused and why, core tables located, checks that passed, failed
or could not run, findings by severity, its report), sortable by any column and filterable.
Self-contained like the report: inline CSS and JS, no external asset."""
from __future__ import annotations

import json

from .. import vocab
from .html_items import esc
from .overview import DocRow

BINS = ((0, 0, "0"), (1, 1, "1"), (2, 3, "2–3"), (4, 10, "4–10"), (11, 10**9, "> 10"))

CSS = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
 color:#1d2330;background:#f4f5f7}
header{padding:10px 16px;background:#1f2a44;color:#fff}
header h1{font-size:17px;margin:0 0 2px}
header .meta{font-size:12px;opacity:.85}
.top{display:flex;gap:16px;padding:12px 16px;align-items:flex-start}
.cards{display:flex;flex-wrap:wrap;gap:8px;flex:1 1 auto}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:6px 10px;min-width:96px}
.card b{display:block;font-size:20px}
.card.refused b{color:#b3261e}
.card.err b{color:#d93025}
.card.warn b{color:#b06000}
.chart{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px 12px}
.chart h3{margin:0 0 4px;font-size:12px;font-weight:600;color:#4b5563}
.chart rect.bar{fill:#3b6fd6}
.chart rect.bar.zero{fill:#34a853}
.chart text{font-size:11px;fill:#374151}
.tools{padding:0 16px 8px;display:flex;gap:10px;align-items:center}
.tools input{font:inherit;padding:4px 8px;width:280px;border:1px solid #c8cdd6;border-radius:4px}
.tools select{font:inherit;padding:3px 6px}
.tools .shown{color:#6b7280}
table{border-collapse:collapse;margin:0 16px 40px;background:#fff;font-size:12px;min-width:calc(100% - 32px)}
th,td{border:1px solid #e3e6eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e9ecf1;cursor:pointer;user-select:none;white-space:nowrap;position:sticky;top:0}
th.asc::after{content:" ▲"}
th.desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.refused td{background:#fdecea}
tr.refused td.status{color:#b3261e;font-weight:600}
tr.clean td.status{color:#188038;font-weight:600}
tr.errors td.status{color:#d93025;font-weight:600}
.sev{display:inline-block;min-width:22px;padding:0 6px;border-radius:9px;margin-right:3px;text-align:center;color:#fff}
.sev.error{background:#d93025}
.sev.warning{background:#f29900}
.sev.info{background:#5f6b7a}
.dim{color:#6b7280}
.miss{color:#b06000}
a{color:#1a56c4;text-decoration:none}
a:hover{text-decoration:underline}
tr.hidden{display:none}
"""

JS = r"""
(function(){
  var table=document.getElementById('docs'), body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  var q=document.getElementById('q'), which=document.getElementById('which'), shown=document.getElementById('shown');
  function apply(){
    var text=q.value.trim().toLowerCase(), w=which.value, n=0;
    rows.forEach(function(r){
      var ok=(!text||r.textContent.toLowerCase().indexOf(text)>=0)&&(w==='all'||r.classList.contains(w));
      r.classList.toggle('hidden',!ok); if(ok){n++;}
    });
    shown.textContent=n+' of '+rows.length+' shown';
  }
  q.addEventListener('input',apply); which.addEventListener('change',apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc');
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.classList.remove('asc','desc');});
      th.classList.add(asc?'asc':'desc');
      var num=th.dataset.type==='num';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v!==undefined?a.cells[i].dataset.v:a.cells[i].textContent;
        var y=b.cells[i].dataset.v!==undefined?b.cells[i].dataset.v:b.cells[i].textContent;
        var c=num?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y,'zh');
        return asc?c:-c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  apply();
  document.documentElement.setAttribute('data-ready',String(rows.length));
})();
"""


def _sev_html(sev: dict[str, int]) -> str:
    return "".join(f'<span class="sev {s}" title="{s}">{sev[s]}</span>' for s in ("error", "warning", "info")
                   if sev.get(s))


def _row_html(r: DocRow) -> str:
    classes = ["accepted" if r.accepted else "refused" if r.status == "failed" else r.status]
    if r.accepted:
        classes.append("errors" if r.severities.get("error") else "findings" if r.findings else "clean")
    if r.accepted:
        status = "accepted"
        why = esc(r.note) if r.note else ""
    else:
        status = "refused" if r.status == "failed" else r.status
        why = esc(r.error)
    link = f'<a href="{esc(r.report)}">{esc(r.path)}</a>' if r.report else esc(r.path)
    core = len(vocab.CORE_TABLES)
    located = len(r.core_located)
    tables = (f'<td class="num" data-v="{located}" title="{esc("missing: " + "、".join(r.core_missing))}">'
              f'{located} of {core}{" <span class=miss>missing " + str(len(r.core_missing)) + "</span>" if r.core_missing else ""}'
              f' <span class="dim">({r.tables} in all)</span></td>') if r.accepted else '<td data-v="-1"></td>'
    c = r.checks
    passed = c.get("pass", 0) + c.get("rounding", 0)
    checks = (f'<td class="num" data-v="{passed}">{passed}</td><td class="num" data-v="{c.get("fail", 0)}">'
              f'{c.get("fail", 0)}</td><td class="num" data-v="{c.get("insufficient_data", 0)}">'
              f'{c.get("insufficient_data", 0)}</td>') if r.accepted else "<td></td><td></td><td></td>"
    sev = r.severities
    order = sev.get("error", 0) * 1_000_000 + sev.get("warning", 0) * 1000 + sev.get("info", 0)
    who = " · ".join(str(x) for x in (r.agency, r.year, r.kind) if x)
    return (f'<tr class="{" ".join(classes)}"><td>{link}<div class="dim">{esc(who)}</div></td>'
            f'<td class="status">{status}</td><td>{why}</td>{tables}{checks}'
            f'<td data-v="{order}">{_sev_html(sev) if r.accepted else ""}</td></tr>')


def _chart(rows: list[DocRow]) -> str:
    done = [r for r in rows if r.accepted]
    counts = [sum(1 for r in done if lo <= r.findings <= hi) for lo, hi, _ in BINS]
    top = max(counts + [1])
    bw, gap, h = 46, 10, 90
    bars = []
    for k, ((lo, _, label), n) in enumerate(zip(BINS, counts)):
        x = k * (bw + gap)
        bh = round(n / top * h)
        cls = "bar zero" if lo == 0 else "bar"
        bars.append(f'<rect class="{cls}" x="{x}" y="{h - bh + 14}" width="{bw}" height="{bh}"><title>{n} '
                    f'document(s) with {label} finding(s)</title></rect><text x="{x + bw / 2}" y="{h - bh + 10}" '
                    f'text-anchor="middle">{n}</text><text x="{x + bw / 2}" y="{h + 28}" text-anchor="middle">'
                    f'{label}</text>')
    width = len(BINS) * (bw + gap)
    return (f'<div class="chart"><h3>documents by number of findings</h3><svg width="{width}" height="{h + 32}" '
            f'role="img" aria-label="documents by number of findings">{"".join(bars)}</svg></div>')


def overview_html(rows: list[DocRow], out_dir: str, input_dir: str | None) -> str:
    done = [r for r in rows if r.accepted]
    refused = [r for r in rows if r.status == "failed"]
    sev = {s: sum(r.severities.get(s, 0) for r in done) for s in ("error", "warning", "info")}
    checks = {k: sum(r.checks.get(k, 0) for r in done) for k in ("pass", "rounding", "fail", "insufficient_data")}
    clean = sum(1 for r in done if not r.findings)
    all_core = sum(1 for r in done if not r.core_missing)
    cards = [("documents", len(rows), ""), ("accepted", len(done), ""), ("refused", len(refused), "refused"),
             ("clean", clean, ""), ("all core tables located", all_core, ""),
             ("errors", sev["error"], "err"), ("warnings", sev["warning"], "warn"), ("info", sev["info"], ""),
             ("checks passed", checks["pass"] + checks["rounding"], ""), ("checks failed", checks["fail"], ""),
             ("could not run", checks["insufficient_data"], "")]
    cards_html = "".join(f'<div class="card {cls}"><b>{n:,}</b>{esc(label)}</div>' for label, n, cls in cards)
    head = ('<tr><th>document</th><th>status</th><th>why</th><th data-type="num">core tables located</th>'
            '<th data-type="num">checks passed</th><th data-type="num">failed</th><th data-type="num">could not run'
            '</th><th data-type="num">findings</th></tr>')
    body = "".join(_row_html(r) for r in rows)
    data = {"out_dir": out_dir, "documents": len(rows), "accepted": len(done), "refused": len(refused),
            "findings": sev}
    data_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(out_dir)} · structurer batch overview</title>
<style>{CSS}</style></head>
<body>
<header><h1>Batch overview · {esc(out_dir)}</h1><div class="meta">input {esc(input_dir or "unknown")} ·
{len(rows)} documents · core tables: the {len(vocab.CORE_TABLES)} every disclosure publishes</div></header>
<div class="top"><div class="cards">{cards_html}</div>{_chart(rows)}</div>
<div class="tools"><input id="q" type="search" placeholder="filter: name, agency, reason …">
<select id="which"><option value="all">all documents</option><option value="accepted">accepted</option>
<option value="refused">refused</option><option value="errors">with errors</option>
<option value="findings">with findings, no error</option><option value="clean">clean</option></select>
<span class="shown" id="shown"></span></div>
<table id="docs"><thead>{head}</thead><tbody>{body}</tbody></table>
<script type="application/json" id="overview-data">{data_json}</script>
<script>{JS}</script>
</body></html>
"""
