"""The review page for the communications team, mounted under /review."""

from __future__ import annotations

from fastapi import APIRouter

from adapters.services import Services


class ReviewChannel:
    """The /review pages: sign-in, answer list and detail, dashboard, approved answers, CSV export.

    It opens nothing of its own: it reads and writes through the app's `Services`.
    """

    def __init__(self) -> None:
        from adapters.review.routes import build_router

        self.router: APIRouter = build_router()

    async def startup(self, services: Services) -> None:
        """Nothing to open: the database and the core belong to the app's services."""
