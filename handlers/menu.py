"""Start, help, personal-data notice, cancel, and the main menu."""

from __future__ import annotations

from bot.messages import Option
from handlers import texts
from handlers.context import Context
from handlers.router import Router

MAIN_MENU = (
    Option("menu:file", texts.MENU_FILE),
    Option("menu:faq", texts.MENU_FAQ),
    Option("menu:track", texts.MENU_TRACK),
    Option("menu:mine", texts.MENU_MINE),
)


def show_menu(ctx: Context, text: str = texts.MENU_PROMPT) -> None:
    ctx.reply(text, MAIN_MENU)


def register(router: Router) -> None:
    router.menu = show_menu

    @router.command("start")
    def start(ctx: Context, _args: str) -> None:
        commune = ctx.config.commune
        name = ctx.person.full_name or ctx.identity.display_name
        ctx.end_flow()
        ctx.reply(
            texts.greeting(commune.name, name)
            + "\n\n"
            + texts.privacy_notice(commune.authority, commune.data_retention)
            + "\n\n"
            + texts.MENU_PROMPT,
            MAIN_MENU,
        )

    @router.command("trogiup", "help")
    def help_command(ctx: Context, _args: str) -> None:
        ctx.reply(texts.HELP, MAIN_MENU)

    @router.command("dulieu")
    def data_notice(ctx: Context, _args: str) -> None:
        commune = ctx.config.commune
        ctx.reply(
            texts.privacy_details(
                commune.authority, commune.data_retention, commune.hotline, commune.one_stop_desk
            ),
            MAIN_MENU,
        )

    @router.command("huy", "cancel")
    def cancel(ctx: Context, _args: str) -> None:
        flow = router.active_flow(ctx)
        if flow is not None:
            flow.cancel(ctx)
            show_menu(ctx, texts.CANCELLED)
            return
        intake = router.flows.get("intake")
        if ctx.draft is not None and intake is not None:
            intake.cancel(ctx)
            show_menu(ctx, texts.CANCELLED)
            return
        show_menu(ctx, texts.NOTHING_TO_CANCEL)

    @router.option("menu")
    def menu_option(ctx: Context, value: str) -> None:
        target = {"file": "intake", "track": "tracking"}.get(value)
        if value == "home":
            ctx.end_flow()
            show_menu(ctx)
        elif target and target in router.flows:
            start = getattr(router.flows[target], "start", None)
            if start is not None:
                start(ctx)
        elif value == "mine" and "mine" in router.commands:
            router.commands["mine"](ctx, "")
        elif value == "faq" and "hoidap" in router.commands:
            router.commands["hoidap"](ctx, "")
        else:
            show_menu(ctx)
