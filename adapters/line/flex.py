"""Flex bubbles for LINE, as plain JSON built by pure functions, and their check before sending.

Every bubble is validated with the SDK's own model (`FlexMessage.from_dict`) and must come back from it unchanged
(the SDK drops properties it does not know, which LINE would refuse), within LINE's limits: altText 1–400
characters, the container ≤ 30 KB, no empty text, button labels ≤ 40, postback data ≤ 300.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from linebot.v3.messaging import FlexMessage

Component = dict[str, Any]
MAX_ALT_TEXT = 400
MAX_CONTAINER_BYTES = 30 * 1024
MAX_BUTTON_LABEL = 40
MAX_DATA = 300
HEADER_COLOUR = "#1F4E79"
MUTED = "#8A8A8A"
BODY_TEXT = "#333333"


class FlexError(ValueError):
    """A bubble LINE would refuse."""


def text(value: str, size: str = "sm", colour: str = BODY_TEXT, bold: bool = False) -> Component:
    """A wrapping text component."""
    component: Component = {"type": "text", "text": value, "size": size, "color": colour, "wrap": True}
    if bold:
        component["weight"] = "bold"
    return component


def button(action: Component, style: str = "secondary") -> Component:
    """A small button; `style` is primary, secondary or link."""
    return {"type": "button", "action": action, "style": style, "height": "sm"}


def postback(label: str, data: str, display: str) -> Component:
    """A postback action: LINE sends `data` to the bot and shows `display` as the user's message."""
    return {"type": "postback", "label": label, "data": data, "displayText": display}


def message(label: str, sent: str) -> Component:
    """A message action: tapping sends `sent` as the user's message."""
    return {"type": "message", "label": label, "text": sent}


def uri(label: str, target: str) -> Component:
    """A URI action (https:// or tel:)."""
    return {"type": "uri", "label": label, "uri": target}


def choice(value: str, action: Component) -> Component:
    """A tappable row whose text wraps (a button's label would be cut at one line): an option or a topic."""
    return {"type": "box", "layout": "vertical", "backgroundColor": "#EEF2F7", "cornerRadius": "8px",
            "paddingAll": "10px", "action": action,
            "contents": [{"type": "text", "text": value, "size": "sm", "color": "#1F4E79", "wrap": True}]}


def point_row(value: str) -> Component:
    """One bullet point: a dot and its wrapping text, aligned on the first line."""
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": "・", "size": "sm", "color": MUTED, "flex": 0},
        {"type": "text", "text": value, "size": "sm", "color": BODY_TEXT, "wrap": True, "flex": 1}]}


def bubble(header: str, body: Sequence[Component], footer: Sequence[Component]) -> Component:
    """A bubble: a coloured header line (left out when empty), the body, and a footer (left out when empty)."""
    shown: Component = {"type": "bubble", "size": "mega"}
    if header:
        shown["header"] = {"type": "box", "layout": "vertical", "backgroundColor": HEADER_COLOUR,
                           "paddingAll": "12px", "contents": [text(header, "md", "#FFFFFF", bold=True)]}
    shown["body"] = {"type": "box", "layout": "vertical", "spacing": "md", "contents": list(body)}
    if footer:
        shown["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": list(footer)}
    return shown


def row(buttons: Sequence[Component]) -> Component:
    """Buttons side by side."""
    return {"type": "box", "layout": "horizontal", "spacing": "sm", "contents": list(buttons)}


def validated(alt_text: str, contents: Component) -> FlexMessage:
    """The SDK message for this bubble, or FlexError saying why LINE would refuse it."""
    if not 1 <= len(alt_text) <= MAX_ALT_TEXT:
        raise FlexError(f"altText must be 1 to {MAX_ALT_TEXT} characters, got {len(alt_text)}")
    size = len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_CONTAINER_BYTES:
        raise FlexError(f"the bubble is {size} bytes, over {MAX_CONTAINER_BYTES}")
    for component in walk(contents):
        if component.get("type") == "text" and not component.get("text") and not component.get("contents"):
            raise FlexError("a text component is empty")
        action = component.get("action")
        if isinstance(action, dict):
            if not 1 <= len(str(action.get("label", ""))) <= MAX_BUTTON_LABEL:
                raise FlexError(f"button label must be 1 to {MAX_BUTTON_LABEL} characters: {action.get('label')!r}")
            if action.get("type") == "postback" and not 1 <= len(str(action.get("data", ""))) <= MAX_DATA:
                raise FlexError("postback data must be 1 to 300 characters")
    try:
        sdk = FlexMessage.from_dict({"type": "flex", "altText": alt_text, "contents": contents})
    except (ValueError, TypeError) as exc:
        raise FlexError(f"the SDK refuses the bubble: {exc}") from exc
    if sdk is None or sdk.to_dict().get("contents") != contents:
        raise FlexError("the bubble holds a property the SDK (and LINE) does not know")
    return sdk


def walk(component: Any) -> Iterable[Component]:
    if isinstance(component, dict):
        yield component
        for key in ("header", "hero", "body", "footer", "contents"):
            value = component.get(key)
            if isinstance(value, dict):
                yield from walk(value)
            elif isinstance(value, list):
                for child in value:
                    yield from walk(child)


def visible_texts(messages: Sequence[dict[str, Any]]) -> list[str]:
    """Every text a user sees in these messages as LINE sent them: texts, Flex texts and button labels,
    quick-reply labels (a bubble's altText shows only in notifications, so it is not counted)."""
    seen: list[str] = []
    for sent in messages:
        if sent.get("type") == "text":
            seen.append(str(sent.get("text", "")))
        for component in walk(sent.get("contents")) if sent.get("type") == "flex" else ():
            if component.get("type") in ("text", "span") and component.get("text"):
                seen.append(str(component["text"]))
            action = component.get("action")
            if component.get("type") == "button" and isinstance(action, dict):
                seen.append(str(action.get("label", "")))
        for item in (sent.get("quickReply") or {}).get("items", []):
            seen.append(str((item.get("action") or {}).get("label", "")))
    return [s for s in seen if s]
