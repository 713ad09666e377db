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

It also serves the Files and Batch APIs (unless `batch_api=False`, when those paths
answer 404): POST /v1/files (multipart upload, kept in `files`), GET /v1/files[/{id}
[/content]], DELETE /v1/files/{id}, POST /v1/batches, GET /v1/batches[/{id}], POST
/v1/batches/{id}/cancel. A batch is "validating" when created, "in_progress" at the
first retrieve and final `batch_polls` retrieves later: then each input line's body is
answered as a chat completion would be (queued steps first, else the handler; `Error`
and `Raw` are failures, written to the error file), with no delays, and recorded in
`batch_lines` (not `requests`). `batch_outcome` "expired" answers only the first
`batch_expire_after` lines; "failed" answers none.
"""
from __future__ import annotations

import email.message
import email.parser
import itertools
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


_BATCH_PATH_RE = re.compile(r"/(files|batches)(?:/([^/]+))?(?:/(content|cancel))?/?$")
_BATCH_FINAL = ("completed", "expired", "failed", "cancelled")


class OpenAIServer:
    def __init__(self, handler: Callable[[Request], Any] | None = None, latency: float = 0.0, *,
                 batch_api: bool = True, batch_polls: int = 1, batch_outcome: str = "completed",
                 batch_expire_after: int = 0):
        if batch_outcome not in ("completed", "expired", "failed"):
            raise ValueError(f"batch_outcome: {batch_outcome!r}")
        self.handler = handler
        self.latency = latency
        self.queue: deque = deque()
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once
        # the Files and Batch APIs
        self.batch_api = batch_api
        self.batch_polls = batch_polls  # retrieves while in_progress before a batch is final
        self.batch_outcome = batch_outcome  # "completed" | "expired" | "failed"
        self.batch_expire_after = batch_expire_after  # lines answered when "expired"
        self.files: dict[str, dict] = {}  # file id → {"bytes", "filename", "purpose", "created_at"}
        self.batches: dict[str, dict] = {}  # batch id → the batch object (JSON)
        self.batch_lines: list[Request] = []  # the batch lines answered, in order
        self._batch_state: dict[str, dict] = {}  # batch id → {"lines", "polls", "busy"}
        self._ids = itertools.count(1)
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

    def _step(self, req: Request, step):
        """The step answering `req`: `step` (a queued one), else what the handler says."""
        if step is None:
            step = self.handler(req) if self.handler else Reply({})
            if not isinstance(step, (Reply, Error, Raw)):
                step = Reply(step)
        return step

    def start(self) -> "OpenAIServer":
        server = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _write(self, status: int, headers: dict, body: bytes, declared: int | None = None,
                       content_type: str = "application/json"):
                """Status line, headers and body in one write (no delayed-ACK stalls)."""
                head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                        f"Content-Type: {content_type}", f"Content-Length: {declared or len(body)}"]
                head += [f"{k}: {v}" for k, v in headers.items()]
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                self.wfile.flush()

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if not size:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_POST(self):  # noqa: N802
                raw = self._read_body()
                if _BATCH_PATH_RE.search(self.path.split("?")[0]):
                    return self._batch_api("POST", raw)
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

            def do_GET(self):  # noqa: N802
                self._batch_api("GET", self._read_body())

            def do_DELETE(self):  # noqa: N802
                self._batch_api("DELETE", self._read_body())

            def _batch_api(self, method: str, raw: bytes):
                """The Files and Batch APIs (and 404 for any other GET/DELETE path)."""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request(time.monotonic(), self.path, headers, body if isinstance(body, dict) else {})
                with server.lock:
                    server.requests.append(req)
                status, payload, ctype = server._api(method, self.path.split("?")[0], headers, raw, req.body)
                try:
                    self._write(status, {}, payload, content_type=ctype)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _answer(self, req: Request, step):
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                step = server._step(req, step)
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

    # ------------------------------------------------------------------ Files and Batch APIs
    def _api(self, method: str, path: str, headers: dict, raw: bytes, body: dict) -> tuple[int, bytes, str]:
        """(status, body, content type) answering a Files/Batch API request."""
        m = _BATCH_PATH_RE.search(path)
        if not m or not self.batch_api:
            return _json(404, f"not found: {method} {path}")
        kind, oid, action = m.groups()
        if kind == "files":
            if method == "POST" and not oid:
                return self._create_file(headers.get("content-type", ""), raw)
            with self.lock:
                if method == "GET" and not oid:
                    return _json(200, _page([_file_object(i, f) for i, f in self.files.items()]))
                f = self.files.get(oid) if oid else None
                if f is None:
                    return _json(404, f"no such file: {oid}")
                if method == "GET" and action == "content":
                    return 200, f["bytes"], "application/octet-stream"
                if method == "GET" and not action:
                    return _json(200, _file_object(oid, f))
                if method == "DELETE" and not action:
                    del self.files[oid]
                    return _json(200, {"id": oid, "object": "file", "deleted": True})
            return _json(404, f"not found: {method} {path}")
        if method == "POST" and not oid:
            return self._create_batch(body)
        if method == "GET" and not oid:
            with self.lock:
                return _json(200, _page(list(self.batches.values())))
        if method == "GET" and not action:
            return self._retrieve_batch(oid)
        if method == "POST" and action == "cancel":
            with self.lock:
                b = self.batches.get(oid)
                if b is None:
                    return _json(404, f"no such batch: {oid}")
                if b["status"] not in _BATCH_FINAL:
                    now = int(time.time())
                    b.update(status="cancelled", cancelling_at=now, cancelled_at=now)
                return _json(200, b)
        return _json(404, f"not found: {method} {path}")

    def _add_file(self, data: bytes, filename: str, purpose: str) -> dict:
        """Store a file (the lock held); its FileObject."""
        fid = f"file-{next(self._ids)}"
        self.files[fid] = {"bytes": data, "filename": filename, "purpose": purpose,
                           "created_at": int(time.time())}
        return _file_object(fid, self.files[fid])

    def _create_file(self, content_type: str, raw: bytes) -> tuple[int, bytes, str]:
        try:
            fields = _multipart(content_type, raw)
        except ValueError as e:
            return _json(400, f"bad multipart body: {e}")
        if "file" not in fields or "purpose" not in fields:
            return _json(400, "multipart body needs the fields 'file' and 'purpose'")
        filename, data = fields["file"]
        purpose = fields["purpose"][1].decode("utf-8")
        with self.lock:
            return _json(200, self._add_file(data, filename or "upload", purpose))

    def _create_batch(self, body: dict) -> tuple[int, bytes, str]:
        missing = [k for k in ("input_file_id", "endpoint", "completion_window") if not body.get(k)]
        if missing:
            return _json(400, f"missing: {', '.join(missing)}")
        with self.lock:
            f = self.files.get(body["input_file_id"])
            data = f["bytes"] if f else None
        if data is None:
            return _json(404, f"no such file: {body['input_file_id']}")
        lines: list[dict] = []
        seen: set = set()
        for n, text in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except ValueError:
                return _json(400, f"line {n}: not JSON")
            if not isinstance(line, dict) or not all(k in line for k in ("custom_id", "method", "url", "body")) \
                    or not isinstance(line["body"], dict):
                return _json(400, f"line {n}: needs custom_id, method, url and a body object")
            if line["custom_id"] in seen:
                return _json(400, f"line {n}: duplicate custom_id {line['custom_id']!r}")
            seen.add(line["custom_id"])
            lines.append(line)
        if not lines:
            return _json(400, "the input file holds no requests")
        with self.lock:
            bid = f"batch_{next(self._ids)}"
            b = {"id": bid, "object": "batch", "endpoint": body["endpoint"],
                 "input_file_id": body["input_file_id"], "completion_window": body["completion_window"],
                 "status": "validating", "created_at": int(time.time()),
                 "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                 "metadata": body.get("metadata"), "output_file_id": None, "error_file_id": None,
                 "errors": None, "in_progress_at": None, "expires_at": None, "finalizing_at": None,
                 "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
                 "cancelled_at": None}
            self.batches[bid] = b
            self._batch_state[bid] = {"lines": lines, "polls": 0, "busy": False}
            return _json(200, b)

    def _retrieve_batch(self, bid: str) -> tuple[int, bytes, str]:
        with self.lock:
            b = self.batches.get(bid)
            if b is None:
                return _json(404, f"no such batch: {bid}")
            st = self._batch_state[bid]
            run = False
            if b["status"] == "validating":
                b.update(status="in_progress", in_progress_at=int(time.time()))
                run = self.batch_polls <= 0
            elif b["status"] == "in_progress" and not st["busy"]:
                st["polls"] += 1
                run = st["polls"] >= self.batch_polls
            if not run:
                return _json(200, b)
            st["busy"] = True
        try:
            self._process_batch(bid)
        finally:
            with self.lock:
                st["busy"] = False
        with self.lock:
            return _json(200, b)

    def _answer_line(self, req: Request) -> tuple[bool, int, dict]:
        """(succeeded, status, body) answering one batch line as a chat completion (no delays)."""
        with self.lock:
            self.batch_lines.append(req)
            step = self.queue.popleft() if self.queue else None
        try:
            step = self._step(req, step)
            if isinstance(step, Reply):
                return True, 200, completion(req, step)
        except Exception as e:  # a broken handler: a failed line, not a stuck batch
            return False, 500, {"error": {"message": f"handler raised {e!r}", "type": "test"}}
        if isinstance(step, Error):
            return False, step.status, {"error": {"message": step.message, "type": "test"}}
        return False, step.status, {"error": {"message": step.body.decode("utf-8", "replace") or "raw response",
                                              "type": "test"}}

    def _process_batch(self, bid: str) -> None:
        """Answer a batch's lines (as `batch_outcome` says) and make it final."""
        lines = self._batch_state[bid]["lines"]
        outcome = self.batch_outcome
        todo = [] if outcome == "failed" else lines if outcome == "completed" else lines[:self.batch_expire_after]
        ok: list[dict] = []
        bad: list[dict] = []
        for line in todo:
            req = Request(time.monotonic(), line["url"], {}, line["body"])
            succeeded, status, body = self._answer_line(req)
            with self.lock:
                n = next(self._ids)
            (ok if succeeded else bad).append(
                {"id": f"batch_req_{n}", "custom_id": line["custom_id"],
                 "response": {"status_code": status, "request_id": f"req_{n}", "body": body}, "error": None})
        with self.lock:
            b = self.batches[bid]
            if b["status"] != "in_progress":  # cancelled meanwhile
                return
            now = int(time.time())
            if outcome == "failed":
                b.update(status="failed", failed_at=now,
                         errors={"object": "list", "data": [{"code": "invalid_request", "message": "test failure",
                                                             "line": None, "param": None}]})
                return
            for key, recs, name in (("output_file_id", ok, "output"), ("error_file_id", bad, "error")):
                if recs:
                    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")
                    b[key] = self._add_file(data, f"{bid}_{name}.jsonl", "batch_output")["id"]
            b["request_counts"] = {"total": len(lines), "completed": len(ok), "failed": len(bad)}
            b["finalizing_at"] = now
            if outcome == "expired":
                b.update(status="expired", expired_at=now)
            else:
                b.update(status="completed", completed_at=now)


def _json(status: int, obj) -> tuple[int, bytes, str]:
    """A JSON answer; a str is an error message."""
    if isinstance(obj, str):
        obj = {"error": {"message": obj, "type": "invalid_request_error"}}
    return status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json"


def _page(data: list) -> dict:
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": False}


def _file_object(fid: str, f: dict) -> dict:
    return {"id": fid, "object": "file", "bytes": len(f["bytes"]), "created_at": f["created_at"],
            "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body's fields: name → (filename, bytes)."""
    head = email.message.Message()
    head["content-type"] = content_type
    boundary = head.get_param("boundary")
    if head.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise ValueError(f"not multipart/form-data with a boundary: {content_type!r}")
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in (b"\r\n" + raw).split(b"\r\n--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        part_head, sep, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without headers")
        h = email.parser.HeaderParser().parsestr(part_head.decode("utf-8", "replace") + "\r\n\r\n")
        name = h.get_param("name", header="content-disposition")
        if isinstance(name, str):
            out[name] = (h.get_filename(), content)
    return out


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
