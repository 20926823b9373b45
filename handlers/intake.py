"""Filing a case: kind → category → content → photos → place → contact → summary → saved.

The draft is saved after every step (``ctx.save_draft``) in the same transaction as the
reply, so a restart or a crash never loses what the citizen typed, and a draft left for
less than ``limits.draft_ttl_hours`` is offered again.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.messages import Option
from bot.rules.phone import normalize_mobile
from handlers import texts
from handlers.context import Context
from handlers.menu import MAIN_MENU, show_menu
from handlers.router import Router
from storage.cases import CaseDraft, DailyLimitReached
from storage.models import Attachment

FLOW = "intake"
STEPS = (
    "kind",
    "category",
    "content",
    "long_text",
    "photos",
    "place",
    "address",
    "contact",
    "name",
    "phone",
    "confirm",
    "edit",
)
# After editing one field, these steps lead back to the summary instead of onwards.
_EDIT_TARGETS = {
    "kind": "kind",
    "category": "category",
    "content": "content",
    "photos": "photos",
    "place": "place",
    "contact": "contact",
}
_NAME = re.compile(r"^[^\d@#$%^&*_=+<>{}\[\]|\\/~`]{2,100}$")
MAX_ADDRESS_LENGTH = 300


class IntakeFlow:
    name = FLOW

    def __init__(self, router: Router) -> None:
        self.router = router

    # ------------------------------------------------------------------ entry points

    def start(self, ctx: Context) -> None:
        """From the menu: offer a saved draft, else begin a new one."""
        draft = ctx.draft
        if draft is not None:
            kind = draft.get("kind")
            saved = draft.get("saved_at", "")
            ctx.reply(
                texts.resume_draft_prompt(
                    texts.KIND_LABELS.get(kind) if kind else None,
                    _saved_label(ctx, saved),
                ),
                (
                    Option("draft:resume", texts.CONTINUE_DRAFT),
                    Option("draft:new", texts.NEW_DRAFT),
                ),
            )
            return
        self.begin(ctx)

    def begin(self, ctx: Context) -> None:
        if self._limit_reached(ctx):
            return
        ctx.save_draft({"step": "kind", "photos": []})
        ctx.start_flow(FLOW, "kind")
        self.ask(ctx)

    def resume(self, ctx: Context) -> None:
        draft = ctx.draft
        if draft is None:
            self.begin(ctx)
            return
        ctx.start_flow(FLOW, draft.get("step", "kind"))
        self.ask(ctx)

    def cancel(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        photo_ids = list(draft.get("photos", []))
        ctx.discard_draft()
        if ctx.flow == FLOW:
            ctx.end_flow()
        if photo_ids:
            _forget_photos(ctx, photo_ids)

    def accepts_photos(self, ctx: Context) -> bool:
        return ctx.step in ("photos", "content")

    def expects_text(self, ctx: Context) -> bool:
        if ctx.step == "kind":
            # Typed text at the first question is the description (free-text start).
            return not (ctx.draft or {}).get("content")
        return ctx.step in ("content", "long_text", "place", "address", "contact", "name", "phone")

    def start_with_text(self, ctx: Context, text: str) -> None:
        """File a text the citizen typed outside the flow ("Gửi thành phản ánh")."""
        if ctx.draft is not None:
            self.start(ctx)
            return
        if self._limit_reached(ctx):
            return
        ctx.save_draft({"step": "kind", "photos": []})
        ctx.start_flow(FLOW, "kind")
        text = text[: ctx.config.limits.max_text_length]
        if len(text) < ctx.config.limits.min_text_length:
            self.ask(ctx)
            return
        self._route(ctx, text)

    # ------------------------------------------------------------------ plumbing

    def _goto(self, ctx: Context, step: str, **changes: Any) -> None:
        draft = ctx.draft or {"photos": []}
        draft.update(changes)
        if draft.get("editing") and step not in ("name", "phone", "address", "long_text"):
            # Editing one field: back to the summary once that field is done.
            step = "confirm"
            draft["editing"] = False
        draft["step"] = step
        ctx.save_draft(draft)
        ctx.set_step(step)
        self.ask(ctx)

    def _limit_reached(self, ctx: Context) -> bool:
        limit = ctx.config.limits.max_cases_per_person_per_day
        if ctx.services.cases.cases_today(ctx.session, ctx.person.id, ctx.now) >= limit:
            ctx.reply(texts.daily_limit_reached(limit), MAIN_MENU)
            return True
        return False

    def ask(self, ctx: Context) -> None:
        getattr(self, f"_ask_{ctx.step}", self._ask_kind)(ctx)

    def handle(self, ctx: Context) -> None:
        getattr(self, f"_on_{ctx.step}", self._on_kind)(ctx)

    def _reask(self, ctx: Context, problem: str) -> None:
        ctx.preface(problem)
        self.ask(ctx)

    # ------------------------------------------------------------------ kind

    def _ask_kind(self, ctx: Context) -> None:
        have_content = bool((ctx.draft or {}).get("content"))
        ctx.reply(
            texts.ask_kind(texts.KIND_EXPLANATIONS, have_content=have_content),
            [Option(f"kind:{kind}", label) for kind, label in texts.KIND_LABELS.items()],
        )

    def _on_kind(self, ctx: Context) -> None:
        if ctx.option and ctx.option.startswith("kind:"):
            kind = ctx.option.split(":", 1)[1]
            if kind in texts.KIND_LABELS:
                self._goto(ctx, "category", kind=kind)
                return
        draft = ctx.draft or {}
        if (ctx.text or ctx.photos) and not draft.get("content") and not draft.get("editing"):
            # Free text instead of a choice: it is the description; route it.
            self._on_content(ctx)
            return
        self._reask(ctx, texts.CHOOSE_FROM_OPTIONS)

    def _route(self, ctx: Context, content: str) -> None:
        """Classify the description; when confident skip the kind and category questions."""
        services = ctx.services
        decision = services.classifier.classify(content)
        if services.classifier.is_confident(decision, ctx.config.routing.min_confidence):
            ctx.preface(
                texts.routed(
                    texts.KIND_LABELS[decision.kind],
                    ctx.config.category_name(decision.category),
                    ctx.config.unit_name(decision.unit),
                )
            )
            self._goto(
                ctx,
                "photos",
                content=content,
                kind=decision.kind,
                category=decision.category,
                routing_confidence=decision.confidence,
                long_text=None,
            )
        else:
            self._goto(
                ctx, "kind", content=content, routing_confidence=decision.confidence, long_text=None
            )

    # ------------------------------------------------------------------ category

    def _ask_category(self, ctx: Context) -> None:
        ctx.reply(
            texts.ASK_CATEGORY,
            [Option(f"cat:{c.id}", c.name) for c in ctx.config.categories.values()],
        )

    def _on_category(self, ctx: Context) -> None:
        if ctx.option and ctx.option.startswith("cat:"):
            category = ctx.option.split(":", 1)[1]
            if category in ctx.config.categories:
                has_content = bool((ctx.draft or {}).get("content"))
                self._goto(ctx, "photos" if has_content else "content", category=category)
                return
        self._reask(ctx, texts.CHOOSE_FROM_OPTIONS)

    # ------------------------------------------------------------------ content

    def _ask_content(self, ctx: Context) -> None:
        limits = ctx.config.limits
        ctx.reply(texts.ask_content(limits.min_text_length, limits.max_text_length))

    def _on_content(self, ctx: Context) -> None:
        limits = ctx.config.limits
        if ctx.photos:
            # A photo with a caption is often how people start: keep both.
            self._take_photos(ctx, announce=False)
        text = ctx.text
        if not text:
            if ctx.photos:
                ctx.reply(texts.CONTENT_EMPTY)
                return
            self._reask(ctx, texts.CONTENT_EMPTY)
            return
        if len(text) > limits.max_text_length:
            self._goto(ctx, "long_text", long_text=text)
            return
        if len(text) < limits.min_text_length:
            self._reask(ctx, texts.content_too_short(limits.min_text_length))
            return
        self._accept_content(ctx, text)

    def _accept_content(self, ctx: Context, text: str) -> None:
        draft = ctx.draft or {}
        if draft.get("kind") and draft.get("category"):
            self._goto(ctx, "photos", content=text, long_text=None)
        else:
            self._route(ctx, text)

    def _ask_long_text(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        limits = ctx.config.limits
        ctx.reply(
            texts.content_too_long(limits.max_text_length, len(draft.get("long_text") or "")),
            [Option("long:truncate", texts.TRUNCATE_TEXT)],
        )

    def _on_long_text(self, ctx: Context) -> None:
        limits = ctx.config.limits
        draft = ctx.draft or {}
        if ctx.option == "long:truncate":
            text = (draft.get("long_text") or "")[: limits.max_text_length].rstrip()
            self._accept_content(ctx, text)
            return
        if ctx.photos:
            self._reask(ctx, texts.PHOTO_NOT_EXPECTED)
            return
        self._on_content(ctx)

    # ------------------------------------------------------------------ photos

    def _photo_options(self, count: int) -> list[Option]:
        return [Option("photos:done", texts.DONE if count else texts.SKIP)]

    def _ask_photos(self, ctx: Context) -> None:
        count = len((ctx.draft or {}).get("photos", []))
        ctx.reply(
            texts.ask_photos(ctx.config.limits.max_photos_per_case, count),
            self._photo_options(count),
        )

    def _take_photos(self, ctx: Context, *, announce: bool) -> None:
        limit = ctx.config.limits.max_photos_per_case
        draft = ctx.draft or {"photos": []}
        photos = list(draft.get("photos", []))
        problems: list[str] = []
        for photo in ctx.photos:
            if photo.stored is None:
                problems.append(_photo_problem(ctx, photo.error))
                continue
            if len(photos) >= limit:
                problems.append(texts.too_many_photos(limit))
                continue
            photos.append(ctx.keep_photo(photo.stored))
        draft["photos"] = photos
        ctx.save_draft(draft)
        message = "\n".join(dict.fromkeys(problems))
        if announce:
            if photos:
                message = (message + "\n" if message else "") + texts.photo_received(
                    len(photos), limit
                )
            ctx.reply(
                message or texts.ask_photos(limit, len(photos)), self._photo_options(len(photos))
            )
        elif message:
            ctx.reply(message)

    def _on_photos(self, ctx: Context) -> None:
        if ctx.photos:
            self._take_photos(ctx, announce=True)
            return
        if ctx.option == "photos:done" or ctx.text.lower() in ("xong", "bỏ qua", "bo qua"):
            self._goto(ctx, "place")
            return
        self._reask(ctx, texts.PHOTOS_EXPECTED)

    # ------------------------------------------------------------------ place

    def _ask_place(self, ctx: Context) -> None:
        villages = ctx.config.commune.villages
        options = [Option(f"place:v{i}", name) for i, name in enumerate(villages)]
        options += [Option("place:address", texts.TYPE_ADDRESS), Option("place:skip", texts.SKIP)]
        ctx.reply(texts.ASK_PLACE, options)

    def _on_place(self, ctx: Context) -> None:
        location = ctx.message.location
        if location is not None:
            self._goto(
                ctx,
                "contact",
                latitude=location.latitude,
                longitude=location.longitude,
                village=None,
                address=None,
            )
            return
        option = ctx.option or ""
        if option.startswith("place:v"):
            index = int(option[len("place:v") :])
            villages = ctx.config.commune.villages
            if 0 <= index < len(villages):
                self._goto(
                    ctx,
                    "contact",
                    village=villages[index],
                    address=None,
                    latitude=None,
                    longitude=None,
                )
                return
        if option == "place:address":
            draft = ctx.draft or {}
            draft["step"] = "address"
            ctx.save_draft(draft)
            ctx.set_step("address")
            self.ask(ctx)
            return
        if option == "place:skip":
            self._goto(ctx, "contact", village=None, address=None, latitude=None, longitude=None)
            return
        if ctx.text:
            self._on_address(ctx)
            return
        self._reask(ctx, texts.CHOOSE_FROM_OPTIONS)

    def _ask_address(self, ctx: Context) -> None:
        ctx.reply(texts.ASK_ADDRESS)

    def _on_address(self, ctx: Context) -> None:
        text = ctx.text
        if not text:
            self._reask(ctx, texts.ASK_ADDRESS)
            return
        if len(text) > MAX_ADDRESS_LENGTH:
            self._reask(ctx, texts.ADDRESS_TOO_LONG)
            return
        self._goto(ctx, "contact", address=text, village=None, latitude=None, longitude=None)

    # ------------------------------------------------------------------ contact

    def _ask_contact(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        kind = draft.get("kind", "phan_anh_kien_nghi")
        options: list[Option] = []
        person = ctx.person
        if person.full_name and person.phone:
            options.append(Option("contact:saved", texts.USE_SAVED_CONTACT))
        if kind == "phan_anh_kien_nghi":
            options.append(Option("contact:anon", texts.ANONYMOUS))
        text = texts.ask_contact_name(kind)
        if person.full_name and person.phone:
            text = texts.saved_contact(person.full_name, person.phone) + "\n" + text
        ctx.reply(text, options)

    def _on_contact(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        kind = draft.get("kind", "phan_anh_kien_nghi")
        if ctx.option == "contact:saved" and ctx.person.full_name and ctx.person.phone:
            self._goto(
                ctx, "confirm", name=ctx.person.full_name, phone=ctx.person.phone, anonymous=False
            )
            return
        if ctx.option == "contact:anon":
            if kind != "phan_anh_kien_nghi":
                self._reask(ctx, texts.ANONYMOUS_NOT_ALLOWED)
                return
            self._goto(ctx, "confirm", name=None, phone=None, anonymous=True)
            return
        self._on_name(ctx)

    def _ask_name(self, ctx: Context) -> None:
        self._ask_contact(ctx)

    def _on_name(self, ctx: Context) -> None:
        name = " ".join(ctx.text.split())
        if not name or not _NAME.match(name) or sum(ch.isalpha() for ch in name) < 2:
            self._reask(ctx, texts.NAME_INVALID)
            return
        draft = ctx.draft or {}
        draft.update(name=name, anonymous=False, step="phone")
        ctx.save_draft(draft)
        ctx.set_step("phone")
        self.ask(ctx)

    def _ask_phone(self, ctx: Context) -> None:
        ctx.reply(texts.ASK_PHONE)

    def _on_phone(self, ctx: Context) -> None:
        raw = ctx.message.contact_phone or ctx.text
        phone = normalize_mobile(raw) if raw else None
        if phone is None:
            self._reask(ctx, texts.PHONE_INVALID)
            return
        draft = ctx.draft or {}
        ctx.person.full_name = draft.get("name")
        ctx.person.phone = phone
        self._goto(ctx, "confirm", phone=phone)

    # ------------------------------------------------------------------ summary

    def _ask_confirm(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        config = ctx.config
        ctx.reply(
            texts.summary(
                kind_label=texts.KIND_LABELS.get(draft.get("kind", ""), "—"),
                category_label=config.category_name(draft.get("category", "khac")),
                content=draft.get("content", ""),
                photos=len(draft.get("photos", [])),
                place=_place_text(draft),
                contact=_contact_text(draft),
            ),
            [
                Option("confirm:send", texts.SEND),
                Option("confirm:edit", texts.EDIT),
                Option("confirm:cancel", texts.CANCEL),
            ],
        )

    def _on_confirm(self, ctx: Context) -> None:
        if ctx.option == "confirm:send":
            self._submit(ctx)
        elif ctx.option == "confirm:edit":
            draft = ctx.draft or {}
            draft["step"] = "edit"
            ctx.save_draft(draft)
            ctx.set_step("edit")
            self.ask(ctx)
        elif ctx.option == "confirm:cancel":
            self.cancel(ctx)
            show_menu(ctx, texts.CANCELLED)
        else:
            self._reask(ctx, texts.CHOOSE_FROM_OPTIONS)

    def _ask_edit(self, ctx: Context) -> None:
        ctx.reply(
            texts.ASK_EDIT_FIELD,
            [Option(f"edit:{field}", label) for field, label in texts.EDIT_FIELDS.items()],
        )

    def _on_edit(self, ctx: Context) -> None:
        field = (ctx.option or "").removeprefix("edit:")
        target = _EDIT_TARGETS.get(field)
        if target is None:
            self._reask(ctx, texts.CHOOSE_FROM_OPTIONS)
            return
        draft = ctx.draft or {}
        draft.update(editing=True, edit_field=field, step=target)
        ctx.save_draft(draft)
        ctx.set_step(target)
        self.ask(ctx)

    def _submit(self, ctx: Context) -> None:
        draft = ctx.draft or {}
        kind = draft.get("kind")
        if kind is None or not draft.get("category") or not draft.get("content"):
            # A draft from an older version or a lost step: walk through again.
            self._goto(ctx, "kind")
            return
        if kind != "phan_anh_kien_nghi" and not draft.get("name"):
            ctx.reply(texts.ANONYMOUS_NOT_ALLOWED)
            self._goto(ctx, "contact")
            return
        case_draft = CaseDraft(
            kind=kind,
            category=draft["category"],
            content=draft["content"],
            channel=ctx.identity.channel,
            attachment_ids=list(draft.get("photos", [])),
            village=draft.get("village"),
            address=draft.get("address"),
            latitude=draft.get("latitude"),
            longitude=draft.get("longitude"),
            contact_name=draft.get("name"),
            contact_phone=draft.get("phone"),
            routing_confidence=draft.get("routing_confidence"),
        )
        try:
            ctx.services.cases.create(
                ctx.session,
                citizen_id=ctx.person.id,
                reply_to=ctx.identity,
                draft=case_draft,
                now=ctx.now,
                reply_options=MAIN_MENU,
            )
        except DailyLimitReached:
            limit = ctx.config.limits.max_cases_per_person_per_day
            ctx.reply(texts.daily_limit_reached(limit), MAIN_MENU)
            return
        ctx.discard_draft()
        ctx.end_flow()


def _saved_label(ctx: Context, saved_at: str) -> str:
    try:
        moment = datetime.fromisoformat(saved_at)
    except ValueError:
        return "trước đó"
    return texts.local_datetime(moment, ctx.config.commune.timezone)


def _photo_problem(ctx: Context, error: str | None) -> str:
    limit_mb = ctx.config.limits.max_photo_bytes / 1_000_000
    return {
        "too_large": texts.photo_too_large(limit_mb),
        "unsupported_format": texts.PHOTO_UNSUPPORTED_FORMAT,
        "download_failed": texts.PHOTO_DOWNLOAD_FAILED,
    }.get(error or "", texts.PHOTO_NOT_AN_IMAGE)


def _place_text(draft: dict[str, Any]) -> str | None:
    return texts.place_text(
        draft.get("village"), draft.get("address"), draft.get("latitude"), draft.get("longitude")
    )


def _contact_text(draft: dict[str, Any]) -> str | None:
    if draft.get("name"):
        return f"{draft['name']} – {draft.get('phone') or ''}".strip(" –")
    return None


def _forget_photos(ctx: Context, photo_ids: list[int]) -> None:
    store = ctx.services.extras.get("attachments")
    rows = list(
        ctx.session.scalars(
            select(Attachment).where(
                Attachment.id.in_(photo_ids),
                Attachment.person_id == ctx.person.id,
                Attachment.case_id.is_(None),
            )
        )
    )
    paths = [row.path for row in rows]
    for row in rows:
        ctx.session.delete(row)
    if store is not None:

        def delete_files() -> None:
            for path in paths:
                store.delete(path)

        ctx.after_commit.append(delete_files)


def register(router: Router) -> IntakeFlow:
    flow = IntakeFlow(router)
    router.add_flow(flow)

    @router.option("draft")
    def draft_choice(ctx: Context, value: str) -> None:
        if value == "resume":
            flow.resume(ctx)
        else:
            flow.cancel(ctx)
            flow.begin(ctx)

    return flow
