"""What got better or worse between two runs, cell by cell.

Columns are paired by name (`rules`, `llm:MODEL`, …) and documents by name. A cell changed
when its outcome status, its gold value or its extracted value differ between the runs
(spans and printed text alone are not a change). A change is *better* when the cell was
wrong (wrong / unit / unreadable / missing / extra / duplicate) in A and is not in B,
*worse* the other way round, and *changed* when it is wrong in both, differently, or right
in both with different values (the gold changed).
"""
from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from .cells import OK
from .metrics import outcome_dict
from .render import _gold_text, _stem, describe

SUMMARY_METRICS = (("cells F1", ("cells", "f1")), ("cells fp", ("cells", "fp")), ("cells fn", ("cells", "fn")),
                   ("narrative F1", ("narrative", "f1")), ("performance F1", ("performance", "f1")),
                   ("metadata correct", ("meta", "correct")), ("check findings spurious", ("checks", "fp")),
                   ("check findings missed", ("checks", "fn")))


def _outcomes(doc_score: dict) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    seen: dict[tuple, int] = {}
    for o in doc_score["cells"]["outcomes"]:
        od = outcome_dict(o)
        k = (od["table"], od["row"], od["column"])
        if od["status"] == "duplicate":
            n = seen.get(k, 0) + 1
            seen[k] = n
            k = (*k, f"duplicate {n}")
        out[k] = od
    return out


def _bad(o: dict | None) -> bool:
    return o is not None and o["status"] != OK


def _same(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a["status"], a["gold"], a["got"]) == (b["status"], b["gold"], b["got"])


def _get(d: dict, path: tuple[str, str]):
    return d["overall"][path[0]][path[1]]


def diff_runs(a: dict, b: dict) -> dict:
    ca, cb = a["columns"], b["columns"]
    out = {"a": a.get("id"), "b": b.get("id"), "columns_only_in_a": [c for c in ca if c not in cb],
           "columns_only_in_b": [c for c in cb if c not in ca], "columns": {}}
    for name in (c for c in ca if c in cb):
        xa, xb = ca[name], cb[name]
        cells = []
        for doc in (d for d in xa["docs"] if d in xb["docs"]):
            oa, ob = _outcomes(xa["docs"][doc]), _outcomes(xb["docs"][doc])
            for k in sorted(set(oa) | set(ob)):
                va, vb = oa.get(k), ob.get(k)
                if _same(va, vb):
                    continue
                change = ("better" if _bad(va) and not _bad(vb) else
                          "worse" if _bad(vb) and not _bad(va) else "changed")
                cells.append({"doc": doc, "table": k[0], "row": k[1], "column": k[2], "change": change,
                              "a": va, "b": vb})
        summary = {label: {"a": _get(xa, p), "b": _get(xb, p)} for label, p in SUMMARY_METRICS}
        for label, key in (("cost", "cost"), ("requests", "requests"), ("cache hits", "cache_hits")):
            summary[label] = {"a": xa["usage"][key], "b": xb["usage"][key]}
        summary["failures"] = {"a": xa["failures"], "b": xb["failures"]}
        out["columns"][name] = {
            "docs_only_in_a": [d for d in xa["docs"] if d not in xb["docs"]],
            "docs_only_in_b": [d for d in xb["docs"] if d not in xa["docs"]],
            "summary": summary,
            "better": sum(c["change"] == "better" for c in cells),
            "worse": sum(c["change"] == "worse" for c in cells),
            "changed": sum(c["change"] == "changed" for c in cells),
            "cells": cells,
        }
    return out


def print_diff(d: dict, console: Console) -> None:
    for label, key in (("only in A", "columns_only_in_a"), ("only in B", "columns_only_in_b")):
        if d[key]:
            console.print(f"columns {label}: {', '.join(d[key])}")
    for name, c in d["columns"].items():
        s = RichTable(title=f"{name}: {d['a']} → {d['b']}")
        for h in ("metric", "A", "B"):
            s.add_column(h)
        for label, v in c["summary"].items():
            a, b = v["a"], v["b"]
            fmt = (lambda x: f"{x:.4f}") if isinstance(a, float) or isinstance(b, float) else str
            s.add_row(label, fmt(a), fmt(b) + ("" if a == b else "  *"))
        console.print(s)
        for label, key in (("only in A", "docs_only_in_a"), ("only in B", "docs_only_in_b")):
            if c[key]:
                console.print(f"documents {label}: {', '.join(c[key])}")
        if not c["cells"]:
            console.print(f"{name}: no cell changed")
            continue
        t = RichTable(title=f"{name}: {len(c['cells'])} cells changed "
                            f"({c['better']} better, {c['worse']} worse, {c['changed']} changed)")
        for h in ("", "doc", "table / row / column", "gold A", "A", "gold B", "B"):
            t.add_column(h, overflow="fold")
        for x in c["cells"]:
            mark = {"better": "[green]+[/green]", "worse": "[red]−[/red]", "changed": "~"}[x["change"]]
            t.add_row(mark, _stem(x["doc"])[:12], f"{x['table']} / {x['row']} / {x['column']}",
                      _gold_text(x["a"]) if x["a"] else "—", describe(x["a"]),
                      _gold_text(x["b"]) if x["b"] else "—", describe(x["b"]))
        console.print(t)


def diff_has_changes(d: dict) -> bool:
    return bool(d["columns_only_in_a"] or d["columns_only_in_b"]
                or any(c["cells"] for c in d["columns"].values()))

