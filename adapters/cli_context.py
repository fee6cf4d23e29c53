"""Shared by the click command modules: the Settings object of the running command, the progress printer
(knowledge.progress, shared with the eval commands)."""

from __future__ import annotations

import click

from bot.errors import PlanBotError
from bot.settings import Settings, settings_of
from knowledge.progress import ProgressPrinter


def settings_from(ctx: click.Context) -> Settings:
    """Under `planbot` the parent group built the settings; standalone (tests) build them here."""
    try:
        return settings_of(ctx.obj)
    except PlanBotError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


__all__ = ["ProgressPrinter", "settings_from"]
