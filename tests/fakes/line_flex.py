"""Flex Message checks as the LINE Messaging API makes them (independent of the SDK the adapter uses).

LINE answers 400 for a Flex message with an unknown component or property, an empty text, an `altText` that is
empty or longer than 400 characters, a container over 30 KB, a button label over 40 characters, postback data
over 300, or a URI action whose scheme is not http, https, line or tel. These are the rules the fake enforces.
"""

from __future__ import annotations

import json
from typing import Any

MAX_ALT_TEXT = 400
MAX_CONTAINER_BYTES = 30 * 1024
MAX_BUTTON_LABEL = 40
MAX_DATA = 300
MAX_ACTION_TEXT = 300
SIZES = {"xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl"}
_POSITIONING = {"margin", "position", "offsetTop", "offsetBottom", "offsetStart", "offsetEnd", "flex"}
KEYS: dict[str, set[str]] = {
    "bubble": {"type", "direction", "styles", "header", "hero", "body", "footer", "size", "action"},
    "carousel": {"type", "contents"},
    "box": {"type", "layout", "contents", "spacing", "backgroundColor", "borderColor", "borderWidth",
            "cornerRadius", "width", "maxWidth", "height", "maxHeight", "paddingAll", "paddingTop",
            "paddingBottom", "paddingStart", "paddingEnd", "action", "justifyContent", "alignItems",
            "background", *_POSITIONING},
    "text": {"type", "text", "contents", "size", "align", "gravity", "color", "weight", "style", "decoration",
             "wrap", "lineSpacing", "action", "maxLines", "adjustMode", "scaling", *_POSITIONING},
    "span": {"type", "text", "size", "color", "weight", "style", "decoration"},
    "button": {"type", "action", "style", "color", "gravity", "height", "adjustMode", "scaling", *_POSITIONING},
    "separator": {"type", "margin", "color"},
    "filler": {"type", "flex"},
    "icon": {"type", "url", "size", "aspectRatio", "scaling", *_POSITIONING},
    "image": {"type", "url", "size", "aspectRatio", "aspectMode", "backgroundColor", "align", "gravity",
              "action", "animated", *_POSITIONING},
}
ACTION_KEYS = {"postback": {"type", "label", "data", "displayText", "text", "inputOption", "fillInText"},
               "message": {"type", "label", "text"},
               "uri": {"type", "label", "uri", "altUri"}}
URI_SCHEMES = ("http://", "https://", "line://", "tel:")


def flex_problem(message: dict[str, Any]) -> str | None:
    """Why LINE would refuse this Flex message, or None when it would take it."""
    alt = message.get("altText")
    if not isinstance(alt, str) or not 1 <= len(alt) <= MAX_ALT_TEXT:
        return "altText must be 1 to 400 characters"
    contents = message.get("contents")
    if not isinstance(contents, dict):
        return "contents must be a bubble or a carousel"
    if len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode()) > MAX_CONTAINER_BYTES:
        return "the flex container is larger than 30 KB"
    if contents.get("type") == "carousel":
        bubbles = contents.get("contents")
        if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= 12:
            return "a carousel holds 1 to 12 bubbles"
        return next((p for b in bubbles if (p := _bubble_problem(b))), None)
    return _bubble_problem(contents)


def _bubble_problem(bubble: Any) -> str | None:
    if not isinstance(bubble, dict) or bubble.get("type") != "bubble":
        return "contents must be a bubble"
    if problem := _unknown_keys(bubble, KEYS["bubble"]):
        return problem
    blocks = [bubble[name] for name in ("header", "hero", "body", "footer") if name in bubble]
    if not blocks:
        return "a bubble needs a header, hero, body or footer"
    return next((p for block in blocks if (p := _component_problem(block, top=True))), None)


def _component_problem(component: Any, top: bool = False) -> str | None:
    if not isinstance(component, dict) or component.get("type") not in KEYS:
        return f"unknown flex component {component.get('type') if isinstance(component, dict) else component!r}"
    kind = component["type"]
    if kind in ("bubble", "carousel", "span") or (top and kind not in ("box", "image")):
        return f"a {kind} cannot stand here"
    if problem := _unknown_keys(component, KEYS[kind]):
        return problem
    if "size" in component and kind in ("text", "span") and not _size_ok(component["size"]):
        return f"invalid size {component['size']!r}"
    if "action" in component and (problem := action_problem(component["action"], MAX_BUTTON_LABEL)):
        return problem
    if kind == "box":
        return _box_problem(component)
    if kind == "text":
        return _text_problem(component)
    if kind == "button" and "action" not in component:
        return "a button needs an action"
    if kind in ("image", "icon") and not str(component.get("url", "")).startswith("https://"):
        return "an image url must be https"
    return None


def _box_problem(box: dict[str, Any]) -> str | None:
    if box.get("layout") not in ("horizontal", "vertical", "baseline"):
        return "a box needs layout horizontal, vertical or baseline"
    contents = box.get("contents")
    if not isinstance(contents, list):
        return "a box needs contents"
    return next((p for c in contents if (p := _component_problem(c))), None)


def _text_problem(text: dict[str, Any]) -> str | None:
    spans = text.get("contents")
    if spans:
        if not isinstance(spans, list) or any(not isinstance(s, dict) or s.get("type") != "span" for s in spans):
            return "text contents must be spans"
        if any(not str(s.get("text", "")) or _unknown_keys(s, KEYS["span"]) for s in spans):
            return "a span needs text and known properties"
        return None
    if not isinstance(text.get("text"), str) or not text["text"]:
        return "a text needs a non-empty text"
    return None


def action_problem(action: Any, max_label: int) -> str | None:
    """Why LINE would refuse an action (of a button, a quick reply or a rich-menu area), or None."""
    if not isinstance(action, dict) or action.get("type") not in ACTION_KEYS:
        return "unknown action type"
    if problem := _unknown_keys(action, ACTION_KEYS[action["type"]]):
        return problem
    label = action.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > max_label):
        return f"action label longer than {max_label}"
    kind = action["type"]
    if kind == "postback" and not 1 <= len(str(action.get("data", ""))) <= MAX_DATA:
        return "postback data must be 1 to 300 characters"
    if kind == "postback" and len(str(action.get("displayText", ""))) > MAX_ACTION_TEXT:
        return "displayText longer than 300"
    if kind == "message" and not 1 <= len(str(action.get("text", ""))) <= MAX_ACTION_TEXT:
        return "message text must be 1 to 300 characters"
    if kind == "uri" and not str(action.get("uri", "")).startswith(URI_SCHEMES):
        return "uri must be http, https, line or tel"
    return None


def _size_ok(size: Any) -> bool:
    return isinstance(size, str) and (size in SIZES or (size.endswith("px") and size[:-2].replace(".", "").isdigit()))


def _unknown_keys(component: dict[str, Any], allowed: set[str]) -> str | None:
    unknown = sorted(set(component) - allowed)
    return f"the property '{unknown[0]}' is invalid" if unknown else None
