"""The side-by-side matrix (terminal, rich) and the Markdown report of a run.

Both render the same rows from the run data: one column per backend/model, one row per
metric (overall, per document, per table kind, other aspects, cost), then every cell that is
not right in at least one column, with the gold value and what each column made of it.
"""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from .cells import OK
from .metrics import outcome_dict

MARK = {"ok": "✓", "wrong": "✗", "unit": "✗unit", "unreadable": "✗unreadable", "missing": "–missing",
        "extra": "+extra", "duplicate": "+dup"}


def _f1(c: dict) -> str:
    s = f"{c['f1']:.3f}"
    if c["fp"] or c["fn"]:
        s += f" ({c['fp']} fp, {c['fn']} fn)"
    return s


def _labelled(col: dict, key: str, aspect: str, n: int) -> str:
    """An aspect's F1 over the documents whose gold labels it (key-cell gold may not)."""
    k = col["overall"].get("labelled_documents", {}).get(aspect, n)
    if not k:
        return "— (no gold labels it)"
    return _f1(col["overall"][key]) + (f" [{k} of {n} documents]" if k < n else "")


def _pr(c: dict) -> str:
    return f"{c['precision']:.3f} / {c['recall']:.3f}"


def _stem(doc: str) -> str:
    return Path(doc).stem


def matrix_rows(data: dict) -> list[tuple[str, str, list[str]]]:
    """(section, label, one value per column)."""
    cols = list(data["columns"].values())
    rows: list[tuple[str, str, list[str]]] = []

    def add(section: str, label: str, fn) -> None:
        rows.append((section, label, [fn(c) for c in cols]))

    add("cells", "F1 (all documents)", lambda c: _f1(c["overall"]["cells"]))
    add("cells", "precision / recall", lambda c: _pr(c["overall"]["cells"]))
    add("cells", "tp / fp / fn", lambda c: "{tp} / {fp} / {fn}".format(**c["overall"]["cells"]))
    docs = list(dict.fromkeys(d for c in cols for d in c["docs"]))
    for d in docs:
        add("per document", _stem(d),
            lambda c, d=d: _f1(c["docs"][d]["cells"]["counts"]) if d in c["docs"] else "—")
    tables = sorted({t for c in cols for t in c["overall"]["tables"]})
    for t in tables:
        add("per table kind", t, lambda c, t=t: _f1(c["overall"]["tables"][t]) if t in c["overall"]["tables"] else "—")
    add("other aspects", "metadata fields", lambda c: "{correct}/{total}".format(**c["overall"]["meta"]))
    n = len(docs)
    add("other aspects", "narrative facts F1", lambda c: _labelled(c, "narrative", "narrative", n))
    add("other aspects", "performance indicators F1", lambda c: _labelled(c, "performance", "performance", n))
    add("other aspects", "performance projects F1",
        lambda c: _labelled(c, "performance_projects", "performance", n))
    add("other aspects", "check findings (agree / spurious / missed)",
        lambda c: "{tp} / {fp} / {fn}".format(**c["overall"]["checks"]))
    add("cost", "model", lambda c: ", ".join(c["models_seen"]) or (c["model"] or "—"))
    add("cost", "prompt versions", lambda c: ", ".join(f"{k}={v}" for k, v in c["prompt_versions"].items()) or "—")
    add("cost", "requests", lambda c: str(c["usage"]["requests"]))
    add("cost", "cache hits", lambda c: str(c["usage"]["cache_hits"]))
    add("cost", "retries / reasks", lambda c: f"{c['usage']['retries']} / {c['usage']['reasks']}")
    add("cost", "failures", lambda c: str(c["failures"]))
    add("cost", "tokens (prompt / completion)",
        lambda c: f"{c['usage']['prompt_tokens']} / {c['usage']['completion_tokens']}")
    add("cost", "cost", lambda c: c["usage"]["cost"])
    add("cost", "model latency (s)", lambda c: f"{c['usage']['latency_s']:.2f}")
    add("cost", "wall time (s)", lambda c: f"{c['wall_s']:.2f}")
    return rows


def difference_rows(data: dict) -> list[tuple[str, dict, list[dict | None]]]:
    """Every (doc, table, row, column) not right in some column: (doc, first outcome, per column)."""
    cols = list(data["columns"].values())
    keys: dict[tuple, dict] = {}
    per_col: list[dict[tuple, dict]] = []
    for c in cols:
        m: dict[tuple, dict] = {}
        for doc, d in c["docs"].items():
            for o in d["cells"]["outcomes"]:
                od = outcome_dict(o)
                k = (doc, od["table"], od["row"], od["column"], od["status"] == "duplicate")
                m[k] = od
                if od["status"] != OK:
                    keys.setdefault(k, od)
        per_col.append(m)
    out = []
    for k in sorted(keys):
        out.append((k[0], keys[k], [m.get(k) for m in per_col]))
    return out


def _where(o: dict) -> str:
    if not o.get("lines"):
        return ""
    a, b = o["lines"]
    span = f"L{a}" if a == b else f"L{a}–{b}"
    return span if o.get("span_of") == "cell" else f"{o['span_of']} {span}"


def describe(o: dict | None, long: bool = False) -> str:
    """What one column made of a cell."""
    if o is None:
        return "—"
    st = o["status"]
    if st == OK:
        return MARK[OK]
    if st == "missing":
        w = _where(o)
        return f"{MARK['missing']}" + (f" ({w})" if w else "")
    printed = o.get("printed")
    val = o.get("got")
    text = printed if printed is not None else "?"
    if long or st == "unit":
        text += f" = {val}元" if val is not None else " (unreadable)"
    w = _where(o)
    return f"{MARK[st]} {text}" + (f" {w}" if w else "")


def _gold_text(o: dict, long: bool = False) -> str:
    if o.get("gold") is None:
        return "—"
    gp = o.get("gold_printed") or o["gold"]
    return f"{gp} = {o['gold']}元" if long else gp


def print_matrix(data: dict, console: Console, max_differences: int = 60) -> None:
    names = list(data["columns"])
    title = f"eval {data.get('id', '')}".strip()
    t = RichTable(title=title, show_lines=False)
    t.add_column("metric", no_wrap=True)
    for n in names:
        t.add_column(n, overflow="fold")
    section = None
    for sec, label, vals in matrix_rows(data):
        if sec != section:
            if section is not None:
                t.add_section()
            t.add_row(f"[bold]{sec}[/bold]", *[""] * len(names))
            section = sec
        t.add_row(f"  {label}", *vals)
    console.print(t)
    diffs = difference_rows(data)
    if not diffs:
        console.print("cells: every column matches the gold exactly (no wrong, missing or extra cell)")
        return
    d = RichTable(title=f"cells not right in some column ({len(diffs)})")
    for h in ("doc", "table / row / column", "gold"):
        d.add_column(h, no_wrap=h != "gold")
    for n in names:
        d.add_column(n, overflow="fold")
    for doc, o, per in diffs[:max_differences]:
        d.add_row(_stem(doc)[:12], f"{o['table']} / {o['row']} / {o['column']}", _gold_text(o),
                  *[describe(x) for x in per])
    console.print(d)
    if len(diffs) > max_differences:
        console.print(f"… and {len(diffs) - max_differences} more (all in the Markdown report / --json)")


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_escape(h) for h in header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_md_escape(x) for x in r) + " |" for r in rows]
    return out


def markdown(data: dict) -> str:
    cfg = data.get("config", {})
    names = list(data["columns"])
    lines = [f"# Eval {data.get('id', '')}".rstrip(), ""]
    git = cfg.get("git") or {}
    lines += [f"- time: {cfg.get('time', '—')}",
              f"- git commit: {git.get('commit') or '—'}{' (uncommitted changes)' if git.get('dirty') else ''}",
              f"- gold: {cfg.get('gold', '—')} ({len(cfg.get('gold_files', {}))} files)"
              + (f", docs matching `{cfg['docs']}`" if cfg.get("docs") else ""),
              f"- sources: {cfg.get('sources', '—')}", ""]
    lines += _md_table(["column", "backend", "model", "models seen", "prompt versions"],
                       [[n, c["backend"], c["model"] or "—", ", ".join(c["models_seen"]) or "—",
                         ", ".join(f"{k}={v}" for k, v in c["prompt_versions"].items()) or "—"]
                        for n, c in data["columns"].items()])
    lines += ["", "## Matrix", ""]
    rows = [[f"**{sec}** · {label}", *vals] for sec, label, vals in matrix_rows(data)]
    lines += _md_table(["metric", *names], rows)
    diffs = difference_rows(data)
    lines += ["", f"## Cells not right in some column ({len(diffs)})", ""]
    if diffs:
        lines += _md_table(["doc", "table", "row", "column", "gold", *names],
                           [[_stem(doc), o["table"], o["row"], o["column"], _gold_text(o, True),
                             *[describe(x, True) for x in per]] for doc, o, per in diffs])
    else:
        lines.append("None: every gold cell is right and no extra cell, in every column.")
    for n, c in data["columns"].items():
        items = []
        for doc, d in c["docs"].items():
            for field, v in d["meta"]["fields"].items():
                if not v["ok"]:
                    items.append([_stem(doc), f"metadata {field}", f"gold {v['gold']} · got {v['got']}", ""])
            for f in d["narrative"]["missing"]:
                items.append([_stem(doc), "narrative missing", f"{f['key']} {f['kind']} {f['printed']} {f['unit']}",
                              f"L{f['line']}" if f.get("line") else ""])
            for f in d["narrative"]["extra"]:
                items.append([_stem(doc), "narrative extra", f"{f['key']} {f['kind']} {f['printed']} {f['unit']}",
                              f"L{f['line']}"])
            for p in d["performance"]["missing_projects"]:
                items.append([_stem(doc), "project missing", p, ""])
            for p in d["performance"]["extra_projects"]:
                items.append([_stem(doc), "project extra", p, ""])
            for k in d["performance"]["missing"]:
                items.append([_stem(doc), "indicator missing", " · ".join(k), ""])
            for k in d["performance"]["extra"]:
                items.append([_stem(doc), "indicator extra", " · ".join(k), ""])
            for f in d["checks"]["spurious"]:
                sc = f.get("suspect_cell")
                where = (f"{sc['table']}/{sc['row']}/{sc['column']}"
                         + (f" L{sc['lines'][0]}" if sc.get("lines") else "")) if sc else ""
                items.append([_stem(doc), "check finding not in gold", f"{f['instance']} {f.get('reason') or ''}",
                              where])
            for f in d["checks"]["missed"]:
                items.append([_stem(doc), "gold check finding missed", f["instance"], ""])
            if d.get("error"):
                items.append([_stem(doc), "extraction failed", d["error"], ""])
        lines += ["", f"## {n}: other differences ({len(items)})", ""]
        lines += _md_table(["doc", "what", "item", "where"], items) if items else ["None."]
    return "\n".join(lines) + "\n"
