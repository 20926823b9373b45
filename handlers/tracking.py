"""Tracking: /tracuu CODE, "Tra cứu hồ sơ" and "Phản ánh của tôi".

A code that is not the asker's own gets the same "không tìm thấy" as a code that does not
exist, so nobody can probe other people's cases.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Option
from bot.rules.codes import parse_code
from handlers import texts
from handlers.context import Context
from handlers.menu import MAIN_MENU
from handlers.router import Router
from storage.models import Case

FLOW = "tracking"

# Staff (officers of the case's unit, leaders) see their own view of a case; the officer
# module registers it here so that this module does not depend on roles.
StaffView = Callable[[Context, Case], bool]


class TrackingFlow:
    name = FLOW

    def __init__(self) -> None:
        self.staff_views: list[StaffView] = []

    def start(self, ctx: Context) -> None:
        ctx.start_flow(FLOW, "code")
        self.ask(ctx)

    def ask(self, ctx: Context) -> None:
        ctx.reply(texts.ASK_CODE, [Option("menu:home", texts.BACK_TO_MENU)])

    def handle(self, ctx: Context) -> None:
        code = parse_code(ctx.text)
        if code is None:
            ctx.preface(texts.CODE_INVALID)
            self.ask(ctx)
            return
        ctx.end_flow()
        self.show(ctx, code)

    def accepts_photos(self, ctx: Context) -> bool:
        return False

    def expects_text(self, ctx: Context) -> bool:
        return True

    def cancel(self, ctx: Context) -> None:
        ctx.end_flow()

    def show(self, ctx: Context, code: str) -> None:
        case = ctx.services.cases.find_by_code(ctx.session, code)
        if case is not None and case.citizen_id == ctx.person.id:
            ctx.reply(status_text(ctx, case), MAIN_MENU)
            return
        if case is not None and any(view(ctx, case) for view in self.staff_views):
            return
        ctx.reply(texts.case_not_found(code), MAIN_MENU)


def status_text(ctx: Context, case: Case) -> str:
    config = ctx.config
    tz = config.commune.timezone
    history = [
        f"{texts.local_date(event.at, tz)}: {texts.EVENT_LABELS.get(event.kind, event.kind)}"
        + (f" – {event.note}" if event.note else "")
        for event in ctx.services.cases.public_history(ctx.session, case)
    ]
    return texts.case_status(
        code=case.code,
        kind_label=texts.KIND_LABELS.get(case.kind, case.kind),
        category_label=config.category_name(case.category),
        status_label=texts.STATUS_LABELS.get(case.status, case.status),
        unit_name=config.unit_name(case.unit),
        created=texts.local_date(case.created_at, tz),
        due=texts.local_date(case.due_at, tz),
        history=history,
    )


def register(router: Router) -> TrackingFlow:
    flow = TrackingFlow()
    router.add_flow(flow)

    @router.command("tracuu")
    def track_command(ctx: Context, args: str) -> None:
        if not args:
            flow.start(ctx)
            return
        code = parse_code(args)
        if code is None:
            ctx.preface(texts.CODE_INVALID)
            flow.start(ctx)
            return
        flow.show(ctx, code)

    @router.option("track")
    def track_option(ctx: Context, code: str) -> None:
        flow.show(ctx, code)

    @router.command("hosocuatoi", "mine")
    def my_cases(ctx: Context, _args: str) -> None:
        cases = ctx.services.cases.cases_of_citizen(ctx.session, ctx.person.id)
        if not cases:
            ctx.reply(texts.NO_CASES_YET, MAIN_MENU)
            return
        ctx.reply(
            texts.my_cases_header(len(cases)),
            [
                Option(
                    f"track:{case.code}",
                    texts.my_case_line(
                        case.code, texts.STATUS_LABELS.get(case.status, case.status)
                    ),
                )
                for case in cases
            ]
            + [Option("menu:home", texts.BACK_TO_MENU)],
        )

    return flow
