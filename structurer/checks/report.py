"""Human report of a check run: findings grouped by severity, with their source lines."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ..console import out
from ..ingest import SourceText
from .model import CheckReport, Result

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _money(v) -> str:
    return "—" if v is None else f"{v:,.2f}"


def _source_line(source: SourceText | None, term) -> str:
    if source is None or term.span is None:
        return ""
    ln = term.span.line_start
    text = source.lines[ln - 1]
    start = term.span.start - source.line_starts[ln - 1]
    end = min(len(text), start + (term.span.end - term.span.start))
    lo, hi = max(0, start - 30), min(len(text), end + 30)  # a window around the number
    pre, post = ("…" if lo else ""), ("…" if hi < len(text) else "")
    if 0 <= start < end:
        shown = pre + escape(text[lo:start]) + "[reverse]" + escape(text[start:end]) + "[/reverse]" \
            + escape(text[end:hi]) + post
    else:
        shown = escape(text[:80])
    return f"      [dim]{ln:>5} │[/dim] {shown.replace(chr(9), '  ')}"


def _finding(console: Console, r: Result, source: SourceText | None) -> None:
    style = _SEVERITY_STYLE.get(r.severity, "")
    console.print(f"[{style}]{r.severity.upper()}[/{style}] {escape(r.title)}  [dim]{escape(r.instance)}[/dim]")
    if r.delta is not None:
        console.print(f"   left {_money(r.left)} {r.op} right {_money(r.right)}  Δ {_money(r.delta)} 元"
                      f"  (rounding envelope ±{_money(r.envelope)} 元)")
    for t in r.terms:
        sign = "+" if t.coefficient > 0 else "−"
        where = f"line {t.span.line_start}" if t.span else ""
        console.print(f"   {sign} {escape(t.table)}/{escape(t.row)}/{escape(t.column)} = {_money(t.value)} 元"
                      f"  [dim](printed {escape(repr(t.printed))} {t.unit or ''}, {where})[/dim]")
        line = _source_line(source, t)
        if line:
            console.print(line)
    d = r.diagnosis
    if d is not None:
        console.print(f"   [bold]likely wrong:[/bold] {escape(d.table)}/{escape(d.row)}/{escape(d.column)} = "
                      f"{_money(d.current)}; {_money(d.fix)} would satisfy {d.explains} failing check(s)")


def print_report(report: CheckReport, source: SourceText | None = None, console: Console | None = None,
                 show_notes: bool = True) -> None:
    console = console or out
    counts = report.counts()
    if console.is_terminal:
        console.rule(f"[bold]{escape(report.doc)}")
    else:  # a rule in a file would be as wide as the unlimited page
        console.print(f"== {escape(report.doc)} ==")
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    fails = report.findings()
    for sev in ("error", "warning"):
        group = [r for r in fails if r.severity == sev]
        if group:
            console.print(f"\n[{_SEVERITY_STYLE[sev]}]{len(group)} {sev}(s)[/{_SEVERITY_STYLE[sev]}]")
            for r in group:
                _finding(console, r, source)
    notes = [r for r in report.results if r.status == "rounding"]
    if notes and show_notes:
        console.print(f"\n[cyan]{len(notes)} rounding note(s)[/cyan] (within the printed precision: 尾差)")
        for r in notes:
            console.print(f"   {escape(r.instance)}  Δ {_money(r.delta)} ≤ ±{_money(r.envelope)}")
    insufficient = [r for r in report.results if r.status == "insufficient_data"]
    if insufficient:
        console.print(f"\n[dim]{len(insufficient)} check(s) could not run:[/dim]")
        for r in insufficient:
            console.print(f"   [dim]{escape(r.instance)}: {escape(r.reason or '')}[/dim]")
    if not fails:
        console.print("\n[green]no inconsistency found[/green]")
