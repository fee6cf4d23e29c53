"""The review page's routes under /review. Everything but sign-in needs a session (see auth.require_reviewer).

Sign-in and sign-out are in routes_login.py, what to fix first in routes_fix.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from adapters.review import actions, charts, export, queries, routes_fix, routes_login
from adapters.review.deps import ServicesDep, SessionDep, dashboard_range, planbot_of, protected_router, see_other
from adapters.review.nextpath import safe_next
from adapters.review.views import SECURITY_HEADERS, approved_rows, detail_context, render
from bot.contacts import ContactBook

protected = protected_router()


@protected.get("", response_class=HTMLResponse)
async def answer_list(request: Request, services: ServicesDep) -> Response:
    """The answer log, filtered and paged, newest first (API traffic only when asked for)."""
    filters = queries.ReviewFilters.from_query(request.query_params)
    page = await asyncio.to_thread(queries.list_answers, services.database, filters)
    return render(request, "list.html", {"filters": filters, "page": page})


def _csv(name: str, chunks: Iterator[str]) -> StreamingResponse:
    stamp = datetime.now(queries.JST).strftime("%Y%m%d-%H%M")
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="planbot-{name}-{stamp}.csv"'}
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)


@protected.get("/export.csv")
async def export_csv(request: Request, services: ServicesDep) -> Response:
    """Every row of the filtered list as CSV (UTF-8 with BOM, for Excel)."""
    filters = queries.ReviewFilters.from_query(request.query_params)
    return _csv("answers", export.iter_answers_csv(services.database, filters))


@protected.get("/audit.csv")
async def export_audit(request: Request, services: ServicesDep) -> Response:
    """The audit trail (every reviewer change) as CSV; `?answer=ID` for one answer's."""
    answer = request.query_params.get("answer", "")
    answer_id = int(answer) if answer.isdigit() and len(answer) < 18 else None
    return _csv("audit", export.iter_audit_csv(services.database, answer_id))


async def _detail_page(request: Request, services: ServicesDep, answer_id: int, status: int = 200,
                       form_text: str | None = None, form_citations: str | None = None,
                       error: str | None = None) -> Response:
    row = await asyncio.to_thread(services.answer_log.get, answer_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such answer")
    feedback = await asyncio.to_thread(actions.feedback_for, services.database, answer_id)
    audit = await asyncio.to_thread(actions.audit_for, services.database, answer_id)
    context = detail_context(row, services.planbot.tree if services.planbot else None, feedback,
                             form_text=form_text, form_citations=form_citations, error=error,
                             saved=request.query_params.get("saved") == "1")
    return render(request, "detail.html", {**context, "audit": audit}, status_code=status)


@protected.get("/answers/{answer_id}", response_class=HTMLResponse)
async def answer_detail(request: Request, answer_id: int, services: ServicesDep) -> Response:
    """One answer: what the user saw, its citations and scores, feedback, and the review actions."""
    return await _detail_page(request, services, answer_id)


@protected.post("/answers/{answer_id}/status")
async def change_status(request: Request, answer_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Mark reviewed, flag, 正しい対応（対応不要）, or reopen; then back to the page the form was on."""
    form = await request.form()
    done = await asyncio.to_thread(actions.set_status, services.database, answer_id,
                                   str(form.get("action") or ""), session.reviewer)
    if not done:
        raise HTTPException(status_code=404, detail="no such answer or action")
    return see_other(safe_next(form.get("back")) or f"/review/answers/{answer_id}?saved=1")


@protected.post("/answers/{answer_id}/note")
async def save_note(request: Request, answer_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Write (or clear) the reviewer note."""
    form = await request.form()
    done = await asyncio.to_thread(actions.set_note, services.database, answer_id,
                                   str(form.get("note") or ""), session.reviewer)
    if not done:
        raise HTTPException(status_code=404, detail="no such answer")
    return see_other(f"/review/answers/{answer_id}?saved=1")


@protected.post("/answers/{answer_id}/correct")
async def save_correction(request: Request, answer_id: int, services: ServicesDep,
                          session: SessionDep) -> Response:
    """Store a corrected answer with its citations and approve it, so the bot reuses it."""
    form = await request.form()
    text, citations = str(form.get("answer") or ""), str(form.get("citations") or "")
    planbot = planbot_of(services)
    try:
        approved_id = await asyncio.to_thread(actions.save_correction, services.database, services.approved,
                                              planbot, answer_id, text, citations, session.reviewer)
    except actions.CorrectionError as exc:
        return await _detail_page(request, services, answer_id, 422, form_text=actions.one_line_ending(text),
                                  form_citations=citations, error=str(exc))
    if approved_id is None:
        raise HTTPException(status_code=404, detail="no such answer")
    return see_other(f"/review/answers/{answer_id}?saved=1")


@protected.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, services: ServicesDep) -> Response:
    """Charts: questions per day and channel, refusal and 👎 rates, cited and never-cited measures."""
    tree = planbot_of(services).tree
    first, last = dashboard_range(request)
    channels = queries.parse_channels(request.query_params.getlist("channel"))
    figures = await asyncio.to_thread(queries.dashboard, services.database, tree, first, last, channels)
    top = [(mid, tree[mid].label, n) for mid, n in figures.top_measures()]
    context = {
        "figures": figures, "first": first, "last": last,
        "never_asked": [(mid, tree.breadcrumb(mid)) for mid in figures.never_asked],
        "chart_volume": charts.questions_per_day(figures.days, figures.per_day),
        "chart_rates": charts.rates_per_day(figures.days, {"回答できなかった割合": figures.unanswerable_by_day,
                                                            "👎の割合": figures.thumbs_down_by_day}),
        "chart_top": charts.horizontal_bars(top, "よく引用された施策"),
        "chart_coverage": charts.measure_coverage(tree, figures.measure_counts),
    }
    return render(request, "dashboard.html", context)


@protected.get("/contacts", response_class=HTMLResponse)
async def contacts(request: Request, services: ServicesDep) -> Response:
    """Every plan node with the contact an answer about it names; nodes without one are marked."""
    planbot = planbot_of(services)
    book = services.assistant.contacts if services.assistant else ContactBook.load(
        services.settings.contacts_file, services.settings.city_contact)
    rows = [(node.id, planbot.tree.breadcrumb(node.id), book.specific(node.id)) for node in planbot.tree]
    missing = sum(1 for _, _, contact in rows if contact is None)
    return render(request, "contacts.html", {"rows": rows, "missing": missing, "fallback": book.fallback})


@protected.get("/approved", response_class=HTMLResponse)
async def approved_list(request: Request, services: ServicesDep) -> Response:
    """Approved answers the bot currently reuses."""
    rows = await asyncio.to_thread(services.approved.active)
    tree = services.planbot.tree if services.planbot else None
    return render(request, "approved.html", {"items": approved_rows(tree, rows)})


@protected.get("/approved/{approved_id}/retire", response_class=HTMLResponse)
async def confirm_retire(request: Request, approved_id: int, services: ServicesDep) -> Response:
    """The confirmation step before 取り下げる: what stops, and a way back without doing it."""
    row = await asyncio.to_thread(actions.approved_answer, services.database, approved_id)
    if row is None or row.retired_at is not None:
        raise HTTPException(status_code=404, detail="no such active approved answer")
    return render(request, "confirm.html", {
        "title": f"承認済み回答 #{row.id} を取り下げますか？",
        "explanation": "取り下げると、よく似た質問にこの回答は返されなくなり、ボットが計画から回答します。"
                       "取り下げた回答は元に戻せません（必要なら、もう一度修正回答を登録してください）。",
        "items": [row.question, row.answer_text], "action": f"/review/approved/{row.id}/retire", "fields": {},
        "confirm_label": "取り下げる", "cancel": "/review/approved"})


@protected.post("/approved/{approved_id}/retire")
async def retire(request: Request, approved_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Stop reusing an approved answer — only from the confirmation step (anything else is sent there)."""
    form = await request.form()
    if form.get("confirm") != "yes":
        return see_other(f"/review/approved/{approved_id}/retire")
    retired = await asyncio.to_thread(services.approved.retire, approved_id)
    if not retired:
        raise HTTPException(status_code=404, detail="no such active approved answer")
    await asyncio.to_thread(actions.audit_retired, services.database, approved_id, session.reviewer)
    return see_other("/review/approved")


def build_router() -> APIRouter:
    """The /review router: sign-in (public) and everything else (signed in, CSRF-checked)."""
    router = APIRouter(include_in_schema=False)
    router.include_router(routes_login.public)
    for module_router in (routes_login.protected, protected, routes_fix.protected):
        router.include_router(module_router)
    return router
