"""The LINE rich menu: six areas, each sending a question, drawn from their labels with Pillow and applied through
the SDK (`MessagingApi` for the menu, `MessagingApiBlob` for its image on LINE's data host).

`apply_rich_menu` is idempotent: it creates the new menu, uploads its image, makes it the default, and only then
deletes the menus it made before (recognised by name), so users are never left without a menu.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)

from bot.errors import ConfigError, DeliveryError
from bot.settings import Settings

AREAS_FILE = Path(__file__).with_name("richmenu.tsv")
MENU_NAME = "planbot default menu"
CHAT_BAR_TEXT = "メニュー"
WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
TIMEOUT = (3.0, 30.0)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MenuArea:
    """One tappable area: the label drawn on it, the question it sends, its background colour."""

    label: str
    question: str
    colour: str


def load_areas(path: Path = AREAS_FILE) -> list[MenuArea]:
    """The areas from the data file (label, question, colour), in reading order."""
    areas = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) != 3 or not all(fields):
            raise ConfigError(f"{path.name}:{number}: expected label, question, colour separated by tabs")
        areas.append(MenuArea(*fields))
    if len(areas) != COLUMNS * ROWS:
        raise ConfigError(f"{path.name}: the menu has {COLUMNS * ROWS} areas, the file lists {len(areas)}")
    return areas


def find_font(explicit: Path | None = None) -> Path:
    """A font that has Japanese glyphs: `explicit`, else the first installed candidate; a clear error if none."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"font not found: {explicit}")
        return explicit
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise ConfigError("no Japanese font found for the rich-menu image: install fonts-ipafont-gothic "
                      "(apt-get install fonts-ipafont-gothic) or pass --font PATH")


def cell_bounds(index: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of area `index`; the last column and row take the pixels left over."""
    column, row = index % COLUMNS, index // COLUMNS
    x, y = column * (WIDTH // COLUMNS), row * (HEIGHT // ROWS)
    width = WIDTH - x if column == COLUMNS - 1 else WIDTH // COLUMNS
    height = HEIGHT - y if row == ROWS - 1 else HEIGHT // ROWS
    return x, y, width, height


def draw_menu(areas: Sequence[MenuArea], font_path: Path) -> bytes:
    """The menu image as PNG: each area a coloured tile with its label centred in white, all labels one size."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    room = min(cell_bounds(i)[2] for i in range(len(areas))) - 140
    size = 150
    font = ImageFont.truetype(str(font_path), size)
    while size > 60 and max(draw.textlength(a.label, font=font) for a in areas) > room:
        size -= 6
        font = ImageFont.truetype(str(font_path), size)
    for index, area in enumerate(areas):
        x, y, width, height = cell_bounds(index)
        draw.rectangle((x + 6, y + 6, x + width - 7, y + height - 7), fill=area.colour)
        draw.text((x + width / 2, y + height / 2), area.label, font=font, fill="#FFFFFF", anchor="mm",
                  stroke_width=3, stroke_fill="#FFFFFF")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def menu_request(areas: Sequence[MenuArea]) -> RichMenuRequest:
    """The rich-menu object: full size, shown open, one message action per area."""
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT), selected=True, name=MENU_NAME, chatBarText=CHAT_BAR_TEXT,
        areas=[RichMenuArea(bounds=RichMenuBounds(x=x, y=y, width=w, height=h),
                            action=MessageAction(label=area.label[:20], text=area.question))
               for area, (x, y, w, h) in ((a, cell_bounds(i)) for i, a in enumerate(areas))])


@dataclass(frozen=True)
class AppliedMenu:
    """What `apply_rich_menu` did: the new default menu and the earlier ones it deleted."""

    menu_id: str
    replaced: tuple[str, ...]


def apply_rich_menu(settings: Settings, areas: Sequence[MenuArea], image: bytes,
                    report: Callable[[str], None] = lambda _: None) -> AppliedMenu:
    """Create the menu, upload its image, make it the default, then delete the menus made before."""
    token = settings.line_channel_access_token.get_secret_value()
    if not token:
        raise ConfigError("LINE_CHANNEL_ACCESS_TOKEN is not set")
    with ApiClient(_config(settings.line_api_base_url, token)) as api_client, \
            ApiClient(_config(settings.line_data_api_base_url, token)) as blob_client:
        api, blob = MessagingApi(api_client), MessagingApiBlob(blob_client)
        request = menu_request(areas)
        earlier = _call("list", lambda: api.get_rich_menu_list(_request_timeout=TIMEOUT)).richmenus or []
        _call("validate", lambda: api.validate_rich_menu_object(request, _request_timeout=TIMEOUT))
        menu_id = _call("create", lambda: api.create_rich_menu(request, _request_timeout=TIMEOUT)).rich_menu_id
        report(f"created rich menu {menu_id}")
        _call("upload", lambda: blob.set_rich_menu_image(menu_id, body=bytearray(image),
                                                         _headers={"Content-Type": "image/png"},
                                                         _request_timeout=TIMEOUT))
        report(f"uploaded its image ({len(image) // 1024} KB)")
        _call("set default", lambda: api.set_default_rich_menu(menu_id, _request_timeout=TIMEOUT))
        report("set it as the default menu")
        replaced = tuple(m.rich_menu_id for m in earlier if m.name == MENU_NAME and m.rich_menu_id != menu_id)
        for old in replaced:
            _delete(api, old)
            report(f"deleted the earlier menu {old}")
    return AppliedMenu(menu_id, replaced)


def _delete(api: MessagingApi, menu_id: str) -> None:
    _call("delete", lambda: api.delete_rich_menu(menu_id, _request_timeout=TIMEOUT))


def _config(host: str, token: str) -> Configuration:
    config = Configuration(host=host.rstrip("/"), access_token=token)
    config.retries = 0
    return config


def _call(what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ApiException as exc:
        raise DeliveryError(f"LINE rich menu {what} answered {exc.status}: {exc.body}", retryable=False) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise DeliveryError(f"LINE rich menu {what}: {type(exc).__name__}", retryable=True) from exc
