"""The review TUI's dialog: a small form, one Input per field (edit, document error, note,
go to a row).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class Prompt(ModalScreen[dict | None]):
    """A small form: one Input per field; enter moves to the next field, the last submits."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 90; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    Prompt Label.hint { color: $text-muted; }
    """

    def __init__(self, title: str, fields: list[tuple[str, str, str]]):
        super().__init__()
        self.title_text = title
        self.fields = fields  # (name, label, initial value)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            for name, label, value in self.fields:
                yield Label(label, classes="hint", markup=False)
                yield Input(value=value, id=f"field-{name}")
            yield Label("enter: next / OK · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(f"#field-{self.fields[0][0]}", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        names = [f[0] for f in self.fields]
        here = (event.input.id or "").removeprefix("field-")
        i = names.index(here) if here in names else len(names) - 1
        if i + 1 < len(names):
            self.query_one(f"#field-{names[i + 1]}", Input).focus()
            return
        self.dismiss({n: self.query_one(f"#field-{n}", Input).value for n in names})

    def action_cancel(self) -> None:
        self.dismiss(None)
