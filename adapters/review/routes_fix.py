"""What to fix first: the grouped view, one correction for a whole group, and 「正しい対応（対応不要）」 for a
group (after a confirmation step) or one row (at once, with an undo)."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from adapters.review import actions
from adapters.review.deps import ServicesDep, SessionDep, dashboard_range, planbot_of, protected_router, see_other
from adapters.review.fixfirst import NO_ACTION, fix_first
from adapters.review.views import render
from adapters.services import Services
from bot.store.models import AnswerRecord

MAX_IDS = 200

protected = protected_router()


def _ids(raw: str) -> list[int]:
    return list(dict.fromkeys(int(p) for p in raw.split(",") if p.isdigit() and len(p) < 18))[:MAX_IDS]


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 18 else None


async def _rows(services: Services, ids: list[int]) -> list[AnswerRecord]:
    rows = [await asyncio.to_thread(services.answer_log.get, i) for i in ids]
    return [row for row in rows if row is not None]


@protected.get("/fix", response_class=HTMLResponse)
async def fix_first_view(request: Request, services: ServicesDep) -> Response:
    """What to fix first: open refused, clarified and 👎 questions grouped by subject, with their trend."""
    planbot = planbot_of(services)
    first, last = dashboard_range(request)
    groups = await asyncio.to_thread(fix_first, services.database, planbot.embedder.embed_queries, first, last)
    params = request.query_params
    marked_row = _number(params.get("marked_row"))
    context = {"groups": groups, "first": first, "last": last, "tree": planbot.tree,
               "saved": _number(params.get("saved")), "marked": _number(params.get("marked")),
               "marked_row": await asyncio.to_thread(services.answer_log.get, marked_row) if marked_row else None}
    return render(request, "fix.html", context)


@protected.get("/fix/correct", response_class=HTMLResponse)
async def group_correction_form(request: Request, services: ServicesDep) -> Response:
    """One correction for a whole group of questions."""
    rows = await _rows(services, _ids(request.query_params.get("ids", "")))
    if not rows:
        raise HTTPException(status_code=404, detail="no such answers")
    return render(request, "fix_correct.html", {"rows": rows, "ids": ",".join(str(r.id) for r in rows),
                                                "error": None, "form_text": "", "form_citations": ""})


@protected.post("/fix/correct")
async def save_group_correction(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """Save the same corrected answer for every question of the group (each becomes an approved answer),
    once the reviewer ticked that it applies to all of them."""
    form = await request.form()
    ids = _ids(str(form.get("ids") or ""))
    text, citations = str(form.get("answer") or ""), str(form.get("citations") or "")
    planbot = planbot_of(services)
    saved = 0
    try:
        if form.get("confirm") != "yes":
            raise actions.CorrectionError("すべての質問に登録してよいか確かめて、確認のチェックを入れてください。")
        for answer_id in ids:
            approved = await asyncio.to_thread(actions.save_correction, services.database, services.approved,
                                               planbot, answer_id, text, citations, session.reviewer)
            saved += approved is not None
    except actions.CorrectionError as exc:
        rows = await _rows(services, ids)
        return render(request, "fix_correct.html", {"rows": rows, "ids": ",".join(str(i) for i in ids),
                                                    "error": str(exc), "form_text": actions.one_line_ending(text),
                                                    "form_citations": citations}, status_code=422)
    return see_other(f"/review/fix?saved={saved}")


@protected.get("/fix/no-action", response_class=HTMLResponse)
async def confirm_no_action(request: Request, services: ServicesDep) -> Response:
    """The confirmation step before a whole group is marked 「正しい対応（対応不要）」."""
    rows = await _rows(services, _ids(request.query_params.get("ids", "")))
    if not rows:
        raise HTTPException(status_code=404, detail="no such answers")
    return render(request, "confirm.html", {
        "title": f"{len(rows)}件の質問を「正しい対応（対応不要）」にしますか？",
        "explanation": "ボットの対応が正しかった質問として記録し、「優先して直す質問」から外します。"
                       "件数と前の期間との比較には引き続き数えます。1件ずつ回答の詳細ページで「未確認に戻す」と元に戻せます。",
        "items": [row.question for row in rows], "action": "/review/fix/no-action",
        "fields": {"ids": ",".join(str(r.id) for r in rows)}, "confirm_label": "正しい対応（対応不要）にする",
        "cancel": "/review/fix"})


@protected.post("/fix/no-action")
async def mark_no_action(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """Mark every question of a group 「正しい対応（対応不要）」 (only after the confirmation step)."""
    form = await request.form()
    ids = _ids(str(form.get("ids") or ""))
    if form.get("confirm") != "yes":
        return see_other(f"/review/fix/no-action?ids={','.join(map(str, ids))}")
    marked = 0
    for answer_id in ids:
        marked += await asyncio.to_thread(actions.set_status, services.database, answer_id, NO_ACTION,
                                          session.reviewer)
    return see_other(f"/review/fix?marked={marked}")
