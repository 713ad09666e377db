"""What the review TUI shows of a finding and of a value, as rich Text: the check with its
terms and their source lines (the value highlighted), the suggested fix, the model's second
reading and the log entries about it.

Apart from the App, so the text can be built (and tested) without a terminal.
"""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from ..ingest import SourceText
from ..model import Span
from ..provenance import LOW_CONFIDENCE
from .apply import Target, printed_for
from .session import Finding, RepairSession
from .tui_page import WIDTH, page_crop, pdf_path

CROPS = 4  # page crops in a finding's detail (a check may name many values)
SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
STATE_LABEL = {"open": "", "skipped": "skipped", "kept": "kept as printed"}


def money(v: Decimal | None) -> str:
    return "unreadable" if v is None else f"{v:,.2f}"


# ------------------------------------------------------------------------------ rendering

def source_excerpt(source: SourceText | None, span: Span | None, style: str = "reverse bold",
                   width: int = 64, max_lines: int = 4) -> Text:
    """The source lines of a span, the span's characters highlighted, tabs shown as `│`."""
    out = Text()
    if source is None or span is None or span.line_start < 1:
        return out
    first = span.line_start
    last = min(span.line_end, first + max_lines - 1, len(source.lines))
    for ln in range(first, last + 1):
        line = source.lines[ln - 1]
        base = source.line_starts[ln - 1]
        a = max(0, min(len(line), span.start - base))
        b = max(0, min(len(line), span.end - base))
        lo, hi = (max(0, a - width // 2), min(len(line), max(b, a) + width // 2)) if b > a else (0, min(len(line), width))
        out.append(f"{ln:>6} │ ", style="dim")
        if lo:
            out.append("…", style="dim")
        for piece, st in ((line[lo:a], ""), (line[a:b], style), (line[b:hi], "")):
            out.append(piece.replace("\t", " │ "), style=st or None)
        if hi < len(line):
            out.append("…", style="dim")
        out.append("\n")
    if span.line_end > last:
        out.append(f"{'':>6} │ … (to line {span.line_end})\n", style="dim")
    return out


def finding_text(session: RepairSession, f: Finding, second=None, width: int = WIDTH) -> Text:
    """`width`: characters the page crops may take."""
    r = f.result
    t = Text()
    t.append(f"{r.severity.upper()} ", style=SEV_STYLE.get(r.severity, ""))
    t.append(r.title, style="bold")
    if f.state != "open":
        t.append(f"  [{STATE_LABEL[f.state]}]", style="magenta")
    t.append(f"\n{r.instance}\n", style="dim")
    if r.delta is not None:
        t.append(f"left {money(r.left)} {r.op} right {money(r.right)}   Δ {money(r.delta)} 元"
                 f"   (rounding envelope ±{money(r.envelope)} 元)\n")
    if r.reason:
        t.append(f"{r.reason}\n", style="italic")
    d = r.diagnosis
    target = (d.table, d.row, d.column) if d else None
    t.append("\n")
    shown = 0
    for term in r.terms:
        sign = "+" if term.coefficient > 0 else "−"
        is_target = term.key == target
        t.append(f"  {sign} ", style="bold")
        t.append("/".join(term.key), style="bold red" if is_target else "bold")
        t.append(f" = {money(term.value)} 元", style="bold red" if is_target else "")
        where = f", line {term.span.line_start}" if term.span else ""
        t.append(f"   printed {term.printed!r} {term.unit or ''}{where}", style="dim")
        v = session.value(term.key, term.span)
        where = getattr(v.obj, "where", None) if v is not None else None
        t.append_text(_confidence(where))
        t.append("\n")
        if where is not None and pdf_path(session.source) and shown < CROPS:
            shown += 1
            t.append_text(page_crop(session.source, where, width))  # the print, not the text derived from it
        else:
            t.append_text(source_excerpt(session.source, term.span,
                                         "reverse bold red" if is_target else "reverse bold yellow"))
    if session.source is None:
        t.append("  (source text not available: pass --source FILE to see the lines)\n", style="dim")
    t.append("\n")
    if d is not None:
        t.append("Suggested fix: ", style="bold green")
        t.append(f"{d.table}/{d.row}/{d.column}  {money(d.current)} → {money(d.fix)} 元", style="bold")
        v = session.value(target)
        if v is not None:
            t.append(f"  (printed {v.printed!r} → {printed_for(v, d.fix)!r} {v.unit})")
        t.append(f"\n  satisfies {d.explains} failing check(s) without breaking one that holds\n", style="dim")
    else:
        t.append("No single value explains this finding: edit a value (e) or keep it as printed (d).\n",
                 style="dim")
    if f.state == "kept":
        e = session.kept().get(r.instance)
        if e is not None:
            t.append(f"\nKept as printed (log entry {e.id}): {e.reason}\n", style="magenta")
    if second is not None:
        t.append(f"\nRead again by {second.model}:\n", style="bold cyan")
        for rd in second.readings:
            t.append(f"  {'/'.join(rd.key)}: ", style="bold")
            if rd.cell is None:
                t.append("no value found where the table prints it\n", style="dim")
            elif rd.differs:
                t.append(f"{money(rd.current)} → {money(rd.cell.value)} 元, printed {rd.cell.printed!r} "
                         f"on line {rd.cell.span.line_start}", style="bold cyan")
                t.append("  (another place than the extracted value's)\n" if rd.elsewhere else "\n", style="yellow")
                t.append_text(source_excerpt(session.source, rd.cell.span, "reverse bold cyan"))
            else:
                t.append("as in the document\n", style="dim")
        if any(rd.differs for rd in second.readings):
            t.append("  A: take the model's reading\n", style="cyan")
        for w in second.warnings[:3]:
            t.append(f"  {w}\n", style="dim")
    notes = [e for e in session.entries if e.action == "note" and e.finding == r.instance]
    for e in notes:
        t.append(f"note {e.id}: {e.reason}\n", style="cyan")
    return t


def _confidence(where) -> Text:
    """The OCR confidence of a value read from a page image; low ones stand out."""
    conf = getattr(where, "confidence", None)
    if conf is None:
        return Text()
    if conf < LOW_CONFIDENCE:
        return Text(f"   OCR confidence {conf:.2f}: low, compare with the page", style="bold magenta")
    return Text(f"   OCR confidence {conf:.2f}", style="dim")


def cell_text(session: RepairSession, target: Target, width: int = WIDTH) -> Text:
    t = Text()
    v = session.value(target)
    if v is None:
        t.append("/".join(target) + ": no value\n", style="dim")
        return t
    t.append("/".join(target), style="bold")
    t.append(f" = {money(v.value)} 元   printed {v.printed!r} {v.unit}, lines "
             f"{v.span.line_start}–{v.span.line_end}")
    where = getattr(v.obj, "where", None)
    t.append_text(_confidence(where))
    t.append("\n")
    if where is not None and pdf_path(session.source):
        t.append_text(page_crop(session.source, where, width))
    else:
        t.append_text(source_excerpt(session.source, v.span))
    for r in session.results_with(target)[:6]:
        style = {"fail": "red", "rounding": "cyan"}.get(r.status, "green")
        t.append(f"  {r.status:<8} ", style=style)
        t.append(f"{r.title}  ", style="")
        t.append(f"{r.instance}\n", style="dim")
    changes = [e for e in session.entries if e.target == target and e.action != "undo"]
    for e in changes[-4:]:
        t.append(f"  log {e.id}: {e.action} {e.printed_old or ''} → {e.printed_new or ''} {e.reason}\n",
                 style="magenta")
    return t
