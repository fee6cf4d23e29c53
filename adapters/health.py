"""`GET /healthz` (the process is alive) and `GET /readyz` (it can do its job), for load balancers and
orchestrators.

They differ during start-up: on a fresh data dir the index and the message-kind model take a minute or more
to build. The process serves HTTP from its first second meanwhile (webhooks are verified, stored and
acknowledged, and answered once the core is ready), so a liveness check must not fail and get it
restarted; a readiness check says whether questions can be answered now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from adapters.services import Services, get_services

router = APIRouter()


@router.get("/healthz")
async def healthz(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    """200 while the process serves (also while the core loads); 503 only when start-up failed for good."""
    if services.startup_error:
        return JSONResponse({"status": "error", "ready": False, "detail": services.startup_error}, status_code=503)
    return JSONResponse({"status": "ok", "ready": services.ready.is_set()})


@router.get("/readyz")
async def readyz(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    """200 once this process can do its job: answer questions (`planbot serve`), or store and acknowledge
    events (`--web-only`, whose answers come from `planbot worker`); 503 before, or if start-up failed."""
    if services.startup_error:
        return JSONResponse({"status": "error", "detail": services.startup_error}, status_code=503)
    if not services.ready.is_set():
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ready", "mode": "llm" if services.settings.llm else "extractive"})
