"""An in-process OpenAI-compatible test server (stdlib http.server in a thread).

It serves POST /v1/chat/completions on 127.0.0.1 with scripted responses:

- `Reply`: an answer — a tool call when the request offers tools, else JSON content (or a
  ```json block when the request asks for one), with usage numbers (counted from the
  request with the project's token estimate unless given), an optional delay and
  finish_reason;
- `Error`: an HTTP error with a JSON error body and headers (e.g. 429 + Retry-After, 500);
- `Raw`: any status/body/headers, e.g. a malformed body, or a body cut short of its
  Content-Length (the connection is closed mid-body).

Steps queued with `enqueue` are served first, in order; after that `handler(request)`
decides (it returns a step, or a dict that becomes the answer's JSON). Every request is
recorded (time, headers, JSON body), so tests count them.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from structurer.llm.transport import completion_tokens, request_tokens


@dataclass
class Reply:
    payload: Any = None  # dict → JSON answer; str → sent verbatim as arguments/content
    finish_reason: str = "stop"
    usage: dict | str | None = "auto"  # "auto": counted; None: no usage in the body
    delay: float = 0.0
    content_prefix: str = ""  # text before the JSON (md_json mode)


@dataclass
class Error:
    status: int
    message: str = "error"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Raw:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    declared_length: int | None = None  # a Content-Length larger than the body: cut short
    delay: float = 0.0


@dataclass
class Request:
    at: float
    path: str
    headers: dict
    body: dict

    @property
    def user(self) -> str:
        msgs = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        return str(msgs[0].get("content", "")) if msgs else ""

    @property
    def reasks(self) -> list[str]:
        """Messages after the first user message (instructor's reask turns)."""
        out = []
        seen_user = False
        for m in self.body.get("messages", []):
            if m.get("role") == "user" and not seen_user:
                seen_user = True
                continue
            if seen_user and m.get("role") in ("user", "tool"):
                out.append(str(m.get("content", "")))
        return out

    def numbered_lines(self) -> dict[int, str]:
        out = {}
        for ln in self.user.splitlines():
            m = re.match(r"^(\d+)\|(.*)$", ln)
            if m:
                out[int(m.group(1))] = m.group(2)
        return out


class OpenAIServer:
    def __init__(self, handler: Callable[[Request], Any] | None = None, latency: float = 0.0):
        self.handler = handler
        self.latency = latency
        self.queue: deque = deque()
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def enqueue(self, *steps) -> "OpenAIServer":
        with self.lock:
            self.queue.extend(steps)
        return self

    @property
    def count(self) -> int:
        return len(self.requests)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> "OpenAIServer":
        server = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _write(self, status: int, headers: dict, body: bytes, declared: int | None = None):
                """Status line, headers and body in one write (no delayed-ACK stalls)."""
                head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                        "Content-Type: application/json", f"Content-Length: {declared or len(body)}"]
                head += [f"{k}: {v}" for k, v in headers.items()]
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                self.wfile.flush()

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                req = Request(time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server.lock:
                    server.requests.append(req)
                    step = server.queue.popleft() if server.queue else None
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(req, step)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _answer(self, req: Request, step):
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                if step is None:
                    step = server.handler(req) if server.handler else Reply({})
                    if not isinstance(step, (Reply, Error, Raw)):
                        step = Reply(step)
                delay = server.latency + getattr(step, "delay", 0.0)
                if delay:
                    time.sleep(delay)
                try:
                    self._serve(req, step)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout)

            def _send(self, status: int, obj, headers: dict | None = None):
                self._write(status, headers or {}, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

            def _serve(self, req: Request, step):
                if isinstance(step, Error):
                    return self._send(step.status, {"error": {"message": step.message, "type": "test"}},
                                      step.headers)
                if isinstance(step, Raw):
                    self._write(step.status, step.headers, step.body, step.declared_length)
                    if step.declared_length:
                        self.close_connection = True
                        try:
                            self.connection.shutdown(2)
                        except OSError:
                            pass
                    return None
                return self._send(200, completion(req, step))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "OpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def completion(req: Request, step: Reply) -> dict:
    """A chat.completion body answering `req` the way its mode expects."""
    body = req.body
    text = step.payload if isinstance(step.payload, str) else json.dumps(step.payload, ensure_ascii=False)
    message: dict = {"role": "assistant", "content": None}
    tools = body.get("tools")
    if tools:
        name = tools[0]["function"]["name"]
        message["tool_calls"] = [{"id": f"call_{len(text)}", "type": "function",
                                  "function": {"name": name, "arguments": text}}]
    elif (body.get("response_format") or {}).get("type") in ("json_schema", "json_object"):
        message["content"] = text
    else:
        message["content"] = f"{step.content_prefix}```json\n{text}\n```"
    out = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
           "model": body.get("model", "test-model"),
           "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}]}
    if step.usage == "auto":
        p = request_tokens(body)
        c = completion_tokens(out)
        out["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    elif isinstance(step.usage, dict):
        out["usage"] = {**step.usage, "total_tokens": sum(step.usage.values())}
    return out


# --------------------------------------------------------------------------- a model that knows the gold

_CELL_SPLIT_RE = re.compile(r"\t| {2,}|[；;，。：:、]")


def _plain(printed: str) -> str:
    return printed.replace(",", "").replace(" ", "")


def _tokens(text: str) -> list[str]:
    """Cell texts of a line, each also without its inner spaces, and their space-split parts."""
    out: list[str] = []
    for f in _CELL_SPLIT_RE.split(text.strip()):
        if not f.strip():
            continue
        out.append(f.replace(" ", ""))
        out.extend(f.split())
    return out


def _codes(text: str) -> set[str]:
    fields = [f.replace(" ", "") for f in _CELL_SPLIT_RE.split(text.strip()) if f.strip()]
    toks = [t for f in fields for t in [f, *f.split()]]
    out = set(toks)
    nums = [f for f in fields if f.isdigit() and len(f) <= 3]
    for k in range(len(nums)):
        out.add("".join(nums[k:k + 2]))
        out.add("".join(nums[k:k + 3]))
    return out


class GoldModel:
    """Answers like a correct model, from a gold file (evals/gold/*.yaml): a table chunk
    with that table's cells, a prose chunk with the gold narrative facts on its lines, a
    performance chunk with nothing. Each value is cited on the line it is printed on,
    found in the request's numbered lines (row by code, by label words of the vocabulary,
    else by its values). What it cannot place is listed in `unplaced`."""

    def __init__(self, gold_path, tables: set[str] | None = None, mutate: Callable | None = None):
        import yaml

        self.gold = yaml.safe_load(open(gold_path, encoding="utf-8"))
        self.tables = tables
        self.mutate = mutate  # (table, row answer dict) → row answer dict (tests corrupt values)
        self.unplaced: list[tuple] = []
        self.answered: list[str] = []

    def __call__(self, req: Request):
        first = req.user.splitlines()[0] if req.user else ""
        lines = req.numbered_lines()
        if first.startswith("Table "):
            table = first.split()[1]
            self.answered.append(table)
            rows = self.table_rows(table, lines) if self.tables is None or table in self.tables else []
            return {"rows": rows}
        if first.startswith("Prose"):
            return {"facts": self.facts(lines)}
        return {"projects": []}

    # ------------------------------------------------------------------ tables
    def _row_hint(self, table: str, rid: str, text: str) -> bool:
        from structurer import vocab

        labels = [vocab.strip_ordinal(f.replace(" ", "").replace("其中:", "").replace("其中：", ""))
                  for f in _CELL_SPLIT_RE.split(text.strip()) if re.search(r"[\u4e00-\u9fff]", f)]
        if re.fullmatch(r"\d{3}", rid) and table in ("revenue_expenditure_summary", "fiscal_grant_summary"):
            return any(vocab.functional_class_by_name(lab) == rid for lab in labels)
        pats = dict(vocab.REVENUE_ROWS + vocab.EXPENDITURE_ROWS)
        if table == "three_public":
            pats = dict(vocab.THREE_PUBLIC_ROWS)
        if table == "assets":
            pats = dict(vocab.ASSET_ROWS)
        words = {"total": r"^(合计|总计)$", "personnel_total": r"^人员经费", "public_total": r"^公用经费",
                 "subtotal": r"小计$"}
        pat = pats.get(rid) or words.get(rid)
        if rid.startswith("revenue.prior_year_carryover.") or rid.endswith(".fiscal_grant"):
            pat = pats.get("revenue." + rid.split(".")[-1]) or r"财政拨款"
        return bool(pat) and any(re.search(pat, lab) for lab in labels)

    def _find(self, printed: str, nums: list[int], lines: dict[int, str]) -> list[int] | None:
        p = _plain(printed)
        for n in nums:
            if p in (_plain(t) for t in _tokens(lines[n])):
                return [n]
        for a_i, a in enumerate(nums):  # a value broken over two lines
            for t in _tokens(lines[a]):
                t = _plain(t)
                if t and p.startswith(t) and t != p:
                    rest = p[len(t):]
                    for b in nums[a_i + 1:]:
                        if rest in (_plain(x) for x in _tokens(lines[b])):
                            return [a, b]
        return None

    def table_rows(self, table: str, lines: dict[int, str]) -> list[dict]:
        gold_rows = ((self.gold.get("tables") or {}).get(table) or {}).get("rows") or {}
        nums = sorted(lines)
        out = []
        used: set[int] = set()
        for rid, cols in gold_rows.items():
            rid = str(rid)
            values = {c: str(v) for c, v in cols.items()}
            if re.fullmatch(r"\d{3,7}", rid) and table not in ("revenue_expenditure_summary", "fiscal_grant_summary"):
                cands = [n for n in nums if rid in _codes(lines[n])]
            else:
                cands = [n for n in nums if self._row_hint(table, rid, lines[n])]
            if not cands:  # unlabelled rows (an unlabelled total): a line printing all its values
                cands = [n for n in nums if all(self._find(v, [n], lines) for v in values.values())]
            if not cands and values:  # items in printed order: the next line printing the first value
                first_v = next(iter(values.values()))
                cands = [n for n in nums if n not in used and n > max(used, default=0)
                         and self._find(first_v, [n], lines)]
            row_line = None
            for n in cands:
                following = [m for m in nums if m >= n][:6]
                if any(self._find(v, following, lines) for v in values.values()):
                    row_line = n
                    break
            if row_line is None:
                continue  # a row of another part of the table
            used.add(row_line)
            following = [m for m in nums if m >= row_line][:6]
            cells = []
            for col, v in values.items():
                where = self._find(v, following, lines)
                if where is None:
                    self.unplaced.append((table, rid, col))
                    continue
                cell = {"col": col, "text": v, "value": _plain(v)}
                if where != [row_line]:
                    cell["lines"] = where
                cells.append(cell)
            row = {"id": rid, "label": "", "lines": [row_line], "cells": cells}
            if self.mutate:
                row = self.mutate(table, row)
            out.append(row)
        return out

    # ------------------------------------------------------------------ narrative
    def facts(self, lines: dict[int, str]) -> list[dict]:
        out = []
        for f in self.gold.get("narrative") or []:
            line = f.get("line")
            if line not in lines:
                continue
            fact = {"key": f["key"], "kind": f.get("kind", "amount"), "text": str(f["printed"]),
                    "unit": f["unit"], "value": _plain(str(f["printed"])), "line": line}
            if f.get("kind") == "change":
                fact["sign"] = "-" if str(f.get("sign", "+")) in ("-", "−") else "+"
            out.append(fact)
        return out


def write_toml(path, base_url, cache_dir, key_env="QWEN_KEY", extra=""):
    """A structurer.toml naming one model `qwen` at `base_url` (for CLI tests)."""
    path.write_text(f"""
[llm]
default = "qwen"
cache_dir = "{cache_dir}"
concurrency = 4
max_reasks = 1

[models.qwen]
base_url = "{base_url}"
model = "qwen-plus"
api_key_env = "{key_env}"
mode = "md_json"
price_prompt = 0.8
price_completion = 2
currency = "CNY"
{extra}
""", encoding="utf-8")
    return path


def settings_for(server: "OpenAIServer", cache_dir, **changes):
    """Settings that talk to `server` (fast backoff; everything else as configured by default)."""
    from structurer.llm.config import ModelConfig, Settings

    model = changes.pop("model", None) or ModelConfig(name="test", model="test-model", base_url=server.base_url,
                                                       **changes.pop("model_options", {}))
    base = dict(model=model, cache_dir=cache_dir, backoff_s=0.05, backoff_max_s=5.0)
    base.update(changes)
    return Settings(**base)


def empty_answers(req: Request) -> dict:
    """A model that finds nothing (answers in the right shape for each prompt)."""
    first = req.user.splitlines()[0] if req.user else ""
    if first.startswith("Table "):
        return {"rows": []}
    if first.startswith("Prose"):
        return {"facts": []}
    return {"projects": []}


def serve_forever(latency: float = 0.0) -> None:  # pragma: no cover - used by benchmarks
    """Run a server answering `empty_answers` (with fixed usage numbers, so that counting
    tokens costs the server nothing) in this process; prints its base URL."""
    import sys

    def answer(req: Request) -> Reply:
        return Reply(empty_answers(req), usage={"prompt_tokens": 1000, "completion_tokens": 10})

    srv = OpenAIServer(answer, latency=latency).start()
    print(srv.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    srv.stop()


if __name__ == "__main__":  # pragma: no cover
    import sys

    serve_forever(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
