"""Review TUI actions beyond accept, edit and keep-as-printed (a mixin of RepairApp): the
extraction is wrong here — the value as the page prints it, a value moved to the column it is
printed in, a doubted row confirmed as read — and the model's second reading of a check.

These say the page is right and the reading wrong (log actions `misread`, `move`, `row_good`);
keeping a value as printed (`document_error`, key d) says the print itself is wrong.
"""
from __future__ import annotations

from textual import work
from textual.widgets import DataTable

from ..checks.model import Result
from ..model import Row
from .session import ActionError
from .tui_prompt import Prompt
from .tui_render import money


class ExtraActions:
    """Needs the App's session, say, _do, refresh_findings, in_tables, current_target,
    current_cell, current_finding, push_screen, settings and readings."""

    def current_row(self) -> tuple[str, Row] | None:
        """The table row under the cursor (tables view), suspect rows included."""
        if not self.in_tables() or not self.session.doc.tables:
            return None
        t = self.session.doc.tables[self._table_index]
        k = self.query_one("#cells", DataTable).cursor_coordinate.row
        return (t.id, t.rows[k]) if 0 <= k < len(t.rows) else None

    def changed(self, message: str) -> None:
        """Say what the action did and what the checks say now."""
        ch = self.session.last_change
        self.say(f"{message} — {ch.text()}" if ch is not None else message)
        self.refresh_findings()

    def action_misread(self) -> None:
        here = self.current_row()
        if here is not None and here[1].suspect:
            table, row = here

            def confirm(answer: dict | None) -> None:
                if answer:
                    e = self._do(self.session.confirm_row, table, row, answer["reason"].strip())
                    if e is not None:
                        self.changed(f"row confirmed as read (log {e.id}): {table}/{row.id}")

            self.push_screen(Prompt(f"The reader doubted {table}/{row.id} {row.label!r}: it is read right",
                                    [("reason", "reason (optional)", "")]), confirm)
            return
        target, result = self.current_target()
        v = self.session.value(target) if target is not None else None
        if v is None:
            self.say("no value selected", "warning")
            return
        column_of = v.target[2].partition("#")[0]
        fields = [("printed", f"the value as the page prints it (in {v.unit})", v.printed)]
        if target[0] != "narrative":
            fields.append(("column", "the column it is printed in", column_of))
        fields.append(("reason", "reason (optional)", ""))

        def done(answer: dict | None) -> None:
            if not answer:
                return
            reason = answer["reason"].strip()
            column = answer.get("column", column_of).strip()
            if column != column_of:
                e = self._do(self.session.move, v.target, column, reason)
                if e is not None:
                    self.changed(f"moved (log {e.id}): {e.where} → column {column}")
                return
            e = self._do(self.session.misread, v.target, answer["printed"], reason, result)
            if e is not None:
                self.changed(f"misread corrected (log {e.id}): {e.where} {money(e.old)} → {money(e.new)} 元 "
                             f"(printed {e.printed_new!r})")

        self.push_screen(Prompt(f"The extraction is wrong at {v.label} (read {v.printed!r}); the page is right",
                                fields), done)

    def _finding_here(self) -> Result | None:
        """The selected finding, or (tables view) the first failing check of the selected value."""
        if self.in_tables():
            target = self.current_cell()
            return next((r for r in self.session.report.findings() if any(t.key == target for t in r.terms)),
                        None)
        f = self.current_finding()
        return f.result if f is not None else None

    def action_ask_model(self) -> None:
        if self.settings is None:
            self.say("no model configured: start repair with --model NAME (and --config FILE)", "warning")
            return
        result = self._finding_here()
        if result is None:
            self.say("no failing check selected", "warning")
            return
        self.say(f"asking {self.settings.model.model} to read the values of {result.instance} again …")
        self._ask(result)

    @work(thread=True, exclusive=True, group="model")
    def _ask(self, result: Result) -> None:
        try:
            second = self.session.second_reading(result, self.settings)
        except ActionError as e:
            self.call_from_thread(self.say, str(e), "error")
            return
        self.call_from_thread(self._show_reading, result, second)

    def _show_reading(self, result: Result, second) -> None:
        self.readings[result.instance] = second
        differ = [r for r in second.readings if r.differs]
        if differ:
            parts = [f"{'/'.join(r.key)} {money(r.current)} → {money(r.cell.value)} (printed {r.cell.printed!r}, "
                     f"line {r.cell.span.line_start}{', another place' if r.elsewhere else ''})" for r in differ]
            self.say(f"{second.model} reads {'; '.join(parts)} — A: take it")
        else:
            self.say(f"{second.model} reads no value differently: the document itself may be inconsistent "
                     "(d: keep it as printed)")
        self.update_finding_detail()

    def action_take_reading(self) -> None:
        result = self._finding_here()
        second = self.readings.get(result.instance) if result is not None else None
        if second is None:
            self.say("no reading by the model for this finding: press m first", "warning")
            return
        entries = self._do(self.session.take_reading, result, second)
        if entries:
            self.changed(f"took the model's reading (log {', '.join(str(e.id) for e in entries)}): "
                         + "; ".join(f"{e.where} {money(e.old)} → {money(e.new)} 元" for e in entries))

