"""The dashboard's charts, server-rendered with no JavaScript and every label escaped.

Text is HTML, never SVG text: an SVG scaled down to a phone's width shrank its labels to 4 px. The two
time series draw their marks in an SVG stretched to the plot (`preserveAspectRatio="none"`, strokes that do
not scale), with their axes, legend and labels around it in HTML; bars and the coverage grid are HTML.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from adapters.review.labels import CHANNEL_LABELS, label
from knowledge.tree import PlanTree

PALETTE = {"line": "#06c755", "slack": "#611f69", "api": "#1f6feb", "cli": "#8b949e"}
FALLBACK_COLORS = ("#d29922", "#cf222e", "#0a7ea4", "#6e7781")
SERIES_COLORS = ("#cf222e", "#d29922", "#1f6feb")
#: At most this many dates under a time series, so they stay legible on a phone.
MAX_X_LABELS = 5
STROKE = 'vector-effect="non-scaling-stroke"'


def channel_color(channel: str, position: int = 0) -> str:
    """The colour a channel has in every chart."""
    return PALETTE.get(channel, FALLBACK_COLORS[position % len(FALLBACK_COLORS)])


def _nice_max(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _y_axis(maximum: float, percent: bool) -> str:
    ticks = "".join(f'<span style="bottom:{k * 25}%">{maximum * k / 4 * 100:.0f}%</span>' if percent else
                    f'<span style="bottom:{k * 25}%">{maximum * k / 4:.0f}</span>' for k in range(5))
    return f'<div class="y-axis" aria-hidden="true">{ticks}</div>'


def _grid(slots: int) -> str:
    return "".join(f'<line x1="0" x2="{slots}" y1="{y}" y2="{y}" stroke="#d0d7de" {STROKE}/>'
                   for y in (0, 25, 50, 75, 100))


def _x_axis(days: list[date]) -> str:
    """A few dates under the plot, the last day always among them; the outermost kept inside the plot."""
    every = max(1, -(-len(days) // MAX_X_LABELS))
    spans = []
    for i in range(len(days) - 1, -1, -every):
        left = (i + 0.5) / len(days) * 100
        place = "end" if i == len(days) - 1 and len(days) > 1 else "start" if left < 8 else "middle"
        spans.append(f'<span class="{place}" style="left:{left:.2f}%">{days[i]:%m/%d}</span>')
    return f'<div class="x-axis" aria-hidden="true">{"".join(reversed(spans))}</div>'


def _legend(entries: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><span class="swatch" style="background:{color}"></span>{escape(name)}</li>'
                    for name, color in entries)
    return f'<ul class="legend">{items}</ul>'


def _figure(title: str, y_axis: str, slots: int, marks: list[str], days: list[date], legend: str) -> Markup:
    svg = (f'<svg class="area" viewBox="0 0 {max(slots, 1)} 100" preserveAspectRatio="none" role="img" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>{_grid(slots)}{"".join(marks)}</svg>')
    return Markup(f'<figure class="chart"><div class="plot">{y_axis}{svg}</div>{_x_axis(days)}{legend}'
                  f'</figure>')


def questions_per_day(days: list[date], per_day: dict[str, list[int]]) -> Markup:
    """Stacked bars: questions per day, one colour per channel."""
    totals = [sum(series[i] for series in per_day.values()) for i in range(len(days))]
    maximum = _nice_max(max(totals, default=0) or 1)
    marks = []
    for i, day in enumerate(days):
        top = 100.0
        for position, (channel, series) in enumerate(per_day.items()):
            if not series[i]:
                continue
            height = 100 * series[i] / maximum
            top -= height
            marks.append(f'<rect x="{i + 0.15:.2f}" y="{top:.2f}" width="0.7" height="{height:.2f}" '
                         f'fill="{channel_color(channel, position)}"><title>{day.isoformat()} '
                         f'{escape(label(CHANNEL_LABELS, channel))}: {series[i]}件</title></rect>')
    legend = _legend([(label(CHANNEL_LABELS, c), channel_color(c, p)) for p, c in enumerate(per_day)])
    return _figure("1日あたりの質問数（チャネル別）", _y_axis(maximum, percent=False), len(days), marks, days, legend)


def _line(values: list[float | None], color: str) -> list[str]:
    """The series as polylines, broken where a day has no value; a lone day is a short dash."""
    marks: list[str] = []
    segment: list[tuple[float, float]] = []
    for i, value in enumerate([*values, None]):
        if value is not None:
            segment.append((i + 0.5, 100 - 100 * value))
            continue
        if len(segment) == 1:
            (x, y), = segment
            segment = [(x - 0.3, y), (x + 0.3, y)]
        if segment:
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in segment)
            marks.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" {STROKE} points="{points}"/>')
        segment = []
    return marks


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def rates_per_day(days: list[date], series: dict[str, list[float | None]]) -> Markup:
    """Lines of daily rates (0–100 %); days without answers leave a gap. Hovering a day shows its rates."""
    marks: list[str] = []
    for (_, values), color in zip(series.items(), SERIES_COLORS, strict=False):
        marks += _line(values, color)
    for i, day in enumerate(days):
        shown = "、".join(f"{name} {_percent(values[i])}" for name, values in series.items())
        marks.append(f'<rect x="{i}" y="0" width="1" height="100" fill="transparent">'
                     f'<title>{day.isoformat()} {escape(shown)}</title></rect>')
    legend = _legend([(name, color) for name, color in zip(series, SERIES_COLORS, strict=False)])
    return _figure("回答できなかった割合と👎の割合（日別）", _y_axis(1.0, percent=True), len(days), marks, days,
                   legend)


def horizontal_bars(items: list[tuple[str, str, int]], title: str) -> Markup:
    """Bars for (id, label, count), e.g. the most-cited measures; the label above its bar on a phone."""
    if not items:
        return Markup('<p class="chart">この期間に引用された施策はありません。</p>')
    maximum = max(count for _, _, count in items) or 1
    rows = "".join(
        f'<li><span class="bar-label"><code>{escape(node_id)}</code> {escape(name)}</span>'
        f'<span class="bar"><span class="fill" style="width:{100 * count / maximum:.1f}%"></span>'
        f'<span class="n">{count}</span></span></li>' for node_id, name, count in items)
    return Markup(f'<ol class="chart bars" aria-label="{escape(title)}">{rows}</ol>')


def measure_coverage(tree: PlanTree, counts: dict[str, int]) -> Markup:
    """One cell per measure, one row per policy: darker = cited more; never-cited cells are hatched grey."""
    maximum = max(counts.values(), default=0) or 1
    rows = []
    for policy in tree.of_kind("policy"):
        cells = []
        for measure in tree.children(policy.id):
            count = counts.get(measure.id, 0)
            tip = escape(f"{measure.id} {tree.breadcrumb(measure.id)}: {count}")
            if count == 0:
                cells.append(f'<span class="cell never" role="cell" title="{tip}">0</span>')
            else:
                shade = f"rgba(31,111,235,{0.2 + 0.8 * count / maximum:.2f})"
                cells.append(f'<span class="cell" role="cell" title="{tip}" style="background:{shade}">{count}</span>')
        rows.append(f'<div class="cov-row" role="row"><span class="cov-policy" role="rowheader" '
                    f'title="{escape(tree.breadcrumb(policy.id))}">{escape(policy.id)}</span>{"".join(cells)}</div>')
    title = "施策ごとの引用数（斜線は一度も引用されていない施策）"
    return Markup(f'<div class="chart coverage" role="table" aria-label="{title}">{"".join(rows)}</div>')
