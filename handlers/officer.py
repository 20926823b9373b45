"""Officers, unit heads and leaders working cases in their own chat.

Registration (``/dangky CODE``), the work list (``/viec``), a case's detail view and its
actions: take up, ask the citizen, answer, transfer, forward outside the commune, reject,
request an extension (decided by a leader or, if config allows, the unit head) and, for
roles allowed by config, reveal a whistleblower's identity (logged).

Actions that need typed input run as the ``officer`` flow; the case id travels in the flow
data. Every state change goes through ``CaseService``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import case as sql_case
from sqlalchemy import select

from bot.messages import Option
from handlers import texts
from handlers.context import Context
from handlers.router import Router
from storage import conversations
from storage.cases import OPEN_STATUSES, CaseActionError
from storage.models import Case, CaseEvent
from storage.people import InviteError, redeem_invite

FLOW = "officer"
STAFF_ROLES = ("officer", "head", "leader")
_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_INVITE_ERRORS = {
    InviteError.UNKNOWN: texts.INVITE_UNKNOWN,
    InviteError.EXPIRED: texts.INVITE_EXPIRED,
    InviteError.USED: texts.INVITE_USED,
}


def parse_local_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


class OfficerFlow:
    name = FLOW

    # ------------------------------------------------------------------ helpers

    def _case(self, ctx: Context, case_id: int | str | None) -> Case | None:
        """The case if this person may work on it; otherwise tells them and returns None."""
        try:
            case = ctx.session.get(Case, int(case_id or 0))
        except (TypeError, ValueError):
            case = None
        if case is None or not ctx.services.cases.can_handle(ctx.roles, case):
            ctx.reply(texts.CASE_NOT_YOURS if case is not None else texts.NOT_ALLOWED)
            return None
        return case

    def _flow_case(self, ctx: Context) -> Case | None:
        return self._case(ctx, ctx.flow_data.get("case_id"))

    def _done(self, ctx: Context, text: str, case: Case | None = None) -> None:
        ctx.end_flow()
        options = ctx.services.cases.case_actions(case) if case is not None else []
        if case is None or case.status not in OPEN_STATUSES:
            options = [Option("off:list:0", texts.OFFICER_OPTIONS["list"])]
        ctx.reply(text, options)

    def _fail(self, ctx: Context, error: CaseActionError, case: Case) -> None:
        ctx.end_flow()
        ctx.reply(error.message, ctx.services.cases.case_actions(case))

    # ------------------------------------------------------------------ views

    def show_case(self, ctx: Context, case: Case, prefix: str | None = None) -> None:
        config = ctx.config
        cases = ctx.services.cases
        calculator = ctx.services.deadlines
        tz = config.commune.timezone
        late = calculator.working_days_late(case.due_at, ctx.now)
        left = calculator.calendar.working_days_between(
            calculator.local_date(ctx.now), calculator.local_date(case.due_at)
        )
        events = ctx.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        ).all()
        history = [
            f"{texts.local_datetime(e.at, tz)}: {texts.EVENT_LABELS.get(e.kind, e.kind)}"
            + (f" – {e.note}" if e.note and e.kind != "extension_requested" else "")
            for e in events
            if e.kind != "identity_revealed"
        ]
        text = texts.officer_case_view(
            code=case.code,
            kind_label=texts.KIND_LABELS.get(case.kind, case.kind),
            category_label=config.category_name(case.category),
            unit_name=config.unit_name(case.unit),
            status_label=texts.STATUS_LABELS.get(case.status, case.status),
            received=texts.local_datetime(case.created_at, tz),
            due=texts.local_date(case.due_at, tz),
            due_note=texts.due_note(max(left, 0), late) if case.status in OPEN_STATUSES else "—",
            sender=cases.sender_text(ctx.session, case),
            place=texts.place_text(case.village, case.address, case.latitude, case.longitude),
            content=case.content,
            photos=len(cases.photo_ids(ctx.session, case)),
            history=history,
        )
        options = cases.case_actions(case)
        if case.kind == "to_cao" and cases.can_reveal(ctx.roles):
            options.append(Option(f"off:reveal:{case.id}", texts.OFFICER_OPTIONS["reveal"]))
        ctx.reply(f"{prefix}\n{text}" if prefix else text, options)

    def show_work_list(self, ctx: Context) -> None:
        leader = ctx.has_role("leader")
        units = ctx.units_with_role("officer", "head")
        query = select(Case).where(Case.status.in_(OPEN_STATUSES))
        if not leader:
            query = query.where(Case.unit.in_(units))
        overdue_first = sql_case((Case.due_at < ctx.now, 0), else_=1)
        cases = ctx.session.scalars(query.order_by(overdue_first, Case.due_at).limit(30)).all()
        names = "toàn xã" if leader else ", ".join(ctx.config.unit_name(u) for u in sorted(units))
        if not cases:
            ctx.reply(texts.NO_OPEN_CASES)
            return
        tz = ctx.config.commune.timezone
        ctx.reply(
            texts.work_list_header(names, len(cases)),
            [
                Option(
                    f"off:view:{case.id}",
                    texts.work_list_line(
                        case.code, texts.local_date(case.due_at, tz), case.due_at < ctx.now
                    ),
                )
                for case in cases
            ],
        )

    # ------------------------------------------------------------------ option dispatch

    def on_option(self, ctx: Context, value: str) -> None:
        action, _, case_id = value.partition(":")
        if not ctx.has_role(*STAFF_ROLES):
            ctx.reply(texts.NOT_ALLOWED)
            return
        if action == "list":
            self.show_work_list(ctx)
            return
        case = self._case(ctx, case_id)
        if case is None:
            return
        cases = ctx.services.cases
        if action == "view":
            self.show_case(ctx, case)
        elif action == "open":
            try:
                cases.open_case(ctx.session, case, ctx.person, now=ctx.now)
            except CaseActionError as error:
                self.show_case(ctx, case, prefix=error.message)
                return
            self.show_case(ctx, case, prefix=texts.CASE_OPENED)
        elif action == "reveal":
            if case.kind != "to_cao" or not cases.can_reveal(ctx.roles):
                ctx.reply(texts.NOT_ALLOWED)
                return
            name, phone = cases.reveal_identity(ctx.session, case, ctx.person, now=ctx.now)
            ctx.reply(texts.identity_revealed(case.code, name, phone))
        elif action in ("ask", "answer", "transfer", "forward", "reject", "extend"):
            if case.status not in OPEN_STATUSES:
                ctx.reply(texts.CASE_CLOSED_FOR_ACTION)
                return
            first_step = {
                "ask": "ask_text",
                "answer": "answer_text",
                "transfer": "transfer_unit",
                "forward": "forward_body",
                "reject": "reject_reason",
                "extend": "extend_reason",
            }[action]
            ctx.start_flow(FLOW, first_step, {"case_id": case.id, "photos": []})
            self.ask(ctx)
        else:
            ctx.reply(texts.NOT_ALLOWED)

    # ------------------------------------------------------------------ flow protocol

    def ask(self, ctx: Context) -> None:
        step = ctx.step or ""
        data = ctx.flow_data
        if step == "ask_text":
            ctx.reply(texts.ASK_QUESTION, [Option("flow:cancel", texts.CANCEL)])
        elif step == "answer_text":
            ctx.reply(texts.ASK_ANSWER, [Option("flow:cancel", texts.CANCEL)])
        elif step == "answer_confirm":
            case = self._flow_case(ctx)
            if case is None:
                ctx.end_flow()
                return
            ctx.reply(
                texts.answer_preview(case.code, data.get("text", ""), len(data.get("photos", []))),
                [
                    Option("offconfirm:send", texts.SEND),
                    Option("offconfirm:edit", texts.EDIT),
                    Option("flow:cancel", texts.CANCEL),
                ],
            )
        elif step == "transfer_unit":
            case = self._flow_case(ctx)
            if case is None:
                ctx.end_flow()
                return
            ctx.reply(
                texts.ASK_TRANSFER_UNIT,
                [
                    Option(f"unit:{unit.id}", unit.name)
                    for unit in ctx.config.units.values()
                    if unit.id != case.unit
                ],
            )
        elif step == "transfer_reason":
            ctx.reply(texts.ASK_TRANSFER_REASON)
        elif step == "forward_body":
            ctx.reply(texts.ASK_FORWARD_BODY)
        elif step == "reject_reason":
            ctx.reply(
                texts.ASK_REJECT_REASON,
                [Option(f"reason:{key}", label) for key, label in texts.REJECT_REASONS.items()],
            )
        elif step == "reject_note":
            ctx.reply(texts.ASK_REJECT_NOTE)
        elif step == "extend_reason":
            ctx.reply(texts.ASK_EXTENSION_REASON)
        elif step == "extend_date":
            case = self._flow_case(ctx)
            if case is None:
                ctx.end_flow()
                return
            tz = ctx.config.commune.timezone
            ctx.reply(texts.ask_extension_date(texts.local_date(case.due_at, tz)))

    def accepts_photos(self, ctx: Context) -> bool:
        return ctx.step in ("ask_text", "answer_text")

    def expects_text(self, ctx: Context) -> bool:
        # Officers' typed text is always theirs to give (answers, reasons, dates).
        return True

    def cancel(self, ctx: Context) -> None:
        ctx.end_flow()

    def handle(self, ctx: Context) -> None:
        if ctx.option == "flow:cancel":
            ctx.end_flow()
            ctx.reply(
                texts.CANCELLED.split(".")[0] + ".",
                [Option("off:list:0", texts.OFFICER_OPTIONS["list"])],
            )
            return
        case = self._flow_case(ctx)
        if case is None:
            ctx.end_flow()
            return
        step = ctx.step or ""
        handler = getattr(self, f"_on_{step}", None)
        if handler is None:
            ctx.end_flow()
            return
        handler(ctx, case)

    def _collect_photos(self, ctx: Context) -> list[int]:
        data = ctx.flow_data
        photos = list(data.get("photos", []))
        for photo in ctx.photos:
            if photo.stored is not None:
                photos.append(ctx.keep_photo(photo.stored))
        ctx.update_flow_data(photos=photos)
        return photos

    def _text_or_reask(self, ctx: Context) -> str | None:
        """The typed text, or None after asking again (photos were collected by the caller)."""
        text = ctx.text
        if not text:
            if ctx.photos:
                count = len(ctx.flow_data.get("photos", []))
                ctx.preface(texts.photo_received(count, ctx.config.limits.max_photos_per_case))
            else:
                ctx.preface(texts.TEXT_EXPECTED)
            self.ask(ctx)
            return None
        if len(text) > ctx.config.limits.max_text_length:
            ctx.preface(texts.content_too_long(ctx.config.limits.max_text_length, len(text)))
            self.ask(ctx)
            return None
        return text

    # --- ask the citizen

    def _on_ask_text(self, ctx: Context, case: Case) -> None:
        if ctx.photos:
            self._collect_photos(ctx)
        question = self._text_or_reask(ctx)
        if question is None:
            return
        try:
            ctx.services.cases.ask_citizen(
                ctx.session,
                case,
                ctx.person,
                question,
                now=ctx.now,
                attachment_ids=list(ctx.flow_data.get("photos", [])),
            )
        except CaseActionError as error:
            self._fail(ctx, error, case)
            return
        expect_citizen_reply(ctx, case)
        self._done(ctx, texts.QUESTION_SENT, case)

    # --- answer

    def _on_answer_text(self, ctx: Context, case: Case) -> None:
        if ctx.photos:
            self._collect_photos(ctx)
        text = self._text_or_reask(ctx)
        if text is None:
            return
        ctx.update_flow_data(text=text)
        ctx.set_step("answer_confirm")
        self.ask(ctx)

    def _on_answer_confirm(self, ctx: Context, case: Case) -> None:
        data = ctx.flow_data
        if ctx.option == "offconfirm:send":
            try:
                ctx.services.cases.answer(
                    ctx.session,
                    case,
                    ctx.person,
                    data["text"],
                    now=ctx.now,
                    attachment_ids=data.get("photos", []),
                )
            except CaseActionError as error:
                self._fail(ctx, error, case)
                return
            self._done(ctx, texts.ANSWER_SENT, case)
        elif ctx.option == "offconfirm:edit":
            ctx.set_step("answer_text")
            self.ask(ctx)
        else:
            ctx.preface(texts.CHOOSE_FROM_OPTIONS)
            self.ask(ctx)

    # --- transfer

    def _on_transfer_unit(self, ctx: Context, case: Case) -> None:
        unit = (ctx.option or "").removeprefix("unit:")
        if unit not in ctx.config.units or unit == case.unit:
            ctx.preface(texts.CHOOSE_FROM_OPTIONS)
            self.ask(ctx)
            return
        ctx.update_flow_data(unit=unit)
        ctx.set_step("transfer_reason")
        self.ask(ctx)

    def _on_transfer_reason(self, ctx: Context, case: Case) -> None:
        reason = self._text_or_reask(ctx)
        if reason is None:
            return
        unit = ctx.flow_data["unit"]
        try:
            ctx.services.cases.transfer(ctx.session, case, ctx.person, unit, reason, now=ctx.now)
        except CaseActionError as error:
            self._fail(ctx, error, case)
            return
        self._done(ctx, texts.transferred_done(case.code, ctx.config.unit_name(unit)))

    # --- forward outside the commune

    def _on_forward_body(self, ctx: Context, case: Case) -> None:
        body = self._text_or_reask(ctx)
        if body is None:
            return
        try:
            ctx.services.cases.forward(ctx.session, case, ctx.person, body[:300], now=ctx.now)
        except CaseActionError as error:
            self._fail(ctx, error, case)
            return
        self._done(ctx, texts.forwarded_done(case.code, body[:300]))

    # --- reject

    def _on_reject_reason(self, ctx: Context, case: Case) -> None:
        reason = (ctx.option or "").removeprefix("reason:")
        if reason not in texts.REJECT_REASONS:
            ctx.preface(texts.CHOOSE_FROM_OPTIONS)
            self.ask(ctx)
            return
        ctx.update_flow_data(reason=reason)
        ctx.set_step("reject_note")
        self.ask(ctx)

    def _on_reject_note(self, ctx: Context, case: Case) -> None:
        note = self._text_or_reask(ctx)
        if note is None:
            return
        try:
            ctx.services.cases.reject(
                ctx.session,
                case,
                ctx.person,
                ctx.flow_data["reason"],
                None if note.strip() in ("-", "—") else note,
                now=ctx.now,
            )
        except CaseActionError as error:
            self._fail(ctx, error, case)
            return
        self._done(ctx, texts.rejected_done(case.code))

    # --- extension

    def _on_extend_reason(self, ctx: Context, case: Case) -> None:
        reason = self._text_or_reask(ctx)
        if reason is None:
            return
        if ctx.services.cases.latest_extension(case) is None:
            self._fail(ctx, CaseActionError(texts.EXTENSION_NOT_ALLOWED), case)
            return
        ctx.update_flow_data(reason=reason)
        ctx.set_step("extend_date")
        self.ask(ctx)

    def _on_extend_date(self, ctx: Context, case: Case) -> None:
        day = parse_local_date(ctx.text)
        if day is None:
            ctx.preface(texts.EXTENSION_DATE_INVALID)
            self.ask(ctx)
            return
        new_due: datetime = ctx.services.deadlines.end_of_day(day)
        try:
            ctx.services.cases.request_extension(
                ctx.session, case, ctx.person, ctx.flow_data["reason"], new_due, now=ctx.now
            )
        except CaseActionError as error:
            ctx.preface(error.message)
            self.ask(ctx)
            return
        self._done(ctx, texts.extension_requested_done(case.code), case)


def expect_citizen_reply(ctx: Context, case: Case) -> None:
    """Make the citizen's next message the reply to the officer's question, unless they are
    in the middle of filing (then the «Trả lời cán bộ» option starts the reply)."""
    conversation = conversations.load(ctx.session, case.citizen_id, now=ctx.now)
    if conversation.flow == "intake":
        return
    conversation.flow = "case_reply"
    conversation.step = "reply"
    data = dict(conversation.data or {})
    data["flow"] = {"case_id": case.id}
    conversation.data = data
    conversation.updated_at = ctx.now


def register(router: Router) -> OfficerFlow:
    flow = OfficerFlow()
    router.add_flow(flow)
    router.option("off")(flow.on_option)

    @router.command("dangky")
    def register_command(ctx: Context, args: str) -> None:
        if not args.strip():
            ctx.reply(texts.INVITE_USAGE)
            return
        try:
            role = redeem_invite(ctx.session, args, ctx.person, now=ctx.now)
        except InviteError as error:
            ctx.reply(_INVITE_ERRORS[error.reason])
            return
        unit_name = ctx.config.unit_name(role.unit) if role.unit else None
        ctx.reply(
            texts.registered(texts.ROLE_LABELS[role.role], unit_name),
            [Option("off:list:0", texts.OFFICER_OPTIONS["list"])],
        )

    @router.command("viec")
    def work_command(ctx: Context, _args: str) -> None:
        if not ctx.has_role(*STAFF_ROLES):
            ctx.reply(texts.NOT_ALLOWED)
            return
        ctx.end_flow()
        flow.show_work_list(ctx)

    @router.option("ext")
    def extension_decision(ctx: Context, value: str) -> None:
        decision, _, event_id = value.partition(":")
        event = ctx.session.get(CaseEvent, int(event_id)) if event_id.isdigit() else None
        if event is None:
            ctx.reply(texts.EXTENSION_ALREADY_DECIDED)
            return
        case = ctx.session.get_one(Case, event.case_id)
        if not ctx.services.cases.can_approve_extension(ctx.roles, case):
            ctx.reply(texts.NOT_ALLOWED)
            return
        try:
            ctx.services.cases.decide_extension(
                ctx.session, event, ctx.person, decision == "approve", now=ctx.now
            )
        except CaseActionError as error:
            ctx.reply(error.message)
            return
        ctx.reply(texts.extension_decision_done(case.code, decision == "approve"))

    return flow
