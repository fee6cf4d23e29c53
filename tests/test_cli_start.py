"""What an operator sees at start: usage for an empty `ask`, which channels are on and why, progress lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from adapters.app import channel_report
from adapters.cli import main
from adapters.cli_context import ProgressPrinter
from bot.settings import Settings


def test_ask_with_empty_stdin_prints_usage_and_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ask"], input="", env={"PLANBOT_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "Usage:" in result.output and "no question" in result.output
    assert not (tmp_path / "chroma").exists()  # refused before loading anything


def test_channel_report_says_what_is_on_and_why(tmp_path: Path) -> None:
    partial = Settings(PLANBOT_DATA_DIR=tmp_path, LINE_CHANNEL_SECRET="s3cret-line")
    lines = channel_report(partial, "all")
    assert "LINE (/line/webhook): off (LINE_CHANNEL_ACCESS_TOKEN is not set)" in lines
    assert "Slack (/slack/events): off (SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are not set)" in lines
    assert any(line.startswith("answering: on in this process") for line in lines)
    full = partial.model_copy(update={"line_channel_access_token": SecretStr("t"),
                                      "slack_signing_secret": SecretStr("s"), "slack_bot_token": SecretStr("b"),
                                      "api_token": SecretStr("api-token-xxxxxxxxxxxx")})
    lines = channel_report(full, "web")
    assert {"LINE (/line/webhook): on", "Slack (/slack/events): on",
            "Slack Socket Mode: off (no SLACK_APP_TOKEN)"} <= set(lines)
    assert any("--web-only" in line and "at start (PLANBOT_API_TOKEN is set)" in line for line in lines)
    assert not any("s3cret" in line or "api-token" in line for line in lines)  # never a secret


def test_progress_is_whole_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ProgressPrinter(terminal=False)
    for done in range(0, 222):
        progress(done, 221, "extractive")
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines[0] == "extractive: 0/221" and lines[-1] == "extractive: 221/221"
    assert len(lines) == 11  # each tenth of the way, not 222 lines


def test_progress_updates_one_line_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ProgressPrinter(terminal=True)
    for done in (16, 32, 82):
        progress(done, 82, "embedding plan nodes")
    err = capsys.readouterr().err
    assert err == "\rembedding plan nodes: 16/82\rembedding plan nodes: 32/82\rembedding plan nodes: 82/82\n"
