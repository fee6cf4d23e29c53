"""The review page's routes under /review. Everything but sign-in needs a session (see auth.require_reviewer)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from adapters.review import actions, charts, export, queries
from adapters.review.auth import (
    ReviewSession,
    check_login_token,
    end_session,
    login_token,
    read_session,
    require_reviewer,
    start_session,
)
from adapters.review.fixfirst import fix_first
from adapters.review.views import SECURITY_HEADERS, approved_rows, detail_context, render
from adapters.services import Services, get_services
from bot.contacts import ContactBook
from bot.errors import StorageError
from bot.service import PlanBot
from bot.store.reviewers import ReviewerStore

MAX_DASHBOARD_DAYS = 366
TOO_MANY_ATTEMPTS = "ログインの試行が多すぎます。1分ほどおいてから、もう一度お試しください。"
ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[ReviewSession, Depends(require_reviewer)]

public = APIRouter(prefix="/review")
protected = APIRouter(prefix="/review", dependencies=[Depends(require_reviewer)])


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _planbot(services: Services) -> PlanBot:
    if services.planbot is None:
        raise HTTPException(status_code=503, detail="starting up, try again in a few seconds")
    return services.planbot


@public.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    """The sign-in form (already signed in: on to the list)."""
    if read_session(request) is not None:
        return _see_other("/review")
    carrier = Response()
    token = login_token(request, carrier)
    page = _login_page(request, token, None, 200)
    for value in carrier.headers.getlist("set-cookie"):
        page.headers.append("set-cookie", value)
    return page


def _login_page(request: Request, token: str, error: str | None, status: int) -> Response:
    return render(request, "login.html", {"login_csrf": token, "error": error}, status_code=status)


@public.post("/login")
async def login(request: Request, services: ServicesDep) -> Response:
    """Check the password; on success start a session and go to the list."""
    form = await request.form()
    check_login_token(request, form.get("csrf_token"))
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    if not await asyncio.to_thread(services.limiter.allow, _login_key(name)):
        return _login_page(request, str(form.get("csrf_token")), TOO_MANY_ATTEMPTS, 429)
    store = ReviewerStore(services.database)
    verified = bool(name and password) and await asyncio.to_thread(store.verify, name, password)
    if verified:
        response = _see_other("/review")
        start_session(response, services.settings, name)
        return response
    return _login_page(request, str(form.get("csrf_token")), "名前またはパスワードが違います。", 401)


def _login_key(name: str) -> str:
    # Sign-in attempts per account name share the per-minute limit citizens have per user.
    return "login:" + hashlib.sha256(name.casefold().encode()).hexdigest()[:32]


@protected.post("/logout")
async def logout() -> Response:
    """End the session."""
    response = _see_other("/review/login")
    end_session(response)
    return response


@protected.get("", response_class=HTMLResponse)
async def answer_list(request: Request, services: ServicesDep) -> Response:
    """The answer log, filtered and paged, newest first."""
    filters = queries.ReviewFilters.from_query(request.query_params)
    page = await asyncio.to_thread(queries.list_answers, services.database, filters)
    return render(request, "list.html", {"filters": filters, "page": page})


@protected.get("/export.csv")
async def export_csv(request: Request, services: ServicesDep) -> Response:
    """Every row of the filtered list as CSV (UTF-8 with BOM, for Excel)."""
    filters = queries.ReviewFilters.from_query(request.query_params)
    stamp = datetime.now(queries.JST).strftime("%Y%m%d-%H%M")
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="planbot-answers-{stamp}.csv"'}
    return StreamingResponse(export.iter_answers_csv(services.database, filters),
                             media_type="text/csv; charset=utf-8", headers=headers)


@protected.get("/audit.csv")
async def export_audit(request: Request, services: ServicesDep) -> Response:
    """The audit trail (every reviewer change) as CSV; `?answer=ID` for one answer's."""
    answer = request.query_params.get("answer", "")
    answer_id = int(answer) if answer.isdigit() and len(answer) < 18 else None
    stamp = datetime.now(queries.JST).strftime("%Y%m%d-%H%M")
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="planbot-audit-{stamp}.csv"'}
    return StreamingResponse(export.iter_audit_csv(services.database, answer_id),
                             media_type="text/csv; charset=utf-8", headers=headers)


@protected.get("/answers/{answer_id}", response_class=HTMLResponse)
async def answer_detail(request: Request, answer_id: int, services: ServicesDep) -> Response:
    """One answer: what the user saw, its citations and scores, feedback, and the review actions."""
    row = await asyncio.to_thread(services.answer_log.get, answer_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such answer")
    feedback = await asyncio.to_thread(actions.feedback_for, services.database, answer_id)
    audit = await asyncio.to_thread(actions.audit_for, services.database, answer_id)
    context = detail_context(row, services.planbot.tree if services.planbot else None, feedback,
                             saved=request.query_params.get("saved") == "1")
    return render(request, "detail.html", {**context, "audit": audit})


@protected.post("/answers/{answer_id}/status")
async def change_status(request: Request, answer_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Mark reviewed, flag, or reopen."""
    form = await request.form()
    done = await asyncio.to_thread(actions.set_status, services.database, answer_id,
                                   str(form.get("action") or ""), session.reviewer)
    if not done:
        raise HTTPException(status_code=404, detail="no such answer or action")
    return _see_other(f"/review/answers/{answer_id}?saved=1")


@protected.post("/answers/{answer_id}/note")
async def save_note(request: Request, answer_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Write (or clear) the reviewer note."""
    form = await request.form()
    done = await asyncio.to_thread(actions.set_note, services.database, answer_id,
                                   str(form.get("note") or ""), session.reviewer)
    if not done:
        raise HTTPException(status_code=404, detail="no such answer")
    return _see_other(f"/review/answers/{answer_id}?saved=1")


@protected.post("/answers/{answer_id}/correct")
async def save_correction(request: Request, answer_id: int, services: ServicesDep,
                          session: SessionDep) -> Response:
    """Store a corrected answer with its citations and approve it, so the bot reuses it."""
    form = await request.form()
    text, citations = str(form.get("answer") or ""), str(form.get("citations") or "")
    planbot = _planbot(services)
    try:
        approved_id = await asyncio.to_thread(actions.save_correction, services.database, services.approved,
                                              planbot, answer_id, text, citations, session.reviewer)
    except actions.CorrectionError as exc:
        row = await asyncio.to_thread(services.answer_log.get, answer_id)
        if row is None:
            raise HTTPException(status_code=404, detail="no such answer") from exc
        feedback = await asyncio.to_thread(actions.feedback_for, services.database, answer_id)
        audit = await asyncio.to_thread(actions.audit_for, services.database, answer_id)
        context = detail_context(row, planbot.tree, feedback, form_text=text, form_citations=citations,
                                 error=str(exc))
        return render(request, "detail.html", {**context, "audit": audit}, status_code=422)
    if approved_id is None:
        raise HTTPException(status_code=404, detail="no such answer")
    return _see_other(f"/review/answers/{answer_id}?saved=1")


def _dashboard_range(request: Request) -> tuple[date, date]:
    today = datetime.now(queries.JST).date()
    last = queries.parse_date(request.query_params.get("to")) or today
    first = queries.parse_date(request.query_params.get("from")) or last - timedelta(days=29)
    if first > last:
        first, last = last, first
    return max(first, last - timedelta(days=MAX_DASHBOARD_DAYS - 1)), last


@protected.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, services: ServicesDep) -> Response:
    """Charts: questions per day and channel, refusal and 👎 rates, cited and never-cited measures."""
    tree = _planbot(services).tree
    first, last = _dashboard_range(request)
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


@protected.get("/fix", response_class=HTMLResponse)
async def fix_first_view(request: Request, services: ServicesDep) -> Response:
    """What to fix first: refused, clarified and 👎 questions grouped by meaning, with their trend."""
    planbot = _planbot(services)
    first, last = _dashboard_range(request)
    groups = await asyncio.to_thread(fix_first, services.database, planbot.embedder.embed_queries, first, last)
    saved = request.query_params.get("saved", "")
    return render(request, "fix.html", {"groups": groups, "first": first, "last": last,
                                        "saved": int(saved) if saved.isdigit() else None})


def _ids(raw: str) -> list[int]:
    return list(dict.fromkeys(int(p) for p in raw.split(",") if p.isdigit() and len(p) < 18))[:200]


@protected.get("/fix/correct", response_class=HTMLResponse)
async def group_correction_form(request: Request, services: ServicesDep) -> Response:
    """One correction for a whole group of questions."""
    ids = _ids(request.query_params.get("ids", ""))
    rows = [r for r in [await asyncio.to_thread(services.answer_log.get, i) for i in ids] if r is not None]
    if not rows:
        raise HTTPException(status_code=404, detail="no such answers")
    return render(request, "fix_correct.html", {"rows": rows, "ids": ",".join(str(r.id) for r in rows),
                                                "error": None, "form_text": "", "form_citations": ""})


@protected.post("/fix/correct")
async def save_group_correction(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """Save the same corrected answer for every question of the group (each becomes an approved answer)."""
    form = await request.form()
    ids = _ids(str(form.get("ids") or ""))
    text, citations = str(form.get("answer") or ""), str(form.get("citations") or "")
    planbot = _planbot(services)
    saved = 0
    try:
        for answer_id in ids:
            approved = await asyncio.to_thread(actions.save_correction, services.database, services.approved,
                                               planbot, answer_id, text, citations, session.reviewer)
            saved += approved is not None
    except actions.CorrectionError as exc:
        rows = [r for r in [await asyncio.to_thread(services.answer_log.get, i) for i in ids] if r is not None]
        return render(request, "fix_correct.html", {"rows": rows, "ids": ",".join(str(i) for i in ids),
                                                    "error": str(exc), "form_text": text,
                                                    "form_citations": citations}, status_code=422)
    return _see_other(f"/review/fix?saved={saved}")


@protected.get("/contacts", response_class=HTMLResponse)
async def contacts(request: Request, services: ServicesDep) -> Response:
    """Every plan node with the contact an answer about it names; nodes without one are marked."""
    planbot = _planbot(services)
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


@protected.post("/approved/{approved_id}/retire")
async def retire(approved_id: int, services: ServicesDep, session: SessionDep) -> Response:
    """Stop reusing an approved answer."""
    try:
        retired = await asyncio.to_thread(services.approved.retire, approved_id)
        if retired:
            await asyncio.to_thread(actions.audit_retired, services.database, approved_id, session.reviewer)
    except StorageError as exc:
        raise HTTPException(status_code=503, detail="the database is unavailable") from exc
    if not retired:
        raise HTTPException(status_code=404, detail="no such active approved answer")
    return _see_other("/review/approved")


def build_router() -> APIRouter:
    """The /review router: sign-in (public) and everything else (signed in, CSRF-checked)."""
    router = APIRouter(include_in_schema=False)
    router.include_router(public)
    router.include_router(protected)
    return router
