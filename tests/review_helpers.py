"""Helpers shared by the review-page tests: a reviewer, a signed-in httpx client, form tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bot.store.reviewers import ReviewerStore
from tests.servers.app import LiveApp

REVIEWER = "kouhou.tanaka"
PASSWORD = "yuki-no-aomori-2025"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def add_reviewer(live: LiveApp, name: str = REVIEWER, password: str = PASSWORD) -> None:
    """Create a reviewer account in the running app's database."""
    ReviewerStore(live.services.database).add(name, password)


@contextmanager
def signed_in(live: LiveApp, name: str = REVIEWER, password: str = PASSWORD) -> Iterator[tuple[httpx.Client, str]]:
    """An httpx client with a review session, and the session's CSRF token."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        login = client.get("/review/login", headers={"accept": "text/html"})
        assert login.status_code == 200
        reply = client.post("/review/login", data={"csrf_token": form_token(login.text), "name": name,
                                                   "password": password})
        assert reply.status_code == 303 and reply.headers["location"] == "/review", reply.text
        page = client.get("/review")
        assert page.status_code == 200
        yield client, form_token(page.text)
