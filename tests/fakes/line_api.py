"""A local fake of the LINE Messaging API (api.line.me and api-data.line.me on one port): records every call and
can be told to fail.

It checks what the real API checks and the adapter could get wrong: the bearer token, at most 5 messages,
text of at most 5000 UTF-16 units, Flex messages as LINE validates them (tests/fakes/line_flex.py), at most 13
quick-reply buttons with labels of at most 20 characters, and `X-Line-Retry-Key` on push (a key it already
accepted gets 409, nothing is sent twice); a reply token is usable once (a second reply with it gets 400
"Invalid reply token", as on the real API). Rich menus: create, validate, list, delete, the image upload
(PNG or JPEG, at most 1 MB, the menu's own size, once per menu) and the default menu, which needs an image.

`hold(kind, take)` stops the next call of a kind in the middle, so a test can kill the caller there: with
`take=True` LINE has taken the call (the message is delivered, the token used) and only its answer is held
back; with `take=False` the call is held before LINE takes anything and is dropped when released.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.line_flex import action_problem, flex_problem
from tests.fakes.line_richmenu import RichMenus

PATHS = {"/v2/bot/message/reply": "reply", "/v2/bot/message/push": "push",
         "/v2/bot/chat/loading/start": "loading"}
_RICH_MENU = re.compile(r"^/v2/bot/(richmenu|user/all/richmenu)(/.*)?$")


@dataclass(frozen=True)
class LineCall:
    """One request the fake received, and the status it answered."""

    kind: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    path: str = ""
    method: str = "POST"

    @property
    def texts(self) -> list[str]:
        """The text of each text message sent (a Flex message counts by its altText)."""
        return [str(m.get("text", m.get("altText", ""))) for m in self.body.get("messages", [])]

    @property
    def shown(self) -> str:
        """Everything a user sees of these messages: texts, Flex texts and button labels, quick-reply labels."""
        seen: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("text", "span") and isinstance(node.get("text"), str):
                    seen.append(node["text"])
                if isinstance(node.get("label"), str):
                    seen.append(node["label"])
                for key, value in node.items():
                    if key not in ("text", "label", "data", "uri", "altText"):
                        walk(value)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(self.body.get("messages", []))
        return "\n".join(seen)

    @property
    def actions(self) -> list[dict[str, Any]]:
        """Every tappable action of the last message: its Flex buttons and tappable boxes, then its quick replies."""
        found: list[dict[str, Any]] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("button", "box") and isinstance(node.get("action"), dict):
                    found.append(node["action"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        last = self.messages[-1] if self.messages else {}
        walk(last.get("contents"))
        return found + [i["action"] for i in (last.get("quickReply") or {}).get("items", [])]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages sent, as LINE received them."""
        return list(self.body.get("messages", []))

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
        if message.get("type") == "flex":
            if problem := flex_problem(message):
                return problem
        elif message.get("type") != "text" or not 1 <= _utf16(str(message.get("text", ""))) <= 5000:
            return "text must be 1 to 5000 characters"
        items = (message.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            return "at most 13 quick reply items"
        for item in items:
            action = item.get("action", {})
            if _utf16(str(action.get("label", ""))) > 20 or action_problem(action, 20):
                return "quick reply label or action invalid"
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
    """Serve on loopback with `running()`; inspect `calls`; script failures with `fail()` / `reject_flex()`."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token
        self.calls: list[LineCall] = []
        self._failures: dict[str, deque[int]] = {kind: deque() for kind in [*PATHS.values(), "richmenu"]}
        self._reject_flex = 0
        self._accepted_keys: set[str] = set()
        self._used_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._holds: dict[str, Hold] = {}
        self.rich_menus = RichMenus()
        self.url = ""

    def hold(self, kind: str, take: bool) -> Hold:
        """Hold the next call of `kind` in the middle (see the module's docstring) until released."""
        hold = Hold(kind, take)
        with self._lock:
            self._holds[kind] = hold
        return hold

    def fail(self, kind: str, status: int, times: int = 1) -> None:
        """Answer the next `times` calls of `kind` ("reply", "push", "loading", "richmenu") with `status`."""
        with self._lock:
            self._failures[kind].extend([status] * times)

    def reject_flex(self, times: int = 1) -> None:
        """Refuse the next `times` requests that carry a Flex message with 400, as LINE does for a bad one."""
        with self._lock:
            self._reject_flex += times

    def recover(self) -> None:
        """Forget the scripted failures that have not happened yet."""
        with self._lock:
            for queue in self._failures.values():
                queue.clear()
            self._reject_flex = 0

    def of(self, kind: str, delivered_only: bool = True) -> list[LineCall]:
        """Calls of one kind (by default only the ones LINE accepted)."""
        with self._lock:
            return [c for c in self.calls if c.kind == kind and (c.delivered or not delivered_only)]

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The fake's logic: (status, JSON body, extra headers)."""
        rich = _RICH_MENU.match(path)
        kind = "richmenu" if rich else PATHS.get(path)
        if kind is None or (kind != "richmenu" and method != "POST"):
            return 404, {"message": "Not found"}, {}
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, {"message": "Authentication failed"}, {}
        if kind == "richmenu":
            return self._rich_menu(method, path, headers, raw)
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
                self.calls.append(LineCall(kind, headers, body, 0, path, method))  # dropped: LINE never took it
            return 503, {"message": "dropped"}, {}
        status, answer, extra = self._decide(kind, headers, body)
        with self._lock:
            self.calls.append(LineCall(kind, headers, body, status, path, method))
        if hold is not None:
            hold.body = body
            hold.arrived.set()
            hold.released.wait(timeout=300)
        return status, answer, extra

    def _rich_menu(self, method: str, path: str, headers: dict[str, str], raw: bytes
                   ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            scripted = self._failures["richmenu"].popleft() if self._failures["richmenu"] else None
        if scripted is not None:
            status, answer = scripted, {"message": f"scripted {scripted}"}
        else:
            status, answer = self.rich_menus.handle(method, path, headers.get("content-type", ""), raw)
        shown = {"bytes": len(raw), "content_type": headers.get("content-type", "")}
        if raw and headers.get("content-type", "").startswith("application/json"):
            shown = json.loads(raw)
        with self._lock:
            self.calls.append(LineCall("richmenu", headers, shown, status, path, method))
        return status, answer, {}

    def _decide(self, kind: str, headers: dict[str, str], body: dict[str, Any]
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            scripted = self._failures[kind].popleft() if self._failures[kind] else None
            has_flex = any(m.get("type") == "flex" for m in body.get("messages", []) if isinstance(m, dict))
            rejected = has_flex and self._reject_flex > 0
            if rejected:
                self._reject_flex -= 1
        if scripted is not None:
            return scripted, {"message": f"scripted {scripted}"}, {}
        if kind == "loading":
            return 202, {}, {}
        if rejected:
            return 400, {"message": "A message (messages[0]) in the request body is invalid",
                         "details": [{"message": "invalid flex", "property": "messages[0].contents"}]}, {}
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

            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer, extra = fake.handle(self.command, self.path, headers, raw)
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

            do_POST = do_GET = do_DELETE = _serve

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

