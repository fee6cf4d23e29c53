"""What the review page reads: the filtered answer list, its CSV export, and the dashboard figures.

Dates are calendar days in Japan time (the communications team works in JST); the log stores UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, func, or_, select

from bot.store.db import Database
from bot.store.models import AnswerRecord
from knowledge.tree import PlanTree

JST = timezone(timedelta(hours=9), "JST")
CHANNELS = ("line", "slack", "api", "cli")
STATUSES = ("unreviewed", "reviewed", "flagged", "no_action")
SORTS = ("new", "old", "down")
PER_PAGE = 50
MAX_PAGE = 10_000


@dataclass(frozen=True)
class ReviewFilters:
    """The list's filters, as read from the query string. Unknown or malformed values are ignored.

    API traffic (tests, the website's backend) is left out unless `with_api` or `channel=api` asks for it.
    """

    channel: str | None = None
    with_api: bool = False
    date_from: date | None = None
    date_to: date | None = None
    answerable: bool | None = None
    thumbs_down: bool = False
    status: str | None = None
    q: str = ""
    corrected: bool = False
    sort: str = "new"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ReviewFilters:
        """Parse `?channel=line&api=1&from=2025-01-01&to=…&answerable=no&down=1&status=unreviewed&q=…
        &corrected=1&sort=down&page=2`."""
        channel = params.get("channel") or None
        status = params.get("status") or None
        answerable = {"yes": True, "no": False}.get(params.get("answerable", ""))
        return cls(
            channel=channel if channel in CHANNELS else None,
            with_api=_flag(params.get("api")),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            answerable=answerable,
            thumbs_down=_flag(params.get("down")),
            status=status if status in STATUSES else None,
            q=(params.get("q") or "").strip()[:200],
            corrected=_flag(params.get("corrected")),
            sort=str(params.get("sort")) if params.get("sort") in SORTS else "new",
            page=min(max(_int(params.get("page"), 1), 1), MAX_PAGE),
        )

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as query parameters (for paging links and the CSV link); defaults left out."""
        params: dict[str, str] = {}
        if self.channel:
            params["channel"] = self.channel
        if self.with_api:
            params["api"] = "1"
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        if self.answerable is not None:
            params["answerable"] = "yes" if self.answerable else "no"
        if self.thumbs_down:
            params["down"] = "1"
        if self.status:
            params["status"] = self.status
        if self.q:
            params["q"] = self.q
        if self.corrected:
            params["corrected"] = "1"
        if self.sort != "new":
            params["sort"] = self.sort
        chosen = self.page if page is None else page
        if chosen > 1:
            params["page"] = str(chosen)
        return params


@dataclass(frozen=True)
class AnswerPage:
    """One page of the filtered list."""

    rows: list[AnswerRecord]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _flag(value: str | None) -> bool:
    return value in ("1", "on", "true")


def parse_date(value: str | None) -> date | None:
    """`2025-01-31` → a date; anything else → None."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def jst_day_start(day: date) -> datetime:
    """00:00 JST of `day`, as an aware UTC datetime."""
    return datetime.combine(day, time.min, JST).astimezone(UTC)


def to_jst(moment: datetime) -> datetime:
    """A stored (UTC) time in Japan time."""
    return moment.astimezone(JST)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(filters: ReviewFilters) -> Select[AnswerRecord]:
    stmt = select(AnswerRecord)
    if filters.channel:
        stmt = stmt.where(AnswerRecord.channel == filters.channel)
    elif not filters.with_api:
        stmt = stmt.where(AnswerRecord.channel != "api")
    if filters.date_from:
        stmt = stmt.where(AnswerRecord.created_at >= jst_day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AnswerRecord.created_at < jst_day_start(filters.date_to + timedelta(days=1)))
    if filters.answerable is not None:
        stmt = stmt.where(AnswerRecord.answerable.is_(filters.answerable))
    if filters.thumbs_down:
        stmt = stmt.where(AnswerRecord.feedback_down > 0)
    if filters.status:
        stmt = stmt.where(AnswerRecord.review_status == filters.status)
    if filters.corrected:
        stmt = stmt.where(AnswerRecord.corrected_answer.is_not(None))
    if filters.q:
        pattern = _like(filters.q)
        stmt = stmt.where(or_(AnswerRecord.question.ilike(pattern, escape="\\"),
                              AnswerRecord.answer_text.ilike(pattern, escape="\\")))
    return stmt


def list_answers(database: Database, filters: ReviewFilters) -> AnswerPage:
    """The filtered answers, newest first, one page of them, with the total count."""
    stmt = filtered(filters)
    with database.session() as session:
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        page = min(filters.page, max(1, -(-total // filters.per_page)))
        rows = list(session.scalars(stmt.order_by(*_order(filters.sort))
                                    .offset((page - 1) * filters.per_page).limit(filters.per_page)))
    return AnswerPage(rows, total, page, filters.per_page)


def _order(sort: str) -> tuple[Any, ...]:
    if sort == "old":
        return AnswerRecord.created_at.asc(), AnswerRecord.id.asc()
    if sort == "down":
        return AnswerRecord.feedback_down.desc(), AnswerRecord.created_at.desc(), AnswerRecord.id.desc()
    return AnswerRecord.created_at.desc(), AnswerRecord.id.desc()


#: The dashboard counts people's questions: API traffic (tests, the website's backend) only when asked for.
DASHBOARD_DEFAULT_CHANNELS = tuple(c for c in CHANNELS if c != "api")


@dataclass
class Trend:
    """Questions, refusals and 👎 in one week or month."""

    period: str
    total: int = 0
    refused: int = 0
    down: int = 0

    @property
    def refused_rate(self) -> float | None:
        """Share of refusals (clarify, not in plan, out of scope…)."""
        return self.refused / self.total if self.total else None

    @property
    def down_rate(self) -> float | None:
        """Share of answers with a 👎."""
        return self.down / self.total if self.total else None


def parse_channels(values: list[str]) -> tuple[str, ...]:
    """`?channel=line&channel=slack` → the known channels asked for; none → everything but API."""
    chosen = tuple(c for c in CHANNELS if c in values)
    return chosen or DASHBOARD_DEFAULT_CHANNELS


def _add_trend(trends: dict[str, Trend], key: str, period: str, answerable: bool, down: int | None) -> None:
    trend = trends.setdefault(key, Trend(period))
    trend.total += 1
    trend.refused += 0 if answerable else 1
    trend.down += 1 if (down or 0) > 0 else 0


@dataclass(frozen=True)
class Dashboard:
    """Figures over a range of days (JST), for the charts and tables of the dashboard."""

    days: list[date]
    per_day: dict[str, list[int]]
    total: int
    unanswerable: int
    thumbs_down: int
    unanswerable_by_day: list[float | None]
    thumbs_down_by_day: list[float | None]
    measure_counts: dict[str, int] = field(default_factory=dict)
    never_asked: list[str] = field(default_factory=list)
    weekly: list[Trend] = field(default_factory=list)
    monthly: list[Trend] = field(default_factory=list)
    channels: tuple[str, ...] = ()

    @property
    def unanswerable_rate(self) -> float | None:
        """Share of answers that were refusals (None without answers)."""
        return self.unanswerable / self.total if self.total else None

    @property
    def thumbs_down_rate(self) -> float | None:
        """Share of answers with at least one 👎 (None without answers)."""
        return self.thumbs_down / self.total if self.total else None

    def top_measures(self, limit: int = 10) -> list[tuple[str, int]]:
        """The most-cited measures, most first (ties in plan order)."""
        cited = [(mid, n) for mid, n in self.measure_counts.items() if n > 0]
        return sorted(cited, key=lambda item: -item[1])[:limit]


def dashboard(database: Database, tree: PlanTree, first: date, last: date,
              channels: tuple[str, ...] = DASHBOARD_DEFAULT_CHANNELS) -> Dashboard:
    """Questions per day and channel, refusal and 👎 rates, measure citations, weekly and monthly trends,
    between two JST days, for the chosen channels (by default everything but API traffic)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    per_day: dict[str, list[int]] = {}
    refused, downed, totals = [0] * len(days), [0] * len(days), [0] * len(days)
    measures = Counter({node.id: 0 for node in tree.of_kind("measure")})
    stmt = (select(AnswerRecord.created_at, AnswerRecord.channel, AnswerRecord.answerable,
                   AnswerRecord.feedback_down, AnswerRecord.citations)
            .where(AnswerRecord.created_at >= jst_day_start(first),
                   AnswerRecord.created_at < jst_day_start(last + timedelta(days=1)),
                   AnswerRecord.channel.in_(channels)))
    with database.session() as session:
        rows = session.execute(stmt).all()
    weekly: dict[str, Trend] = {}
    monthly: dict[str, Trend] = {}
    for created_at, channel, answerable, down, citations in rows:
        day = to_jst(created_at).date()
        i = index.get(day)
        if i is None:
            continue
        monday = day - timedelta(days=day.weekday())
        _add_trend(weekly, monday.isoformat(), f"{monday.month}月{monday.day}日の週", answerable, down)
        _add_trend(monthly, f"{day.year}-{day.month:02d}", f"{day.year}年{day.month}月", answerable, down)
        per_day.setdefault(channel, [0] * len(days))[i] += 1
        totals[i] += 1
        refused[i] += 0 if answerable else 1
        downed[i] += 1 if (down or 0) > 0 else 0
        for citation in citations or []:
            node_id = citation.get("id") if isinstance(citation, dict) else None
            if isinstance(node_id, str) and node_id in measures:
                measures[node_id] += 1
    return Dashboard(
        days=days, per_day=dict(sorted(per_day.items())), total=sum(totals), unanswerable=sum(refused),
        thumbs_down=sum(downed), unanswerable_by_day=_rates(refused, totals),
        thumbs_down_by_day=_rates(downed, totals), measure_counts=dict(measures),
        never_asked=[mid for mid, n in measures.items() if n == 0],
        weekly=[weekly[k] for k in sorted(weekly)], monthly=[monthly[k] for k in sorted(monthly)],
        channels=channels,
    )


def _rates(part: list[int], whole: list[int]) -> list[float | None]:
    return [p / w if w else None for p, w in zip(part, whole, strict=True)]
