"""Run the real FastAPI app under a real uvicorn on a loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from adapters.services import Services
from tests.servers.chroma import free_port


@dataclass
class LiveApp:
    """A running app: its base URL and its services (database, inbox, answer log) for assertions."""

    url: str
    app: FastAPI

    @property
    def services(self) -> Services:
        """The lifespan's services of the running app."""
        services: Services = self.app.state.services
        return services


@contextmanager
def live_app(app: FastAPI, timeout_s: float = 60.0) -> Iterator[LiveApp]:
    """Serve `app` until the block ends; yields once `/readyz` answers 200 (the core can answer)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the app did not become ready")
            time.sleep(0.05)
        yield LiveApp(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_until(condition: object, timeout_s: float = 15.0, interval_s: float = 0.05) -> None:
    """Poll `condition()` until it is truthy, or fail after `timeout_s`."""
    assert callable(condition)
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval_s)
