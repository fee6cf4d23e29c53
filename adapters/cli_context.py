"""Shared by the click command modules: the Settings object of the running command."""

from __future__ import annotations

import click

from bot.errors import PlanBotError
from bot.settings import Settings


def settings_from(ctx: click.Context) -> Settings:
    """Under `planbot` the parent group built the settings; standalone (tests) build them here."""
    if isinstance(ctx.obj, Settings):
        return ctx.obj
    try:
        return Settings()
    except (PlanBotError, ValueError) as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
