"""Assembling the router from the feature modules."""

from __future__ import annotations

from typing import Any

from handlers import citizen_case, faq, intake, leader, menu, officer, tracking
from handlers.router import Router


def build_router() -> Router:
    router = Router()
    menu.register(router)
    intake.register(router)
    track = tracking.register(router)
    citizen_case.register(router)
    faq.register(router)
    leader.register(router)
    staff = officer.register(router)

    def staff_view(ctx: Any, case: Any) -> bool:
        if ctx.services.cases.can_handle(ctx.roles, case):
            staff.show_case(ctx, case)
            return True
        return False

    track.staff_views.append(staff_view)
    return router
