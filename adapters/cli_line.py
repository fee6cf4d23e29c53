"""`planbot line …`: operator commands for the LINE channel."""

from __future__ import annotations

from pathlib import Path

import click

from bot.errors import PlanBotError
from bot.settings import Settings


@click.group(name="line")
def line_group() -> None:
    """The LINE channel: its rich menu."""


@line_group.command(name="richmenu")
@click.option("--apply", "apply_menu", is_flag=True,
              help="Create the menu on LINE, upload its image, make it the default and delete the one made before.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also save the menu image (PNG) here.")
@click.option("--font", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A font with Japanese glyphs (default: IPAGothic or Noto Sans CJK where installed).")
@click.pass_obj
def richmenu_command(settings: Settings, apply_menu: bool, out: Path | None, font: Path | None) -> None:
    """Draw the default rich menu (6 areas from adapters/line/richmenu.tsv); with --apply, set it on LINE."""
    from adapters.line.richmenu import apply_rich_menu, draw_menu, find_font, load_areas

    try:
        areas = load_areas()
        image = draw_menu(areas, find_font(font))
        for area in areas:
            click.echo(f"{area.label}: sends 「{area.question}」")
        if out is not None:
            out.write_bytes(image)
            click.echo(f"image written to {out} ({len(image) // 1024} KB)")
        if not apply_menu:
            click.echo("dry run: add --apply to set it on LINE")
            return
        applied = apply_rich_menu(settings, areas, image, report=click.echo)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    replaced = f", replacing {len(applied.replaced)}" if applied.replaced else ""
    click.echo(f"rich menu {applied.menu_id} is the default{replaced}")
