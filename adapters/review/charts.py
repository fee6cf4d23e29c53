"""Server-rendered SVG charts for the dashboard: no JavaScript, every label escaped."""

from __future__ import annotations

import unicodedata
from datetime import date

from markupsafe import Markup, escape

from knowledge.tree import PlanTree

PALETTE = {"line": "#06c755", "slack": "#611f69", "api": "#1f6feb", "cli": "#8b949e"}
FALLBACK_COLORS = ("#d29922", "#cf222e", "#0a7ea4", "#6e7781")
SERIES_COLORS = ("#cf222e", "#d29922", "#1f6feb")
WIDTH = 760
FONT = 'font-family="sans-serif" font-size="11"'


def channel_color(channel: str, position: int = 0) -> str:
    """The colour a channel has in every chart."""
    return PALETTE.get(channel, FALLBACK_COLORS[position % len(FALLBACK_COLORS)])


def _svg(height: int, label: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _x_labels(days: list[date], left: int, slot: float, baseline: int) -> list[str]:
    every = max(1, len(days) // 10)
    return [f'<text x="{left + i * slot + slot / 2:.1f}" y="{baseline + 14}" text-anchor="middle" {FONT}>'
            f'{day:%m/%d}</text>' for i, day in enumerate(days) if i % every == 0]


def _y_grid(top: int, bottom: int, left: int, maximum: float, percent: bool) -> list[str]:
    parts = []
    for k in range(5):
        value = maximum * k / 4
        y = bottom - (bottom - top) * k / 4
        text = f"{value * 100:.0f}%" if percent else f"{value:.0f}"
        parts.append(f'<line x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{text}</text>')
    return parts


def _text_width(text: str) -> int:
    # Wide (CJK) characters take about a full em at font-size 11; narrow ones about half.
    return sum(11 if unicodedata.east_asian_width(ch) in "WF" else 7 for ch in text)


def _legend(entries: list[tuple[str, str]], y: int) -> list[str]:
    parts, x = [], 50
    for name, color in entries:
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{y}" {FONT}>{escape(name)}</text>')
        x += 24 + _text_width(name)
    return parts


def questions_per_day(days: list[date], per_day: dict[str, list[int]]) -> Markup:
    """Stacked bars: questions per day, one colour per channel."""
    top, bottom, left = 20, 190, 50
    totals = [sum(series[i] for series in per_day.values()) for i in range(len(days))]
    maximum = _nice_max(max(totals, default=0) or 1)
    slot = (WIDTH - 10 - left) / max(len(days), 1)
    body = _y_grid(top, bottom, left, maximum, percent=False)
    for i, day in enumerate(days):
        y = float(bottom)
        for position, (channel, series) in enumerate(per_day.items()):
            if not series[i]:
                continue
            height = (bottom - top) * series[i] / maximum
            y -= height
            body.append(f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                        f'height="{height:.1f}" fill="{channel_color(channel, position)}">'
                        f'<title>{day.isoformat()} {escape(channel)}: {series[i]}</title></rect>')
    body += _x_labels(days, left, slot, bottom)
    body += _legend([(c, channel_color(c, p)) for p, c in enumerate(per_day)], bottom + 34)
    return _svg(bottom + 44, "1日あたりの質問数（チャネル別）", body)


def rates_per_day(days: list[date], series: dict[str, list[float | None]]) -> Markup:
    """Lines of daily rates (0–100 %); days without answers leave a gap."""
    top, bottom, left = 20, 190, 50
    slot = (WIDTH - 10 - left) / max(len(days), 1)
    body = _y_grid(top, bottom, left, 1.0, percent=True)
    for (name, values), color in zip(series.items(), SERIES_COLORS, strict=False):
        segment: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(segment) > 1:
                    body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                                f'points="{" ".join(segment)}"/>')
                segment = []
                continue
            x, y = left + i * slot + slot / 2, bottom - (bottom - top) * value
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                        f'<title>{days[i].isoformat()} {escape(name)}: {value * 100:.1f}%</title></circle>')
    body += _x_labels(days, left, slot, bottom)
    body += _legend([(name, color) for name, color in zip(series, SERIES_COLORS, strict=False)], bottom + 34)
    return _svg(bottom + 44, "回答できなかった割合と👎の割合（日別）", body)


def horizontal_bars(items: list[tuple[str, str, int]], label: str) -> Markup:
    """Horizontal bars for (id, label, count), e.g. the most-cited measures."""
    row, left = 24, 330
    maximum = max((count for _, _, count in items), default=0) or 1
    body = []
    for i, (node_id, name, count) in enumerate(items):
        y = 10 + i * row
        width = (WIDTH - left - 60) * count / maximum
        short = name if len(name) <= 24 else name[:23] + "…"
        body.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" {FONT}>'
                    f'{escape(node_id)} {escape(short)}<title>{escape(name)}</title></text>'
                    f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" fill="#1f6feb"/>'
                    f'<text x="{left + width + 4:.1f}" y="{y + 14}" {FONT}>{count}</text>')
    if not items:
        body.append(f'<text x="10" y="24" {FONT}>この期間に引用された施策はありません。</text>')
    return _svg(max(40, 20 + row * len(items)), label, body)


def measure_coverage(tree: PlanTree, counts: dict[str, int]) -> Markup:
    """One cell per measure, one row per policy: darker = cited more; never-cited cells are hatched grey."""
    cell, gap, left, top = 34, 4, 60, 10
    maximum = max(counts.values(), default=0) or 1
    body = ['<defs><pattern id="never" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eaeef2"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#afb8c1" stroke-width="2"/></pattern></defs>']
    policies = tree.of_kind("policy")
    for r, policy in enumerate(policies):
        y = top + r * (cell + gap)
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" {FONT}>'
                    f'{escape(policy.id)}<title>{escape(tree.breadcrumb(policy.id))}</title></text>')
        for c, measure in enumerate(tree.children(policy.id)):
            count = counts.get(measure.id, 0)
            x = left + c * (cell + gap)
            fill = "url(#never)" if count == 0 else f"rgba(31,111,235,{0.2 + 0.8 * count / maximum:.2f})"
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="3" fill="{fill}">'
                        f'<title>{escape(measure.id)} {escape(tree.breadcrumb(measure.id))}: {count}</title></rect>'
                        f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" {FONT}>'
                        f'{count}</text>')
    return _svg(top * 2 + len(policies) * (cell + gap), "施策ごとの引用数（斜線は一度も引用されていない施策）",
                body)
