"""Secrets and abuse: no secret or raw user id in logs or the database, rate limit and length cap answered
politely, production refuses placeholder secrets, the sign-in CSRF cookie is HttpOnly and SameSite.

(Review routes needing sign-in, the session cookie's flags and CSRF rejection are in test_review_routes.py.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.review import ReviewChannel
from bench.load import Post, build_plan, delivered_counts, line_event, line_post, post_all, slack_post
from bot.assistant import RATE_LIMITED_JA
from bot.compose import invalid_input_text
from bot.errors import ConfigError
from bot.service import PlanBot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import live_app, wait_until
from tests.servers.serve import child_env, planbot_executable, planbot_serve, seed_data_dir

#: Distinctive values, so a leak anywhere is found by a plain substring search.
SECRETS = {
    "LINE_CHANNEL_SECRET": "zz-line-secret-4f1d0c9e8b7a",
    "LINE_CHANNEL_ACCESS_TOKEN": "zz-line-token-91ab37c2d4e5",
    "SLACK_SIGNING_SECRET": "zz-slack-signing-5e6f7a8b9c0d",
    "SLACK_BOT_TOKEN": "xoxb-zz-slack-bot-token-2b3c4d",
    "PLANBOT_SESSION_SECRET": "zz-session-secret-7c8d9e0f1a2b3c",
    "PLANBOT_USER_SALT": "zz-user-salt-0a1b2c3d4e5f6a7b",
    "PLANBOT_API_TOKEN": "zz-api-token-6d5c4b3a2f1e",
}
LINE_USER = "Uzz0c0ffee0c0ffee0c0ffee0c0ffee1"
SLACK_USER = "Uzz5LACKUSER"


def test_no_secret_or_raw_user_id_in_serve_logs_or_the_database(planbot: PlanBot, settings: Settings,
                                                                 tmp_path: Path) -> None:
    database = tmp_path / "secrets.sqlite3"
    with FakeLineApi(SECRETS["LINE_CHANNEL_ACCESS_TOKEN"]).running() as fake_line, fake_slack_api() as fake_slack:
        fake_line.fail("reply", 500)  # a failure path that logs a warning
        env = {"PLANBOT_DATA_DIR": str(seed_data_dir(settings.data_dir, tmp_path / "data")), "PLANBOT_ENV": "test",
               "DATABASE_URL": f"sqlite:///{database}", "LINE_API_BASE_URL": fake_line.url,
               "SLACK_API_URL": fake_slack.api_url, **SECRETS}
        with planbot_serve(env, log_path=tmp_path / "serve.log") as server:
            # Stamped once the server is up, so the reply token is fresh and the reply (which fails) is tried.
            line_event_1 = line_event("SECRETSEVENT0001", 1)
            line_event_1["source"]["userId"] = LINE_USER
            line = _line_post_with(line_event_1, SECRETS["LINE_CHANNEL_SECRET"])
            slack = _slack_post_from(SLACK_USER, SECRETS["SLACK_SIGNING_SECRET"])
            forged = _line_post_with(line_event("SECRETSFORGED01", 2), "not-the-secret")
            plan = build_plan(0, 0, forged_ratio=0.0)
            plan.posts[:] = [line, slack, forged]
            plan.slack_ts["1700000042.000100"] = "EvSECRETS1"
            results = asyncio.run(post_all(server.url, plan.posts, concurrency=3))
            assert [r.status for r in results][:2] == [200, 200] and results[2].status == 400
            ask = httpx.post(f"{server.url}/api/ask", json={"question": "除雪", "user_id": LINE_USER}, timeout=30)
            assert ask.status_code == 401  # PLANBOT_API_TOKEN is set and was not sent
            wait_until(lambda: len(fake_line.of("push")) == 1 and fake_slack.calls_to("chat.postMessage"),
                       timeout_s=60)
            log_text = server.log_text()
    assert "LINE reply failed" in log_text or "pushing" in log_text  # the failure path did log
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("secrets.sqlite3*"))
    for name, value in SECRETS.items():
        assert value not in log_text, f"{name} in the server log"
        assert value.encode() not in stored, f"{name} in the database"
    for user in (LINE_USER, SLACK_USER):
        assert user not in log_text and user.encode() not in stored
    assert delivered_counts(plan, fake_line, fake_slack)[("slack", "EvSECRETS1")] == 1


def _line_post_with(event: dict[str, Any], secret: str) -> Post:
    return line_post(event, secret=secret, forged=secret != SECRETS["LINE_CHANNEL_SECRET"])


def _slack_post_from(user: str, secret: str) -> Post:
    """An app_mention from `user`, signed with `secret`."""
    post = slack_post("EvSECRETS1", 7, "1700000042.000100", secret=secret)
    envelope = json.loads(post.body)
    envelope["event"]["user"] = user
    body = json.dumps(envelope).encode()
    stamp = str(int(time.time()))
    headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
               "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""}
    return Post("slack", "EvSECRETS1", body, headers)


def test_no_secret_in_in_process_logs_even_at_debug(planbot: PlanBot, settings: Settings, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with FakeLineApi(SECRETS["LINE_CHANNEL_ACCESS_TOKEN"]).running() as fake_line:
        fake_line.fail("reply", 503)
        fake_line.fail("push", 503)
        app_settings = settings.model_copy(update={
            "database_url": f"sqlite:///{tmp_path / 'caplog.sqlite3'}", "line_api_base_url": fake_line.url,
            "line_channel_secret": SecretStr(SECRETS["LINE_CHANNEL_SECRET"]),
            "line_channel_access_token": SecretStr(SECRETS["LINE_CHANNEL_ACCESS_TOKEN"]),
            "user_hash_salt": SecretStr(SECRETS["PLANBOT_USER_SALT"]),
            "session_secret": SecretStr(SECRETS["PLANBOT_SESSION_SECRET"])})
        event = line_event("CAPLOGEVENT00001", 3)
        event["source"]["userId"] = LINE_USER
        with caplog.at_level(logging.DEBUG), live_app(create_app(
                app_settings, planbot=planbot, channels=[LineChannel(app_settings), ReviewChannel()])) as live:
            post = line_post(event, secret=SECRETS["LINE_CHANNEL_SECRET"])
            assert httpx.post(f"{live.url}/line/webhook", content=post.body, headers=post.headers).status_code == 200
            wait_until(lambda: len(fake_line.of("reply") + fake_line.of("push")) == 1, timeout_s=60)
            httpx.post(f"{live.url}/review/login", data={"name": "x", "password": "y"}, timeout=10)
    text = caplog.text + repr([r.args for r in caplog.records])
    assert "LINE reply failed" in text
    for name, value in SECRETS.items():
        assert value not in text, f"{name} logged"
    assert LINE_USER not in text


API_TOKEN = "website-backend-token-0123456789"


def test_rate_limit_and_length_cap_get_polite_answers(planbot: PlanBot, settings: Settings, tmp_path: Path) -> None:
    # A trusted backend (bearer token) may name its users; their questions are limited per user.
    limited = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'limit.sqlite3'}",
                                          "rate_limit_per_minute": 3, "api_token": SecretStr(API_TOKEN)})
    with live_app(create_app(limited, planbot=planbot, channels=[])) as live:
        def ask(text: str, user: str) -> dict[str, object]:
            response = httpx.post(f"{live.url}/api/ask", json={"question": text, "user_id": user}, timeout=60,
                                  headers={"authorization": f"Bearer {API_TOKEN}"})
            assert response.status_code == 200
            body: dict[str, object] = response.json()
            return body

        answers = [ask("子育ての支援はありますか", "citizen-a") for _ in range(5)]
        assert [a["answer"] == RATE_LIMITED_JA for a in answers] == [False, False, False, True, True]
        assert ask("子育ての支援はありますか", "citizen-b")["answer"] != RATE_LIMITED_JA  # per user
        too_long = ask("除雪" * (limited.max_question_chars + 10), "citizen-c")
        assert too_long["answer"] == invalid_input_text("too_long", "ja", limited.max_question_chars)
        assert too_long["answerable"] is False and too_long["citations"] == []


def test_production_refuses_placeholder_secrets_and_serve_exits_cleanly(tmp_path: Path) -> None:
    base = {"PLANBOT_ENV": "production", "PLANBOT_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError):
        Settings.model_validate(base)
    with pytest.raises(ConfigError):
        Settings.model_validate(base | {"PLANBOT_SESSION_SECRET": "changeme",
                                        "PLANBOT_USER_SALT": SECRETS["PLANBOT_USER_SALT"]})
    strong = Settings.model_validate(base | {"PLANBOT_SESSION_SECRET": SECRETS["PLANBOT_SESSION_SECRET"],
                                             "PLANBOT_USER_SALT": SECRETS["PLANBOT_USER_SALT"]})
    assert strong.environment == "production"
    env = child_env({"PLANBOT_ENV": "production", "PLANBOT_DATA_DIR": str(tmp_path),
                     "PLANBOT_USER_SALT": SECRETS["PLANBOT_USER_SALT"]})
    run = subprocess.run([planbot_executable(), "serve", "--port", "1"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode != 0
    assert "session_secret" in run.stderr and "placeholder" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert SECRETS["PLANBOT_USER_SALT"] not in run.stderr + run.stdout


def test_sign_in_csrf_cookie_is_httponly_samesite_and_secure_when_configured(
        tmp_path: Path, settings: Settings, planbot: PlanBot) -> None:
    for secure in (False, True):
        app_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / f'c{secure}.sqlite3'}",
                                                   "secure_cookies": secure})
        with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as live:
            page = httpx.get(f"{live.url}/review/login", timeout=10)
            cookie = page.headers.get("set-cookie", "").lower()
            assert "planbot_review_login=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
            assert ("secure" in cookie) is secure
