"""A review session: the original document, the corrections log, and the corrected document with
its checks, recomputed after every action. The TUI is a view of this; tests drive it directly."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..checks.run import evaluate
from ..checks.model import CheckReport, Result
from ..ingest import SourceText
from ..model import Document, Row, Span
from ..output import document_json, write_atomic
from .apply import (NARRATIVE, Conflict, Target, Value, apply_entries, find_value, parse_user_value, printed_for,
                    row_column, same_value)
from .log import CorrectionLog, Entry, active

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def default_paths(path: Path) -> tuple[Path, Path]:
    """(log, corrected document) beside what the user named: `<stem>.corrections.jsonl` and
    `<stem>.corrected.json`."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f"{stem}.corrections.jsonl"), path.with_name(f"{stem}.corrected.json")


@dataclass
class Change:
    """What the checks say after an action, against before it: findings gone, findings new."""

    fixed: list[str]
    new: list[str]

    def text(self) -> str:
        def some(xs: list[str]) -> str:
            return ", ".join(xs[:2]) + (f" and {len(xs) - 2} more" if len(xs) > 2 else "")

        if not self.fixed and not self.new:
            return "checks re-run: no finding changed"
        parts = []
        if self.fixed:
            parts.append(f"{len(self.fixed)} fixed ({some(self.fixed)})")
        if self.new:
            parts.append(f"{len(self.new)} new ({some(self.new)})")
        return "checks re-run: " + "; ".join(parts)


class ActionError(ValueError):
    """An action that cannot be taken here (no suggested fix, no such cell …): one line."""


@dataclass
class Finding:
    result: Result
    state: str  # open | kept (marked document error) | skipped

    @property
    def instance(self) -> str:
        return self.result.instance


class RepairSession:
    def __init__(self, base: Document, source: SourceText | None, log_path: Path, out_path: Path):
        self.base = base
        self.source = source
        self.out_path = Path(out_path)
        self.log = CorrectionLog(log_path, base.meta.source, base.meta.sha256)
        self.skipped: set[str] = set()
        self.saved_at = len(self.log.entries)  # entries already reflected in a written document
        self.doc: Document = base
        self.report: CheckReport = CheckReport(doc=base.meta.source)
        self.conflicts: list[Conflict] = []
        self.last_change: Change | None = None  # what the latest action changed in the findings
        self.recompute()

    # ------------------------------------------------------------------ state
    @property
    def entries(self) -> list[Entry]:
        return self.log.entries

    @property
    def dirty(self) -> bool:
        return len(self.log.entries) != self.saved_at

    def recompute(self) -> None:
        self.doc, self.conflicts = apply_entries(self.base, self.log.entries)
        self.report = evaluate(self.doc)

    def kept(self) -> dict[str, Entry]:
        """Findings the reviewer marked as errors of the document itself, by instance."""
        return {e.finding: e for e in active(self.log.entries)
                if e.action == "document_error" and e.finding}

    def findings(self) -> list[Finding]:
        """Failing checks by severity; open ones first, then skipped, then kept as printed."""
        kept = self.kept()
        out = []
        for r in self.report.findings():
            state = "kept" if r.instance in kept else "skipped" if r.instance in self.skipped else "open"
            out.append(Finding(r, state))
        rank = {"open": 0, "skipped": 1, "kept": 2}
        out.sort(key=lambda f: (SEVERITY_ORDER.get(f.result.severity, 3), rank[f.state]))
        return out

    def finding(self, instance: str) -> Result | None:
        return next((r for r in self.report.findings() if r.instance == instance), None)

    def value(self, target: Target, span: Span | None = None) -> Value | None:
        """The value at `target` (`span`: where a check read it, when a prose line states a key
        twice)."""
        return find_value(self.doc, target, span)

    def results_with(self, target: Target) -> list[Result]:
        """Every evaluated check the value takes part in (failing first)."""
        out = [r for r in self.report.results
               if r.status in ("fail", "rounding", "pass") and any(t.key == target for t in r.terms)]
        out.sort(key=lambda r: (r.status != "fail", r.status != "rounding"))
        return out

    # ------------------------------------------------------------------ actions
    def _failing(self) -> list[str]:
        return [r.instance for r in self.report.findings()]

    def _record(self, entry: Entry) -> Entry:
        before = self._failing()
        self.log.append(entry)
        self.recompute()
        after = self._failing()
        self.last_change = Change([i for i in before if i not in after], [i for i in after if i not in before])
        return entry

    def _value(self, target: Target, span: Span | None = None) -> Value:
        v = self.value(target, span)
        if v is None:
            raise ActionError(f"no value at {'/'.join(target)}")
        return v

    def accept_fix(self, result: Result, reason: str = "") -> Entry:
        d = result.diagnosis
        if d is None:
            raise ActionError("this finding has no suggested fix (no single value explains it): edit a value")
        v = self._value((d.table, d.row, d.column), d.span)
        if not same_value(v.value, d.current):
            raise ActionError(f"{v.label} changed since the checks ran")
        why = reason or (f"suggested fix: satisfies {d.explains} failing check(s)")
        return self._record(Entry("accept_fix", *v.target, old=v.value, new=d.fix, unit=v.unit,
                                  printed_old=v.printed, printed_new=printed_for(v, d.fix),
                                  finding=result.instance, title=result.title, reason=why))

    def edit(self, target: Target, new: Decimal, reason: str = "", result: Result | None = None) -> Entry:
        v = self._value(target)
        if same_value(v.value, new):
            raise ActionError(f"{v.label} already is {new}")
        return self._record(Entry("edit", *v.target, old=v.value, new=new, unit=v.unit,
                                  printed_old=v.printed, printed_new=printed_for(v, new),
                                  finding=result.instance if result else None,
                                  title=result.title if result else None, reason=reason))

    def mark_document_error(self, result: Result, reason: str = "", target: Target | None = None) -> Entry:
        """The document itself is wrong here: keep the value as printed, record why."""
        span = None
        if target is None:
            d = result.diagnosis
            if d is not None:
                target, span = (d.table, d.row, d.column), d.span
            else:
                first = next((t for t in result.terms if t.span is not None), None)
                if first is None:  # about the document as a whole (a table not published …)
                    return self._record(Entry("document_error", finding=result.instance, title=result.title,
                                              reason=reason or "the document is so"))
                target, span = first.key, first.span
        v = self._value(target, span)
        return self._record(Entry("document_error", *v.target, old=v.value, new=v.value, unit=v.unit,
                                  printed_old=v.printed, printed_new=v.printed, finding=result.instance,
                                  title=result.title, reason=reason or "the document prints it so"))

    def mark_cell_as_printed(self, target: Target, reason: str = "") -> Entry:
        """A value confirmed as printed although a check disagrees (no finding selected)."""
        v = self._value(target)
        return self._record(Entry("document_error", *target, old=v.value, new=v.value, unit=v.unit,
                                  printed_old=v.printed, printed_new=v.printed,
                                  reason=reason or "the document prints it so"))

    # the extraction is wrong here (not the document): what the page prints, read right
    def misread(self, target: Target, printed: str, reason: str = "", result: Result | None = None) -> Entry:
        """The value is printed as `printed` (typed from the page): the reader got it wrong."""
        v = self._value(target)
        try:
            new = parse_user_value(printed, v.unit)
        except ValueError as e:
            raise ActionError(str(e)) from None
        printed = printed.strip()
        if same_value(v.value, new):
            raise ActionError(f"{v.label} already reads {printed!r} as {new}")
        return self._record(Entry("misread", *v.target, old=v.value, new=new, unit=v.unit, printed_old=v.printed,
                                  printed_new=printed, finding=result.instance if result else None,
                                  title=result.title if result else None,
                                  reason=reason or "misread: the page prints it so"))

    def move(self, target: Target, to_column: str, reason: str = "") -> Entry:
        """The value belongs in another column of its row (the reader put it in the wrong one)."""
        v = self._value(target)
        if target[0] == NARRATIVE:
            raise ActionError("only a table value moves to another column")
        to_column = to_column.strip()
        t = self.doc.table(target[0])
        if to_column == v.target[2].partition("#")[0] or not to_column:
            raise ActionError("name another column")
        known = dict.fromkeys(t.columns + [c.column for r in t.rows for c in r.cells])
        if to_column not in known:
            raise ActionError(f"{t.id} has no column {to_column!r} (columns: {', '.join(known)})")
        if t.row(target[1]).cell(to_column) is not None:
            raise ActionError(f"{t.id}/{target[1]} already has a value in {to_column}")
        return self._record(Entry("move", *v.target, old=v.value, unit=v.unit, printed_old=v.printed,
                                  to_column=to_column, reason=reason or "read into the wrong column"))

    def confirm_row(self, table: str, row: Row, reason: str = "") -> Entry:
        """A row the reader doubted (suspect) is read right: the checks count it."""
        if not row.suspect:
            raise ActionError(f"{table}/{row.id} is not a doubted row")
        return self._record(Entry("row_good", table, row.id, row_column(row),
                                  reason=reason or "the row is read as printed"))

    def note(self, text: str, target: Target | None = None, result: Result | None = None) -> Entry:
        if not text.strip():
            raise ActionError("an empty note")
        kw = {}
        if target is not None:
            v = self._value(target)
            kw = dict(old=v.value, unit=v.unit, printed_old=v.printed)
        return self._record(Entry("note", *(target or (None, None, None)), finding=result.instance if result else None,
                                  title=result.title if result else None, reason=text.strip(), **kw))

    def second_reading(self, result: Result, settings, environ=None):
        """Ask the model to read the values of a failing check again (`structurer.llm.reread`);
        nothing is changed until `take_reading`."""
        if self.source is None:
            raise ActionError("the model reads the source: pass --source FILE")
        if not any(t.kind == "cell" for t in result.terms):
            raise ActionError("only table values can be read again by the model")
        from ..llm.client import LLMError
        from ..llm.config import ConfigError
        from ..llm.reread import reread
        from ..pipeline import Prepared

        table_lines = {t.id: t.span.line_start for t in reversed(self.doc.tables)}
        try:
            return reread(Prepared(self.source), result, table_lines, settings, environ)
        except (LLMError, ConfigError) as e:
            raise ActionError(str(e)) from None

    def take_reading(self, result: Result, second) -> list[Entry]:
        """Record every value the model read differently (an edit each, with the model's
        printed text and span)."""
        differ = [r for r in second.readings if r.differs]
        if not differ:
            raise ActionError("the model reads no value differently: the document itself may be "
                              "inconsistent (d: keep it as printed)")
        out = []
        for r in differ:
            v = self._value(r.key)
            if not same_value(v.value, r.current):
                raise ActionError(f"{v.label} changed since the model read it")
            c = r.cell
            out.append(self._record(Entry(
                "edit", *r.key, old=v.value, new=c.value, unit=v.unit, printed_old=v.printed,
                printed_new=c.printed, span_new=c.span.model_dump() if c.span != v.span else None,
                finding=result.instance, title=result.title,
                reason=f"read again by {second.model}: printed {c.printed!r}, line {c.span.line_start}"
                       + (" (another place than the extracted value's)" if r.elsewhere else ""))))
        return out

    def skip(self, result: Result) -> None:
        self.skipped.add(result.instance)

    def undo(self) -> Entry | None:
        """Take back the latest action still in force (appends an undo line); None if none."""
        live = active(self.log.entries)
        if not live:
            return None
        last = live[-1]
        self._record(Entry("undo", undoes=last.id, reason=f"undo {last.action} {last.where}"))
        if last.finding:
            self.skipped.discard(last.finding)
        return last

    # ------------------------------------------------------------------ output
    def save(self) -> Path:
        write_atomic(self.out_path, document_json(self.doc))
        self.saved_at = len(self.log.entries)
        return self.out_path

    def summary(self) -> str:
        live = active(self.log.entries)
        by: dict[str, int] = {}
        for e in live:
            by[e.action] = by.get(e.action, 0) + 1
        fs = self.findings()
        open_errors = sum(1 for f in fs if f.state != "kept" and f.result.severity == "error")
        parts = [f"{n} {a.replace('_', ' ')}" for a, n in sorted(by.items())] or ["no corrections"]
        return (f"{', '.join(parts)}; {len(fs)} finding(s), {open_errors} error(s) not kept as printed"
                + (f"; {len(self.conflicts)} log entr(ies) not applicable" if self.conflicts else ""))
