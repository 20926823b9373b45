"""The citizen's side of a case after filing: replying to an officer's question, rating the
answer, commenting, and asking once for the case to be looked at again."""

from __future__ import annotations

from bot.messages import Option
from handlers import texts
from handlers.context import Context
from handlers.menu import MAIN_MENU
from handlers.router import Router
from storage.cases import CaseActionError
from storage.models import Case

REPLY_FLOW = "case_reply"
COMMENT_FLOW = "rating_comment"
REOPEN_FLOW = "reopen"


def _own_case(ctx: Context, case_id: object) -> Case | None:
    try:
        case = ctx.session.get(Case, int(str(case_id)))
    except ValueError:
        case = None
    if case is None or case.citizen_id != ctx.person.id:
        return None
    return case


def _flow_case(ctx: Context) -> Case | None:
    """The case the citizen's flow is about; None after leaving the flow (the citizen chose
    «Xong», or the case is gone)."""
    if ctx.option == "flow:done":
        ctx.end_flow()
        ctx.reply(texts.MENU_PROMPT, MAIN_MENU)
        return None
    case = _own_case(ctx, ctx.flow_data.get("case_id"))
    if case is None:
        ctx.end_flow()
        ctx.reply(texts.NOT_UNDERSTOOD, MAIN_MENU)
    return case


class CaseReplyFlow:
    """The citizen answers an officer's question: text and photos go to the case."""

    name = REPLY_FLOW

    def ask(self, ctx: Context) -> None:
        ctx.reply(texts.CITIZEN_REPLY_EMPTY, [Option("flow:done", texts.DONE)])

    def accepts_photos(self, ctx: Context) -> bool:
        return True

    def expects_text(self, ctx: Context) -> bool:
        return True

    def cancel(self, ctx: Context) -> None:
        ctx.end_flow()

    def handle(self, ctx: Context) -> None:
        case = _flow_case(ctx)
        if case is None:
            return
        photos = [ctx.keep_photo(p.stored) for p in ctx.photos if p.stored is not None]
        text = ctx.text or None
        if text is None and not photos:
            problems = [p.error for p in ctx.photos if p.error]
            if problems:
                ctx.preface(texts.PHOTO_NOT_AN_IMAGE)
            self.ask(ctx)
            return
        if text and len(text) > ctx.config.limits.max_text_length:
            ctx.preface(texts.content_too_long(ctx.config.limits.max_text_length, len(text)))
            self.ask(ctx)
            return
        try:
            ctx.services.cases.citizen_reply(
                ctx.session, case, ctx.person, text, now=ctx.now, attachment_ids=photos
            )
        except CaseActionError as error:
            ctx.end_flow()
            ctx.reply(error.message, MAIN_MENU)
            return
        ctx.reply(
            texts.CITIZEN_REPLY_THANKS + "\n" + texts.REPLY_MORE, [Option("flow:done", texts.DONE)]
        )


class CommentFlow:
    """An optional comment after a rating; the reopen request asks for its reason the same way."""

    def __init__(self, name: str) -> None:
        self.name = name

    def ask(self, ctx: Context) -> None:
        if self.name == REOPEN_FLOW:
            ctx.reply(texts.ASK_REOPEN_REASON, [Option("flow:done", texts.CANCEL)])
        else:
            ctx.reply(texts.rating_thanks(True), [Option("flow:done", texts.SKIP)])

    def accepts_photos(self, ctx: Context) -> bool:
        return False

    def expects_text(self, ctx: Context) -> bool:
        return True

    def cancel(self, ctx: Context) -> None:
        ctx.end_flow()

    def handle(self, ctx: Context) -> None:
        case = _flow_case(ctx)
        if case is None:
            return
        text = ctx.text
        if not text:
            ctx.preface(texts.TEXT_EXPECTED)
            self.ask(ctx)
            return
        ctx.end_flow()
        try:
            if self.name == REOPEN_FLOW:
                ctx.services.cases.reopen(ctx.session, case, ctx.person, text, now=ctx.now)
            else:
                ctx.services.cases.add_comment(ctx.session, case, ctx.person, text, now=ctx.now)
                ctx.reply(texts.COMMENT_THANKS, MAIN_MENU)
        except CaseActionError as error:
            ctx.reply(error.message, MAIN_MENU)


def register(router: Router) -> None:
    router.add_flow(CaseReplyFlow())
    router.add_flow(CommentFlow(COMMENT_FLOW))
    router.add_flow(CommentFlow(REOPEN_FLOW))

    @router.option("reply")
    def start_reply(ctx: Context, value: str) -> None:
        case = _own_case(ctx, value)
        if case is None:
            ctx.reply(texts.NOT_UNDERSTOOD, MAIN_MENU)
            return
        ctx.start_flow(REPLY_FLOW, "reply", {"case_id": case.id})
        router.flows[REPLY_FLOW].ask(ctx)

    @router.option("rate")
    def rate(ctx: Context, value: str) -> None:
        case_id, _, rating = value.partition(":")
        case = _own_case(ctx, case_id)
        if case is None:
            ctx.reply(texts.NOT_UNDERSTOOD, MAIN_MENU)
            return
        try:
            ctx.services.cases.rate(ctx.session, case, ctx.person, rating, now=ctx.now)
        except CaseActionError as error:
            ctx.reply(error.message, MAIN_MENU)
            return
        ctx.start_flow(COMMENT_FLOW, "comment", {"case_id": case.id})
        if rating == "chua_hai_long" and ctx.services.cases.can_reopen(case):
            ctx.reply(
                texts.rating_thanks(False),
                [Option(f"reopen:{case.id}", texts.REOPEN), Option("flow:done", texts.NO_THANKS)],
            )
        else:
            router.flows[COMMENT_FLOW].ask(ctx)

    @router.option("reopen")
    def reopen(ctx: Context, value: str) -> None:
        case = _own_case(ctx, value)
        if case is None or not ctx.services.cases.can_reopen(case):
            ctx.reply(texts.REOPEN_NOT_ALLOWED, MAIN_MENU)
            return
        ctx.start_flow(REOPEN_FLOW, "reason", {"case_id": case.id})
        router.flows[REOPEN_FLOW].ask(ctx)
