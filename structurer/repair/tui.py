"""The review TUI (Textual): findings by severity with their values and source lines, the
suggested fix, and actions that write the corrections log and re-run the checks at once; any
table and cell can be browsed and corrected too.

The app is a view of a `RepairSession`; every change goes through the session (log first,
then recompute), so what the screen shows is always what `--apply` would produce.

What it shows is built in tui_render (the page around a value of a PDF: tui_page); its dialog
is tui_prompt; the extraction-is-wrong and model actions are in tui_actions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, OptionList, Static, TabbedContent, TabPane

from ..checks.model import Result
from .apply import Target, parse_user_value, printed_for
from .gold_writer import GoldWriteError, save_gold
from .session import ActionError, Finding, RepairSession
from .tui_actions import ExtraActions
from .tui_prompt import Prompt
from .tui_page import WIDTH
from .tui_render import SEV_STYLE, STATE_LABEL, cell_text, finding_text, money


@dataclass
class GoldTarget:
    """Where `--save-gold` writes, and how (the save action writes gold too)."""

    folder: Path
    overwrite: bool = False
    reviewer: str | None = None


# ------------------------------------------------------------------------------ app

class RepairApp(ExtraActions, App):
    TITLE = "structurer repair"
    CSS = """
    #tabs { height: 1fr; }
    #findings-pane, #tables-pane { height: 1fr; }
    #findings { width: 2fr; min-width: 40; }
    #finding-detail-scroll { width: 3fr; border-left: solid $panel; padding: 0 1; }
    #table-list { width: 34; }
    #cells-box { width: 1fr; }
    #cells { height: 2fr; }
    #cell-detail-scroll { height: 1fr; border-top: solid $panel; padding: 0 1; }
    #status { height: 1; background: $panel; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "accept", "Accept fix"),
        Binding("e", "edit", "Edit value"),
        Binding("x", "misread", "Extraction wrong"),
        Binding("d", "doc_error", "Document error"),
        Binding("n", "note", "Note"),
        Binding("m", "ask_model", "Ask model"),
        Binding("A", "take_reading", "Take model's reading"),
        Binding("s", "skip", "Skip"),
        Binding("u", "undo", "Undo"),
        Binding("w", "save", "Save"),
        Binding("g", "goto", "Go to row"),
        Binding("t", "toggle_view", "Findings/Tables"),
        Binding("q", "quit_app", "Quit"),
    ]

    def __init__(self, session: RepairSession, gold: GoldTarget | None = None, settings=None):
        super().__init__()
        self.session = session
        self.gold = gold
        self.settings = settings  # LLM settings: the model asked by `m` (None: no model configured)
        self.readings: dict[str, object] = {}  # finding instance → the model's SecondReading
        self._finding_keys: list[str] = []
        self._table_index = 0
        self._cell_targets: dict[tuple[int, int], Target] = {}
        self._row_index: dict[str, int] = {}
        self._quit_armed = False
        self.last_message = ""

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="findings-pane", id="tabs"):
            with TabPane("Findings", id="findings-pane"):
                with Horizontal():
                    yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
                    with VerticalScroll(id="finding-detail-scroll"):
                        yield Static(id="finding-detail")
            with TabPane("Tables", id="tables-pane"):
                with Horizontal():
                    yield OptionList(id="table-list", markup=False)
                    with Vertical(id="cells-box"):
                        yield DataTable(id="cells", cursor_type="cell")
                        with VerticalScroll(id="cell-detail-scroll"):
                            yield Static(id="cell-detail")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        s = self.session
        self.title = f"repair · {s.base.meta.source or 'document'}"
        fl = self.query_one("#findings", DataTable)
        fl.add_columns("severity", "state", "Δ 元", "check")
        tl = self.query_one("#table-list", OptionList)
        for t in s.doc.tables:
            n = sum(len(r.cells) for r in t.rows)
            tl.add_option(f"{t.id}  ({n})")
        self.refresh_findings()
        if s.conflicts:
            self.say(f"{len(s.conflicts)} log entr(ies) could not be applied: {s.conflicts[0]}", "warning")
        elif s.entries:
            self.say(f"resumed: {len(s.entries)} log entries from {s.log.path.name}")
        else:
            self.say(f"log: {s.log.path}")
        fl.focus()

    # ---------------------------------------------------------------- helpers
    def say(self, message: str, severity: str = "information") -> None:
        self.last_message = message
        self.query_one("#status", Static).update(Text(message, style="red" if severity == "error" else ""))
        if severity != "information":
            self.notify(message, severity=severity, markup=False)

    def named(self, d) -> Target | None:
        """The target of the value a diagnosis names (the one the check read)."""
        v = self.session.value((d.table, d.row, d.column), d.span)
        return v.target if v is not None else None

    @staticmethod
    def crop_width(widget) -> int:
        """Characters a page crop may take in `widget` (its indent and a scroll bar aside)."""
        return max(24, min(WIDTH, widget.size.width - 4)) if widget.size.width else WIDTH

    def in_tables(self) -> bool:
        return self.query_one("#tabs", TabbedContent).active == "tables-pane"

    def current_finding(self) -> Finding | None:
        fl = self.query_one("#findings", DataTable)
        if not self._finding_keys or fl.row_count == 0:
            return None
        inst = self._finding_keys[min(max(fl.cursor_row, 0), len(self._finding_keys) - 1)]
        return next((f for f in self.session.findings() if f.instance == inst), None)

    def current_cell(self) -> Target | None:
        cells = self.query_one("#cells", DataTable)
        c = cells.cursor_coordinate
        return self._cell_targets.get((c.row, c.column))

    def current_target(self) -> tuple[Target | None, Result | None]:
        """The value the next action is about: the selected cell (tables view), or the finding's
        suggested cell / first named value (findings view)."""
        if self.in_tables():
            return self.current_cell(), None
        f = self.current_finding()
        if f is None:
            return None, None
        d = f.result.diagnosis
        if d is not None:
            target, span = (d.table, d.row, d.column), d.span
        else:
            term = next((t for t in f.result.terms if t.span is not None), None)
            if term is None:
                return None, f.result
            target, span = term.key, term.span
        v = self.session.value(target, span)  # the fact the check read, if a line states a key twice
        return (v.target if v is not None else target), f.result

    # ---------------------------------------------------------------- refresh
    def refresh_findings(self, keep: str | None = None) -> None:
        fl = self.query_one("#findings", DataTable)
        old_row = fl.cursor_row
        keep = keep or (self._finding_keys[old_row] if 0 <= old_row < len(self._finding_keys) else None)
        fl.clear()
        fs = self.session.findings()
        self._finding_keys = [f.instance for f in fs]
        new = set(self.session.last_change.new) if self.session.last_change is not None else set()
        for k, f in enumerate(fs):
            r = f.result
            state = STATE_LABEL[f.state] or ("new" if r.instance in new else "")
            fl.add_row(Text(r.severity, style=SEV_STYLE.get(r.severity, "")),
                       Text(state, style="magenta"),
                       Text(money(r.delta) if r.delta is not None else "", justify="right"),
                       Text(r.instance), key=str(k))  # Text: an instance's [..] is not markup; two
            # findings may share an instance (a prose line stating a key twice)
        if fs:
            row = self._finding_keys.index(keep) if keep in self._finding_keys else min(max(old_row, 0), len(fs) - 1)
            fl.move_cursor(row=row)
        self.update_finding_detail()
        self.sub_title = self.session.summary()
        if self.in_tables():
            self.load_table(self._table_index, keep_cursor=True)

    def update_finding_detail(self) -> None:
        f = self.current_finding()
        detail = self.query_one("#finding-detail", Static)
        if f is None:
            counts = self.session.report.counts()
            detail.update(Text("No failing check. " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                               + "\nPress w to save, t to browse the tables.", style="green"))
        else:
            detail.update(finding_text(self.session, f, self.readings.get(f.instance), self.crop_width(detail)))

    def load_table(self, index: int, keep_cursor: bool = False) -> None:
        doc = self.session.doc
        if not doc.tables:
            return
        index = max(0, min(index, len(doc.tables) - 1))
        self._table_index = index
        t = doc.tables[index]
        cells = self.query_one("#cells", DataTable)
        cursor = cells.cursor_coordinate
        cells.clear(columns=True)
        cols = list(dict.fromkeys([c for c in t.columns if any(r.cell(c) for r in t.rows)]
                                  + [c.column for r in t.rows for c in r.cells]))
        cells.add_columns("row", "label", *cols)
        self._cell_targets, self._row_index = {}, {}
        failing = {tv.key for r in self.session.report.findings() for tv in r.terms}
        for i, r in enumerate(t.rows):
            self._row_index.setdefault(r.id, i)
            row = [Text(r.id, style="dim" if r.suspect else "bold"), Text(r.label[:18], style="dim" if r.suspect else "")]
            for j, col in enumerate(cols):
                same = [c for c in r.cells if c.column == col]
                if not same:
                    row.append("")
                    continue
                key = (t.id, r.id, col)
                if not r.suspect:  # two values read into one column: the checks read the last
                    v = self.session.value(key, same[-1].span) if len(same) > 1 else None
                    self._cell_targets[(i, j + 2)] = v.target if v is not None else key
                style = "dim" if r.suspect else "bold red" if key in failing else ""
                row.append(Text(" | ".join(c.printed.replace("\n", "⏎") for c in same), style=style))
            cells.add_row(*row)
        cells.border_title = f"{t.id} · {t.title} · {t.unit}"
        if keep_cursor:
            cells.move_cursor(row=cursor.row, column=cursor.column)
        self.update_cell_detail()

    def update_cell_detail(self) -> None:
        target = self.current_cell()
        self.query_one("#cell-detail", Static).update(
            cell_text(self.session, target, self.crop_width(self.query_one("#cell-detail", Static)))
            if target else Text("select a value", style="dim"))

    # ---------------------------------------------------------------- events
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "findings":
            self.update_finding_detail()

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        if event.data_table.id == "cells":
            self.update_cell_detail()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self._table_index or not self._cell_targets:
            self.load_table(event.option_index)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if self.in_tables():
            self.load_table(self._table_index, keep_cursor=True)
            self.query_one("#cells", DataTable).focus()
        else:
            self.refresh_findings()
            self.query_one("#findings", DataTable).focus()

    # ---------------------------------------------------------------- actions
    def _do(self, fn, *args, **kw):
        try:
            entry = fn(*args, **kw)
        except (ActionError, ValueError) as e:
            self.say(str(e), "error")
            return None
        except OSError as e:
            self.say(f"cannot write the corrections log: {e.strerror or e}", "error")
            return None
        self._quit_armed = False
        return entry

    def action_accept(self) -> None:
        if self.in_tables():
            target = self.current_cell()
            r = next((r for r in self.session.report.findings() if r.diagnosis is not None
                      and self.named(r.diagnosis) == target), None)
            if r is None:
                self.say("no suggested fix for this value (e: edit it)", "warning")
                return
        else:
            f = self.current_finding()
            if f is None:
                self.say("no finding selected", "warning")
                return
            r = f.result
        e = self._do(self.session.accept_fix, r)
        if e is not None:
            self.changed(f"accepted fix (log {e.id}): {e.where} {money(e.old)} → {money(e.new)} 元")

    def action_edit(self) -> None:
        target, result = self.current_target()
        if target is None:
            self.say("no value selected", "warning")
            return
        v = self.session.value(target)
        if v is None:
            self.say(f"no value at {'/'.join(target)}", "warning")
            return
        initial = printed_for(v, v.value) if v.value is not None else ""
        if result is not None and result.diagnosis is not None and target == (
                result.diagnosis.table, result.diagnosis.row, result.diagnosis.column):
            initial = printed_for(v, result.diagnosis.fix)

        def done(answer: dict | None) -> None:
            if not answer:
                return
            try:
                new = parse_user_value(answer["value"], v.unit)
            except ValueError as exc:
                self.say(str(exc), "error")
                return
            e = self._do(self.session.edit, target, new, answer.get("reason", "").strip(), result)
            if e is not None:
                self.changed(f"edited (log {e.id}): {e.where} {money(e.old)} → {money(e.new)} 元")

        self.push_screen(Prompt(f"Edit {'/'.join(target)} (printed {v.printed!r})",
                                [("value", f"value as printed, in {v.unit}", initial),
                                 ("reason", "reason (optional)", "")]), done)

    def action_doc_error(self) -> None:
        target, result = self.current_target()
        if target is None and result is None:
            self.say("nothing selected", "warning")
            return
        if self.in_tables():
            result = next((r for r in self.session.report.findings() if any(t.key == target for t in r.terms)), None)

        def done(answer: dict | None) -> None:
            if not answer:
                return
            reason = answer["reason"].strip()
            if result is not None:
                e = self._do(self.session.mark_document_error, result, reason, target)
            else:
                e = self._do(self.session.mark_cell_as_printed, target, reason)
            if e is not None:
                self.changed(f"kept as printed (log {e.id}): {e.where} — document error")

        what = result.instance if result is not None else "/".join(target)
        self.push_screen(Prompt(f"Document error: keep {what} as printed",
                                [("reason", "why (what the document gets wrong)", "")]), done)

    def action_note(self) -> None:
        target, result = self.current_target()

        def done(answer: dict | None) -> None:
            if not answer:
                return
            e = self._do(self.session.note, answer["text"], target, result)
            if e is not None:
                self.say(f"note saved (log {e.id}) on {e.where}")
                self.refresh_findings()

        self.push_screen(Prompt(f"Note on {'/'.join(target) if target else 'the finding'}",
                                [("text", "note", "")]), done)

    def action_skip(self) -> None:
        if self.in_tables():
            self.query_one("#cells", DataTable).action_cursor_down()
            return
        f = self.current_finding()
        if f is None:
            return
        self.session.skip(f.result)
        fs = self.session.findings()
        nxt = next((x.instance for x in fs if x.state == "open"), None)
        self.refresh_findings(keep=nxt or f.instance)
        self.say(f"skipped {f.instance}")

    def action_undo(self) -> None:
        e = self._do(self.session.undo)
        if e is None:
            if not self.last_message.startswith("nothing"):
                self.say("nothing to undo")
            return
        ch = self.session.last_change
        self.say(f"undid log {e.id}: {e.action} {e.where}" + (f" — {ch.text()}" if ch is not None else ""))
        self.refresh_findings(keep=e.finding)

    def action_save(self) -> None:
        try:
            path = self.session.save()
        except OSError as e:
            self.say(f"cannot write the corrected document: {e.strerror or e}", "error")
            return
        msg = f"saved {path.name} ({len(self.session.entries)} log entries in {self.session.log.path.name})"
        if self.gold is not None:
            try:
                gp = save_gold(self.session.doc, self.session.source, self.session.entries,
                               self.session.log.path.name, self.gold.folder, self.gold.overwrite,
                               self.gold.reviewer, len(self.session.findings()))
            except (GoldWriteError, OSError) as e:
                self.say(f"{msg}; {e}", "error")
                return
            self.gold.overwrite = True  # this session's own gold file may be rewritten
            msg += f"; gold {gp}"
        self.say(msg)

    def action_goto(self) -> None:
        def done(answer: dict | None) -> None:
            if answer:
                self.goto(answer["where"].strip())

        self.push_screen(Prompt("Go to a row", [("where", "table/row, or a row id (e.g. 2101202, total)", "")]), done)

    def goto(self, where: str) -> bool:
        doc = self.session.doc
        table_id, _, row_id = where.rpartition("/")
        order = list(range(len(doc.tables)))
        if table_id:
            order = [i for i, t in enumerate(doc.tables) if t.id == table_id]
        elif self.in_tables():
            order.sort(key=lambda i: i != self._table_index)
        for i in order:
            t = doc.tables[i]
            k = next((j for j, r in enumerate(t.rows) if r.id == row_id or r.code == row_id), None)
            if k is not None:
                tabs = self.query_one("#tabs", TabbedContent)
                tabs.active = "tables-pane"
                self.query_one("#table-list", OptionList).highlighted = i
                self.load_table(i)
                cells = self.query_one("#cells", DataTable)
                cells.move_cursor(row=k, column=2)
                cells.focus()
                self.update_cell_detail()
                self.say(f"{t.id}/{row_id}")
                return True
        self.say(f"no row {where!r}", "warning")
        return False

    def action_toggle_view(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = "findings-pane" if self.in_tables() else "tables-pane"

    def action_quit_app(self) -> None:
        if self.session.dirty and not self._quit_armed:
            self._quit_armed = True
            self.say("unsaved: the log has every change, but the corrected document is not written — "
                     "w to save, q again to quit", "warning")
            return
        self.exit()
