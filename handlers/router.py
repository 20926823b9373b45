"""Who handles a message: commands, chosen options, the active flow, or free text.

Feature modules register themselves on a ``Router`` (commands, option-id prefixes, flows,
the free-text handler); ``Router.handle`` applies one order of precedence for everyone:

1. things the bot cannot read (stickers, voice, video, unknown files) get a polite answer
   and the current question is asked again;
2. a command (``/start``, ``/huy``…) runs whatever the step;
3. an option (button, number or label) goes to the prefix that owns it; a flow's options
   are only valid while offered;
4. otherwise the active flow's current step gets the message — except a question the FAQ
   answers, typed where the step expects a choice: it is answered and the step asked again;
5. otherwise the free-text handler (questions, complaints typed without the menu).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.messages import AttachmentKind
from bot.rules.textnorm import fold
from handlers import texts
from handlers.context import Context
from storage import conversations

Handler = Callable[[Context], None]
CommandHandler = Callable[[Context, str], None]
OptionHandler = Callable[[Context, str], None]

_UNREADABLE = {
    AttachmentKind.STICKER,
    AttachmentKind.VOICE,
    AttachmentKind.VIDEO,
    AttachmentKind.DOCUMENT,
    AttachmentKind.OTHER,
}
# Typed words that cancel like /huy: older people rarely type commands.
_CANCEL_WORDS = {"huy", "huy bo", "thoat"}


class Flow(Protocol):
    name: str

    def ask(self, ctx: Context) -> None:
        """Ask the current step's question again."""

    def handle(self, ctx: Context) -> None:
        """Handle the message at the current step."""

    def accepts_photos(self, ctx: Context) -> bool:
        """Whether the current step takes photos."""

    def expects_text(self, ctx: Context) -> bool:
        """Whether typed text is the answer to the current step (else: a choice)."""

    def cancel(self, ctx: Context) -> None:
        """Leave the flow, discarding what it collected."""


class Router:
    def __init__(self) -> None:
        self.commands: dict[str, CommandHandler] = {}
        self.option_prefixes: dict[str, OptionHandler] = {}
        self.flows: dict[str, Flow] = {}
        self.free_text: Handler = show_menu_not_understood
        self.menu: Handler = show_menu_not_understood
        # Answers a question typed where a flow expects a choice; True if it did.
        self.faq_in_flow: Callable[[Context], bool] | None = None

    # ------------------------------------------------------------------ registration

    def command(self, *names: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name] = handler
            return handler

        return register

    def option(self, prefix: str) -> Callable[[OptionHandler], OptionHandler]:
        """Own every option id ``prefix:value``; the handler receives ``value``."""

        def register(handler: OptionHandler) -> OptionHandler:
            self.option_prefixes[prefix] = handler
            return handler

        return register

    def add_flow(self, flow: Flow) -> None:
        self.flows[flow.name] = flow

    # ------------------------------------------------------------------ dispatch

    def active_flow(self, ctx: Context) -> Flow | None:
        return self.flows.get(ctx.flow or "")

    def reask(self, ctx: Context) -> None:
        flow = self.active_flow(ctx)
        if flow is not None:
            flow.ask(ctx)
        else:
            self.menu(ctx)

    def handle(self, ctx: Context) -> None:
        message = ctx.message
        flow = self.active_flow(ctx)

        unreadable = [a for a in message.attachments if a.kind in _UNREADABLE]
        if unreadable and not ctx.photos:
            ctx.preface(texts.UNSUPPORTED[unreadable[0].kind.value])
            self.reask(ctx)
            return

        text = ctx.text
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            name = name.split("@", 1)[0].lower()
            handler = self.commands.get(name)
            if handler is None:
                ctx.reply(texts.UNKNOWN_COMMAND)
                return
            handler(ctx, args.strip())
            return
        if fold(text) in _CANCEL_WORDS and "huy" in self.commands and not message.option_id:
            self.commands["huy"](ctx, "")
            return

        option_id = message.option_id or (
            conversations.resolve_option(ctx.conversation, text) if text else None
        )
        if option_id is not None:
            prefix, _, value = option_id.partition(":")
            owner = self.option_prefixes.get(prefix)
            if owner is not None:
                owner(ctx, value)
                return
            if flow is not None and option_id in conversations.offered_option_ids(ctx.conversation):
                ctx.option = option_id
                flow.handle(ctx)
                return
            if message.option_id:
                ctx.preface(texts.STALE_OPTION)
                self.reask(ctx)
                return

        if ctx.photos and (flow is None or not flow.accepts_photos(ctx)):
            ctx.preface(texts.PHOTO_NOT_EXPECTED)
            self.reask(ctx)
            return
        if flow is not None:
            if (
                text
                and not flow.expects_text(ctx)
                and self.faq_in_flow is not None
                and self.faq_in_flow(ctx)
            ):
                # A question in the middle of a flow: answered, and the flow goes on.
                flow.ask(ctx)
                return
            flow.handle(ctx)
            return
        self.free_text(ctx)


def show_menu_not_understood(ctx: Context) -> None:
    ctx.reply(texts.NOT_UNDERSTOOD)
