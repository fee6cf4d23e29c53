"""A faithful HTML preview of LINE messages as sent (text messages, Flex bubbles, quick replies) on a 390 px
phone screen, for the README's screenshots and for reviewers. Pure: JSON in, HTML out; it runs no script.

The Flex layout follows LINE's rules for what the bot uses: boxes (vertical, horizontal, baseline) with their
spacing and padding, texts with LINE's size keywords, colours, weight and wrap, buttons by style and height,
a mega bubble 300 px wide with rounded corners, quick replies as chips under the last message.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

SIZES = {"xxs": 11, "xs": 13, "sm": 14, "md": 16, "lg": 19, "xl": 22, "xxl": 29, "3xl": 35, "4xl": 48, "5xl": 74}
SPACING = {"none": 0, "xs": 2, "sm": 4, "md": 8, "lg": 12, "xl": 16, "xxl": 20}
BUTTON = {"primary": ("#17C950", "#FFFFFF"), "secondary": ("#DCDFE5", "#111111"), "link": ("transparent", "#42659A")}
BUBBLE_WIDTH = {"nano": 120, "micro": 160, "kilo": 260, "mega": 300, "giga": 386}
PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=390">
<style>
body{{margin:0;background:#8CABD8;font-family:"IPAPGothic","IPAGothic","Noto Sans CJK JP",sans-serif;width:390px}}
.chat{{padding:16px 12px 12px;display:flex;flex-direction:column;gap:10px}}
.me{{align-self:flex-end;background:#8DE055;border-radius:16px;padding:9px 13px;max-width:260px;font-size:15px;
white-space:pre-wrap;overflow-wrap:anywhere}}
.bot{{align-self:flex-start;display:flex;gap:8px;align-items:flex-start}}
.icon{{width:34px;height:34px;border-radius:50%;background:#1F4E79;color:#fff;font-size:12px;display:flex;
align-items:center;justify-content:center;flex:none}}
.text{{background:#fff;border-radius:16px;padding:9px 13px;max-width:270px;font-size:15px;white-space:pre-wrap;
overflow-wrap:anywhere}}
.bubble{{background:#fff;border-radius:17px;overflow:hidden;display:flex;flex-direction:column}}
.quick{{display:flex;gap:6px;overflow:hidden;padding:8px 0 4px;flex-wrap:nowrap}}
.chip{{flex:none;border:1px solid #3C6FD8;color:#3C6FD8;background:#fff;border-radius:16px;padding:6px 11px;
font-size:13px;white-space:nowrap}}
</style></head><body><div class="chat">{body}</div></body></html>"""


def preview_html(asked: str, messages: Sequence[dict[str, Any]]) -> str:
    """The page: the citizen's message, then the bot's messages as LINE shows them."""
    parts = [f'<div class="me">{html.escape(asked)}</div>'] if asked else []
    for message in messages:
        if message.get("type") == "flex":
            inner = _container(message.get("contents") or {})
        else:
            inner = f'<div class="text">{html.escape(str(message.get("text", "")))}</div>'
        parts.append(f'<div class="bot"><div class="icon">市</div>{inner}</div>')
    items = (messages[-1].get("quickReply") or {}).get("items", []) if messages else []
    if items:
        chips = "".join(f'<span class="chip">{html.escape(str(i["action"].get("label", "")))}</span>' for i in items)
        parts.append(f'<div class="quick">{chips}</div>')
    return PAGE.format(body="".join(parts))


def _container(bubble: dict[str, Any]) -> str:
    width = BUBBLE_WIDTH.get(str(bubble.get("size", "mega")), 300)
    blocks = []
    for name, padding in (("header", 20), ("hero", 0), ("body", 20), ("footer", 10)):
        block = bubble.get(name)
        if isinstance(block, dict):
            blocks.append(_component(block, "vertical", default_padding=padding))
    return f'<div class="bubble" style="width:{width}px">{"".join(blocks)}</div>'


def _px(value: Any, table: dict[str, int], default: int = 0) -> int:
    if isinstance(value, str) and value.endswith("px"):
        return int(float(value[:-2]))
    return table.get(str(value), default) if value is not None else default


def _flex_style(component: dict[str, Any], parent: str) -> str:
    grow = component.get("flex")
    if grow is None:
        grow = 1 if parent in ("horizontal", "baseline") and component.get("type") != "filler" else 0
    return f"flex:{grow} {grow} {'0' if grow else 'auto'};min-width:0;"


def _component(component: dict[str, Any], parent: str, default_padding: int = 0) -> str:
    kind = component.get("type")
    if kind == "box":
        return _box(component, parent, default_padding)
    if kind == "text":
        return _text(component, parent)
    if kind == "button":
        return _button(component, parent)
    if kind == "separator":
        return f'<div style="border-top:1px solid {component.get("color", "#E0E0E0")}"></div>'
    if kind == "filler":
        return f'<div style="{_flex_style(component, parent)}"></div>'
    return ""


def _box(box: dict[str, Any], parent: str, default_padding: int) -> str:
    layout = str(box.get("layout", "vertical"))
    gap = _px(box.get("spacing"), SPACING)
    padding = _px(box.get("paddingAll"), SPACING, default_padding)
    direction = "column" if layout == "vertical" else "row"
    align = "align-items:baseline;" if layout == "baseline" else ""
    style = (f"display:flex;flex-direction:{direction};{align}gap:{gap}px;padding:{padding}px;"
             f"background:{box.get('backgroundColor', 'transparent')};border-radius:{box.get('cornerRadius', '0')};"
             f"{_flex_style(box, parent)}"
             f"margin-top:{_px(box.get('margin'), SPACING)}px")
    inner = "".join(_component(c, layout) for c in box.get("contents") or [])
    return f'<div style="{style}">{inner}</div>'


def _text(text: dict[str, Any], parent: str) -> str:
    size = _px(text.get("size"), SIZES, 16)
    weight = "bold" if text.get("weight") == "bold" else "normal"
    wrap = "pre-wrap" if text.get("wrap") else "nowrap"
    style = (f"font-size:{size}px;line-height:1.4;color:{text.get('color', '#111111')};font-weight:{weight};"
             f"white-space:{wrap};overflow:hidden;text-overflow:ellipsis;overflow-wrap:anywhere;"
             f"{_flex_style(text, parent)}")
    return f'<div style="{style}">{html.escape(str(text.get("text", "")))}</div>'


def _button(button: dict[str, Any], parent: str) -> str:
    background, colour = BUTTON.get(str(button.get("style", "link")), BUTTON["link"])
    height = 40 if button.get("height") == "sm" else 52
    label = html.escape(str((button.get("action") or {}).get("label", "")))
    style = (f"height:{height}px;border-radius:8px;background:{background};color:{colour};display:flex;"
             f"align-items:center;justify-content:center;font-size:15px;padding:0 8px;white-space:nowrap;"
             f"overflow:hidden;text-overflow:ellipsis;{_flex_style(button, parent)}")
    return f'<div style="{style}">{label}</div>'
