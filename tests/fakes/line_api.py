"""A local fake of the LINE Messaging API: records every call and can be told to fail.

It checks what the real API checks and the adapter could get wrong: the bearer token, at most 5
messages of at most 5000 UTF-16 units, at most 13 quick-reply buttons with labels of at most 20
characters, and `X-Line-Retry-Key` on push (a key it already accepted gets 409, nothing is sent twice);
a reply token is usable once (a second reply with it gets 400 "Invalid reply token", as on the real API).

`hold(kind, take)` stops the next call of a kind in the middle, so a test can kill the caller there: with
`take=True` LINE has taken the call (the message is delivered, the token used) and only its answer is held
back; with `take=False` the call is held before LINE takes anything and is dropped when released.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = {"/v2/bot/message/reply": "reply", "/v2/bot/message/push": "push",
         "/v2/bot/chat/loading/start": "loading"}


@dataclass(frozen=True)
class LineCall:
    """One request the fake received, and the status it answered."""

    kind: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int

    @property
    def texts(self) -> list[str]:
        """The text of each message sent."""
        return [str(m.get("text", "")) for m in self.body.get("messages", [])]

    @property
    def delivered(self) -> bool:
        """LINE took the messages."""
        return 200 <= self.status < 300


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _message_problem(messages: Any) -> str | None:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "messages must hold 1 to 5 items"
    for message in messages:
        if message.get("type") != "text" or not 1 <= _utf16(str(message.get("text", ""))) <= 5000:
            return "text must be 1 to 5000 characters"
        items = (message.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            return "at most 13 quick reply items"
        for item in items:
            action = item.get("action", {})
            if len(action.get("label", "")) > 20 or _utf16(action.get("text", "")) > 300:
                return "quick reply label or text too long"
    return None


@dataclass
class Hold:
    """One held call: `arrived` is set when it came in; it stays in the middle until `release()`."""

    kind: str
    take: bool
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    body: dict[str, Any] = field(default_factory=dict)

    def release(self) -> None:
        """Let the held call finish (its caller may be gone by then)."""
        self.released.set()


class FakeLineApi:
    """Serve on loopback with `running()`; inspect `calls`; script failures with `fail()`."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token
        self.calls: list[LineCall] = []
        self._failures: dict[str, deque[int]] = {kind: deque() for kind in PATHS.values()}
        self._accepted_keys: set[str] = set()
        self._used_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._holds: dict[str, Hold] = {}
        self.url = ""

    def hold(self, kind: str, take: bool) -> Hold:
        """Hold the next call of `kind` in the middle (see the module's docstring) until released."""
        hold = Hold(kind, take)
        with self._lock:
            self._holds[kind] = hold
        return hold

    def fail(self, kind: str, status: int, times: int = 1) -> None:
        """Answer the next `times` calls of `kind` ("reply", "push", "loading") with `status`."""
        with self._lock:
            self._failures[kind].extend([status] * times)

    def recover(self) -> None:
        """Forget the scripted failures that have not happened yet."""
        with self._lock:
            for queue in self._failures.values():
                queue.clear()

    def of(self, kind: str, delivered_only: bool = True) -> list[LineCall]:
        """Calls of one kind (by default only the ones LINE accepted)."""
        with self._lock:
            return [c for c in self.calls if c.kind == kind and (c.delivered or not delivered_only)]

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The fake's logic: (status, JSON body, extra headers)."""
        kind = PATHS.get(path)
        if kind is None:
            return 404, {"message": "Not found"}, {}
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, {"message": "Authentication failed"}, {}
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return 400, {"message": "The request body has 1 error(s)"}, {}
        with self._lock:
            hold = self._holds.pop(kind, None)
        if hold is not None and not hold.take:
            hold.body = body
            hold.arrived.set()
            hold.released.wait(timeout=300)
            with self._lock:
                self.calls.append(LineCall(kind, headers, body, 0))  # dropped: LINE never took it
            return 503, {"message": "dropped"}, {}
        status, answer, extra = self._decide(kind, headers, body)
        with self._lock:
            self.calls.append(LineCall(kind, headers, body, status))
        if hold is not None:
            hold.body = body
            hold.arrived.set()
            hold.released.wait(timeout=300)
        return status, answer, extra

    def _decide(self, kind: str, headers: dict[str, str], body: dict[str, Any]
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            scripted = self._failures[kind].popleft() if self._failures[kind] else None
        if scripted is not None:
            return scripted, {"message": f"scripted {scripted}"}, {}
        if kind == "loading":
            return 202, {}, {}
        problem = _message_problem(body.get("messages"))
        if problem:
            return 400, {"message": problem}, {}
        if kind == "reply":
            token = str(body.get("replyToken", ""))
            with self._lock:
                if token in self._used_tokens:
                    return 400, {"message": "Invalid reply token"}, {}
                self._used_tokens.add(token)
        if kind == "push":
            key = headers.get("x-line-retry-key", "")
            with self._lock:
                if key and key in self._accepted_keys:
                    return 409, {"message": "The retry key is already accepted"}, {
                        "x-line-accepted-request-id": key}
                if key:
                    self._accepted_keys.add(key)
        sent = [{"id": str(next(self._ids)), "quoteToken": "q"} for _ in body["messages"]]
        return 200, {"sentMessages": sent}, {}

    @contextmanager
    def running(self) -> Iterator[FakeLineApi]:
        """Serve until the block ends."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer, extra = fake.handle(self.path, headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller was killed while its call was held

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
