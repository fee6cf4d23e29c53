"""A local fake of the Slack Web API (and of `response_url` hooks) over real HTTP on loopback.

It answers the methods planbot calls, records every call for assertions, keeps the messages it was
sent so `conversations.replies` can return a thread, and can be told to fail the next calls of a method
with 429 (ratelimited) or 5xx, or with an `ok: false` error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSMsgType, web

BOT_USER_ID = "UPLANBOT"
BOT_ID = "BPLANBOT"
TEAM_ID = "T0CITY"


@dataclass
class Call:
    """One request the fake received: the API method (or `response/<key>`), its parameters, auth header."""

    method: str
    params: dict[str, Any]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int
    error: str
    remaining: int


class FakeSlackState:
    """What the fake knows and has seen; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.failures: dict[str, _Failure] = {}
        self.socket_url = ""
        self._ts = itertools.count(1)

    def record(self, call: Call) -> None:
        """Keep a call."""
        with self.lock:
            self.calls.append(call)

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method, oldest first."""
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def fail_next(self, method: str, status: int = 429, error: str = "ratelimited", times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this HTTP status (200 + `error` means ok:false)."""
        with self.lock:
            self.failures[method] = _Failure(status, error, times)

    def take_failure(self, method: str) -> _Failure | None:
        """The failure to serve for this call, if one is queued."""
        with self.lock:
            failure = self.failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure

    def next_ts(self) -> str:
        """A fresh, increasing message timestamp."""
        with self.lock:
            return f"{1_700_000_000 + next(self._ts)}.000100"

    def add_message(self, channel: str, message: dict[str, Any]) -> None:
        """Remember a message so `conversations.replies` can return its thread."""
        with self.lock:
            self.messages.setdefault(channel, []).append(message)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The parent message `ts` and its replies, oldest first."""
        with self.lock:
            found = [m for m in self.messages.get(channel, []) if m.get("ts") == ts or m.get("thread_ts") == ts]
        return sorted(found, key=lambda m: float(m["ts"]))


def _answer(state: FakeSlackState, method: str, params: dict[str, Any]) -> dict[str, Any]:
    if method == "auth.test":
        return {"ok": True, "url": "https://city.slack.example/", "team": "city", "user": "planbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
    if method == "chat.postMessage":
        ts = state.next_ts()
        message = {"ts": ts, "text": params.get("text"), "bot_id": BOT_ID, "user": BOT_USER_ID,
                   "thread_ts": params.get("thread_ts"), "blocks": params.get("blocks")}
        state.add_message(str(params.get("channel")), message)
        return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": state.next_ts()}
    if method == "chat.update":
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
    if method == "views.open":
        return {"ok": True, "view": {"id": "V" + state.next_ts().replace(".", ""), **(params.get("view") or {})}}
    if method == "apps.connections.open":
        return {"ok": True, "url": state.socket_url} if state.socket_url else {"ok": False, "error": "not_allowed"}
    if method == "conversations.replies":
        messages = state.thread(str(params.get("channel")), str(params.get("ts")))
        return {"ok": True, "messages": messages, "has_more": False}
    return {"ok": False, "error": "unknown_method"}


def _params(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(urlsplit(handler.path).query))
    content_type = handler.headers.get("content-type", "")
    if body and "json" in content_type:
        params.update(json.loads(body))
    elif body:
        params.update(dict(parse_qsl(body.decode("utf-8"))))
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _make_handler(state: FakeSlackState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._serve(self.rfile.read(length) if length else b"")

        def _serve(self, body: bytes) -> None:
            path = urlsplit(self.path).path
            method = path.removeprefix("/api/").strip("/")
            params = _params(self, body)
            state.record(Call(method, params, self.headers.get("authorization")))
            failure = state.take_failure(method)
            if failure is not None and failure.status != 200:
                self._send(failure.status, {"ok": False, "error": failure.error},
                           {"Retry-After": "1"} if failure.status == 429 else {})
                return
            if failure is not None:
                self._send(200, {"ok": False, "error": failure.error})
            elif method.startswith("response/"):
                self._send(200, None)
            else:
                self._send(200, _answer(state, method, params))

        def _send(self, status: int, payload: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
            data = b"ok" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain" if payload is None else "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@dataclass
class FakeSlack:
    """A running fake: `api_url` for SLACK_API_URL, `response_url(key)` for slash commands and buttons."""

    url: str
    state: FakeSlackState

    @property
    def api_url(self) -> str:
        """Base URL of the fake Web API (ends with a slash, like https://slack.com/api/)."""
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        """A fake `response_url`; what is posted to it is recorded as method `response/<key>`."""
        return f"{self.url}/response/{key}"

    def calls_to(self, method: str) -> list[Call]:
        """Calls made to one method."""
        return self.state.calls_to(method)


@contextmanager
def fake_slack_api() -> Iterator[FakeSlack]:
    """Serve the fake on a free loopback port until the block ends."""
    state = FakeSlackState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeSlack(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()



class FakeSocketMode:
    """A fake Socket Mode endpoint: hands events to a connected app over a websocket, collects its acks."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._ready = threading.Event()

    @property
    def connected(self) -> bool:
        """An app holds a connection."""
        return any(not ws.closed for ws in self._sockets)

    async def _serve_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0PLANBOT"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    def send(self, envelope_id: str, payload: dict[str, Any], kind: str = "events_api", retry: int = 0) -> None:
        """Deliver one envelope (as Slack does) to every connected app."""
        message = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False,
                   "retry_attempt": retry, "retry_reason": "timeout" if retry else ""}
        assert self._loop is not None

        async def push() -> None:
            for ws in self._sockets:
                if not ws.closed:
                    await ws.send_json(message)

        asyncio.run_coroutine_threadsafe(push(), self._loop).result(timeout=5)

    def run(self) -> None:
        """Serve on a free loopback port in this (background) thread until the loop stops."""
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_get("/link", self._serve_socket)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/link"
        self._ready.set()
        self._loop.run_forever()
        for ws in self._sockets:
            self._loop.run_until_complete(ws.close())
        self._loop.run_until_complete(runner.cleanup())

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)


@contextmanager
def fake_socket_mode(api: FakeSlack) -> Iterator[FakeSocketMode]:
    """Serve a Socket Mode endpoint; `apps.connections.open` on `api` hands out its URL."""
    fake = FakeSocketMode()
    thread = threading.Thread(target=fake.run, daemon=True)
    thread.start()
    fake._ready.wait(timeout=10)
    api.state.socket_url = fake.url
    try:
        yield fake
    finally:
        fake.stop()
        thread.join(timeout=10)
