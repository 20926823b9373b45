"""Assembling the router from the feature modules."""

from __future__ import annotations

from handlers import intake, menu, tracking
from handlers.router import Router


def build_router() -> Router:
    router = Router()
    menu.register(router)
    intake.register(router)
    tracking.register(router)
    return router
