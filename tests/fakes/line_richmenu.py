"""The fake LINE API's rich menus, checked as LINE checks them: the menu object on create and validate, the
image on upload (PNG or JPEG, ≤ 1 MB, exactly the menu's size, once per menu), and no default menu without an
image. State lives here; `FakeLineApi` routes `/v2/bot/richmenu…` and `/v2/bot/user/all/richmenu…` to it."""

from __future__ import annotations

import itertools
import json
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.line_flex import action_problem

MAX_IMAGE_BYTES = 1024 * 1024
MAX_AREAS = 20
MAX_CHAT_BAR = 14
Response = tuple[int, dict[str, Any]]


@dataclass
class StoredMenu:
    """A rich menu the fake holds: the object as created, and its image once uploaded."""

    menu: dict[str, Any]
    image: bytes = b""
    content_type: str = ""


@dataclass
class RichMenus:
    """Every rich menu created, and which one is the default."""

    menus: dict[str, StoredMenu] = field(default_factory=dict)
    default: str | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, content_type: str, raw: bytes) -> Response:
        """One rich-menu request: (status, JSON body)."""
        parts = path.strip("/").split("/")[2:]  # after v2/bot
        with self._lock:
            if parts[:2] == ["user", "all"]:
                return self._default(method, parts[3:])
            return self._menu(method, parts[1:], content_type, raw)

    def _menu(self, method: str, rest: list[str], content_type: str, raw: bytes) -> Response:
        if method == "POST" and rest in ([], ["validate"]):
            try:
                menu = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return 400, {"message": "The request body has 1 error(s)"}
            if problem := menu_problem(menu):
                return 400, {"message": problem}
            if rest == ["validate"]:
                return 200, {}
            menu_id = f"richmenu-{next(self._ids):032x}"
            self.menus[menu_id] = StoredMenu({**menu, "richMenuId": menu_id})
            return 200, {"richMenuId": menu_id}
        if method == "GET" and rest == ["list"]:
            return 200, {"richmenus": [m.menu for m in self.menus.values()]}
        stored = self.menus.get(rest[0]) if rest else None
        if stored is None:
            return 404, {"message": "Not found"}
        if method == "GET" and len(rest) == 1:
            return 200, stored.menu
        if method == "DELETE" and len(rest) == 1:
            del self.menus[rest[0]]
            self.default = None if self.default == rest[0] else self.default
            return 200, {}
        if method == "POST" and rest[1:] == ["content"]:
            return self._upload(stored, content_type, raw)
        return 404, {"message": "Not found"}

    def _upload(self, stored: StoredMenu, content_type: str, raw: bytes) -> Response:
        if stored.image:
            return 400, {"message": "An image has already been uploaded to the richmenu"}
        if content_type not in ("image/png", "image/jpeg") or not raw:
            return 415, {"message": "Unsupported Media Type"}
        if len(raw) > MAX_IMAGE_BYTES:
            return 413, {"message": "Payload Too Large"}
        size = stored.menu["size"]
        if content_type == "image/png" and png_size(raw) != (size["width"], size["height"]):
            return 400, {"message": "Image size must match the rich menu size"}
        stored.image, stored.content_type = raw, content_type
        return 200, {}

    def _default(self, method: str, rest: list[str]) -> Response:
        if method == "GET" and not rest:
            return (200, {"richMenuId": self.default}) if self.default else (404, {"message": "no default"})
        if method == "DELETE" and not rest:
            self.default = None
            return 200, {}
        if method == "POST" and len(rest) == 1:
            stored = self.menus.get(rest[0])
            if stored is None:
                return 404, {"message": "Not found"}
            if not stored.image:
                return 400, {"message": "must upload richmenu image before applying it to user"}
            self.default = rest[0]
            return 200, {}
        return 404, {"message": "Not found"}


def menu_problem(menu: Any) -> str | None:
    """Why LINE would refuse this rich-menu object, or None."""
    if not isinstance(menu, dict):
        return "a rich menu is an object"
    size = menu.get("size") or {}
    width, height = size.get("width"), size.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or not 800 <= width <= 2500 or height < 250 \
            or width / height < 1.45:
        return "size must be 800–2500 wide, at least 250 high, and at least 1.45 times as wide as high"
    if not isinstance(menu.get("selected"), bool):
        return "selected is required"
    if not isinstance(menu.get("name"), str) or not 1 <= len(menu["name"]) <= 300:
        return "name must be 1 to 300 characters"
    if not isinstance(menu.get("chatBarText"), str) or not 1 <= len(menu["chatBarText"]) <= MAX_CHAT_BAR:
        return "chatBarText must be 1 to 14 characters"
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_AREAS:
        return "areas must hold 1 to 20 items"
    for area in areas:
        bounds = area.get("bounds") or {}
        x, y, w, h = (bounds.get(k) for k in ("x", "y", "width", "height"))
        if not (isinstance(x, int) and isinstance(y, int) and isinstance(w, int) and isinstance(h, int)) \
                or min(x, y, w, h) < 0 or x + w > width or y + h > height:
            return "an area lies outside the menu"
        if problem := action_problem(area.get("action"), 20):
            return problem
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if `data` is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
