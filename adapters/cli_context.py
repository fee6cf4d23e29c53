"""Shared by the click command modules: the Settings object of the running command, the progress printer."""

from __future__ import annotations

import sys

import click

from bot.errors import PlanBotError
from bot.settings import Settings, settings_of


def settings_from(ctx: click.Context) -> Settings:
    """Under `planbot` the parent group built the settings; standalone (tests) build them here."""
    try:
        return settings_of(ctx.obj)
    except PlanBotError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


class ProgressPrinter:
    """Progress of long work on stderr: one updating line on a terminal; otherwise whole lines, each tenth
    of the way and at the end (a log or CI output gets lines, not carriage returns)."""

    def __init__(self, terminal: bool | None = None) -> None:
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self._shown: dict[str, int] = {}

    def __call__(self, done: int, total: int, what: str) -> None:
        """Report `done` of `total` for the step `what`."""
        if self.terminal:
            click.echo(f"\r{what}: {done}/{total}", err=True, nl=done >= total)
            return
        tenth = 10 if total <= 0 else min(10, done * 10 // total)
        if self._shown.get(what, -1) >= tenth and done < total:
            return
        if done >= total and self._shown.get(what) == 10:
            return
        self._shown[what] = tenth
        click.echo(f"{what}: {done}/{total}", err=True)
