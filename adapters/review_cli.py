"""Operator commands for the review page: `planbot reviewer add NAME` and `planbot purge`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from adapters.cli_context import settings_from
from bot.errors import PlanBotError
from bot.settings import Settings

if TYPE_CHECKING:  # the database stack (SQLAlchemy, Alembic) loads only for the commands that use it
    from bot.store.db import Database


def _database(settings: Settings) -> Database:
    from bot.store.db import open_database

    try:
        return open_database(settings)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc


def _read_password() -> str:
    if sys.stdin.isatty():
        value: str = click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
        return value
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@click.group("reviewer")
def reviewer_group() -> None:
    """Reviewer accounts of the review page (/review)."""


@reviewer_group.command("add")
@click.argument("name")
@click.pass_context
def reviewer_add(ctx: click.Context, name: str) -> None:
    """Add reviewer NAME (or reset their password). The password is read from stdin, never an argument."""
    from bot.store.reviewers import ReviewerError, ReviewerStore, check_name

    try:
        check_name(name)
    except ReviewerError as exc:
        raise click.ClickException(str(exc)) from exc
    password = _read_password()
    database = _database(settings_from(ctx))
    try:
        ReviewerStore(database).add(name, password)
    except ReviewerError as exc:
        raise click.ClickException(str(exc)) from exc
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(f"reviewer {name} can sign in at /review/login")


@reviewer_group.command("disable")
@click.argument("name")
@click.pass_context
def reviewer_disable(ctx: click.Context, name: str) -> None:
    """Stop reviewer NAME from signing in (their open sessions end too)."""
    from bot.store.reviewers import ReviewerStore

    database = _database(settings_from(ctx))
    try:
        changed = ReviewerStore(database).deactivate(name)
    finally:
        database.dispose()
    if not changed:
        raise click.ClickException(f"no active reviewer named {name}")
    click.echo(f"reviewer {name} disabled")


@click.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Delete answers older than this many days. Default: PLANBOT_RETENTION_DAYS (365).")
@click.pass_context
def purge_command(ctx: click.Context, days: int | None) -> None:
    """Delete logged answers (with their feedback) and finished webhook events older than the retention,
    and the 基本計画 document versions other than the current one."""
    from bot.store.answer_log import AnswerLog

    settings = settings_from(ctx)
    keep = days if days is not None else settings.retention_days
    database = _database(settings)
    try:
        removed = AnswerLog(database).purge_older_than(keep)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(f"purged {removed} answers older than {keep} days")
    from adapters.cli_index import purge_versions_command

    purge_versions_command(settings)
