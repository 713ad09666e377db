"""The corrections log: an append-only JSON Lines file beside the document.

One line per action a reviewer took. Lines are never rewritten: an undo is a new line that
names the entry it takes back. Each append is one `write` on a file opened with O_APPEND,
followed by `fsync`, so a crash leaves at most one line cut short, which reading skips (the next
append starts on a fresh line).

Fields of a line (absent when not relevant):
    v            format version (1)
    id           1, 2, 3 … in the order written
    time         UTC time, ISO 8601
    action       accept_fix | edit | misread | move | row_good | document_error | note | undo
                 (misread, move, row_good: the extraction is wrong here, not the document —
                 the value as printed, a value moved to the column it is printed in, a row
                 the reader doubted confirmed as read)
    doc, sha256  the document the log belongs to (its source file name and hash)
    table, row, column   the cell (or narrative fact: table "narrative", row = key,
                 column = "<kind>@<line>", "<kind>@<line>#<offset>" when the line states the
                 key twice; row_good: column = "row@<line>", the row's first line)
    to_column    move: the column the value belongs in
    old, new     the value before and after, in 元, as decimal strings (null: unreadable)
    unit         the unit the value is printed in
    printed_old, printed_new   the value as printed before, and as it would be printed after
    span_new     where the new value is printed, when that is another place (a value the
                 model read again: start, end, line_start, line_end)
    finding      the check instance the action answers, title: that check's title
    reason       the reviewer's words (a note's text, why a value is a document error …)
    undoes       for an undo: the id of the entry taken back
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

LOG_VERSION = 1
CHANGE_ACTIONS = ("accept_fix", "edit", "misread")  # actions that set a value
ACTIONS = ("accept_fix", "edit", "misread", "move", "row_good", "document_error", "note", "undo")
_TARGETED = CHANGE_ACTIONS + ("document_error", "move", "row_good")


class LogError(ValueError):
    """A corrections log that cannot be used; str(error) is one line for the user."""


@dataclass
class Entry:
    action: str
    table: str | None = None
    row: str | None = None
    column: str | None = None
    old: Decimal | None = None
    new: Decimal | None = None
    unit: str | None = None
    printed_old: str | None = None
    printed_new: str | None = None
    span_new: dict | None = None
    to_column: str | None = None
    finding: str | None = None
    title: str | None = None
    reason: str = ""
    undoes: int | None = None
    id: int = 0
    time: str = ""
    doc: str = ""
    sha256: str = ""
    v: int = LOG_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str, str] | None:
        if self.table is None or self.row is None or self.column is None:
            return None
        return (self.table, self.row, self.column)

    @property
    def where(self) -> str:
        t = self.target
        return "/".join(t) if t else (self.finding or "document")

    def to_json(self) -> str:
        d = asdict(self)
        extra = d.pop("extra")
        out = {"v": d.pop("v"), "id": d.pop("id"), "time": d.pop("time"), "action": d.pop("action")}
        for k, val in d.items():
            if val is None or val == "" and k != "reason":
                continue
            out[k] = format(val, "f") if isinstance(val, Decimal) else val
        if "old" not in out and self.action in CHANGE_ACTIONS + ("document_error", "move") and self.target:
            out["old"] = None  # an unreadable cell: say so rather than leave the key out
        out.update(extra)
        return json.dumps(out, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "Entry":
        if not isinstance(d, dict):
            raise LogError(f"{where}: not a JSON object")
        action = d.get("action")
        if action not in ACTIONS:
            raise LogError(f"{where}: unknown action {action!r} (expected one of {', '.join(ACTIONS)})")
        known = set(cls.__dataclass_fields__) - {"extra"}
        kw = {k: v for k, v in d.items() if k in known}
        kw["extra"] = {k: v for k, v in d.items() if k not in known}
        for k in ("old", "new"):
            if kw.get(k) is not None:
                try:
                    kw[k] = Decimal(str(kw[k]))
                except InvalidOperation:
                    raise LogError(f"{where}: {k} is not a number: {kw[k]!r}") from None
        try:
            e = cls(**kw)
        except TypeError as exc:  # pragma: no cover - keys are filtered above
            raise LogError(f"{where}: {exc}") from None
        if not isinstance(e.id, int) or e.id <= 0:
            raise LogError(f"{where}: needs a positive integer id")
        if action == "undo" and not isinstance(e.undoes, int):
            raise LogError(f"{where}: an undo needs the id it undoes ('undoes')")
        if action in _TARGETED and e.target is None and not (action == "document_error" and e.finding):
            raise LogError(f"{where}: {action} needs table, row and column")
        if action in CHANGE_ACTIONS and e.new is None:
            raise LogError(f"{where}: {action} needs a new value")
        if action == "move" and not e.to_column:
            raise LogError(f"{where}: a move needs the column it goes to ('to_column')")
        return e


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_log(path: str | Path) -> list[Entry]:
    """All entries of a log (missing file: none). A line cut short by a crash mid-append (valid
    JSON up to where it stops) is ignored; any other bad line is an error naming its line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise LogError(f"cannot read {path.name}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LogError(f"{path.name} is not UTF-8 text (not a corrections log)") from None
    lines = text.split("\n")
    out: list[Entry] = []
    seen: set[int] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path.name} line {n}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            cut = exc.pos >= len(line.rstrip()) or exc.msg.startswith("Unterminated string")
            if cut and line.lstrip().startswith("{"):
                continue  # an append cut short by a crash (the text just stops): it never happened
            raise LogError(f"{where}: not valid JSON (not a corrections log?)") from None
        e = Entry.from_dict(d, where)
        if e.id in seen:
            raise LogError(f"{where}: duplicate id {e.id}")
        seen.add(e.id)
        out.append(e)
    return out


class CorrectionLog:
    """The log file of one document; `append` stamps id and time and makes the line durable."""

    def __init__(self, path: str | Path, doc: str = "", sha256: str = ""):
        self.path = Path(path)
        self.doc, self.sha256 = doc, sha256
        self.entries = read_log(self.path)
        for e in self.entries:
            if sha256 and e.sha256 and e.sha256 != sha256:
                raise LogError(f"{self.path.name}: entry {e.id} was made for another document "
                               f"({e.doc or e.sha256[:12]}), not {doc or sha256[:12]}")

    def next_id(self) -> int:
        return max((e.id for e in self.entries), default=0) + 1

    def append(self, entry: Entry) -> Entry:
        entry.id = self.next_id()
        entry.time = entry.time or now()
        entry.doc = entry.doc or self.doc
        entry.sha256 = entry.sha256 or self.sha256
        data = (entry.to_json() + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size and _last_byte(self.path) != b"\n":
                data = b"\n" + data  # a torn line before us stays a line of its own
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if not self.entries:
            _fsync_dir(self.path.parent)  # the new file's name is durable too
        self.entries.append(entry)
        return entry


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def active(entries: list[Entry]) -> list[Entry]:
    """The entries in force: everything except undo lines and the entries they undo."""
    undone = {e.undoes for e in entries if e.action == "undo"}
    return [e for e in entries if e.action != "undo" and e.id not in undone]
